//! Comprehensive PPO forensics: RLDK's `ComprehensivePPOForensics` over the trackers.

mod batch;
mod config;
mod forensics;
mod metrics;
mod parts;

pub use batch::{comprehensive_batch, comprehensive_batch_into};
pub use config::ComprehensiveConfig;
pub use forensics::{ComprehensiveForensics, Layer, Parts, Trackers};
pub use metrics::{ComprehensiveMetrics, StepInput, COMPREHENSIVE_NUMERIC_FIELDS};

use crate::error::{check_same_len, Result};

/// Aligned input columns; a column that is `None` was not logged, NaN in a column is a
/// non-finite value. `response_reward`/`response_length` (both or neither) give one
/// response record per step.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepColumns<'a> {
    /// Logged steps (required).
    pub steps: &'a [f64],
    /// KL.
    pub kl: Option<&'a [f64]>,
    /// KL coefficient.
    pub kl_coef: Option<&'a [f64]>,
    /// Entropy.
    pub entropy: Option<&'a [f64]>,
    /// Mean reward.
    pub reward_mean: Option<&'a [f64]>,
    /// Reward spread.
    pub reward_std: Option<&'a [f64]>,
    /// Policy-gradient norm.
    pub policy_grad_norm: Option<&'a [f64]>,
    /// Value-gradient norm.
    pub value_grad_norm: Option<&'a [f64]>,
    /// Total gradient norm.
    pub total_grad_norm: Option<&'a [f64]>,
    /// Advantage mean.
    pub advantage_mean: Option<&'a [f64]>,
    /// Advantage std.
    pub advantage_std: Option<&'a [f64]>,
    /// Advantage min.
    pub advantage_min: Option<&'a [f64]>,
    /// Advantage max.
    pub advantage_max: Option<&'a [f64]>,
    /// Advantage median.
    pub advantage_median: Option<&'a [f64]>,
    /// Reward of the step's response record.
    pub response_reward: Option<&'a [f64]>,
    /// Length of the step's response record.
    pub response_length: Option<&'a [f64]>,
}

impl StepColumns<'_> {
    pub(super) fn check(&self) -> Result<()> {
        let n = self.steps.len();
        for (what, col) in [
            ("steps and kl", self.kl),
            ("steps and kl_coef", self.kl_coef),
            ("steps and entropy", self.entropy),
            ("steps and reward_mean", self.reward_mean),
            ("steps and reward_std", self.reward_std),
            ("steps and policy_grad_norm", self.policy_grad_norm),
            ("steps and value_grad_norm", self.value_grad_norm),
            ("steps and total_grad_norm", self.total_grad_norm),
            ("steps and advantage_mean", self.advantage_mean),
            ("steps and advantage_std", self.advantage_std),
            ("steps and advantage_min", self.advantage_min),
            ("steps and advantage_max", self.advantage_max),
            ("steps and advantage_median", self.advantage_median),
            ("steps and response_reward", self.response_reward),
            ("steps and response_length", self.response_length),
        ] {
            if let Some(c) = col {
                check_same_len(what, n, c.len())?;
            }
        }
        if self.response_reward.is_some() != self.response_length.is_some() {
            return Err(crate::error::CoreError::param(
                "response_reward",
                "give response_reward and response_length together, or neither",
            ));
        }
        Ok(())
    }

    /// Row `i` as the input of one `update`.
    pub fn row(&self, i: usize) -> StepInput {
        let at = |c: Option<&[f64]>| c.map(|c| c[i]);
        StepInput {
            step: self.steps[i],
            kl: at(self.kl),
            kl_coef: at(self.kl_coef),
            entropy: at(self.entropy),
            reward_mean: at(self.reward_mean),
            reward_std: at(self.reward_std),
            policy_grad_norm: at(self.policy_grad_norm),
            value_grad_norm: at(self.value_grad_norm),
            total_grad_norm: at(self.total_grad_norm),
            advantage_mean: at(self.advantage_mean),
            advantage_std: at(self.advantage_std),
            advantage_min: at(self.advantage_min),
            advantage_max: at(self.advantage_max),
            advantage_median: at(self.advantage_median),
        }
    }

    /// The step's response record, as `update` receives it (a non-finite reward or length
    /// is counted as invalid by the detector, exactly as on the per-step path).
    pub(super) fn response(&self, i: usize) -> Option<(f64, f64)> {
        Some((self.response_reward?[i], self.response_length?[i]))
    }
}

#[cfg(test)]
mod tests;
