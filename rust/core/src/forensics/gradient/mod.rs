//! Gradient-norm forensics: RLDK's `GradientNormsAnalyzer` on the core's estimators.

mod config;
mod metrics;
mod tracker;
mod window;

pub use config::GradientConfig;
pub use metrics::{GradientMetrics, GRADIENT_NUMERIC_FIELDS};
pub use tracker::GradientAnalyzer;

use super::columns::{check_columns, collect_columns, write_row};
use crate::error::{check_same_len, Result};

/// Feeds aligned columns to `analyzer` row by row (as [`GradientAnalyzer::update`]) and
/// returns each row's metrics as columns in the order of [`GRADIENT_NUMERIC_FIELDS`]. A
/// column that is `None` was not logged; NaN in a column is a non-finite value.
pub fn gradient_batch(
    analyzer: &mut GradientAnalyzer,
    steps: &[f64],
    policy: Option<&[f64]>,
    value: Option<&[f64]>,
    total: Option<&[f64]>,
) -> Result<Vec<Vec<f64>>> {
    collect_columns(GRADIENT_NUMERIC_FIELDS.len(), steps.len(), |out| {
        gradient_batch_into(analyzer, steps, policy, value, total, out)
    })
}

/// [`gradient_batch`] writing into `out`: one column per field of
/// [`GRADIENT_NUMERIC_FIELDS`], each as long as `steps`. Nothing is fed on a length mismatch.
pub fn gradient_batch_into(
    analyzer: &mut GradientAnalyzer,
    steps: &[f64],
    policy: Option<&[f64]>,
    value: Option<&[f64]>,
    total: Option<&[f64]>,
    out: &mut [&mut [f64]],
) -> Result<()> {
    for (what, col) in [
        ("steps and policy_grad_norm", policy),
        ("steps and value_grad_norm", value),
        ("steps and total_grad_norm", total),
    ] {
        if let Some(c) = col {
            check_same_len(what, steps.len(), c.len())?;
        }
    }
    check_columns(out, GRADIENT_NUMERIC_FIELDS.len(), steps.len())?;
    for i in 0..steps.len() {
        // Snapshots the history would drop before the batch ends are not kept.
        let cap = analyzer.config().history_size;
        analyzer.set_history_recording(steps.len() - i <= cap);
        let row = analyzer.update(
            steps[i],
            policy.map(|c| c[i]),
            value.map(|c| c[i]),
            total.map(|c| c[i]),
        );
        write_row(out, i, row.numeric());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
