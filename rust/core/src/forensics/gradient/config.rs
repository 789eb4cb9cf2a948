//! Parameters of the gradient-norm analyzer (RLDK's `GradientNormsAnalyzer` constructor).

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::forensics::event::{DEFAULT_CAPACITY, DEFAULT_RELEASE};

/// Analyzer parameters; [`GradientConfig::default`] gives RLDK's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GradientConfig {
    /// Samples kept per series, and the length of the adaptive baseline.
    pub window_size: usize,
    /// Samples in the trend fits (≥ 2).
    pub trend_window: usize,
    /// Total norm above which a step counts as exploding.
    pub exploding_threshold: f64,
    /// Total norm below which a step counts as vanishing.
    pub vanishing_threshold: f64,
    /// Policy/value ratio outside [t, 1/t] counts as imbalanced (0 < t < 1).
    pub imbalance_threshold: f64,
    /// |z| above which a total norm is a statistical outlier.
    pub z_score_threshold: f64,
    /// IQR multiplier of the outlier fences.
    pub iqr_multiplier: f64,
    /// Samples behind momentum and acceleration (≥ 3).
    pub momentum_window: usize,
    /// Early-warning score that raises an anomaly.
    pub early_warning_threshold: f64,
    /// Smoothing factor of the exponentially smoothed total (0 < α ≤ 1).
    pub smoothing_alpha: f64,
    /// Minimum relative level shift of a change point.
    pub change_point_sensitivity: f64,
    /// Whether the advanced detectors run.
    pub enable_advanced_detection: bool,
    /// Clear evaluations that end an anomaly event.
    pub event_release: u32,
    /// Anomaly events kept.
    pub max_events: usize,
    /// Per-step metrics kept in `metrics_history`.
    pub history_size: usize,
}

impl Default for GradientConfig {
    fn default() -> Self {
        GradientConfig {
            window_size: 50,
            trend_window: 20,
            exploding_threshold: 10.0,
            vanishing_threshold: 0.001,
            imbalance_threshold: 0.1,
            z_score_threshold: 2.5,
            iqr_multiplier: 1.5,
            momentum_window: 10,
            early_warning_threshold: 0.7,
            smoothing_alpha: 0.3,
            change_point_sensitivity: 0.1,
            enable_advanced_detection: true,
            event_release: DEFAULT_RELEASE,
            max_events: DEFAULT_CAPACITY,
            history_size: 10_000,
        }
    }
}

fn positive(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(CoreError::param(
            name,
            format!("must be finite and > 0, got {v}"),
        ))
    }
}

impl GradientConfig {
    /// Checks every parameter.
    pub fn validated(self) -> Result<Self> {
        for (name, v, min) in [
            ("window_size", self.window_size, 1),
            ("trend_window", self.trend_window, 2),
            ("momentum_window", self.momentum_window, 3),
            ("history_size", self.history_size, 1),
        ] {
            if v < min {
                return Err(CoreError::param(
                    name,
                    format!("must be at least {min}, got {v}"),
                ));
            }
        }
        positive("exploding_threshold", self.exploding_threshold)?;
        positive("vanishing_threshold", self.vanishing_threshold)?;
        positive("z_score_threshold", self.z_score_threshold)?;
        positive("iqr_multiplier", self.iqr_multiplier)?;
        positive("early_warning_threshold", self.early_warning_threshold)?;
        positive("change_point_sensitivity", self.change_point_sensitivity)?;
        if self.vanishing_threshold >= self.exploding_threshold {
            return Err(CoreError::param(
                "vanishing_threshold",
                format!(
                    "must be below exploding_threshold ({}), got {}",
                    self.exploding_threshold, self.vanishing_threshold
                ),
            ));
        }
        if !(self.imbalance_threshold > 0.0 && self.imbalance_threshold < 1.0) {
            return Err(CoreError::param(
                "imbalance_threshold",
                format!("must lie in (0, 1), got {}", self.imbalance_threshold),
            ));
        }
        if !(self.smoothing_alpha > 0.0 && self.smoothing_alpha <= 1.0) {
            return Err(CoreError::param(
                "smoothing_alpha",
                format!("must lie in (0, 1], got {}", self.smoothing_alpha),
            ));
        }
        Ok(self)
    }
}
