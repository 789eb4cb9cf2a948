//! The per-step snapshot of the KL-schedule tracker: RLDK's 27 `KLScheduleMetrics` fields,
//! with "not enough data yet" as `None` instead of a made-up perfect score.

use serde::{Deserialize, Serialize};

use crate::control::ControllerKind;

/// Direction of the recent drift scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DriftTrend {
    /// Neither rising nor falling.
    Stable,
    /// Drift scores rising.
    Increasing,
    /// Drift scores falling.
    Decreasing,
}

impl DriftTrend {
    /// RLDK's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftTrend::Stable => "stable",
            DriftTrend::Increasing => "increasing",
            DriftTrend::Decreasing => "decreasing",
        }
    }
}

/// One snapshot. Field names are RLDK's; the meaning of each is documented where it differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KlScheduleMetrics {
    /// Logged step of the latest update (not an RLDK field).
    pub step: f64,
    /// Latest KL as given (NaN stays NaN; `None` before any).
    pub current_kl: Option<f64>,
    /// Latest coefficient as given (`None` when not logged).
    pub current_kl_coef: Option<f64>,
    /// The configured target.
    pub kl_target: f64,
    /// OLS slope of KL per logged step over the last `trend_window` finite values.
    pub kl_trend: Option<f64>,
    /// Sample std of the last 10 finite KL values.
    pub kl_volatility: Option<f64>,
    /// Fraction of all finite KL values so far inside the band (dead field in RLDK).
    pub kl_controller_performance: Option<f64>,
    /// Fraction of the last `window_size` finite KL values inside the band.
    pub time_in_target_range: Option<f64>,
    /// Of those, the number outside the band.
    pub target_range_violations: u64,
    /// 1 − violations / n (equal to `time_in_target_range`, as in RLDK).
    pub target_range_stability: Option<f64>,
    /// Correlation of the error with the following change of ln(coef) over the controller
    /// window, floored at 0; `None` when the coefficient is fixed (no controller).
    pub controller_responsiveness: Option<f64>,
    /// Largest overshoot in the controller window: (peak |kl − target| − tolerance) / target
    /// of an excursion that crossed the target; 0 when none did.
    pub controller_overshoot: Option<f64>,
    /// Sign changes of kl − target beyond the band per sample, over the controller window.
    pub controller_oscillation: Option<f64>,
    /// Mean |Δcoef| over the last 10 coefficients.
    pub coef_change_rate: Option<f64>,
    /// Correlation of the signed error with the next change of ln(coef) over the last 10
    /// samples, clamped to [0, 1]; `None` when the coefficient did not change.
    pub coef_adaptation_quality: Option<f64>,
    /// 1 − min(coefficient of variation of the last 10 coefficients, 1).
    pub coef_stability: Option<f64>,
    /// Weighted KL health from the parts that have data.
    pub kl_health_score: Option<f64>,
    /// Weighted controller health from the parts that have data.
    pub schedule_health_score: Option<f64>,
    /// 1 − exp(−divergence / drift_threshold).
    pub kl_drift_score: Option<f64>,
    /// Corrected divergence above the threshold and the KS test significant.
    pub kl_drift_detected: bool,
    /// Alias of `kl_reference_mean` (RLDK's backward-compatible name).
    pub kl_distribution_mean: Option<f64>,
    /// Alias of `kl_reference_std`.
    pub kl_distribution_std: Option<f64>,
    /// Mean of the frozen reference.
    pub kl_reference_mean: Option<f64>,
    /// Sample std of the frozen reference.
    pub kl_reference_std: Option<f64>,
    /// Mean of the current drift window (values after the reference only).
    pub kl_current_mean: Option<f64>,
    /// Sample std of the current drift window.
    pub kl_current_std: Option<f64>,
    /// Direction of the last 10 drift scores.
    pub kl_drift_trend: DriftTrend,
    /// Bias-corrected histogram KL(current ‖ reference), floored at 0.
    pub kl_drift_kl_divergence: Option<f64>,
    /// Controller kind over the controller window.
    pub controller_kind: ControllerKind,
    /// Non-finite KL values seen.
    pub nonfinite_kl_count: u64,
}

