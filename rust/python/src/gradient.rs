//! `GradientNormsAnalyzer` and `GradientNormsMetrics`: RLDK's names over the core analyzer.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rlforensics_core::forensics::gradient::{
    gradient_batch_into, GradientAnalyzer, GradientConfig, GradientMetrics, GRADIENT_NUMERIC_FIELDS,
};

use crate::arrays::{fill_columns_detached, fmt_opt, slice, Floats};
use crate::convert::{number, opt_number};
use crate::errors::{count, count32, IntoPy};
use crate::events::opt_step;
use crate::history::{history_view, tracker_methods};
use crate::pickling::impl_pickle;

/// One snapshot of the gradient-norm analyzer (RLDK's 25 fields plus `step` and
/// `nonfinite_count`); a statistic without enough data yet is `None`.
#[pyclass(
    module = "rlforensics._core",
    name = "GradientNormsMetrics",
    frozen,
    eq
)]
#[derive(Clone, Debug, PartialEq)]
pub struct PyGradMetrics {
    pub inner: GradientMetrics,
}

macro_rules! getters {
    ($($field:ident : $ty:ty),* $(,)?) => {
        #[pymethods]
        impl PyGradMetrics {
            $(
                #[getter]
                fn $field(&self) -> $ty {
                    self.inner.$field
                }
            )*
        }
    };
}

getters!(
    policy_grad_norm: Option<f64>,
    value_grad_norm: Option<f64>,
    total_grad_norm: Option<f64>,
    policy_value_ratio: Option<f64>,
    policy_total_ratio: Option<f64>,
    value_total_ratio: Option<f64>,
    gradient_flow_health: Option<f64>,
    gradient_balance: Option<f64>,
    gradient_stability: Option<f64>,
    policy_grad_trend: Option<f64>,
    value_grad_trend: Option<f64>,
    ratio_trend: Option<f64>,
    exploding_gradient_risk: Option<f64>,
    vanishing_gradient_risk: Option<f64>,
    gradient_imbalance_risk: Option<f64>,
    adaptive_explosion_risk: Option<f64>,
    statistical_outlier_risk: Option<f64>,
    momentum_instability_risk: Option<f64>,
    multi_scale_anomaly_risk: Option<f64>,
    early_warning_score: Option<f64>,
    exponential_smoothing_trend: Option<f64>,
    change_point_detected: bool,
    gradient_acceleration: Option<f64>,
    gradient_health_score: Option<f64>,
    training_stability: Option<f64>,
    nonfinite_count: u64,
);

#[pymethods]
impl PyGradMetrics {
    /// The empty snapshot (before any update).
    #[new]
    fn new() -> Self {
        PyGradMetrics {
            inner: GradientMetrics::empty(),
        }
    }

    /// Logged step of the update that produced this snapshot (`None` before any).
    #[getter]
    fn step<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_step(py, self.inner.step)
    }

    /// Every field as a dict.
    pub fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, v) in GRADIENT_NUMERIC_FIELDS.iter().zip(self.inner.numeric()) {
            match *name {
                "step" => d.set_item(name, self.step(py)?)?,
                "change_point_detected" => d.set_item(name, self.inner.change_point_detected)?,
                "nonfinite_count" => d.set_item(name, self.inner.nonfinite_count)?,
                "policy_grad_norm" => d.set_item(name, self.inner.policy_grad_norm)?,
                "value_grad_norm" => d.set_item(name, self.inner.value_grad_norm)?,
                "total_grad_norm" => d.set_item(name, self.inner.total_grad_norm)?,
                // Every other field is an optional float: NaN in `numeric` means None.
                _ => d.set_item(name, (!v.is_nan()).then_some(v))?,
            }
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let m = &self.inner;
        format!(
            "GradientNormsMetrics(step={}, total_grad_norm={}, gradient_health_score={}, \
             training_stability={})",
            m.step,
            fmt_opt(m.total_grad_norm),
            fmt_opt(m.gradient_health_score),
            fmt_opt(m.training_stability)
        )
    }
}

