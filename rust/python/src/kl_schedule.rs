//! `KLScheduleTracker` and `KLScheduleMetrics`: RLDK's names over the core's tracker.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rlforensics_core::forensics::kl_schedule::{
    kl_schedule_batch_into, KlScheduleConfig, KlScheduleMetrics, KlScheduleTracker,
    KL_NUMERIC_FIELDS,
};

use crate::arrays::{fill_columns_detached, fmt_opt, slice, Floats};
use crate::convert::{number, opt_number};
use crate::errors::{count, count32, IntoPy};
use crate::events::{event_list, opt_step};
use crate::history::{history_view, tracker_methods};
use crate::pickling::impl_pickle;

/// One snapshot of the KL-schedule tracker (RLDK's 27 fields plus `step`,
/// `controller_kind` and `nonfinite_kl_count`). A statistic without enough data yet is
/// `None`, never a made-up default.
#[pyclass(module = "rlforensics._core", name = "KLScheduleMetrics", frozen, eq)]
#[derive(Clone, Debug, PartialEq)]
pub struct PyKlMetrics {
    pub inner: KlScheduleMetrics,
}

macro_rules! getters {
    ($($field:ident : $ty:ty),* $(,)?) => {
        #[pymethods]
        impl PyKlMetrics {
            $(
                #[getter]
                fn $field(&self) -> $ty {
                    self.inner.$field.clone()
                }
            )*
        }
    };
}

getters!(
    current_kl: Option<f64>,
    current_kl_coef: Option<f64>,
    kl_target: f64,
    kl_trend: Option<f64>,
    kl_volatility: Option<f64>,
    kl_controller_performance: Option<f64>,
    time_in_target_range: Option<f64>,
    target_range_violations: u64,
    target_range_stability: Option<f64>,
    controller_responsiveness: Option<f64>,
    controller_overshoot: Option<f64>,
    controller_oscillation: Option<f64>,
    coef_change_rate: Option<f64>,
    coef_adaptation_quality: Option<f64>,
    coef_stability: Option<f64>,
    kl_health_score: Option<f64>,
    schedule_health_score: Option<f64>,
    kl_drift_score: Option<f64>,
    kl_drift_detected: bool,
    kl_distribution_mean: Option<f64>,
    kl_distribution_std: Option<f64>,
    kl_reference_mean: Option<f64>,
    kl_reference_std: Option<f64>,
    kl_current_mean: Option<f64>,
    kl_current_std: Option<f64>,
    kl_drift_kl_divergence: Option<f64>,
    nonfinite_kl_count: u64,
);

#[pymethods]
impl PyKlMetrics {
    /// The empty snapshot (before any update).
    #[new]
    #[pyo3(signature = (kl_target = 0.1))]
    fn new(kl_target: f64) -> Self {
        PyKlMetrics {
            inner: KlScheduleMetrics::empty(kl_target),
        }
    }

