//! Whole-run moments: count, mean, variance, skewness, kurtosis, min, max.
//!
//! One-pass central-moment updates (Welford; Pébay 2008 for the third and fourth moments) and
//! the exact pairwise merge of Chan et al. / Pébay. Values are shifted by the first finite
//! value before anything else: the shifted values are small and exact (a difference of two
//! nearby floats is exact), so the running mean carries no rounding at the scale of the
//! offset. An offset of 1e9 with a spread of 1e-3 therefore keeps full precision, and a
//! constant stream gives a variance of exactly 0 (every shifted value is exactly 0).

use crate::state::{invalid, Validate};
use serde::{Deserialize, Serialize};

use super::{kurtosis_from, skewness_from};

/// Mergeable whole-run moments of a stream of f64. Non-finite values are counted, not used.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    n: u64,
    /// First finite value; `mean` and the central sums are of `x - shift`.
    shift: f64,
    mean: f64,
    m2: f64,
    m3: f64,
    m4: f64,
    min: f64,
    max: f64,
    nonfinite: u64,
}

impl Moments {
    /// An empty estimator.
    pub fn new() -> Self {
        Moments {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            ..Default::default()
        }
    }

    /// Adds one value; NaN and ±inf are counted in [`Moments::nonfinite`] and skipped.
    #[inline]
    pub fn update(&mut self, x: f64) {
        if !x.is_finite() {
            self.nonfinite += 1;
            return;
        }
        if self.n == 0 {
            self.shift = x;
        }
        let n1 = self.n as f64;
        self.n += 1;
        let n = self.n as f64;
        let delta = (x - self.shift) - self.mean;
        let delta_n = delta / n;
        let delta_n2 = delta_n * delta_n;
        let term1 = delta * delta_n * n1;
        self.mean += delta_n;
        self.m4 += term1 * delta_n2 * (n * n - 3.0 * n + 3.0) + 6.0 * delta_n2 * self.m2
            - 4.0 * delta_n * self.m3;
        self.m3 += term1 * delta_n * (n - 2.0) - 3.0 * delta_n * self.m2;
        self.m2 += term1;
        if x < self.min {
            self.min = x;
        }
        if x > self.max {
            self.max = x;
        }
    }

    /// Adds every value of `xs`.
    pub fn update_slice(&mut self, xs: &[f64]) {
        for &x in xs {
            self.update(x);
        }
    }

    /// Combines with another estimator as if all values had been seen by one (exact up to
    /// rounding; merge order does not matter beyond rounding).
    pub fn merge(&mut self, other: &Moments) {
        self.nonfinite += other.nonfinite;
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            let nonfinite = self.nonfinite;
            *self = other.clone();
            self.nonfinite = nonfinite;
            return;
        }
        let na = self.n as f64;
        let nb = other.n as f64;
        let n = na + nb;
        // Difference of the two means, with the shifts subtracted first (exact when close).
        let delta = (other.shift - self.shift) + (other.mean - self.mean);
        let delta_n = delta / n;
        let delta2 = delta * delta;
        let m2 = self.m2 + other.m2 + delta2 * na * nb / n;
        let m3 = self.m3
            + other.m3
            + delta2 * delta * na * nb * (na - nb) / (n * n)
            + 3.0 * delta * (na * other.m2 - nb * self.m2) / n;
        let m4 = self.m4
            + other.m4
            + delta2 * delta2 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n)
            + 6.0 * delta2 * (na * na * other.m2 + nb * nb * self.m2) / (n * n)
            + 4.0 * delta * (na * other.m3 - nb * self.m3) / n;
        self.mean += nb * delta_n;
        self.m2 = m2;
        self.m3 = m3;
        self.m4 = m4;
        self.n += other.n;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Number of finite values seen.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Number of non-finite values seen (and skipped).
    pub fn nonfinite(&self) -> u64 {
        self.nonfinite
    }

    /// Mean; `None` before the first finite value.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.shift + self.mean)
    }

    /// Variance with divisor `n - ddof` (`ddof` 0: population, 1: sample).
    pub fn variance(&self, ddof: u32) -> Option<f64> {
        let d = self.n.checked_sub(u64::from(ddof))?;
        (d > 0).then(|| (self.m2 / d as f64).max(0.0))
    }

    /// Standard deviation with divisor `n - ddof`.
    pub fn std(&self, ddof: u32) -> Option<f64> {
        self.variance(ddof).map(f64::sqrt)
    }

    /// Skewness (`bias = true`: g1 as scipy; `false`: adjusted G1 as pandas).
    /// `None` with fewer than 2 (3 unbiased) values or zero variance.
    pub fn skewness(&self, bias: bool) -> Option<f64> {
        skewness_from(self.n as f64, self.m2, self.m3, bias)
    }

    /// Excess kurtosis (`bias = true`: g2 as scipy; `false`: adjusted G2 as pandas).
    pub fn kurtosis(&self, bias: bool) -> Option<f64> {
        kurtosis_from(self.n as f64, self.m2, self.m4, bias)
    }

    /// Smallest finite value.
    pub fn min(&self) -> Option<f64> {
        (self.n > 0).then_some(self.min)
    }

    /// Largest finite value.
    pub fn max(&self) -> Option<f64> {
        (self.n > 0).then_some(self.max)
    }
}

