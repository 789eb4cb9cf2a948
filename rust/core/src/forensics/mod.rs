//! Trackers: compositions of the core's estimators plus rules that raise anomaly events.
//!
//! Every tracker has one implementation behind two entry points: `update` per logged step
//! and a batch function over columns that calls the same `update`, so both give identical
//! metrics and events.

pub mod advantage;
mod columns;
pub mod comprehensive;
pub mod diagnosis;
pub mod event;
pub mod gradient;
pub mod kl_schedule;
pub mod length_bias;
pub mod ppo_scan;
pub mod signals;
pub mod small;
pub mod stride;
#[cfg(test)]
pub(crate) mod testing;

pub use event::{AnomalyEvent, EventLog, Finding, Severity};

use std::collections::VecDeque;

/// The latest update's snapshot of a tracker whose `history` kept it unless `history_off`
/// was set for that update: the kept one, shared, or else a copy of `latest`.
pub(crate) fn latest_snapshot<T: Clone>(
    history: &VecDeque<std::sync::Arc<T>>,
    history_off: bool,
    latest: &T,
) -> std::sync::Arc<T> {
    match history.back() {
        Some(kept) if !history_off => std::sync::Arc::clone(kept),
        _ => std::sync::Arc::new(latest.clone()),
    }
}

/// Appends a snapshot to a history that keeps at most `cap` (the oldest goes first).
pub(crate) fn push_capped<T>(history: &mut VecDeque<T>, item: T, cap: usize) {
    if history.len() == cap {
        history.pop_front();
    }
    history.push_back(item);
}
