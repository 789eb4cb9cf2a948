//! Whole-run estimators: `Moments`, `EWMoments`, `QuantileSketch`.

use pyo3::prelude::*;
use rlforensics_core::stats::{EwMoments, EwSpec, Moments, QuantileSketch};

use crate::arrays::{slice, Floats};
use crate::errors::IntoPy;
use crate::pickling::impl_pickle;

/// Mergeable whole-run count, mean, variance, skewness, kurtosis, min and max.
///
/// Non-finite values are counted in `nonfinite` and never enter a statistic. Statistics are
/// `None` until enough finite values were seen. `a.merge(b)` (or `a + b`) equals one
/// estimator fed both streams.
#[pyclass(module = "rlforensics._core", name = "Moments")]
#[derive(Clone, Debug)]
pub struct PyMoments {
    pub inner: Moments,
}

#[pymethods]
impl PyMoments {
    #[new]
    fn new() -> Self {
        PyMoments {
            inner: Moments::new(),
        }
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

    /// Folds `other` into this estimator.
    fn merge(&mut self, other: &PyMoments) {
        self.inner.merge(&other.inner);
    }

    fn __add__(&self, other: &PyMoments) -> PyMoments {
        let mut out = self.clone();
        out.inner.merge(&other.inner);
        out
    }

    fn __iadd__(&mut self, other: &PyMoments) {
        self.inner.merge(&other.inner);
    }

    /// Finite values seen.
    #[getter]
    fn count(&self) -> u64 {
        self.inner.count()
    }

    /// Non-finite values seen (and skipped).
    #[getter]
    fn nonfinite(&self) -> u64 {
        self.inner.nonfinite()
    }

    /// Mean.
    fn mean(&self) -> Option<f64> {
        self.inner.mean()
    }

    /// Variance with divisor n - ddof.
    #[pyo3(signature = (ddof = 1))]
    fn variance(&self, ddof: i64) -> PyResult<Option<f64>> {
        Ok(self.inner.variance(crate::errors::count32("ddof", ddof)?))
    }

    /// Standard deviation with divisor n - ddof.
    #[pyo3(signature = (ddof = 1))]
    fn std(&self, ddof: i64) -> PyResult<Option<f64>> {
        Ok(self.inner.std(crate::errors::count32("ddof", ddof)?))
    }

    /// Skewness: bias=True is scipy's default g1, bias=False is pandas' adjusted G1.
    #[pyo3(signature = (bias = true))]
    fn skewness(&self, bias: bool) -> Option<f64> {
        self.inner.skewness(bias)
    }

    /// Excess kurtosis: bias=True is scipy's default g2, bias=False is pandas' adjusted G2.
    #[pyo3(signature = (bias = true))]
    fn kurtosis(&self, bias: bool) -> Option<f64> {
        self.inner.kurtosis(bias)
    }

    /// Smallest finite value.
    fn min(&self) -> Option<f64> {
        self.inner.min()
    }

    /// Largest finite value.
    fn max(&self) -> Option<f64> {
        self.inner.max()
    }

    fn __repr__(&self) -> String {
        format!(
            "Moments(count={}, mean={}, std={})",
            self.inner.count(),
            crate::arrays::fmt_opt(self.inner.mean()),
            crate::arrays::fmt_opt(self.inner.std(1))
        )
    }
}

impl_pickle!(PyMoments, "Moments", |_s| ());

/// Exponentially weighted mean and (biased) variance, recursive form.
///
/// Give exactly one of `alpha`, `span`, `halflife` or `com`; they resolve to one internal
/// alpha. Equals pandas `ewm(..., adjust=False, ignore_na=True)` `.mean()` and
/// `.var(bias=True)`. Non-finite values are skipped and counted.
#[pyclass(module = "rlforensics._core", name = "EWMoments")]
#[derive(Clone, Debug)]
pub struct PyEwMoments {
    pub inner: EwMoments,
}

/// Resolves the four ways to give the decay; exactly one must be set.
pub fn ew_spec(
    alpha: Option<f64>,
    span: Option<f64>,
    halflife: Option<f64>,
    com: Option<f64>,
) -> PyResult<EwSpec> {
    let given: Vec<EwSpec> = [
        alpha.map(EwSpec::Alpha),
        span.map(EwSpec::Span),
        halflife.map(EwSpec::HalfLife),
        com.map(EwSpec::Com),
    ]
    .into_iter()
    .flatten()
    .collect();
    match given.as_slice() {
        [one] => Ok(*one),
        _ => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "give exactly one of alpha, span, halflife, com (got {})",
            given.len()
        ))),
    }
}

