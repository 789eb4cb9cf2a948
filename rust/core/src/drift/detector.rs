//! Streaming drift detector: a frozen reference sample versus a sliding current window.
//!
//! The first `reference_size` finite values form the reference; only later values enter the
//! current window (RLDK let the window overlap its own reference, which hides drift early on).
//! Both are kept sorted, so a KS test costs O(reference + window) per call and nothing is
//! re-sorted per step.

use crate::state::{invalid, Validate};
use serde::{Deserialize, Serialize};

use super::{histogram_kl, ks_2samp_sorted, HistogramKl, KsTest};
use crate::error::{check_alpha, CoreError, Result};
use crate::stats::RollingQuantile;

/// Reference-versus-window drift state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftDetector {
    reference_size: usize,
    reference: Vec<f64>,
    window: RollingQuantile,
    min_window: usize,
    alpha: f64,
    nonfinite: u64,
}

impl DriftDetector {
    /// `reference_size` values form the reference, the current window holds the last `window`
    /// values after it, and a test needs `min_window` of them (default: `window`).
    pub fn new(
        reference_size: usize,
        window: usize,
        min_window: Option<usize>,
        alpha: f64,
    ) -> Result<Self> {
        if reference_size == 0 {
            return Err(CoreError::param(
                "reference_size",
                "must be at least 1, got 0",
            ));
        }
        check_alpha(alpha)?;
        let win = RollingQuantile::new(window, Some(1))?;
        let min_window = match min_window {
            None => window,
            Some(m) if m >= 1 && m <= window => m,
            Some(m) => {
                return Err(CoreError::param(
                    "min_window",
                    format!("must lie in 1..={window}, got {m}"),
                ))
            }
        };
        Ok(DriftDetector {
            reference_size,
            reference: Vec::with_capacity(reference_size.min(1 << 16)),
            window: win,
            min_window,
            alpha,
            nonfinite: 0,
        })
    }

    /// Adds one value (non-finite values are counted and skipped).
    pub fn update(&mut self, x: f64) {
        if !x.is_finite() {
            self.nonfinite += 1;
        } else if self.reference.len() < self.reference_size {
            let at = self.reference.partition_point(|v| v.total_cmp(&x).is_lt());
            self.reference.insert(at, x);
        } else {
            self.window.update(x);
        }
    }

    /// Adds every value of `xs`.
    pub fn update_slice(&mut self, xs: &[f64]) {
        for &x in xs {
            self.update(x);
        }
    }

    /// True once the reference is full and the window holds `min_window` values.
    pub fn ready(&self) -> bool {
        self.reference.len() == self.reference_size && self.window.count() >= self.min_window
    }

    /// Values that make up the reference.
    pub fn reference_size(&self) -> usize {
        self.reference_size
    }

    /// Length of the current window.
    pub fn window(&self) -> usize {
        self.window.window()
    }

    /// Window values needed for a test.
    pub fn min_window(&self) -> usize {
        self.min_window
    }

    /// Values in the reference so far.
    pub fn reference_len(&self) -> usize {
        self.reference.len()
    }

    /// Values in the current window.
    pub fn window_len(&self) -> usize {
        self.window.count()
    }

    /// Non-finite values seen.
    pub fn nonfinite(&self) -> u64 {
        self.nonfinite
    }

    /// Significance level of [`DriftDetector::drifted`].
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// KS test of the window against the reference, once ready.
    pub fn ks(&self) -> Option<KsTest> {
        if !self.ready() {
            return None;
        }
        ks_2samp_sorted(&self.reference, self.window.sorted())
    }

    /// Bias-corrected histogram KL of the window against the reference, once ready.
    pub fn histogram_kl(&self, bins: Option<usize>) -> Result<Option<HistogramKl>> {
        if !self.ready() {
            return Ok(None);
        }
        histogram_kl(&self.reference, self.window.sorted(), bins)
    }

    /// Whether the KS p-value is below `alpha`; `None` before ready.
    pub fn drifted(&self) -> Option<bool> {
        self.ks().map(|t| t.p_value < self.alpha)
    }
}

impl Validate for DriftDetector {
    fn validate(&self) -> Result<()> {
        self.window.validate()?;
        check_alpha(self.alpha)?;
        if self.reference_size == 0
            || self.reference.len() > self.reference_size
            || self.min_window == 0
            || self.min_window > self.window.window()
            || self.reference.windows(2).any(|w| w[0] > w[1])
            || self.reference.iter().any(|v| !v.is_finite())
        {
            return Err(invalid("reference or window sizes"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_a_shift_not_noise() {
        let mut d = DriftDetector::new(200, 50, None, 0.01).unwrap();
        let noise = |i: u64| ((i.wrapping_mul(2654435761) % 1000) as f64) / 1000.0;
        for i in 0..200 {
            d.update(noise(i));
        }
        assert!(!d.ready());
        for i in 200..250 {
            d.update(noise(i));
        }
        assert_eq!(d.drifted(), Some(false));
        for i in 250..300 {
            d.update(noise(i) + 0.5);
        }
        assert_eq!(d.drifted(), Some(true));
        assert!(d.histogram_kl(None).unwrap().unwrap().corrected > 0.1);
        assert!(DriftDetector::new(0, 5, None, 0.01).is_err());
        assert!(DriftDetector::new(5, 5, None, 1.5).is_err());
    }
}
