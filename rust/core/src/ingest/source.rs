//! Log files: what format a file is, and reading the files of one run into a [`RunData`].

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::alias::{family_of, Family};
use super::csv::read_csv;
use super::json_doc::read_json_document;
use super::jsonl::read_jsonl;
use super::problem::{InputProblem, ProblemKind};
use super::records::{Place, RunBuilder};
use super::table::Table;
use super::tensorboard::read_event_run;

/// A log file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// transformers' `trainer_state.json`.
    TrainerState,
    /// JSON Lines.
    Jsonl,
    /// CSV / TSV with a header.
    Csv,
    /// TensorBoard event files.
    TensorBoard,
    /// A JSON list of entries (or one entry). Last in preference: a lone JSON object beside
    /// a run's logs is more often metadata than a log.
    JsonDocument,
}

impl Format {
    /// A stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::TrainerState => "trainer_state",
            Format::Jsonl => "jsonl",
            Format::JsonDocument => "json",
            Format::Csv => "csv",
            Format::TensorBoard => "tensorboard",
        }
    }
}

/// JSON files that training runs write beside their logs and that are not logs: model and
/// tokenizer files, adapter configs, checkpoint indexes, `save_metrics` results.
fn metadata_json(name: &str) -> bool {
    matches!(
        name,
        "config.json"
            | "special_tokens_map.json"
            | "vocab.json"
            | "added_tokens.json"
            | "chat_template.json"
    ) || name.starts_with("tokenizer")
        || name.ends_with("_config.json")
        || name.ends_with(".index.json")
        || name.ends_with("_results.json")
}

/// The format of `path` from its name, or `None` for a file that is not a log (JSON files
/// inside a `checkpoint-*` folder other than its `trainer_state.json` are model files).
pub fn detect_format(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_str()?;
    if name.starts_with("events.out.tfevents") {
        return Some(Format::TensorBoard);
    }
    if name == "trainer_state.json" {
        return Some(Format::TrainerState);
    }
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    let in_checkpoint = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("checkpoint-"));
    match ext.as_str() {
        "jsonl" | "ndjson" => Some(Format::Jsonl),
        "json" if metadata_json(name) || in_checkpoint => None,
        "json" => Some(Format::JsonDocument),
        "csv" | "tsv" => Some(Format::Csv),
        _ => None,
    }
}

/// One file read.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// Its path.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The file's size (a reader that stops at damage leaves the rest unread).
    pub bytes: u64,
}

/// A run's parsed logs.
#[derive(Debug, Clone)]
pub struct RunData {
    /// Training steps.
    pub train: Table,
    /// Evaluation entries.
    pub eval: Table,
    /// The end-of-training summary.
    pub summary: Vec<(String, f64)>,
    /// Every problem, with the file it was found in.
    pub problems: Vec<(PathBuf, InputProblem)>,
    /// The files read.
    pub sources: Vec<SourceFile>,
    /// The trainer family the keys point to.
    pub family: Family,
    /// Records read (lines, entries, events).
    pub records: u64,
    /// Rows whose step came from their position.
    pub rows_without_step: u64,
}

impl RunData {
    /// Bytes of all the files.
    pub fn bytes(&self) -> u64 {
        self.sources.iter().map(|s| s.bytes).sum()
    }
}

/// The tag of a TensorBoard CSV export, from its file name (`run-x-tag-train_kl.csv`).
fn export_tag(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let tag = stem.rsplit_once("-tag-").map_or(stem, |(_, t)| t);
    Some(tag.to_string())
}

/// Reads `files` (all of one run, in order) into one run; `on_bytes` is told how many bytes
/// each file held once it is read (for progress over bytes).
pub fn read_files(files: &[(PathBuf, Format)], on_bytes: &mut dyn FnMut(u64)) -> RunData {
    let mut run = RunBuilder::new();
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for (path, format) in files {
        let before = run.problems.len();
        let read = read_one(path, *format, &mut run);
        let bytes = std::fs::metadata(path).map_or(read, |m| m.len().max(read));
        on_bytes(bytes);
        problems.extend(run.problems.drain(before..).map(|p| (path.clone(), p)));
        sources.push(SourceFile {
            path: path.clone(),
            format: *format,
            bytes,
        });
    }
    let run = run.finish();
    // Problems found at the end (strings under numeric keys) belong to the run's files.
    let first = files.first().map(|f| f.0.clone()).unwrap_or_default();
    problems.extend(run.problems.iter().cloned().map(|p| (first.clone(), p)));
    let family = family_of(run.train.names().iter().map(String::as_str));
    let rows_without_step = run.rows_without_step();
    RunData {
        train: run.train,
        eval: run.eval,
        summary: run.summary,
        problems,
        sources,
        family,
        records: run.records,
        rows_without_step,
    }
}

