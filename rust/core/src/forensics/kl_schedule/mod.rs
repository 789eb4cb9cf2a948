//! KL-schedule forensics: RLDK's `KLScheduleTracker` on the core's estimators.

mod coefficient;
mod config;
mod controller_window;
mod fixed;
mod metrics;
mod tracker;

pub use config::KlScheduleConfig;
pub use metrics::{
    DriftTrend, KlScheduleMetrics, CONTROLLER_KIND_CODES, DRIFT_TREND_CODES, KL_NUMERIC_FIELDS,
};
pub use tracker::{
    DriftDetails, KlScheduleTracker, ADAPTATION_LIMIT, OSCILLATION_LIMIT, OVERSHOOT_LIMIT,
    RESPONSIVENESS_LIMIT, TREND_MIN_R2,
};

use super::columns::{check_columns, collect_columns, write_row};
use crate::error::{check_same_len, Result};

/// Feeds aligned columns to `tracker` row by row (exactly as [`KlScheduleTracker::update`]
/// would be called) and returns every row's metrics as columns in the order of
/// [`KL_NUMERIC_FIELDS`]. A NaN KL or coefficient is a non-finite value, reported as such;
/// `coef = None` means no coefficient was logged.
pub fn kl_schedule_batch(
    tracker: &mut KlScheduleTracker,
    steps: &[f64],
    kl: &[f64],
    coef: Option<&[f64]>,
) -> Result<Vec<Vec<f64>>> {
    collect_columns(KL_NUMERIC_FIELDS.len(), kl.len(), |out| {
        kl_schedule_batch_into(tracker, steps, kl, coef, out)
    })
}

/// [`kl_schedule_batch`] writing into `out`: one column per field of
/// [`KL_NUMERIC_FIELDS`], each as long as `kl`. Nothing is fed on a length mismatch.
pub fn kl_schedule_batch_into(
    tracker: &mut KlScheduleTracker,
    steps: &[f64],
    kl: &[f64],
    coef: Option<&[f64]>,
    out: &mut [&mut [f64]],
) -> Result<()> {
    check_same_len("steps and kl", steps.len(), kl.len())?;
    if let Some(c) = coef {
        check_same_len("kl and kl_coef", kl.len(), c.len())?;
    }
    check_columns(out, KL_NUMERIC_FIELDS.len(), kl.len())?;
    tracker.set_deferred_messages(true);
    for i in 0..kl.len() {
        // Snapshots the history would drop before the batch ends are not kept.
        let cap = tracker.config().history_size;
        tracker.set_history_recording(kl.len() - i <= cap);
        let row = tracker.update(steps[i], Some(kl[i]), coef.map(|c| c[i]));
        write_row(out, i, row.numeric());
    }
    tracker.set_deferred_messages(false);
    Ok(())
}

#[cfg(test)]
mod tests;
