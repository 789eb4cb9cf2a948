//! CSV (and TSV) with a header row: W&B and TensorBoard exports, pandas `to_csv`. Numbers in
//! any float notation (`1e-3`, `.5`, `nan`, `inf`), empty cells as "not logged", quoted
//! fields with `""` escapes. A row of the wrong width is reported and skipped; a last row
//! without its newline that is short is a truncated write.

use std::borrow::Cow;
use std::io::BufRead;

use super::json::Leaf;
use super::lines::Lines;
use super::problem::ProblemKind;
use super::records::RunBuilder;

/// Splits one line into fields; `None` when a quote is left open.
fn split<'a>(line: &'a str, sep: char, out: &mut Vec<Cow<'a, str>>) -> Option<()> {
    out.clear();
    let mut rest = line;
    loop {
        if let Some(q) = rest.strip_prefix('"') {
            let mut field = String::new();
            let mut s = q;
            loop {
                let end = s.find('"')?;
                field.push_str(&s[..end]);
                s = &s[end + 1..];
                if let Some(t) = s.strip_prefix('"') {
                    field.push('"');
                    s = t;
                } else {
                    break;
                }
            }
            out.push(Cow::Owned(field));
            match s.find(sep) {
                Some(i) => rest = &s[i + sep.len_utf8()..],
                None => return Some(()),
            }
        } else {
            match rest.find(sep) {
                Some(i) => {
                    out.push(Cow::Borrowed(&rest[..i]));
                    rest = &rest[i + sep.len_utf8()..];
                }
                None => {
                    out.push(Cow::Borrowed(rest));
                    return Some(());
                }
            }
        }
    }
}

/// Reads a CSV stream into `run`. `value_name` renames a TensorBoard export's `Value`
/// column (its tag lives in the file name).
pub fn read_csv<R: BufRead>(src: R, value_name: Option<&str>, run: &mut RunBuilder) -> u64 {
    let mut header: Vec<String> = Vec::new();
    let mut sep = ',';
    let mut lines = Lines::new(src);
    while let Some((raw, at, complete)) = lines.next_line(run) {
        let Ok(text) = std::str::from_utf8(raw) else {
            run.problem(ProblemKind::Malformed, at, "line is not UTF-8".into());
            continue;
        };
        let line = text
            .trim_end_matches(['\n', '\r'])
            .trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            continue;
        }
        if header.is_empty() {
            if line.contains('\t') && !line.contains(',') {
                sep = '\t';
            }
            let mut names = Vec::new();
            if split(line, sep, &mut names).is_none() {
                run.problem(
                    ProblemKind::Malformed,
                    at,
                    "header has an open quote".into(),
                );
                return lines.offset();
            }
            header = names.iter().map(|s| s.trim().to_string()).collect();
            // TensorBoard's export: "Wall time,Step,Value", one tag per file.
            if let (Some(v), ["Wall time", "Step", "Value"]) = (
                value_name,
                header
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .as_slice(),
            ) {
                header = vec!["wall_time".into(), "step".into(), v.to_string()];
            }
            continue;
        }
        // The cells borrow this line's bytes, so they live for one row.
        let mut cells: Vec<Cow<'_, str>> = Vec::with_capacity(header.len());
        let ok = split(line, sep, &mut cells).is_some();
        if !ok || cells.len() != header.len() {
            let short = !complete && (!ok || cells.len() < header.len());
            let (kind, what) = if short {
                (ProblemKind::Truncated, "last row is cut short".to_string())
            } else if !ok {
                (ProblemKind::Malformed, "a quote is left open".to_string())
            } else {
                (
                    ProblemKind::Malformed,
                    format!(
                        "{} fields where the header has {}",
                        cells.len(),
                        header.len()
                    ),
                )
            };
            run.problem(kind, at, what);
            continue;
        }
        for (name, cell) in header.iter().zip(&cells) {
            let c = cell.trim();
            if c.is_empty() {
                continue;
            }
            let leaf = match parse_number(c) {
                Some(v) => Leaf::Number(v),
                None => Leaf::Str(Cow::Borrowed(c)),
            };
            run.leaf(name, leaf, at);
        }
        run.end_record(at);
    }
    lines.offset()
}

/// A float in any common notation, or `None`.
fn parse_number(s: &str) -> Option<f64> {
    if let Ok(v) = s.parse::<f64>() {
        return Some(v);
    }
    match s.to_ascii_lowercase().as_str() {
        "nan" | "-nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str, value_name: Option<&str>) -> RunBuilder {
        let mut run = RunBuilder::new();
        assert_eq!(read_csv(s.as_bytes(), value_name, &mut run), s.len() as u64);
        run.finish()
    }

    #[test]
    fn wide_csv_with_damage() {
        let run = read(
            "\u{feff}step,train/kl,note,\"a,b\"\n1,1e-3,x,2\n2,,\"q\"\"uote\",.5\n3,nan,y\n4,inf,z,\"open\n5,0.5,w,1\n6,0.",
            None,
        );
        let kl = run.train.position("train/kl").unwrap();
        let ab = run.train.position("a,b").unwrap();
        assert_eq!(run.train.steps(), [1.0, 2.0, 5.0]);
        assert_eq!(run.train.get(kl, 0), Some(1e-3));
        assert_eq!(run.train.get(kl, 1), None);
        assert_eq!(run.train.get(ab, 1), Some(0.5));
        let kinds: Vec<_> = run.problems.iter().map(|p| (p.kind, p.line)).collect();
        assert_eq!(
            kinds,
            [
                (ProblemKind::Malformed, Some(4)),
                (ProblemKind::Malformed, Some(5)),
                (ProblemKind::Truncated, Some(7)),
            ]
        );
    }

    #[test]
    fn tensorboard_export_and_tabs() {
        let run = read(
            "Wall time,Step,Value\n1.5,10,0.25\n2.5,20,0.5\n",
            Some("kl"),
        );
        let kl = run.train.position("kl").unwrap();
        assert_eq!(run.train.steps(), [10.0, 20.0]);
        assert_eq!(run.train.get(kl, 1), Some(0.5));
        let run = read("step\tloss\n1\t2.0\n", None);
        assert_eq!(
            run.train.get(run.train.position("loss").unwrap(), 0),
            Some(2.0)
        );
    }

    proptest::proptest! {
        /// No byte string makes the reader panic.
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let mut run = RunBuilder::new();
            let n = read_csv(bytes.as_slice(), None, &mut run);
            // A header that cannot be split stops the file (reported); otherwise every byte
            // is read.
            proptest::prop_assert!(n <= bytes.len() as u64);
            if run.problems.is_empty() {
                proptest::prop_assert_eq!(n, bytes.len() as u64);
            }
            let run = run.finish();
            proptest::prop_assert!(run.train.steps().windows(2).all(|w| w[0] < w[1]));
        }
    }
}