    /// Logged step of the update that produced this snapshot (`None` before any).
    #[getter]
    fn step<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_step(py, self.inner.step)
    }

    /// "stable", "increasing" or "decreasing".
    #[getter]
    fn kl_drift_trend(&self) -> &'static str {
        self.inner.kl_drift_trend.as_str()
    }

    /// "unknown" (no coefficient), "fixed" (no controller) or "adaptive".
    #[getter]
    fn controller_kind(&self) -> &'static str {
        self.inner.controller_kind.as_str()
    }

    /// Every field as a dict.
    pub fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let values = self.inner.numeric();
        for (name, v) in KL_NUMERIC_FIELDS.iter().zip(values) {
            match *name {
                "step" => d.set_item(name, self.step(py)?)?,
                "kl_target" => d.set_item(name, v)?,
                "target_range_violations" => {
                    d.set_item(name, self.inner.target_range_violations)?
                }
                "nonfinite_kl_count" => d.set_item(name, self.inner.nonfinite_kl_count)?,
                "kl_drift_detected" => d.set_item(name, self.inner.kl_drift_detected)?,
                "kl_drift_trend" => d.set_item(name, self.kl_drift_trend())?,
                "controller_kind" => d.set_item(name, self.controller_kind())?,
                "current_kl" => d.set_item(name, self.inner.current_kl)?,
                "current_kl_coef" => d.set_item(name, self.inner.current_kl_coef)?,
                // Every other field is an optional float: NaN in `numeric` means None.
                _ => d.set_item(name, (!v.is_nan()).then_some(v))?,
            }
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let m = &self.inner;
        format!(
            "KLScheduleMetrics(step={}, current_kl={}, kl_health_score={}, \
             schedule_health_score={}, time_in_target_range={}, controller_kind={:?})",
            m.step,
            fmt_opt(m.current_kl),
            fmt_opt(m.kl_health_score),
            fmt_opt(m.schedule_health_score),
            fmt_opt(m.time_in_target_range),
            m.controller_kind.as_str()
        )
    }
}

/// Streaming analysis of the KL and its adaptive coefficient (RLDK's `KLScheduleTracker`).
///
/// `update(step, kl_value, kl_coef)` once per logged step returns a `KLScheduleMetrics`;
/// `update_many(steps, kl, kl_coef)` does the same over whole columns and returns the
/// per-step metrics as NumPy columns. `get_anomalies()` returns anomaly *events*: a
/// condition that stays true is one event with `first_step`/`last_step`, and ended events
/// are kept. `metrics_history` keeps the last `history_size` snapshots (default 10,000).
#[pyclass(module = "rlforensics._core", name = "KLScheduleTracker")]
#[derive(Clone, Debug)]
pub struct PyKlTracker {
    pub inner: KlScheduleTracker,
}

