"""Rolling windows: batch kernels against pandas / NumPy, streaming classes against the batch
kernels (bit for bit), and precision over large offsets and long runs.

Tolerances (both implementations round; neither is the exact answer):

* mean: ``rtol=1e-9, atol=1e-13 * scale``; variance / std: ``rtol=1e-9`` and
  ``atol=1e-12 * scale**2`` (``1e-6 * scale`` for std), where ``scale`` is the largest finite
  magnitude in the whole input. Sliding sums carry a rounding residue of order
  ``eps * scale**2`` from every value that passed through the window (pandas' add/remove
  scheme has the same kind of residue), so the absolute part must scale with the data, not
  with the window. Measured worst case on these strategies: about ``5e-15 * scale**2``.
* skew / kurt (``bias=False``, pandas' G1/G2, and the default g1/g2 against scipy):
  ``rtol=1e-6, atol=1e-6``, and only for windows whose variance is at least ``1e-6 * scale**2``
  (skew) or ``1e-4 * scale**2`` (kurt). Below that the power sums' residue from larger values
  that passed through the window dominates the window's own third/fourth central sums (e.g.
  a window of two values 2.8e-6 apart after values of 1e-3: kurtosis -1.99996 instead of
  exactly -2), and pandas' sums are ill-conditioned there too. Measured worst case in the
  compared region: about ``3e-9``.
* min / max: exact. quantile: ``rtol=1e-14, atol=4 * eps * scale`` (same interpolation
  formula as pandas, may differ in the last bit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from helpers import (
    as_nan,
    assert_bitwise_equal,
    assert_close_nan,
    examples,
    finite_scale,
    float_arrays,
    missing_to_nan,
)
from rlforensics.stats import (
    RollingMinMax,
    RollingMoments,
    RollingQuantile,
    RollingTrend,
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
)

EPS = np.finfo(np.float64).eps
# Smallest window variance, relative to scale**2, at which skew / kurt are compared: the sums'
# residue from earlier, larger values enters the third / fourth central sum relative to
# (scale**2 / var) ** 1.5 / ** 2.
COND = {"skew": 1e-6, "kurt": 1e-4}


@st.composite
def rolling_cases(draw, max_size=250, max_window=60):
    x = draw(float_arrays(min_size=0, max_size=max_size))
    window = draw(st.integers(1, max_window))
    min_periods = draw(st.one_of(st.none(), st.integers(1, window)))
    return x, window, min_periods


def pandas_rolling(x, window, min_periods):
    return pd.Series(missing_to_nan(x)).rolling(window, min_periods=min_periods)


def windows_of(x, window):
    """Every trailing window (shorter at the start), padded with NaN: shape (n, window)."""
    x = missing_to_nan(x)
    if x.size == 0:
        return np.empty((0, window))
    padded = np.concatenate([np.full(window - 1, np.nan), x])
    return sliding_window_view(padded, window)


def finite_counts(x, window):
    return np.sum(~np.isnan(windows_of(x, window)), axis=1)


def two_pass_var(x, window, ddof=1):
    """NumPy two-pass variance of the finite values of each trailing window (NaN if n<=ddof)."""
    w = windows_of(x, window)
    n = np.sum(~np.isnan(w), axis=1)
    out = np.full(len(w), np.nan)
    for i in np.flatnonzero(n > ddof):
        v = w[i][~np.isnan(w[i])]
        out[i] = np.var(v, ddof=ddof)
    return out


# --------------------------------------------------------------------------------------------
# Batch kernels against pandas


@settings(max_examples=examples(80))
@given(rolling_cases())
def test_rolling_mean_matches_pandas(case):
    x, window, mp = case
    want = pandas_rolling(x, window, mp).mean().to_numpy()
    got = rolling_mean(x, window, mp)
    scale = finite_scale(x)
    assert_close_nan(got, want, rtol=1e-9, atol=1e-13 * scale, what="mean")


@settings(max_examples=examples(80))
@given(rolling_cases(), st.sampled_from([0, 1, 2]))
def test_rolling_var_std_match_pandas(case, ddof):
    x, window, mp = case
    r = pandas_rolling(x, window, mp)
    scale = finite_scale(x)
    want_var = r.var(ddof=ddof).to_numpy()
    want_std = r.std(ddof=ddof).to_numpy()
    if ddof == 1:
        assert_bitwise_equal(rolling_var(x, window, mp), rolling_var(x, window, mp, ddof=1))
    assert_close_nan(
        rolling_var(x, window, mp, ddof=ddof),
        want_var,
        rtol=1e-9,
        atol=1e-12 * scale**2,
        what=f"var ddof={ddof}",
    )
    assert_close_nan(
        rolling_std(x, window, mp, ddof=ddof),
        want_std,
        rtol=1e-9,
        atol=1e-6 * scale,
        what=f"std ddof={ddof}",
    )


@settings(max_examples=examples(60))
@given(rolling_cases())
def test_rolling_var_matches_two_pass_numpy(case):
    x, window, mp = case
    want = two_pass_var(x, window, ddof=1)
    counts = finite_counts(x, window)
    want[counts < mp if mp is not None else counts < window] = np.nan
    assert_close_nan(
        rolling_var(x, window, mp),
        want,
        rtol=1e-9,
        atol=1e-12 * finite_scale(x) ** 2,
        what="var vs two-pass",
    )


def _compare_higher_moment(got, want, x, window, mp, needed, what):
    """NaN where there are too few values; close where the window's variance is at least
    ``COND[what]`` of scale**2 (see the module docstring)."""
    counts = finite_counts(x, window)
    required = np.maximum(window if mp is None else mp, needed)
    too_few = counts < required
    # Not enough data: NaN in both, whatever the conditioning.
    assert np.all(np.isnan(got[too_few])), what
    assert np.all(np.isnan(want[too_few])), what
    var = two_pass_var(x, window, ddof=0)
    scale = finite_scale(x)
    with np.errstate(invalid="ignore"):
        conditioned = ~too_few & (var >= COND[what.split("(")[0]] * scale**2)
    assert_close_nan(got[conditioned], want[conditioned], rtol=1e-6, atol=1e-6, what=what)


@settings(max_examples=examples(60))
@given(rolling_cases())
def test_rolling_skew_matches_pandas(case):
    x, window, mp = case
    want = pandas_rolling(x, window, mp).skew().to_numpy()
    got = rolling_skew(x, window, mp, bias=False)
    _compare_higher_moment(got, want, x, window, mp, 3, "skew(bias=False)")


@settings(max_examples=examples(60))
@given(rolling_cases())
def test_rolling_kurt_matches_pandas(case):
    x, window, mp = case
    want = pandas_rolling(x, window, mp).kurt().to_numpy()
    got = rolling_kurt(x, window, mp, bias=False)
    _compare_higher_moment(got, want, x, window, mp, 4, "kurt(bias=False)")


@settings(max_examples=examples(30))
@given(rolling_cases(max_size=150, max_window=30))
def test_rolling_biased_skew_kurt_match_scipy(case):
    """The default bias=True is scipy's g1/g2 of each window's finite values."""
    import scipy.stats

    x, window, mp = case
    w = windows_of(x, window)
    want_s = np.full(len(w), np.nan)
    want_k = np.full(len(w), np.nan)
    scale = finite_scale(x)
    for i, row in enumerate(w):
        v = row[~np.isnan(row)]
        # Only where compared (see _compare_higher_moment); scipy warns on near-constant data.
        if v.size >= 2 and v.size >= (window if mp is None else mp) and (
            np.var(v) >= min(COND.values()) * scale**2
        ):
            want_s[i] = scipy.stats.skew(v)
            want_k[i] = scipy.stats.kurtosis(v)
    _compare_higher_moment(rolling_skew(x, window, mp), want_s, x, window, mp, 2, "skew")
    _compare_higher_moment(rolling_kurt(x, window, mp), want_k, x, window, mp, 2, "kurt")


@settings(max_examples=examples(80))
@given(rolling_cases())
def test_rolling_min_max_match_pandas_exactly(case):
    x, window, mp = case
    r = pandas_rolling(x, window, mp)
    assert_bitwise_equal(rolling_min(x, window, mp), r.min().to_numpy(), "min")
    assert_bitwise_equal(rolling_max(x, window, mp), r.max().to_numpy(), "max")


@settings(max_examples=examples(80))
@given(
    rolling_cases(),
    st.one_of(st.sampled_from([0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0]), st.floats(0.0, 1.0)),
)
def test_rolling_quantile_matches_pandas(case, q):
    x, window, mp = case
    want = pandas_rolling(x, window, mp).quantile(q).to_numpy()
    got = rolling_quantile(x, window, q, mp)
    scale = finite_scale(x)
    assert_close_nan(got, want, rtol=1e-14, atol=4 * EPS * scale, what=f"quantile q={q}")


def test_rolling_quantile_matches_numpy_linear():
    rng = np.random.default_rng(5)
    x = rng.standard_normal(400)
    x[rng.random(400) < 0.1] = np.nan
    for q in (0.0, 0.1, 0.5, 0.9, 1.0):
        got = rolling_quantile(x, 25, q, min_periods=10)
        w = windows_of(x, 25)
        want = np.full(len(w), np.nan)
        for i, row in enumerate(w):
            v = row[~np.isnan(row)]
            if v.size >= 10:
                want[i] = np.quantile(v, q)
        assert_close_nan(got, want, rtol=1e-14, atol=1e-15, what=f"q={q}")


def test_rolling_std_matches_polars():
    import polars as pl
    rng = np.random.default_rng(9)
    x = rng.normal(3.0, 2.0, 2000)
    x[rng.random(2000) < 0.1] = np.nan
    want = pl.Series(x, nan_to_null=True).rolling_std(window_size=30, min_samples=10).to_numpy()
    assert_close_nan(rolling_std(x, 30, 10), want, rtol=1e-9, atol=1e-12, what="polars std")


def test_small_known_windows():
    x = np.array([1.0, 2.0, np.nan, 4.0, np.inf, 6.0, 7.0])
    np.testing.assert_array_equal(
        rolling_mean(x, 3, min_periods=2), [np.nan, 1.5, 1.5, 3.0, np.nan, 5.0, 6.5]
    )
    np.testing.assert_array_equal(
        rolling_min(x, 3, min_periods=1), [1.0, 1.0, 1.0, 2.0, 4.0, 4.0, 6.0]
    )
    np.testing.assert_array_equal(
        rolling_max(x, 3, min_periods=1), [1.0, 2.0, 2.0, 4.0, 4.0, 6.0, 7.0]
    )
    # The default min_periods is the whole window: any missing value gives NaN.
    assert np.isnan(rolling_mean(x, 3)).all()
    np.testing.assert_array_equal(rolling_mean(x[5:], 2), [np.nan, 6.5])
    # ddof=1 is the default; a single value has no sample variance.
    np.testing.assert_array_equal(rolling_var([5.0, 7.0], 2, 1), [np.nan, 2.0])
    np.testing.assert_array_equal(rolling_var([5.0, 7.0], 2, 1, ddof=0), [0.0, 1.0])


def test_empty_input_gives_empty_output():
    for f in (rolling_mean, rolling_var, rolling_std, rolling_skew, rolling_kurt):
        out = f(np.array([]), 3)
        assert out.shape == (0,) and out.dtype == np.float64
    assert rolling_min([], 3).shape == (0,)
    assert rolling_max([], 3).shape == (0,)
    assert rolling_quantile([], 3, 0.5).shape == (0,)


# --------------------------------------------------------------------------------------------
# Streaming classes against batch kernels, bit for bit


def _stream(obj, x, getters):
    out = {name: [] for name in getters}
    for v in x:
        obj.update(float(v))
        for name, get in getters.items():
            out[name].append(get(obj))
    return {name: as_nan(vals) for name, vals in out.items()}


MOMENT_GETTERS = {
    "mean": lambda r: r.mean(),
    "var1": lambda r: r.variance(),
    "var0": lambda r: r.variance(0),
    "std1": lambda r: r.std(),
    "std0": lambda r: r.std(ddof=0),
    "skew_b": lambda r: r.skewness(),
    "skew_u": lambda r: r.skewness(bias=False),
    "kurt_b": lambda r: r.kurtosis(),
    "kurt_u": lambda r: r.kurtosis(bias=False),
}


def _moment_batches(x, window, mp):
    return {
        "mean": rolling_mean(x, window, mp),
        "var1": rolling_var(x, window, mp),
        "var0": rolling_var(x, window, mp, ddof=0),
        "std1": rolling_std(x, window, mp),
        "std0": rolling_std(x, window, mp, ddof=0),
        "skew_b": rolling_skew(x, window, mp),
        "skew_u": rolling_skew(x, window, mp, bias=False),
        "kurt_b": rolling_kurt(x, window, mp),
        "kurt_u": rolling_kurt(x, window, mp, bias=False),
    }


def _check_moments_stream(x, window, mp):
    r = RollingMoments(window, mp)
    assert r.window == window
    assert r.min_periods == (window if mp is None else mp)
    streamed = _stream(r, x, MOMENT_GETTERS)
    batch = _moment_batches(x, window, mp)
    for name in MOMENT_GETTERS:
        assert_bitwise_equal(streamed[name], batch[name], f"RollingMoments.{name}")
    assert r.count == (finite_counts(x, window)[-1] if len(x) else 0)
    # update_many, in two chunks, reaches the same final state.
    r2 = RollingMoments(window, mp)
    half = len(x) // 2
    r2.update_many(x[:half])
    r2.update_many(x[half:])
    for name, get in MOMENT_GETTERS.items():
        assert_bitwise_equal([np.nan if get(r2) is None else get(r2)],
                             [np.nan if get(r) is None else get(r)], name)


@settings(max_examples=examples(40))
@given(rolling_cases(max_size=200, max_window=40))
@example((np.array([1e6, 0.1, 0.2, 0.3]), 2, None))  # mean: batch and stream differ
def test_rolling_moments_stream_equals_batch(case):
    _check_moments_stream(*case)


@pytest.mark.parametrize("window,mp", [(7, None), (7, 3), (300, 100), (1, None)])
def test_rolling_moments_stream_equals_batch_across_recomputes(window, mp):
    """Long enough to cross several exact recomputations (every max(4·window, 1024) slides)."""
    rng = np.random.default_rng(window)
    x = np.cumsum(rng.standard_normal(4000)) + 1e6
    x[rng.random(4000) < 0.05] = np.nan
    x[::997] = np.inf
    _check_moments_stream(x, window, mp)


def _check_minmax_stream(x, window, mp):
    r = RollingMinMax(window, mp)
    s = _stream(r, x, {"min": lambda o: o.min(), "max": lambda o: o.max()})
    assert_bitwise_equal(s["min"], rolling_min(x, window, mp), "RollingMinMax.min")
    assert_bitwise_equal(s["max"], rolling_max(x, window, mp), "RollingMinMax.max")
    r2 = RollingMinMax(window, mp)
    r2.update_many(x)
    assert (r2.min(), r2.max(), r2.count) == (r.min(), r.max(), r.count)


def _check_quantile_stream(x, window, mp, qs=(0.0, 0.3, 0.5, 0.95, 1.0)):
    r = RollingQuantile(window, mp)
    getters = {q: (lambda o, q=q: o.quantile(q)) for q in qs}
    getters["median"] = lambda o: o.median()
    s = _stream(r, x, getters)
    for q in qs:
        assert_bitwise_equal(s[q], rolling_quantile(x, window, q, mp), f"quantile {q}")
    assert_bitwise_equal(s["median"], rolling_quantile(x, window, 0.5, mp), "median")
    r2 = RollingQuantile(window, mp)
    r2.update_many(x)
    assert r2.count == r.count and r2.median() == r.median()


@settings(max_examples=examples(40))
@given(rolling_cases(max_size=200, max_window=40))
def test_rolling_minmax_and_quantile_stream_equal_batch(case):
    _check_minmax_stream(*case)
    _check_quantile_stream(*case)


def test_minmax_quantile_long_stream_equal_batch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(5000)
    x[rng.random(5000) < 0.05] = np.nan
    x[::1001] = -np.inf
    for window, mp in [(13, 5), (500, None)]:
        _check_minmax_stream(x, window, mp)
        _check_quantile_stream(x, window, mp, qs=(0.1, 0.5))


def _check_trend_stream(steps, x, window, mp):
    t = RollingTrend(window, mp)
    slope, icpt, r2 = [], [], []
    for s, v in zip(steps, x):
        t.update(float(s), float(v))
        f = t.fit()
        assert (f is None) == (t.slope() is None)
        slope.append(None if f is None else f["slope"])
        icpt.append(None if f is None else f["intercept"])
        r2.append(None if f is None else f["r2"])
        if f is not None:
            assert f["slope"] == t.slope()
            assert f["n"] == t.count
    b_slope, b_icpt, b_r2 = rolling_trend(steps, x, window, mp)
    assert_bitwise_equal(as_nan(slope), b_slope, "RollingTrend slope")
    assert_bitwise_equal(as_nan(icpt), b_icpt, "RollingTrend intercept")
    assert_bitwise_equal(as_nan(r2), b_r2, "RollingTrend r2")
    assert_bitwise_equal(rolling_slope(steps, x, window, mp), b_slope, "rolling_slope")
    t2 = RollingTrend(window, mp)
    t2.update_many(steps, x)
    assert t2.fit() == t.fit()


@settings(max_examples=examples(40))
@given(rolling_cases(max_size=200, max_window=40), st.sampled_from(["uniform", "gaps", "huge"]))
def test_rolling_trend_stream_equals_batch(case, steps_kind):
    x, window, mp = case
    window = max(window, 2)
    if mp is not None:
        mp = min(max(mp, 2), window)
    n = len(x)
    if steps_kind == "uniform":
        steps = np.arange(n, dtype=np.float64)
    elif steps_kind == "gaps":
        steps = np.cumsum(np.random.default_rng(n).integers(1, 50, n)).astype(np.float64)
    else:
        steps = 1e9 + 8.0 * np.arange(n)
    _check_trend_stream(steps, x, window, mp)


def test_rolling_trend_long_stream_equals_batch():
    rng = np.random.default_rng(8)
    n = 6000
    steps = 1e9 + np.cumsum(rng.integers(1, 4, n)).astype(np.float64)
    x = 0.3 * (steps - 1e9) + rng.standard_normal(n)
    x[rng.random(n) < 0.03] = np.nan
    steps[rng.random(n) < 0.01] = np.nan
    for window, mp in [(9, None), (400, 50)]:
        _check_trend_stream(steps, x, window, mp)


# --------------------------------------------------------------------------------------------
# Precision: large offsets, long runs, constant windows


@pytest.mark.parametrize("window", [2, 10, 100, 1000])
def test_large_offset_windows_match_two_pass(window):
    rng = np.random.default_rng(window)
    n = 6000
    x = 1e9 + rng.standard_normal(n) * 1e-3
    shifted = x - 1e9  # exact (Sterbenz): the very values we feed, minus the offset
    w = sliding_window_view(shifted, window)
    want_var = np.var(w, axis=1, ddof=1) if window > 1 else None
    want_mean = 1e9 + np.mean(w, axis=1)
    got_mean = rolling_mean(x, window)[window - 1 :]
    # The mean near 1e9 is representable to one ulp only.
    assert np.max(np.abs(got_mean - want_mean)) <= np.spacing(1e9)
    if window > 1:
        got_var = rolling_var(x, window)[window - 1 :]
        rel = np.abs(got_var - want_var) / want_var
        assert rel.max() < 1e-9, rel.max()
        got_std = rolling_std(x, window)[window - 1 :]
        assert np.max(np.abs(got_std - np.sqrt(want_var)) / np.sqrt(want_var)) < 1e-9
    if window >= 10:
        import scipy.stats

        got_skew = rolling_skew(x, window)[window - 1 :]
        idx = np.linspace(0, len(w) - 1, 50).astype(int)
        want_skew = scipy.stats.skew(w[idx], axis=1)
        assert np.max(np.abs(got_skew[idx] - want_skew)) < 1e-6


def test_long_run_with_offset_and_trend_does_not_drift():
    """2e6 values with an offset and a trend: early, middle and last windows still match a
    two-pass computation, i.e. rounding residue does not accumulate with run length.

    Error bound per window: 1e-9 of the window variance plus 1e-11 of the noise variance
    (1.0): a window of two nearly equal values has a tiny variance that no sliding scheme
    gets to 1e-9 relative, so the absolute part is on the scale of the data's noise."""
    n = 2_000_000
    rng = np.random.default_rng(42)
    i = np.arange(n, dtype=np.float64)
    x = 1e6 + 0.25 * i + rng.standard_normal(n)
    for window in (2, 5, 50, 1000):
        idx_windows = {
            "early": slice(window - 1, window - 1 + 300),
            "middle": slice(n // 2, n // 2 + 300),
            "last": slice(n - 300, n),
        }
        var = rolling_var(x, window)
        mean = rolling_mean(x, window)
        for where, sl in idx_windows.items():
            ends = np.arange(n)[sl]
            w = np.stack([x[e - window + 1 : e + 1] for e in ends])
            want_var = np.var(w, axis=1, ddof=1)
            want_mean = np.mean(w, axis=1)
            err_var = np.abs(var[sl] - want_var)
            assert np.all(err_var <= 1e-9 * want_var + 1e-11), (window, where, err_var.max())
            rel_mean = np.max(np.abs(mean[sl] - want_mean) / np.abs(want_mean))
            assert rel_mean < 1e-14, (window, where, rel_mean)


@pytest.mark.parametrize("value", [0.1, -7.25, 1e9 + 0.5, 0.0])
@pytest.mark.parametrize("window", [1, 2, 10, 64])
def test_constant_window_is_exact_after_noise(value, window):
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(500) * 1e3 + 17.0
    x = np.concatenate([noise, np.full(2 * window + 3, value)])
    tail = slice(len(noise) + window - 1, None)
    std = rolling_std(x, window)[tail]
    if window > 1:
        assert np.all(std == 0.0), std
        assert np.all(rolling_var(x, window)[tail] == 0.0)
    assert np.all(rolling_std(x, window, ddof=0)[tail] == 0.0)
    assert np.all(rolling_mean(x, window)[tail] == value)
    # Zero variance: skewness/kurtosis undefined -> NaN (never 0).
    assert np.all(np.isnan(rolling_skew(x, window)[tail]))
    assert np.all(np.isnan(rolling_kurt(x, window)[tail]))
    r = RollingMoments(window)
    r.update_many(x)
    assert r.std(0) == 0.0 and r.mean() == value and r.skewness() is None


def _noise_then_constant_with_a_hole(seed):
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(100) * 1e3 + 17.0
    tail = np.full(20, 0.1)
    tail[-5] = np.nan
    return np.concatenate([noise, tail])


@pytest.mark.parametrize("seed", range(2))
def test_constant_window_with_missing_value_has_zero_std(seed):
    """Missing values are not used, so a window whose *finite* values are all equal is a
    constant window too and its std must be exactly 0 (pandas gives 0.0 here)."""
    x = _noise_then_constant_with_a_hole(seed)
    std = rolling_std(x, 10, min_periods=5)[-4:]
    assert np.all(std == 0.0), f"std of windows holding nine 0.1 and one NaN = {std}"
    r = RollingMoments(10, min_periods=5)
    r.update_many(x)
    assert r.std() == 0.0


@pytest.mark.parametrize("seed", range(2))
def test_constant_window_with_missing_value_has_exact_mean(seed):
    x = _noise_then_constant_with_a_hole(seed)
    r = RollingMoments(10, min_periods=5)
    r.update_many(x)
    assert r.mean() == 0.1
    mean = rolling_mean(x, 10, min_periods=5)[-4:]
    assert np.all(mean == 0.1), f"rolling_mean of windows holding nine 0.1 and one NaN = {mean!r}"


def test_rolling_mean_after_a_jump_matches_stream():
    """Minimal case: after 1e6 leaves a window of 2, the window is [0.1, 0.2]."""
    x = np.array([1e6, 0.1, 0.2, 0.3])
    r = RollingMoments(2)
    stream = []
    for v in x:
        r.update(v)
        stream.append(r.mean())
    batch = rolling_mean(x, 2)
    assert stream[2] == np.mean([0.1, 0.2])
    assert batch[2] == stream[2], f"rolling_mean {batch[2]!r} vs RollingMoments.mean {stream[2]!r}"


def _level_jumps(seed):
    rng = np.random.default_rng(seed)
    parts = []
    for level, spread, n in [(1e6, 1e3, 60), (0.1, 1e-3, 200), (-5e4, 1.0, 80), (3.0, 1e-6, 150)]:
        parts.append(level + spread * rng.standard_normal(n))
    x = np.concatenate(parts)
    x[rng.random(x.size) < 0.03] = np.nan
    return x


@pytest.mark.parametrize("window,mp,seed", [(5, None, 0), (30, 3, 1)])
def test_stream_equals_batch_after_level_jumps(window, mp, seed):
    """Jumps from a large level into a quiet stretch make the sums re-anchor early; batch and
    streaming must still agree to the bit, for every statistic including the mean."""
    _check_moments_stream(_level_jumps(seed), window, mp)


@pytest.mark.parametrize("window", [5, 10, 30])
def test_accuracy_after_level_jumps(window):
    x = _level_jumps(7)
    counts = finite_counts(x, window)
    want_var = two_pass_var(x, window)
    want_var[counts < window] = np.nan
    got_var = rolling_var(x, window)
    ok = ~np.isnan(want_var)
    assert np.array_equal(np.isnan(got_var), ~ok)
    rel = np.abs(got_var[ok] - want_var[ok]) / want_var[ok]
    assert rel.max() < 1e-6, rel.max()
