//! Diagnosis: a run's events in order of onset, each linked to the events that began
//! shortly before it, so that a likely first cause is visible and not only the last symptom
//! ("KL spike at 61, preceded by grad_norm_explosion at 27").
//!
//! Linking is by time only: an event that began within `horizon` steps before another
//! (strictly before) and still held, or had ended at most a fifth of the horizon before the
//! other began, is listed as preceding it; the earliest of those is its root (the event
//! itself when nothing preceded it). A one-off warning that had long ended is not a cause,
//! and roots are not followed further back: in a run with a warning every few dozen steps,
//! a transitive chain would reach back to unrelated noise.
//!
//! Nor is the run's background a first cause: an event of a type that had already begun
//! [`BACKGROUND`] times before the horizon (a warning that comes and goes all run long) is
//! listed among the events that preceded, but the root is the earliest of the others. On
//! the labelled fault scenarios, whose rows before the onset are those of a healthy run,
//! this takes the first causes that lie before the fault from 99 to 85 of 420 runs, and
//! from 59 to 45 with the scanner's choice of the most serious event (docs/rules.md).

use super::stride::StepStride;

/// One event's links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// Index (into the input) of the event.
    pub event: usize,
    /// Events that began within the horizon before it, earliest first.
    pub preceded_by: Vec<usize>,
    /// The earliest event that preceded it within the horizon (itself when none did).
    pub root: usize,
}

/// One event's span, first and last step, and its type (events of one type share `kind`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Onset.
    pub first_step: f64,
    /// Last step at which it held.
    pub last_step: f64,
    /// Its type, as an id that the caller gives every event of that type.
    pub kind: usize,
}

/// Events of one type that began before the horizon from which that type is the run's
/// background: twice is a pattern, once may be a warning sign seen early.
pub const BACKGROUND: usize = 2;

/// Spans of events given as (first step, last step, type name): events of equal names share
/// a `kind` (numbered in order of first appearance).
pub fn spans_of<'a>(events: impl IntoIterator<Item = (f64, f64, &'a str)>) -> Vec<Span> {
    let mut names: Vec<&'a str> = Vec::new();
    events
        .into_iter()
        .map(|(first_step, last_step, name)| {
            let kind = names.iter().position(|&n| n == name).unwrap_or_else(|| {
                names.push(name);
                names.len() - 1
            });
            Span {
                first_step,
                last_step,
                kind,
            }
        })
        .collect()
}

/// Links every event to its predecessors within `horizon` steps; the result is in order of
/// onset (ties keep the input order; a non-finite onset is left out).
pub fn diagnose(spans: &[Span], horizon: f64) -> Vec<Links> {
    let onsets: Vec<f64> = spans.iter().map(|s| s.first_step).collect();
    let gap = horizon / 5.0;
    let mut order: Vec<usize> = (0..onsets.len())
        .filter(|&i| onsets[i].is_finite())
        .collect();
    order.sort_by(|&a, &b| onsets[a].total_cmp(&onsets[b]));
    // Each type's onsets, ascending, to count how often it began before a horizon.
    let kinds = spans.iter().map(|s| s.kind + 1).max().unwrap_or(0);
    let mut by_kind: Vec<Vec<f64>> = vec![Vec::new(); kinds];
    for &i in &order {
        by_kind[spans[i].kind].push(onsets[i]);
    }
    let background = |j: usize, before: f64| {
        by_kind[spans[j].kind].partition_point(|&o| o < before) >= BACKGROUND
    };
    let mut out: Vec<Links> = Vec::with_capacity(order.len());
    for (k, &i) in order.iter().enumerate() {
        let s = onsets[i];
        let preceded_by: Vec<usize> = order[..k]
            .iter()
            .copied()
            .filter(|&j| {
                let d = s - onsets[j];
                d > 0.0 && d <= horizon && spans[j].last_step >= s - gap
            })
            .collect();
        let root = preceded_by
            .iter()
            .copied()
            .find(|&j| !background(j, s - horizon))
            .unwrap_or(i);
        out.push(Links {
            event: i,
            preceded_by,
            root,
        });
    }
    out
}

