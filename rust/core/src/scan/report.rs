//! What a scan says about one run.

use std::path::PathBuf;

use crate::forensics::{AnomalyEvent, Severity};
use crate::ingest::InputProblem;

/// One anomaly of a run, from a tracker or a generic series check.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    /// Who raised it: `kl_schedule`, `gradient_norms`, `advantage_statistics`,
    /// `comprehensive`, `signals` (trainer-signal rules) or `series` (generic checks).
    pub source: &'static str,
    /// The anomaly `type`.
    pub kind: String,
    /// Highest severity while it held.
    pub severity: Severity,
    /// The metric, for generic checks.
    pub metric: Option<String>,
    /// Onset step.
    pub first_step: f64,
    /// Last step it held.
    pub last_step: f64,
    /// Evaluations at which it held.
    pub occurrences: u64,
    /// Latest value.
    pub value: f64,
    /// Threshold.
    pub threshold: Option<f64>,
    /// Message.
    pub message: String,
    /// Still holding at the end of the log.
    pub active: bool,
}

impl RunEvent {
    /// A tracker's event.
    pub fn from_tracker(source: &'static str, e: &AnomalyEvent) -> Self {
        RunEvent {
            source,
            kind: e.kind.clone(),
            severity: e.severity,
            metric: None,
            first_step: e.first_step,
            last_step: e.last_step,
            occurrences: e.occurrences,
            value: e.value,
            threshold: e.threshold,
            message: e.message.clone(),
            active: e.active,
        }
    }
}

/// The scan of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// The run's name (its path relative to the scanned path).
    pub id: String,
    /// Files read.
    pub files: Vec<PathBuf>,
    /// Files of the run in other formats, not read.
    pub skipped: Vec<PathBuf>,
    /// Format read.
    pub format: &'static str,
    /// Trainer family the keys point to.
    pub family: &'static str,
    /// Bytes read.
    pub bytes: u64,
    /// Training rows analysed.
    pub rows: usize,
    /// Evaluation entries (not analysed as steps).
    pub eval_rows: usize,
    /// First and last training step.
    pub step_range: Option<(f64, f64)>,
    /// Rows replaced by a later row of the same step (resumes).
    pub replaced_rows: u64,
    /// The KL target used (`None`: no band analysis).
    pub kl_target: Option<f64>,
    /// Canonical metric → source key, for the metrics found.
    pub metrics: Vec<(&'static str, String)>,
    /// Final scores (`None` without data).
    pub overall_health: Option<f64>,
    /// Training stability.
    pub training_stability: Option<f64>,
    /// Convergence quality.
    pub convergence_quality: Option<f64>,
    /// Anomalies, in order of onset.
    pub events: Vec<RunEvent>,
    /// Each event (index into `events`) with the events that began shortly before it and
    /// the first of its chain.
    pub diagnosis: Vec<crate::forensics::diagnosis::Links>,
    /// Steps within which an earlier event counts as preceding another: 50 logged rows at
    /// the run's median step stride (as the live forensics measure it).
    pub diagnosis_horizon: f64,
    /// Input problems, with the file each was found in.
    pub problems: Vec<(PathBuf, InputProblem)>,
    /// Remarks on what could not be analysed, and why.
    pub notes: Vec<String>,
}

impl RunReport {
    /// Critical events.
    pub fn critical(&self) -> usize {
        self.events
            .iter()
            .filter(|e| e.severity == Severity::Critical)
            .count()
    }

    /// Warning events.
    pub fn warnings(&self) -> usize {
        self.events
            .iter()
            .filter(|e| e.severity == Severity::Warning)
            .count()
    }

    /// A sort key that puts the worst runs first: critical events, then warnings, then
    /// lower health, then input problems.
    pub fn badness(&self) -> (usize, usize, i64, usize) {
        let health = self.overall_health.map_or(0, |h| (-(1.0 - h) * 1e6) as i64);
        (
            self.critical(),
            self.warnings(),
            -health,
            self.problems.len(),
        )
    }
}
