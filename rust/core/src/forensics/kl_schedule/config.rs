//! Parameters of the KL-schedule tracker (RLDK's `KLScheduleTracker` constructor).

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::forensics::event::{DEFAULT_CAPACITY, DEFAULT_RELEASE};

/// Tracker parameters; [`KlScheduleConfig::default`] gives RLDK's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KlScheduleConfig {
    /// KL target (> 0).
    pub kl_target: f64,
    /// Half-width of the target band (≥ 0).
    pub kl_target_tolerance: f64,
    /// Samples behind `time_in_target_range` and `kl_history`.
    pub window_size: usize,
    /// Samples in the trend fit (≥ 2).
    pub trend_window: usize,
    /// Samples in the windowed controller analysis (≥ 4).
    pub controller_window: usize,
    /// Corrected histogram KL above which drift is flagged (RLDK clamps it to ≥ 1e-8).
    pub drift_threshold: f64,
    /// Current-window length of the drift test (RLDK clamps it to ≥ 5).
    pub drift_window_size: usize,
    /// Leading samples that form the frozen drift reference (RLDK clamps it to ≥ 10).
    pub reference_period: usize,
    /// Whether drift is tracked.
    pub enable_drift_tracking: bool,
    /// Significance level of the KS test that must agree before drift is flagged.
    pub drift_alpha: f64,
    /// Clear evaluations that end an anomaly event.
    pub event_release: u32,
    /// Anomaly events kept (oldest ended ones are dropped beyond this).
    pub max_events: usize,
    /// Per-step metrics kept in `metrics_history` (oldest dropped beyond this).
    pub history_size: usize,
}

impl Default for KlScheduleConfig {
    fn default() -> Self {
        KlScheduleConfig {
            kl_target: 0.1,
            kl_target_tolerance: 0.05,
            window_size: 50,
            trend_window: 20,
            controller_window: 30,
            drift_threshold: 0.15,
            drift_window_size: 100,
            reference_period: 500,
            enable_drift_tracking: true,
            drift_alpha: 0.01,
            event_release: DEFAULT_RELEASE,
            max_events: DEFAULT_CAPACITY,
            history_size: 10_000,
        }
    }
}

impl KlScheduleConfig {
    /// Checks the parameters and applies RLDK's documented clamps to the drift settings.
    pub fn validated(mut self) -> Result<Self> {
        if !(self.kl_target.is_finite() && self.kl_target > 0.0) {
            return Err(CoreError::param(
                "kl_target",
                format!("must be finite and > 0, got {}", self.kl_target),
            ));
        }
        let tol = self.kl_target_tolerance;
        if !(tol.is_finite() && tol >= 0.0) {
            return Err(CoreError::param(
                "kl_target_tolerance",
                format!("must be finite and >= 0, got {tol}"),
            ));
        }
        for (name, v, min) in [
            ("window_size", self.window_size, 1),
            ("trend_window", self.trend_window, 2),
            ("controller_window", self.controller_window, 4),
            ("history_size", self.history_size, 1),
        ] {
            if v < min {
                return Err(CoreError::param(
                    name,
                    format!("must be at least {min}, got {v}"),
                ));
            }
        }
        if self.drift_threshold.is_nan() {
            return Err(CoreError::param("drift_threshold", "must not be NaN"));
        }
        if !(self.drift_alpha > 0.0 && self.drift_alpha < 1.0) {
            return Err(CoreError::param(
                "drift_alpha",
                format!("must lie in (0, 1), got {}", self.drift_alpha),
            ));
        }
        self.drift_threshold = self.drift_threshold.max(1e-8);
        self.drift_window_size = self.drift_window_size.max(5);
        self.reference_period = self.reference_period.max(10);
        Ok(self)
    }

    /// Lower edge of the target band.
    pub fn band_low(&self) -> f64 {
        self.kl_target - self.kl_target_tolerance
    }

    /// Upper edge of the target band.
    pub fn band_high(&self) -> f64 {
        self.kl_target + self.kl_target_tolerance
    }

    /// The KL scale that the trend and volatility rules are measured in: the band's
    /// half-width, or half the target when the band has zero width.
    pub fn kl_scale(&self) -> f64 {
        if self.kl_target_tolerance > 0.0 {
            self.kl_target_tolerance
        } else {
            0.5 * self.kl_target
        }
    }

    /// Values between two drift tests: a twentieth of the drift window, at least 1.
    pub fn drift_stride(&self) -> usize {
        (self.drift_window_size / 20).max(1)
    }

    /// Current-window values the drift test needs (RLDK: max(10, window // 5)).
    pub fn drift_min_window(&self) -> usize {
        (self.drift_window_size / 5)
            .max(10)
            .min(self.drift_window_size)
    }
}
