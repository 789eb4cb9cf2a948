//! Anomalies as events: a condition that stays true is one event that grows, not one alert
//! per step.
//!
//! Each tracker evaluates its rules after every update and hands the conditions that hold
//! (its [`Finding`]s) to its [`EventLog`]. A finding of a kind with no open event opens one
//! at that step; a finding of an open kind extends it (last step, latest value and message,
//! highest severity). An open event ends after `release` consecutive evaluations without a
//! finding of its kind, so a condition that flickers around its threshold stays one event
//! (hysteresis). Ended events are kept: a problem that happened is not forgotten once it
//! stops. The log is bounded: past `capacity` stored events the oldest *ended* one is
//! dropped and counted.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::state::{invalid, Validate};

/// How bad an anomaly is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    /// Worth a look.
    Warning,
    /// Training is likely broken.
    Critical,
}

impl Severity {
    /// Critical when `critical`, else a warning.
    pub fn critical_if(critical: bool) -> Self {
        if critical {
            Severity::Critical
        } else {
            Severity::Warning
        }
    }

    /// The RLDK spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// A rule's condition holding at one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The anomaly `type` string (RLDK's where the rule is RLDK's).
    pub kind: &'static str,
    /// Severity at this evaluation.
    pub severity: Severity,
    /// The value the rule compared.
    pub value: f64,
    /// The threshold it was compared against, if the rule has one.
    pub threshold: Option<f64>,
    /// Human-readable explanation, with numbers.
    pub message: String,
    /// Extra string-valued keys (RLDK's `trend` on `kl_drift_detected`).
    pub extra: Option<(&'static str, &'static str)>,
}

impl Finding {
    /// A finding without extra keys.
    pub fn new(
        kind: &'static str,
        severity: Severity,
        value: f64,
        threshold: Option<f64>,
        message: String,
    ) -> Self {
        Finding {
            kind,
            severity,
            value,
            threshold,
            message,
            extra: None,
        }
    }
}

/// One anomaly over its lifetime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyEvent {
    /// The anomaly `type`.
    pub kind: String,
    /// Highest severity seen while the condition held.
    pub severity: Severity,
    /// Latest value while the condition held.
    pub value: f64,
    /// Threshold of the latest finding.
    pub threshold: Option<f64>,
    /// Latest message.
    pub message: String,
    /// Extra string-valued key of the latest finding.
    pub extra: Option<(String, String)>,
    /// Step at which the condition first held (the onset).
    pub first_step: f64,
    /// Last step at which the condition held.
    pub last_step: f64,
    /// Evaluations at which the condition held.
    pub occurrences: u64,
    /// Whether the event is still open.
    pub active: bool,
    /// Consecutive evaluations without a finding, while open.
    clear_run: u32,
}

/// The events of one tracker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLog {
    release: u32,
    capacity: usize,
    events: VecDeque<AnomalyEvent>,
    /// Positions in `events` of the open events (few), so that an evaluation touches only
    /// them and not every stored event.
    open: Vec<usize>,
    dropped: u64,
}

/// Evaluations without a finding that end an event (default).
pub const DEFAULT_RELEASE: u32 = 10;
/// Events kept per log (default).
pub const DEFAULT_CAPACITY: usize = 1000;

impl EventLog {
    /// A log that ends events after `release` clear evaluations and keeps at most `capacity`.
    pub fn new(release: u32, capacity: usize) -> Result<Self> {
        if release == 0 {
            return Err(CoreError::param(
                "event_release",
                "must be at least 1, got 0",
            ));
        }
        if capacity == 0 {
            return Err(CoreError::param("max_events", "must be at least 1, got 0"));
        }
        Ok(EventLog {
            release,
            capacity,
            events: VecDeque::new(),
            open: Vec::new(),
            dropped: 0,
        })
    }

    /// Records one evaluation at `step`: `findings` are the conditions that hold now.
    pub fn observe(&mut self, step: f64, mut findings: Vec<Finding>) {
        self.observe_drain(step, &mut findings);
    }

    /// [`EventLog::observe`] taking the findings out of `findings`, which is left empty with
    /// its capacity: a tracker that keeps one vector for its findings allocates none per
    /// evaluation.
    pub fn observe_drain(&mut self, step: f64, findings: &mut Vec<Finding>) {
        // One finding per kind and evaluation (the most severe): three bad inputs of one
        // kind at one step are one occurrence.
        // Rules of different kinds are the rule: only a repeated kind costs a second vector.
        let repeated = |fs: &[Finding]| {
            fs.iter()
                .enumerate()
                .any(|(i, f)| fs[..i].iter().any(|g| g.kind == f.kind))
        };
        if findings.len() > 1 && repeated(findings) {
            let mut unique: Vec<Finding> = Vec::with_capacity(findings.len());
            for f in findings.drain(..) {
                match unique.iter_mut().find(|u| u.kind == f.kind) {
                    Some(u) if f.severity > u.severity => *u = f,
                    Some(_) => {}
                    None => unique.push(f),
                }
            }
            findings.append(&mut unique);
        }
        // Open events whose kind did not fire count one more clear evaluation.
        for &pos in &self.open {
            let e = &mut self.events[pos];
            if !findings.iter().any(|f| f.kind == e.kind) {
                e.clear_run += 1;
                if e.clear_run >= self.release {
                    e.active = false;
                }
            }
        }
        let events = &self.events;
        self.open.retain(|&pos| events[pos].active);
        for f in findings.drain(..) {
            let open = self
                .open
                .iter()
                .copied()
                .find(|&pos| self.events[pos].kind == f.kind);
            match open {
                Some(pos) => {
                    let e = &mut self.events[pos];
                    e.severity = e.severity.max(f.severity);
                    e.value = f.value;
                    e.threshold = f.threshold;
                    e.message = f.message;
                    e.extra = f.extra.map(|(k, v)| (k.to_string(), v.to_string()));
                    e.last_step = step;
                    e.occurrences += 1;
                    e.clear_run = 0;
                }
                None => {
                    self.events.push_back(AnomalyEvent {
                        kind: f.kind.to_string(),
                        severity: f.severity,
                        value: f.value,
                        threshold: f.threshold,
                        message: f.message,
                        extra: f.extra.map(|(k, v)| (k.to_string(), v.to_string())),
                        first_step: step,
                        last_step: step,
                        occurrences: 1,
                        active: true,
                        clear_run: 0,
                    });
                    self.open.push(self.events.len() - 1);
                    self.enforce_capacity();
                }
            }
        }
    }

