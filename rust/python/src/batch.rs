//! Batch functions over NumPy arrays: zero-copy input, GIL released, NumPy output.
//! Each gives the same numbers, bit for bit, as feeding the matching streaming class.

use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rlforensics_core::control::{controller_batch, ControllerConfig};
use rlforensics_core::drift::{histogram_kl as core_histogram_kl, ks_2samp as core_ks};
use rlforensics_core::stats::{
    ewm_batch, rolling_max_batch, rolling_min_batch, rolling_moments_batch, rolling_quantile_batch,
    MomentKind,
};
use rlforensics_core::trend::{mann_kendall as core_mk, rolling_trend_batch, theil_sen as core_ts};
use rlforensics_core::CoreError;

use crate::analyzers::{kl_dict, ks_dict, report_dict};
use crate::arrays::{fill_detached, new_output, slice, Floats};
use crate::errors::IntoPy;
use crate::estimators::ew_spec;

type Out<'py> = PyResult<Bound<'py, PyArray1<f64>>>;

/// Runs `f(input, output)` with the GIL released and returns the output as a NumPy array.
fn map_array<'py>(
    py: Python<'py>,
    x: &Floats<'_>,
    f: impl FnOnce(&[f64], &mut [f64]) -> Result<(), CoreError> + Send,
) -> Out<'py> {
    let xs = slice(x);
    let out = new_output(py, xs.len());
    fill_detached(py, &out, |buf| f(&xs, buf))?.py()?;
    Ok(out)
}

fn moments<'py>(
    py: Python<'py>,
    x: &Floats<'_>,
    window: usize,
    min_periods: Option<usize>,
    kind: MomentKind,
) -> Out<'py> {
    map_array(py, x, |xs, out| {
        rolling_moments_batch(xs, window, min_periods, kind, out)
    })
}

/// Rolling mean over the last `window` values (NaN until `min_periods` finite values).
#[pyfunction]
#[pyo3(signature = (x, window, min_periods = None))]
fn rolling_mean<'py>(
    py: Python<'py>,
    x: Floats<'_>,
    window: i64,
    min_periods: Option<i64>,
) -> Out<'py> {
    let window = crate::errors::count("window", window)?;
    let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
    moments(py, &x, window, min_periods, MomentKind::Mean)
}

/// Rolling variance with divisor n - ddof.
#[pyfunction]
#[pyo3(signature = (x, window, min_periods = None, ddof = 1))]
fn rolling_var<'py>(
    py: Python<'py>,
    x: Floats<'_>,
    window: i64,
    min_periods: Option<i64>,
    ddof: i64,
) -> Out<'py> {
    let window = crate::errors::count("window", window)?;
    let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
    let ddof = crate::errors::count32("ddof", ddof)?;
    moments(py, &x, window, min_periods, MomentKind::Var { ddof })
}

/// Rolling standard deviation with divisor n - ddof.
#[pyfunction]
#[pyo3(signature = (x, window, min_periods = None, ddof = 1))]
fn rolling_std<'py>(
    py: Python<'py>,
    x: Floats<'_>,
    window: i64,
    min_periods: Option<i64>,
    ddof: i64,
) -> Out<'py> {
    let window = crate::errors::count("window", window)?;
    let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
    let ddof = crate::errors::count32("ddof", ddof)?;
    moments(py, &x, window, min_periods, MomentKind::Std { ddof })
}

/// Rolling skewness (bias=True: scipy g1; bias=False: pandas G1).
#[pyfunction]
#[pyo3(signature = (x, window, min_periods = None, bias = true))]
fn rolling_skew<'py>(
    py: Python<'py>,
    x: Floats<'_>,
    window: i64,
    min_periods: Option<i64>,
    bias: bool,
) -> Out<'py> {
    let window = crate::errors::count("window", window)?;
    let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
    moments(py, &x, window, min_periods, MomentKind::Skew { bias })
}

/// Rolling excess kurtosis (bias=True: scipy g2; bias=False: pandas G2).
#[pyfunction]
#[pyo3(signature = (x, window, min_periods = None, bias = true))]
fn rolling_kurt<'py>(
    py: Python<'py>,
    x: Floats<'_>,
    window: i64,
    min_periods: Option<i64>,
    bias: bool,
) -> Out<'py> {
    let window = crate::errors::count("window", window)?;
    let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
    moments(py, &x, window, min_periods, MomentKind::Kurt { bias })
}

