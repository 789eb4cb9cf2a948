//! Array conversion: zero-copy views of contiguous float64 input (one copy otherwise), and
//! outputs allocated by NumPy and filled without the GIL.

use std::borrow::Cow;

use numpy::{AllowTypeChange, PyArray1, PyArrayLike1, PyArrayMethods};
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

/// [`slice`] of an optional column (`None`: the column was not given).
pub fn opt_slice<'a>(a: &'a Option<Floats<'_>>) -> Option<Cow<'a, [f64]>> {
    a.as_ref().map(slice)
}

/// A new float64 array of length `n` allocated by NumPy. Large outputs are allocated this way
/// rather than as a `Vec`: NumPy asks the kernel for huge pages, which measured about 4x
/// cheaper to fault in than a fresh 80 MB `Vec` and was the largest cost of a rolling mean.
pub fn new_output(py: Python<'_>, n: usize) -> Bound<'_, PyArray1<f64>> {
    PyArray1::<f64>::zeros(py, n, false)
}

/// Runs `fill` on the output's buffer with the GIL released.
pub fn fill_detached<R: Send>(
    py: Python<'_>,
    out: &Bound<'_, PyArray1<f64>>,
    fill: impl FnOnce(&mut [f64]) -> R + Send,
) -> PyResult<R> {
    let mut rw = out.readwrite();
    let buf = rw
        .as_slice_mut()
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    Ok(py.detach(|| fill(buf)))
}

/// `k` new float64 arrays of `n` values allocated by NumPy (see [`new_output`]), which
/// `fill` writes, with the GIL released, as one slice per array: the output columns of a
/// batch path.
pub fn fill_columns_detached<'py, R: Send>(
    py: Python<'py>,
    k: usize,
    n: usize,
    fill: impl FnOnce(&mut [&mut [f64]]) -> R + Send,
) -> PyResult<(Vec<Bound<'py, PyArray1<f64>>>, R)> {
    let arrays: Vec<_> = (0..k).map(|_| new_output(py, n)).collect();
    let mut guards: Vec<_> = arrays.iter().map(|a| a.readwrite()).collect();
    let mut slices = guards
        .iter_mut()
        .map(|g| {
            g.as_slice_mut()
                .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))
        })
        .collect::<PyResult<Vec<&mut [f64]>>>()?;
    let r = py.detach(|| fill(&mut slices));
    drop(slices);
    drop(guards);
    Ok((arrays, r))
}

/// `None` or the number, for `__repr__`.
pub fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "None".to_owned(), |x| x.to_string())
}