    fn enforce_capacity(&mut self) {
        while self.events.len() > self.capacity {
            // Drop the oldest ended event; if every stored event is open, the oldest one.
            let idx = self.events.iter().position(|e| !e.active).unwrap_or(0);
            self.events.remove(idx);
            self.dropped += 1;
            self.open.retain(|&p| p != idx);
            for p in &mut self.open {
                if *p > idx {
                    *p -= 1;
                }
            }
        }
    }

    /// Every stored event, in order of onset.
    pub fn events(&self) -> impl Iterator<Item = &AnomalyEvent> {
        self.events.iter()
    }

    /// The open events, in order of onset.
    pub fn active(&self) -> impl Iterator<Item = &AnomalyEvent> {
        self.open.iter().map(|&p| &self.events[p])
    }

    /// Events dropped because the log was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Writes `message(kind, value)` into every stored event whose message is empty (a
    /// tracker that deferred formatting them; every finding it formats has text).
    pub fn fill_empty_messages(&mut self, message: impl Fn(&str, f64) -> String) {
        for e in self.events.iter_mut().filter(|e| e.message.is_empty()) {
            e.message = message(&e.kind, e.value);
        }
    }
}

impl Validate for EventLog {
    fn validate(&self) -> Result<()> {
        if self.release == 0 || self.capacity == 0 {
            return Err(invalid("event log with zero release or capacity"));
        }
        if self.events.len() > self.capacity {
            return Err(invalid("event log holds more events than its capacity"));
        }
        // The open positions are exactly the active events, in order of onset.
        let active: Vec<usize> = (0..self.events.len())
            .filter(|&i| self.events[i].active)
            .collect();
        if active != self.open {
            return Err(invalid("event log's open events"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(kind: &'static str, sev: Severity, v: f64) -> Finding {
        Finding::new(kind, sev, v, Some(1.0), format!("{kind} {v}"))
    }

    #[test]
    fn sustained_condition_is_one_event_with_onset_and_last_step() {
        let mut log = EventLog::new(3, 100).unwrap();
        for step in 0..10 {
            let found = if (2..7).contains(&step) {
                vec![f("a", Severity::Warning, step as f64)]
            } else {
                vec![]
            };
            log.observe(step as f64, found);
        }
        let ev: Vec<_> = log.events().collect();
        assert_eq!(ev.len(), 1);
        assert_eq!((ev[0].first_step, ev[0].last_step), (2.0, 6.0));
        assert_eq!(ev[0].occurrences, 5);
        assert!(!ev[0].active, "3 clear evaluations (7, 8, 9) end it");
    }

    #[test]
    fn flicker_within_release_stays_one_event_and_severity_escalates() {
        let mut log = EventLog::new(3, 100).unwrap();
        let pattern = [true, false, false, true, false, true];
        for (i, &on) in pattern.iter().enumerate() {
            let sev = if i == 3 {
                Severity::Critical
            } else {
                Severity::Warning
            };
            log.observe(i as f64, if on { vec![f("a", sev, 1.0)] } else { vec![] });
        }
        let ev: Vec<_> = log.events().collect();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].severity, Severity::Critical);
        assert!(ev[0].active);
        assert_eq!(ev[0].last_step, 5.0);
    }

    #[test]
    fn recurrence_after_release_opens_a_new_event() {
        let mut log = EventLog::new(2, 100).unwrap();
        log.observe(0.0, vec![f("a", Severity::Warning, 1.0)]);
        log.observe(1.0, vec![]);
        log.observe(2.0, vec![]);
        log.observe(3.0, vec![f("a", Severity::Warning, 2.0)]);
        let ev: Vec<_> = log.events().collect();
        assert_eq!(ev.len(), 2);
        assert!(!ev[0].active && ev[1].active);
        assert_eq!(ev[1].first_step, 3.0);
        assert_eq!(log.active().count(), 1);
    }

    #[test]
    fn capacity_drops_oldest_ended_event_and_counts_it() {
        let mut log = EventLog::new(1, 2).unwrap();
        log.observe(0.0, vec![f("a", Severity::Warning, 1.0)]);
        log.observe(1.0, vec![f("b", Severity::Warning, 1.0)]);
        log.observe(2.0, vec![f("b", Severity::Warning, 1.0)]); // a ends
        log.observe(3.0, vec![f("c", Severity::Warning, 1.0)]); // b ends, c opens
        let kinds: Vec<_> = log.events().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["b", "c"]);
        assert_eq!(log.dropped(), 1);
    }

    #[test]
    fn zero_parameters_are_errors() {
        assert!(EventLog::new(0, 1).is_err());
        assert!(EventLog::new(1, 0).is_err());
    }
}
