"""GradientNormsAnalyzer: RLDK's surface and checklist facts, our fixes, and per-step ==
batch == NumPy reference."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rlforensics
from rlforensics.forensics import GradientNormsAnalyzer as ForensicsAnalyzer
from rlforensics.forensics.gradient_norms_analyzer import GradientNormsAnalyzer, GradientNormsMetrics


def kinds(a: GradientNormsAnalyzer) -> list[str]:
    return [e["type"] for e in a.get_anomalies()]


def healthy(n: int, seed: int):
    rng = np.random.default_rng(seed)
    level = 1.0 + 0.5 * np.exp(-np.arange(n) / 2000.0)
    p = 0.5 * level * (1 + 0.05 * rng.standard_normal(n))
    v = 1.5 * level * (1 + 0.05 * rng.standard_normal(n))
    return np.arange(n, dtype=float) * 2.0, p, v


def test_import_paths_are_rldks():
    assert ForensicsAnalyzer is GradientNormsAnalyzer is rlforensics.GradientNormsAnalyzer
    assert rlforensics.GradientNormsMetrics is GradientNormsMetrics


def test_constructor_defaults():
    a = GradientNormsAnalyzer()
    assert (a.exploding_threshold, a.vanishing_threshold, a.imbalance_threshold) == (10.0, 0.001, 0.1)
    assert (a.window_size, a.trend_window, a.momentum_window) == (50, 20, 10)
    assert a.enable_advanced_detection is True
    assert a.policy_grad_history == [] and len(a.metrics_history) == 0
    assert a.get_summary() == {}


@pytest.mark.parametrize(
    "kwargs, name",
    [({"window_size": 0}, "window_size"), ({"imbalance_threshold": 2.0}, "imbalance_threshold"),
     ({"vanishing_threshold": 50.0}, "vanishing_threshold"), ({"smoothing_alpha": 0.0}, "smoothing_alpha"),
     ({"momentum_window": 2}, "momentum_window"), ({"exploding_threshold": float("nan")}, "exploding_threshold")],
)
def test_bad_parameters_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        GradientNormsAnalyzer(**kwargs)


def test_update_echoes_inputs_and_ratios():
    a = GradientNormsAnalyzer()
    m = a.update(0, 2.0, 0.5)
    assert m.policy_grad_norm == 2.0 and m.value_grad_norm == 0.5
    assert m.policy_value_ratio == 2.0 / 0.5
    assert m.total_grad_norm == pytest.approx(np.hypot(2.0, 0.5))
    assert m.policy_total_ratio == 2.0 / m.total_grad_norm
    m = a.update(1, np.float32(1.5), np.float32(0.5), 3.0)
    assert m.total_grad_norm == 3.0 and m.policy_grad_norm == float(np.float32(1.5))
    assert len(a.metrics_history) == 2 and a.total_updates == 2
    assert len(a.get_summary()) == 25
    assert len(m.to_dict()) == 27


def test_exploding_policy_norm_from_step_10():
    a = GradientNormsAnalyzer(exploding_threshold=5.0)
    for i in range(30):
        a.update(i, 10.0 if i >= 10 else 1.0, 1.0)
    ev = [e for e in a.get_anomalies() if e["type"] == "exploding_gradient_anomaly"]
    assert len(ev) == 1 and ev[0]["first_step"] >= 10 and ev[0]["active"]
    assert ev[0]["severity"] == "critical"


def test_constant_5_to_0_1_ratio_is_unbalanced():
    a = GradientNormsAnalyzer()
    for i in range(20):
        m = a.update(i, 5.0, 0.1)
    assert m.gradient_balance < 0.5 and m.policy_value_ratio > 10
    assert "gradient_imbalance_anomaly" in kinds(a)


def test_total_only_logs_are_analysed():
    # GRPO/RLOO log only grad_norm; RLDK never reached its analyzer for them.
    rng = np.random.default_rng(1)
    g = 0.8 * (1 + 0.05 * rng.standard_normal(400))
    g[300:] *= 100.0
    a = GradientNormsAnalyzer()
    cols = a.update_many(np.arange(400.0), total_grad_norm=g)
    assert np.isnan(cols["policy_value_ratio"]).all()
    assert np.isfinite(cols["gradient_health_score"][20:]).all()
    onset = [e["first_step"] for e in a.get_anomalies() if e["type"] == "adaptive_explosion_anomaly"]
    assert onset and 300 <= onset[0] <= 305


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_norm_is_a_critical_event(bad):
    a = GradientNormsAnalyzer()
    for i in range(40):
        a.update(i, bad if i == 17 else 1.0, 2.0)
    ev = a.get_anomalies()
    assert [e["type"] for e in ev] == ["non_finite_policy_grad_norm"]
    assert ev[0]["severity"] == "critical" and ev[0]["first_step"] == 17
    m = a.current_metrics
    assert m.momentum_instability_risk == 0.0 and m.nonfinite_count == 1


def test_negative_norm_is_reported():
    a = GradientNormsAnalyzer()
    a.update(0, -1.0, 1.0)
    assert a.get_anomalies()[0]["type"] == "negative_grad_norm"
    assert a.policy_grad_history == []


@pytest.mark.parametrize("seed", range(3))
def test_healthy_run_is_quiet(seed):
    steps, p, v = healthy(3000, seed)
    a = GradientNormsAnalyzer(window_size=100)
    a.update_many(steps, p, v)
    assert a.get_anomalies() == []
    m = a.current_metrics
    assert m.gradient_health_score > 0.8 and not m.change_point_detected


def test_disabled_advanced_detection_leaves_those_fields_none():
    a = GradientNormsAnalyzer(enable_advanced_detection=False)
    steps, p, v = healthy(100, 0)
    a.update_many(steps, p, v)
    m = a.current_metrics
    assert m.adaptive_explosion_risk is None and m.multi_scale_anomaly_risk is None
    assert m.gradient_flow_health == 1.0


def test_update_many_equals_update_loop():
    steps, p, v = healthy(700, 3)
    p[[50, 400]] = [np.nan, np.inf]
    a, b = GradientNormsAnalyzer(), GradientNormsAnalyzer()
    rows = [a.update(s, x, y).to_dict() for s, x, y in zip(steps, p, v)]
    cols = b.update_many(steps, p, v)
    for name, col in cols.items():
        ref = np.array([np.nan if r[name] is None else float(r[name]) for r in rows])
        np.testing.assert_array_equal(col, ref, err_msg=name)
    assert a.get_anomalies() == b.get_anomalies() and a.to_bytes() == b.to_bytes()


def test_pickle_resume_mid_run():
    steps, p, v = healthy(600, 4)
    whole = GradientNormsAnalyzer(exploding_threshold=3.0)
    whole.update_many(steps, p, v)
    half = GradientNormsAnalyzer(exploding_threshold=3.0)
    half.update_many(steps[:300], p[:300], v[:300])
    clone = pickle.loads(pickle.dumps(half))
    clone.update_many(steps[300:], p[300:], v[300:])
    assert clone.to_bytes() == whole.to_bytes() and clone.exploding_threshold == 3.0


@given(
    totals=st.lists(st.floats(1e-4, 1e3), min_size=1, max_size=60),
    offset=st.sampled_from([0.0, 1e9]),
)
def test_window_statistics_match_numpy(totals, offset):
    t = np.array(totals)
    steps = offset + 3.0 * np.arange(t.size)
    a = GradientNormsAnalyzer()
    for i in range(t.size):
        m = a.update(steps[i], None, None, t[i])
        # Vanishing means below 0.001 or below 1% of the median of the first 20 totals.
        floor = max(0.001, 0.01 * float(np.median(t[:20]))) if i >= 19 else 0.001
        if i >= 9:
            w = t[i - 9 : i + 1]
            assert m.gradient_flow_health == pytest.approx(np.mean((w >= floor) & (w <= 10.0)))
            cv = np.std(w, ddof=1) / np.mean(w)
            assert m.gradient_stability == pytest.approx(1 - min(cv, 1.0), rel=1e-9, abs=1e-12)
        else:
            assert m.gradient_flow_health is None
        if i >= 4:
            w5 = t[i - 4 : i + 1]
            assert m.exploding_gradient_risk == pytest.approx(np.mean(w5 > 10.0))
            assert m.vanishing_gradient_risk == pytest.approx(np.mean(w5 < floor))
        if i >= 9:
            w = t[i - 9 : i + 1]
            d2 = np.diff(w, 2)
            assert m.gradient_acceleration == pytest.approx(np.mean(d2), rel=1e-9, abs=1e-9 * np.max(w))


def test_three_bad_norms_at_one_step_are_one_occurrence():
    a = GradientNormsAnalyzer()
    a.update(0, -1.0, -1.0, -1.0)
    (event,) = a.get_anomalies()
    assert event["type"] == "negative_grad_norm" and event["occurrences"] == 1


def test_change_point_is_confirmed_only_by_new_totals():
    a = GradientNormsAnalyzer()
    for i in range(30):
        a.update(i, None, None, 1.0 + 0.01 * (i % 2))
    a.update(30, None, None, 5.0)
    for i in range(31, 40):
        m = a.update(i, 1.0, None, None)  # policy-only updates add no total
    assert m.change_point_detected is False
