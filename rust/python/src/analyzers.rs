//! Detectors with reports: `DriftDetector`, `ControllerAnalyzer`, and the dict conversions of
//! core result structs shared with the batch functions.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rlforensics_core::control::{ControllerAnalyzer, ControllerConfig, ControllerReport};
use rlforensics_core::drift::{DriftDetector, HistogramKl, KsTest};

use crate::arrays::{slice, Floats};
use crate::errors::IntoPy;
use crate::pickling::impl_pickle;

pub fn ks_dict<'py>(py: Python<'py>, t: &KsTest) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("statistic", t.statistic)?;
    d.set_item("p_value", t.p_value)?;
    d.set_item("n_a", t.n_a)?;
    d.set_item("n_b", t.n_b)?;
    Ok(d)
}

pub fn kl_dict<'py>(py: Python<'py>, h: &HistogramKl) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("raw", h.raw)?;
    d.set_item("corrected", h.corrected)?;
    d.set_item("bins", h.bins)?;
    d.set_item("occupied", h.occupied)?;
    Ok(d)
}

pub fn report_dict<'py>(py: Python<'py>, r: &ControllerReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("samples", r.samples)?;
    d.set_item("nonfinite_kl", r.nonfinite_kl)?;
    d.set_item("time_in_band", r.time_in_band)?;
    d.set_item("band_entries", r.band_entries)?;
    d.set_item("band_exits", r.band_exits)?;
    d.set_item("overshoot_count", r.overshoot_count)?;
    d.set_item("max_overshoot", r.max_overshoot)?;
    d.set_item("mean_overshoot", r.mean_overshoot)?;
    d.set_item("oscillation_flips", r.oscillation_flips)?;
    d.set_item("oscillation_rate", r.oscillation_rate)?;
    d.set_item("mean_period", r.mean_period)?;
    d.set_item("decay_ratio", r.decay_ratio)?;
    d.set_item("damping_ratio", r.damping_ratio)?;
    d.set_item("settle_count", r.settle_count)?;
    d.set_item("mean_settling_time", r.mean_settling_time)?;
    d.set_item("max_settling_time", r.max_settling_time)?;
    d.set_item("last_settling_time", r.last_settling_time)?;
    d.set_item("unsettled_since", r.unsettled_since)?;
    d.set_item("controller", r.controller.as_str())?;
    d.set_item("responsiveness", r.responsiveness)?;
    d.set_item("response_lag", r.response_lag)?;
    d.set_item("invalid_coef", r.invalid_coef)?;
    Ok(d)
}

/// Reference-versus-window drift detector.
///
/// The first `reference_size` finite values form a frozen reference; later values fill a
/// sliding window of `window`. `ks()` runs a two-sample KS test (asymptotic p-value,
/// calibrated: on a stationary series `drifted()` is True at rate about `alpha`), and
/// `histogram_kl()` gives KL(window || reference) with its small-sample bias removed.
#[pyclass(module = "rlforensics._core", name = "DriftDetector")]
#[derive(Clone, Debug)]
pub struct PyDriftDetector {
    pub inner: DriftDetector,
}

#[pymethods]
impl PyDriftDetector {
    #[new]
    #[pyo3(signature = (reference_size, window, min_window = None, alpha = 0.01))]
    fn new(
        reference_size: i64,
        window: i64,
        min_window: Option<i64>,
        alpha: f64,
    ) -> PyResult<Self> {
        let reference_size = crate::errors::count("reference_size", reference_size)?;
        let window = crate::errors::count("window", window)?;
        let min_window = crate::errors::opt_count("min_window", min_window)?;
        Ok(PyDriftDetector {
            inner: DriftDetector::new(reference_size, window, min_window, alpha).py()?,
        })
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

    /// True once the reference is full and the window holds `min_window` values.
    #[getter]
    fn ready(&self) -> bool {
        self.inner.ready()
    }

    /// Values in the reference so far.
    #[getter]
    fn reference_len(&self) -> usize {
        self.inner.reference_len()
    }

    /// Values in the current window.
    #[getter]
    fn window_len(&self) -> usize {
        self.inner.window_len()
    }

    /// Non-finite values seen (and skipped).
    #[getter]
    fn nonfinite(&self) -> u64 {
        self.inner.nonfinite()
    }

    /// Significance level of `drifted()`.
    #[getter]
    fn alpha(&self) -> f64 {
        self.inner.alpha()
    }

    /// KS test of the window against the reference: {"statistic", "p_value", "n_a", "n_b"}.
    fn ks<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.inner.ks().map(|t| ks_dict(py, &t)).transpose()
    }

