"""KLScheduleTracker: RLDK's surface and checklist facts, our fixes, and per-step == batch ==
NumPy reference."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rlforensics
from rlforensics.forensics import KLScheduleMetrics as ForensicsMetrics
from rlforensics.forensics import KLScheduleTracker as ForensicsTracker
from rlforensics.forensics.kl_schedule_tracker import KLScheduleMetrics, KLScheduleTracker


def adaptive_run(n: int, gain: float = 0.1, drive: float = 0.02, seed: int = 0):
    """TRL's adaptive controller driving a policy whose KL falls as the coefficient rises."""
    rng = np.random.default_rng(seed)
    coef, target = 0.2, 0.1
    steps, kls, coefs = [], [], []
    for i in range(n):
        kl = drive / coef * (1.0 + 0.05 * rng.standard_normal())
        steps.append(4.0 * i)
        kls.append(kl)
        coefs.append(coef)
        coef *= 1.0 + gain * float(np.clip((kl - target) / target, -0.2, 0.2))
    return np.array(steps), np.array(kls), np.array(coefs)


def kinds(t: KLScheduleTracker) -> list[str]:
    return [a["type"] for a in t.get_anomalies()]


# --- RLDK surface ---------------------------------------------------------------------------


def test_import_paths_are_rldks():
    assert ForensicsTracker is KLScheduleTracker is rlforensics.KLScheduleTracker
    assert ForensicsMetrics is KLScheduleMetrics


def test_constructor_defaults_and_attributes():
    t = KLScheduleTracker()
    assert (t.kl_target, t.kl_target_tolerance) == (0.1, 0.05)
    assert t.target_range_low == pytest.approx(0.05)
    assert t.target_range_high == pytest.approx(0.15)
    assert (t.window_size, t.trend_window, t.controller_window) == (50, 20, 30)
    assert (t.drift_threshold, t.drift_window_size, t.reference_period) == (0.15, 100, 500)
    assert t.enable_drift_tracking is True
    assert t.kl_history == [] and len(t.metrics_history) == 0
    assert t.get_summary() == {} and t.get_anomalies() == []


def test_rldk_clamps_on_drift_settings():
    t = KLScheduleTracker(drift_threshold=0.0, drift_window_size=2, reference_period=3)
    assert (t.drift_threshold, t.drift_window_size, t.reference_period) == (1e-8, 5, 10)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"kl_target": 0.0}, "kl_target"), ({"kl_target_tolerance": -1.0}, "kl_target_tolerance"),
     ({"window_size": 0}, "window_size"), ({"trend_window": -3}, "trend_window"),
     ({"controller_window": 2}, "controller_window"), ({"drift_alpha": 1.5}, "drift_alpha")],
)
def test_bad_parameters_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        KLScheduleTracker(**kwargs)


def test_update_echoes_inputs_and_history_counts_updates():
    t = KLScheduleTracker()
    for i in range(25):
        m = t.update(i, 0.1 + 0.001 * i, 0.2)
        assert m.current_kl == 0.1 + 0.001 * i and m.current_kl_coef == 0.2 and m.step == i
    assert len(t.metrics_history) == 25 and t.total_updates == 25
    assert t.metrics_history[-1] == t.current_metrics
    assert [m.step for m in t.metrics_history[:3]] == [0, 1, 2]
    assert len(t.kl_history) == 25
    d = t.current_metrics.to_dict()
    assert len(d) == 30 and d["kl_target"] == 0.1
    s = t.get_summary()
    assert len(s) == 21 and s["total_steps"] == 25


