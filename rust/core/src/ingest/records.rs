//! From parsed records to a run's tables: which key is the step, which records are training
//! steps, evaluations or the end-of-training summary, one-metric-per-line event streams
//! pivoted to one row per step, and strings where numbers belong counted with their place.

use super::fxhash::FxHashMap;
use super::json::Leaf;
use super::problem::{InputProblem, ProblemKind};
use super::table::Table;

/// Keys that hold the step, in order of preference.
const STEP_KEYS: [&str; 7] = [
    "step",
    "global_step",
    "_step",
    "train/global_step",
    "trainer/global_step",
    "training/global_step",
    "iteration",
];

/// Keys of transformers' end-of-training summary entry.
const SUMMARY_KEYS: [&str; 5] = [
    "train_runtime",
    "train_samples_per_second",
    "train_steps_per_second",
    "total_flos",
    "train_loss",
];

/// Keys that name the metric of an event-stream line (RLDK's `EventWriter`, and the
/// `trl`/`accelerate`/`openrlhf` stream presets), and keys that hold its value.
const NAME_KEYS: [&str; 4] = ["name", "metric", "metric_name", "key"];
const VALUE_KEYS: [&str; 3] = ["value", "scalar", "v"];

/// Where a record came from (for problems).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Place {
    /// Byte offset.
    pub offset: u64,
    /// 1-based line (line-oriented formats).
    pub line: Option<u64>,
}

/// What kind of entry a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A training step.
    Train,
    /// An evaluation (`eval_*` keys).
    Eval,
    /// The end-of-training summary.
    Summary,
}

/// Strings found under one key.
#[derive(Debug, Clone)]
struct Strings {
    count: u64,
    first: Place,
    example: String,
}

/// What a key means to the record it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A step key, with its rank in [`STEP_KEYS`] (lower is preferred).
    Step(usize),
    /// `train_runtime`: only transformers' end-of-training summary has it.
    Runtime,
    /// Another key of the end-of-training summary.
    Summary,
    /// `epoch`, which transformers adds to every entry, summary included.
    Epoch,
    /// An evaluation key.
    Eval,
    /// The value of an event-stream line, with its rank in [`VALUE_KEYS`].
    Value(usize),
    /// Anything else.
    Plain,
}

impl Role {
    /// The role of key `name`.
    pub fn of(name: &str) -> Role {
        // W&B's CSV export writes "Step".
        if let Some(r) = STEP_KEYS.iter().position(|k| k.eq_ignore_ascii_case(name)) {
            Role::Step(r)
        } else if name == "train_runtime" {
            Role::Runtime
        } else if SUMMARY_KEYS.contains(&name) {
            Role::Summary
        } else if name == "epoch" {
            Role::Epoch
        } else if name.starts_with("eval_") || name.starts_with("eval/") {
            Role::Eval
        } else if let Some(r) = VALUE_KEYS.iter().position(|k| *k == name) {
            Role::Value(r)
        } else {
            Role::Plain
        }
    }
}

/// The kind of an entry with keys of `roles`: transformers' summary always has
/// `train_runtime`; without it, summary keys make a summary only when nothing but the step
/// and epoch comes with them (a loop that logs `train_loss` at every step logs training
/// steps); `eval_*` keys make an evaluation.
pub fn entry_kind(roles: impl Iterator<Item = Role> + Clone) -> EntryKind {
    let mut all = roles.clone();
    let summary = roles.clone().any(|r| r == Role::Runtime)
        || (roles.clone().any(|r| r == Role::Summary)
            && all.all(|r| matches!(r, Role::Summary | Role::Step(_) | Role::Epoch)));
    if summary {
        EntryKind::Summary
    } else if roles.into_iter().any(|r| r == Role::Eval) {
        EntryKind::Eval
    } else {
        EntryKind::Train
    }
}

/// A key seen in the run, interned: its role and its column in each table.
#[derive(Debug, Clone)]
struct Key {
    name: String,
    role: Role,
    train: Option<usize>,
    eval: Option<usize>,
}

impl Key {
    fn new(name: &str) -> Self {
        let role = Role::of(name);
        Key {
            name: name.to_string(),
            role,
            train: None,
            eval: None,
        }
    }
}

