//! The key vocabulary for Python callers (the TRL monitor): which trainer family a set of
//! log keys points to, and which source key holds each canonical metric.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rlforensics_core::ingest::alias::{family_of, resolve, CANONICAL};

/// `(family, {canonical name: source key})` for the logged `keys`.
#[pyfunction]
fn resolve_keys<'py>(
    py: Python<'py>,
    keys: Vec<String>,
) -> PyResult<(&'static str, Bound<'py, PyDict>)> {
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let family = family_of(refs.iter().copied());
    let out = PyDict::new(py);
    for name in CANONICAL {
        if let Some(k) = resolve(family, name, &refs) {
            out.set_item(name, k)?;
        }
    }
    Ok((family.as_str(), out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(resolve_keys, m)?)
}
