//! `AdvantageStatisticsTracker` and `AdvantageStatisticsMetrics`: RLDK's names over the
//! core's advantage tracker.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rlforensics_core::forensics::advantage::{
    advantage_batch_into, AdvantageConfig, AdvantageInput, AdvantageMetrics, AdvantageTracker,
    EchoColumns, ADVANTAGE_NUMERIC_FIELDS, PERCENTILES,
};

use crate::arrays::{fill_columns_detached, fmt_opt, slice, Floats};
use crate::convert::{number, opt_number};
use crate::errors::{count, count32, IntoPy};
use crate::events::opt_step;
use crate::history::{history_view, tracker_methods};
use crate::pickling::impl_pickle;

/// Sample batches at least this long are fed with the GIL released; shorter ones cost less
/// than the release.
const DETACH_SAMPLES: usize = 4096;

/// One snapshot of the advantage tracker (RLDK's 19 fields plus `step` and the non-finite
/// counts). A statistic without enough data yet is `None`, never a made-up default.
#[pyclass(
    module = "rlforensics._core",
    name = "AdvantageStatisticsMetrics",
    frozen,
    eq
)]
#[derive(Clone, Debug)]
pub struct PyAdvMetrics {
    pub inner: AdvantageMetrics,
}

/// Equality by value bits, so that a snapshot that echoes a NaN input equals itself.
impl PartialEq for PyAdvMetrics {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.inner.numeric(), other.inner.numeric());
        a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits())
            && self.inner.advantage_percentiles.is_some()
                == other.inner.advantage_percentiles.is_some()
            && [
                (self.inner.advantage_mean, other.inner.advantage_mean),
                (self.inner.advantage_std, other.inner.advantage_std),
                (self.inner.advantage_min, other.inner.advantage_min),
                (self.inner.advantage_max, other.inner.advantage_max),
                (self.inner.advantage_median, other.inner.advantage_median),
            ]
            .iter()
            .all(|(x, y)| x.is_some() == y.is_some())
    }
}

macro_rules! getters {
    ($($field:ident : $ty:ty),* $(,)?) => {
        #[pymethods]
        impl PyAdvMetrics {
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
    advantage_mean: Option<f64>,
    advantage_std: Option<f64>,
    advantage_min: Option<f64>,
    advantage_max: Option<f64>,
    advantage_median: Option<f64>,
    advantage_skewness: Option<f64>,
    advantage_kurtosis: Option<f64>,
    advantage_normalization_health: Option<f64>,
    advantage_bias: Option<f64>,
    advantage_scale_stability: Option<f64>,
    advantage_mean_trend: Option<f64>,
    advantage_std_trend: Option<f64>,
    advantage_volatility: Option<f64>,
    advantage_bias_risk: Option<f64>,
    advantage_scale_risk: Option<f64>,
    advantage_distribution_risk: Option<f64>,
    advantage_health_score: Option<f64>,
    advantage_quality_score: Option<f64>,
    nonfinite_mean_count: u64,
    nonfinite_std_count: u64,
    nonfinite_sample_count: u64,
);

/// Fields of `to_dict`, in order: the scalar ones in the order of the numeric columns, with
/// the seven percentile columns folded into one dict.
const DICT_FIELDS: [&str; 23] = [
    "step",
    "advantage_mean",
    "advantage_std",
    "advantage_min",
    "advantage_max",
    "advantage_median",
    "advantage_skewness",
    "advantage_kurtosis",
    "advantage_percentiles",
    "advantage_normalization_health",
    "advantage_bias",
    "advantage_scale_stability",
    "advantage_mean_trend",
    "advantage_std_trend",
    "advantage_volatility",
    "advantage_bias_risk",
    "advantage_scale_risk",
    "advantage_distribution_risk",
    "advantage_health_score",
    "advantage_quality_score",
    "nonfinite_mean_count",
    "nonfinite_std_count",
    "nonfinite_sample_count",
];

#[pymethods]
impl PyAdvMetrics {
    /// The empty snapshot (before any update).
    #[new]
    fn new() -> Self {
        PyAdvMetrics {
            inner: AdvantageMetrics::empty(),
        }
    }

    /// Logged step of the update that produced this snapshot (`None` before any).
    #[getter]
    fn step<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_step(py, self.inner.step)
    }

    /// p5 … p95 of the last `distribution_window` samples; a new dict on every access
    /// (RLDK shared one dict across all snapshots), empty until enough samples.
    #[getter]
    fn advantage_percentiles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        if let Some(p) = self.inner.advantage_percentiles {
            for ((key, _), v) in PERCENTILES.iter().zip(p) {
                d.set_item(key, v)?;
            }
        }
        Ok(d)
    }

    /// Every field as a dict.
    pub fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let m = &self.inner;
        for name in DICT_FIELDS {
            match name {
                "step" => d.set_item(name, self.step(py)?)?,
                "advantage_percentiles" => d.set_item(name, self.advantage_percentiles(py)?)?,
                "nonfinite_mean_count" => d.set_item(name, m.nonfinite_mean_count)?,
                "nonfinite_std_count" => d.set_item(name, m.nonfinite_std_count)?,
                "nonfinite_sample_count" => d.set_item(name, m.nonfinite_sample_count)?,
                _ => d.set_item(name, self.optional(name))?,
            }
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let m = &self.inner;
        format!(
            "AdvantageStatisticsMetrics(step={}, advantage_mean={}, advantage_std={}, \
             advantage_health_score={}, advantage_quality_score={})",
            m.step,
            fmt_opt(m.advantage_mean),
            fmt_opt(m.advantage_std),
            fmt_opt(m.advantage_health_score),
            fmt_opt(m.advantage_quality_score),
        )
    }
}