/// Streaming analysis of gradient norms (RLDK's `GradientNormsAnalyzer`).
///
/// `update(step, policy_grad_norm, value_grad_norm, total_grad_norm)` accepts any subset of
/// the three norms (GRPO and RLOO log only the total `grad_norm`). `get_anomalies()` returns
/// anomaly events with `first_step`/`last_step`; `metrics_history` keeps the last
/// `history_size` snapshots (default 10,000).
#[pyclass(module = "rlforensics._core", name = "GradientNormsAnalyzer")]
#[derive(Clone, Debug)]
pub struct PyGradAnalyzer {
    pub inner: GradientAnalyzer,
}

#[pymethods]
impl PyGradAnalyzer {
    #[new]
    #[pyo3(signature = (
        window_size = 50,
        trend_window = 20,
        exploding_threshold = 10.0,
        vanishing_threshold = 0.001,
        imbalance_threshold = 0.1,
        z_score_threshold = 2.5,
        iqr_multiplier = 1.5,
        momentum_window = 10,
        early_warning_threshold = 0.7,
        smoothing_alpha = 0.3,
        change_point_sensitivity = 0.1,
        enable_advanced_detection = true,
        *,
        event_release = 10,
        max_events = 1000,
        history_size = 10_000,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        window_size: i64,
        trend_window: i64,
        exploding_threshold: f64,
        vanishing_threshold: f64,
        imbalance_threshold: f64,
        z_score_threshold: f64,
        iqr_multiplier: f64,
        momentum_window: i64,
        early_warning_threshold: f64,
        smoothing_alpha: f64,
        change_point_sensitivity: f64,
        enable_advanced_detection: bool,
        event_release: i64,
        max_events: i64,
        history_size: i64,
    ) -> PyResult<Self> {
        let cfg = GradientConfig {
            window_size: count("window_size", window_size)?,
            trend_window: count("trend_window", trend_window)?,
            exploding_threshold,
            vanishing_threshold,
            imbalance_threshold,
            z_score_threshold,
            iqr_multiplier,
            momentum_window: count("momentum_window", momentum_window)?,
            early_warning_threshold,
            smoothing_alpha,
            change_point_sensitivity,
            enable_advanced_detection,
            event_release: count32("event_release", event_release)?,
            max_events: count("max_events", max_events)?,
            history_size: count("history_size", history_size)?,
        };
        Ok(PyGradAnalyzer {
            inner: GradientAnalyzer::new(cfg).py()?,
        })
    }

    /// One logged step; each norm may be any number or None when not logged.
    #[pyo3(signature = (step, policy_grad_norm = None, value_grad_norm = None, total_grad_norm = None))]
    fn update(
        &mut self,
        step: &Bound<'_, PyAny>,
        policy_grad_norm: Option<&Bound<'_, PyAny>>,
        value_grad_norm: Option<&Bound<'_, PyAny>>,
        total_grad_norm: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyGradMetrics> {
        let step = number("step", step)?;
        let p = opt_number("policy_grad_norm", policy_grad_norm)?;
        let v = opt_number("value_grad_norm", value_grad_norm)?;
        let t = opt_number("total_grad_norm", total_grad_norm)?;
        Ok(PyGradMetrics {
            inner: self.inner.update(step, p, v, t).clone(),
        })
    }

    /// Feeds whole columns (a column that is None was not logged; NaN is a non-finite
    /// value) with the GIL released; returns each step's metrics as NumPy columns.
    #[pyo3(signature = (steps, policy_grad_norm = None, value_grad_norm = None, total_grad_norm = None))]
    fn update_many<'py>(
        &mut self,
        py: Python<'py>,
        steps: Floats<'py>,
        policy_grad_norm: Option<Floats<'py>>,
        value_grad_norm: Option<Floats<'py>>,
        total_grad_norm: Option<Floats<'py>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let steps = slice(&steps);
        let p = policy_grad_norm.as_ref().map(slice);
        let v = value_grad_norm.as_ref().map(slice);
        let t = total_grad_norm.as_ref().map(slice);
        let inner = &mut self.inner;
        let k = GRADIENT_NUMERIC_FIELDS.len();
        let (cols, done) = fill_columns_detached(py, k, steps.len(), |out| {
            gradient_batch_into(inner, &steps, p.as_deref(), v.as_deref(), t.as_deref(), out)
        })?;
        done.py()?;
        let d = PyDict::new(py);
        for (name, col) in GRADIENT_NUMERIC_FIELDS.iter().zip(cols) {
            d.set_item(name, col)?;
        }
        Ok(d)
    }

    /// RLDK's summary dict (25 keys); `{}` before any update.
    fn get_summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        if self.inner.updates() == 0 {
            return Ok(d);
        }
        let m = self.current_metrics().to_dict(py)?;
        d.set_item("total_steps", self.inner.updates())?;
        for (key, field) in [
            ("current_policy_grad_norm", "policy_grad_norm"),
            ("current_value_grad_norm", "value_grad_norm"),
            ("current_total_grad_norm", "total_grad_norm"),
            ("current_policy_value_ratio", "policy_value_ratio"),
        ] {
            d.set_item(key, m.get_item(field)?)?;
        }
        for key in [
            "gradient_health_score",
            "training_stability",
            "gradient_flow_health",
            "gradient_balance",
            "gradient_stability",
            "exploding_gradient_risk",
            "vanishing_gradient_risk",
            "gradient_imbalance_risk",
            "policy_grad_trend",
            "value_grad_trend",
            "ratio_trend",
            "adaptive_explosion_risk",
            "statistical_outlier_risk",
            "momentum_instability_risk",
            "multi_scale_anomaly_risk",
            "early_warning_score",
            "exponential_smoothing_trend",
            "change_point_detected",
            "gradient_acceleration",
        ] {
            d.set_item(key, m.get_item(key)?)?;
        }
        d.set_item("anomalies", self.get_anomalies(py, false)?)?;
        Ok(d)
    }

    /// The last `window_size` finite policy norms, oldest first.
    #[getter]
    fn policy_grad_history(&self) -> Vec<f64> {
        self.inner.policy_history()
    }

    /// The last `window_size` finite value norms.
    #[getter]
    fn value_grad_history(&self) -> Vec<f64> {
        self.inner.value_history()
    }

    /// The last `window_size` finite total norms.
    #[getter]
    fn total_grad_history(&self) -> Vec<f64> {
        self.inner.total_history()
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
    fn exploding_threshold(&self) -> f64 {
        self.inner.config().exploding_threshold
    }
    #[getter]
    fn vanishing_threshold(&self) -> f64 {
        self.inner.config().vanishing_threshold
    }
    #[getter]
    fn imbalance_threshold(&self) -> f64 {
        self.inner.config().imbalance_threshold
    }
    #[getter]
    fn z_score_threshold(&self) -> f64 {
        self.inner.config().z_score_threshold
    }
    #[getter]
    fn iqr_multiplier(&self) -> f64 {
        self.inner.config().iqr_multiplier
    }
    #[getter]
    fn momentum_window(&self) -> usize {
        self.inner.config().momentum_window
    }
    #[getter]
    fn early_warning_threshold(&self) -> f64 {
        self.inner.config().early_warning_threshold
    }
    #[getter]
    fn smoothing_alpha(&self) -> f64 {
        self.inner.config().smoothing_alpha
    }
    #[getter]
    fn change_point_sensitivity(&self) -> f64 {
        self.inner.config().change_point_sensitivity
    }
    #[getter]
    fn enable_advanced_detection(&self) -> bool {
        self.inner.config().enable_advanced_detection
    }
    #[getter]
    fn history_size(&self) -> usize {
        self.inner.config().history_size
    }

    fn __repr__(&self) -> String {
        format!(
            "GradientNormsAnalyzer(exploding_threshold={}, vanishing_threshold={}, updates={}, \
             active_anomalies={})",
            self.inner.config().exploding_threshold,
            self.inner.config().vanishing_threshold,
            self.inner.updates(),
            self.inner.events().active().count()
        )
    }
}

impl_pickle!(PyGradAnalyzer, "GradientNormsAnalyzer", |s| {
    let c = *s.inner.config();
    (
        c.window_size,
        c.trend_window,
        c.exploding_threshold,
        c.vanishing_threshold,
        c.imbalance_threshold,
        c.z_score_threshold,
        c.iqr_multiplier,
        c.momentum_window,
        c.early_warning_threshold,
        c.smoothing_alpha,
        c.change_point_sensitivity,
        c.enable_advanced_detection,
    )
});

tracker_methods!(PyGradAnalyzer, PyGradMetrics, GradHistory);

history_view!(
    GradHistory,
    "GradientMetricsHistory",
    PyGradAnalyzer,
    PyGradMetrics,
    inner
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGradMetrics>()?;
    m.add_class::<PyGradAnalyzer>()?;
    m.add_class::<GradHistory>()?;
    Ok(())
}