    /// Bias-corrected histogram KL: {"raw", "corrected", "bins", "occupied"}.
    #[pyo3(signature = (bins = None))]
    fn histogram_kl<'py>(
        &self,
        py: Python<'py>,
        bins: Option<i64>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let bins = crate::errors::opt_count("bins", bins)?;
        self.inner
            .histogram_kl(bins)
            .py()?
            .map(|h| kl_dict(py, &h))
            .transpose()
    }

    /// Whether the KS p-value is below alpha; None before ready.
    fn drifted(&self) -> Option<bool> {
        self.inner.drifted()
    }

    fn __repr__(&self) -> String {
        format!(
            "DriftDetector(reference={}/{}, window={}/{})",
            self.inner.reference_len(),
            self.inner.reference_size(),
            self.inner.window_len(),
            self.inner.window()
        )
    }
}

impl_pickle!(PyDriftDetector, "DriftDetector", |s| (
    s.inner.reference_size(),
    s.inner.window(),
    s.inner.min_window(),
    s.inner.alpha()
));

/// Streaming KL-controller analysis: band time, overshoot, oscillation period and damping,
/// settling time and the coefficient's responsiveness. See `controller_metrics` for the
/// meaning of each report key.
#[pyclass(module = "rlforensics._core", name = "ControllerAnalyzer")]
#[derive(Clone, Debug)]
pub struct PyControllerAnalyzer {
    pub inner: ControllerAnalyzer,
}

#[pymethods]
impl PyControllerAnalyzer {
    #[new]
    #[pyo3(signature = (target, tolerance, deadband = None, settle_hold = 5, max_lag = 5))]
    fn new(
        target: f64,
        tolerance: f64,
        deadband: Option<f64>,
        settle_hold: i64,
        max_lag: i64,
    ) -> PyResult<Self> {
        let settle_hold = crate::errors::count32("settle_hold", settle_hold)?;
        let max_lag = crate::errors::count32("max_lag", max_lag)?;
        let cfg = ControllerConfig::new(target, tolerance, deadband, settle_hold, max_lag).py()?;
        Ok(PyControllerAnalyzer {
            inner: ControllerAnalyzer::new(cfg),
        })
    }

    /// Adds one sample: KL value, optional coefficient, optional logged step.
    #[pyo3(signature = (kl, coef = None, step = None))]
    fn update(&mut self, kl: f64, coef: Option<f64>, step: Option<f64>) {
        self.inner.update(kl, coef, step);
    }

    /// Adds aligned columns (coef and steps optional; GIL released).
    #[pyo3(signature = (kl, coef = None, steps = None))]
    fn update_many(
        &mut self,
        py: Python<'_>,
        kl: Floats<'_>,
        coef: Option<Floats<'_>>,
        steps: Option<Floats<'_>>,
    ) -> PyResult<()> {
        let kl = slice(&kl);
        let coef = coef.as_ref().map(slice);
        let steps = steps.as_ref().map(slice);
        for (what, other) in [("coef", &coef), ("steps", &steps)] {
            if let Some(o) = other {
                if o.len() != kl.len() {
                    return Err(pyo3::exceptions::PyValueError::new_err(format!(
                        "kl and {what} must have equal lengths, got {} and {}",
                        kl.len(),
                        o.len()
                    )));
                }
            }
        }
        let inner = &mut self.inner;
        py.detach(|| {
            for i in 0..kl.len() {
                inner.update(
                    kl[i],
                    coef.as_ref().map(|c| c[i]),
                    steps.as_ref().map(|s| s[i]),
                );
            }
        });
        Ok(())
    }

    /// The analysis so far, as a dict.
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        report_dict(py, &self.inner.report())
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "ControllerAnalyzer(target={}, tolerance={}, samples={})",
            c.target,
            c.tolerance,
            self.inner.report().samples
        )
    }
}

impl_pickle!(PyControllerAnalyzer, "ControllerAnalyzer", |s| {
    let c = *s.inner.config();
    (c.target, c.tolerance, c.deadband, c.settle_hold, c.max_lag)
});

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDriftDetector>()?;
    m.add_class::<PyControllerAnalyzer>()?;
    Ok(())
}
