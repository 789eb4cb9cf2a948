//! Windowed estimators: `RollingMoments`, `RollingMinMax`, `RollingQuantile`, `RollingTrend`.
//!
//! A window is the last `window` observations. Non-finite observations keep their slot but
//! are not used; a statistic needs `min_periods` finite values (default: the whole window),
//! as in pandas' `rolling(window, min_periods)`.

use pyo3::prelude::*;
use rlforensics_core::stats::{RollingExtrema, RollingMoments, RollingQuantile};
use rlforensics_core::trend::RollingTrend;

use crate::arrays::{slice, Floats};
use crate::errors::IntoPy;
use crate::pickling::impl_pickle;

/// Rolling mean, variance, skewness and kurtosis in O(1) amortised time per value,
/// re-anchored periodically so that precision does not decay over long runs.
#[pyclass(module = "rlforensics._core", name = "RollingMoments")]
#[derive(Clone, Debug)]
pub struct PyRollingMoments {
    pub inner: RollingMoments,
}

#[pymethods]
impl PyRollingMoments {
    #[new]
    #[pyo3(signature = (window, min_periods = None))]
    fn new(window: i64, min_periods: Option<i64>) -> PyResult<Self> {
        let window = crate::errors::count("window", window)?;
        let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
        Ok(PyRollingMoments {
            inner: RollingMoments::new(window, min_periods).py()?,
        })
    }

    /// Window length.
    #[getter]
    fn window(&self) -> usize {
        self.inner.window()
    }

    /// Finite values needed for a statistic.
    #[getter]
    fn min_periods(&self) -> usize {
        self.inner.min_periods()
    }

    /// Finite values currently in the window.
    #[getter]
    fn count(&self) -> usize {
        self.inner.count()
    }

    /// Adds one value.
    fn update(&mut self, x: f64) {
        self.inner.update(x);
    }

    /// Adds every value of a 1-D array (GIL released).
    fn update_many(&mut self, py: Python<'_>, xs: Floats<'_>) {
        let xs = slice(&xs);
        let inner = &mut self.inner;
        py.detach(|| inner.update_slice(&xs));
    }

    /// Window mean.
    fn mean(&self) -> Option<f64> {
        self.inner.mean()
    }

    /// Window variance with divisor n - ddof.
    #[pyo3(signature = (ddof = 1))]
    fn variance(&self, ddof: i64) -> PyResult<Option<f64>> {
        Ok(self.inner.variance(crate::errors::count32("ddof", ddof)?))
    }

    /// Window standard deviation with divisor n - ddof.
    #[pyo3(signature = (ddof = 1))]
    fn std(&self, ddof: i64) -> PyResult<Option<f64>> {
        Ok(self.inner.std(crate::errors::count32("ddof", ddof)?))
    }

    /// Window skewness (bias=True: scipy g1; bias=False: pandas G1).
    #[pyo3(signature = (bias = true))]
    fn skewness(&self, bias: bool) -> Option<f64> {
        self.inner.skewness(bias)
    }

    /// Window excess kurtosis (bias=True: scipy g2; bias=False: pandas G2).
    #[pyo3(signature = (bias = true))]
    fn kurtosis(&self, bias: bool) -> Option<f64> {
        self.inner.kurtosis(bias)
    }

    fn __repr__(&self) -> String {
        format!(
            "RollingMoments(window={}, count={}, mean={})",
            self.inner.window(),
            self.inner.count(),
            crate::arrays::fmt_opt(self.inner.mean())
        )
    }
}

impl_pickle!(PyRollingMoments, "RollingMoments", |s| (
    s.inner.window(),
    s.inner.min_periods()
));

/// Rolling minimum and maximum (monotonic queues, O(1) amortised per value).
#[pyclass(module = "rlforensics._core", name = "RollingMinMax")]
#[derive(Clone, Debug)]
pub struct PyRollingMinMax {
    pub inner: RollingExtrema,
}

#[pymethods]
impl PyRollingMinMax {
    #[new]
    #[pyo3(signature = (window, min_periods = None))]
    fn new(window: i64, min_periods: Option<i64>) -> PyResult<Self> {
        let window = crate::errors::count("window", window)?;
        let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
        Ok(PyRollingMinMax {
            inner: RollingExtrema::new(window, min_periods).py()?,
        })
    }

    /// Window length.
    #[getter]
    fn window(&self) -> usize {
        self.inner.window()
    }

    /// Finite values needed for a result.
    #[getter]
    fn min_periods(&self) -> usize {
        self.inner.min_periods()
    }

    /// Finite values currently in the window.
    #[getter]
    fn count(&self) -> usize {
        self.inner.count()
    }

    /// Adds one value.
    fn update(&mut self, x: f64) {
        self.inner.update(x);
    }

    /// Adds every value of a 1-D array (GIL released).
    fn update_many(&mut self, py: Python<'_>, xs: Floats<'_>) {
        let xs = slice(&xs);
        let inner = &mut self.inner;
        py.detach(|| inner.update_slice(&xs));
    }

    /// Window minimum.
    fn min(&self) -> Option<f64> {
        self.inner.min()
    }

    /// Window maximum.
    fn max(&self) -> Option<f64> {
        self.inner.max()
    }

    fn __repr__(&self) -> String {
        format!(
            "RollingMinMax(window={}, min={}, max={})",
            self.inner.window(),
            crate::arrays::fmt_opt(self.inner.min()),
            crate::arrays::fmt_opt(self.inner.max())
        )
    }
}