/// The step distance that "shortly before" means for a run logged at `steps`: `rows`
/// logged rows at the run's median step stride (1 when it cannot be told); see
/// [`StepStride`], which the live forensics keep step by step.
pub fn horizon_for(steps: &[f64], rows: f64) -> f64 {
    StepStride::of(steps).horizon(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: f64) -> Span {
        Span {
            first_step: s,
            last_step: s + 40.0,
            kind: s as usize,
        }
    }

    fn spans(xs: &[f64]) -> Vec<Span> {
        xs.iter().map(|&s| at(s)).collect()
    }

    #[test]
    fn the_background_is_listed_but_is_not_the_first_cause() {
        // A warning of kind 7 comes and goes (10, 60, 110) and begins again at 300; a
        // warning of kind 8 begins at 310; a critical event at 330.
        let spans: Vec<Span> = [
            (10.0, 7),
            (60.0, 7),
            (110.0, 7),
            (300.0, 7),
            (310.0, 8),
            (330.0, 9),
        ]
        .iter()
        .map(|&(s, kind)| Span {
            first_step: s,
            last_step: s + 40.0,
            kind,
        })
        .collect();
        let d = diagnose(&spans, 50.0);
        assert_eq!(d[5].preceded_by, vec![3, 4]);
        assert_eq!(d[5].root, 4);
        // Without kind 8, nothing but the background preceded: the event is its own root.
        let d = diagnose(&[&spans[..4], &spans[5..]].concat(), 50.0);
        assert_eq!(d[4].preceded_by, vec![3]);
        assert_eq!(d[4].root, 4);
        // Once before the horizon is not a pattern.
        let d = diagnose(&[&spans[2..4], &spans[5..]].concat(), 50.0);
        assert_eq!(d[2].root, 1);
    }

    #[test]
    fn kinds_follow_names() {
        let s = spans_of(["a", "b", "a", "c", "b"].map(|n| (1.0, 2.0, n)));
        let kinds: Vec<usize> = s.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, vec![0, 1, 0, 2, 1]);
    }

    #[test]
    fn a_long_ended_event_is_not_a_cause() {
        let d = diagnose(
            &[
                Span {
                    first_step: 10.0,
                    last_step: 11.0,
                    kind: 0,
                },
                at(40.0),
            ],
            50.0,
        );
        assert!(d[1].preceded_by.is_empty(), "{d:?}");
        let d = diagnose(
            &[
                Span {
                    first_step: 10.0,
                    last_step: 31.0,
                    kind: 0,
                },
                at(40.0),
            ],
            50.0,
        );
        assert_eq!(d[1].preceded_by, vec![0]);
    }

    #[test]
    fn links_within_the_horizon_and_finds_roots() {
        // grad explosion at 27 → KL spike at 61 → KL blow-up at 70; an unrelated event at 500.
        let d = diagnose(&spans(&[61.0, 500.0, 27.0, 70.0]), 50.0);
        let order: Vec<usize> = d.iter().map(|l| l.event).collect();
        assert_eq!(order, vec![2, 0, 3, 1]);
        assert_eq!(d[0].preceded_by, Vec::<usize>::new());
        assert_eq!(d[1].preceded_by, vec![2]);
        assert_eq!(d[2].preceded_by, vec![2, 0]);
        assert_eq!(d[3].preceded_by, Vec::<usize>::new());
        assert_eq!(
            d.iter().map(|l| l.root).collect::<Vec<_>>(),
            vec![2, 2, 2, 1]
        );
        // Not transitive: 10 → 55 → 100 links 100 to 55 only.
        let d = diagnose(&spans(&[10.0, 55.0, 100.0]), 50.0);
        assert_eq!(d[2].preceded_by, vec![1]);
        assert_eq!(d[2].root, 1);
    }

    #[test]
    fn simultaneous_events_do_not_precede_each_other() {
        let d = diagnose(&spans(&[10.0, 10.0]), 50.0);
        assert!(d
            .iter()
            .all(|l| l.preceded_by.is_empty() && l.root == l.event));
    }

    #[test]
    fn horizon_follows_the_logging_stride() {
        let steps: Vec<f64> = (1..=100).map(|i| 10.0 * f64::from(i)).collect();
        assert_eq!(horizon_for(&steps, 50.0), 500.0);
        assert_eq!(horizon_for(&[], 50.0), 50.0);
    }
}
