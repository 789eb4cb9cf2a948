//! Parameters of the comprehensive forensics (RLDK's `ComprehensivePPOForensics`).

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::forensics::advantage::AdvantageConfig;
use crate::forensics::event::{DEFAULT_CAPACITY, DEFAULT_RELEASE};
use crate::forensics::gradient::GradientConfig;
use crate::forensics::kl_schedule::KlScheduleConfig;

/// Forensics parameters; [`ComprehensiveConfig::default`] gives RLDK's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ComprehensiveConfig {
    /// KL target of the KL tracker.
    pub kl_target: f64,
    /// Half-width of its band.
    pub kl_target_tolerance: f64,
    /// Window of every tracker.
    pub window_size: usize,
    /// Whether the KL tracker runs.
    pub enable_kl_schedule_tracking: bool,
    /// Whether the gradient analyzer runs.
    pub enable_gradient_norms_analysis: bool,
    /// Whether the advantage tracker runs.
    pub enable_advantage_statistics: bool,
    /// Whether the KL tracker tracks drift.
    pub enable_kl_drift_tracking: bool,
    /// Drift threshold of the KL tracker.
    pub kl_drift_threshold: f64,
    /// Drift window of the KL tracker.
    pub kl_drift_window_size: usize,
    /// Drift reference of the KL tracker.
    pub kl_drift_reference_period: usize,
    /// Whether length bias is analysed.
    pub enable_length_bias_detection: bool,
    /// Severity at which length bias counts as detected.
    pub length_bias_threshold: f64,
    /// Recent valid records behind the rank and quartile statistics of length bias.
    pub length_bias_window: usize,
    /// Clear evaluations that end an anomaly event.
    pub event_release: u32,
    /// Anomaly events kept per tracker.
    pub max_events: usize,
    /// Per-step snapshots kept.
    pub history_size: usize,
}

impl Default for ComprehensiveConfig {
    fn default() -> Self {
        ComprehensiveConfig {
            kl_target: 0.1,
            kl_target_tolerance: 0.05,
            window_size: 100,
            enable_kl_schedule_tracking: true,
            enable_gradient_norms_analysis: true,
            enable_advantage_statistics: true,
            enable_kl_drift_tracking: true,
            kl_drift_threshold: 0.15,
            kl_drift_window_size: 100,
            kl_drift_reference_period: 500,
            enable_length_bias_detection: true,
            length_bias_threshold: 0.35,
            length_bias_window: 1024,
            event_release: DEFAULT_RELEASE,
            max_events: DEFAULT_CAPACITY,
            history_size: 10_000,
        }
    }
}

impl ComprehensiveConfig {
    /// Checks the parameters that only this layer owns (the trackers check theirs).
    pub fn validated(self) -> Result<Self> {
        if self.history_size == 0 {
            return Err(CoreError::param(
                "history_size",
                "must be at least 1, got 0",
            ));
        }
        Ok(self)
    }

    /// The KL tracker's parameters (RLDK: window from here, trend/controller defaults).
    pub fn kl(&self) -> KlScheduleConfig {
        KlScheduleConfig {
            kl_target: self.kl_target,
            kl_target_tolerance: self.kl_target_tolerance,
            window_size: self.window_size,
            drift_threshold: self.kl_drift_threshold,
            drift_window_size: self.kl_drift_window_size,
            reference_period: self.kl_drift_reference_period,
            enable_drift_tracking: self.enable_kl_drift_tracking,
            event_release: self.event_release,
            max_events: self.max_events,
            history_size: self.history_size,
            ..KlScheduleConfig::default()
        }
    }

    /// The advantage tracker's parameters (RLDK: window from here, the rest default).
    pub fn advantage(&self) -> AdvantageConfig {
        AdvantageConfig {
            window_size: self.window_size,
            event_release: self.event_release,
            max_events: self.max_events,
            history_size: self.history_size,
            ..AdvantageConfig::default()
        }
    }

    /// The gradient analyzer's parameters (RLDK: window from here, the rest default).
    pub fn gradient(&self) -> GradientConfig {
        GradientConfig {
            window_size: self.window_size,
            event_release: self.event_release,
            max_events: self.max_events,
            history_size: self.history_size,
            ..GradientConfig::default()
        }
    }
}