def test_kl_jump_raises_range_or_trend_anomaly():
    t = KLScheduleTracker()
    for i in range(50):
        t.update(i, 0.1 if i < 10 else 0.5, 1.0)
    found = set(kinds(t))
    assert found & {"kl_trend_anomaly", "target_range_anomaly", "kl_drift_detected"}
    tr = [a for a in t.get_anomalies() if a["type"] == "target_range_anomaly"]
    assert len(tr) == 1, "a sustained condition is one event, not one per step"
    assert tr[0]["active"] and tr[0]["first_step"] >= 10 and tr[0]["last_step"] == 49
    # A fixed coefficient does not steer the KL: out of band is a warning, not a failure.
    assert tr[0]["severity"] == "warning" and tr[0]["step"] == tr[0]["first_step"]
    assert t.get_anomalies(active_only=True)[-1]["type"] == "target_range_anomaly"


def test_adaptive_controller_losing_its_band_is_critical():
    t = KLScheduleTracker()
    for i in range(50):
        t.update(i, 0.1 if i < 10 else 0.5, 1.0 + 0.01 * i)
    tr = [a for a in t.get_anomalies() if a["type"] == "target_range_anomaly"]
    assert len(tr) == 1 and tr[0]["severity"] == "critical"


def test_alternating_kl_with_fixed_coefficient_is_oscillation_not_a_dead_controller():
    t = KLScheduleTracker()
    for i in range(60):
        m = t.update(i, 0.25 if i % 2 else 0.0, 1.0)
    # RLDK scored responsiveness 0 here (below its 0.5); a fixed coefficient is no
    # controller, so there is no responsiveness to score.
    assert m.controller_responsiveness is None and m.controller_kind == "fixed"
    assert m.time_in_target_range < 0.5
    assert m.controller_oscillation > 0.5
    found = kinds(t)
    assert "controller_oscillation_anomaly" in found
    assert "controller_responsiveness_anomaly" not in found
    assert "coef_adaptation_anomaly" not in found


def test_drift_on_a_level_shift_with_small_windows():
    rng = np.random.default_rng(3)
    t = KLScheduleTracker(reference_period=20, drift_window_size=20, drift_threshold=0.02)
    for i in range(30):
        t.update(i, 0.1 + 0.005 * rng.standard_normal(), 1.0)
    assert t.current_metrics.kl_drift_detected is False
    for i in range(30, 60):
        t.update(i, 0.4 + 0.005 * rng.standard_normal(), 1.0)
    m = t.current_metrics
    assert m.kl_drift_detected is True and m.kl_drift_score > 0
    drift = t.get_kl_drift_anomalies()
    assert drift and all(a["type"].startswith("kl_drift") for a in drift)
    assert drift[0]["first_step"] >= 30 and drift[0]["trend"] in {"stable", "increasing", "decreasing"}
    divergence, details = t.detect_kl_drift()
    assert divergence == m.kl_drift_kl_divergence and details["ks_p_value"] < 1e-3
    assert t.calculate_kl_drift_score(0.0) == 0.0
    assert t.calculate_kl_drift_score(0.02) == pytest.approx(1 - math.exp(-1))


def test_stationary_series_does_not_drift():
    rng = np.random.default_rng(5)
    kl = 0.1 + 0.01 * rng.standard_normal(5000)
    t = KLScheduleTracker()
    cols = t.update_many(np.arange(kl.size, dtype=float), kl, np.full(kl.size, 0.05))
    # RLDK flagged 63% of such steps; the KS test alone is calibrated at alpha = 1%.
    assert np.nanmean(cols["kl_drift_detected"]) < 0.01
    assert t.get_anomalies() == []


def test_detect_kl_drift_before_data_says_why():
    assert KLScheduleTracker().detect_kl_drift() == (None, {"reason": "insufficient_data"})
    off = KLScheduleTracker(enable_drift_tracking=False)
    assert off.detect_kl_drift()[1] == {"reason": "drift_tracking_disabled"}
    assert off.latest_drift_details == {}


# --- inputs are never replaced by defaults ---------------------------------------------------


def test_float32_and_numpy_scalars_keep_their_value():
    t = KLScheduleTracker()
    m = t.update(np.int64(3), np.float32(0.12), np.float16(0.5))
    assert m.current_kl == float(np.float32(0.12)) and m.current_kl_coef == 0.5
    assert t.update(4, "0.2").current_kl == 0.2


