//! Gradient-norm forensics: RLDK's `GradientNormsAnalyzer` on the core's estimators.

mod config;
mod metrics;
mod tracker;
mod window;

pub use config::GradientConfig;
pub use metrics::{GradientMetrics, GRADIENT_NUMERIC_FIELDS};
pub use tracker::GradientAnalyzer;

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
    for (what, col) in [
        ("steps and policy_grad_norm", policy),
        ("steps and value_grad_norm", value),
        ("steps and total_grad_norm", total),
    ] {
        if let Some(c) = col {
            check_same_len(what, steps.len(), c.len())?;
        }
    }
    // One allocation per column up front (`vec![v; k]` clones `v`, and a clone of an empty
    // vector has no capacity: the columns would grow by doubling).
    let mut cols: Vec<Vec<f64>> = (0..GRADIENT_NUMERIC_FIELDS.len())
        .map(|_| Vec::with_capacity(steps.len()))
        .collect();
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
        for (col, v) in cols.iter_mut().zip(row.numeric()) {
            col.push(v);
        }
    }
    Ok(cols)
}

#[cfg(test)]
mod tests;
