//! One logged signal as the rules read it: its recent values (with their steps), its early
//! level, and the short-window statistics the rules compare against.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::forensics::small::{slope, Tail};
use crate::state::{invalid, Validate};

/// Values kept per signal: the longest window a rule reads.
pub const CAPACITY: usize = 128;

/// Scale factor that makes a median absolute deviation estimate a normal σ.
const MAD_SIGMA: f64 = 1.4826;

/// The early level of a signal: median and robust spread of its first finite values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// Median.
    pub median: f64,
    /// 1.4826 × MAD (a normal σ).
    pub sigma: f64,
}

/// A signal's recent finite values and early level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    values: Tail,
    /// The values' steps, for the series whose rules fit a trend against the step.
    steps: Option<Tail>,
    early: Vec<f64>,
    level: Option<Level>,
    baseline_rows: usize,
}

/// Median of a few values (no NaN): an odd-even transposition sort on the stack, whose
/// compare-exchanges are min/max pairs (no branch to mispredict on noisy values).
fn small_median(xs: &[f64]) -> Option<f64> {
    let n = xs.len();
    if n == 0 || n > 16 {
        return None;
    }
    let mut b = [0.0; 16];
    b[..n].copy_from_slice(xs);
    for pass in 0..n {
        let mut i = pass % 2;
        while i + 1 < n {
            let (lo, hi) = (b[i].min(b[i + 1]), b[i].max(b[i + 1]));
            b[i] = lo;
            b[i + 1] = hi;
            i += 2;
        }
    }
    Some(if n % 2 == 1 {
        b[n / 2]
    } else {
        0.5 * (b[n / 2 - 1] + b[n / 2])
    })
}

/// Median and σ (1.4826 × MAD) of `xs` (no NaN), which are reordered.
pub fn robust(xs: &mut [f64]) -> Option<Level> {
    let median = median_in_place(xs)?;
    for x in xs.iter_mut() {
        *x = (*x - median).abs();
    }
    Some(Level {
        median,
        sigma: MAD_SIGMA * median_in_place(xs)?,
    })
}

/// Median of `xs` (no NaN), reordering them: a selection, not a sort, because the rules
/// take several medians per logged step.
pub fn median_in_place(xs: &mut [f64]) -> Option<f64> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let (left, mid, _) = xs.select_nth_unstable_by(n / 2, f64::total_cmp);
    let upper = *mid;
    if n % 2 == 1 {
        return Some(upper);
    }
    // Even count: the lower middle value is the largest of the left part.
    let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(0.5 * (lower + upper))
}

/// The t-statistic of a least-squares slope `b` over `n` points from the fit's R²
/// (t² = R²(n−2)/(1−R²)): 0 for a flat fit or constant values, infinite for an exact line.
fn slope_t(b: f64, r2: Option<f64>, n: usize) -> f64 {
    match r2 {
        _ if b == 0.0 || n < 3 => 0.0,
        None => 0.0,
        Some(r2) if r2 >= 1.0 => b.signum() * f64::INFINITY,
        Some(r2) => b.signum() * (r2 * (n - 2) as f64 / (1.0 - r2)).sqrt(),
    }
}

/// Least-squares slope of `ys` against `xs` and its t-statistic (`None` with fewer than 3
/// points or constant `xs`).
pub fn trend(xs: &[f64], ys: &[f64]) -> Option<(f64, f64)> {
    if xs.len() < 3 {
        return None;
    }
    let (b, r2) = slope(xs, ys)?;
    Some((b, slope_t(b, r2, xs.len())))
}

/// Slope and t-statistic of a rolling least-squares fit.
pub fn fit_t(fit: &crate::trend::TrendFit) -> (f64, f64) {
    (fit.slope, slope_t(fit.slope, fit.r2, fit.n))
}

/// Pearson correlation of two equally long slices (`None` with fewer than 3 points or if
/// either is constant): the signed square root of the least-squares fit's R².
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    if xs.len() < 3 {
        return None;
    }
    let (b, r2) = slope(xs, ys)?;
    r2.map(|r2| if b < 0.0 { -r2.sqrt() } else { r2.sqrt() })
}

impl Series {
    /// An empty series whose early level is its first `baseline_rows` finite values.
    pub fn new(baseline_rows: usize) -> Self {
        Series {
            values: Tail::new(CAPACITY),
            steps: None,
            early: Vec::with_capacity(baseline_rows),
            level: None,
            baseline_rows,
        }
    }

    /// [`Series::new`] that also keeps the values' steps (for [`Series::last_steps`] and
    /// [`Series::trend_last`]).
    pub fn with_steps(baseline_rows: usize) -> Self {
        Series {
            steps: Some(Tail::new(CAPACITY)),
            ..Series::new(baseline_rows)
        }
    }

    /// Appends a finite value logged at `step`.
    pub fn push(&mut self, step: f64, x: f64) {
        debug_assert!(x.is_finite());
        self.values.push(x);
        if let Some(steps) = self.steps.as_mut() {
            steps.push(step);
        }
        if self.level.is_none() {
            self.early.push(x);
            if self.early.len() == self.baseline_rows {
                self.level = robust(&mut self.early);
                self.early = Vec::new();
            }
        }
    }

    /// Finite values held (at most [`CAPACITY`]).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True before the first value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The early level, once `baseline_rows` finite values were seen.
    pub fn level(&self) -> Option<Level> {
        self.level
    }

    /// The newest `k` values, oldest first (fewer if fewer were seen).
    pub fn last(&self, k: usize) -> &[f64] {
        self.values.last(k)
    }

    /// The steps of [`Series::last`].
    /// Empty for a series built without steps.
    pub fn last_steps(&self, k: usize) -> &[f64] {
        self.steps.as_ref().map_or(&[], |s| s.last(k))
    }