fn read_one(path: &Path, format: Format, run: &mut RunBuilder) -> u64 {
    let fail = |run: &mut RunBuilder, e: std::io::Error| {
        run.problem(
            ProblemKind::Io,
            Place::default(),
            format!("cannot read: {e}"),
        );
        0
    };
    match format {
        Format::TrainerState | Format::JsonDocument => match std::fs::read(path) {
            Ok(b) => {
                read_json_document(&b, run);
                b.len() as u64
            }
            Err(e) => fail(run, e),
        },
        Format::Jsonl | Format::Csv | Format::TensorBoard => {
            let f = match File::open(path) {
                Ok(f) => f,
                Err(e) => return fail(run, e),
            };
            let r = BufReader::with_capacity(1 << 16, f);
            match format {
                Format::Jsonl => read_jsonl(r, run),
                Format::Csv => read_csv(r, export_tag(path).as_deref(), run),
                _ => read_event_run(r, run),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names() {
        let f = |s: &str| detect_format(Path::new(s));
        assert_eq!(
            f("a/events.out.tfevents.1795580791.vm.24856.0"),
            Some(Format::TensorBoard)
        );
        assert_eq!(
            f("checkpoint-5/trainer_state.json"),
            Some(Format::TrainerState)
        );
        assert_eq!(f("run.JSONL"), Some(Format::Jsonl));
        assert_eq!(f("x.ndjson"), Some(Format::Jsonl));
        assert_eq!(f("history.json"), Some(Format::JsonDocument));
        assert_eq!(f("w.tsv"), Some(Format::Csv));
        assert_eq!(f("README.md"), None);
        for meta in [
            "out/config.json",
            "out/tokenizer.json",
            "out/tokenizer_config.json",
            "out/train_results.json",
            "out/adapter_config.json",
            "out/checkpoint-5/rng.json",
            "out/model.safetensors.index.json",
            "out/generation_config.json",
        ] {
            assert_eq!(f(meta), None, "{meta}");
        }
        assert_eq!(f("noext"), None);
        assert_eq!(
            export_tag(Path::new("run-a-tag-train_kl.csv")).as_deref(),
            Some("train_kl")
        );
    }

    #[test]
    fn the_three_formats_of_one_real_run_agree() {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/trl-grpo-healthy");
        let tb = std::fs::read_dir(dir.join("tb"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let mut total = 0;
        let runs: Vec<RunData> = [
            (dir.join("trainer_state.json"), Format::TrainerState),
            (dir.join("log_history.jsonl"), Format::Jsonl),
            (tb, Format::TensorBoard),
        ]
        .into_iter()
        .map(|f| read_files(&[f], &mut |b| total += b))
        .collect();
        assert_eq!(total, runs.iter().map(RunData::bytes).sum::<u64>());
        for r in &runs {
            assert!(r.problems.is_empty(), "{:?}", r.problems);
            assert_eq!(r.family, Family::TrlGrpo);
            assert_eq!(r.train.len(), 300);
            assert_eq!(r.train.steps(), runs[0].train.steps());
            let (a, b) = (
                r.train.position("reward").unwrap(),
                runs[0].train.position("reward").unwrap(),
            );
            for i in 0..300 {
                let (x, y) = (r.train.get(a, i), runs[0].train.get(b, i));
                let (Some(x), Some(y)) = (x, y) else {
                    panic!("{:?} row {i}: {x:?} {y:?}", r.sources[0].format);
                };
                assert_eq!(x as f32, y as f32, "row {i}");
            }
        }
    }
}
