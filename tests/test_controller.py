"""KL-controller analysis on hand-built signals whose answers are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import examples
from rlforensics.stats import ControllerAnalyzer, controller_metrics

REPORT_KEYS = {
    "samples",
    "nonfinite_kl",
    "time_in_band",
    "band_entries",
    "band_exits",
    "overshoot_count",
    "max_overshoot",
    "mean_overshoot",
    "oscillation_flips",
    "oscillation_rate",
    "mean_period",
    "decay_ratio",
    "damping_ratio",
    "settle_count",
    "mean_settling_time",
    "max_settling_time",
    "last_settling_time",
    "unsettled_since",
    "controller",
    "responsiveness",
    "response_lag",
    "invalid_coef",
}

TARGET = 0.1


def damping_from_decay(r: float) -> float:
    delta = -2.0 * math.log(r)
    return delta / math.sqrt(4.0 * math.pi**2 + delta**2)


def test_report_keys_and_empty_input():
    r = controller_metrics(np.array([]), None, TARGET, 0.01)
    assert set(r) == REPORT_KEYS
    assert r["samples"] == 0 and r["nonfinite_kl"] == 0
    for key in (
        "time_in_band",
        "max_overshoot",
        "mean_overshoot",
        "oscillation_rate",
        "mean_period",
        "decay_ratio",
        "damping_ratio",
        "mean_settling_time",
        "max_settling_time",
        "last_settling_time",
        "unsettled_since",
        "responsiveness",
        "response_lag",
    ):
        assert r[key] is None, key
    assert r["controller"] == "unknown"
    assert set(ControllerAnalyzer(TARGET, 0.01).report()) == REPORT_KEYS


def test_step_response_overshoot_and_settling():
    """Rise from 0 through the target to 0.13 and back: the peak is 0.03 above the target,
    0.02 beyond the band (tolerance 0.01), i.e. an overshoot of exactly 0.2 of the target."""
    kl = np.array([0.0, 0.04, 0.08, 0.1, 0.13, 0.12, 0.105, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    r = controller_metrics(kl, None, TARGET, 0.01)
    assert r["samples"] == 13 and r["nonfinite_kl"] == 0
    assert r["overshoot_count"] == 1
    assert r["max_overshoot"] == pytest.approx(0.2, abs=1e-12)
    assert r["mean_overshoot"] == pytest.approx(0.2, abs=1e-12)
    # In band at samples 3 and 6..12.
    assert r["time_in_band"] == pytest.approx(8 / 13)
    assert r["band_entries"] == 2 and r["band_exits"] == 1
    # Disturbed from sample 0 (starts outside); back in band for good from sample 6 (held
    # for settle_hold=5 samples): settling time 6.
    assert r["settle_count"] == 1
    assert r["last_settling_time"] == 6.0
    assert r["mean_settling_time"] == 6.0 and r["max_settling_time"] == 6.0
    assert r["unsettled_since"] is None
    assert r["oscillation_flips"] == 1
    assert r["oscillation_rate"] == pytest.approx(1 / 12)
    assert r["mean_period"] is None  # one flip: no complete half-cycle
    assert r["controller"] == "unknown"


def test_settle_hold_changes_settling():
    kl = np.array([0.0, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1])
    r1 = controller_metrics(kl, None, TARGET, 0.01, settle_hold=1)
    # hold 1: settles at sample 1 (time 1), then a new disturbance at 3 settles at 4 (time 1).
    assert r1["settle_count"] == 2
    assert r1["last_settling_time"] == 1.0 and r1["max_settling_time"] == 1.0
    r3 = controller_metrics(kl, None, TARGET, 0.01, settle_hold=3)
    # hold 3: the in-band run at 1..2 is too short; settles at sample 4 (time 4 from 0).
    assert r3["settle_count"] == 1 and r3["last_settling_time"] == 4.0
    r9 = controller_metrics(kl, None, TARGET, 0.01, settle_hold=9)
    assert r9["settle_count"] == 0 and r9["unsettled_since"] == 0.0


def test_unsettled_since_reports_the_step():
    kl = np.array([0.1, 0.1, 0.1, 0.2, 0.25, 0.3])
    steps = np.array([100.0, 200.0, 300.0, 400.0, 500.0, 600.0])
    r = controller_metrics(kl, None, TARGET, 0.01, steps=steps)
    assert r["unsettled_since"] == 400.0
    assert r["settle_count"] == 0 and r["band_exits"] == 1 and r["band_entries"] == 0
    assert r["overshoot_count"] == 0  # one excursion, no crossing of the target


@pytest.mark.parametrize("ratio", [0.5, 0.8, 0.95])
def test_damped_alternating_oscillation(ratio):
    """target + A r^k (-1)^k: every sample is a half-cycle, so the period is 2 and each
    half-cycle peak is r times the previous one; damping = δ / sqrt(4π² + δ²), δ = -2 ln r."""
    k = np.arange(60)
    amp = 0.05
    kl = TARGET + amp * ratio**k * (-1.0) ** k
    db = 1e-6
    r = controller_metrics(kl, None, TARGET, db)
    visible = int(np.sum(amp * ratio**k > db))  # samples beyond the dead band
    assert r["oscillation_flips"] == visible - 1
    assert r["mean_period"] == pytest.approx(2.0, abs=1e-12)
    assert r["decay_ratio"] == pytest.approx(ratio, rel=1e-9)
    assert r["damping_ratio"] == pytest.approx(damping_from_decay(ratio), rel=1e-7)
    assert 0.0 < r["damping_ratio"] < 1.0
    # Every excursion after the first crosses the target: an overshoot each.
    assert r["overshoot_count"] == visible - 1
    assert r["max_overshoot"] == pytest.approx((amp * ratio - db) / TARGET, rel=1e-9)


def test_growing_oscillation_has_negative_damping():
    k = np.arange(30)
    kl = TARGET + 0.001 * 1.2**k * (-1.0) ** k
    r = controller_metrics(kl, None, TARGET, 1e-5)
    assert r["decay_ratio"] == pytest.approx(1.2, rel=1e-9)
    assert r["decay_ratio"] > 1.0
    assert r["damping_ratio"] == pytest.approx(damping_from_decay(1.2), rel=1e-7)
    assert r["damping_ratio"] < 0.0


@pytest.mark.parametrize("period", [40.0, 37.3, 25.7, 60.0])
def test_sampled_damped_cosine(period):
    """e(t) = A exp(-σt) cos(2πt/P) sampled once per step: the mean period is P within a
    sample or two and each half-cycle decays by exp(-σP/2)."""
    sigma = 0.01
    t = np.arange(600.0)
    kl = TARGET + 0.05 * np.exp(-sigma * t) * np.cos(2.0 * np.pi * t / period)
    r = controller_metrics(kl, None, TARGET, 0.002, deadband=1e-4)
    assert abs(r["mean_period"] - period) <= 1.5
    want_decay = math.exp(-sigma * period / 2.0)
    assert r["decay_ratio"] == pytest.approx(want_decay, rel=2e-3)
    assert r["damping_ratio"] == pytest.approx(damping_from_decay(want_decay), rel=2e-2)
    # Flips: two per period over the visible part of the run.
    assert r["oscillation_flips"] >= 2 * (600 // period) - 4
    # The same signal logged every 10 steps: periods and settling times in steps.
    r10 = controller_metrics(kl, None, TARGET, 0.002, deadband=1e-4, steps=10.0 * t + 5000.0)
    assert r10["mean_period"] == pytest.approx(10.0 * r["mean_period"], rel=1e-12)
    assert r10["decay_ratio"] == r["decay_ratio"]
    assert r10["oscillation_flips"] == r["oscillation_flips"]
    for key in ("mean_settling_time", "max_settling_time", "last_settling_time"):
        if r[key] is None:
            assert r10[key] is None
        else:
            assert r10[key] == pytest.approx(10.0 * r[key], rel=1e-12)


def test_deadband_suppresses_small_flips():
    kl = TARGET + 0.003 * (-1.0) ** np.arange(20)
    assert controller_metrics(kl, None, TARGET, 0.01)["oscillation_flips"] == 0
    assert controller_metrics(kl, None, TARGET, 0.01, deadband=0.001)["oscillation_flips"] == 19
    assert controller_metrics(kl, None, TARGET, 0.01, deadband=0.001)["mean_period"] == 2.0


def test_fixed_coefficient_is_not_a_controller():
    rng = np.random.default_rng(0)
    kl = TARGET + 0.05 * rng.standard_normal(200)
    r = controller_metrics(kl, np.full(200, 0.05), TARGET, 0.01)
    assert r["controller"] == "fixed"
    assert r["responsiveness"] is None and r["response_lag"] is None
    assert controller_metrics(kl, None, TARGET, 0.01)["controller"] == "unknown"


def proportional_controller(kl, gain, lag, c0=0.05):
    """coef_t = coef_{t-1} · exp(gain · e_{t-lag}) (unchanged while e_{t-lag} is unknown)."""
    e = kl - TARGET
    coef = np.empty(len(kl))
    coef[0] = c0
    for i in range(1, len(kl)):
        coef[i] = coef[i - 1] * math.exp(gain * e[i - lag]) if i >= lag else coef[i - 1]
    return coef


@pytest.mark.parametrize("lag", [0, 1, 3, 5])
def test_adaptive_controller_responsiveness_and_lag(lag):
    rng = np.random.default_rng(lag)
    kl = TARGET + 0.02 * rng.standard_normal(500)
    coef = proportional_controller(kl, 2.0, lag)
    r = controller_metrics(kl, coef, TARGET, 0.01)
    assert r["controller"] == "adaptive"
    assert r["responsiveness"] > 0.9
    assert r["responsiveness"] == pytest.approx(1.0, abs=1e-9)
    assert r["response_lag"] == lag
    assert r["invalid_coef"] == 0


def test_lag_beyond_max_lag_is_not_found():
    rng = np.random.default_rng(1)
    kl = TARGET + 0.02 * rng.standard_normal(500)
    coef = proportional_controller(kl, 2.0, 4)
    r = controller_metrics(kl, coef, TARGET, 0.01, max_lag=2)
    assert r["controller"] == "adaptive"
    assert r["response_lag"] in (0, 1, 2)
    assert abs(r["responsiveness"]) < 0.3


def test_inverted_controller_smooth_kl_negative_responsiveness():
    """The coefficient moves with the error instead of against it. With an autocorrelated
    KL (as in training) every lag sees the wrong sign: negative responsiveness."""
    t = np.arange(400.0)
    rng = np.random.default_rng(2)
    kl = TARGET + 0.03 * np.sin(2 * np.pi * t / 80.0) + 0.002 * rng.standard_normal(400)
    coef = proportional_controller(kl, -2.0, 1)
    r = controller_metrics(kl, coef, TARGET, 0.01)
    assert r["controller"] == "adaptive"
    assert r["responsiveness"] < -0.5


def test_inverted_controller_lag_zero_only():
    rng = np.random.default_rng(3)
    kl = TARGET + 0.02 * rng.standard_normal(300)
    coef = proportional_controller(kl, -2.0, 0)
    r = controller_metrics(kl, coef, TARGET, 0.01, max_lag=0)
    assert r["responsiveness"] == pytest.approx(-1.0, abs=1e-9)
    assert r["response_lag"] == 0


@pytest.mark.parametrize("lag", [1, 3])
def test_inverted_controller_white_noise_kl_negative_responsiveness(lag):
    """Documented reading of responsiveness: "positive: acts against the error; about 0:
    does not react; negative: acts the wrong way". A controller that acts the wrong way with
    perfect consistency at lag 1 (correlation -1 there) must not come out "about 0" or
    positive just because uncorrelated lags give small positive noise correlations."""
    rng = np.random.default_rng(10 + lag)
    kl = TARGET + 0.02 * rng.standard_normal(500)
    coef = proportional_controller(kl, -2.0, lag)
    r = controller_metrics(kl, coef, TARGET, 0.01)
    assert r["controller"] == "adaptive"
    assert r["responsiveness"] < -0.5, (
        f"inverted controller (corr -1 at lag {lag}) reported as responsiveness "
        f"{r['responsiveness']:.3f} at lag {r['response_lag']}"
    )


def test_nonfinite_kl_and_invalid_coef_are_counted():
    kl = np.array([0.1, np.nan, 0.105, np.inf, 0.095, -np.inf, 0.1])
    coef = np.array([0.05, 0.06, -1.0, 0.05, np.nan, 0.0, 0.07])
    r = controller_metrics(kl, coef, TARGET, 0.01)
    assert r["nonfinite_kl"] == 3
    assert r["samples"] == 4
    assert r["invalid_coef"] == 3
    assert r["time_in_band"] == pytest.approx(1.0)
    # Non-finite KL samples do not move the band analysis.
    clean = controller_metrics(kl[np.isfinite(kl)], None, TARGET, 0.01)
    for key in ("time_in_band", "band_entries", "band_exits", "oscillation_flips"):
        assert r[key] == clean[key]


def test_nonfinite_kl_does_not_break_band_analysis():
    kl = np.array([0.0, np.nan, 0.13, np.nan, 0.1, 0.1, 0.1, 0.1, 0.1])
    r = controller_metrics(kl, None, TARGET, 0.01)
    ref = controller_metrics(kl[np.isfinite(kl)], None, TARGET, 0.01)
    assert r["nonfinite_kl"] == 2 and r["samples"] == 7
    assert r["overshoot_count"] == ref["overshoot_count"] == 1
    assert r["max_overshoot"] == ref["max_overshoot"]
    assert r["band_entries"] == ref["band_entries"]


def _random_run(seed, n=300, with_coef=True, with_steps=False):
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    kl = TARGET + 0.04 * np.exp(-t / 150) * np.cos(t / 5.0) + 0.01 * rng.standard_normal(n)
    kl[rng.random(n) < 0.03] = np.nan
    coef = proportional_controller(np.nan_to_num(kl, nan=TARGET), 1.5, 2) if with_coef else None
    if with_coef:
        coef[rng.random(n) < 0.02] = np.nan
    steps = np.cumsum(rng.integers(1, 5, n)).astype(np.float64) if with_steps else None
    return kl, coef, steps


def _assert_reports_equal(a, b):
    assert set(a) == set(b)
    for key in a:
        va, vb = a[key], b[key]
        if isinstance(va, float) and math.isnan(va):
            assert isinstance(vb, float) and math.isnan(vb), key
        else:
            assert va == vb, (key, va, vb)


@settings(max_examples=examples(30))
@given(st.integers(0, 2**32 - 1), st.booleans(), st.booleans(), st.integers(1, 6))
def test_streaming_equals_batch(seed, with_coef, with_steps, hold):
    kl, coef, steps = _random_run(seed, with_coef=with_coef, with_steps=with_steps)
    kw = dict(deadband=0.005, settle_hold=hold, max_lag=4)
    want = controller_metrics(kl, coef, TARGET, 0.01, steps=steps, **kw)
    one = ControllerAnalyzer(TARGET, 0.01, **kw)
    for i in range(len(kl)):
        one.update(
            float(kl[i]),
            None if coef is None else float(coef[i]),
            None if steps is None else float(steps[i]),
        )
    _assert_reports_equal(one.report(), want)
    many = ControllerAnalyzer(TARGET, 0.01, **kw)
    half = len(kl) // 2
    many.update_many(
        kl[:half],
        None if coef is None else coef[:half],
        None if steps is None else steps[:half],
    )
    many.update_many(
        kl[half:],
        coef=None if coef is None else coef[half:],
        steps=None if steps is None else steps[half:],
    )
    _assert_reports_equal(many.report(), want)


def test_positional_steps_default_to_sample_index():
    kl, coef, _ = _random_run(5)
    a = controller_metrics(kl, coef, TARGET, 0.01)
    b = controller_metrics(kl, coef, TARGET, 0.01, steps=np.arange(len(kl), dtype=np.float64))
    _assert_reports_equal(a, b)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"target": 0.0, "tolerance": 0.01}, "target"),
        ({"target": -0.1, "tolerance": 0.01}, "target"),
        ({"target": float("nan"), "tolerance": 0.01}, "target"),
        ({"target": float("inf"), "tolerance": 0.01}, "target"),
        ({"target": 0.1, "tolerance": -0.01}, "tolerance"),
        ({"target": 0.1, "tolerance": float("nan")}, "tolerance"),
        ({"target": 0.1, "tolerance": float("inf")}, "tolerance"),
        ({"target": 0.1, "tolerance": 0.01, "deadband": -1.0}, "deadband"),
        ({"target": 0.1, "tolerance": 0.01, "deadband": float("nan")}, "deadband"),
        ({"target": 0.1, "tolerance": 0.01, "settle_hold": 0}, "settle_hold"),
        ({"target": 0.1, "tolerance": 0.01, "max_lag": 65}, "max_lag"),
    ],
)
def test_invalid_configuration_raises(kwargs, name):
    with pytest.raises(ValueError, match=name):
        controller_metrics(np.array([0.1, 0.2]), None, **kwargs)
    with pytest.raises(ValueError, match=name):
        ControllerAnalyzer(**kwargs)


def test_zero_tolerance_and_max_lag_64_are_valid():
    r = controller_metrics(np.array([0.1, 0.2, 0.1]), None, TARGET, 0.0, max_lag=64)
    assert r["samples"] == 3
    ControllerAnalyzer(TARGET, 0.0, max_lag=64)


def test_length_mismatch_raises():
    kl = np.array([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="coef"):
        controller_metrics(kl, np.array([1.0, 2.0]), TARGET, 0.01)
    with pytest.raises(ValueError, match="steps"):
        controller_metrics(kl, None, TARGET, 0.01, steps=np.array([1.0]))
    a = ControllerAnalyzer(TARGET, 0.01)
    with pytest.raises(ValueError, match="coef"):
        a.update_many(kl, np.array([1.0]))
    with pytest.raises(ValueError, match="steps"):
        a.update_many(kl, steps=np.array([1.0, 2.0, 3.0, 4.0]))
    assert a.report()["samples"] == 0  # a rejected batch leaves no trace
