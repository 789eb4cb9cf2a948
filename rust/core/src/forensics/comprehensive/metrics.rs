//! The per-step snapshot of the comprehensive forensics: RLDK's `ComprehensivePPOMetrics`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::forensics::advantage::AdvantageMetrics;
use crate::forensics::gradient::GradientMetrics;
use crate::forensics::kl_schedule::KlScheduleMetrics;
use crate::forensics::length_bias::LengthBiasMetrics;

/// What one logged step carried. `None` means the step did not log it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StepInput {
    /// Logged step.
    pub step: f64,
    /// KL.
    pub kl: Option<f64>,
    /// KL coefficient.
    pub kl_coef: Option<f64>,
    /// Policy entropy.
    pub entropy: Option<f64>,
    /// Mean reward.
    pub reward_mean: Option<f64>,
    /// Reward spread.
    pub reward_std: Option<f64>,
    /// Policy-gradient norm.
    pub policy_grad_norm: Option<f64>,
    /// Value-gradient norm.
    pub value_grad_norm: Option<f64>,
    /// Total gradient norm.
    pub total_grad_norm: Option<f64>,
    /// Advantage mean.
    pub advantage_mean: Option<f64>,
    /// Advantage std.
    pub advantage_std: Option<f64>,
    /// Advantage min.
    pub advantage_min: Option<f64>,
    /// Advantage max.
    pub advantage_max: Option<f64>,
    /// Advantage median.
    pub advantage_median: Option<f64>,
}

/// One snapshot: the inputs as given, the trackers updated at this step, the overall
/// scores and the length-bias mirror fields. The nested analyses are shared (`Arc`), so
/// that keeping a snapshot per step does not copy them again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComprehensiveMetrics {
    /// The inputs of this step.
    pub input: StepInput,
    /// The KL tracker's snapshot, when it was updated at this step.
    pub kl_schedule_metrics: Option<Arc<KlScheduleMetrics>>,
    /// The gradient analyzer's snapshot, when it was updated at this step.
    pub gradient_norms_metrics: Option<Arc<GradientMetrics>>,
    /// The advantage tracker's snapshot, when it was updated at this step.
    pub advantage_statistics_metrics: Option<Arc<AdvantageMetrics>>,
    /// Mean of the trackers' health scores that have data.
    pub overall_health_score: Option<f64>,
    /// Mean of target-range stability, 1 − KL drift score and gradient training stability.
    pub training_stability_score: Option<f64>,
    /// Mean of the advantage quality score (and later convergence signals) that have data.
    pub convergence_quality_score: Option<f64>,
    /// Length-bias severity.
    pub length_bias_score: Option<f64>,
    /// Pearson correlation of length and reward.
    pub length_reward_correlation: Option<f64>,
    /// Spearman correlation of length and reward.
    pub length_reward_spearman: Option<f64>,
    /// Mean response length.
    pub mean_response_length: Option<f64>,
    /// Severity at or above the threshold.
    pub length_bias_detected: bool,
    /// The threshold (when length bias is enabled).
    pub length_bias_threshold: Option<f64>,
    /// RLDK's correlation threshold (when enabled).
    pub length_bias_corr_threshold: Option<f64>,
    /// The length-bias analysis behind these fields (when enabled), shared with the
    /// detector and every snapshot taken since it was last refreshed.
    pub length_bias_metrics: Option<Arc<LengthBiasMetrics>>,
}

impl ComprehensiveMetrics {
    /// The snapshot before any update.
    pub fn empty(length_thresholds: Option<(f64, f64)>) -> Self {
        ComprehensiveMetrics {
            input: StepInput {
                step: f64::NAN,
                ..StepInput::default()
            },
            kl_schedule_metrics: None,
            gradient_norms_metrics: None,
            advantage_statistics_metrics: None,
            overall_health_score: None,
            training_stability_score: None,
            convergence_quality_score: None,
            length_bias_score: None,
            length_reward_correlation: None,
            length_reward_spearman: None,
            mean_response_length: None,
            length_bias_detected: false,
            length_bias_threshold: length_thresholds.map(|t| t.0),
            length_bias_corr_threshold: length_thresholds.map(|t| t.1),
            length_bias_metrics: None,
        }
    }

    /// The scalar fields as numbers, in the order of [`COMPREHENSIVE_NUMERIC_FIELDS`]
    /// (`None` is NaN, the bool 0/1).
    pub fn numeric(&self) -> [f64; 18] {
        let o = |v: Option<f64>| v.unwrap_or(f64::NAN);
        let i = &self.input;
        [
            i.step,
            o(i.kl),
            o(i.kl_coef),
            o(i.entropy),
            o(i.reward_mean),
            o(i.reward_std),
            o(self.overall_health_score),
            o(self.training_stability_score),
            o(self.convergence_quality_score),
            o(self.length_bias_score),
            o(self.length_reward_correlation),
            o(self.length_reward_spearman),
            o(self.length_reward_correlation.map(f64::abs)),
            o(self.length_reward_spearman.map(f64::abs)),
            o(self.mean_response_length),
            f64::from(u8::from(self.length_bias_detected)),
            o(self.length_bias_threshold),
            o(self.length_bias_corr_threshold),
        ]
    }
}

/// Names of [`ComprehensiveMetrics::numeric`]'s columns (RLDK's flat keys).
pub const COMPREHENSIVE_NUMERIC_FIELDS: [&str; 18] = [
    "step",
    "kl",
    "kl_coef",
    "entropy",
    "reward_mean",
    "reward_std",
    "overall_health_score",
    "training_stability_score",
    "convergence_quality_score",
    "length_bias_score",
    "length_reward_correlation",
    "length_reward_spearman",
    "length_reward_correlation_abs",
    "length_reward_spearman_abs",
    "mean_response_length",
    "length_bias_detected",
    "length_bias_threshold",
    "length_bias_corr_threshold",
];
