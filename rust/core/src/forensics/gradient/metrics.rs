//! The per-step snapshot of the gradient-norm analyzer: RLDK's 25 `GradientNormsMetrics`
//! fields, with "not enough data yet" as `None`.

use serde::{Deserialize, Serialize};

/// One snapshot. Field names are RLDK's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientMetrics {
    /// Logged step of the latest update (not an RLDK field).
    pub step: f64,
    /// Latest policy-gradient norm as given.
    pub policy_grad_norm: Option<f64>,
    /// Latest value-gradient norm as given.
    pub value_grad_norm: Option<f64>,
    /// Latest total norm as given, or √(p² + v²) when only the parts were logged.
    pub total_grad_norm: Option<f64>,
    /// policy / value (`None` when either is missing or value is 0).
    pub policy_value_ratio: Option<f64>,
    /// policy / total.
    pub policy_total_ratio: Option<f64>,
    /// value / total.
    pub value_total_ratio: Option<f64>,
    /// Fraction of the last 10 totals inside [vanishing_threshold, exploding_threshold].
    pub gradient_flow_health: Option<f64>,
    /// Mean over the last 10 ratios of max(0, 1 − |log10 ratio|).
    pub gradient_balance: Option<f64>,
    /// 1 − coefficient of variation of the last 10 norms (policy and value averaged, or
    /// the total when there is no split), floored at 0.
    pub gradient_stability: Option<f64>,
    /// Least-squares slope of the policy norm per logged step over `trend_window`.
    pub policy_grad_trend: Option<f64>,
    /// The same for the value norm.
    pub value_grad_trend: Option<f64>,
    /// The same for the policy/value ratio.
    pub ratio_trend: Option<f64>,
    /// Fraction of the last 5 totals above `exploding_threshold`.
    pub exploding_gradient_risk: Option<f64>,
    /// Fraction of the last 5 totals below `vanishing_threshold`.
    pub vanishing_gradient_risk: Option<f64>,
    /// Fraction of the last 5 ratios outside [imbalance_threshold, 1/imbalance_threshold].
    pub gradient_imbalance_risk: Option<f64>,
    /// Fraction of the last 10 totals above the adaptive threshold learnt from the
    /// `window_size` totals before them.
    pub adaptive_explosion_risk: Option<f64>,
    /// Larger of the z-score and IQR outlier fractions of the last 10 totals.
    pub statistical_outlier_risk: Option<f64>,
    /// mean |Δtotal| / mean total × fraction of accelerating steps, capped at 1.
    pub momentum_instability_risk: Option<f64>,
    /// Weighted squared coefficient of variation over windows of 5, 15 and 30.
    pub multi_scale_anomaly_risk: Option<f64>,
    /// Falling health plus instability, in [0, 1].
    pub early_warning_score: Option<f64>,
    /// Slope per logged step of the last 5 exponentially smoothed totals.
    pub exponential_smoothing_trend: Option<f64>,
    /// A significant shift of the total's level within the last 15 samples.
    pub change_point_detected: bool,
    /// Mean second difference of the total over the momentum window.
    pub gradient_acceleration: Option<f64>,
    /// Weighted gradient health from the parts that have data.
    pub gradient_health_score: Option<f64>,
    /// Weighted training stability from the parts that have data.
    pub training_stability: Option<f64>,
    /// Non-finite norms seen.
    pub nonfinite_count: u64,
}

impl GradientMetrics {
    /// The snapshot before any update.
    pub fn empty() -> Self {
        GradientMetrics {
            step: f64::NAN,
            policy_grad_norm: None,
            value_grad_norm: None,
            total_grad_norm: None,
            policy_value_ratio: None,
            policy_total_ratio: None,
            value_total_ratio: None,
            gradient_flow_health: None,
            gradient_balance: None,
            gradient_stability: None,
            policy_grad_trend: None,
            value_grad_trend: None,
            ratio_trend: None,
            exploding_gradient_risk: None,
            vanishing_gradient_risk: None,
            gradient_imbalance_risk: None,
            adaptive_explosion_risk: None,
            statistical_outlier_risk: None,
            momentum_instability_risk: None,
            multi_scale_anomaly_risk: None,
            early_warning_score: None,
            exponential_smoothing_trend: None,
            change_point_detected: false,
            gradient_acceleration: None,
            gradient_health_score: None,
            training_stability: None,
            nonfinite_count: 0,
        }
    }

    /// Every field as a number, in the order of [`GRADIENT_NUMERIC_FIELDS`] (`None` is NaN,
    /// the bool 0/1).
    pub fn numeric(&self) -> [f64; 27] {
        let o = |v: Option<f64>| v.unwrap_or(f64::NAN);
        [
            self.step,
            o(self.policy_grad_norm),
            o(self.value_grad_norm),
            o(self.total_grad_norm),
            o(self.policy_value_ratio),
            o(self.policy_total_ratio),
            o(self.value_total_ratio),
            o(self.gradient_flow_health),
            o(self.gradient_balance),
            o(self.gradient_stability),
            o(self.policy_grad_trend),
            o(self.value_grad_trend),
            o(self.ratio_trend),
            o(self.exploding_gradient_risk),
            o(self.vanishing_gradient_risk),
            o(self.gradient_imbalance_risk),
            o(self.adaptive_explosion_risk),
            o(self.statistical_outlier_risk),
            o(self.momentum_instability_risk),
            o(self.multi_scale_anomaly_risk),
            o(self.early_warning_score),
            o(self.exponential_smoothing_trend),
            f64::from(u8::from(self.change_point_detected)),
            o(self.gradient_acceleration),
            o(self.gradient_health_score),
            o(self.training_stability),
            self.nonfinite_count as f64,
        ]
    }
}

/// Names of [`GradientMetrics::numeric`]'s columns, in order.
pub const GRADIENT_NUMERIC_FIELDS: [&str; 27] = [
    "step",
    "policy_grad_norm",
    "value_grad_norm",
    "total_grad_norm",
    "policy_value_ratio",
    "policy_total_ratio",
    "value_total_ratio",
    "gradient_flow_health",
    "gradient_balance",
    "gradient_stability",
    "policy_grad_trend",
    "value_grad_trend",
    "ratio_trend",
    "exploding_gradient_risk",
    "vanishing_gradient_risk",
    "gradient_imbalance_risk",
    "adaptive_explosion_risk",
    "statistical_outlier_risk",
    "momentum_instability_risk",
    "multi_scale_anomaly_risk",
    "early_warning_score",
    "exponential_smoothing_trend",
    "change_point_detected",
    "gradient_acceleration",
    "gradient_health_score",
    "training_stability",
    "nonfinite_count",
];