impl KlScheduleMetrics {
    /// The snapshot before any update.
    pub fn empty(kl_target: f64) -> Self {
        KlScheduleMetrics {
            step: f64::NAN,
            current_kl: None,
            current_kl_coef: None,
            kl_target,
            kl_trend: None,
            kl_volatility: None,
            kl_controller_performance: None,
            time_in_target_range: None,
            target_range_violations: 0,
            target_range_stability: None,
            controller_responsiveness: None,
            controller_overshoot: None,
            controller_oscillation: None,
            coef_change_rate: None,
            coef_adaptation_quality: None,
            coef_stability: None,
            kl_health_score: None,
            schedule_health_score: None,
            kl_drift_score: None,
            kl_drift_detected: false,
            kl_distribution_mean: None,
            kl_distribution_std: None,
            kl_reference_mean: None,
            kl_reference_std: None,
            kl_current_mean: None,
            kl_current_std: None,
            kl_drift_trend: DriftTrend::Stable,
            kl_drift_kl_divergence: None,
            controller_kind: ControllerKind::Unknown,
            nonfinite_kl_count: 0,
        }
    }
}

/// Names of [`KlScheduleMetrics::numeric`]'s columns, in order.
pub const KL_NUMERIC_FIELDS: [&str; 30] = [
    "step",
    "current_kl",
    "current_kl_coef",
    "kl_target",
    "kl_trend",
    "kl_volatility",
    "kl_controller_performance",
    "time_in_target_range",
    "target_range_violations",
    "target_range_stability",
    "controller_responsiveness",
    "controller_overshoot",
    "controller_oscillation",
    "coef_change_rate",
    "coef_adaptation_quality",
    "coef_stability",
    "kl_health_score",
    "schedule_health_score",
    "kl_drift_score",
    "kl_drift_detected",
    "kl_distribution_mean",
    "kl_distribution_std",
    "kl_reference_mean",
    "kl_reference_std",
    "kl_current_mean",
    "kl_current_std",
    "kl_drift_trend",
    "kl_drift_kl_divergence",
    "controller_kind",
    "nonfinite_kl_count",
];

/// Codes of `kl_drift_trend` in the numeric columns.
pub const DRIFT_TREND_CODES: [DriftTrend; 3] = [
    DriftTrend::Stable,
    DriftTrend::Increasing,
    DriftTrend::Decreasing,
];
/// Codes of `controller_kind` in the numeric columns.
pub const CONTROLLER_KIND_CODES: [ControllerKind; 3] = [
    ControllerKind::Unknown,
    ControllerKind::Fixed,
    ControllerKind::Adaptive,
];

impl KlScheduleMetrics {
    /// Every field as a number, in the order of [`KL_NUMERIC_FIELDS`]: `None` is NaN, a bool
    /// is 0/1 and the two enums are their index in [`DRIFT_TREND_CODES`] /
    /// [`CONTROLLER_KIND_CODES`].
    pub fn numeric(&self) -> [f64; 30] {
        let o = |v: Option<f64>| v.unwrap_or(f64::NAN);
        let trend = DRIFT_TREND_CODES
            .iter()
            .position(|t| *t == self.kl_drift_trend)
            .unwrap_or(0);
        let kind = CONTROLLER_KIND_CODES
            .iter()
            .position(|k| *k == self.controller_kind)
            .unwrap_or(0);
        [
            self.step,
            o(self.current_kl),
            o(self.current_kl_coef),
            self.kl_target,
            o(self.kl_trend),
            o(self.kl_volatility),
            o(self.kl_controller_performance),
            o(self.time_in_target_range),
            self.target_range_violations as f64,
            o(self.target_range_stability),
            o(self.controller_responsiveness),
            o(self.controller_overshoot),
            o(self.controller_oscillation),
            o(self.coef_change_rate),
            o(self.coef_adaptation_quality),
            o(self.coef_stability),
            o(self.kl_health_score),
            o(self.schedule_health_score),
            o(self.kl_drift_score),
            f64::from(u8::from(self.kl_drift_detected)),
            o(self.kl_distribution_mean),
            o(self.kl_distribution_std),
            o(self.kl_reference_mean),
            o(self.kl_reference_std),
            o(self.kl_current_mean),
            o(self.kl_current_std),
            trend as f64,
            o(self.kl_drift_kl_divergence),
            kind as f64,
            self.nonfinite_kl_count as f64,
        ]
    }
}
