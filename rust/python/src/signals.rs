//! `TrainerSignalsTracker`: the trainer-signal rules (GRPO/RLOO-era signals) of one run, and
//! `diagnose`, the onset links between a run's events.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rlforensics_core::forensics::diagnosis::{diagnose as core_diagnose, spans_of, Links};
use rlforensics_core::forensics::signals::{
    signals_batch, KlScale, SignalColumns, SignalConfig, SignalInput, SignalTracker, SIGNAL_INPUTS,
};

use crate::arrays::{opt_slice, slice, Floats};
use crate::convert::{number, opt_number};
use crate::errors::{count, count32, IntoPy};
use crate::events::event_list;
use crate::pickling::impl_pickle;

/// The rules of one run over the signals today's trainers log.
#[pyclass(module = "rlforensics._core", name = "TrainerSignalsTracker")]
pub struct PySignals {
    pub inner: SignalTracker,
}

/// The mask of inputs that raise their own non-finite anomaly.
fn mask(checked: Option<Vec<String>>) -> PyResult<u16> {
    let Some(names) = checked else {
        return Ok(u16::MAX);
    };
    let mut m = 0u16;
    for n in names {
        let i = SIGNAL_INPUTS.iter().position(|s| *s == n).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "checked: unknown input {n:?}; known: {}",
                SIGNAL_INPUTS.join(", ")
            ))
        })?;
        m |= 1 << i;
    }
    Ok(m)
}

#[pymethods]
impl PySignals {
    #[new]
    #[pyo3(signature = (kl_scale = "unknown", baseline_rows = 20, spike_z = 6.0,
        spike_window = 50, trend_window = 30, event_release = 10, max_events = 1000,
        checked = None, component_window = 100))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        kl_scale: &str,
        baseline_rows: i64,
        spike_z: f64,
        spike_window: i64,
        trend_window: i64,
        event_release: i64,
        max_events: i64,
        checked: Option<Vec<String>>,
        component_window: i64,
    ) -> PyResult<Self> {
        let cfg = SignalConfig {
            kl_scale: KlScale::parse(kl_scale).py()?,
            baseline_rows: count("baseline_rows", baseline_rows)?,
            spike_z,
            spike_window: count("spike_window", spike_window)?,
            trend_window: count("trend_window", trend_window)?,
            component_window: count("component_window", component_window)?,
            event_release: count32("event_release", event_release)?,
            max_events: count("max_events", max_events)?,
        };
        Ok(PySignals {
            inner: SignalTracker::with_checked(cfg, mask(checked)?).py()?,
        })
    }

    /// One logged step; `None` is "not logged". `reward_components` maps reward-function
    /// names to their mean reward at this step.
    #[pyo3(signature = (step, kl = None, entropy = None, reward_mean = None, reward_std = None,
        grad_norm = None, frac_reward_zero_std = None, truncation_rate = None,
        response_length_mean = None, reward_components = None))]
    #[allow(clippy::too_many_arguments)]
    fn update(
        &mut self,
        step: &Bound<'_, PyAny>,
        kl: Option<&Bound<'_, PyAny>>,
        entropy: Option<&Bound<'_, PyAny>>,
        reward_mean: Option<&Bound<'_, PyAny>>,
        reward_std: Option<&Bound<'_, PyAny>>,
        grad_norm: Option<&Bound<'_, PyAny>>,
        frac_reward_zero_std: Option<&Bound<'_, PyAny>>,
        truncation_rate: Option<&Bound<'_, PyAny>>,
        response_length_mean: Option<&Bound<'_, PyAny>>,
        reward_components: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let mut given: Vec<(String, f64)> = Vec::new();
        if let Some(d) = reward_components {
            for (k, v) in d.iter() {
                let name: String = k.extract()?;
                // A float goes straight through; anything else is read (or refused) with
                // the component named in the error.
                let x = match v.extract::<f64>() {
                    Ok(x) => Some(x),
                    Err(_) => opt_number(&format!("reward_components[{name:?}]"), Some(&v))?,
                };
                if let Some(x) = x {
                    given.push((name, x));
                }
            }
        }
        let comps: Vec<(&str, f64)> = given.iter().map(|(n, x)| (n.as_str(), *x)).collect();
        let input = SignalInput {
            step: number("step", step)?,
            kl: opt_number("kl", kl)?,
            entropy: opt_number("entropy", entropy)?,
            reward_mean: opt_number("reward_mean", reward_mean)?,
            reward_std: opt_number("reward_std", reward_std)?,
            grad_norm: opt_number("grad_norm", grad_norm)?,
            frac_reward_zero_std: opt_number("frac_reward_zero_std", frac_reward_zero_std)?,
            truncation_rate: opt_number("truncation_rate", truncation_rate)?,
            response_length_mean: opt_number("response_length_mean", response_length_mean)?,
            reward_components: &comps,
        };
        self.inner.update(&input);
        Ok(())
    }

    /// Feeds whole columns with the GIL released (a column that is None was not logged;
    /// NaN is a non-finite value); `reward_components` maps names to columns.
    #[pyo3(signature = (steps, kl = None, entropy = None, reward_mean = None, reward_std = None,
        grad_norm = None, frac_reward_zero_std = None, truncation_rate = None,
        response_length_mean = None, reward_components = None))]
    #[allow(clippy::too_many_arguments)]
    fn update_many<'py>(
        &mut self,
        py: Python<'py>,
        steps: Floats<'py>,
        kl: Option<Floats<'py>>,
        entropy: Option<Floats<'py>>,
        reward_mean: Option<Floats<'py>>,
        reward_std: Option<Floats<'py>>,
        grad_norm: Option<Floats<'py>>,
        frac_reward_zero_std: Option<Floats<'py>>,
        truncation_rate: Option<Floats<'py>>,
        response_length_mean: Option<Floats<'py>>,
        reward_components: Option<std::collections::BTreeMap<String, Floats<'py>>>,
    ) -> PyResult<()> {
        let steps = slice(&steps);
        let (kl, en, rm, rs, gn, zs, tr, ln) = (
            opt_slice(&kl),
            opt_slice(&entropy),
            opt_slice(&reward_mean),
            opt_slice(&reward_std),
            opt_slice(&grad_norm),
            opt_slice(&frac_reward_zero_std),
            opt_slice(&truncation_rate),
            opt_slice(&response_length_mean),
        );
        let comps: Vec<(String, std::borrow::Cow<'_, [f64]>)> = reward_components
            .as_ref()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), slice(v))).collect())
            .unwrap_or_default();
        let cols = SignalColumns {
            kl: kl.as_deref(),
            entropy: en.as_deref(),
            reward_mean: rm.as_deref(),
            reward_std: rs.as_deref(),
            grad_norm: gn.as_deref(),
            frac_reward_zero_std: zs.as_deref(),
            truncation_rate: tr.as_deref(),
            response_length_mean: ln.as_deref(),
        };
        let named: Vec<(&str, &[f64])> = comps.iter().map(|(k, v)| (k.as_str(), &**v)).collect();
        let inner = &mut self.inner;
        py.detach(|| signals_batch(inner, &steps, &cols, &named))
            .py()
    }

    /// The rules' events (RLDK-shaped dicts tagged `tracker="signals"`); only the open ones
    /// with `active_only`; only those that held at step `at_step` when given.
    #[pyo3(signature = (active_only = false, at_step = None))]
    fn get_anomalies<'py>(
        &self,
        py: Python<'py>,
        active_only: bool,
        at_step: Option<f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        event_list(py, self.inner.events(), active_only, Some("signals"), |e| {
            at_step.is_none_or(|s| e.last_step == s)
        })
    }

    /// The latest scores as a dict (a score without data is None).
    fn scores<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.scores();
        let d = PyDict::new(py);
        for (k, v) in [
            ("health", s.health),
            ("stability", s.stability),
            ("convergence", s.convergence),
            ("learning_signal", s.learning_signal),
            ("entropy_retention", s.entropy_retention),
            ("completion", s.completion),
            ("gradient", s.gradient),
            ("kl", s.kl),
        ] {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// Updates seen.
    #[getter]
    fn updates(&self) -> u64 {
        self.inner.updates()
    }

    /// Non-finite values seen.
    #[getter]
    fn nonfinite_count(&self) -> u64 {
        self.inner.nonfinite()
    }

    /// Reward-component values not analysed: their function came after the first 16.
    #[getter]
    fn components_ignored(&self) -> u64 {
        self.inner.components_ignored()
    }

    /// Reward components followed.
    #[getter]
    fn reward_components(&self) -> Vec<String> {
        self.inner.component_names().map(str::to_owned).collect()
    }

    /// The KL definition the levels assume.
    #[getter]
    fn kl_scale(&self) -> &'static str {
        self.inner.config().kl_scale.as_str()
    }

    fn __repr__(&self) -> String {
        format!(
            "TrainerSignalsTracker(kl_scale={:?}, updates={}, events={})",
            self.kl_scale(),
            self.inner.updates(),
            self.inner.events().events().count()
        )
    }
}

