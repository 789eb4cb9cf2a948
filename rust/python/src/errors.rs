//! Mapping of core errors to Python exceptions: every core error is a `ValueError`, so a bad
//! parameter or a foreign state blob never surfaces as a panic.

use pyo3::exceptions::PyValueError;
use pyo3::PyErr;
use rlforensics_core::CoreError;

/// Converts a core error into a Python `ValueError` with the core's message.
pub fn to_py(e: CoreError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Result of a core call, mapped for Python.
pub trait IntoPy<T> {
    /// Maps the error side to a `ValueError`.
    fn py(self) -> pyo3::PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, CoreError> {
    fn py(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}

/// A non-negative integer parameter, as `usize`; negative values raise a `ValueError` that
/// names the parameter (PyO3 would raise `OverflowError` without the name).
pub fn count(name: &str, v: i64) -> pyo3::PyResult<usize> {
    usize::try_from(v).map_err(|_| {
        PyValueError::new_err(format!("{name}: must be a non-negative integer, got {v}"))
    })
}

/// As [`count`], for parameters held as `u32`.
pub fn count32(name: &str, v: i64) -> pyo3::PyResult<u32> {
    u32::try_from(v).map_err(|_| {
        PyValueError::new_err(format!(
            "{name}: must be an integer in 0..=4294967295, got {v}"
        ))
    })
}

/// As [`count`], for optional parameters.
pub fn opt_count(name: &str, v: Option<i64>) -> pyo3::PyResult<Option<usize>> {
    v.map(|v| count(name, v)).transpose()
}
