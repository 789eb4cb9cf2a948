//! Finding runs under the paths a user gives: a run is a log file, or a directory holding
//! one run's logs (transformers' output directory with its `checkpoint-*/trainer_state.json`
//! and `runs/<date>/events.out.tfevents.*`, or a folder with one JSONL file).
//!
//! When a run has its logs in several formats (the same numbers written three ways), one
//! format is read, by preference: `trainer_state.json` (full precision, eval and summary
//! apart), JSONL, a JSON list, CSV, TensorBoard (float32); the other files are listed as
//! skipped. Several files of the chosen format are read in name order (TensorBoard writes a
//! new event file, named by its start time, at each restart).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::ingest::source::{detect_format, Format};

/// One run to scan.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// The run's name: its path relative to the scanned path.
    pub id: String,
    /// The files to read, in order.
    pub files: Vec<(PathBuf, Format)>,
    /// Log files of the run in other formats, not read.
    pub skipped: Vec<PathBuf>,
}

impl RunSpec {
    /// Bytes the run's files hold (0 for an unreadable file).
    pub fn bytes(&self) -> u64 {
        self.files
            .iter()
            .map(|(p, _)| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum()
    }
}

/// Directories never searched.
fn ignored_dir(name: &str) -> bool {
    name.starts_with('.') || matches!(name, "__pycache__" | "node_modules" | "wandb-media")
}

/// Names of folders that hold a run's event files below the run's own folder.
fn event_folder(name: &str) -> bool {
    matches!(
        name,
        "tb" | "runs" | "logs" | "tensorboard" | "tb_logs" | "tensorboard_log"
    )
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, String)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push((dir.to_path_buf(), e.to_string()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if !ignored_dir(name) {
                collect(&p, out, errors);
            }
        } else if detect_format(&p).is_some() {
            out.push(p);
        }
    }
}

/// The folder of the run a log file belongs to.
fn run_root(file: &Path, format: Format) -> PathBuf {
    let parent = file.parent().unwrap_or(Path::new(""));
    let name = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string()
    };
    match format {
        Format::TrainerState if name(parent).starts_with("checkpoint-") => {
            parent.parent().unwrap_or(parent).to_path_buf()
        }
        Format::TensorBoard => {
            // transformers: output_dir/runs/<%b%d_%H-%M-%S>_<host>/events... (a new folder at
            // each restart, all the same run); a run folder's tb/, logs/, ... holding the
            // event files directly. Other subfolders (tb/exp1, tb/exp2) are runs of their own.
            let up = parent.parent();
            if up.is_some_and(|u| name(u) == "runs") && transformers_run_folder(&name(parent)) {
                let runs = up.expect("checked");
                runs.parent().unwrap_or(runs).to_path_buf()
            } else if event_folder(&name(parent)) {
                parent.parent().unwrap_or(parent).to_path_buf()
            } else {
                parent.to_path_buf()
            }
        }
        _ => parent.to_path_buf(),
    }
}

/// Whether `name` is transformers' TensorBoard folder name, `%b%d_%H-%M-%S_<host>`
/// (e.g. `Nov29_10-00-00_host`).
fn transformers_run_folder(name: &str) -> bool {
    let b = name.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    b.len() > 15
        && b[..3].iter().all(u8::is_ascii_alphabetic)
        && digit(3)
        && digit(4)
        && b[5] == b'_'
        && digit(6)
        && digit(7)
        && b[8] == b'-'
        && digit(9)
        && digit(10)
        && b[11] == b'-'
        && digit(12)
        && digit(13)
        && b[14] == b'_'
}

/// The start time in a TensorBoard event file's name (`events.out.tfevents.<unix time>.`),
/// which orders a run's restarts; the file's modification time when the name has none.
fn event_file_time(p: &Path) -> (u64, PathBuf) {
    let from_name = p
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("events.out.tfevents."))
        .and_then(|rest| rest.split('.').next())
        .and_then(|t| t.parse::<u64>().ok());
    let t = from_name.unwrap_or_else(|| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs())
    });
    (t, p.to_path_buf())
}