/// Rolling minimum.
#[pyfunction]
#[pyo3(signature = (x, window, min_periods = None))]
fn rolling_min<'py>(
    py: Python<'py>,
    x: Floats<'_>,
    window: i64,
    min_periods: Option<i64>,
) -> Out<'py> {
    let window = crate::errors::count("window", window)?;
    let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
    map_array(py, &x, |xs, out| {
        rolling_min_batch(xs, window, min_periods, out)
    })
}

/// Rolling maximum.
#[pyfunction]
#[pyo3(signature = (x, window, min_periods = None))]
fn rolling_max<'py>(
    py: Python<'py>,
    x: Floats<'_>,
    window: i64,
    min_periods: Option<i64>,
) -> Out<'py> {
    let window = crate::errors::count("window", window)?;
    let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
    map_array(py, &x, |xs, out| {
        rolling_max_batch(xs, window, min_periods, out)
    })
}

/// Exact rolling q-quantile with linear interpolation.
#[pyfunction]
#[pyo3(signature = (x, window, q, min_periods = None))]
fn rolling_quantile<'py>(
    py: Python<'py>,
    x: Floats<'_>,
    window: i64,
    q: f64,
    min_periods: Option<i64>,
) -> Out<'py> {
    let window = crate::errors::count("window", window)?;
    let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
    map_array(py, &x, |xs, out| {
        rolling_quantile_batch(xs, window, q, min_periods, out)
    })
}

/// Exponentially weighted mean after each value (give exactly one of alpha/span/halflife/com).
#[pyfunction]
#[pyo3(signature = (x, alpha = None, *, span = None, halflife = None, com = None))]
fn ewm_mean<'py>(
    py: Python<'py>,
    x: Floats<'_>,
    alpha: Option<f64>,
    span: Option<f64>,
    halflife: Option<f64>,
    com: Option<f64>,
) -> Out<'py> {
    let spec = ew_spec(alpha, span, halflife, com)?;
    map_array(py, &x, |xs, out| ewm_batch(xs, spec, false, out))
}

/// Exponentially weighted (biased) variance after each value.
#[pyfunction]
#[pyo3(signature = (x, alpha = None, *, span = None, halflife = None, com = None))]
fn ewm_var<'py>(
    py: Python<'py>,
    x: Floats<'_>,
    alpha: Option<f64>,
    span: Option<f64>,
    halflife: Option<f64>,
    com: Option<f64>,
) -> Out<'py> {
    let spec = ew_spec(alpha, span, halflife, com)?;
    map_array(py, &x, |xs, out| ewm_batch(xs, spec, true, out))
}

/// Rolling least-squares slope of `x` against `steps` (per unit of step).
#[pyfunction]
#[pyo3(signature = (steps, x, window, min_periods = None))]
fn rolling_slope<'py>(
    py: Python<'py>,
    steps: Floats<'_>,
    x: Floats<'_>,
    window: i64,
    min_periods: Option<i64>,
) -> Out<'py> {
    let window = crate::errors::count("window", window)?;
    let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
    let steps = slice(&steps);
    map_array(py, &x, |xs, out| {
        rolling_trend_batch(&steps, xs, window, min_periods, out, None, None)
    })
}

type Arr<'py> = Bound<'py, PyArray1<f64>>;

/// Rolling least-squares fit of `x` against `steps`: (slope, intercept, r2) arrays.
#[pyfunction]
#[pyo3(signature = (steps, x, window, min_periods = None))]
fn rolling_trend<'py>(
    py: Python<'py>,
    steps: Floats<'_>,
    x: Floats<'_>,
    window: i64,
    min_periods: Option<i64>,
) -> PyResult<(Arr<'py>, Arr<'py>, Arr<'py>)> {
    let window = crate::errors::count("window", window)?;
    let min_periods = crate::errors::opt_count("min_periods", min_periods)?;
    let steps = slice(&steps);
    let xs = slice(&x);
    let n = xs.len();
    let (slope, icpt, r2) = (new_output(py, n), new_output(py, n), new_output(py, n));
    let mut icpt_rw = icpt.readwrite();
    let mut r2_rw = r2.readwrite();
    let contiguous =
        |e: numpy::AsSliceError| pyo3::exceptions::PyRuntimeError::new_err(e.to_string());
    let icpt_buf = icpt_rw.as_slice_mut().map_err(contiguous)?;
    let r2_buf = r2_rw.as_slice_mut().map_err(contiguous)?;
    fill_detached(py, &slope, |buf| {
        rolling_trend_batch(
            &steps,
            &xs,
            window,
            min_periods,
            buf,
            Some(icpt_buf),
            Some(r2_buf),
        )
    })?
    .py()?;
    drop((icpt_rw, r2_rw));
    Ok((slope, icpt, r2))
}