impl Validate for Moments {
    fn validate(&self) -> crate::Result<()> {
        if self.n > 0 && !(self.min <= self.max && self.m2 >= 0.0) {
            return Err(invalid("moments"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(xs: &[f64]) -> (f64, f64, f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let m = |k: i32| xs.iter().map(|x| (x - mean).powi(k)).sum::<f64>();
        (mean, m(2), m(3), m(4))
    }

    #[test]
    fn matches_two_pass() {
        let xs: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 1013) as f64 * 0.37 - 50.0)
            .collect();
        let mut m = Moments::new();
        m.update_slice(&xs);
        let (mean, m2, m3, m4) = naive(&xs);
        let n = xs.len() as f64;
        assert!((m.mean().unwrap() - mean).abs() < 1e-10);
        assert!((m.variance(0).unwrap() - m2 / n).abs() < 1e-9);
        let g1 = n.sqrt() * m3 / m2.powf(1.5);
        assert!((m.skewness(true).unwrap() - g1).abs() < 1e-9);
        let g2 = n * m4 / (m2 * m2) - 3.0;
        assert!((m.kurtosis(true).unwrap() - g2).abs() < 1e-9);
    }

    #[test]
    fn large_offset_keeps_precision() {
        let mut m = Moments::new();
        let xs: Vec<f64> = (0..10_000)
            .map(|i| 1e9 + 1e-3 * ((i % 7) as f64 - 3.0))
            .collect();
        m.update_slice(&xs);
        let exact: Vec<f64> = xs.iter().map(|x| x - 1e9).collect();
        let (_, m2, _, _) = naive(&exact);
        let rel = (m.variance(0).unwrap() - m2 / 10_000.0).abs() / (m2 / 10_000.0);
        assert!(rel < 1e-10, "relative error {rel}");
    }

    #[test]
    fn constant_has_exact_zero_variance() {
        let mut m = Moments::new();
        for _ in 0..1000 {
            m.update(0.1);
        }
        assert_eq!(m.variance(0), Some(0.0));
        assert_eq!(m.skewness(true), None);
        assert_eq!(m.mean(), Some(0.1));
    }

    #[test]
    fn nonfinite_counted_not_used() {
        let mut m = Moments::new();
        m.update_slice(&[1.0, f64::NAN, 3.0, f64::INFINITY, f64::NEG_INFINITY]);
        assert_eq!(m.count(), 2);
        assert_eq!(m.nonfinite(), 3);
        assert_eq!(m.mean(), Some(2.0));
        assert_eq!(Moments::new().mean(), None);
        assert_eq!(Moments::new().variance(1), None);
    }

    #[test]
    fn merge_at_every_split_equals_whole() {
        let xs: Vec<f64> = (0..64)
            .map(|i| ((i * 31) % 17) as f64 - 4.5 + 1e6)
            .collect();
        let mut whole = Moments::new();
        whole.update_slice(&xs);
        for split in 0..=xs.len() {
            let mut a = Moments::new();
            let mut b = Moments::new();
            a.update_slice(&xs[..split]);
            b.update_slice(&xs[split..]);
            a.merge(&b);
            assert_eq!(a.count(), whole.count());
            assert!((a.mean().unwrap() - whole.mean().unwrap()).abs() < 1e-9);
            assert!((a.variance(0).unwrap() - whole.variance(0).unwrap()).abs() < 1e-8);
            assert!((a.skewness(true).unwrap() - whole.skewness(true).unwrap()).abs() < 1e-7);
            assert!((a.kurtosis(true).unwrap() - whole.kurtosis(true).unwrap()).abs() < 1e-7);
            assert_eq!(a.min(), whole.min());
            assert_eq!(a.max(), whole.max());
        }
    }
}
