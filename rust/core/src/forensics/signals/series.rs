//! One logged signal as the rules read it: its recent values (with their steps), its early
//! level, and the short-window statistics the rules compare against.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::forensics::small::Tail;
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
}

/// Median and σ (1.4826 × MAD) of `xs`, sorted in place.
pub fn robust(xs: &mut [f64]) -> Option<Level> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_unstable_by(f64::total_cmp);
    let median = mid(xs);
    for x in xs.iter_mut() {
        *x = (*x - median).abs();
    }
    xs.sort_unstable_by(f64::total_cmp);
    Some(Level {
        median,
        sigma: MAD_SIGMA * mid(xs),
    })
}

fn mid(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }
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
        Series {
            values: Tail::new(CAPACITY),
            steps: Tail::new(CAPACITY),
            early: Vec::with_capacity(baseline_rows),
            level: None,
            baseline_rows,
        }
    }

    /// Appends a finite value logged at `step`.
    pub fn push(&mut self, step: f64, x: f64) {
        debug_assert!(x.is_finite());
        self.values.push(x);
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
        let mut buf = [0.0; CAPACITY];
        buf[..k].copy_from_slice(&xs[..k]);
        robust(&mut buf[..k]).map(|l| l.median)
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