/// A run's records, turned into tables as they arrive.
#[derive(Debug, Default)]
pub struct RunBuilder {
    /// Training steps.
    pub train: Table,
    /// Evaluations.
    pub eval: Table,
    /// The summary entry's numbers (the last one wins).
    pub summary: Vec<(String, f64)>,
    /// Problems found so far.
    pub problems: Vec<InputProblem>,
    /// Records seen (lines, entries, events).
    pub records: u64,
    keys: Vec<Key>,
    index: FxHashMap<String, u32>,
    /// The key ids of the last record, in order: a log's records repeat their keys in the
    /// same order, so one string comparison usually finds a key without hashing it.
    pattern: Vec<u32>,
    cursor: usize,
    strings: FxHashMap<u32, Strings>,
    // The record being assembled: numbers by key id, and an event-stream metric name.
    numbers: Vec<(u32, f64)>,
    name: Option<String>,
    row: Vec<(usize, f64)>,
    stream: Option<Stream>,
    rows_without_step: u64,
    next_index: f64,
}

/// The pending step of an event stream: per key, sum and count (duplicates are averaged).
#[derive(Debug)]
struct Stream {
    step: f64,
    values: Vec<(u32, f64, u32)>,
}

/// A number in a string (`"0.5"`, `"nan"`, `"inf"`), as loggers sometimes write them.
fn numeric_string(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.len() > 40 {
        return None;
    }
    if let Ok(v) = t.parse() {
        return Some(v);
    }
    match t.to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "infinity" | "+inf" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

impl RunBuilder {
    /// An empty run.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reports a problem.
    pub fn problem(&mut self, kind: ProblemKind, at: Place, detail: String) {
        self.problems.push(InputProblem {
            kind,
            offset: at.offset,
            line: at.line,
            detail,
        });
    }

    fn key_id(&mut self, name: &str) -> u32 {
        let id = match self.pattern.get(self.cursor) {
            Some(&id) if self.keys[id as usize].name == name => id,
            _ => self.lookup(name),
        };
        if self.cursor < self.pattern.len() {
            self.pattern[self.cursor] = id;
        } else {
            self.pattern.push(id);
        }
        self.cursor += 1;
        id
    }

    fn lookup(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = self.keys.len() as u32;
        self.keys.push(Key::new(name));
        self.index.insert(name.to_string(), id);
        id
    }

    /// Adds one leaf of the current record.
    pub fn leaf(&mut self, key: &str, leaf: Leaf<'_>, at: Place) {
        // RLDK's nested Event record keeps its numbers under "metrics".
        let key = key.strip_prefix("metrics.").unwrap_or(key);
        match leaf {
            Leaf::Number(v) => {
                let id = self.key_id(key);
                self.numbers.push((id, v));
            }
            Leaf::Str(s) => match numeric_string(&s) {
                Some(v) => {
                    let id = self.key_id(key);
                    self.numbers.push((id, v));
                }
                None if NAME_KEYS.contains(&key) => self.name = Some(s.into_owned()),
                None => {
                    let id = self.key_id(key);
                    let e = self.strings.entry(id).or_insert(Strings {
                        count: 0,
                        first: at,
                        example: s.chars().take(40).collect(),
                    });
                    e.count += 1;
                }
            },
            Leaf::Bool(_) | Leaf::Null => {}
        }
    }

    /// Drops the leaves of a record that turned out to be damaged.
    pub fn discard_record(&mut self) {
        self.numbers.clear();
        self.name = None;
        self.cursor = 0;
    }

    /// The value of the best-ranked key of `role`'s kind in the current record.
    // Reversed: of equal ranks (a key repeated in one object) the last wins, as in
    // Python's `json`.
    fn ranked(&self, rank_of: impl Fn(Role) -> Option<usize>) -> Option<f64> {
        self.numbers
            .iter()
            .rev()
            .filter_map(|&(id, v)| rank_of(self.keys[id as usize].role).map(|r| (r, v)))
            .min_by_key(|p| p.0)
            .map(|p| p.1)
    }

    /// Ends the current record.
    pub fn end_record(&mut self, at: Place) {
        self.records += 1;
        self.cursor = 0;
        let step = self.ranked(|r| match r {
            Role::Step(k) => Some(k),
            _ => None,
        });
        // An event-stream line: one named metric and its value. A name without a value (a
        // logger's run name on every line) is an ordinary string.
        let value = self.ranked(|r| match r {
            Role::Value(k) => Some(k),
            _ => None,
        });
        let name = self.name.take();
        if let (Some(name), Some(v)) = (name, value) {
            self.numbers.clear();
            match step {
                Some(s) if s.is_finite() => self.stream_value(s, &name, v),
                Some(_) => self.problem(
                    ProblemKind::Malformed,
                    at,
                    "event has a non-finite step; skipped".into(),
                ),
                None => self.problem(
                    ProblemKind::Malformed,
                    at,
                    format!("event '{name}' without a step; skipped"),
                ),
            }
            return;
        }
        self.flush_stream();
        if self.numbers.is_empty() {
            return;
        }
        let keys = &self.keys;
        let kind = entry_kind(self.numbers.iter().map(|&(id, _)| keys[id as usize].role));
        if kind == EntryKind::Summary {
            for &(id, v) in &self.numbers {
                let k = &self.keys[id as usize].name;
                match self.summary.iter_mut().find(|(n, _)| n == k) {
                    Some(e) => e.1 = v,
                    None => self.summary.push((k.clone(), v)),
                }
            }
            self.numbers.clear();
            return;
        }
        let step = match step {
            Some(s) if s.is_finite() => s,
            Some(s) => {
                self.numbers.clear();
                self.problem(
                    ProblemKind::Malformed,
                    at,
                    format!("record has step {s}; skipped"),
                );
                return;
            }
            None => {
                // Without a step key the record's position is its step.
                self.rows_without_step += 1;
                self.next_index
            }
        };
        self.next_index = step + 1.0;
        let eval = kind == EntryKind::Eval;
        let (table, keys) = if eval {
            (&mut self.eval, &mut self.keys)
        } else {
            (&mut self.train, &mut self.keys)
        };
        self.row.clear();
        for &(id, v) in &self.numbers {
            let key = &mut keys[id as usize];
            if matches!(key.role, Role::Step(_)) {
                continue;
            }
            let slot = if eval { &mut key.eval } else { &mut key.train };
            let col = *slot.get_or_insert_with(|| table.column_id(&key.name));
            self.row.push((col, v));
        }
        table.push_row(step, &self.row);
        self.numbers.clear();
    }

    fn stream_value(&mut self, step: f64, name: &str, v: f64) {
        if self.stream.as_ref().is_some_and(|s| s.step != step) {
            self.flush_stream();
        }
        let id = self.lookup(name);
        let s = self.stream.get_or_insert_with(|| Stream {
            step,
            values: Vec::new(),
        });
        match s.values.iter_mut().find(|e| e.0 == id) {
            Some(e) => {
                e.1 += v;
                e.2 += 1;
            }
            None => s.values.push((id, v, 1)),
        }
    }

    fn flush_stream(&mut self) {
        let Some(s) = self.stream.take() else {
            return;
        };
        self.row.clear();
        for &(id, sum, n) in &s.values {
            let key = &mut self.keys[id as usize];
            let t = &mut self.train;
            let col = *key.train.get_or_insert_with(|| t.column_id(&key.name));
            self.row.push((col, sum / f64::from(n)));
        }
        self.train.push_row(s.step, &self.row);
    }

    /// Ends the run: flushes a pending stream step and reports strings found where a key
    /// otherwise holds numbers.
    pub fn finish(mut self) -> Self {
        self.flush_stream();
        let mut strings: Vec<(u32, Strings)> = self.strings.drain().collect();
        strings.sort_by_key(|(_, s)| (s.first.offset, s.first.line));
        for (id, s) in strings {
            let key = &self.keys[id as usize];
            let numeric = [(&self.train, key.train), (&self.eval, key.eval)]
                .iter()
                .any(|(t, c)| c.is_some_and(|i| t.has_values(i)));
            if numeric {
                let detail = format!(
                    "'{}' holds {} string value(s) such as {:?} where it otherwise holds \
                     numbers; those entries are not analysed",
                    key.name, s.count, s.example
                );
                self.problem(ProblemKind::NotANumber, s.first, detail);
            }
        }
        self
    }

    /// Records whose step came from their position (no step key).
    pub fn rows_without_step(&self) -> u64 {
        self.rows_without_step
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn rec(b: &mut RunBuilder, line: u64, pairs: &[(&str, Leaf<'static>)]) {
        let at = Place {
            offset: line * 10,
            line: Some(line),
        };
        for (k, v) in pairs {
            b.leaf(k, v.clone(), at);
        }
        b.end_record(at);
    }

    #[test]
    fn entries_are_sorted_into_train_eval_and_summary() {
        let mut b = RunBuilder::new();
        let n = Leaf::Number;
        rec(
            &mut b,
            1,
            &[("step", n(1.0)), ("kl", n(0.1)), ("loss", n(2.0))],
        );
        rec(
            &mut b,
            2,
            &[("step", n(2.0)), ("kl", Leaf::Str(Cow::Borrowed("n/a")))],
        );
        rec(&mut b, 3, &[("step", n(2.0)), ("eval_loss", n(1.5))]);
        rec(
            &mut b,
            4,
            &[
                ("step", n(3.0)),
                ("kl", Leaf::Str(Cow::Borrowed("0.3"))),
                ("phase", Leaf::Str(Cow::Borrowed("train"))),
            ],
        );
        rec(
            &mut b,
            5,
            &[
                ("step", n(3.0)),
                ("train_runtime", n(9.0)),
                ("train_loss", n(1.0)),
            ],
        );
        let b = b.finish();
        assert_eq!(b.train.steps(), [1.0, 2.0, 3.0]);
        let kl = b.train.position("kl").unwrap();
        assert_eq!(b.train.get(kl, 1), None);
        assert_eq!(b.train.get(kl, 2), Some(0.3));
        assert_eq!(b.eval.steps(), [2.0]);
        assert_eq!(
            b.summary,
            vec![
                ("step".to_string(), 3.0),
                ("train_runtime".into(), 9.0),
                ("train_loss".into(), 1.0)
            ]
        );
        // "n/a" under a numeric key is a located problem; "phase" (only strings) is not.
        assert_eq!(b.problems.len(), 1);
        assert_eq!(b.problems[0].kind, ProblemKind::NotANumber);
        assert_eq!(b.problems[0].line, Some(2));
        assert!(b.problems[0].detail.contains("'kl'"));
        assert_eq!(b.records, 5);
    }

    #[test]
    fn event_streams_are_pivoted_and_duplicates_averaged() {
        let mut b = RunBuilder::new();
        let n = Leaf::Number;
        let s = |x: &'static str| Leaf::Str(Cow::Borrowed(x));
        rec(
            &mut b,
            1,
            &[("step", n(0.0)), ("name", s("kl")), ("value", n(0.1))],
        );
        rec(
            &mut b,
            2,
            &[("step", n(0.0)), ("name", s("kl")), ("value", n(0.3))],
        );
        rec(
            &mut b,
            3,
            &[("step", n(0.0)), ("name", s("reward")), ("value", n(1.0))],
        );
        rec(
            &mut b,
            4,
            &[("step", n(1.0)), ("metric", s("kl")), ("value", n(0.5))],
        );
        rec(&mut b, 5, &[("name", s("kl")), ("value", n(0.5))]);
        let b = b.finish();
        let kl = b.train.position("kl").unwrap();
        assert_eq!(b.train.steps(), [0.0, 1.0]);
        assert!((b.train.get(kl, 0).unwrap() - 0.2).abs() < 1e-15);
        assert_eq!(b.train.get(kl, 1), Some(0.5));
        assert_eq!(b.problems.len(), 1, "{:?}", b.problems);
        assert_eq!(b.problems[0].line, Some(5));
    }

    #[test]
    fn names_without_values_steps_in_any_case_and_per_step_train_loss() {
        let mut b = RunBuilder::new();
        let n = Leaf::Number;
        let s = |x: &'static str| Leaf::Str(Cow::Borrowed(x));
        rec(
            &mut b,
            1,
            &[
                ("Step", n(100.0)),
                ("name", s("run-a")),
                ("kl", n(0.1)),
                ("train_loss", n(0.5)),
            ],
        );
        rec(
            &mut b,
            2,
            &[
                ("Step", n(200.0)),
                ("name", s("run-a")),
                ("kl", n(0.2)),
                ("train_loss", n(0.4)),
            ],
        );
        rec(
            &mut b,
            3,
            &[("step", n(1.0)), ("step", n(300.0)), ("kl", n(0.3))],
        );
        rec(
            &mut b,
            4,
            &[
                ("step", n(300.0)),
                ("train_loss", n(0.4)),
                ("epoch", n(1.0)),
            ],
        );
        let b = b.finish();
        assert!(b.problems.is_empty(), "{:?}", b.problems);
        assert_eq!(b.train.steps(), [100.0, 200.0, 300.0]);
        assert_eq!(b.summary.len(), 3, "{:?}", b.summary);
    }

    #[test]
    fn records_without_a_step_count_by_position() {
        let mut b = RunBuilder::new();
        rec(&mut b, 1, &[("loss", Leaf::Number(1.0))]);
        rec(&mut b, 2, &[("loss", Leaf::Number(2.0))]);
        let b = b.finish();
        assert_eq!(b.train.steps(), [0.0, 1.0]);
        assert_eq!(b.rows_without_step(), 2);
    }
}
