//! Trackers: compositions of the core's estimators plus rules that raise anomaly events.
//!
//! Every tracker has one implementation behind two entry points: `update` per logged step
//! and a batch function over columns that calls the same `update`, so both give identical
//! metrics and events.

pub mod advantage;
pub mod event;
pub mod kl_schedule;

pub use event::{AnomalyEvent, EventLog, Finding, Severity};
