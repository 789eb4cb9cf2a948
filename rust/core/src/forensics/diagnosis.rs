//! Diagnosis: a run's events in order of onset, each linked to the events that began
//! shortly before it, so that the first cause is visible and not only the last symptom
//! ("KL spike at 61, preceded by grad_norm_explosion at 27").
//!
//! Linking is by time only: an event that began within `horizon` steps before another
//! (strictly before) is listed as preceding it. The root of an event follows the earliest
//! predecessor back until an event has none; events sharing a root form one episode.

/// One event's links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// Index (into the input) of the event.
    pub event: usize,
    /// Events that began within the horizon before it, earliest first.
    pub preceded_by: Vec<usize>,
    /// The earliest event of its chain (itself when nothing preceded it).
    pub root: usize,
}

/// Links every event (given by its first step) to its predecessors within `horizon` steps;
/// the result is in order of onset (ties keep the input order; a non-finite onset is left
/// out).
pub fn diagnose(onsets: &[f64], horizon: f64) -> Vec<Links> {
    let mut order: Vec<usize> = (0..onsets.len())
        .filter(|&i| onsets[i].is_finite())
        .collect();
    order.sort_by(|&a, &b| onsets[a].total_cmp(&onsets[b]));
    let mut out: Vec<Links> = Vec::with_capacity(order.len());
    for (k, &i) in order.iter().enumerate() {
        let s = onsets[i];
        let preceded_by: Vec<usize> = order[..k]
            .iter()
            .copied()
            .filter(|&j| {
                let d = s - onsets[j];
                d > 0.0 && d <= horizon
            })
            .collect();
        // Earlier entries already know their roots; the earliest predecessor's root is
        // this event's.
        let root = preceded_by.first().map_or(i, |&j| {
            out.iter().find(|l| l.event == j).map_or(j, |l| l.root)
        });
        out.push(Links {
            event: i,
            preceded_by,
            root,
        });
    }
    out
}

/// The step distance that "shortly before" means for a run logged at `steps`: `rows`
/// logged rows at the run's median step stride (1 when it cannot be told).
pub fn horizon_for(steps: &[f64], rows: f64) -> f64 {
    let mut d: Vec<f64> = steps
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| d.is_finite() && *d > 0.0)
        .collect();
    if d.is_empty() {
        return rows;
    }
    d.sort_by(f64::total_cmp);
    rows * d[d.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_within_the_horizon_and_finds_roots() {
        // grad explosion at 27 → KL spike at 61 → KL blow-up at 70; an unrelated event at 500.
        let onsets = [61.0, 500.0, 27.0, 70.0];
        let d = diagnose(&onsets, 50.0);
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
    }

    #[test]
    fn simultaneous_events_do_not_precede_each_other() {
        let d = diagnose(&[10.0, 10.0], 50.0);
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
