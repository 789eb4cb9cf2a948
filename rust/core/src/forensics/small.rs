//! Statistics of short windows (5 to 30 values) recomputed per step. At these sizes a fresh
//! two-pass computation costs tens of nanoseconds and is exact, so the trackers use it
//! where RLDK's rules are defined on tiny windows, and the streaming estimators elsewhere.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::state::{invalid, Validate};
use crate::stats::{interpolate_sorted, Ring};

/// The last `capacity` values, readable as one contiguous slice without copying: each value
/// is written twice, at `i` and `i + capacity`, so the newest `k` always sit side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tail {
    buf: Vec<f64>,
    head: usize,
    len: usize,
}

impl Tail {
    /// An empty tail of `capacity` (at least 1) values.
    pub fn new(capacity: usize) -> Self {
        Tail {
            buf: vec![0.0; 2 * capacity.max(1)],
            head: 0,
            len: 0,
        }
    }

    fn capacity(&self) -> usize {
        self.buf.len() / 2
    }

    /// Appends `x`, dropping the oldest value when full.
    pub fn push(&mut self, x: f64) {
        let cap = self.capacity();
        self.buf[self.head] = x;
        self.buf[self.head + cap] = x;
        self.head = if self.head + 1 == cap {
            0
        } else {
            self.head + 1
        };
        self.len = (self.len + 1).min(cap);
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first push.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The newest `min(k, len)` values, oldest first.
    pub fn last(&self, k: usize) -> &[f64] {
        let end = self.head + self.capacity();
        &self.buf[end - k.min(self.len)..end]
    }
}

impl Validate for Tail {
    fn validate(&self) -> Result<()> {
        let cap = self.capacity();
        if cap == 0 || self.buf.len() % 2 != 0 || self.head >= cap || self.len > cap {
            return Err(invalid("tail buffer"));
        }
        Ok(())
    }
}

/// The newest `k` values of `ring` (all of them if it holds fewer), oldest first.
pub fn last(ring: &Ring, k: usize) -> Vec<f64> {
    let n = ring.len();
    ring.iter().skip(n.saturating_sub(k)).collect()
}

/// Arithmetic mean; `None` when empty.
pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Variance with `ddof`; `None` when there are not more than `ddof` values.
pub fn variance(xs: &[f64], ddof: usize) -> Option<f64> {
    let m = mean(xs)?;
    if xs.len() <= ddof {
        return None;
    }
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    Some(ss / (xs.len() - ddof) as f64)
}

/// Standard deviation with `ddof`.
pub fn std(xs: &[f64], ddof: usize) -> Option<f64> {
    variance(xs, ddof).map(f64::sqrt)
}

/// Least-squares slope of `ys` against `xs` and its R² (`None` for constant `ys`); `None`
/// with fewer than 2 points or constant `xs`.
pub fn slope(xs: &[f64], ys: &[f64]) -> Option<(f64, Option<f64>)> {
    if xs.len() < 2 || xs.len() != ys.len() {
        return None;
    }
    let (mx, my) = (mean(xs)?, mean(ys)?);
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
    let r2 = (syy > 0.0).then(|| (sxy * sxy / (sxx * syy)).clamp(0.0, 1.0));
    Some((sxy / sxx, r2))
}

/// Slope of `ys` against their index 0..n−1.
pub fn index_slope(ys: &[f64]) -> Option<f64> {
    let xs: Vec<f64> = (0..ys.len()).map(|i| i as f64).collect();
    slope(&xs, ys).map(|s| s.0)
}

/// Linear-interpolated percentile `p` (0..=100) of unsorted values.
pub fn percentile(xs: &[f64], p: f64) -> Option<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    interpolate_sorted(&v, p / 100.0)
}

/// Median of unsorted values.
pub fn median(xs: &[f64]) -> Option<f64> {
    percentile(xs, 50.0)
}

/// Weighted mean of the parts that have a value, clamped to [0, 1]; `None` when none has.
/// Scores built this way never count a part without data as perfect.
pub fn weighted_score(parts: &[(f64, Option<f64>)]) -> Option<f64> {
    let (mut w, mut s) = (0.0, 0.0);
    for &(weight, v) in parts {
        if let Some(v) = v {
            w += weight;
            s += weight * v;
        }
    }
    (w > 0.0).then(|| (s / w).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_slices_are_the_newest_values() {
        let mut t = Tail::new(3);
        assert!(t.is_empty() && t.last(2).is_empty());
        for x in 1..=5 {
            t.push(f64::from(x));
        }
        assert_eq!(t.last(3), &[3.0, 4.0, 5.0]);
        assert_eq!(t.last(2), &[4.0, 5.0]);
        assert_eq!(t.last(9), &[3.0, 4.0, 5.0]);
        assert_eq!(t.len(), 3);
        t.push(6.0);
        assert_eq!(t.last(3), &[4.0, 5.0, 6.0]);
    }

    #[test]
    fn small_window_statistics() {
        let xs = [1.0, 2.0, 4.0, 7.0];
        assert_eq!(mean(&xs), Some(3.5));
        assert!((variance(&xs, 1).unwrap() - 7.0).abs() < 1e-12);
        assert_eq!(variance(&[1.0], 1), None);
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 50.0), Some(2.0));
        assert_eq!(percentile(&xs, 25.0), Some(1.75));
        let (s, r2) = slope(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]).unwrap();
        assert!((s - 2.0).abs() < 1e-12 && (r2.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(slope(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(slope(&[0.0, 1.0], &[2.0, 2.0]).unwrap().1, None);
        assert_eq!(weighted_score(&[(0.5, None), (0.5, Some(0.4))]), Some(0.4));
        assert_eq!(weighted_score(&[(1.0, None)]), None);
    }
}
