//! Scalar arguments of the forensics API: anything a training loop logs (Python floats and
//! ints, NumPy scalars of any float or int dtype, 0-d tensors, numeric strings) becomes an
//! `f64`; anything else is a `TypeError` naming the argument, never a silent 0.0.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// A required number.
pub fn number(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    if let Ok(v) = obj.extract::<f64>() {
        return Ok(v);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_str()?;
        return text.trim().parse::<f64>().map_err(|_| {
            PyValueError::new_err(format!("{name}: cannot read {text:?} as a number"))
        });
    }
    Err(PyTypeError::new_err(format!(
        "{name}: expected a number or None, got {}",
        obj.get_type().name()?
    )))
}

/// An optional number: `None` stays `None` (the metric was not logged).
pub fn opt_number(name: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<f64>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => number(name, o).map(Some),
    }
}