#[pymethods]
impl PyKlTracker {
    #[new]
    #[pyo3(signature = (
        kl_target = 0.1,
        kl_target_tolerance = 0.05,
        window_size = 50,
        trend_window = 20,
        controller_window = 30,
        drift_threshold = 0.15,
        drift_window_size = 100,
        reference_period = 500,
        enable_drift_tracking = true,
        *,
        drift_alpha = 0.01,
        event_release = 10,
        max_events = 1000,
        history_size = 10_000,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        kl_target: f64,
        kl_target_tolerance: f64,
        window_size: i64,
        trend_window: i64,
        controller_window: i64,
        drift_threshold: f64,
        drift_window_size: i64,
        reference_period: i64,
        enable_drift_tracking: bool,
        drift_alpha: f64,
        event_release: i64,
        max_events: i64,
        history_size: i64,
    ) -> PyResult<Self> {
        let cfg = KlScheduleConfig {
            kl_target,
            kl_target_tolerance,
            window_size: count("window_size", window_size)?,
            trend_window: count("trend_window", trend_window)?,
            controller_window: count("controller_window", controller_window)?,
            drift_threshold,
            drift_window_size: count("drift_window_size", drift_window_size)?,
            reference_period: count("reference_period", reference_period)?,
            enable_drift_tracking,
            drift_alpha,
            event_release: count32("event_release", event_release)?,
            max_events: count("max_events", max_events)?,
            history_size: count("history_size", history_size)?,
        };
        Ok(PyKlTracker {
            inner: KlScheduleTracker::new(cfg).py()?,
        })
    }

    /// One logged step. `kl_value` / `kl_coef` may be any number (NumPy scalars and 0-d
    /// tensors included) or None when the step did not log it.
    #[pyo3(signature = (step, kl_value, kl_coef = None))]
    fn update(
        &mut self,
        step: &Bound<'_, PyAny>,
        kl_value: Option<&Bound<'_, PyAny>>,
        kl_coef: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyKlMetrics> {
        let step = number("step", step)?;
        let kl = opt_number("kl_value", kl_value)?;
        let coef = opt_number("kl_coef", kl_coef)?;
        Ok(PyKlMetrics {
            inner: self.inner.update(step, kl, coef).clone(),
        })
    }

    /// Feeds whole columns (as repeated `update` calls; NaN is a non-finite value, reported
    /// as such) with the GIL released; returns each step's metrics as NumPy columns.
    #[pyo3(signature = (steps, kl, kl_coef = None))]
    fn update_many<'py>(
        &mut self,
        py: Python<'py>,
        steps: Floats<'py>,
        kl: Floats<'py>,
        kl_coef: Option<Floats<'py>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (steps, kl) = (slice(&steps), slice(&kl));
        let coef = kl_coef.as_ref().map(slice);
        let inner = &mut self.inner;
        let (cols, done) = fill_columns_detached(py, KL_NUMERIC_FIELDS.len(), kl.len(), |out| {
            kl_schedule_batch_into(inner, &steps, &kl, coef.as_deref(), out)
        })?;
        done.py()?;
        let d = PyDict::new(py);
        for (name, col) in KL_NUMERIC_FIELDS.iter().zip(cols) {
            d.set_item(name, col)?;
        }
        Ok(d)
    }

    /// The drift events only (`kl_drift_detected`, `kl_drift_trend`).
    #[pyo3(signature = (active_only = false))]
    fn get_kl_drift_anomalies<'py>(
        &self,
        py: Python<'py>,
        active_only: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        event_list(py, self.inner.events(), active_only, None, |e| {
            e.kind.starts_with("kl_drift")
        })
    }

    /// RLDK's summary dict (21 keys); `{}` before any update.
    fn get_summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        if self.inner.updates() == 0 {
            return Ok(d);
        }
        let m = PyKlMetrics {
            inner: self.inner.metrics().clone(),
        }
        .to_dict(py)?;
        d.set_item("total_steps", self.inner.updates())?;
        for key in [
            "current_kl",
            "current_kl_coef",
            "kl_target",
            "kl_health_score",
            "schedule_health_score",
            "time_in_target_range",
            "target_range_violations",
            "controller_responsiveness",
            "controller_overshoot",
            "controller_oscillation",
            "coef_adaptation_quality",
            "kl_drift_score",
            "kl_drift_detected",
            "kl_drift_trend",
            "kl_reference_mean",
            "kl_reference_std",
            "kl_current_mean",
            "kl_current_std",
            "kl_drift_kl_divergence",
        ] {
            d.set_item(key, m.get_item(key)?)?;
        }
        d.set_item("anomalies", self.get_anomalies(py, false)?)?;
        Ok(d)
    }

    /// RLDK's drift bookkeeping alone: one KL value into the drift reference or window
    /// (`update` already does this); a no-op when drift tracking is off.
    fn track_kl_distribution(
        &mut self,
        step: &Bound<'_, PyAny>,
        kl_value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let step = number("step", step)?;
        let kl = number("kl_value", kl_value)?;
        self.inner.track_kl_distribution(step, kl).py()
    }

    /// `(divergence, details)` of the latest drift test; `(None, {"reason": ...})` before
    /// the reference and the current window are filled or when drift tracking is off.
    fn detect_kl_drift<'py>(&self, py: Python<'py>) -> PyResult<(Option<f64>, Bound<'py, PyDict>)> {
        let d = PyDict::new(py);
        match self.inner.drift_details() {
            Some(x) => {
                d.set_item("ks_statistic", x.ks_statistic)?;
                d.set_item("ks_p_value", x.ks_p_value)?;
                d.set_item("raw_divergence", x.raw_divergence)?;
                d.set_item("corrected_divergence", x.corrected_divergence)?;
                d.set_item("bins", x.bins)?;
                d.set_item("reference_size", x.reference_size)?;
                d.set_item("window_size", x.window_size)?;
                Ok((self.inner.metrics().kl_drift_kl_divergence, d))
            }
            None => {
                let reason = if self.inner.config().enable_drift_tracking {
                    "insufficient_data"
                } else {
                    "drift_tracking_disabled"
                };
                d.set_item("reason", reason)?;
                Ok((None, d))
            }
        }
    }

    /// RLDK's score: 1 − exp(−divergence / drift_threshold), 0 for divergence ≤ 0.
    fn calculate_kl_drift_score(&self, divergence: f64) -> f64 {
        if divergence > 0.0 {
            (1.0 - (-divergence / self.inner.config().drift_threshold).exp()).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    /// Details of the latest drift test (`{}` before the first).
    #[getter]
    fn latest_drift_details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        if self.inner.drift_details().is_some() {
            Ok(self.detect_kl_drift(py)?.1)
        } else {
            Ok(PyDict::new(py))
        }
    }

    /// The last `window_size` finite KL values, oldest first.
    #[getter]
    fn kl_history(&self) -> Vec<f64> {
        self.inner.kl_history().collect()
    }

    /// The last `controller_window` coefficients logged with a finite KL (NaN: not logged).
    #[getter]
    fn kl_coef_history(&self) -> Vec<f64> {
        self.inner.coef_history().collect()
    }

    /// The logged steps of `kl_history`.
    #[getter]
    fn step_history(&self) -> Vec<f64> {
        self.inner.step_history().collect()
    }

    /// Non-finite coefficients seen.
    #[getter]
    fn nonfinite_coef_count(&self) -> u64 {
        self.inner.nonfinite_coef()
    }

    #[getter]
    fn kl_target(&self) -> f64 {
        self.inner.config().kl_target
    }
    #[getter]
    fn kl_target_tolerance(&self) -> f64 {
        self.inner.config().kl_target_tolerance
    }
    #[getter]
    fn target_range_low(&self) -> f64 {
        self.inner.config().band_low()
    }
    #[getter]
    fn target_range_high(&self) -> f64 {
        self.inner.config().band_high()
    }
    #[getter]
    fn window_size(&self) -> usize {
        self.inner.config().window_size
    }
    #[getter]
    fn trend_window(&self) -> usize {
        self.inner.config().trend_window
    }
    #[getter]
    fn controller_window(&self) -> usize {
        self.inner.config().controller_window
    }
    #[getter]
    fn drift_threshold(&self) -> f64 {
        self.inner.config().drift_threshold
    }
    #[getter]
    fn drift_window_size(&self) -> usize {
        self.inner.config().drift_window_size
    }
    #[getter]
    fn reference_period(&self) -> usize {
        self.inner.config().reference_period
    }
    #[getter]
    fn enable_drift_tracking(&self) -> bool {
        self.inner.config().enable_drift_tracking
    }
    #[getter]
    fn drift_alpha(&self) -> f64 {
        self.inner.config().drift_alpha
    }
    #[getter]
    fn history_size(&self) -> usize {
        self.inner.config().history_size
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "KLScheduleTracker(kl_target={}, kl_target_tolerance={}, updates={}, active_anomalies={})",
            c.kl_target,
            c.kl_target_tolerance,
            self.inner.updates(),
            self.inner.events().active().count()
        )
    }
}

impl_pickle!(PyKlTracker, "KLScheduleTracker", |s| {
    let c = *s.inner.config();
    (
        c.kl_target,
        c.kl_target_tolerance,
        c.window_size,
        c.trend_window,
        c.controller_window,
        c.drift_threshold,
        c.drift_window_size,
        c.reference_period,
        c.enable_drift_tracking,
    )
});

tracker_methods!(PyKlTracker, PyKlMetrics, KlHistory);

history_view!(
    KlHistory,
    "KLMetricsHistory",
    PyKlTracker,
    PyKlMetrics,
    inner
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyKlMetrics>()?;
    m.add_class::<PyKlTracker>()?;
    m.add_class::<KlHistory>()?;
    Ok(())
}
