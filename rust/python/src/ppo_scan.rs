//! `ppo_scan_columns`: the rules of RLDK's `scan_ppo_events` over event columns.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rlforensics_core::forensics::ppo_scan::{scan, ScanColumns};

use crate::arrays::{slice, Floats};
use crate::events::step_value;

/// Runs the five `scan_ppo_events` rules over aligned columns (NaN: the event did not carry
/// the value). Returns `(rules_fired, stats)` in RLDK's shapes.
#[pyfunction]
#[pyo3(signature = (
    steps, kl, kl_coef, entropy, advantage_mean, policy_grad_norm, value_grad_norm,
    band_low = 0.01, band_high = 0.15,
))]
#[allow(clippy::too_many_arguments)]
pub fn ppo_scan_columns<'py>(
    py: Python<'py>,
    steps: Floats<'py>,
    kl: Floats<'py>,
    kl_coef: Floats<'py>,
    entropy: Floats<'py>,
    advantage_mean: Floats<'py>,
    policy_grad_norm: Floats<'py>,
    value_grad_norm: Floats<'py>,
    band_low: f64,
    band_high: f64,
) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyDict>)> {
    let cols = [
        slice(&steps),
        slice(&kl),
        slice(&kl_coef),
        slice(&entropy),
        slice(&advantage_mean),
        slice(&policy_grad_norm),
        slice(&value_grad_norm),
    ];
    let n = cols[0].len();
    if cols.iter().any(|c| c.len() != n) {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "ppo_scan_columns: every column must have the length of steps",
        ));
    }
    let c = ScanColumns {
        steps: &cols[0],
        kl: &cols[1],
        kl_coef: &cols[2],
        entropy: &cols[3],
        advantage_mean: &cols[4],
        policy_grad_norm: &cols[5],
        value_grad_norm: &cols[6],
    };
    let (rules, stats) = py.detach(|| scan(&c, (band_low, band_high)));
    let out = PyList::empty(py);
    for r in rules {
        let d = PyDict::new(py);
        d.set_item("rule", r.rule)?;
        d.set_item("description", r.description)?;
        d.set_item(
            "step_range",
            vec![
                step_value(py, r.step_range.0)?,
                step_value(py, r.step_range.1)?,
            ],
        )?;
        out.append(d)?;
    }
    let s = PyDict::new(py);
    if let Some(v) = stats.kl_median {
        s.set_item("kl_median", v)?;
    }
    if let Some(v) = stats.grad_ratio_median {
        s.set_item("grad_ratio_median", v)?;
    }
    if let Some(v) = stats.entropy_trend {
        s.set_item("entropy_trend", v)?;
    }
    Ok((out, s))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ppo_scan_columns, m)?)?;
    Ok(())
}
