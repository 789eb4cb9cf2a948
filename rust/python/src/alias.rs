//! The key vocabulary for Python callers (the TRL monitor): which trainer family a set of
//! log keys points to, which source key holds each canonical metric, and what kind of entry
//! a log entry is.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rlforensics_core::ingest::alias::{family_of, resolve, CANONICAL};
use rlforensics_core::ingest::records::{entry_kind as kind_of, EntryKind, Role};

/// `(family, {canonical name: source key}, the family's KL target or None, the family's KL
/// scale)` for the logged `keys`.
#[pyfunction]
fn resolve_keys<'py>(
    py: Python<'py>,
    keys: Vec<String>,
) -> PyResult<(&'static str, Bound<'py, PyDict>, Option<f64>, &'static str)> {
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let family = family_of(refs.iter().copied());
    let out = PyDict::new(py);
    for name in CANONICAL {
        if let Some(k) = resolve(family, name, &refs) {
            out.set_item(name, k)?;
        }
    }
    Ok((
        family.as_str(),
        out,
        family.kl_target(),
        family.kl_scale().as_str(),
    ))
}

/// `"train"`, `"eval"` or `"summary"`: the kind of a log entry with `keys`, by the readers'
/// rules.
#[pyfunction]
fn entry_kind(keys: Vec<String>) -> &'static str {
    match kind_of(keys.iter().map(|k| Role::of(k))) {
        EntryKind::Train => "train",
        EntryKind::Eval => "eval",
        EntryKind::Summary => "summary",
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(resolve_keys, m)?)?;
    m.add_function(wrap_pyfunction!(entry_kind, m)?)
}
