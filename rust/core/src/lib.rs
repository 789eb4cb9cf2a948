//! Numeric core of rlforensics: streaming estimators, trend fits, drift tests and
//! KL-controller analysis, written for millions of training steps.
//!
//! Conventions shared by every estimator in this crate:
//! - An estimator is plain state with `update` (one value) and `update_slice`, `merge` where
//!   merging is exact, and getters that return `Option<f64>`: `None` means "not enough data",
//!   never a plausible 0.0.
//! - Non-finite inputs (NaN, ±inf) are *missing*: they never enter a sum. Whole-run estimators
//!   count them (`nonfinite()`); windowed estimators keep the slot, so a window is always the
//!   last `window` observations, and a statistic needs `min_periods` finite ones (pandas'
//!   convention).
//! - Every state derives serde and round-trips through [`state::to_bytes`] / [`state::from_bytes`]
//!   so trackers can be pickled, checkpointed with a training run and merged across shards.
//! - Batch kernels (`*_batch` functions) drive the same update code as the streaming states,
//!   so per-step and batch results are bit-identical.

pub mod control;
pub mod drift;
pub mod error;
pub mod forensics;
pub mod ingest;
pub mod scan;
pub mod special;
pub mod state;
pub mod stats;
pub mod trend;

pub use error::{CoreError, Result};
