//! A run's logging stride, read one logged step at a time: the median positive gap between
//! consecutive steps. The diagnosis measures "shortly before" in logged rows at this
//! stride; the live forensics and the scanner both feed every step they see to one of
//! these, so the two link the same events on the same log, however irregular its steps
//! (a resumed run that restarts its count, a stretch where logging stopped).
//!
//! The gaps are kept as distinct values with counts. A run logged every `k` steps has one
//! or a few of them, and the median is exact. Memory stays bounded on any log: past
//! [`MAX_DISTINCT`] values, the two closest in ratio become one entry (the value of the one
//! seen more often), so the median is then off by at most that ratio.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::state::{invalid, Validate};

/// Distinct gaps kept (4 KB). Logs written at a fixed interval have a handful.
pub const MAX_DISTINCT: usize = 256;

/// The median positive gap between consecutive logged steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepStride {
    /// The previous step as given (it may be non-finite: the gap from it is then skipped).
    last: Option<f64>,
    /// Distinct finite positive gaps, ascending, with how often each was seen.
    gaps: Vec<(f64, u64)>,
    /// Gaps counted (the sum of the counts).
    count: u64,
}

impl StepStride {
    /// A stride that has seen no step.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stride of `steps` in order.
    pub fn of(steps: &[f64]) -> Self {
        let mut s = Self::new();
        for &x in steps {
            s.push(x);
        }
        s
    }

    /// One more logged step. A gap that is not finite and positive (a repeated step, a
    /// count that went back, a non-finite step) is not a stride and is not counted.
    pub fn push(&mut self, step: f64) {
        if let Some(prev) = self.last {
            let d = step - prev;
            if d.is_finite() && d > 0.0 {
                self.add(d);
            }
        }
        self.last = Some(step);
    }

    fn add(&mut self, d: f64) {
        self.count += 1;
        match self.gaps.binary_search_by(|g| g.0.total_cmp(&d)) {
            Ok(i) => self.gaps[i].1 += 1,
            Err(i) => {
                self.gaps.insert(i, (d, 1));
                if self.gaps.len() > MAX_DISTINCT {
                    self.merge_closest();
                }
            }
        }
    }

    /// Makes the two neighbouring gaps closest in ratio one entry.
    fn merge_closest(&mut self) {
        let i = (0..self.gaps.len() - 1)
            .min_by(|&a, &b| {
                let ra = self.gaps[a + 1].0 / self.gaps[a].0;
                let rb = self.gaps[b + 1].0 / self.gaps[b].0;
                ra.total_cmp(&rb)
            })
            .unwrap_or(0);
        let (lo, hi) = (self.gaps[i], self.gaps[i + 1]);
        let value = if hi.1 > lo.1 { hi.0 } else { lo.0 };
        self.gaps[i] = (value, lo.1 + hi.1);
        self.gaps.remove(i + 1);
    }

    /// Gaps counted so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The median gap (of an even count, the upper of the middle two); `None` before any.
    pub fn median(&self) -> Option<f64> {
        let middle = self.count / 2;
        let mut seen = 0;
        for &(g, c) in &self.gaps {
            seen += c;
            if seen > middle {
                return Some(g);
            }
        }
        None
    }

    /// `rows` logged rows in steps: `rows` times the median gap (`rows` when there is none).
    pub fn horizon(&self, rows: f64) -> f64 {
        self.median().map_or(rows, |g| rows * g)
    }
}

impl Validate for StepStride {
    fn validate(&self) -> Result<()> {
        let ascending = self.gaps.windows(2).all(|w| w[0].0 < w[1].0);
        let sane = self
            .gaps
            .iter()
            .all(|&(g, c)| g.is_finite() && g > 0.0 && c > 0);
        let total: u64 = self.gaps.iter().map(|g| g.1).sum();
        if !ascending || !sane || total != self.count || self.gaps.len() > MAX_DISTINCT {
            return Err(invalid("step stride"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition: the element at index len / 2 of the sorted positive finite gaps.
    fn sorted_median(steps: &[f64]) -> Option<f64> {
        let mut d: Vec<f64> = steps
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|d| d.is_finite() && *d > 0.0)
            .collect();
        d.sort_by(f64::total_cmp);
        d.get(d.len() / 2).copied()
    }

    #[test]
    fn a_fixed_interval_is_its_stride() {
        let steps: Vec<f64> = (1..=100).map(|i| 10.0 * f64::from(i)).collect();
        let s = StepStride::of(&steps);
        assert_eq!(s.median(), Some(10.0));
        assert_eq!(s.horizon(50.0), 500.0);
        assert_eq!(StepStride::new().horizon(50.0), 50.0);
    }

    #[test]
    fn a_long_pause_or_a_restart_does_not_move_it() {
        // Logged every 5 steps, a pause of 10,000 steps, then a resume that restarts at 40.
        let mut steps: Vec<f64> = (0..100).map(|i| 5.0 * f64::from(i)).collect();
        steps.extend((0..50).map(|i| 10_500.0 + 5.0 * f64::from(i)));
        steps.extend((0..50).map(|i| 40.0 + 5.0 * f64::from(i)));
        steps.push(f64::NAN);
        steps.push(f64::INFINITY);
        let s = StepStride::of(&steps);
        assert_eq!(s.median(), Some(5.0));
        // The mean stride (first to last over the rows) would say about 0.2 here.
        assert_eq!(s.count(), 99 + 1 + 49 + 49);
        s.validate().unwrap();
    }

    #[test]
    fn memory_stays_bounded_and_the_median_close() {
        // 10,000 distinct gaps spread over six orders of magnitude.
        let mut steps = vec![0.0];
        let mut x = 0.0;
        for i in 0..10_000u32 {
            x += 10f64.powf(f64::from(i * 7919 % 10_000) / 10_000.0 * 6.0);
            steps.push(x);
        }
        let s = StepStride::of(&steps);
        s.validate().unwrap();
        assert_eq!(s.gaps.len(), MAX_DISTINCT);
        let exact = sorted_median(&steps).unwrap();
        let got = s.median().unwrap();
        assert!((got / exact).ln().abs() < 0.1, "{got} vs {exact}");
    }

    #[test]
    fn a_broken_state_is_refused() {
        let mut s = StepStride::of(&[1.0, 2.0, 4.0]);
        s.count += 1;
        assert!(s.validate().is_err());
    }

    proptest! {
        #[test]
        fn equals_the_sorted_median_while_exact(
            gaps in prop::collection::vec(
                prop_oneof![Just(1.0), Just(2.0), Just(0.0), Just(-3.0), Just(f64::NAN), 1e-3..1e9f64],
                0..MAX_DISTINCT,
            ),
            start in -1e12..1e12f64,
        ) {
            let mut steps = vec![start];
            for g in gaps {
                let last = *steps.last().unwrap();
                steps.push(if last.is_nan() { start } else { last + g });
            }
            let s = StepStride::of(&steps);
            prop_assert!(s.gaps.len() <= MAX_DISTINCT);
            prop_assert_eq!(s.median(), sorted_median(&steps));
        }
    }
}
