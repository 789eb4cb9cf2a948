//! `ComprehensivePPOMetrics`: one snapshot of the comprehensive forensics as a Python object
//! (lazy getters over the core's snapshot), and the length-bias analysis as a dict.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rlforensics_core::forensics::comprehensive::{
    ComprehensiveMetrics, COMPREHENSIVE_NUMERIC_FIELDS,
};
use rlforensics_core::forensics::length_bias::LengthBiasMetrics;

use crate::advantage::PyAdvMetrics;
use crate::arrays::fmt_opt;
use crate::events::opt_step;
use crate::gradient::PyGradMetrics;
use crate::kl_schedule::PyKlMetrics;

/// One snapshot of the comprehensive forensics: the inputs as given, the snapshots of the
/// trackers updated at this step (None otherwise), the overall scores (None without data)
/// and the length-bias fields.
#[pyclass(module = "rlforensics._core", name = "ComprehensivePPOMetrics", frozen)]
#[derive(Clone, Debug)]
pub struct PyCompMetrics {
    pub inner: Arc<ComprehensiveMetrics>,
}

#[pymethods]
impl PyCompMetrics {
    #[getter]
    fn step<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_step(py, self.inner.input.step)
    }
    #[getter]
    fn kl(&self) -> Option<f64> {
        self.inner.input.kl
    }
    #[getter]
    fn kl_coef(&self) -> Option<f64> {
        self.inner.input.kl_coef
    }
    #[getter]
    fn entropy(&self) -> Option<f64> {
        self.inner.input.entropy
    }
    #[getter]
    fn reward_mean(&self) -> Option<f64> {
        self.inner.input.reward_mean
    }
    #[getter]
    fn reward_std(&self) -> Option<f64> {
        self.inner.input.reward_std
    }
    #[getter]
    fn kl_schedule_metrics(&self) -> Option<PyKlMetrics> {
        self.inner
            .kl_schedule_metrics
            .as_deref()
            .cloned()
            .map(|inner| PyKlMetrics { inner })
    }
    #[getter]
    fn gradient_norms_metrics(&self) -> Option<PyGradMetrics> {
        self.inner
            .gradient_norms_metrics
            .as_deref()
            .cloned()
            .map(|inner| PyGradMetrics { inner })
    }
    #[getter]
    fn advantage_statistics_metrics(&self) -> Option<PyAdvMetrics> {
        self.inner
            .advantage_statistics_metrics
            .as_deref()
            .cloned()
            .map(|inner| PyAdvMetrics { inner })
    }
    #[getter]
    fn overall_health_score(&self) -> Option<f64> {
        self.inner.overall_health_score
    }
    #[getter]
    fn training_stability_score(&self) -> Option<f64> {
        self.inner.training_stability_score
    }
    #[getter]
    fn convergence_quality_score(&self) -> Option<f64> {
        self.inner.convergence_quality_score
    }
    #[getter]
    fn length_bias_score(&self) -> Option<f64> {
        self.inner.length_bias_score
    }
    #[getter]
    fn length_reward_correlation(&self) -> Option<f64> {
        self.inner.length_reward_correlation
    }
    #[getter]
    fn length_reward_spearman(&self) -> Option<f64> {
        self.inner.length_reward_spearman
    }
    #[getter]
    fn length_reward_correlation_abs(&self) -> Option<f64> {
        self.inner.length_reward_correlation.map(f64::abs)
    }
    #[getter]
    fn length_reward_spearman_abs(&self) -> Option<f64> {
        self.inner.length_reward_spearman.map(f64::abs)
    }
    #[getter]
    fn mean_response_length(&self) -> Option<f64> {
        self.inner.mean_response_length
    }
    #[getter]
    fn length_bias_detected(&self) -> bool {
        self.inner.length_bias_detected
    }
    #[getter]
    fn length_bias_threshold(&self) -> Option<f64> {
        self.inner.length_bias_threshold
    }
    #[getter]
    fn length_bias_corr_threshold(&self) -> Option<f64> {
        self.inner.length_bias_corr_threshold
    }
    /// The length-bias analysis (RLDK's `LengthBiasMetrics.to_dict()`), or None when
    /// length bias is disabled.
    #[getter]
    fn length_bias_metrics<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.inner
            .length_bias_metrics
            .as_ref()
            .map(|m| length_metrics_dict(py, m))
            .transpose()
    }

    /// RLDK's flat dict: the scalars, the length-bias keys, and every tracker field
    /// prefixed `kl_schedule_` / `gradient_` (present only for trackers updated at this
    /// step).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, v) in COMPREHENSIVE_NUMERIC_FIELDS
            .iter()
            .zip(self.inner.numeric())
        {
            match *name {
                "step" => d.set_item(name, self.step(py)?)?,
                "length_bias_detected" => d.set_item(name, self.inner.length_bias_detected)?,
                _ => d.set_item(name, (!v.is_nan()).then_some(v))?,
            }
        }
        if let Some(lm) = self.length_bias_metrics(py)? {
            d.set_item("length_bias_metrics", lm)?;
        }
        for (prefix, sub) in [
            (
                "kl_schedule_",
                self.kl_schedule_metrics()
                    .map(|m| m.to_dict(py))
                    .transpose()?,
            ),
            (
                "gradient_",
                self.gradient_norms_metrics()
                    .map(|m| m.to_dict(py))
                    .transpose()?,
            ),
            (
                "advantage_",
                self.advantage_statistics_metrics()
                    .map(|m| m.to_dict(py))
                    .transpose()?,
            ),
        ] {
            if let Some(sub) = sub {
                for (k, v) in sub.iter() {
                    d.set_item(format!("{prefix}{}", k.extract::<String>()?), v)?;
                }
            }
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let m = &self.inner;
        format!(
            "ComprehensivePPOMetrics(step={}, overall_health_score={}, \
             training_stability_score={}, length_bias_detected={})",
            m.input.step,
            fmt_opt(m.overall_health_score),
            fmt_opt(m.training_stability_score),
            if m.length_bias_detected {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// A length-bias analysis as RLDK's `LengthBiasMetrics.to_dict()`.
pub fn length_metrics_dict<'py>(
    py: Python<'py>,
    m: &LengthBiasMetrics,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("response_count", m.response_count)?;
    d.set_item("valid_sample_count", m.valid_sample_count)?;
    d.set_item("mean_length", m.mean_length)?;
    d.set_item("mean_reward", m.mean_reward)?;
    d.set_item("pearson_correlation", m.pearson_correlation)?;
    d.set_item("pearson_pvalue", m.pearson_pvalue)?;
    d.set_item("spearman_correlation", m.spearman_correlation)?;
    d.set_item("spearman_pvalue", m.spearman_pvalue)?;
    d.set_item("variance_explained", m.variance_explained)?;
    let q = PyDict::new(py);
    for (i, b) in m.quartile_metrics.iter().enumerate() {
        let e = PyDict::new(py);
        e.set_item("length_min", b.length_min)?;
        e.set_item("length_max", b.length_max)?;
        e.set_item("mean_reward", b.mean_reward)?;
        e.set_item("mean_length", b.mean_length)?;
        e.set_item("count", b.count)?;
        q.set_item(format!("q{}", i + 1), e)?;
    }
    d.set_item("quartile_metrics", q)?;
    d.set_item("odin_reward_per_token", m.odin_reward_per_token)?;
    d.set_item("odin_efficiency", m.odin_efficiency)?;
    d.set_item("odin_optimization_flag", m.odin_optimization_flag)?;
    d.set_item("optimization_patterns", m.optimization_patterns.clone())?;
    d.set_item("bias_severity", m.bias_severity)?;
    d.set_item("recommendations", m.recommendations.clone())?;
    d.set_item("whole_run_pearson", m.whole_run_pearson)?;
    Ok(d)
}