/// Step of a checkpoint folder's name (`checkpoint-500` → 500).
fn checkpoint_step(p: &Path) -> Option<u64> {
    let dir = p.parent()?.file_name()?.to_str()?;
    dir.strip_prefix("checkpoint-")?.parse().ok()
}

/// The runs under `paths`, and the paths that could not be read. A file given directly is
/// one run, whatever its name; a directory is searched.
pub fn discover(paths: &[PathBuf]) -> (Vec<RunSpec>, Vec<(PathBuf, String)>) {
    let mut runs = Vec::new();
    let mut errors = Vec::new();
    for base in paths {
        if base.is_file() {
            let format = detect_format(base).unwrap_or(Format::Jsonl);
            let id = base.file_name().map_or_else(
                || base.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            runs.push(RunSpec {
                id,
                files: vec![(base.clone(), format)],
                skipped: Vec::new(),
            });
            continue;
        }
        if !base.is_dir() {
            errors.push((base.clone(), "no such file or directory".into()));
            continue;
        }
        let mut files = Vec::new();
        collect(base, &mut files, &mut errors);
        // Loose JSONL/CSV files that share a folder with others of their kind are runs of
        // their own (a folder of exported runs); alone they belong to the folder's run.
        let mut loose: BTreeMap<PathBuf, usize> = BTreeMap::new();
        for f in &files {
            if matches!(detect_format(f), Some(Format::Jsonl | Format::Csv)) {
                *loose
                    .entry(f.parent().unwrap_or(Path::new("")).to_path_buf())
                    .or_default() += 1;
            }
        }
        let mut groups: BTreeMap<PathBuf, Vec<(PathBuf, Format)>> = BTreeMap::new();
        for f in files {
            let format = detect_format(&f).expect("collected files have a format");
            let parent = f.parent().unwrap_or(Path::new("")).to_path_buf();
            let root = if matches!(format, Format::Jsonl | Format::Csv) && loose[&parent] > 1 {
                f.clone()
            } else {
                run_root(&f, format)
            };
            groups.entry(root).or_default().push((f, format));
        }
        // A folder whose subfolders hold runs of their own is a folder of runs: its loose
        // JSONL/CSV files are runs too, not logs of the folder.
        let roots: Vec<PathBuf> = groups.keys().cloned().collect();
        let mut split: Vec<(PathBuf, Vec<(PathBuf, Format)>)> = Vec::new();
        for root in &roots {
            let container = roots.iter().any(|r| r != root && r.starts_with(root));
            if !container {
                continue;
            }
            let group = groups.get_mut(root).expect("a known root");
            let (own, rest): (Vec<_>, Vec<_>) = group.drain(..).partition(|(f, fmt)| {
                matches!(fmt, Format::Jsonl | Format::Csv) && f.parent() == Some(root.as_path())
            });
            *group = rest;
            split.extend(own.into_iter().map(|f| (f.0.clone(), vec![f])));
        }
        groups.retain(|_, g| !g.is_empty());
        groups.extend(split);
        for (root, group) in groups {
            runs.push(choose(base, &root, group));
        }
    }
    (runs, errors)
}

/// The run of `root` from its log files: the preferred format's files.
fn choose(base: &Path, root: &Path, mut group: Vec<(PathBuf, Format)>) -> RunSpec {
    let best = group.iter().map(|f| f.1).min().expect("a group has a file");
    let mut chosen: Vec<(PathBuf, Format)> = Vec::new();
    let mut skipped = Vec::new();
    if best == Format::TrainerState {
        // The run's own trainer_state.json (save_state at the end) if there is one, else
        // the newest checkpoint's: each holds the whole history up to its step.
        let own = group
            .iter()
            .position(|(p, f)| *f == Format::TrainerState && checkpoint_step(p).is_none());
        let pick = own.or_else(|| {
            group
                .iter()
                .enumerate()
                .filter(|(_, (_, f))| *f == Format::TrainerState)
                .max_by_key(|(_, (p, _))| checkpoint_step(p))
                .map(|(i, _)| i)
        });
        let pick = pick.expect("a trainer state is present");
        chosen.push(group.swap_remove(pick));
    } else {
        let (take, rest): (Vec<_>, Vec<_>) = group.drain(..).partition(|f| f.1 == best);
        chosen = take;
        group = rest;
        if best == Format::TensorBoard {
            // Restarts write new files: read them in the order they were started (folder
            // names like Dec01_... sort before Nov30_...).
            chosen.sort_by_key(|(p, _)| event_file_time(p));
        }
    }
    skipped.extend(group.into_iter().map(|f| f.0));
    let rel = root.strip_prefix(base).unwrap_or(root);
    let id = if rel.as_os_str().is_empty() {
        base.file_name().map_or_else(
            || base.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    } else {
        rel.display().to_string()
    };
    RunSpec {
        id,
        files: chosen,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"{}\n").unwrap();
    }

    #[test]
    fn runs_of_a_tree() {
        let base = std::env::temp_dir().join(format!("rlf-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        // A transformers output dir: checkpoints and TensorBoard under runs/.
        touch(&base.join("grpo/checkpoint-100/trainer_state.json"));
        touch(&base.join("grpo/checkpoint-200/trainer_state.json"));
        touch(&base.join("grpo/runs/Nov29_10-00-00_host/events.out.tfevents.1.host.1.0"));
        touch(&base.join("grpo/config.json"));
        touch(&base.join("grpo/checkpoint-200/tokenizer.json"));
        touch(&base.join("grpo/checkpoint-200/config.json"));
        // Two experiments under one tb/ folder are two runs.
        touch(&base.join("exps/tb/exp1/events.out.tfevents.5.h.1.0"));
        touch(&base.join("exps/tb/exp2/events.out.tfevents.6.h.1.0"));
        // A restart in a later month: read in start-time order, not name order.
        touch(&base.join("resumed/runs/Nov30_23-00-00_h/events.out.tfevents.1764543600.h.1.0"));
        touch(&base.join("resumed/runs/Dec01_01-00-00_h/events.out.tfevents.1764550800.h.1.0"));
        // A run folder with one JSONL and a tb/ folder.
        touch(&base.join("ppo/log.jsonl"));
        touch(&base.join("ppo/tb/events.out.tfevents.2.host.2.0"));
        // A folder of exported runs.
        touch(&base.join("exports/a.jsonl"));
        touch(&base.join("exports/b.csv"));
        // TensorBoard only, two restarts.
        touch(&base.join("tbonly/events.out.tfevents.3.h.1.0"));
        touch(&base.join("tbonly/events.out.tfevents.4.h.1.0"));
        touch(&base.join(".hidden/x.jsonl"));
        touch(&base.join("notes.md"));
        let (runs, errors) =
            discover(&[base.clone(), base.join("ppo/log.jsonl"), base.join("nope")]);
        assert_eq!(errors.len(), 1);
        let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "exports/a.jsonl",
                "exports/b.csv",
                "exps/tb/exp1",
                "exps/tb/exp2",
                "grpo",
                "ppo",
                "resumed",
                "tbonly",
                "log.jsonl"
            ]
        );
        let resumed = &runs[6];
        assert!(
            resumed.files[0].0.to_string_lossy().contains("Nov30"),
            "{resumed:?}"
        );
        assert!(resumed.files[1].0.to_string_lossy().contains("Dec01"));
        let grpo = &runs[4];
        assert_eq!(grpo.files.len(), 1);
        assert!(grpo.files[0]
            .0
            .ends_with("checkpoint-200/trainer_state.json"));
        assert_eq!(grpo.skipped.len(), 2, "model files are not logs: {grpo:?}");
        assert_eq!(runs[5].files[0].1, Format::Jsonl);
        assert_eq!(runs[5].skipped.len(), 1);
        assert_eq!(runs[7].files.len(), 2);
        assert!(runs[7].files[0].0.to_string_lossy().contains("tfevents.3"));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
