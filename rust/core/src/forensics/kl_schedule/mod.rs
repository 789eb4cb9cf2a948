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
    check_same_len("steps and kl", steps.len(), kl.len())?;
    if let Some(c) = coef {
        check_same_len("kl and kl_coef", kl.len(), c.len())?;
    }
    // One allocation per column up front (`vec![v; k]` clones `v`, and a clone of an empty
    // vector has no capacity: the columns would grow by doubling).
    let mut cols: Vec<Vec<f64>> = (0..KL_NUMERIC_FIELDS.len())
        .map(|_| Vec::with_capacity(kl.len()))
        .collect();
    tracker.set_deferred_messages(true);
    for i in 0..kl.len() {
        // Snapshots the history would drop before the batch ends are not kept.
        let cap = tracker.config().history_size;
        tracker.set_history_recording(kl.len() - i <= cap);
        let row = tracker.update(steps[i], Some(kl[i]), coef.map(|c| c[i]));
        for (col, v) in cols.iter_mut().zip(row.numeric()) {
            col.push(v);
        }
    }
    tracker.set_deferred_messages(false);
    Ok(cols)
}

#[cfg(test)]
mod tests;