#[pymethods]
impl PyEwMoments {
    #[new]
    #[pyo3(signature = (alpha = None, *, span = None, halflife = None, com = None))]
    fn new(
        alpha: Option<f64>,
        span: Option<f64>,
        halflife: Option<f64>,
        com: Option<f64>,
    ) -> PyResult<Self> {
        let spec = ew_spec(alpha, span, halflife, com)?;
        Ok(PyEwMoments {
            inner: EwMoments::new(spec).py()?,
        })
    }

    /// The smoothing factor in (0, 1].
    #[getter]
    fn alpha(&self) -> f64 {
        self.inner.alpha()
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

    /// Finite values seen.
    #[getter]
    fn count(&self) -> u64 {
        self.inner.count()
    }

    /// Non-finite values seen (and skipped).
    #[getter]
    fn nonfinite(&self) -> u64 {
        self.inner.nonfinite()
    }

    /// EW mean.
    fn mean(&self) -> Option<f64> {
        self.inner.mean()
    }

    /// EW (biased) variance.
    fn variance(&self) -> Option<f64> {
        self.inner.variance()
    }

    /// EW standard deviation.
    fn std(&self) -> Option<f64> {
        self.inner.std()
    }

    fn __repr__(&self) -> String {
        format!(
            "EWMoments(alpha={}, count={}, mean={})",
            self.inner.alpha(),
            self.inner.count(),
            crate::arrays::fmt_opt(self.inner.mean())
        )
    }
}

impl_pickle!(PyEwMoments, "EwMoments", |s| (s.inner.alpha(),));

/// Mergeable quantile sketch with a guaranteed rank-error bound.
///
/// Exact (NumPy "linear" interpolation) until `k` values; after that every quantile's rank is
/// within `rank_error_bound() * count` of the truth (a deterministic bound that the sketch
/// tracks as it compacts and merges). Memory is about `k * (log2(count / k) + 2)` floats.
#[pyclass(module = "rlforensics._core", name = "QuantileSketch")]
#[derive(Clone, Debug)]
pub struct PyQuantileSketch {
    pub inner: QuantileSketch,
}

#[pymethods]
impl PyQuantileSketch {
    #[new]
    #[pyo3(signature = (k = 2048))]
    fn new(k: i64) -> PyResult<Self> {
        let k = crate::errors::count("k", k)?;
        Ok(PyQuantileSketch {
            inner: QuantileSketch::new(k).py()?,
        })
    }

    /// Compactor size.
    #[getter]
    fn k(&self) -> usize {
        self.inner.k()
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

    /// Folds `other` (same k) into this sketch.
    fn merge(&mut self, other: &PyQuantileSketch) -> PyResult<()> {
        self.inner.merge(&other.inner).py()
    }

    fn __add__(&self, other: &PyQuantileSketch) -> PyResult<PyQuantileSketch> {
        let mut out = self.clone();
        out.inner.merge(&other.inner).py()?;
        Ok(out)
    }

    fn __iadd__(&mut self, other: &PyQuantileSketch) -> PyResult<()> {
        self.inner.merge(&other.inner).py()
    }

    /// Finite values summarised.
    #[getter]
    fn count(&self) -> u64 {
        self.inner.count()
    }

    /// Non-finite values seen (and skipped).
    #[getter]
    fn nonfinite(&self) -> u64 {
        self.inner.nonfinite()
    }

    /// Values retained in memory.
    #[getter]
    fn retained(&self) -> usize {
        self.inner.retained()
    }

    /// Guaranteed bound on the rank error of `quantile`, as a fraction of `count`.
    fn rank_error_bound(&self) -> f64 {
        self.inner.rank_error_bound()
    }

    /// Estimated q-quantile (0 <= q <= 1).
    fn quantile(&self, q: f64) -> PyResult<Option<f64>> {
        rlforensics_core::stats::check_quantile(q).py()?;
        Ok(self.inner.quantile(q))
    }

    /// Estimated fraction of values <= x.
    fn cdf(&self, x: f64) -> Option<f64> {
        self.inner.cdf(x)
    }

    /// Smallest value seen.
    fn min(&self) -> Option<f64> {
        self.inner.min()
    }

    /// Largest value seen.
    fn max(&self) -> Option<f64> {
        self.inner.max()
    }

    fn __repr__(&self) -> String {
        format!(
            "QuantileSketch(k={}, count={}, retained={})",
            self.inner.k(),
            self.inner.count(),
            self.inner.retained()
        )
    }
}

impl_pickle!(PyQuantileSketch, "QuantileSketch", |s| (s.inner.k(),));

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMoments>()?;
    m.add_class::<PyEwMoments>()?;
    m.add_class::<PyQuantileSketch>()?;
    Ok(())
}
