//! Comprehensive PPO forensics: RLDK's `ComprehensivePPOForensics` over the trackers.

mod config;
mod forensics;
mod metrics;

pub use config::ComprehensiveConfig;
pub use forensics::{ComprehensiveForensics, Layer, Parts, Trackers};
pub use metrics::{ComprehensiveMetrics, StepInput, COMPREHENSIVE_NUMERIC_FIELDS};

use super::columns::{check_columns, collect_columns, write_row};
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
    fn check(&self) -> Result<()> {
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
    fn response(&self, i: usize) -> Option<(f64, f64)> {
        Some((self.response_reward?[i], self.response_length?[i]))
    }
}

/// Feeds the columns row by row (as [`ComprehensiveForensics::update`]) and returns each
/// row's scalar metrics as columns in the order of [`COMPREHENSIVE_NUMERIC_FIELDS`].
pub fn comprehensive_batch(
    forensics: &mut ComprehensiveForensics,
    cols: &StepColumns<'_>,
) -> Result<Vec<Vec<f64>>> {
    collect_columns(
        COMPREHENSIVE_NUMERIC_FIELDS.len(),
        cols.steps.len(),
        |out| comprehensive_batch_into(forensics, cols, out),
    )
}

/// [`comprehensive_batch`] writing into `out`: one column per field of
/// [`COMPREHENSIVE_NUMERIC_FIELDS`], each as long as `cols.steps`. Nothing is fed on a
/// length mismatch.
pub fn comprehensive_batch_into(
    forensics: &mut ComprehensiveForensics,
    cols: &StepColumns<'_>,
    out: &mut [&mut [f64]],
) -> Result<()> {
    cols.check()?;
    let n = cols.steps.len();
    check_columns(out, COMPREHENSIVE_NUMERIC_FIELDS.len(), n)?;
    // Event messages are replaced at every step their condition holds: only the last one
    // of each event is seen, so those that can be are written once, when the batch ends.
    forensics.set_deferred_messages(true);
    for i in 0..n {
        forensics.record_history_for_remaining(n - i);
        let response = cols.response(i);
        let row = forensics.update(cols.row(i), None, response.as_slice());
        write_row(out, i, row.numeric());
    }
    forensics.set_deferred_messages(false);
    Ok(())
}

#[cfg(test)]
mod tests;