impl_pickle!(PyRollingMinMax, "RollingExtrema", |s| (
    s.inner.window(),
    s.inner.min_periods()
));

/// Exact rolling quantiles (any q) for windows up to a few thousand values.
#[pyclass(module = "rlforensics._core", name = "RollingQuantile")]
#[derive(Clone, Debug)]
pub struct PyRollingQuantile {
    pub inner: RollingQuantile,
}

#[pymethods]
impl PyRollingQuantile {
    #[new]
    #[pyo3(signature = (window, min_periods = None))]
    fn new(window: i64, min_periods: Option<i64>) -> PyResult<Self> {
        let window = crate::errors::count("window", window)?;
        let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
        Ok(PyRollingQuantile {
            inner: RollingQuantile::new(window, min_periods).py()?,
        })
    }

    /// Window length.
    #[getter]
    fn window(&self) -> usize {
        self.inner.window()
    }

    /// Finite values needed for a result.
    #[getter]
    fn min_periods(&self) -> usize {
        self.inner.min_periods()
    }

    /// Finite values currently in the window.
    #[getter]
    fn count(&self) -> usize {
        self.inner.count()
    }

    /// Adds one value.
    fn update(&mut self, x: f64) {
        self.inner.update(x);
    }

    /// Adds every value of a 1-D array (GIL released).
    fn update_many(&mut self, py: Python<'_>, xs: Floats<'_>) {
        let xs = slice(&xs);
        let inner = &mut self.inner;
        py.detach(|| inner.update_slice(&xs));
    }

    /// The q-quantile of the window, linear interpolation (NumPy's default).
    fn quantile(&self, q: f64) -> PyResult<Option<f64>> {
        rlforensics_core::stats::check_quantile(q).py()?;
        Ok(self.inner.quantile(q))
    }

    /// The window median.
    fn median(&self) -> Option<f64> {
        self.inner.quantile(0.5)
    }

    fn __repr__(&self) -> String {
        format!(
            "RollingQuantile(window={}, count={}, median={})",
            self.inner.window(),
            self.inner.count(),
            crate::arrays::fmt_opt(self.inner.quantile(0.5))
        )
    }
}

impl_pickle!(PyRollingQuantile, "RollingQuantile", |s| (
    s.inner.window(),
    s.inner.min_periods()
));

/// Rolling least-squares trend of a value against the logged step.
///
/// `fit()` returns `{"n", "slope", "intercept", "r2"}` or None; the slope is per unit of step,
/// not per sample, so uneven logging intervals are handled. Steps near 1e9 keep full
/// precision (sums are kept relative to a point inside the window).
#[pyclass(module = "rlforensics._core", name = "RollingTrend")]
#[derive(Clone, Debug)]
pub struct PyRollingTrend {
    pub inner: RollingTrend,
}

#[pymethods]
impl PyRollingTrend {
    #[new]
    #[pyo3(signature = (window, min_periods = None))]
    fn new(window: i64, min_periods: Option<i64>) -> PyResult<Self> {
        let window = crate::errors::count("window", window)?;
        let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
        Ok(PyRollingTrend {
            inner: RollingTrend::new(window, min_periods).py()?,
        })
    }

    /// Window length.
    #[getter]
    fn window(&self) -> usize {
        self.inner.window()
    }

    /// Usable pairs needed for a fit.
    #[getter]
    fn min_periods(&self) -> usize {
        self.inner.min_periods()
    }

    /// Usable pairs in the window.
    #[getter]
    fn count(&self) -> usize {
        self.inner.count()
    }

    /// Adds the pair (step, value).
    fn update(&mut self, step: f64, value: f64) {
        self.inner.update(step, value);
    }

    /// Adds aligned arrays of steps and values (GIL released).
    fn update_many(
        &mut self,
        py: Python<'_>,
        steps: Floats<'_>,
        values: Floats<'_>,
    ) -> PyResult<()> {
        let steps = slice(&steps);
        let values = slice(&values);
        if steps.len() != values.len() {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "steps and values must have equal lengths, got {} and {}",
                steps.len(),
                values.len()
            )));
        }
        let inner = &mut self.inner;
        py.detach(|| {
            for (&s, &v) in steps.iter().zip(values.iter()) {
                inner.update(s, v);
            }
        });
        Ok(())
    }

    /// Slope per unit of step.
    fn slope(&self) -> Option<f64> {
        self.inner.slope()
    }

    /// The full fit: {"n", "slope", "intercept", "r2"}, or None.
    fn fit<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, pyo3::types::PyDict>>> {
        use pyo3::types::PyDictMethods;
        let Some(f) = self.inner.fit() else {
            return Ok(None);
        };
        let d = pyo3::types::PyDict::new(py);
        d.set_item("n", f.n)?;
        d.set_item("slope", f.slope)?;
        d.set_item("intercept", f.intercept)?;
        d.set_item("r2", f.r2)?;
        Ok(Some(d))
    }

    fn __repr__(&self) -> String {
        format!(
            "RollingTrend(window={}, count={}, slope={})",
            self.inner.window(),
            self.inner.count(),
            crate::arrays::fmt_opt(self.inner.slope())
        )
    }
}

impl_pickle!(PyRollingTrend, "RollingTrend", |s| (
    s.inner.window(),
    s.inner.min_periods()
));

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRollingMoments>()?;
    m.add_class::<PyRollingMinMax>()?;
    m.add_class::<PyRollingQuantile>()?;
    m.add_class::<PyRollingTrend>()?;
    Ok(())
}