def test_negative_kl_is_analysed_as_given():
    t = KLScheduleTracker()
    assert t.update(0, -0.01, 0.1).current_kl == -0.01
    assert t.kl_history == [-0.01]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_kl_is_a_critical_event_at_its_step(bad):
    t = KLScheduleTracker()
    for i in range(30):
        t.update(i, bad if i == 12 else 0.1, 0.1)
    ev = [a for a in t.get_anomalies() if a["type"] == "non_finite_kl"]
    assert len(ev) == 1 and ev[0]["severity"] == "critical" and ev[0]["first_step"] == 12
    m = t.current_metrics
    assert m.nonfinite_kl_count == 1 and m.kl_volatility == 0.0
    assert len(t.kl_history) == 29


def test_non_finite_coefficient_is_reported():
    t = KLScheduleTracker()
    t.update(0, 0.1, float("nan"))
    assert t.get_anomalies()[0]["type"] == "non_finite_kl_coef"
    assert t.nonfinite_coef_count == 1


def test_missing_kl_updates_nothing():
    t = KLScheduleTracker()
    for i in range(12):
        t.update(i, 0.1, 0.1)
    before = t.current_metrics
    m = t.update(12, None, None)
    assert m.current_kl is None and m.kl_volatility == before.kl_volatility
    assert len(t.kl_history) == 12 and len(t.metrics_history) == 13


@pytest.mark.parametrize("bad, exc", [([0.1], TypeError), ("x", ValueError), (object(), TypeError)])
def test_unreadable_inputs_raise_naming_the_argument(bad, exc):
    with pytest.raises(exc, match="kl_value"):
        KLScheduleTracker().update(0, bad)


def test_not_enough_data_is_none_not_a_perfect_score():
    m = KLScheduleTracker().update(0, 0.1, 0.1)
    assert m.kl_health_score is None and m.schedule_health_score is None
    assert m.controller_responsiveness is None and m.coef_adaptation_quality is None


# --- healthy runs stay quiet ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_healthy_adaptive_controller_is_quiet_and_scores_high(seed):
    steps, kl, coef = adaptive_run(2000, seed=seed)
    t = KLScheduleTracker()
    t.update_many(steps, kl, coef)
    assert t.get_anomalies() == []
    m = t.current_metrics
    assert m.controller_kind == "adaptive" and m.controller_responsiveness > 0.5
    assert m.kl_health_score > 0.8 and m.schedule_health_score > 0.8


def test_high_gain_controller_oscillates():
    steps, kl, coef = adaptive_run(400, gain=8.0, seed=1)
    t = KLScheduleTracker()
    t.update_many(steps, kl, coef)
    assert "controller_oscillation_anomaly" in kinds(t)


# --- one implementation: per-step == batch, snapshots resume exactly ---------------------------------


def test_update_many_equals_update_loop_bit_for_bit():
    steps, kl, coef = adaptive_run(800, gain=0.5, seed=4)
    kl[[100, 101, 500]] = [np.nan, np.inf, np.nan]
    a, b = KLScheduleTracker(), KLScheduleTracker()
    rows = [a.update(s, k, c).to_dict() for s, k, c in zip(steps, kl, coef)]
    cols = b.update_many(steps, kl, coef)
    for name, col in cols.items():
        per = [r[name] for r in rows]
        if name == "kl_drift_trend":
            per = [["stable", "increasing", "decreasing"].index(v) for v in per]
        elif name == "controller_kind":
            per = [["unknown", "fixed", "adaptive"].index(v) for v in per]
        ref = np.array([np.nan if v is None else float(v) for v in per])
        np.testing.assert_array_equal(col, ref, err_msg=name)
    assert a.get_anomalies() == b.get_anomalies()
    assert a.to_bytes() == b.to_bytes()


