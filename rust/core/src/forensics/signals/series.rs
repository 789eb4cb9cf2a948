//! One logged signal as the rules read it: its recent values (with their steps), its early
//! level, and the short-window statistics the rules compare against.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::forensics::small::{SortedTail, Tail};
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
    steps: Tail,
    early: Vec<f64>,
    level: Option<Level>,
    baseline_rows: usize,
    /// Length of the sorted window (0: none), for signals whose spike rule reads the
    /// median and MAD of their last values at every step.
    window: usize,
    #[serde(skip)]
    sorted: SortedWindow,
}

/// The newest `window` values in ascending order: derived from the series' values (rebuilt
/// whenever out of step, e.g. after a restore), so it is neither saved nor compared. A
/// [`SortedTail`] moves one value per push with branch-free compares and blends.
#[derive(Debug, Clone, Default)]
struct SortedWindow(SortedTail);

impl PartialEq for SortedWindow {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Median absolute deviation from `m` (the median) of ascending `v`: the deviations below
/// and above `m` are each already in order, so a merge walk finds the middle ones without
/// sorting.
fn mad_sorted(v: &[f64], m: f64) -> f64 {
    let n = v.len();
    let p = v.partition_point(|&x| x < m);
    let (mut i, mut j) = (p, p);
    let (want_lo, want_hi) = ((n - 1) / 2, n / 2);
    let mut lo = 0.0;
    for k in 0..n {
        let d = if i > 0 && (j >= n || m - v[i - 1] <= v[j] - m) {
            i -= 1;
            (v[i] - m).abs()
        } else {
            j += 1;
            (v[j - 1] - m).abs()
        };
        if k == want_lo {
            lo = d;
        }
        if k == want_hi {
            return 0.5 * (lo + d);
        }
    }
    0.0
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

/// Least-squares slope of `ys` against `xs` and its t-statistic (`None` with fewer than 3
/// points or constant `xs`; an exact line has an infinite t).
pub fn trend(xs: &[f64], ys: &[f64]) -> Option<(f64, f64)> {
    let n = xs.len();
    if n < 3 || ys.len() != n {
        return None;
    }
    let mx = xs.iter().sum::<f64>() / n as f64;
    let my = ys.iter().sum::<f64>() / n as f64;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    let sse = (syy - b * sxy).max(0.0);
    let se = (sse / (n - 2) as f64 / sxx).sqrt();
    let t = if se > 0.0 {
        b / se
    } else {
        b.signum() * f64::INFINITY
    };
    Some((b, if b == 0.0 { 0.0 } else { t }))
}

/// Slope and t-statistic of a rolling least-squares fit (t from R²: t² = R²(n−2)/(1−R²)).
pub fn fit_t(fit: &crate::trend::TrendFit) -> (f64, f64) {
    let b = fit.slope;
    let t = match fit.r2 {
        None => 0.0,
        Some(r2) if r2 >= 1.0 => b.signum() * f64::INFINITY,
        Some(r2) if fit.n > 2 => b.signum() * (r2 * (fit.n - 2) as f64 / (1.0 - r2)).sqrt(),
        Some(_) => 0.0,
    };
    (b, if b == 0.0 { 0.0 } else { t })
}

/// Pearson correlation of two equally long slices (`None` if either is constant).
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len();
    if n < 3 || ys.len() != n {
        return None;
    }
    let mx = xs.iter().sum::<f64>() / n as f64;
    let my = ys.iter().sum::<f64>() / n as f64;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

impl Series {
    /// An empty series whose early level is its first `baseline_rows` finite values.
    pub fn new(baseline_rows: usize) -> Self {
        Self::with_window(baseline_rows, 0)
    }

    /// As [`Series::new`], also keeping its newest `window` (≤ [`CAPACITY`]) values sorted
    /// for [`Series::robust_window`].
    pub fn with_window(baseline_rows: usize, window: usize) -> Self {
        Series {
            values: Tail::new(CAPACITY),
            steps: Tail::new(CAPACITY),
            early: Vec::with_capacity(baseline_rows),
            level: None,
            baseline_rows,
            window: window.min(CAPACITY),
            sorted: SortedWindow::default(),
        }
    }

    /// Appends a finite value logged at `step`.
    pub fn push(&mut self, step: f64, x: f64) {
        debug_assert!(x.is_finite());
        if self.window > 0 {
            self.sorted.0.push(&mut self.values, self.window, x);
        } else {
            self.values.push(x);
        }
        self.steps.push(step);
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
    pub fn last_steps(&self, k: usize) -> &[f64] {
        self.steps.last(k)
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

    /// Median and σ of the sorted window (the newest `window` values), once at least
    /// `min` were seen; `None` for a series without a window.
    pub fn robust_window(&mut self, min: usize) -> Option<Level> {
        if self.window == 0 || self.values.len() < min.max(1) {
            return None;
        }
        let v = self.sorted.0.sorted_so_far(&self.values, self.window);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        };
        Some(Level {
            median,
            sigma: MAD_SIGMA * mad_sorted(v, median),
        })
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

    /// The median of the sorted window (O(1)), once at least `min` values were seen.
    pub fn window_median(&mut self, min: usize) -> Option<f64> {
        if self.window == 0 || self.values.len() < min.max(1) {
            return None;
        }
        let v = self.sorted.0.sorted_so_far(&self.values, self.window);
        let n = v.len();
        Some(if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        })
    }

    /// Slope against the logged step, and its t-statistic, over the newest `k` values
    /// (once `k` were seen).
    pub fn trend_last(&self, k: usize) -> Option<(f64, f64)> {
        (self.len() >= k).then(|| trend(self.steps.last(k), self.values.last(k)))?
    }
}

impl Validate for Series {
    fn validate(&self) -> Result<()> {
        self.values.validate()?;
        self.steps.validate()?;
        if self.values.len() != self.steps.len()
            || self.baseline_rows == 0
            || self.window > CAPACITY
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
    fn sorted_window_statistics_equal_a_fresh_computation() {
        let mut z = crate::forensics::testing::Noise(9);
        let mut s = Series::with_window(5, 50);
        for i in 0..300 {
            let x = (z.normal() * 3.0).round() + if i % 37 == 0 { 40.0 } else { 0.0 };
            s.push(f64::from(i), x);
            let fresh = s.robust_last(50, 1).unwrap();
            let kept = s.robust_window(1).unwrap();
            assert_eq!(
                (kept.median, kept.sigma),
                (fresh.median, fresh.sigma),
                "at {i}"
            );
            for k in 1..=16 {
                let mut b: Vec<f64> = s.last(k).to_vec();
                assert_eq!(
                    s.median_last(k),
                    if b.len() == k {
                        median_in_place(&mut b)
                    } else {
                        None
                    }
                );
            }
        }
        // A restored series (the window is not saved) rebuilds it.
        let bytes = crate::state::to_bytes("Series", &s);
        let mut back: Series = crate::state::from_bytes("Series", &bytes).unwrap();
        assert_eq!(back.robust_window(1), s.robust_window(1));
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
