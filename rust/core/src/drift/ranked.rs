//! The drift detector's current window: the last values after a frozen, sorted reference,
//! kept in ascending order together with each value's rank in the reference.
//!
//! The reference never changes once full, so a value's rank in it is found once, by binary
//! search, when the value enters the window, and kept as the reference's CDF there. The KS
//! statistic then needs one pass over the window instead of a merge with the whole reference
//! (see [`RankedWindow::ks_statistic`]).

use serde::{Deserialize, Serialize};

use crate::state::invalid;
use crate::stats::Ring;
use crate::Result;

/// A window value and the reference's CDF at it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Ranked {
    x: f64,
    /// Fraction of the reference `< x`.
    below: f64,
    /// Fraction of the reference `<= x`.
    upto: f64,
}

impl Ranked {
    /// `x` ranked in the non-empty, ascending `reference`. The fractions are the very
    /// quotients the KS merge forms (count as f64 / size as f64).
    fn new(x: f64, reference: &[f64]) -> Self {
        let below = reference.partition_point(|&r| r < x);
        // Ties are few in practice: step over them, and search only past a handful.
        let tied = reference[below..]
            .iter()
            .take(8)
            .take_while(|&&r| r <= x)
            .count();
        let upto = if tied < 8 {
            below + tied
        } else {
            below + reference[below..].partition_point(|&r| r <= x)
        };
        let n = reference.len() as f64;
        Ranked {
            x,
            below: below as f64 / n,
            upto: upto as f64 / n,
        }
    }
}

/// Elements of ascending `sorted` whose key is below `x` (`partition_point(|v| key(v) < x)`).
/// Up to 1024 elements it counts rather than searches: the blocks of 8 whose last key is
/// below `x` (so are all their keys), then the keys below `x` in the one block that may
/// straddle it. The loops are branch-free with trip counts fixed by the length, so nothing
/// is mispredicted and the comparisons overlap, where a binary search waits on each load.
#[inline(always)]
fn count_below<T>(sorted: &[T], key: impl Fn(&T) -> f64, x: f64) -> usize {
    if sorted.len() > 1024 {
        return sorted.partition_point(|v| key(v) < x);
    }
    let full_blocks: usize = sorted
        .iter()
        .skip(7)
        .step_by(8)
        .map(|v| usize::from(key(v) < x))
        .sum();
    let start = full_blocks * 8;
    let straddling = &sorted[start..(start + 8).min(sorted.len())];
    start
        + straddling
            .iter()
            .map(|v| usize::from(key(v) < x))
            .sum::<usize>()
}

/// The last `capacity` finite values, in arrival order and sorted with their ranks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RankedWindow {
    ring: Ring,
    sorted: Vec<Ranked>,
    /// The window's CDF steps i / m for i in 0..=m (m values held), so that a KS test does
    /// not divide once per value: rebuilt by `push` whenever m changes (only while the window
    /// fills, and once after a restore, which is why it is not stored).
    #[serde(skip)]
    steps: Steps,
}

/// [`RankedWindow::steps`]: a cache, which does not make two windows different.
#[derive(Debug, Clone, Default)]
struct Steps(Vec<f64>);

impl PartialEq for Steps {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl RankedWindow {
    pub(crate) fn new(capacity: usize) -> Self {
        RankedWindow {
            ring: Ring::new(capacity),
            sorted: Vec::with_capacity(capacity.min(1 << 16)),
            steps: Steps::default(),
        }
    }

    /// Window length.
    pub(crate) fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Values held.
    pub(crate) fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The smallest and largest value.
    pub(crate) fn range(&self) -> Option<(f64, f64)> {
        Some((self.sorted.first()?.x, self.sorted.last()?.x))
    }

    /// i / m for i in 0..=m (m values held), when at hand.
    pub(crate) fn steps(&self) -> Option<&[f64]> {
        (self.steps.0.len() == self.sorted.len() + 1).then_some(&self.steps.0[..])
    }

