//! A recent horizon of records that the length-bias anomaly also looks at, so that a bias
//! that starts late in a run is seen before it dominates the whole window.
//!
//! Its correlation is kept in O(1) per record; the full analysis runs only while that
//! correlation is significant (a necessary condition of the anomaly), at most every
//! `EVERY` records.

use serde::{Deserialize, Serialize};

use super::analysis;
use super::window::PairWindow;
use super::{confirms, critical_correlation, LengthBiasMetrics};
use crate::state::{invalid, Validate};

/// Valid records between two analyses of a horizon while it stays significant.
const EVERY: usize = 4;

/// The last `capacity` records, their record-to-record changes, and the analysis of them
/// while their correlation is significant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Horizon {
    pairs: PairWindow,
    changes: PairWindow,
    /// |r| at which a full horizon is significant at the anomaly's level.
    critical_r: f64,
    /// The analysis of the horizon, while its correlation is significant.
    recent: Option<LengthBiasMetrics>,
    /// Valid records since `recent` was computed.
    since: usize,
    /// Whether the changes confirmed `recent` when it was made.
    confirmed: bool,
}

impl Horizon {
    /// An empty horizon of `capacity` (at least 2) records.
    pub(super) fn new(capacity: usize) -> Self {
        Horizon {
            pairs: PairWindow::new(capacity),
            changes: PairWindow::new(capacity - 1),
            critical_r: critical_correlation(capacity),
            recent: None,
            since: 0,
            confirmed: false,
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.pairs.capacity()
    }

    /// Adds a valid record and, when there is one, its change from the previous record.
    pub(super) fn push(&mut self, length: f64, reward: f64, change: Option<(f64, f64)>) {
        self.pairs.push(length, reward);
        if let Some((dl, dr)) = change {
            self.changes.push(dl, dr);
        }
        self.since += 1;
    }

    /// Re-analyses the horizon when it may hold evidence and is due; forgets the analysis
    /// once its correlation is no longer significant or while `useful` is false (the whole
    /// window is no longer than the horizon, which then adds nothing).
    pub(super) fn maybe_refresh(&mut self, useful: bool, whole_run_r: Option<f64>) {
        if !useful {
            self.forget();
            return;
        }
        let significant = self.pairs.is_full()
            && self
                .pairs
                .correlation()
                .is_some_and(|r| r.abs() >= self.critical_r);
        if !significant {
            self.forget();
        } else if self.recent.is_none() || self.since >= EVERY {
            let l: Vec<f64> = self.pairs.lengths().iter().collect();
            let r: Vec<f64> = self.pairs.rewards().iter().collect();
            let m = analysis::analyse(&r, &l, whole_run_r);
            self.confirmed = confirms(&self.changes, &m);
            self.recent = Some(m);
            self.since = 0;
        }
    }

    /// Drops the analysis (the horizon holds no evidence now, or is not the one in use).
    pub(super) fn forget(&mut self) {
        self.recent = None;
    }

    /// The analysis, if the record-to-record changes confirmed it.
    pub(super) fn confirmed(&self) -> Option<&LengthBiasMetrics> {
        self.recent.as_ref().filter(|_| self.confirmed)
    }
}

impl Validate for Horizon {
    fn validate(&self) -> Result<(), crate::error::CoreError> {
        self.pairs.validate()?;
        self.changes.validate()?;
        if self.changes.capacity() + 1 != self.pairs.capacity()
            || !(self.critical_r > 0.0 && self.critical_r <= 1.0)
        {
            return Err(invalid("length-bias horizon"));
        }
        Ok(())
    }
}
