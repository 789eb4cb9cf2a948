"""Parameter validation, input conversion and robustness against adversarial inputs.

Contract (module docs of ``rlforensics.stats``): invalid parameters raise ``ValueError``
naming the parameter; batch functions take any 1-D array-like (lists and other dtypes are
converted once); nothing surfaces as a Rust panic (``pyo3_runtime.PanicException``, which
derives from ``BaseException`` and so escapes ``except Exception``).
"""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import textwrap
from typing import Any, Callable

import numpy as np
import pytest

import rlforensics.stats as s

# --------------------------------------------------------------------------------------------
# Helpers


def call_no_panic(fn: Callable[[], Any]) -> Any:
    """Runs ``fn``; a Rust panic becomes a test failure with its message."""
    try:
        return fn()
    except BaseException as exc:
        if type(exc).__name__ == "PanicException":
            pytest.fail(f"Rust panic escaped as PanicException: {exc}")
        raise


def canon(value: Any) -> Any:
    """Comparable form of any result: arrays and floats by their bits (NaN == NaN)."""
    if isinstance(value, np.ndarray):
        return ("a", value.dtype.str, value.shape, value.astype(np.float64).tobytes())
    if isinstance(value, float):
        return ("f", struct.pack("<d", value))
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canon(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# Bad parameters -> ValueError naming the parameter

X = np.arange(10.0)

ROLLING_1D = {
    "rolling_mean": s.rolling_mean,
    "rolling_var": s.rolling_var,
    "rolling_std": s.rolling_std,
    "rolling_skew": s.rolling_skew,
    "rolling_kurt": s.rolling_kurt,
    "rolling_min": s.rolling_min,
    "rolling_max": s.rolling_max,
    "rolling_quantile": lambda x, w, mp=None: s.rolling_quantile(x, w, 0.5, mp),
    "RollingMoments": lambda x, w, mp=None: s.RollingMoments(w, mp),
    "RollingMinMax": lambda x, w, mp=None: s.RollingMinMax(w, mp),
    "RollingQuantile": lambda x, w, mp=None: s.RollingQuantile(w, mp),
    "rolling_slope": lambda x, w, mp=None: s.rolling_slope(np.arange(float(len(x))), x, w, mp),
    "rolling_trend": lambda x, w, mp=None: s.rolling_trend(np.arange(float(len(x))), x, w, mp),
    "RollingTrend": lambda x, w, mp=None: s.RollingTrend(w, mp),
}


@pytest.mark.parametrize("name", sorted(ROLLING_1D))
@pytest.mark.parametrize(
    "window,mp,param",
    [(0, None, "window"), (0, 1, "window"), (5, 6, "min_periods"), (5, 0, "min_periods"),
     (1, 2, "min_periods")],
)
def test_rolling_bad_window_or_min_periods(name, window, mp, param):
    f = ROLLING_1D[name]
    with pytest.raises(ValueError, match=param):
        call_no_panic(lambda: f(X, window, mp))


@pytest.mark.parametrize("name", ["rolling_slope", "rolling_trend", "RollingTrend"])
@pytest.mark.parametrize("window,mp", [(1, None), (5, 1)])
def test_trend_needs_two_points(name, window, mp):
    with pytest.raises(ValueError, match="window|min_periods"):
        ROLLING_1D[name](X, window, mp)


@pytest.mark.parametrize("q", [-0.1, 1.1, float("nan"), float("inf"), -float("inf")])
def test_bad_quantile(q):
    with pytest.raises(ValueError, match="q"):
        s.rolling_quantile(X, 3, q)
    r = s.RollingQuantile(3)
    r.update_many(X)
    with pytest.raises(ValueError, match="q"):
        r.quantile(q)
    sk = s.QuantileSketch(8)
    sk.update_many(X)
    with pytest.raises(ValueError, match="q"):
        sk.quantile(q)


@pytest.mark.parametrize("k", [0, 1, 2, 6, 7, 9, 11, 2049])
def test_sketch_bad_k(k):
    with pytest.raises(ValueError, match="k"):
        s.QuantileSketch(k)


def test_sketch_huge_k_does_not_panic():
    """k is only bounded below; an enormous k must be a ValueError, not a Rust panic
    ("capacity overflow" from allocating k slots up front)."""
    with pytest.raises(ValueError, match="k"):
        call_no_panic(lambda: s.QuantileSketch(2**62))


def test_sketch_large_k_does_not_abort_the_interpreter():
    """QuantileSketch(2**40) allocates 8 TiB up front; the allocation failure aborts the
    whole Python process. Run it in a subprocess so this test can report it."""
    code = textwrap.dedent(
        """
        import rlforensics.stats as s
        try:
            s.QuantileSketch(2**40).update(1.0)
        except ValueError:
            print("ValueError")
        else:
            print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, (
        f"QuantileSketch(2**40) killed the interpreter (exit {proc.returncode}): "
        f"{proc.stderr.strip()[:200]}"
    )
    assert proc.stdout.strip() in ("ValueError", "ok")


NEGATIVE_INTS = {
    "window": lambda: s.rolling_mean(X, -1),
    "min_periods": lambda: s.rolling_mean(X, 3, -1),
    "RollingMoments(window)": lambda: s.RollingMoments(-5),
    "k": lambda: s.QuantileSketch(-8),
    "reference_size": lambda: s.DriftDetector(-1, 5),
    "ddof": lambda: s.rolling_var(X, 3, ddof=-1),
    "settle_hold": lambda: s.ControllerAnalyzer(0.1, 0.01, settle_hold=-1),
}


def test_negative_integer_parameters_raise_value_error():
    """A negative window/count is an invalid parameter just like 0: the contract says
    ValueError naming the parameter. Collects every offender in one report."""
    wrong = []
    for param, make in NEGATIVE_INTS.items():
        try:
            make()
        except ValueError as exc:
            if param.split("(")[-1].rstrip(")") not in str(exc):
                wrong.append(f"{param}: ValueError without the name: {exc}")
        except Exception as exc:  # noqa: BLE001
            wrong.append(f"{param}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        else:
            wrong.append(f"{param}: accepted")
    assert not wrong, "negative integer parameters:\n" + "\n".join(wrong)


@pytest.mark.parametrize("alpha", [0.0, -0.5, 1.5, float("nan"), float("inf")])
def test_ewm_alpha_out_of_range(alpha):
    for f in (
        lambda: s.ewm_mean(X, alpha),
        lambda: s.ewm_var(X, alpha),
        lambda: s.EWMoments(alpha),
    ):
        with pytest.raises(ValueError, match="alpha"):
            f()


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, 2.0, float("nan")])
def test_drift_alpha_out_of_range(alpha):
    with pytest.raises(ValueError, match="alpha"):
        s.DriftDetector(10, 5, alpha=alpha)


def test_mismatched_lengths():
    a, b = np.arange(5.0), np.arange(4.0)
    cases = [
        (lambda: s.rolling_slope(a, b, 2), "length"),
        (lambda: s.rolling_trend(a, b, 2), "length"),
        (lambda: s.theil_sen(a, b), "length"),
        (lambda: s.RollingTrend(2).update_many(a, b), "length"),
        (lambda: s.controller_metrics(a, b, 0.1, 0.01), "length"),
        (lambda: s.controller_metrics(a, None, 0.1, 0.01, steps=b), "length"),
        (lambda: s.ControllerAnalyzer(0.1, 0.01).update_many(a, b), "length"),
        (lambda: s.ControllerAnalyzer(0.1, 0.01).update_many(a, None, b), "length"),
    ]
    for make, word in cases:
        with pytest.raises(ValueError, match=word):
            call_no_panic(make)


def test_histogram_kl_bins_zero():
    with pytest.raises(ValueError, match="bins"):
        s.histogram_kl(X, X, bins=0)


def test_large_ddof_is_not_an_error():
    np.testing.assert_array_equal(s.rolling_var(X, 3, ddof=3), np.full(10, np.nan))
    r = s.RollingMoments(3)
    r.update_many(X)
    assert r.variance(ddof=3) is None and r.variance(ddof=7) is None
    m = s.Moments()
    m.update_many(X)
    assert m.variance(ddof=10) is None and m.variance(ddof=9) == pytest.approx(np.var(X, ddof=9))


# --------------------------------------------------------------------------------------------
# Input conversion: lists, dtypes, strides, 2-D

_RNG = np.random.default_rng(0)
BASE = _RNG.integers(-40, 40, 200).astype(np.float64)  # exact in float32 and int
STEPS = np.arange(200, dtype=np.float64) * 3.0
KL = 10.0 + _RNG.integers(-4, 5, 200).astype(np.float64)
COEF = 1.0 + np.cumsum(_RNG.integers(0, 2, 200)).astype(np.float64)


def _with_feed(make, feed):
    def run(conv):
        obj = make()
        feed(obj, conv)
        return obj

    return run


BATCH: dict[str, Callable[[Callable], Any]] = {
    "rolling_mean": lambda c: s.rolling_mean(c(BASE), 7, 3),
    "rolling_var": lambda c: s.rolling_var(c(BASE), 7, 3),
    "rolling_std": lambda c: s.rolling_std(c(BASE), 7, ddof=0),
    "rolling_skew": lambda c: s.rolling_skew(c(BASE), 9),
    "rolling_kurt": lambda c: s.rolling_kurt(c(BASE), 9, bias=False),
    "rolling_min": lambda c: s.rolling_min(c(BASE), 5),
    "rolling_max": lambda c: s.rolling_max(c(BASE), 5),
    "rolling_quantile": lambda c: s.rolling_quantile(c(BASE), 8, 0.3),
    "ewm_mean": lambda c: s.ewm_mean(c(BASE), 0.2),
    "ewm_var": lambda c: s.ewm_var(c(BASE), span=5.0),
    "rolling_slope": lambda c: s.rolling_slope(c(STEPS), c(BASE), 6),
    "rolling_trend": lambda c: s.rolling_trend(c(STEPS), c(BASE), 6, 3),
    "theil_sen": lambda c: s.theil_sen(c(STEPS), c(BASE)),
    "mann_kendall": lambda c: s.mann_kendall(c(BASE)),
    "ks_2samp": lambda c: s.ks_2samp(c(BASE), c(BASE[:70] + 3.0)),
    "histogram_kl": lambda c: s.histogram_kl(c(BASE), c(BASE[:70] + 3.0)),
    "controller_metrics": lambda c: s.controller_metrics(c(KL), c(COEF), 10.0, 1.0, steps=c(STEPS)),
    "Moments.update_many": lambda c: _observe(
        _with_feed(s.Moments, lambda o, c: o.update_many(c(BASE)))(c)),
    "EWMoments.update_many": lambda c: _observe(
        _with_feed(lambda: s.EWMoments(0.3), lambda o, c: o.update_many(c(BASE)))(c)),
    "QuantileSketch.update_many": lambda c: _observe(
        _with_feed(lambda: s.QuantileSketch(16), lambda o, c: o.update_many(c(BASE)))(c)),
    "RollingMoments.update_many": lambda c: _observe(
        _with_feed(lambda: s.RollingMoments(9), lambda o, c: o.update_many(c(BASE)))(c)),
    "RollingMinMax.update_many": lambda c: _observe(
        _with_feed(lambda: s.RollingMinMax(9), lambda o, c: o.update_many(c(BASE)))(c)),
    "RollingQuantile.update_many": lambda c: _observe(
        _with_feed(lambda: s.RollingQuantile(9), lambda o, c: o.update_many(c(BASE)))(c)),
    "RollingTrend.update_many": lambda c: _observe(
        _with_feed(lambda: s.RollingTrend(9), lambda o, c: o.update_many(c(STEPS), c(BASE)))(c)),
    "DriftDetector.update_many": lambda c: _observe(
        _with_feed(lambda: s.DriftDetector(100, 50), lambda o, c: o.update_many(c(BASE)))(c)),
    "ControllerAnalyzer.update_many": lambda c: _observe(
        _with_feed(lambda: s.ControllerAnalyzer(10.0, 1.0),
                   lambda o, c: o.update_many(c(KL), c(COEF), c(STEPS)))(c)),
}


def _observe(obj) -> Any:
    name = type(obj).__name__
    if name == "Moments":
        return [obj.count, obj.mean(), obj.variance(), obj.skewness(), obj.kurtosis()]
    if name == "EWMoments":
        return [obj.count, obj.mean(), obj.variance()]
    if name == "QuantileSketch":
        return [obj.count, [obj.quantile(q) for q in (0.1, 0.5, 0.9)], obj.rank_error_bound()]
    if name == "RollingMoments":
        return [obj.count, obj.mean(), obj.variance(), obj.kurtosis()]
    if name == "RollingMinMax":
        return [obj.count, obj.min(), obj.max()]
    if name == "RollingQuantile":
        return [obj.count, obj.median()]
    if name == "RollingTrend":
        return obj.fit()
    if name == "DriftDetector":
        return [obj.ks(), obj.histogram_kl()]
    if name == "ControllerAnalyzer":
        return obj.report()
    raise AssertionError(name)


def _negative_stride(a):
    return np.ascontiguousarray(a[::-1])[::-1]


def _strided(a):
    out = np.zeros(2 * len(a), dtype=a.dtype)
    out[::2] = a
    return out[::2]


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


CONVERSIONS = {
    "list": lambda a: a.tolist(),
    "tuple": lambda a: tuple(a.tolist()),
    "float32": lambda a: a.astype(np.float32),
    "float16": lambda a: a.astype(np.float16),
    "int64": lambda a: a.astype(np.int64),
    "int32": lambda a: a.astype(np.int32),
    "int16": lambda a: a.astype(np.int16),
    "big_endian": lambda a: a.astype(">f8"),
    "strided": _strided,
    "negative_stride": _negative_stride,
    "readonly": _readonly,
    "fortran_column": lambda a: np.asfortranarray(np.stack([a, a], axis=1))[:, 0],
}


def test_conversions_keep_values():
    for name, conv in CONVERSIONS.items():
        for a in (BASE, STEPS, KL, COEF):
            assert np.array_equal(np.asarray(conv(a), dtype=np.float64), a), name


@pytest.mark.parametrize("conv", sorted(CONVERSIONS))
@pytest.mark.parametrize("name", sorted(BATCH))
def test_any_array_like_gives_the_float64_result(name, conv):
    want = BATCH[name](lambda a: a)
    got = call_no_panic(lambda: BATCH[name](CONVERSIONS[conv]))
    assert canon(got) == canon(want)


@pytest.mark.parametrize("name", sorted(BATCH))
def test_two_dimensional_input_raises(name):
    two_d = lambda a: np.stack([a, a])  # noqa: E731
    with pytest.raises((TypeError, ValueError)):
        call_no_panic(lambda: BATCH[name](two_d))


@pytest.mark.parametrize("name", sorted(BATCH))
def test_scalar_and_nested_inputs_raise(name):
    with pytest.raises((TypeError, ValueError)):
        call_no_panic(lambda: BATCH[name](lambda a: float(a[0])))
    with pytest.raises((TypeError, ValueError)):
        call_no_panic(lambda: BATCH[name](lambda a: [[float(v)] for v in a]))


@pytest.mark.parametrize("name", sorted(BATCH))
def test_non_numeric_input_raises(name):
    with pytest.raises((TypeError, ValueError)):
        call_no_panic(lambda: BATCH[name](lambda a: ["x"] * len(a)))


def test_batch_output_is_a_fresh_float64_array():
    x = BASE.astype(np.float32)
    out = s.rolling_mean(x, 3)
    assert out.dtype == np.float64 and out.shape == x.shape and out.flags.c_contiguous
    assert out.flags.writeable
    out[:] = 0.0  # writing the output does not touch the input
    assert np.array_equal(x, BASE.astype(np.float32))


# --------------------------------------------------------------------------------------------
# Adversarial inputs: never a panic

EMPTY = np.array([], dtype=np.float64)
ALL_NAN = np.full(50, np.nan)
ALL_INF = np.array([np.inf, -np.inf] * 25)
HUGE = np.array([1e300, -1e300, 1e300, 1e308, -1e308, 5e307, 1e300, 1e-300] * 8)
TINY = np.array([5e-324, -5e-324, 1e-310, 0.0, -0.0] * 10)
MIXED = np.concatenate([HUGE[:10], ALL_NAN[:5], TINY[:10], [np.inf, 3.0, -2.0]])
NEAR_2_53 = 2.0**53 + np.array([-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0] * 4)

ADVERSARIAL = {
    "empty": EMPTY,
    "all_nan": ALL_NAN,
    "all_inf": ALL_INF,
    "huge": HUGE,
    "tiny": TINY,
    "mixed": MIXED,
    "near_2_53": NEAR_2_53,
}


def _exercise_all(x: np.ndarray) -> None:
    """Every function and class, with ``x`` as each of its data inputs."""
    n = len(x)
    steps = NEAR_2_53[:n] if n <= len(NEAR_2_53) else np.arange(n, dtype=np.float64)
    for window in (1, 2, 7, 10**6):
        mp = None if window > 50 else 1
        for f in (s.rolling_mean, s.rolling_var, s.rolling_std, s.rolling_skew, s.rolling_kurt,
                  s.rolling_min, s.rolling_max):
            out = f(x, window, mp)
            assert out.shape == x.shape
        assert s.rolling_quantile(x, window, 0.7, mp).shape == x.shape
        if window >= 2:
            s.rolling_slope(steps, x, window, None if window > 50 else 2)
            s.rolling_trend(x, x, window)
            s.rolling_trend(steps, x, window)
    s.ewm_mean(x, 0.5)
    s.ewm_var(x, halflife=1e-300)
    s.ewm_var(x, com=1e300)
    s.theil_sen(steps, x)
    s.theil_sen(x, x)
    s.mann_kendall(x)
    s.ks_2samp(x, x)
    s.ks_2samp(x, HUGE)
    s.histogram_kl(x, x)
    s.histogram_kl(HUGE, x, bins=10**6)
    s.histogram_kl(x, TINY, bins=1)
    s.controller_metrics(x, x, 0.1, 0.01)
    s.controller_metrics(x, None, 1e-300, 0.0, steps=x, deadband=0.0, settle_hold=1, max_lag=64)
    s.controller_metrics(x, np.abs(x), 1e300, 1e300, steps=steps)
    objects = [
        s.Moments(),
        s.EWMoments(0.5),
        s.QuantileSketch(8),
        s.RollingMoments(3, 1),
        s.RollingMinMax(3, 1),
        s.RollingQuantile(3, 1),
        s.DriftDetector(5, 3, 1),
    ]
    for obj in objects:
        obj.update_many(x)
        for v in x[:20]:
            obj.update(float(v))
        obj.to_bytes()
    m, e, q, rm, mm, rq, d = objects
    (m + m).merge(m)
    (q + q).merge(q)
    m.mean(), m.variance(), m.std(0), m.skewness(), m.kurtosis(bias=False), m.min(), m.max()
    e.mean(), e.variance(), e.std()
    q.quantile(0.5), q.quantile(0.0), q.quantile(1.0), q.cdf(0.0), q.cdf(1e308)
    q.rank_error_bound()
    rm.mean(), rm.variance(), rm.skewness(False), rm.kurtosis(False)
    mm.min(), mm.max(), rq.median(), rq.quantile(0.01)
    d.ks(), d.histogram_kl(), d.histogram_kl(bins=3), d.drifted()
    t = s.RollingTrend(3, 2)
    t.update_many(steps, x)
    t.update_many(x, x)
    t.fit()
    a = s.ControllerAnalyzer(0.1, 0.01, max_lag=64)
    a.update_many(x, x, x)
    for v in x[:20]:
        a.update(float(v), float(v), None)
        a.update(float(v))
    a.report()


@pytest.mark.parametrize("case", sorted(ADVERSARIAL))
def test_adversarial_inputs_never_panic(case):
    call_no_panic(lambda: _exercise_all(ADVERSARIAL[case]))


def test_huge_values_give_nonfinite_or_finite_not_garbage():
    """1e300-scale inputs overflow the power sums; results may be inf/NaN but the finite
    ones that come back are still sane."""
    x = np.array([1e300, -1e300] * 10)
    m = s.Moments()
    m.update_many(x)
    assert m.mean() == 0.0 and m.min() == -1e300 and m.max() == 1e300
    assert np.nanmax(s.rolling_max(x, 3)) == 1e300
    sk = s.QuantileSketch(8)
    sk.update_many(x)
    assert sk.quantile(0.0) == -1e300 and sk.quantile(1.0) == 1e300


def test_steps_near_2_53_are_handled():
    """Steps beyond 2**53 are not all representable (2**53 + 1 rounds to 2**53): windows
    whose steps collapse to one value have no slope; the others fit exactly."""
    steps = 2.0**53 + np.array([0.0, 2.0, 4.0, 6.0, 8.0, 10.0])
    values = 0.5 * (steps - 2.0**53) + 1.0
    slope = s.rolling_slope(steps, values, 3)
    np.testing.assert_allclose(slope[2:], 0.5, rtol=1e-12)
    collapsed = np.array([2.0**53, 2.0**53 + 1.0, 2.0**53])  # all equal in float64
    assert np.isnan(s.rolling_slope(collapsed, np.array([1.0, 2.0, 3.0]), 3)).all()
    assert s.theil_sen(collapsed, np.array([1.0, 2.0, 3.0])) is None


def test_errors_are_plain_exceptions():
    """Validation errors are ordinary ValueErrors: catchable with ``except Exception``."""
    try:
        s.rolling_mean(X, 0)
    except Exception as exc:  # noqa: BLE001
        assert type(exc) is ValueError
        assert "window" in str(exc)
    else:
        raise AssertionError("no error")
    assert math.isnan(s.rolling_mean(X, 20, 11)[0])