impl PyAdvMetrics {
    /// The optional float field `name` (`None` for a name that is not one).
    fn optional(&self, name: &str) -> Option<f64> {
        let m = &self.inner;
        match name {
            "advantage_mean" => m.advantage_mean,
            "advantage_std" => m.advantage_std,
            "advantage_min" => m.advantage_min,
            "advantage_max" => m.advantage_max,
            "advantage_median" => m.advantage_median,
            "advantage_skewness" => m.advantage_skewness,
            "advantage_kurtosis" => m.advantage_kurtosis,
            "advantage_normalization_health" => m.advantage_normalization_health,
            "advantage_bias" => m.advantage_bias,
            "advantage_scale_stability" => m.advantage_scale_stability,
            "advantage_mean_trend" => m.advantage_mean_trend,
            "advantage_std_trend" => m.advantage_std_trend,
            "advantage_volatility" => m.advantage_volatility,
            "advantage_bias_risk" => m.advantage_bias_risk,
            "advantage_scale_risk" => m.advantage_scale_risk,
            "advantage_distribution_risk" => m.advantage_distribution_risk,
            "advantage_health_score" => m.advantage_health_score,
            "advantage_quality_score" => m.advantage_quality_score,
            _ => None,
        }
    }
}

/// Streaming analysis of advantage statistics (RLDK's `AdvantageStatisticsTracker`).
///
/// `update(step, advantage_mean, advantage_std, ...)` once per logged step returns an
/// `AdvantageStatisticsMetrics`; `update_many(steps, advantage_mean, advantage_std, ...)`
/// does the same over whole columns and returns the per-step metrics as NumPy columns.
/// `get_anomalies()` returns anomaly *events*: a condition that stays true is one event with
/// `first_step`/`last_step`. `metrics_history` keeps the last `history_size` snapshots.
#[pyclass(module = "rlforensics._core", name = "AdvantageStatisticsTracker")]
#[derive(Clone, Debug)]
pub struct PyAdvTracker {
    pub inner: AdvantageTracker,
}