    /// The values, ascending.
    pub(crate) fn sorted(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.sorted.iter().map(|r| r.x)
    }

    /// Adds the finite `x`, ranked in the full, ascending `reference`; returns the value
    /// that left the window, if one did.
    pub(crate) fn push(&mut self, x: f64, reference: &[f64]) -> Option<f64> {
        let new = Ranked::new(x, reference);
        let at = count_below(&self.sorted, |r| r.x, x);
        let left = self.ring.push(x);
        match left {
            None => self.sorted.insert(at, new),
            Some(out) => {
                // Equal values carry equal ranks, so any copy of `out` may leave; only the
                // elements between the two positions move.
                let from = count_below(&self.sorted, |r| r.x, out);
                if at <= from {
                    self.sorted.copy_within(at..from, at + 1);
                    self.sorted[at] = new;
                } else {
                    self.sorted.copy_within(from + 1..at, from);
                    self.sorted[at - 1] = new;
                }
            }
        }
        let m = self.sorted.len();
        if self.steps.0.len() != m + 1 {
            let mf = m as f64;
            self.steps.0 = (0..=m).map(|i| i as f64 / mf).collect();
        }
        left
    }

    /// sup |F_ref − F_window|; 0 when the window is empty.
    ///
    /// Both CDFs are steps; between two consecutive distinct window values the window's is
    /// flat and the reference's rises, so the gap is largest at one end: at a window value
    /// `v` (counts `≤ v`) or just below the next one (counts `< v`, which are the counts at
    /// the largest value of either sample below `v`). Below the first window value the
    /// largest gap is the `< v` term of that value, above the last the `≤ v` term of the last.
    /// Each term is a difference the merge of [`super::ks_2samp_sorted`] computes, with the
    /// same arithmetic, so the result is the same number. Tied window values count as one:
    /// `< v` uses the first of them, `≤ v` the last.
    pub(crate) fn ks_statistic(&self) -> f64 {
        let s = &self.sorted;
        if self.steps.0.len() == s.len() + 1 {
            self.ks_with(|i| self.steps.0[i])
        } else {
            let mf = s.len() as f64;
            self.ks_with(|i| i as f64 / mf)
        }
    }

    /// [`RankedWindow::ks_statistic`] with `step(i)` = i / m.
    ///
    /// Branch-free: a term that does not belong to a value (not the first or last of its
    /// tied group) counts as 0, which cannot raise the maximum of the gaps (all ≥ 0), and
    /// the maximum of the same numbers taken in another order is the same number.
    #[inline(always)]
    fn ks_with(&self, step: impl Fn(usize) -> f64) -> f64 {
        let s = &self.sorted;
        let m = s.len();
        if m == 0 {
            return 0.0;
        }
        let mut d: f64 = 0.0;
        // The ends of the window are the first or last of their groups by definition; the
        // values between compare with their neighbours.
        for i in 0..m {
            let x = s[i].x;
            let first = i == 0 || s[i - 1].x < x;
            let last = i + 1 == m || s[i + 1].x > x;
            let below = (s[i].below - step(i)).abs();
            let upto = (s[i].upto - step(i + 1)).abs();
            // No NaN can occur: plain comparisons select, which compile to max/blend
            // instructions rather than `f64::max`'s NaN handling.
            let gap_below = if first { below } else { 0.0 };
            let gap_upto = if last { upto } else { 0.0 };
            let gap = if gap_below > gap_upto {
                gap_below
            } else {
                gap_upto
            };
            d = if gap > d { gap } else { d };
        }
        d
    }

