"""Trends: rolling least squares against ``np.polyfit`` / ``scipy.stats.linregress``,
Theil–Sen against ``scipy.stats.theilslopes`` and Mann–Kendall against a direct NumPy
implementation and ``scipy.stats.kendalltau``.

Reference fits are computed on ``steps - steps[first]`` (exact for the integer-valued and
nearby steps used here), so that steps near 1e9 do not make the *reference* ill-conditioned;
the intercept is then moved back to step 0.

Tolerances for the rolling fit: the slope is compared on its natural scale
``sqrt(cyy / cxx)`` of each window (a slope is as precise as the values allow, not relative
to a slope that may happen to be near 0): error ``<= 1e-9 * (|slope| + natural)``
(``1e-8`` on 6000-pair runs). The library claims full precision for steps near 1e9 and
uneven logging intervals ("sums are kept relative to a point inside the window"); the
tests with strongly uneven spacing and short windows hold it to that claim.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from helpers import assert_bitwise_equal, examples, finite_scale, float_arrays
from rlforensics.stats import RollingTrend, mann_kendall, rolling_slope, rolling_trend, theil_sen


def reference_fits(steps, values, window, min_periods):
    """Per trailing window: (slope, intercept, r2) from polyfit/linregress, NaN if no fit."""
    n = len(values)
    mp = window if min_periods is None else min_periods
    out = np.full((3, n), np.nan)
    natural = np.full(n, np.nan)
    r2_conditioned = np.zeros(n, dtype=bool)
    for i in range(n):
        lo = max(0, i + 1 - window)
        xs, ys = steps[lo : i + 1], values[lo : i + 1]
        ok = np.isfinite(xs) & np.isfinite(ys)
        xs, ys = xs[ok], ys[ok]
        if xs.size < mp or xs.size < 2 or np.all(xs == xs[0]):
            continue
        x0 = xs[0]
        dx = xs - x0
        slope, b = np.polyfit(dx, ys, 1)
        out[0, i] = slope
        out[1, i] = b - slope * x0
        xc, yc = dx - dx.mean(), ys - ys.mean()
        natural[i] = math.sqrt(np.sum(yc * yc) / np.sum(xc * xc))
        if np.any(ys != ys[0]):
            out[2, i] = scipy.stats.linregress(dx, ys).rvalue ** 2
            # Values that differ only in their last digits: r2 is 0/0-like in floating point
            # (two values one ulp apart: exactly 1 in exact arithmetic, linregress says 0.5).
            r2_conditioned[i] = np.std(ys) > 1e-6 * np.max(np.abs(ys))
    return out, natural, r2_conditioned


def check_fits(steps, values, window, mp, slope_tol=1e-9):
    got = np.array(rolling_trend(steps, values, window, mp))
    want, natural, r2_conditioned = reference_fits(steps, values, window, mp)
    nan_got, nan_want = np.isnan(got[0]), np.isnan(want[0])
    assert np.array_equal(nan_got, nan_want), (
        f"slope NaN mismatch at {np.flatnonzero(nan_got != nan_want)[:10]}"
    )
    ok = ~nan_want
    slope_err = np.abs(got[0, ok] - want[0, ok])
    # Plus a floor for windows of constant values (natural scale 0, polyfit gives ~1e-19).
    y_far = finite_scale(values)
    def step_span(i):
        w = steps[max(0, i + 1 - window) : i + 1]
        return np.ptp(w[np.isfinite(w)])

    span = np.array([step_span(i) for i in np.flatnonzero(ok)])
    slope_lim = slope_tol * (np.abs(want[0, ok]) + natural[ok]) + 1e-13 * y_far / span
    if np.any(slope_err > slope_lim):
        j = int(np.argmax(slope_err / slope_lim))
        i = int(np.flatnonzero(ok)[j])
        lo = max(0, i + 1 - window)
        raise AssertionError(
            f"slope of window ending at {i} (steps {steps[lo:i + 1]!r}): got {got[0, i]!r}, "
            f"polyfit {want[0, i]!r}; error {slope_err[j] / (slope_lim[j] / slope_tol):.3g} "
            f"of the natural scale > {slope_tol}"
        )
    # Intercept at step 0: amplified by the distance of the steps from 0.
    x_far = np.array(
        [np.nanmax(np.abs(steps[max(0, i + 1 - window) : i + 1])) for i in np.flatnonzero(ok)]
    )
    icpt_lim = 1e-9 * (y_far + np.abs(want[0, ok]) * x_far) + slope_lim * x_far
    assert np.all(np.abs(got[1, ok] - want[1, ok]) <= icpt_lim)
    # r2: NaN exactly where the window's values are constant (or there is no fit), in [0, 1]
    # elsewhere, and equal to linregress's where the values are not nearly constant.
    assert np.array_equal(np.isnan(got[2]), np.isnan(want[2]))
    r_ok = ~np.isnan(want[2])
    assert np.all((got[2, r_ok] >= 0.0) & (got[2, r_ok] <= 1.0))
    cond = r_ok & r2_conditioned
    np.testing.assert_allclose(got[2, cond], want[2, cond], rtol=1e-7, atol=1e-7)
    assert_bitwise_equal(rolling_slope(steps, values, window, mp), got[0], "rolling_slope")


@st.composite
def trend_cases(draw):
    x = draw(float_arrays(min_size=0, max_size=150, magnitudes=(1e-3, 1.0, 1e3)))
    n = len(x)
    kind = draw(st.sampled_from(["uniform", "gaps", "huge", "huge_gaps", "missing_steps"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "uniform":
        steps = np.arange(n, dtype=np.float64)
    elif kind == "gaps":
        steps = np.cumsum(rng.integers(1, 4, n)).astype(np.float64)
    elif kind == "huge":
        steps = 1e9 + 16.0 * np.arange(n)
    elif kind == "huge_gaps":
        steps = 1e9 + 8.0 * np.cumsum(rng.integers(1, 4, n)).astype(np.float64)
    else:
        steps = np.arange(n, dtype=np.float64) * 3.0
        steps[rng.random(n) < 0.15] = np.nan
    # Add a real trend to the values so that slopes are not all noise.
    slope = draw(st.sampled_from([0.0, 1e-3, 1.0, -50.0]))
    base = np.nan_to_num(steps - (steps[0] if n else 0.0), nan=0.0)
    values = x + slope * base
    window = draw(st.integers(2, 40))
    mp = draw(st.one_of(st.none(), st.integers(2, window)))
    return steps, values, window, mp


@settings(max_examples=examples(60))
@given(trend_cases())
@example(  # found by Hypothesis: a two-point window must have r2 == 1, got 0.99999926
    (np.arange(3.0), np.array([0.00511795, 0.00587245, 0.00587243]), 2, None)
)
def test_rolling_trend_matches_polyfit(case):
    """Mildly uneven spacing here (gaps of 1 to 3); strongly uneven spacing (1 to 500 and
    1 to 1000) is tested by the deterministic tests below."""
    check_fits(*case)


@pytest.mark.parametrize("window", [2, 3, 10, 50])
def test_steps_near_1e9_uneven_spacing(window):
    rng = np.random.default_rng(window)
    n = 600
    steps = 1e9 + np.cumsum(rng.integers(1, 500, n)).astype(np.float64)
    values = 0.37 + 2.5e-4 * (steps - 1e9) + rng.standard_normal(n) * 0.01
    check_fits(steps, values, window, None)
    # Raw polyfit on the unshifted steps agrees on the slope too (when its own
    # conditioning is acceptable, i.e. for the longer windows).
    if window >= 10:
        slope = rolling_slope(steps, values, window)
        for i in range(window - 1, n, 37):
            ref = np.polyfit(steps[i + 1 - window : i + 1], values[i + 1 - window : i + 1], 1)[0]
            assert slope[i] == pytest.approx(ref, rel=1e-5)


def test_uneven_windows_with_missing_pairs():
    """Windows with missing steps or values hold fewer pairs; min_periods decides."""
    rng = np.random.default_rng(2)
    n = 400
    steps = np.arange(n, dtype=np.float64) * 10.0
    values = 0.5 * steps + rng.standard_normal(n)
    values[rng.random(n) < 0.2] = np.nan
    steps[rng.random(n) < 0.1] = np.nan
    values[::53] = np.inf
    for window, mp in [(10, 3), (10, 10), (25, 2)]:
        check_fits(steps, values, window, mp)


def test_exact_line():
    steps = np.array([0.0, 2.0, 3.0, 7.0, 11.0])
    values = 3.0 * steps - 4.0
    slope, icpt, r2 = rolling_trend(steps, values, 3)
    np.testing.assert_allclose(slope[2:], 3.0, rtol=1e-14)
    np.testing.assert_allclose(icpt[2:], -4.0, rtol=1e-13)
    np.testing.assert_allclose(r2[2:], 1.0, rtol=1e-14)
    assert np.isnan(slope[:2]).all()
    t = RollingTrend(3)
    t.update_many(steps, values)
    f = t.fit()
    assert f["n"] == 3 and f["slope"] == pytest.approx(3.0) and f["r2"] == pytest.approx(1.0)


def test_constant_values_slope_zero_r2_undefined():
    slope, icpt, r2 = rolling_trend(np.arange(6.0), np.full(6, 2.5), 3)
    np.testing.assert_array_equal(slope[2:], 0.0)
    np.testing.assert_array_equal(icpt[2:], 2.5)
    assert np.isnan(r2).all()
    t = RollingTrend(3)
    t.update_many(np.arange(6.0), np.full(6, 2.5))
    assert t.fit()["r2"] is None and t.slope() == 0.0


@pytest.mark.parametrize(
    "values",
    [
        [-0.003, 0.003, -0.001, -0.001],
        [0.2, 0.5, 0.1, 0.1],
        [-0.3, 0.1, -0.4, -0.4],
    ],
)
def test_constant_values_after_other_values_r2_undefined(values):
    """A window of constant values has no r2 (core docs: "None when the values are constant
    (0/0)"; docs/numerics.md: "R² of a constant series is None"), also when other values
    came before it."""
    steps = np.arange(len(values), dtype=np.float64)
    slope, _, r2 = rolling_trend(steps, values, 2)
    assert np.isnan(r2[-1]), f"r2 {r2[-1]!r} for a window of constant values {values[-2:]}"
    assert abs(slope[-1]) <= 8 * np.finfo(float).eps * np.max(np.abs(values))
    t = RollingTrend(2)
    t.update_many(steps, values)
    assert t.fit()["r2"] is None


def test_equal_steps_give_no_fit():
    """All steps in the window equal: the slope is undefined (core docs: fit() is None "when
    all steps in the window are equal")."""
    slope = rolling_slope([5.0, 5.0, 5.0, 6.0], [1.0, 2.0, 3.0, 4.0], 3)
    assert np.isnan(slope[:3]).all() and np.isfinite(slope[3])
    t = RollingTrend(2)
    t.update(5.0, 1.0)
    t.update(5.0, 2.0)
    assert t.fit() is None and t.slope() is None


@pytest.mark.parametrize(
    "steps",
    [
        [0.0, 1.0, 0.7, 0.7],
        [0.42, 0.83, 0.55, 0.55],
        [0.12, 0.06, 0.03, 0.09, 0.09],
    ],
)
def test_equal_steps_give_no_fit_after_other_steps(steps):
    """Same as above, but the window's equal steps are not the first steps seen: the last
    window holds two pairs at the same step, so there is no slope (NaN / None)."""
    values = np.arange(len(steps), dtype=np.float64)
    slope, icpt, r2 = rolling_trend(steps, values, 2)
    assert np.isnan(slope[-1]), f"slope {slope[-1]} for a window of equal steps {steps[-2:]}"
    assert np.isnan(icpt[-1]) and np.isnan(r2[-1])
    t = RollingTrend(2)
    t.update_many(steps, values)
    assert t.fit() is None, t.fit()


@pytest.mark.parametrize("window", [2, 3, 5, 8, 20, 100])
def test_long_run_keeps_precision(window):
    """6000 pairs, steps near 1e9 with uneven spacing (1 to 999) and a trend in the values:
    several re-anchorings later the slope is still accurate to 1e-8 of its natural scale."""
    rng = np.random.default_rng(window)
    n = 6000
    steps = 1e9 + np.cumsum(rng.integers(1, 1000, n)).astype(np.float64)
    values = 1e-3 * (steps - 1e9) + rng.standard_normal(n)
    got = rolling_slope(steps, values, window)[window - 1 :]
    xs = sliding_window_view(steps - 1e9, window)
    ys = sliding_window_view(values, window)
    xc = xs - xs.mean(axis=1, keepdims=True)
    yc = ys - ys.mean(axis=1, keepdims=True)
    cxx = np.sum(xc * xc, axis=1)
    want = np.sum(xc * yc, axis=1) / cxx
    natural = np.sqrt(np.sum(yc * yc, axis=1) / cxx)
    err = np.abs(got - want) / (np.abs(want) + natural)
    worst = int(np.argmax(err))
    assert err.max() < 1e-8, (
        f"window {window}: relative slope error {err.max():.3g} at window ending "
        f"{worst + window - 1}"
        f" (steps {steps[worst:worst + window]}, got {got[worst]!r}, two-pass {want[worst]!r})"
    )


# --------------------------------------------------------------------------------------------
# Theil–Sen


@settings(max_examples=examples(50))
@given(
    st.integers(2, 80),
    st.sampled_from(["uniform", "ties", "huge", "random"]),
    st.integers(0, 2**32 - 1),
)
def test_theil_sen_matches_scipy(n, kind, seed):
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        steps = np.arange(n, dtype=np.float64)
    elif kind == "ties":
        steps = rng.integers(0, max(2, n // 3), n).astype(np.float64)
    elif kind == "huge":
        steps = 1e9 + np.cumsum(rng.integers(1, 20, n)).astype(np.float64)
    else:
        steps = rng.uniform(-100.0, 100.0, n)
    values = 0.3 * np.nan_to_num(steps - steps.mean()) + rng.standard_t(2, n)
    got = theil_sen(steps, values)
    if np.all(steps == steps[0]):
        assert got is None
        return
    ref = scipy.stats.theilslopes(values, steps)  # method="separate" is scipy's default
    assert got["n"] == n
    assert got["slope"] == pytest.approx(ref.slope, rel=1e-12, abs=1e-14)
    scale = abs(float(np.median(values))) + abs(ref.slope) * float(np.max(np.abs(steps)))
    assert got["intercept"] == pytest.approx(ref.intercept, rel=1e-10, abs=1e-12 * scale)
    sep = scipy.stats.theilslopes(values, steps, method="separate")
    assert sep.intercept == ref.intercept


def test_theil_sen_missing_values_and_outliers():
    steps = np.arange(50.0)
    values = 2.0 * steps + 1.0
    values[10], values[20] = 1e6, -1e6
    values[30] = np.nan
    steps[40] = np.inf
    got = theil_sen(steps, values)
    ok = np.isfinite(steps) & np.isfinite(values)
    ref = scipy.stats.theilslopes(values[ok], steps[ok])
    assert got["n"] == int(ok.sum()) == 48
    assert got["slope"] == 2.0 == ref.slope
    assert got["intercept"] == pytest.approx(ref.intercept, rel=1e-15)


def test_theil_sen_degenerate():
    assert theil_sen([1.0, 1.0, 1.0], [0.0, 5.0, 7.0]) is None
    assert theil_sen([1.0], [3.0]) is None
    assert theil_sen([], []) is None
    assert theil_sen([np.nan, 2.0], [1.0, 1.0]) is None
    with pytest.raises(ValueError):
        theil_sen([1.0, 2.0], [1.0])


# --------------------------------------------------------------------------------------------
# Mann–Kendall


def mk_reference(x):
    """Direct NumPy Mann–Kendall: S, tie-corrected Var(S), continuity-corrected z, p, tau."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    diff = np.sign(x[None, :] - x[:, None])
    s = float(np.sum(np.triu(diff, 1)))
    _, counts = np.unique(x, return_counts=True)
    t = counts.astype(np.float64)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(t * (t - 1) * (2 * t + 5))) / 18.0
    if s > 0:
        z = (s - 1) / math.sqrt(var)
    elif s < 0:
        z = (s + 1) / math.sqrt(var)
    else:
        z = 0.0
    p = min(1.0, 2.0 * scipy.stats.norm.sf(abs(z)))
    return {"n": n, "s": s, "var_s": var, "z": z, "p_value": p, "tau": s / (n * (n - 1) / 2)}


@settings(max_examples=examples(60))
@given(float_arrays(min_size=0, max_size=120), st.sampled_from([0.0, 0.01, 1.0]))
def test_mann_kendall_matches_direct_implementation(x, trend):
    x = x + trend * np.arange(x.size) * finite_scale(x)
    got = mann_kendall(x)
    n = int(np.isfinite(x).sum())
    if n < 3:
        assert got is None
        return
    want = mk_reference(x)
    assert got["n"] == want["n"]
    assert got["s"] == want["s"]
    assert got["var_s"] == pytest.approx(want["var_s"], rel=1e-14)
    assert got["z"] == pytest.approx(want["z"], rel=1e-12, abs=1e-15)
    assert got["p_value"] == pytest.approx(want["p_value"], rel=1e-9, abs=1e-300)
    assert got["tau"] == pytest.approx(want["tau"], rel=1e-14, abs=1e-16)
    assert 0.0 <= got["p_value"] <= 1.0 and -1.0 <= got["tau"] <= 1.0


@settings(max_examples=examples(40))
@given(st.integers(3, 150), st.sampled_from([0.0, 0.02, 0.2]), st.booleans(), st.integers(0, 2**32))
def test_mann_kendall_vs_scipy_kendalltau(n, trend, ties, seed):
    """scipy's asymptotic Kendall test of (time, x) uses the same S and the same tie-corrected
    variance but no continuity correction: z_scipy = S / sqrt(Var S), while the library (as
    the usual Mann–Kendall test) uses (|S| - 1) / sqrt(Var S). So compare S, tau and the
    p-value computed from scipy's z with the correction applied, and check the library's
    p-value is the (slightly) larger one."""
    rng = np.random.default_rng(seed)
    x = trend * np.arange(n) + rng.standard_normal(n)
    if ties:
        x = np.round(x * 2.0) / 2.0
    got = mann_kendall(x)
    if np.all(x == x[0]):
        assert got["s"] == 0.0 and got["p_value"] == 1.0
        return
    res = scipy.stats.kendalltau(np.arange(n), x, method="asymptotic")
    s = got["s"]
    # tau-b with no ties in time: S / sqrt(n0 (n0 - ties_x)); tau-a = S / n0.
    n0 = n * (n - 1) / 2
    _, counts = np.unique(x, return_counts=True)
    n2 = float(np.sum(counts * (counts - 1) / 2))
    assert res.statistic == pytest.approx(s / math.sqrt(n0 * (n0 - n2)), rel=1e-12, abs=1e-15)
    if n2 == 0:
        assert got["tau"] == pytest.approx(res.statistic, rel=1e-12, abs=1e-15)
    if s == 0:
        assert got["p_value"] == 1.0
        return
    z_scipy = s / math.sqrt(got["var_s"])
    assert 2 * scipy.stats.norm.sf(abs(z_scipy)) == pytest.approx(res.pvalue, rel=1e-9)
    corrected = z_scipy * (abs(s) - 1) / abs(s)
    assert got["z"] == pytest.approx(corrected, rel=1e-12, abs=1e-15)
    assert got["p_value"] == pytest.approx(2 * scipy.stats.norm.sf(abs(corrected)), rel=1e-9)
    assert got["p_value"] >= res.pvalue


def test_mann_kendall_known_cases():
    up = mann_kendall(np.arange(30.0))
    assert up["s"] == 435.0 and up["tau"] == 1.0 and up["p_value"] < 1e-6
    down = mann_kendall(-np.arange(30.0))
    assert down["s"] == -435.0 and down["tau"] == -1.0 and down["z"] == -up["z"]
    flat = mann_kendall(np.ones(10))
    assert flat["s"] == 0.0 and flat["z"] == 0.0 and flat["p_value"] == 1.0
    assert flat["var_s"] == 0.0
    assert mann_kendall([1.0, 2.0]) is None
    assert mann_kendall([1.0, np.nan, 2.0, np.inf]) is None
    assert mann_kendall([]) is None
    # n = 3, no ties: Var(S) = 3*2*11/18 = 11/3.
    m = mann_kendall([1.0, 3.0, 2.0])
    assert m["s"] == 1.0 and m["var_s"] == pytest.approx(11.0 / 3.0) and m["z"] == 0.0


def test_two_point_windows_fit_exactly_at_large_step_offsets():
    # Found by Hypothesis: the sums' rounding reported r2 = 0.9999977 for two points at 1e9.
    steps = 1e9 + np.array([0.0, 1.0, 3.0, 4.0])
    values = np.array([0.1, 0.3, 0.2, 0.2 + 1e-3])
    r2 = np.array(rolling_trend(steps, values, 2))[2]
    assert np.isnan(r2[0]) and np.all(r2[1:] == 1.0)


def test_two_equal_values_around_a_gap_have_no_r2():
    # Equal values separated by a missing slot are constant: r2 is NaN, not 1.
    r2 = np.array(rolling_trend(np.arange(3.0), np.array([0.5, np.nan, 0.5]), 3, 2))[2]
    assert np.isnan(r2[-1])
