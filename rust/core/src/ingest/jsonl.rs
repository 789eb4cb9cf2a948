//! JSON Lines: one record per line (TRL `log_history` lines, custom loggers, W&B history
//! exports, RLDK event rows). Streamed line by line; a line that does not parse is reported
//! with its line number and byte offset and the next line is read; a last line without its
//! newline that does not parse is a truncated write.

use std::io::BufRead;

use super::json::walk_object;
use super::lines::Lines;
use super::problem::ProblemKind;
use super::records::RunBuilder;

/// Reads every line of `src` into `run`.
pub fn read_jsonl<R: BufRead>(src: R, run: &mut RunBuilder) -> u64 {
    let mut lines = Lines::new(src);
    let mut key = String::with_capacity(64);
    while let Some((line, at, complete)) = lines.next_line(run) {
        // A byte-order mark before the first record is not part of it.
        let line = if at.line == Some(1) {
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
        } else {
            line
        };
        let body = line.trim_ascii();
        if body.is_empty() {
            continue;
        }
        // One validation of the line; the walker then slices it without checking again.
        let Ok(text) = std::str::from_utf8(body) else {
            run.problem(ProblemKind::Malformed, at, "line is not UTF-8".into());
            continue;
        };
        let parsed = walk_object(text, 0, &mut key, &mut |k, v| run.leaf(k, v, at));
        match parsed {
            Ok(end) if end == body.len() => run.end_record(at),
            Ok(end) => {
                run.discard_record();
                run.problem(
                    ProblemKind::Malformed,
                    at,
                    format!("unexpected bytes after the record at column {}", end + 1),
                );
            }
            Err(e) => {
                run.discard_record();
                let kind = if complete {
                    ProblemKind::Malformed
                } else {
                    ProblemKind::Truncated
                };
                let what = if complete {
                    format!("{} at column {}", e.what, e.pos + 1)
                } else {
                    format!(
                        "last line is cut short ({} at column {})",
                        e.what,
                        e.pos + 1
                    )
                };
                run.problem(kind, at, what);
            }
        }
    }
    lines.offset()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> RunBuilder {
        let mut run = RunBuilder::new();
        let bytes = read_jsonl(s.as_bytes(), &mut run);
        assert_eq!(bytes, s.len() as u64);
        run.finish()
    }

    #[test]
    fn lines_damage_and_truncation() {
        let text = concat!(
            "{\"step\": 1, \"kl\": 0.1}\n",
            "\n",
            "{\"step\": 2, \"kl\": 0.2, oops}\n",
            "{\"step\": 3, \"kl\": NaN}\r\n",
            "{\"step\": 4} trailing\n",
            "{\"step\": 5, \"kl\": 0.5",
        );
        let run = read(text);
        let kl = run.train.position("kl").unwrap();
        assert_eq!(run.train.steps(), [1.0, 3.0]);
        assert!(run.train.get(kl, 1).unwrap().is_nan());
        let kinds: Vec<_> = run.problems.iter().map(|p| (p.kind, p.line)).collect();
        assert_eq!(
            kinds,
            [
                (ProblemKind::Malformed, Some(3)),
                (ProblemKind::Malformed, Some(5)),
                (ProblemKind::Truncated, Some(6)),
            ]
        );
        assert_eq!(
            run.problems[0].offset,
            text.find("{\"step\": 2").unwrap() as u64
        );
    }

    #[test]
    fn real_trl_log_history_lines() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/trl-grpo-healthy/log_history.jsonl");
        let f = std::fs::File::open(&path).expect("../shared/data beside the repository");
        let mut run = RunBuilder::new();
        read_jsonl(std::io::BufReader::new(f), &mut run);
        let run = run.finish();
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(run.train.len(), 300);
        assert_eq!(run.train.steps()[299], 300.0);
        assert!(run.summary.iter().any(|(k, _)| k == "train_runtime"));
        for key in [
            "kl",
            "reward",
            "grad_norm",
            "entropy",
            "completions/mean_length",
        ] {
            let i = run.train.position(key).unwrap();
            assert_eq!(
                (0..300).filter(|&r| run.train.get(i, r).is_some()).count(),
                300,
                "{key}"
            );
        }
    }

    proptest::proptest! {
        /// No byte string makes the reader panic, and every byte is accounted for.
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let mut run = RunBuilder::new();
            let n = read_jsonl(bytes.as_slice(), &mut run);
            proptest::prop_assert_eq!(n, bytes.len() as u64);
            let run = run.finish();
            proptest::prop_assert!(run.train.steps().windows(2).all(|w| w[0] < w[1]));
        }
    }
}