#[pymethods]
impl PyAdvTracker {
    #[new]
    #[pyo3(signature = (
        window_size = 100,
        trend_window = 20,
        bias_threshold = 0.1,
        scale_threshold = 2.0,
        distribution_window = 50,
        *,
        event_release = 10,
        max_events = 1000,
        history_size = 10_000,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        window_size: i64,
        trend_window: i64,
        bias_threshold: f64,
        scale_threshold: f64,
        distribution_window: i64,
        event_release: i64,
        max_events: i64,
        history_size: i64,
    ) -> PyResult<Self> {
        let cfg = AdvantageConfig {
            window_size: count("window_size", window_size)?,
            trend_window: count("trend_window", trend_window)?,
            bias_threshold,
            scale_threshold,
            distribution_window: count("distribution_window", distribution_window)?,
            event_release: count32("event_release", event_release)?,
            max_events: count("max_events", max_events)?,
            history_size: count("history_size", history_size)?,
        };
        Ok(PyAdvTracker {
            inner: AdvantageTracker::new(cfg).py()?,
        })
    }

    /// One logged step. Every value may be any number (NumPy scalars and 0-d tensors
    /// included) or None when the step did not log it; `advantage_samples` is a list or an
    /// array of any float dtype.
    #[pyo3(signature = (
        step,
        advantage_mean,
        advantage_std,
        advantage_min = None,
        advantage_max = None,
        advantage_median = None,
        advantage_samples = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn update<'py>(
        &mut self,
        py: Python<'py>,
        step: &Bound<'py, PyAny>,
        advantage_mean: Option<&Bound<'py, PyAny>>,
        advantage_std: Option<&Bound<'py, PyAny>>,
        advantage_min: Option<&Bound<'py, PyAny>>,
        advantage_max: Option<&Bound<'py, PyAny>>,
        advantage_median: Option<&Bound<'py, PyAny>>,
        advantage_samples: Option<Floats<'py>>,
    ) -> PyResult<PyAdvMetrics> {
        let step = number("step", step)?;
        let samples = advantage_samples.as_ref().map(slice);
        let input = AdvantageInput {
            mean: opt_number("advantage_mean", advantage_mean)?,
            std: opt_number("advantage_std", advantage_std)?,
            min: opt_number("advantage_min", advantage_min)?,
            max: opt_number("advantage_max", advantage_max)?,
            median: opt_number("advantage_median", advantage_median)?,
            samples: samples.as_deref(),
        };
        let inner = &mut self.inner;
        let metrics = if input.samples.is_some_and(|s| s.len() >= DETACH_SAMPLES) {
            py.detach(|| inner.update(step, &input).clone())
        } else {
            inner.update(step, &input).clone()
        };
        Ok(PyAdvMetrics { inner: metrics })
    }

    /// Feeds whole columns (as repeated `update` calls; NaN is a non-finite value, reported
    /// as such) with the GIL released; returns each step's metrics as NumPy columns.
    #[pyo3(signature = (
        steps,
        advantage_mean,
        advantage_std,
        advantage_min = None,
        advantage_max = None,
        advantage_median = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn update_many<'py>(
        &mut self,
        py: Python<'py>,
        steps: Floats<'py>,
        advantage_mean: Floats<'py>,
        advantage_std: Floats<'py>,
        advantage_min: Option<Floats<'py>>,
        advantage_max: Option<Floats<'py>>,
        advantage_median: Option<Floats<'py>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (steps, mean, std) = (slice(&steps), slice(&advantage_mean), slice(&advantage_std));
        let (min, max, median) = (
            advantage_min.as_ref().map(slice),
            advantage_max.as_ref().map(slice),
            advantage_median.as_ref().map(slice),
        );
        let echo = EchoColumns {
            min: min.as_deref(),
            max: max.as_deref(),
            median: median.as_deref(),
        };
        let inner = &mut self.inner;
        let k = ADVANTAGE_NUMERIC_FIELDS.len();
        let (cols, done) = fill_columns_detached(py, k, mean.len(), |out| {
            advantage_batch_into(inner, &steps, &mean, &std, echo, out)
        })?;
        done.py()?;
        let d = PyDict::new(py);
        for (name, col) in ADVANTAGE_NUMERIC_FIELDS.iter().zip(cols) {
            d.set_item(name, col)?;
        }
        Ok(d)
    }

    /// RLDK's summary dict (21 keys); `{}` before any update.
    fn get_summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        if self.inner.updates() == 0 {
            return Ok(d);
        }
        let m = PyAdvMetrics {
            inner: self.inner.metrics().clone(),
        };
        d.set_item("total_steps", self.inner.updates())?;
        for key in ["mean", "std", "min", "max", "median"] {
            let field = format!("advantage_{key}");
            d.set_item(format!("current_{field}"), m.optional(&field))?;
        }
        for key in [
            "advantage_health_score",
            "advantage_quality_score",
            "advantage_normalization_health",
            "advantage_bias",
            "advantage_scale_stability",
            "advantage_volatility",
            "advantage_skewness",
            "advantage_kurtosis",
            "advantage_bias_risk",
            "advantage_scale_risk",
            "advantage_distribution_risk",
            "advantage_mean_trend",
            "advantage_std_trend",
        ] {
            d.set_item(key, m.optional(key))?;
        }
        d.set_item("advantage_percentiles", m.advantage_percentiles(py)?)?;
        d.set_item("anomalies", self.get_anomalies(py, false)?)?;
        Ok(d)
    }

    /// The last `window_size` finite means, oldest first.
    #[getter]
    fn advantage_mean_history(&self) -> Vec<f64> {
        self.inner.mean_history().collect()
    }

    /// The last `window_size` finite stds, oldest first.
    #[getter]
    fn advantage_std_history(&self) -> Vec<f64> {
        self.inner.std_history().collect()
    }

    /// The last `10 · distribution_window` finite samples, oldest first.
    #[getter]
    fn advantage_samples(&self) -> Vec<f64> {
        self.inner.samples().collect()
    }

    /// Median of the first 20 finite stds: the level a scale collapse is measured against.
    #[getter]
    fn early_std_level(&self) -> Option<f64> {
        self.inner.early_std_level()
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
    fn bias_threshold(&self) -> f64 {
        self.inner.config().bias_threshold
    }
    #[getter]
    fn scale_threshold(&self) -> f64 {
        self.inner.config().scale_threshold
    }
    #[getter]
    fn distribution_window(&self) -> usize {
        self.inner.config().distribution_window
    }
    #[getter]
    fn history_size(&self) -> usize {
        self.inner.config().history_size
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "AdvantageStatisticsTracker(bias_threshold={}, scale_threshold={}, updates={}, \
             active_anomalies={})",
            c.bias_threshold,
            c.scale_threshold,
            self.inner.updates(),
            self.inner.events().active().count()
        )
    }
}

impl_pickle!(PyAdvTracker, "AdvantageStatisticsTracker", |s| {
    let c = *s.inner.config();
    (
        c.window_size,
        c.trend_window,
        c.bias_threshold,
        c.scale_threshold,
        c.distribution_window,
    )
});

tracker_methods!(PyAdvTracker, PyAdvMetrics, AdvHistory);

history_view!(
    AdvHistory,
    "AdvantageMetricsHistory",
    PyAdvTracker,
    PyAdvMetrics,
    inner
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAdvMetrics>()?;
    m.add_class::<PyAdvTracker>()?;
    m.add_class::<AdvHistory>()?;
    Ok(())
}
