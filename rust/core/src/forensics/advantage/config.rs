//! Parameters of the advantage tracker (RLDK's `AdvantageStatisticsTracker` constructor).

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::forensics::event::{DEFAULT_CAPACITY, DEFAULT_RELEASE};

/// Tracker parameters; [`AdvantageConfig::default`] gives RLDK's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdvantageConfig {
    /// Means and stds kept in `advantage_mean_history` / `advantage_std_history`.
    pub window_size: usize,
    /// Logged steps in the mean and std trend fits (≥ 2).
    pub trend_window: usize,
    /// |mean advantage| that counts as fully biased (> 0).
    pub bias_threshold: f64,
    /// Coefficient of variation of the std that counts as fully unstable (> 0).
    pub scale_threshold: f64,
    /// Samples behind skewness, kurtosis and percentiles (≥ 4); the sample buffer keeps ten
    /// times as many.
    pub distribution_window: usize,
    /// Clear evaluations that end an anomaly event.
    pub event_release: u32,
    /// Anomaly events kept (oldest ended ones are dropped beyond this).
    pub max_events: usize,
    /// Per-step metrics kept in `metrics_history` (oldest dropped beyond this).
    pub history_size: usize,
}

impl Default for AdvantageConfig {
    fn default() -> Self {
        AdvantageConfig {
            window_size: 100,
            trend_window: 20,
            bias_threshold: 0.1,
            scale_threshold: 2.0,
            distribution_window: 50,
            event_release: DEFAULT_RELEASE,
            max_events: DEFAULT_CAPACITY,
            history_size: 10_000,
        }
    }
}

impl AdvantageConfig {
    /// Checks the parameters; the error names the offending one.
    pub fn validated(self) -> Result<Self> {
        for (name, v) in [
            ("bias_threshold", self.bias_threshold),
            ("scale_threshold", self.scale_threshold),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(CoreError::param(
                    name,
                    format!("must be finite and > 0, got {v}"),
                ));
            }
        }
        // Skewness and kurtosis need 4 samples; a trend needs 2 steps.
        for (name, v, min) in [
            ("window_size", self.window_size, 1),
            ("trend_window", self.trend_window, 2),
            ("distribution_window", self.distribution_window, 4),
            ("history_size", self.history_size, 1),
        ] {
            if v < min {
                return Err(CoreError::param(
                    name,
                    format!("must be at least {min}, got {v}"),
                ));
            }
        }
        if self.distribution_window > usize::MAX / 10 {
            return Err(CoreError::param(
                "distribution_window",
                format!("is too large: {}", self.distribution_window),
            ));
        }
        Ok(self)
    }

    /// Capacity of the raw sample buffer (RLDK's 10 · distribution_window).
    pub fn sample_capacity(&self) -> usize {
        10 * self.distribution_window
    }
}