def test_pickle_copy_and_resume_mid_run():
    steps, kl, coef = adaptive_run(900, gain=0.5, seed=2)
    whole = KLScheduleTracker(reference_period=200, drift_window_size=50)
    whole.update_many(steps, kl, coef)
    half = KLScheduleTracker(reference_period=200, drift_window_size=50)
    half.update_many(steps[:450], kl[:450], coef[:450])
    for clone in (pickle.loads(pickle.dumps(half)), copy.deepcopy(half),
                  KLScheduleTracker.from_bytes(half.to_bytes())):
        clone.update_many(steps[450:], kl[450:], coef[450:])
        assert clone.to_bytes() == whole.to_bytes()
        assert clone.reference_period == 200


def test_history_size_caps_memory():
    t = KLScheduleTracker(history_size=10)
    t.update_many(np.arange(100.0), np.full(100, 0.1))
    assert len(t.metrics_history) == 10 and t.metrics_history[0].step == 90
    with pytest.raises(IndexError):
        t.metrics_history[10]


# --- against NumPy ---------------------------------------------------------------------------------


@given(
    kl=st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=1, max_size=120),
    gaps=st.lists(st.integers(1, 1000), min_size=120, max_size=120),
    offset=st.sampled_from([0.0, 1e9]),
)
def test_window_statistics_match_numpy(kl, gaps, offset):
    kl = np.array(kl)
    steps = offset + np.cumsum(gaps[: kl.size]).astype(float)
    t = KLScheduleTracker(reference_period=40, drift_window_size=20)
    for i in range(kl.size):
        m = t.update(steps[i], kl[i], None)
        w = kl[max(0, i - 49) : i + 1]
        if w.size >= 5:
            inside = np.mean((w >= 0.1 - 0.05) & (w <= 0.1 + 0.05))
            assert m.time_in_target_range == pytest.approx(inside, abs=1e-12)
        if i >= 9:
            assert m.kl_volatility == pytest.approx(np.std(kl[i - 9 : i + 1], ddof=1), rel=1e-9, abs=1e-12)
        else:
            assert m.kl_volatility is None
        if i >= 19:
            xs, ys = steps[i - 19 : i + 1], kl[i - 19 : i + 1]
            ref = np.polyfit(xs - xs.mean(), ys, 1)[0]
            scale = np.ptp(ys) / max(np.ptp(xs), 1.0)
            assert m.kl_trend == pytest.approx(ref, rel=1e-6, abs=1e-9 * scale + 1e-15)
        ref_part = kl[:40]
        assert m.kl_reference_mean == pytest.approx(np.mean(ref_part[: i + 1]), rel=1e-12, abs=1e-15)
        if i >= 40:
            cur = kl[max(40, i - 19) : i + 1]
            assert m.kl_current_mean == pytest.approx(np.mean(cur), rel=1e-9, abs=1e-12)


def test_huge_controller_window_is_not_allocated_up_front():
    t = KLScheduleTracker(controller_window=10**12)
    assert t.update(0, 0.1, 0.1).controller_kind == "unknown"


def test_track_kl_distribution_feeds_only_the_drift_state():
    rng = np.random.default_rng(3)
    t = KLScheduleTracker(drift_window_size=50, reference_period=100)
    ref, shifted = rng.normal(0.1, 0.01, 100), rng.normal(0.3, 0.01, 50)
    for i, x in enumerate(np.concatenate([ref, shifted])):
        t.track_kl_distribution(i, float(x))
    divergence, details = t.detect_kl_drift()
    assert divergence is not None and divergence > 1.0
    assert details["reference_size"] == 100 and details["window_size"] == 50
    assert t.total_updates == 0 and t.kl_history == []  # band/trend analyses untouched
    with pytest.raises(ValueError, match="kl_value"):
        t.track_kl_distribution(151, float("nan"))
    off = KLScheduleTracker(enable_drift_tracking=False)
    off.track_kl_distribution(0, 0.1)
    assert off.detect_kl_drift()[1]["reason"] == "drift_tracking_disabled"