impl_pickle!(PySignals, "SignalTracker", |s| {
    let c = s.inner.config();
    (
        c.kl_scale.as_str(),
        c.baseline_rows,
        c.spike_z,
        c.spike_window,
        c.trend_window,
        c.event_release,
        c.max_events,
        // The state restores the tracker's own mask.
        None::<Vec<String>>,
        c.component_window,
    )
});

/// Diagnosis links as a list of dicts: `event`, `preceded_by`, `root` (indices).
pub fn links_list<'py>(py: Python<'py>, links: &[Links]) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for l in links {
        let d = PyDict::new(py);
        d.set_item("event", l.event)?;
        d.set_item("preceded_by", &l.preceded_by)?;
        d.set_item("root", l.root)?;
        out.append(d)?;
    }
    Ok(out)
}

/// Links each event (by its first and last step and its type) to the events that began
/// within `horizon` steps before it and still held (or had just ended) at its onset; returns
/// dicts in order of onset.
#[pyfunction]
fn diagnose<'py>(
    py: Python<'py>,
    first_steps: Vec<f64>,
    last_steps: Vec<f64>,
    kinds: Vec<String>,
    horizon: f64,
) -> PyResult<Bound<'py, PyList>> {
    if first_steps.len() != last_steps.len() || first_steps.len() != kinds.len() {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "first_steps, last_steps and kinds differ in length: {}, {} and {}",
            first_steps.len(),
            last_steps.len(),
            kinds.len()
        )));
    }
    let spans = spans_of(
        first_steps
            .iter()
            .zip(&last_steps)
            .zip(&kinds)
            .map(|((&f, &l), k)| (f, l, k.as_str())),
    );
    links_list(py, &core_diagnose(&spans, horizon))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySignals>()?;
    m.add_function(wrap_pyfunction!(diagnose, m)?)?;
    Ok(())
}
