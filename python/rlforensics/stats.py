"""Streaming estimators and batch kernels of the numeric core.

Two ways in, one implementation:

* **Streaming objects** (``Moments``, ``RollingMoments``, ``RollingMinMax``,
  ``RollingQuantile``, ``EWMoments``, ``QuantileSketch``, ``RollingTrend``,
  ``DriftDetector``, ``ControllerAnalyzer``) take one value with ``update(x)`` or a whole
  array with ``update_many(xs)``, answer with getters, pickle, and (where exact) ``merge`` or
  ``a + b``.
* **Batch functions** (``rolling_mean``, ``rolling_std``, ``rolling_slope``,
  ``controller_metrics``, ...) take NumPy arrays (float64 is used without a copy; other
  dtypes and lists are converted once) and return NumPy arrays. They release the GIL and give
  the same numbers, bit for bit, as feeding the matching streaming object value by value.

Shared conventions:

* "Not enough data" is ``None`` from a getter and ``NaN`` in a batch output, never 0.0.
* NaN and ±inf are *missing*: whole-run estimators count them (``nonfinite``) and skip them;
  windowed estimators keep their slot (a window is always the last ``window`` observations)
  but do not use them, and a statistic needs ``min_periods`` finite values (default: the
  whole window), as in pandas. Unlike pandas, ±inf is treated like NaN.
* Variances default to ``ddof=1``; skewness and kurtosis default to the biased estimators
  (scipy's defaults); ``bias=False`` gives pandas' adjusted ones.
* Invalid parameters raise ``ValueError`` with the parameter's name.

``controller_metrics(kl, coef, target, tolerance)`` returns a dict with these keys:

``samples``, ``nonfinite_kl``
    Samples with a finite / non-finite KL.
``time_in_band``, ``band_entries``, ``band_exits``
    Fraction of samples with ``|kl - target| <= tolerance`` and transitions into / out of it.
``overshoot_count``, ``max_overshoot``, ``mean_overshoot``
    An excursion is a run of samples outside the band on one side; one that follows an
    excursion on the other side crossed the target and overshot. Size:
    ``(peak |kl - target| - tolerance) / target``.
``oscillation_flips``, ``oscillation_rate``, ``mean_period``, ``decay_ratio``, ``damping_ratio``
    Sign changes of ``kl - target`` beyond the dead band (default: the tolerance), per
    sample; the mean period in steps; the geometric-mean ratio of successive half-cycle peaks
    (< 1 damped) and the damping ratio from the logarithmic decrement (< 0 growing).
``settle_count``, ``mean_settling_time``, ``max_settling_time``, ``last_settling_time``, ``unsettled_since``
    A disturbance starts when the KL leaves the band; it settles when the KL has been back in
    the band for ``settle_hold`` samples. Times are in steps (``steps`` if given, else the
    sample index).
``controller``, ``responsiveness``, ``response_lag``, ``invalid_coef``
    ``"unknown"`` without a coefficient, ``"fixed"`` for a constant one (no controller, not
    an unresponsive one), ``"adaptive"`` otherwise, with the correlation of ``kl - target``
    at lag L with the change of ``log(coef)`` at the L in 0..``max_lag`` where it is largest in
    magnitude, sign kept (positive: the coefficient acts against the error; negative: it acts
    the wrong way; about 0: it does not react).
"""

from __future__ import annotations

from rlforensics._core import (
    ControllerAnalyzer,
    DriftDetector,
    EWMoments,
    Moments,
    QuantileSketch,
    RollingMinMax,
    RollingMoments,
    RollingQuantile,
    RollingTrend,
    controller_metrics,
    ewm_mean,
    ewm_var,
    histogram_kl,
    ks_2samp,
    mann_kendall,
    rolling_kurt,
    rolling_max,
    rolling_mean,
    rolling_min,
    rolling_quantile,
    rolling_skew,
    rolling_slope,
    rolling_std,
    rolling_trend,
    rolling_var,
    theil_sen,
)

__all__ = [
    "ControllerAnalyzer",
    "DriftDetector",
    "EWMoments",
    "Moments",
    "QuantileSketch",
    "RollingMinMax",
    "RollingMoments",
    "RollingQuantile",
    "RollingTrend",
    "controller_metrics",
    "ewm_mean",
    "ewm_var",
    "histogram_kl",
    "ks_2samp",
    "mann_kendall",
    "rolling_kurt",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_quantile",
    "rolling_skew",
    "rolling_slope",
    "rolling_std",
    "rolling_trend",
    "rolling_var",
    "theil_sen",
]
