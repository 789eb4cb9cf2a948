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
/// response record per step, or, with `response_counts`, the records of every step one
/// after the other (step `i` has the next `response_counts[i]` of them).
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
    /// Response records per step (whole numbers ≥ 0, as floats), when steps have batches.
    pub response_counts: Option<&'a [f64]>,
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
            ("steps and response_counts", self.response_counts),
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
        let records = match self.response_counts {
            None => n,
            Some(counts) => {
                if self.response_reward.is_none() {
                    return Err(crate::error::CoreError::param(
                        "response_counts",
                        "count the records of response_reward and response_length; give them too",
                    ));
                }
                let mut total = 0usize;
                for (i, &c) in counts.iter().enumerate() {
                    if !(c >= 0.0 && c.fract() == 0.0 && c < 1e15) {
                        return Err(crate::error::CoreError::param(
                            "response_counts",
                            format!("must be whole numbers >= 0, got {c} at row {i}"),
                        ));
                    }
                    total += c as usize;
                }
                total
            }
        };
        for (what, col) in [
            ("response records and response_reward", self.response_reward),
            ("response records and response_length", self.response_length),
        ] {
            if let Some(c) = col {
                check_same_len(what, records, c.len())?;
            }
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

    /// Where the response records of rows `rows` start among the flat records, and where
    /// the last row's end, given that the first row's start at `first` (the rows are fed
    /// in order, so the caller carries that on from the rows before).
    pub(super) fn response_starts(&self, rows: std::ops::Range<usize>, first: usize) -> Vec<usize> {
        let Some(counts) = self.response_counts else {
            // One record per row: row i's is record i.
            return (rows.start..=rows.end).collect();
        };
        let mut starts = Vec::with_capacity(rows.len() + 1);
        starts.push(first);
        for &c in &counts[rows] {
            starts.push(starts[starts.len() - 1] + c as usize);
        }
        starts
    }

    /// The records from flat index `from` to `to` into `buf` (emptied first).
    pub(super) fn responses_into(&self, from: usize, to: usize, buf: &mut Vec<(f64, f64)>) {
        buf.clear();
        if let (Some(r), Some(l)) = (self.response_reward, self.response_length) {
            buf.extend(r[from..to].iter().copied().zip(l[from..to].iter().copied()));
        }
    }
}

#[cfg(test)]
mod tests;
