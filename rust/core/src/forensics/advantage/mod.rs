//! Advantage forensics: RLDK's `AdvantageStatisticsTracker` on the core's estimators.

mod config;
mod metrics;
mod tracker;

pub use config::AdvantageConfig;
pub use metrics::{AdvantageMetrics, ADVANTAGE_NUMERIC_FIELDS, PERCENTILES};
pub use tracker::{
    AdvantageInput, AdvantageTracker, BIAS_RISK_CRITICAL, BIAS_RISK_LIMIT, COLLAPSE_CRITICAL,
    COLLAPSE_RATIO, DISTRIBUTION_RISK_LIMIT, KURTOSIS_LIMIT, NORMALIZATION_LIMIT, SCALE_RISK_LIMIT,
    SKEWNESS_LIMIT, TREND_MIN_R2, VOLATILITY_LIMIT,
};

use super::columns::{check_columns, collect_columns, write_row};
use crate::error::{check_same_len, Result};

/// Optional per-row columns of [`advantage_batch`] that are echoed, not analysed.
#[derive(Debug, Clone, Copy, Default)]
pub struct EchoColumns<'a> {
    /// Batch minima.
    pub min: Option<&'a [f64]>,
    /// Batch maxima.
    pub max: Option<&'a [f64]>,
    /// Batch medians.
    pub median: Option<&'a [f64]>,
}

/// Feeds aligned columns to `tracker` row by row (exactly as [`AdvantageTracker::update`]
/// would be called) and returns every row's metrics as columns in the order of
/// [`ADVANTAGE_NUMERIC_FIELDS`]. A NaN mean or std is a non-finite value, reported as such;
/// an absent echo column means that value was not logged.
pub fn advantage_batch(
    tracker: &mut AdvantageTracker,
    steps: &[f64],
    mean: &[f64],
    std: &[f64],
    echo: EchoColumns<'_>,
) -> Result<Vec<Vec<f64>>> {
    collect_columns(ADVANTAGE_NUMERIC_FIELDS.len(), mean.len(), |out| {
        advantage_batch_into(tracker, steps, mean, std, echo, out)
    })
}

/// [`advantage_batch`] writing into `out`: one column per field of
/// [`ADVANTAGE_NUMERIC_FIELDS`], each as long as `mean`. Nothing is fed on a length mismatch.
pub fn advantage_batch_into(
    tracker: &mut AdvantageTracker,
    steps: &[f64],
    mean: &[f64],
    std: &[f64],
    echo: EchoColumns<'_>,
    out: &mut [&mut [f64]],
) -> Result<()> {
    check_same_len("steps and advantage_mean", steps.len(), mean.len())?;
    check_same_len("advantage_mean and advantage_std", mean.len(), std.len())?;
    for (what, col) in [
        ("advantage_mean and advantage_min", echo.min),
        ("advantage_mean and advantage_max", echo.max),
        ("advantage_mean and advantage_median", echo.median),
    ] {
        if let Some(c) = col {
            check_same_len(what, mean.len(), c.len())?;
        }
    }
    check_columns(out, ADVANTAGE_NUMERIC_FIELDS.len(), mean.len())?;
    for i in 0..mean.len() {
        // Snapshots the history would drop before the batch ends are not kept.
        let cap = tracker.config().history_size;
        tracker.set_history_recording(mean.len() - i <= cap);
        let input = AdvantageInput {
            mean: Some(mean[i]),
            std: Some(std[i]),
            min: echo.min.map(|c| c[i]),
            max: echo.max.map(|c| c[i]),
            median: echo.median.map(|c| c[i]),
            samples: None,
        };
        let row = tracker.update(steps[i], &input);
        write_row(out, i, row.numeric());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
