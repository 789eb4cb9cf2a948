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
