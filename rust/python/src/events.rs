//! Anomaly events as RLDK-shaped dicts: `type`, `severity`, `message`, `value`, `threshold`
//! (when the rule has one), plus `step` (the onset), `first_step`, `last_step`, `active` and
//! `occurrences`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rlforensics_core::forensics::{AnomalyEvent, EventLog};

/// Steps are floats in the core; integral ones go back to Python as ints.
pub fn step_value<'py>(py: Python<'py>, s: f64) -> PyResult<Bound<'py, PyAny>> {
    if s.fract() == 0.0 && s.abs() < 9.007_199_254_740_992e15 {
        Ok((s as i64).into_pyobject(py)?.into_any())
    } else {
        Ok(s.into_pyobject(py)?.into_any())
    }
}

/// A snapshot's step: `None` before any update (NaN in the core), else as [`step_value`].
pub fn opt_step<'py>(py: Python<'py>, s: f64) -> PyResult<Option<Bound<'py, PyAny>>> {
    if s.is_nan() {
        Ok(None)
    } else {
        step_value(py, s).map(Some)
    }
}

/// One event as a dict; `tracker` is added when given.
pub fn event_dict<'py>(
    py: Python<'py>,
    e: &AnomalyEvent,
    tracker: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("type", &e.kind)?;
    d.set_item("severity", e.severity.as_str())?;
    d.set_item("message", &e.message)?;
    d.set_item("value", e.value)?;
    if let Some(t) = e.threshold {
        d.set_item("threshold", t)?;
    }
    if let Some((k, v)) = &e.extra {
        d.set_item(k, v)?;
    }
    if let Some(t) = tracker {
        d.set_item("tracker", t)?;
    }
    let first = step_value(py, e.first_step)?;
    d.set_item("step", &first)?;
    d.set_item("first_step", first)?;
    d.set_item("last_step", step_value(py, e.last_step)?)?;
    d.set_item("active", e.active)?;
    d.set_item("occurrences", e.occurrences)?;
    Ok(d)
}

/// The log's events (or only the open ones) as a list of dicts, filtered by `keep`.
pub fn event_list<'py>(
    py: Python<'py>,
    log: &EventLog,
    active_only: bool,
    tracker: Option<&str>,
    keep: impl Fn(&AnomalyEvent) -> bool,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for e in log
        .events()
        .filter(|e| (!active_only || e.active) && keep(e))
    {
        out.append(event_dict(py, e, tracker)?)?;
    }
    Ok(out)
}
