//! The comprehensive forensics' core object (`ComprehensivePPOMetrics` is in
//! `comprehensive_metrics`).
//!
//! The trackers are kept as their own Python objects (`KLScheduleTracker`, ...), shared
//! with the user through `kl_schedule_tracker` and friends, and borrowed mutably for each
//! update; the comprehensive layer (length bias, input checks, scores, events) is state
//! of this object. The public `ComprehensivePPOForensics` (Python) wraps this class and
//! converts RLDK's response payloads.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple, PyType};
use rlforensics_core::forensics::comprehensive::{
    comprehensive_batch_into, ComprehensiveConfig, ComprehensiveForensics, ComprehensiveMetrics,
    Layer, StepColumns, StepInput, Trackers, COMPREHENSIVE_NUMERIC_FIELDS,
};
use rlforensics_core::forensics::AnomalyEvent;

use crate::advantage::PyAdvTracker;
use crate::arrays::{fill_columns_detached, opt_slice, slice, Floats};
use crate::comprehensive_metrics::{length_metrics_dict, PyCompMetrics};
use crate::convert::{number, opt_number};
use crate::errors::{count, count32, to_py, IntoPy};
use crate::events::event_dict;
use crate::gradient::PyGradAnalyzer;
use crate::history::history_view;
use crate::kl_schedule::PyKlTracker;

const TAG: &str = "ComprehensivePPOForensics";

/// The engine of `ComprehensivePPOForensics` (use that class; this one takes response
/// records as two arrays).
#[pyclass(module = "rlforensics._core", name = "ComprehensiveForensicsCore")]
pub struct PyComprehensive {
    pub layer: Layer,
    kl: Option<Py<PyKlTracker>>,
    gradient: Option<Py<PyGradAnalyzer>>,
    advantage: Option<Py<PyAdvTracker>>,
}

impl PyComprehensive {
    fn from_core(py: Python<'_>, f: ComprehensiveForensics) -> PyResult<Self> {
        let (kl, gradient, advantage, layer) = f.into_parts();
        Ok(PyComprehensive {
            layer,
            kl: kl
                .map(|inner| Py::new(py, PyKlTracker { inner }))
                .transpose()?,
            gradient: gradient
                .map(|inner| Py::new(py, PyGradAnalyzer { inner }))
                .transpose()?,
            advantage: advantage
                .map(|inner| Py::new(py, PyAdvTracker { inner }))
                .transpose()?,
        })
    }

    /// An owned copy of every part, for snapshots and batch work.
    fn to_core(&self, py: Python<'_>) -> PyResult<ComprehensiveForensics> {
        let kl = self.kl.as_ref().map(|k| k.borrow(py).inner.clone());
        let gradient = self.gradient.as_ref().map(|g| g.borrow(py).inner.clone());
        let advantage = self.advantage.as_ref().map(|a| a.borrow(py).inner.clone());
        ComprehensiveForensics::from_parts(kl, gradient, advantage, self.layer.clone()).py()
    }

    fn step_with(
        &mut self,
        py: Python<'_>,
        input: StepInput,
        samples: Option<&[f64]>,
        responses: &[(f64, f64)],
    ) -> PyResult<Arc<ComprehensiveMetrics>> {
        let mut kl = self.kl.as_ref().map(|k| k.borrow_mut(py));
        let mut gradient = self.gradient.as_ref().map(|g| g.borrow_mut(py));
        let mut advantage = self.advantage.as_ref().map(|a| a.borrow_mut(py));
        let trackers = Trackers {
            kl: kl.as_deref_mut().map(|k| &mut k.inner),
            gradient: gradient.as_deref_mut().map(|g| &mut g.inner),
            advantage: advantage.as_deref_mut().map(|a| &mut a.inner),
        };
        Ok(self
            .layer
            .update(trackers, input, samples, responses)
            .clone())
    }

    fn layer_tag(e: &AnomalyEvent) -> &'static str {
        if e.kind.starts_with("length_bias") {
            "length_bias"
        } else {
            "comprehensive"
        }
    }
}