/// Theil–Sen slope of `x` against `steps`: {"slope", "intercept", "n"} or None. O(n²).
#[pyfunction]
fn theil_sen<'py>(
    py: Python<'py>,
    steps: Floats<'_>,
    x: Floats<'_>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let steps = slice(&steps);
    let xs = slice(&x);
    let Some(t) = py.detach(|| core_ts(&steps, &xs)).py()? else {
        return Ok(None);
    };
    let d = PyDict::new(py);
    d.set_item("slope", t.slope)?;
    d.set_item("intercept", t.intercept)?;
    d.set_item("n", t.n)?;
    Ok(Some(d))
}

/// Mann–Kendall trend test: {"n", "s", "var_s", "z", "p_value", "tau"} or None. O(n²).
#[pyfunction]
fn mann_kendall<'py>(py: Python<'py>, x: Floats<'_>) -> PyResult<Option<Bound<'py, PyDict>>> {
    let xs = slice(&x);
    let Some(m) = py.detach(|| core_mk(&xs)) else {
        return Ok(None);
    };
    let d = PyDict::new(py);
    d.set_item("n", m.n)?;
    d.set_item("s", m.s)?;
    d.set_item("var_s", m.var_s)?;
    d.set_item("z", m.z)?;
    d.set_item("p_value", m.p_value)?;
    d.set_item("tau", m.tau)?;
    Ok(Some(d))
}

/// Two-sample KS test: {"statistic", "p_value", "n_a", "n_b"} or None if a sample is empty.
#[pyfunction]
fn ks_2samp<'py>(
    py: Python<'py>,
    a: Floats<'_>,
    b: Floats<'_>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let a = slice(&a);
    let b = slice(&b);
    py.detach(|| core_ks(&a, &b))
        .map(|t| ks_dict(py, &t))
        .transpose()
}

/// Histogram KL(current || reference) with the small-sample bias removed:
/// {"raw", "corrected", "bins", "occupied"} or None if a sample is empty.
#[pyfunction]
#[pyo3(signature = (reference, current, bins = None))]
fn histogram_kl<'py>(
    py: Python<'py>,
    reference: Floats<'_>,
    current: Floats<'_>,
    bins: Option<i64>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let bins = crate::errors::opt_count("bins", bins)?;
    let r = slice(&reference);
    let c = slice(&current);
    py.detach(|| core_histogram_kl(&r, &c, bins))
        .py()?
        .map(|h| kl_dict(py, &h))
        .transpose()
}

/// KL-controller analysis of whole columns; see the module docs of `rlforensics.stats`.
#[pyfunction]
#[pyo3(signature = (kl, coef, target, tolerance, *, steps = None, deadband = None, settle_hold = 5, max_lag = 5))]
#[allow(clippy::too_many_arguments)]
fn controller_metrics<'py>(
    py: Python<'py>,
    kl: Floats<'_>,
    coef: Option<Floats<'_>>,
    target: f64,
    tolerance: f64,
    steps: Option<Floats<'_>>,
    deadband: Option<f64>,
    settle_hold: i64,
    max_lag: i64,
) -> PyResult<Bound<'py, PyDict>> {
    let settle_hold = crate::errors::count32("settle_hold", settle_hold)?;
    let max_lag = crate::errors::count32("max_lag", max_lag)?;
    let cfg = ControllerConfig::new(target, tolerance, deadband, settle_hold, max_lag).py()?;
    let kl = slice(&kl);
    let coef = coef.as_ref().map(slice);
    let steps = steps.as_ref().map(slice);
    let report = py
        .detach(|| controller_batch(cfg, &kl, coef.as_deref(), steps.as_deref()))
        .py()?;
    report_dict(py, &report)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rolling_mean, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_var, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_std, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_skew, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_kurt, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_min, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_max, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_quantile, m)?)?;
    m.add_function(wrap_pyfunction!(ewm_mean, m)?)?;
    m.add_function(wrap_pyfunction!(ewm_var, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_slope, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_trend, m)?)?;
    m.add_function(wrap_pyfunction!(theil_sen, m)?)?;
    m.add_function(wrap_pyfunction!(mann_kendall, m)?)?;
    m.add_function(wrap_pyfunction!(ks_2samp, m)?)?;
    m.add_function(wrap_pyfunction!(histogram_kl, m)?)?;
    m.add_function(wrap_pyfunction!(controller_metrics, m)?)?;
    Ok(())
}