    /// The newest value.
    pub fn latest(&self) -> Option<f64> {
        self.values.last(1).first().copied()
    }

    /// Median of the newest `k` values, once `k` were seen.
    pub fn median_last(&self, k: usize) -> Option<f64> {
        self.median_ago(0, k)
    }

    /// Median of the `k` values that end `ago` values before the newest (once seen).
    pub fn median_ago(&self, ago: usize, k: usize) -> Option<f64> {
        let xs = self.values.last(ago + k);
        if xs.len() < ago + k || k == 0 {
            return None;
        }
        if k <= 16 {
            return small_median(&xs[..k]);
        }
        let mut buf = [0.0; CAPACITY];
        buf[..k].copy_from_slice(&xs[..k]);
        median_in_place(&mut buf[..k])
    }

    /// Median and σ of the newest `k` values, once at least `min` were seen.
    pub fn robust_last(&self, k: usize, min: usize) -> Option<Level> {
        let xs = self.values.last(k);
        if xs.len() < min.max(1) {
            return None;
        }
        let mut buf = [0.0; CAPACITY];
        buf[..xs.len()].copy_from_slice(xs);
        robust(&mut buf[..xs.len()])
    }

    /// How many of the newest `k` values satisfy `f` (fewer values when fewer were seen).
    /// A median of `k` values can only be at or past a threshold when at least half of them
    /// are, so the level rules count first and take a median only when it can matter.
    pub fn count_last(&self, k: usize, f: impl Fn(f64) -> bool) -> usize {
        self.values.last(k).iter().filter(|&&x| f(x)).count()
    }

    /// The median of the newest `k` values when at least half of them satisfy `f` (the
    /// necessary condition for the median to satisfy a threshold test `f`); `None`
    /// otherwise or before `k` values.
    pub fn median_last_if(&self, k: usize, f: impl Fn(f64) -> bool) -> Option<f64> {
        if self.len() < k || 2 * self.count_last(k, f) < k {
            return None;
        }
        self.median_last(k)
    }

    /// Slope against the logged step, and its t-statistic, over the newest `k` values
    /// (once `k` were seen).
    pub fn trend_last(&self, k: usize) -> Option<(f64, f64)> {
        let steps = self.steps.as_ref().filter(|_| self.len() >= k)?;
        trend(steps.last(k), self.values.last(k))
    }
}

impl Validate for Series {
    fn validate(&self) -> Result<()> {
        self.values.validate()?;
        if let Some(steps) = &self.steps {
            steps.validate()?;
        }
        if self
            .steps
            .as_ref()
            .is_some_and(|s| s.len() != self.values.len())
            || self.baseline_rows == 0
            || (self.level.is_none() && self.early.len() >= self.baseline_rows)
        {
            return Err(invalid("signal series"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robust_level_of_known_values() {
        let mut xs = [1.0, 2.0, 3.0, 4.0, 100.0];
        let l = robust(&mut xs).unwrap();
        assert_eq!(l.median, 3.0);
        assert!((l.sigma - MAD_SIGMA * 1.0).abs() < 1e-12);
    }

    #[test]
    fn selection_median_equals_the_sorted_median() {
        let mut z = crate::forensics::testing::Noise(3);
        for n in 1..40 {
            let xs: Vec<f64> = (0..n).map(|_| (z.normal() * 4.0).round()).collect();
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            let want = if n % 2 == 1 {
                sorted[n / 2]
            } else {
                0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
            };
            assert_eq!(median_in_place(&mut xs.clone()), Some(want), "{xs:?}");
        }
        assert_eq!(median_in_place(&mut []), None);
    }

    #[test]
    fn rolling_fit_t_equals_the_two_pass_t() {
        let mut z = crate::forensics::testing::Noise(4);
        let mut roll = crate::trend::RollingTrend::new(30, None).unwrap();
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for i in 0..200 {
            let (x, y) = (1e6 + 10.0 * f64::from(i), 0.01 * f64::from(i) + z.normal());
            roll.update(x, y);
            xs.push(x);
            ys.push(y);
            if xs.len() >= 30 {
                let n = xs.len();
                let (b, t) = trend(&xs[n - 30..], &ys[n - 30..]).unwrap();
                let (rb, rt) = fit_t(&roll.fit().unwrap());
                assert!((rb - b).abs() <= 1e-9 * b.abs().max(1e-6), "{rb} {b}");
                assert!((rt - t).abs() <= 1e-6 * t.abs().max(1.0), "{rt} {t}");
            }
        }
    }

    #[test]
    fn trend_of_a_line_and_of_noise() {
        let xs: Vec<f64> = (0..20).map(f64::from).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x + 1.0).collect();
        let (b, t) = trend(&xs, &ys).unwrap();
        assert!((b - 2.0).abs() < 1e-12 && t.is_infinite());
        let flat: Vec<f64> = xs.iter().map(|x| (x * 7.3).sin()).collect();
        let (_, t) = trend(&xs, &flat).unwrap();
        assert!(t.abs() < 3.0, "{t}");
    }

    #[test]
    fn baseline_freezes_after_its_rows() {
        let mut s = Series::new(5);
        for i in 0..5 {
            assert!(s.level().is_none());
            s.push(f64::from(i), f64::from(i));
        }
        assert_eq!(s.level().unwrap().median, 2.0);
        s.push(5.0, 1000.0);
        assert_eq!(s.level().unwrap().median, 2.0);
        assert_eq!(s.median_last(3), Some(4.0));
        assert_eq!(s.median_ago(1, 3), Some(3.0));
        assert_eq!(s.median_ago(10, 3), None);
        s.validate().unwrap();
    }
}
