//! A run's logging stride, read one logged step at a time: the median positive gap between
//! consecutive steps. The diagnosis measures "shortly before" in logged rows at this
//! stride; the live forensics and the scanner both feed every step they see to one of
//! these, so the two link the same events on the same log, however irregular its steps
//! (a resumed run that restarts its count, a stretch where logging stopped).
//!
//! The gaps are kept as distinct values with counts. A run logged every `k` steps has one
//! or a few of them, and the median is exact. Memory stays bounded on any log: past
//! [`MAX_DISTINCT`] values (steps that are timestamps, say), the gaps are counted by cell of
//! a logarithmic grid of ratio 1.01, whose ratio doubles (in logarithm) whenever they still
//! take more cells than that. A cell keeps the value of the gap that was most frequent when
//! its entries were merged, so the stride of a run logged at a fixed interval with some
//! irregular gaps stays exact; in general the median is within one cell (of the final
//! grid) of the exact one. Each step then costs a logarithm and a table lookup.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::state::{invalid, Validate};

/// Distinct gaps kept (4 KB). Logs written at a fixed interval have a handful.
pub const MAX_DISTINCT: usize = 256;

/// ln of the first grid's ratio (1%).
const FIRST_GRID: f64 = 0.00995033085316808;

/// The median positive gap between consecutive logged steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepStride {
    /// The previous step as given (it may be non-finite: the gap from it is then skipped).
    last: Option<f64>,
    /// Distinct finite positive gaps, ascending, with how often each was seen; with a grid,
    /// one entry per cell (its value one of the cell's gaps), in the order of the cells.
    gaps: Vec<(f64, u64)>,
    /// Gaps counted (the sum of the counts).
    count: u64,
    /// ln of the grid's ratio, once the gaps are rounded to one (`None` while exact).
    grid: Option<f64>,
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
        // One entry per gap, or per cell of the grid, and they rise with the values: d's
        // entry, if there is one, is the first at or above d or (in a cell) the last below.
        let grid = self.grid.map(|g| (g, cell(d, g)));
        let same = |v: f64| grid.map_or(v == d, |(g, k)| cell(v, g) == k);
        let i = self.gaps.partition_point(|e| e.0 < d);
        let found = [i, i.wrapping_sub(1)]
            .into_iter()
            .find(|&j| self.gaps.get(j).is_some_and(|e| same(e.0)));
        match found {
            Some(j) => self.gaps[j].1 += 1,
            None => {
                self.gaps.insert(i, (d, 1));
                while self.gaps.len() > MAX_DISTINCT {
                    self.coarsen();
                }
            }
        }
    }

    /// Counts the gaps by cell of the first grid, or of one twice as coarse: the entries
    /// of one cell become one, with the value of the most frequent of them (the lowest on a
    /// tie). Cells are monotone in the gap, so the table stays in order.
    fn coarsen(&mut self) {
        let g = self.grid.map_or(FIRST_GRID, |g| 2.0 * g);
        self.grid = Some(g);
        let mut out: Vec<(f64, u64, u64)> = Vec::with_capacity(self.gaps.len());
        let mut last_cell = f64::NAN;
        for &(v, c) in &self.gaps {
            let k = cell(v, g);
            match out.last_mut() {
                // (value, count of the value's own entry, count of the cell)
                Some(e) if k == last_cell => {
                    if c > e.1 {
                        e.0 = v;
                        e.1 = c;
                    }
                    e.2 += c;
                }
                _ => out.push((v, c, c)),
            }
            last_cell = k;
        }
        self.gaps = out.into_iter().map(|(v, _, n)| (v, n)).collect();
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

/// The cell of the grid of log-ratio `g` that holds the gap `d`: the whole number nearest
/// to ln(d) / g (|ln d| < 745 for finite positive gaps, so it is exact as a float; adding
/// 0 turns a −0 into 0, which `total_cmp` would otherwise order as another cell).
fn cell(d: f64, g: f64) -> f64 {
    (d.ln() / g).round() + 0.0
}

impl Validate for StepStride {
    fn validate(&self) -> Result<()> {
        let ascending = self.gaps.windows(2).all(|w| match self.grid {
            None => w[0].0 < w[1].0,
            Some(g) => cell(w[0].0, g) < cell(w[1].0, g),
        });
        let sane = self
            .gaps
            .iter()
            .all(|&(g, c)| g.is_finite() && g > 0.0 && c > 0);
        let total = self
            .gaps
            .iter()
            .try_fold(0u64, |sum, g| sum.checked_add(g.1));
        let grid_ok = self.grid.is_none_or(|g| g.is_finite() && g > 0.0);
        if !ascending
            || !sane
            || !grid_ok
            || total != Some(self.count)
            || self.gaps.len() > MAX_DISTINCT
        {
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
        assert!(s.gaps.len() <= MAX_DISTINCT);
        assert_eq!(s.count(), 10_000);
        let exact = sorted_median(&steps).unwrap();
        let got = s.median().unwrap();
        // Six decades over 256 cells: the grid's ratio is 2^k % with k where it fits.
        let g = s.grid.unwrap();
        assert!(g < 0.1, "{g}");
        assert!((got / exact).ln().abs() <= g, "{got} vs {exact}");
    }

    #[test]
    fn a_fixed_interval_stays_exact_among_irregular_gaps() {
        // Logged every 10 steps, with 400 irregular gaps (1, 2, ..., 400) among 2000.
        let mut steps = vec![0.0];
        for i in 0..2_400u32 {
            let d = if i % 6 == 5 {
                f64::from(i / 6 + 1)
            } else {
                10.0
            };
            steps.push(steps.last().unwrap() + d);
        }
        let s = StepStride::of(&steps);
        assert!(s.grid.is_some());
        s.validate().unwrap();
        assert_eq!(s.median(), Some(10.0));
        assert_eq!(s.horizon(50.0), 500.0);
    }

    #[test]
    fn a_broken_state_is_refused() {
        let mut s = StepStride::of(&[1.0, 2.0, 4.0]);
        s.count += 1;
        assert!(s.validate().is_err());
        s.gaps = vec![(1.0, u64::MAX), (2.0, 2)];
        assert!(s.validate().is_err());
    }

    #[test]
    fn timestamps_as_steps_go_on_a_one_percent_grid() {
        // Gaps 1, 1.001, 1.002, ..., 2.999: every one new; on the 1% grid they take about
        // 110 points, so the grid stays at 1% and the median within it.
        let mut s = StepStride::new();
        let mut x = 1.7e9;
        s.push(x);
        let mut gaps = Vec::new();
        for i in 0..2_000u32 {
            let d = 1.0 + f64::from(i) * 1e-3;
            x += d;
            gaps.push(d);
            s.push(x);
            assert!(s.gaps.len() <= MAX_DISTINCT);
        }
        s.validate().unwrap();
        assert_eq!(s.count(), 2_000);
        assert_eq!(s.grid, Some(FIRST_GRID));
        assert!(s.gaps.len() < 120, "{}", s.gaps.len());
        let got = s.median().unwrap();
        assert!((got / 2.0).ln().abs() < FIRST_GRID, "{got}");
        // Gaps from 1e-300 to 1e300 end on a coarse grid, and the table stays bounded.
        let mut s = StepStride::new();
        let mut x = 0.0f64;
        s.push(x);
        for i in 0..3_000i32 {
            let d = 10f64.powi(i % 601 - 300);
            x = if x + d > 1e300 { 0.0 } else { x + d };
            s.push(x);
        }
        s.validate().unwrap();
        assert!(s.gaps.len() <= MAX_DISTINCT && s.median().is_some());
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