    /// Checks the window against the `reference` it was ranked in.
    pub(crate) fn validate(&self, reference: &[f64]) -> Result<()> {
        crate::state::Validate::validate(&self.ring)?;
        let mut arrived: Vec<f64> = self.ring.iter().collect();
        arrived.sort_unstable_by(f64::total_cmp);
        if self.sorted.len() != arrived.len()
            || self
                .sorted
                .iter()
                .zip(&arrived)
                .any(|(r, &x)| !x.is_finite() || r.x != x || *r != Ranked::new(r.x, reference))
        {
            return Err(invalid("drift window"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::ks_2samp_sorted;
    use proptest::prelude::*;

    /// Values on a coarse grid (many ties, within and across the samples), around a large
    /// offset or not.
    fn values(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
        (
            prop::collection::vec((-6i32..6, 0u8..4), 1..max_len),
            prop::sample::select(vec![0.0, 1e9, -3.5]),
            prop::sample::select(vec![1.0, 0.25, 1e-6]),
        )
            .prop_map(|(v, offset, scale)| {
                v.into_iter()
                    .map(|(k, kind)| match kind {
                        0 => offset,
                        1 => -0.0,
                        _ => offset + scale * f64::from(k) + if kind == 3 { 0.1 } else { 0.0 },
                    })
                    .collect()
            })
    }

    proptest! {
        /// The ranked pass gives the very statistic of the merge, at every step of a window
        /// that slides over tied, constant and offset values.
        #[test]
        fn ks_statistic_equals_the_merge(
            mut reference in values(60),
            stream in values(120),
            cap in 1usize..40,
        ) {
            reference.sort_unstable_by(f64::total_cmp);
            let mut w = RankedWindow::new(cap);
            for (i, &x) in stream.iter().enumerate() {
                w.push(x, &reference);
                w.validate(&reference).unwrap();
                let last: Vec<f64> = stream[(i + 1).saturating_sub(cap)..=i].to_vec();
                let mut sorted = last.clone();
                sorted.sort_unstable_by(f64::total_cmp);
                let from_scratch = ks_2samp_sorted(&reference, &sorted).unwrap().statistic;
                prop_assert_eq!(w.ks_statistic().to_bits(), from_scratch.to_bits());
                let mine: Vec<f64> = w.sorted().collect();
                prop_assert!(mine.iter().zip(&sorted).all(|(a, b)| a == b));
            }
        }
    }

    #[test]
    fn counting_below_is_the_partition_point() {
        for n in [0usize, 1, 7, 8, 9, 63, 64, 65, 500, 1024, 1025, 3000] {
            let sorted: Vec<f64> = (0..n).map(|i| (i / 3) as f64).collect();
            for x in [-1.0, 0.0, 0.5, 1.0, (n / 6) as f64, (n / 3) as f64, 1e9] {
                assert_eq!(
                    count_below(&sorted, |&v| v, x),
                    sorted.partition_point(|&v| v < x),
                    "n {n} x {x}"
                );
            }
        }
    }

    #[test]
    fn restored_window_gives_the_same_statistic() {
        let reference: Vec<f64> = (0..50).map(|i| f64::from(i) * 0.1).collect();
        let mut w = RankedWindow::new(7);
        for i in 0..20 {
            w.push(f64::from(i % 9) * 0.37, &reference);
        }
        let bytes = postcard::to_stdvec(&w).unwrap();
        let mut back: RankedWindow = postcard::from_bytes(&bytes).unwrap();
        assert!(back.steps.0.is_empty());
        assert_eq!(back.ks_statistic().to_bits(), w.ks_statistic().to_bits());
        back.push(0.5, &reference);
        w.push(0.5, &reference);
        assert_eq!(back.steps.0.len(), 8);
        assert_eq!(back.ks_statistic().to_bits(), w.ks_statistic().to_bits());
    }

    #[test]
    fn tampered_ranks_fail_validation() {
        let reference = [1.0, 2.0, 3.0];
        let mut w = RankedWindow::new(2);
        w.push(2.0, &reference);
        w.validate(&reference).unwrap();
        w.sorted[0].upto = 1.0;
        assert!(w.validate(&reference).is_err());
    }
}