#[pymethods]
impl PyComprehensive {
    #[new]
    #[pyo3(signature = (
        kl_target = 0.1,
        kl_target_tolerance = 0.05,
        window_size = 100,
        enable_kl_schedule_tracking = true,
        enable_gradient_norms_analysis = true,
        enable_advantage_statistics = true,
        enable_kl_drift_tracking = true,
        kl_drift_threshold = 0.15,
        kl_drift_window_size = 100,
        kl_drift_reference_period = 500,
        enable_length_bias_detection = true,
        length_bias_threshold = 0.35,
        *,
        length_bias_window = 1024,
        event_release = 10,
        max_events = 1000,
        history_size = 10_000,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        kl_target: f64,
        kl_target_tolerance: f64,
        window_size: i64,
        enable_kl_schedule_tracking: bool,
        enable_gradient_norms_analysis: bool,
        enable_advantage_statistics: bool,
        enable_kl_drift_tracking: bool,
        kl_drift_threshold: f64,
        kl_drift_window_size: i64,
        kl_drift_reference_period: i64,
        enable_length_bias_detection: bool,
        length_bias_threshold: f64,
        length_bias_window: i64,
        event_release: i64,
        max_events: i64,
        history_size: i64,
    ) -> PyResult<Self> {
        let cfg = ComprehensiveConfig {
            kl_target,
            kl_target_tolerance,
            window_size: count("window_size", window_size)?,
            enable_kl_schedule_tracking,
            enable_gradient_norms_analysis,
            enable_advantage_statistics,
            enable_kl_drift_tracking,
            kl_drift_threshold,
            kl_drift_window_size: count("kl_drift_window_size", kl_drift_window_size)?,
            kl_drift_reference_period: count(
                "kl_drift_reference_period",
                kl_drift_reference_period,
            )?,
            enable_length_bias_detection,
            length_bias_threshold,
            length_bias_window: count("length_bias_window", length_bias_window)?,
            event_release: count32("event_release", event_release)?,
            max_events: count("max_events", max_events)?,
            history_size: count("history_size", history_size)?,
        };
        Self::from_core(py, ComprehensiveForensics::new(cfg).py()?)
    }

    /// One logged step. Every metric may be any number or None when not logged;
    /// `response_rewards`/`response_lengths` are this step's response records.
    #[pyo3(signature = (
        step, kl = None, kl_coef = None, entropy = None, reward_mean = None, reward_std = None,
        policy_grad_norm = None, value_grad_norm = None, total_grad_norm = None,
        advantage_mean = None, advantage_std = None, advantage_min = None,
        advantage_max = None, advantage_median = None, advantage_samples = None,
        response_rewards = None, response_lengths = None, response_reward = None,
        response_length = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn update(
        &mut self,
        py: Python<'_>,
        step: &Bound<'_, PyAny>,
        kl: Option<&Bound<'_, PyAny>>,
        kl_coef: Option<&Bound<'_, PyAny>>,
        entropy: Option<&Bound<'_, PyAny>>,
        reward_mean: Option<&Bound<'_, PyAny>>,
        reward_std: Option<&Bound<'_, PyAny>>,
        policy_grad_norm: Option<&Bound<'_, PyAny>>,
        value_grad_norm: Option<&Bound<'_, PyAny>>,
        total_grad_norm: Option<&Bound<'_, PyAny>>,
        advantage_mean: Option<&Bound<'_, PyAny>>,
        advantage_std: Option<&Bound<'_, PyAny>>,
        advantage_min: Option<&Bound<'_, PyAny>>,
        advantage_max: Option<&Bound<'_, PyAny>>,
        advantage_median: Option<&Bound<'_, PyAny>>,
        advantage_samples: Option<Floats<'_>>,
        response_rewards: Option<Floats<'_>>,
        response_lengths: Option<Floats<'_>>,
        response_reward: Option<&Bound<'_, PyAny>>,
        response_length: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyCompMetrics> {
        let input = StepInput {
            step: number("step", step)?,
            kl: opt_number("kl", kl)?,
            kl_coef: opt_number("kl_coef", kl_coef)?,
            entropy: opt_number("entropy", entropy)?,
            reward_mean: opt_number("reward_mean", reward_mean)?,
            reward_std: opt_number("reward_std", reward_std)?,
            policy_grad_norm: opt_number("policy_grad_norm", policy_grad_norm)?,
            value_grad_norm: opt_number("value_grad_norm", value_grad_norm)?,
            total_grad_norm: opt_number("total_grad_norm", total_grad_norm)?,
            advantage_mean: opt_number("advantage_mean", advantage_mean)?,
            advantage_std: opt_number("advantage_std", advantage_std)?,
            advantage_min: opt_number("advantage_min", advantage_min)?,
            advantage_max: opt_number("advantage_max", advantage_max)?,
            advantage_median: opt_number("advantage_median", advantage_median)?,
        };
        // One record given as scalars (the common per-step case) skips building arrays; an
        // unreadable length is NaN (counted as invalid), an unreadable reward an error.
        let single = opt_number("response_reward", response_reward)?.map(|r| {
            let length = opt_number("response_length", response_length)
                .ok()
                .flatten();
            (r, length.unwrap_or(f64::NAN))
        });
        let mut responses: Vec<(f64, f64)> = match (&response_rewards, &response_lengths) {
            (Some(r), Some(l)) => {
                let (r, l) = (slice(r), slice(l));
                if r.len() != l.len() {
                    return Err(pyo3::exceptions::PyValueError::new_err(format!(
                        "response_rewards and response_lengths: lengths differ ({} vs {})",
                        r.len(),
                        l.len()
                    )));
                }
                r.iter().copied().zip(l.iter().copied()).collect()
            }
            (None, None) => Vec::new(),
            _ => {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "response_rewards and response_lengths: give both or neither",
                ))
            }
        };
        responses.extend(single);
        let samples = advantage_samples.as_ref().map(slice);
        Ok(PyCompMetrics {
            inner: self.step_with(py, input, samples.as_deref(), &responses)?,
        })
    }

    /// Feeds whole columns (None: not logged; NaN: a non-finite value) as repeated
    /// updates, with the GIL released; returns each step's scalar metrics as columns.
    #[pyo3(signature = (
        steps, kl = None, kl_coef = None, entropy = None, reward_mean = None,
        reward_std = None, policy_grad_norm = None, value_grad_norm = None,
        total_grad_norm = None, advantage_mean = None, advantage_std = None,
        advantage_min = None, advantage_max = None, advantage_median = None,
        response_reward = None, response_length = None, response_counts = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn update_many<'py>(
        &mut self,
        py: Python<'py>,
        steps: Floats<'py>,
        kl: Option<Floats<'py>>,
        kl_coef: Option<Floats<'py>>,
        entropy: Option<Floats<'py>>,
        reward_mean: Option<Floats<'py>>,
        reward_std: Option<Floats<'py>>,
        policy_grad_norm: Option<Floats<'py>>,
        value_grad_norm: Option<Floats<'py>>,
        total_grad_norm: Option<Floats<'py>>,
        advantage_mean: Option<Floats<'py>>,
        advantage_std: Option<Floats<'py>>,
        advantage_min: Option<Floats<'py>>,
        advantage_max: Option<Floats<'py>>,
        advantage_median: Option<Floats<'py>>,
        response_reward: Option<Floats<'py>>,
        response_length: Option<Floats<'py>>,
        response_counts: Option<Floats<'py>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let steps = slice(&steps);
        let (kl, kl_coef, entropy, reward_mean, reward_std) = (
            opt_slice(&kl),
            opt_slice(&kl_coef),
            opt_slice(&entropy),
            opt_slice(&reward_mean),
            opt_slice(&reward_std),
        );
        let (p, v, t) = (
            opt_slice(&policy_grad_norm),
            opt_slice(&value_grad_norm),
            opt_slice(&total_grad_norm),
        );
        let (am, asd) = (opt_slice(&advantage_mean), opt_slice(&advantage_std));
        let (amin, amax, amed) = (
            opt_slice(&advantage_min),
            opt_slice(&advantage_max),
            opt_slice(&advantage_median),
        );
        let (rr, rl, rc) = (
            opt_slice(&response_reward),
            opt_slice(&response_length),
            opt_slice(&response_counts),
        );
        let cols = StepColumns {
            steps: &steps,
            kl: kl.as_deref(),
            kl_coef: kl_coef.as_deref(),
            entropy: entropy.as_deref(),
            reward_mean: reward_mean.as_deref(),
            reward_std: reward_std.as_deref(),
            policy_grad_norm: p.as_deref(),
            value_grad_norm: v.as_deref(),
            total_grad_norm: t.as_deref(),
            advantage_mean: am.as_deref(),
            advantage_std: asd.as_deref(),
            advantage_min: amin.as_deref(),
            advantage_max: amax.as_deref(),
            advantage_median: amed.as_deref(),
            response_reward: rr.as_deref(),
            response_length: rl.as_deref(),
            response_counts: rc.as_deref(),
        };
        // The batch runs on an owned copy without the GIL, then the parts go back.
        let mut core = self.to_core(py)?;
        let k = COMPREHENSIVE_NUMERIC_FIELDS.len();
        let (out, done) = fill_columns_detached(py, k, cols.steps.len(), |out| {
            comprehensive_batch_into(&mut core, &cols, out)
        })?;
        done.py()?;
        let (kl_t, grad_t, adv_t, layer) = core.into_parts();
        if let (Some(dst), Some(src)) = (&self.kl, kl_t) {
            dst.borrow_mut(py).inner = src;
        }
        if let (Some(dst), Some(src)) = (&self.gradient, grad_t) {
            dst.borrow_mut(py).inner = src;
        }
        if let (Some(dst), Some(src)) = (&self.advantage, adv_t) {
            dst.borrow_mut(py).inner = src;
        }
        self.layer = layer;
        let d = PyDict::new(py);
        for (name, col) in COMPREHENSIVE_NUMERIC_FIELDS.iter().zip(out) {
            d.set_item(name, col)?;
        }
        Ok(d)
    }

    /// Every tracker's events (KL, gradient, advantage, then this layer's), each tagged with
    /// its `tracker`; only the open ones with `active_only`; only those that held at step
    /// `at_step` when given (what a per-step caller needs, without converting the rest).
    #[pyo3(signature = (active_only = false, at_step = None))]
    fn get_anomalies<'py>(
        &self,
        py: Python<'py>,
        active_only: bool,
        at_step: Option<f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let keep = |e: &AnomalyEvent| {
            (!active_only || e.active) && at_step.is_none_or(|s| e.last_step == s)
        };
        if let Some(k) = &self.kl {
            for e in k.borrow(py).inner.events().events().filter(|e| keep(e)) {
                out.append(event_dict(py, e, Some("kl_schedule"))?)?;
            }
        }
        if let Some(g) = &self.gradient {
            for e in g.borrow(py).inner.events().events().filter(|e| keep(e)) {
                out.append(event_dict(py, e, Some("gradient_norms"))?)?;
            }
        }
        if let Some(a) = &self.advantage {
            for e in a.borrow(py).inner.events().events().filter(|e| keep(e)) {
                out.append(event_dict(py, e, Some("advantage_statistics"))?)?;
            }
        }
        for e in self.layer.events().events().filter(|e| keep(e)) {
            out.append(event_dict(py, e, Some(Self::layer_tag(e)))?)?;
        }
        Ok(out)
    }

    /// The length-bias analysis as a dict (RLDK's `LengthBiasMetrics.to_dict()`), or None
    /// when length bias is disabled.
    fn length_bias_metrics<'py>(
        &mut self,
        py: Python<'py>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        match self.layer.length_bias() {
            Some(lb) => Ok(Some(length_metrics_dict(py, lb.metrics())?)),
            None => Ok(None),
        }
    }

    /// Records whose reward or length was missing or non-finite.
    #[getter]
    fn invalid_response_count(&self) -> u64 {
        self.layer.length_bias_ref().map_or(0, |l| l.invalid())
    }

    /// The KL tracker (shared, live), or None when disabled.
    #[getter]
    fn kl_schedule_tracker(&self, py: Python<'_>) -> Option<Py<PyKlTracker>> {
        self.kl.as_ref().map(|k| k.clone_ref(py))
    }

    /// The gradient analyzer (shared, live), or None when disabled.
    #[getter]
    fn gradient_norms_analyzer(&self, py: Python<'_>) -> Option<Py<PyGradAnalyzer>> {
        self.gradient.as_ref().map(|g| g.clone_ref(py))
    }

    /// The advantage tracker (shared, live), or None when disabled.
    #[getter]
    fn advantage_statistics_tracker(&self, py: Python<'_>) -> Option<Py<PyAdvTracker>> {
        self.advantage.as_ref().map(|a| a.clone_ref(py))
    }

    /// The latest snapshot.
    #[getter]
    fn current_metrics(&self) -> PyCompMetrics {
        PyCompMetrics {
            inner: self.layer.metrics().clone(),
        }
    }

    /// The retained snapshots, oldest first (read-only view).
    #[getter]
    fn comprehensive_metrics_history(slf: Bound<'_, Self>) -> CompHistory {
        CompHistory {
            tracker: slf.unbind(),
        }
    }

    /// The last `n` snapshots (at most the history) as CSV lines and as JSON objects, one per
    /// line each: `step`, the metric inputs and the three scores (empty / null where not
    /// logged or not finite). For writers that append a run's metrics file as it goes.
    fn metrics_rows(&self, n: usize) -> (String, String) {
        use std::fmt::Write;
        let h = self.layer.history();
        let (mut csv, mut json) = (String::new(), String::new());
        for m in h.iter().skip(h.len().saturating_sub(n)) {
            let i = &m.input;
            let values = [
                Some(i.step),
                i.kl,
                i.kl_coef,
                i.entropy,
                i.reward_mean,
                i.reward_std,
                i.policy_grad_norm,
                i.value_grad_norm,
                i.total_grad_norm,
                i.advantage_mean,
                i.advantage_std,
                m.overall_health_score,
                m.training_stability_score,
                m.convergence_quality_score,
            ];
            json.push('{');
            for (k, (name, v)) in METRICS_ROW_FIELDS.iter().zip(values).enumerate() {
                let v = v.filter(|x| x.is_finite());
                if k > 0 {
                    csv.push(',');
                    json.push_str(", ");
                }
                let _ = write!(json, "\"{name}\": ");
                match v {
                    // Integral steps print as integers, as the trainer logged them.
                    Some(x) if k == 0 && x.fract() == 0.0 && x.abs() < 9e15 => {
                        let _ = write!(csv, "{}", x as i64);
                        let _ = write!(json, "{}", x as i64);
                    }
                    Some(x) => {
                        let _ = write!(csv, "{x:?}");
                        let _ = write!(json, "{x:?}");
                    }
                    None => json.push_str("null"),
                }
            }
            csv.push('\n');
            json.push_str("}\n");
        }
        (csv, json)
    }

    /// Column names of `metrics_rows`.
    #[staticmethod]
    fn metrics_row_fields() -> Vec<&'static str> {
        METRICS_ROW_FIELDS.to_vec()
    }

    /// Updates seen.
    #[getter]
    fn total_updates(&self) -> u64 {
        self.layer.updates()
    }

    /// `rows` logged rows in steps, at the median positive gap between the steps seen so
    /// far (as the scanner measures a log's stride): the diagnosis horizon.
    fn diagnosis_horizon(&self, rows: f64) -> f64 {
        self.layer.stride().horizon(rows)
    }

    #[getter]
    fn kl_target(&self) -> f64 {
        self.layer.config().kl_target
    }
    #[getter]
    fn kl_target_tolerance(&self) -> f64 {
        self.layer.config().kl_target_tolerance
    }
    #[getter]
    fn window_size(&self) -> usize {
        self.layer.config().window_size
    }
    #[getter]
    fn enable_kl_schedule_tracking(&self) -> bool {
        self.layer.config().enable_kl_schedule_tracking
    }
    #[getter]
    fn enable_gradient_norms_analysis(&self) -> bool {
        self.layer.config().enable_gradient_norms_analysis
    }
    #[getter]
    fn enable_advantage_statistics(&self) -> bool {
        self.layer.config().enable_advantage_statistics
    }
    #[getter]
    fn enable_kl_drift_tracking(&self) -> bool {
        self.layer.config().enable_kl_drift_tracking
    }
    #[getter]
    fn kl_drift_threshold(&self) -> f64 {
        self.layer.config().kl_drift_threshold
    }
    #[getter]
    fn enable_length_bias_detection(&self) -> bool {
        self.layer.config().enable_length_bias_detection
    }
    #[getter]
    fn length_bias_threshold(&self) -> f64 {
        self.layer.config().length_bias_threshold
    }
    #[getter]
    fn length_bias_corr_threshold(&self) -> f64 {
        (self.layer.config().length_bias_threshold + 0.05).clamp(0.2, 0.6)
    }
    #[getter]
    fn history_size(&self) -> usize {
        self.layer.config().history_size
    }

    /// The whole state as bytes (versioned); restore with `from_bytes`.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let core = self.to_core(py)?;
        Ok(PyBytes::new(
            py,
            &rlforensics_core::state::to_bytes(TAG, &core),
        ))
    }

    /// Rebuilds an object from `to_bytes` output.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let core: ComprehensiveForensics =
            rlforensics_core::state::from_bytes(TAG, data).map_err(to_py)?;
        Self::from_core(py, core)
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>, Bound<'py, PyBytes>)> {
        let py = slf.py();
        let state = slf.borrow().to_bytes(py)?;
        Ok((slf.get_type(), PyTuple::empty(py), state))
    }

    fn __setstate__(&mut self, py: Python<'_>, state: &[u8]) -> PyResult<()> {
        *self = Self::from_bytes(py, state)?;
        Ok(())
    }
}

history_view!(
    CompHistory,
    "ComprehensiveMetricsHistory",
    PyComprehensive,
    PyCompMetrics,
    layer
);

/// Columns of [`PyComprehensive::metrics_rows`].
const METRICS_ROW_FIELDS: [&str; 14] = [
    "step",
    "kl",
    "kl_coef",
    "entropy",
    "reward_mean",
    "reward_std",
    "policy_grad_norm",
    "value_grad_norm",
    "total_grad_norm",
    "advantage_mean",
    "advantage_std",
    "overall_health_score",
    "training_stability_score",
    "convergence_quality_score",
];

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCompMetrics>()?;
    m.add_class::<PyComprehensive>()?;
    m.add_class::<CompHistory>()?;
    Ok(())
}
