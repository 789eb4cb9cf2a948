//! The last `capacity` (length, reward) records with their correlation kept up to date in
//! O(1) per record, so that the detector can tell cheaply, at every record, whether a full
//! analysis could find a significant correlation.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::state::{invalid, Validate};
use crate::stats::Ring;

/// A sliding window of pairs with shifted running sums. Sums of values shifted by a pivot
/// near their mean keep the co-moments well conditioned (lengths sit in the hundreds,
/// their spread in the tens); the sums are rebuilt from the stored pairs every `capacity`
/// records, so the rounding of adding and removing never accumulates beyond one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairWindow {
    lengths: Ring,
    rewards: Ring,
    pivot: (f64, f64),
    sums: Sums,
    since_rebuild: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct Sums {
    x: f64,
    y: f64,
    xx: f64,
    yy: f64,
    xy: f64,
}

impl Sums {
    fn add(&mut self, x: f64, y: f64, sign: f64) {
        self.x += sign * x;
        self.y += sign * y;
        self.xx += sign * x * x;
        self.yy += sign * y * y;
        self.xy += sign * x * y;
    }
}

impl PairWindow {
    /// An empty window of `capacity` (at least 1) pairs.
    pub fn new(capacity: usize) -> Self {
        PairWindow {
            lengths: Ring::new(capacity),
            rewards: Ring::new(capacity),
            pivot: (0.0, 0.0),
            sums: Sums::default(),
            since_rebuild: 0,
        }
    }

    /// Pairs held.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// True before the first push.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// Pairs it can hold.
    pub fn capacity(&self) -> usize {
        self.lengths.capacity()
    }

    /// Whether it holds `capacity` pairs.
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// The lengths, oldest first.
    pub fn lengths(&self) -> &Ring {
        &self.lengths
    }

    /// The rewards, oldest first.
    pub fn rewards(&self) -> &Ring {
        &self.rewards
    }

    /// Adds a finite pair, dropping the oldest when full.
    pub fn push(&mut self, length: f64, reward: f64) {
        if self.is_empty() {
            self.pivot = (length, reward);
        }
        let (px, py) = self.pivot;
        let old_l = self.lengths.push(length);
        let old_r = self.rewards.push(reward);
        self.sums.add(length - px, reward - py, 1.0);
        if let (Some(l), Some(r)) = (old_l, old_r) {
            self.sums.add(l - px, r - py, -1.0);
        }
        self.since_rebuild += 1;
        if self.since_rebuild >= self.capacity() {
            self.rebuild();
        }
    }

    /// Recomputes the sums from the pairs around a pivot at their current means.
    fn rebuild(&mut self) {
        let n = self.len() as f64;
        let mx = self.lengths.iter().sum::<f64>() / n;
        let my = self.rewards.iter().sum::<f64>() / n;
        self.pivot = (mx, my);
        let mut s = Sums::default();
        for (l, r) in self.lengths.iter().zip(self.rewards.iter()) {
            s.add(l - mx, r - my, 1.0);
        }
        self.sums = s;
        self.since_rebuild = 0;
    }

    /// Pearson correlation of length and reward over the window; `None` with fewer than 3
    /// pairs or a constant coordinate.
    pub fn correlation(&self) -> Option<f64> {
        let n = self.len();
        if n < 3 {
            return None;
        }
        let nf = n as f64;
        let s = &self.sums;
        let cxx = s.xx - s.x * s.x / nf;
        let cyy = s.yy - s.y * s.y / nf;
        let cxy = s.xy - s.x * s.y / nf;
        // Relative to the raw sums, a co-moment this small is rounding: a constant column.
        let tiny = 1e-12;
        if cxx <= tiny * s.xx || cyy <= tiny * s.yy {
            return None;
        }
        Some((cxy / (cxx * cyy).sqrt()).clamp(-1.0, 1.0))
    }
}

impl Validate for PairWindow {
    fn validate(&self) -> Result<()> {
        self.lengths.validate()?;
        self.rewards.validate()?;
        let s = &self.sums;
        let finite = [s.x, s.y, s.xx, s.yy, s.xy, self.pivot.0, self.pivot.1]
            .iter()
            .all(|v| v.is_finite());
        if !self.lengths.same_shape(&self.rewards)
            || !finite
            || self.since_rebuild >= self.capacity().max(1)
        {
            return Err(invalid("length-bias window"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Bivariate;
    use proptest::prelude::*;

    fn exact(w: &PairWindow) -> Option<f64> {
        let mut b = Bivariate::default();
        for (l, r) in w.lengths().iter().zip(w.rewards().iter()) {
            b.update(l, r);
        }
        b.correlation()
    }

    proptest! {
        /// After any number of pushes the sliding correlation is the correlation of the
        /// pairs it holds, offsets included.
        #[test]
        fn sliding_correlation_matches_a_fresh_pass(
            pairs in prop::collection::vec((1.0f64..1000.0, -5.0f64..5.0), 1..300),
            cap in 3usize..40,
            offset in prop::sample::select(vec![0.0, 1e4, 1e7]),
        ) {
            let mut w = PairWindow::new(cap);
            for &(l, r) in &pairs {
                w.push(l + offset, r);
                let (a, b) = (w.correlation(), exact(&w));
                match (a, b) {
                    (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-6, "{a} vs {b}"),
                    // Near-constant columns: either may call it constant.
                    (a, b) => prop_assert!(
                        a.or(b).is_none_or(|v| v.is_finite()),
                        "{a:?} vs {b:?}"
                    ),
                }
            }
            prop_assert!(w.validate().is_ok());
        }
    }

    #[test]
    fn constant_lengths_have_no_correlation() {
        let mut w = PairWindow::new(8);
        for i in 0..20 {
            w.push(300.0, f64::from(i));
        }
        assert_eq!(w.correlation(), None);
        w.push(310.0, 1.0);
        assert!(w.correlation().is_some());
    }
}
