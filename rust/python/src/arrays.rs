//! Array conversion: zero-copy views of contiguous float64 input, one copy otherwise.

use std::borrow::Cow;

use numpy::{AllowTypeChange, IntoPyArray, PyArray1, PyArrayLike1};
use pyo3::prelude::*;

/// Any 1-D array-like convertible to float64 (lists, other dtypes, NumPy arrays).
pub type Floats<'py> = PyArrayLike1<'py, f64, AllowTypeChange>;

/// The values as a slice: borrowed when the array is contiguous, copied when strided.
pub fn slice<'a>(a: &'a Floats<'_>) -> Cow<'a, [f64]> {
    match a.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(a.as_array().iter().copied().collect()),
    }
}

/// Moves a result vector into a NumPy array without copying.
pub fn to_numpy(py: Python<'_>, v: Vec<f64>) -> Bound<'_, PyArray1<f64>> {
    v.into_pyarray(py)
}

/// `None` or the number, for `__repr__`.
pub fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "None".to_owned(), |x| x.to_string())
}
