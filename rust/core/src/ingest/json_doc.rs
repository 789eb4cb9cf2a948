//! Whole-document JSON logs: `trainer_state.json` (its `log_history` list), a bare list of
//! log entries, or one object. These files are written at once and read at once (a
//! `trainer_state.json` holds one entry per logged step, megabytes at most); a damaged entry
//! ends the document there, and the entries before it are kept.

use super::json::{find_key, skip_ws, walk_array, walk_object, SyntaxError};
use super::problem::ProblemKind;
use super::records::{Place, RunBuilder};

/// 1-based line of byte `pos`.
fn line_of(b: &[u8], pos: usize) -> u64 {
    1 + b[..pos.min(b.len())]
        .iter()
        .filter(|&&c| c == b'\n')
        .count() as u64
}

/// Reads the log entries of the document `bytes` into `run` (up to the first byte that is
/// not UTF-8, which is reported).
pub fn read_json_document(bytes: &[u8], run: &mut RunBuilder) {
    // A byte-order mark is not part of the document (offsets below count without it).
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let src = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let at = e.valid_up_to();
            run.problem(
                ProblemKind::Malformed,
                Place {
                    offset: at as u64,
                    line: Some(line_of(bytes, at)),
                },
                "bytes that are not UTF-8; the document is read up to them".into(),
            );
            std::str::from_utf8(&bytes[..at]).unwrap_or_default()
        }
    };
    let b = src.as_bytes();
    let start = skip_ws(b, 0);
    let mut key = String::with_capacity(64);
    let mut entries = |src: &str, i: usize| -> Result<usize, SyntaxError> {
        walk_array(src, i, &mut |src, i| {
            let at = Place {
                offset: i as u64,
                line: None,
            };
            match walk_object(src, i, &mut key, &mut |k, v| run.leaf(k, v, at)) {
                Ok(end) => {
                    run.end_record(at);
                    Ok(end)
                }
                Err(e) => {
                    run.discard_record();
                    Err(e)
                }
            }
        })
    };
    let result = match b.get(start) {
        Some(b'[') => entries(src, start).map(|_| ()),
        Some(b'{') => match find_key(src, start, "log_history", &mut entries) {
            Ok(true) => Ok(()),
            // Not a trainer state: the object is itself one entry.
            Ok(false) => {
                let at = Place {
                    offset: start as u64,
                    line: Some(line_of(b, start)),
                };
                let mut key = String::new();
                walk_object(src, start, &mut key, &mut |k, v| run.leaf(k, v, at))
                    .map(|_| run.end_record(at))
            }
            Err(e) => Err(e),
        },
        _ => Err(SyntaxError {
            pos: start,
            what: "expected a JSON object or list",
        }),
    };
    if let Err(e) = result {
        // Cut short if no closing bracket follows the failure (a file still being written);
        // damaged in place otherwise.
        let opened = matches!(b.get(start), Some(b'{' | b'['));
        let cut = opened
            && b[e.pos.min(b.len())..]
                .iter()
                .all(|c| !matches!(c, b'}' | b']'));
        let kind = if cut {
            ProblemKind::Truncated
        } else {
            ProblemKind::Malformed
        };
        run.problem(
            kind,
            Place {
                offset: e.pos as u64,
                line: Some(line_of(b, e.pos)),
            },
            format!("{}; the entries before it are kept", e.what),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> RunBuilder {
        let mut run = RunBuilder::new();
        read_json_document(s.as_bytes(), &mut run);
        run.finish()
    }

    #[test]
    fn trainer_state_list_and_object() {
        let state = r#"{"global_step": 2, "log_history": [
            {"epoch": 0.1, "kl": NaN, "step": 1},
            {"eval_loss": 1.0, "step": 1},
            {"kl": Infinity, "step": 2},
            {"step": 2, "train_runtime": 3.5}
        ], "max_steps": 2}"#;
        let run = read(state);
        assert!(run.problems.is_empty(), "{:?}", run.problems);
        assert_eq!(run.train.steps(), [1.0, 2.0]);
        assert_eq!(run.eval.len(), 1);
        assert_eq!(run.summary.len(), 2);
        let run = read(r#"[{"step": 0, "loss": 1}, {"step": 1, "loss": 2}]"#);
        assert_eq!(run.train.len(), 2);
        let run = read(r#"{"step": 7, "loss": 1}"#);
        assert_eq!(run.train.steps(), [7.0]);
    }

    #[test]
    fn byte_order_marks_are_skipped() {
        let mut run = RunBuilder::new();
        read_json_document(b"\xEF\xBB\xBF[{\"step\": 1, \"kl\": 0.1}]", &mut run);
        assert_eq!(run.finish().train.len(), 1);
        let mut run = RunBuilder::new();
        crate::ingest::jsonl::read_jsonl(
            &b"\xEF\xBB\xBF{\"step\": 1, \"kl\": 0.1}\n"[..],
            &mut run,
        );
        let run = run.finish();
        assert!(run.problems.is_empty() && run.train.len() == 1);
    }

    #[test]
    fn damage_keeps_earlier_entries() {
        let run = read(
            "{\"log_history\": [\n{\"step\": 1, \"kl\": 0.1},\n{\"step\": 2, \"kl\": oops}\n]}",
        );
        assert_eq!(run.train.steps(), [1.0]);
        assert_eq!(run.problems.len(), 1);
        assert_eq!(run.problems[0].kind, ProblemKind::Malformed);
        assert_eq!(run.problems[0].line, Some(3));
        let run = read("{\"log_history\": [{\"step\": 1, \"kl\": 0.1}, {\"st");
        assert_eq!(run.train.len(), 1);
        assert_eq!(run.problems[0].kind, ProblemKind::Truncated);
        let run = read("  42 ");
        assert_eq!(run.problems[0].kind, ProblemKind::Malformed);
    }

    #[test]
    fn real_trainer_states() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        // PPO-v2's own training loop writes no end-of-training summary entry.
        for (run, steps, key, summary) in [
            ("trl-grpo-healthy", 300, "kl", true),
            ("trl-ppo-v2-basic", 300, "objective/kl", false),
        ] {
            let b = std::fs::read(data.join(run).join("trainer_state.json")).unwrap();
            let r = read(std::str::from_utf8(&b).unwrap());
            assert!(r.problems.is_empty(), "{run}: {:?}", r.problems);
            assert_eq!(r.train.len(), steps, "{run}: {:?}", &r.train.steps()[..5]);
            assert!(r.train.position(key).is_some(), "{run}");
            assert_eq!(!r.summary.is_empty(), summary, "{run}");
        }
    }
}
