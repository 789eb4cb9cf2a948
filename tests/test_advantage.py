"""AdvantageStatisticsTracker: RLDK's surface and checklist facts, our fixes, per-step ==
batch, and the window statistics against NumPy/SciPy references."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import scipy.stats
from helpers import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import rlforensics
from rlforensics.forensics import AdvantageStatisticsMetrics as ForensicsMetrics
from rlforensics.forensics import AdvantageStatisticsTracker as ForensicsTracker
from rlforensics.forensics.advantage_statistics_tracker import (
    AdvantageStatisticsMetrics,
    AdvantageStatisticsTracker,
)

SUMMARY_KEYS = {
    "total_steps", "current_advantage_mean", "current_advantage_std", "current_advantage_min",
    "current_advantage_max", "current_advantage_median", "advantage_health_score",
    "advantage_quality_score", "advantage_normalization_health", "advantage_bias",
    "advantage_scale_stability", "advantage_volatility", "advantage_skewness",
    "advantage_kurtosis", "advantage_bias_risk", "advantage_scale_risk",
    "advantage_distribution_risk", "advantage_mean_trend", "advantage_std_trend",
    "advantage_percentiles", "anomalies",
}
RLDK_FIELDS = {
    "advantage_mean", "advantage_std", "advantage_min", "advantage_max", "advantage_median",
    "advantage_skewness", "advantage_kurtosis", "advantage_percentiles",
    "advantage_normalization_health", "advantage_bias", "advantage_scale_stability",
    "advantage_mean_trend", "advantage_std_trend", "advantage_volatility",
    "advantage_bias_risk", "advantage_scale_risk", "advantage_distribution_risk",
    "advantage_health_score", "advantage_quality_score",
}


def healthy_run(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A normalised advantage series: batch mean ~ N(0, 0.02), batch std 1 ± 5%."""
    rng = np.random.default_rng(seed)
    return 4.0 * np.arange(n), 0.02 * rng.standard_normal(n), 1.0 + 0.05 * rng.standard_normal(n)


def kinds(t: AdvantageStatisticsTracker) -> list[str]:
    return [a["type"] for a in t.get_anomalies()]


# --- RLDK surface ---------------------------------------------------------------------------


def test_import_paths_are_rldks():
    assert ForensicsTracker is AdvantageStatisticsTracker is rlforensics.AdvantageStatisticsTracker
    assert ForensicsMetrics is AdvantageStatisticsMetrics is rlforensics.AdvantageStatisticsMetrics
    assert "AdvantageStatisticsTracker" in rlforensics.__all__


def test_constructor_defaults_and_attributes():
    t = AdvantageStatisticsTracker()
    assert (t.window_size, t.trend_window, t.distribution_window) == (100, 20, 50)
    assert (t.bias_threshold, t.scale_threshold) == (0.1, 2.0)
    assert t.advantage_mean_history == [] and len(t.metrics_history) == 0
    assert t.total_updates == 0 and t.history_size == 10000
    assert t.get_summary() == {} and t.get_anomalies() == []


@pytest.mark.parametrize(
    "kwargs, name",
    [({"bias_threshold": 0.0}, "bias_threshold"), ({"scale_threshold": float("nan")}, "scale_threshold"),
     ({"window_size": 0}, "window_size"), ({"trend_window": 1}, "trend_window"),
     ({"distribution_window": -5}, "distribution_window"), ({"history_size": 0}, "history_size"),
     ({"event_release": 0}, "event_release"), ({"max_events": 0}, "max_events")],
)
def test_bad_parameters_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        AdvantageStatisticsTracker(**kwargs)


def test_update_echoes_inputs_and_history_counts_updates():
    t = AdvantageStatisticsTracker()
    for i in range(25):
        m = t.update(i, 0.01 * i, 1.0 + 0.01 * i, -3.0, 3.5, 0.02)
        assert (m.advantage_mean, m.advantage_std) == (0.01 * i, 1.0 + 0.01 * i)
        assert (m.advantage_min, m.advantage_max, m.advantage_median, m.step) == (-3.0, 3.5, 0.02, i)
    assert len(t.metrics_history) == 25 and t.total_updates == 25
    assert len(t.advantage_mean_history) == 25
    assert t.metrics_history[-1] == t.current_metrics
    assert [m.step for m in t.metrics_history[:3]] == [0, 1, 2]
    d = t.current_metrics.to_dict()
    assert RLDK_FIELDS <= set(d) and len(d) == 23
    s = t.get_summary()
    assert set(s) == SUMMARY_KEYS and len(s) == 21 and s["total_steps"] == 25
    assert s["current_advantage_median"] == 0.02 and s["advantage_percentiles"] == {}


def test_not_enough_data_is_none_not_a_perfect_score():
    m = AdvantageStatisticsTracker().update(0, 0.0, 1.0)
    assert m.advantage_health_score is None and m.advantage_quality_score is None
    assert m.advantage_skewness is None and m.advantage_percentiles == {}
    assert m.advantage_volatility is None and m.advantage_bias is None


# --- checklist facts -----------------------------------------------------------------------------


def test_constant_bias_is_one_critical_event():
    t = AdvantageStatisticsTracker(bias_threshold=0.05)
    for i in range(30):
        t.update(i, 0.2, 1.0)
    ev = [a for a in t.get_anomalies() if a["type"] == "advantage_bias_anomaly"]
    assert len(ev) == 1, "a sustained bias is one event, not one per step"
    assert ev[0]["severity"] == "critical" and ev[0]["active"]
    assert (ev[0]["first_step"], ev[0]["last_step"], ev[0]["step"]) == (4, 29, 4)
    assert ev[0]["occurrences"] == 26 and ev[0]["threshold"] == 0.05
    # The reported bias comes from the same 5-mean window as the trigger.
    assert ev[0]["value"] == pytest.approx(0.2, abs=1e-12)
    assert t.current_metrics.advantage_bias_risk == 1.0


def test_bias_value_is_the_trigger_window_even_before_ten_updates():
    t = AdvantageStatisticsTracker(bias_threshold=0.05)
    for i in range(5):
        t.update(i, 0.2, 1.0)
    (ev,) = t.get_anomalies()
    # RLDK reported its 10-mean bias here, which is 0.0 before 10 updates.
    assert ev["type"] == "advantage_bias_anomaly" and ev["value"] == pytest.approx(0.2)
    assert t.current_metrics.advantage_bias is None


def test_repeated_skewed_batch_gives_skewness():
    rng = np.random.default_rng(0)
    batch = rng.exponential(1.0, 120) - 1.0
    t = AdvantageStatisticsTracker()
    for i in range(20):
        m = t.update(i, float(batch.mean()), float(batch.std()), advantage_samples=batch)
    assert abs(m.advantage_skewness) > 0.5
    assert m.advantage_skewness == pytest.approx(scipy.stats.skew(batch[-50:]), rel=1e-9)
    assert set(m.advantage_percentiles) == {"p5", "p10", "p25", "p50", "p75", "p90", "p95"}
    assert len(t.advantage_samples) == 500


def test_percentiles_are_a_fresh_dict_per_snapshot():
    t = AdvantageStatisticsTracker(distribution_window=10)
    t.update(0, 0.0, 1.0, advantage_samples=np.arange(10.0))
    t.update(1, 0.0, 1.0, advantage_samples=np.arange(100.0, 110.0))
    first, second = t.metrics_history[0].advantage_percentiles, t.metrics_history[1].advantage_percentiles
    assert first["p50"] == 4.5 and second["p50"] == 104.5
    first["p50"] = -1.0
    assert t.metrics_history[0].advantage_percentiles["p50"] == 4.5


# --- inputs are never replaced by defaults ---------------------------------------------------


def test_zero_median_is_kept_and_missing_values_stay_none():
    t = AdvantageStatisticsTracker()
    m = t.update(0, 0.3, 1.0, advantage_median=0.0)
    assert m.advantage_median == 0.0 and m.advantage_min is None and m.advantage_max is None
    s = t.get_summary()
    assert s["current_advantage_median"] == 0.0 and s["current_advantage_min"] is None


def test_numpy_scalars_ints_and_strings_keep_their_value():
    t = AdvantageStatisticsTracker()
    m = t.update(np.int64(3), np.float32(0.12), 1, np.float16(-2.5), 4, "0.5")
    assert m.advantage_mean == float(np.float32(0.12)) and m.advantage_std == 1.0
    assert (m.advantage_min, m.advantage_max, m.advantage_median, m.step) == (-2.5, 4.0, 0.5, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32])
def test_sample_arrays_of_any_dtype_and_lists_are_accepted(dtype):
    xs = np.arange(60).astype(dtype)
    t = AdvantageStatisticsTracker()
    m = t.update(0, 0.0, 1.0, advantage_samples=xs)
    ref = np.percentile(xs[-50:].astype(np.float64), [5, 50, 95])
    got = m.advantage_percentiles
    assert [got["p5"], got["p50"], got["p95"]] == pytest.approx(ref, rel=1e-12)
    assert t.update(1, 0.0, 1.0, advantage_samples=[1.0, 2.0]).nonfinite_sample_count == 0
    assert t.advantage_samples[-2:] == [1.0, 2.0]


def test_a_large_float32_batch_keeps_its_last_values():
    xs = np.random.default_rng(5).standard_normal(200_000).astype(np.float32)
    xs[::1000] = np.nan
    m = AdvantageStatisticsTracker().update(0, 0.0, 1.0, advantage_samples=xs)
    finite = xs[np.isfinite(xs)].astype(np.float64)
    assert m.nonfinite_sample_count == 200
    assert m.advantage_percentiles["p90"] == pytest.approx(np.percentile(finite[-50:], 90), rel=1e-12)
    assert m.advantage_kurtosis == pytest.approx(scipy.stats.kurtosis(finite[-50:]), rel=1e-9)


def test_non_finite_samples_are_counted_and_skipped():
    t = AdvantageStatisticsTracker()
    m = t.update(0, 0.0, 1.0, advantage_samples=np.array([1.0, np.nan, np.inf, 2.0]))
    assert m.nonfinite_sample_count == 2 and t.advantage_samples == [1.0, 2.0]
    assert t.get_anomalies() == []


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("which", ["mean", "std"])
def test_non_finite_input_is_a_critical_event_at_its_step(bad, which):
    t = AdvantageStatisticsTracker()
    for i in range(30):
        mean, std = (bad if (i == 12 and which == "mean") else 0.0,
                     bad if (i == 12 and which == "std") else 1.0)
        t.update(i, mean, std)
    (ev,) = t.get_anomalies()
    assert ev["type"] == f"non_finite_advantage_{which}" and ev["severity"] == "critical"
    assert ev["first_step"] == 12 and ev["value"] == 1.0 and ev["threshold"] == 0.0
    m = t.current_metrics
    assert getattr(m, f"nonfinite_{which}_count") == 1
    assert m.advantage_bias == 0.0 and m.advantage_scale_stability == 1.0
    history = t.advantage_mean_history if which == "mean" else t.advantage_std_history
    assert len(history) == 29
    # A snapshot that echoes a non-finite input still equals itself (equality by value bits).
    assert t.metrics_history[12] == t.metrics_history[12] != t.metrics_history[11]


def test_missing_mean_leaves_mean_analyses_untouched():
    t = AdvantageStatisticsTracker()
    for i in range(15):
        t.update(i, 0.01 * (i % 4), 1.0)
    before = t.current_metrics
    m = t.update(15, None, 1.2)
    assert m.advantage_mean is None
    assert (m.advantage_bias, m.advantage_volatility, m.advantage_mean_trend) == (
        before.advantage_bias, before.advantage_volatility, before.advantage_mean_trend)
    assert m.advantage_scale_stability != before.advantage_scale_stability
    assert len(t.advantage_mean_history) == 15 and len(t.advantage_std_history) == 16


@pytest.mark.parametrize("bad, exc", [([0.1], TypeError), ("x", ValueError), (object(), TypeError)])
def test_unreadable_inputs_raise_naming_the_argument(bad, exc):
    with pytest.raises(exc, match="advantage_std"):
        AdvantageStatisticsTracker().update(0, 0.0, bad)


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_healthy_normalised_series_is_quiet(seed):
    steps, mean, std = healthy_run(3000, seed)
    t = AdvantageStatisticsTracker()
    t.update_many(steps, mean, std)
    assert t.get_anomalies() == []
    m = t.current_metrics
    assert m.advantage_health_score > 0.8 and m.advantage_quality_score > 0.8


def test_trend_rule_looks_at_the_change_across_the_window():
    t = AdvantageStatisticsTracker()
    steps = 10.0 * np.arange(40)
    t.update_many(steps, 0.001 * steps - 0.2, np.ones(40))
    assert t.current_metrics.advantage_mean_trend == pytest.approx(0.001, rel=1e-9)
    (ev,) = [a for a in t.get_anomalies() if a["type"] == "advantage_trend_anomaly"]
    assert ev["severity"] == "warning" and ev["value"] == pytest.approx(0.001)


def test_std_collapse_is_flagged_against_the_early_level():
    t = AdvantageStatisticsTracker()
    std = np.r_[np.ones(30), np.full(10, 0.05), np.full(10, 1e-4)]
    t.update_many(np.arange(50.0), np.zeros(50), std)
    assert t.early_std_level == 1.0
    (ev,) = [a for a in t.get_anomalies() if a["type"] == "advantage_scale_collapse_anomaly"]
    assert ev["first_step"] == 32 and ev["severity"] == "critical" and ev["value"] < 0.01


def test_unstable_scale_and_volatile_mean_are_flagged():
    rng = np.random.default_rng(1)
    t = AdvantageStatisticsTracker()
    t.update_many(np.arange(60.0), 0.3 * rng.standard_normal(60), np.exp(3.0 * rng.standard_normal(60)))
    found = set(kinds(t))
    assert {"advantage_scale_anomaly", "advantage_volatility_anomaly"} <= found


def test_heavy_tailed_samples_raise_kurtosis_and_distribution_anomalies():
    batch = np.r_[np.zeros(45), 10.0, -10.0, np.zeros(3)]
    t = AdvantageStatisticsTracker()
    for i in range(6):
        t.update(i, 0.0, 1.0, advantage_samples=batch)
    found = set(kinds(t))
    assert {"advantage_kurtosis_anomaly", "advantage_distribution_anomaly"} <= found


# --- one implementation: per-step == batch, snapshots resume exactly ----------------------------


def _mixed_run(n: int = 600):
    steps, mean, std = healthy_run(n, 7)
    mean[300:] += 0.08
    mean[[50, 51]] = [np.nan, np.inf]
    std[400] = np.nan
    std[450:] *= np.linspace(1.0, 0.01, n - 450)
    return steps, mean, std, mean - 2.0, mean + 2.0, np.where(np.arange(n) % 7 == 0, 0.0, mean)


def test_update_many_equals_update_loop_bit_for_bit():
    steps, mean, std, lo, hi, med = _mixed_run()
    a, b = AdvantageStatisticsTracker(), AdvantageStatisticsTracker()
    rows = [a.update(*row).to_dict() for row in zip(steps, mean, std, lo, hi, med)]
    cols = b.update_many(steps, mean, std, lo, hi, med)
    assert len(cols) == 29
    for name, col in cols.items():
        if name.startswith("advantage_percentiles_"):
            per = [r["advantage_percentiles"].get(name.rsplit("_", 1)[1]) for r in rows]
        else:
            per = [r[name] for r in rows]
        ref = np.array([np.nan if v is None else float(v) for v in per])
        np.testing.assert_array_equal(col, ref, err_msg=name)
    assert a.get_anomalies() == b.get_anomalies() and len(a.get_anomalies()) >= 3
    assert a.to_bytes() == b.to_bytes()


def test_update_many_checks_lengths():
    with pytest.raises(ValueError, match="equal lengths"):
        AdvantageStatisticsTracker().update_many([0.0, 1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="advantage_median"):
        AdvantageStatisticsTracker().update_many([0.0], [0.0], [1.0], advantage_median=[])


def test_pickle_copy_and_resume_mid_run():
    steps, mean, std, lo, hi, med = _mixed_run()
    samples = np.random.default_rng(3).standard_normal(300)
    whole = AdvantageStatisticsTracker(distribution_window=30)
    whole.update_many(steps, mean, std, lo, hi, med)
    whole.update(steps[-1] + 1, 0.0, 1.0, advantage_samples=samples)
    half = AdvantageStatisticsTracker(distribution_window=30)
    half.update_many(steps[:300], mean[:300], std[:300], lo[:300], hi[:300], med[:300])
    for clone in (pickle.loads(pickle.dumps(half)), copy.deepcopy(half),
                  AdvantageStatisticsTracker.from_bytes(half.to_bytes())):
        clone.update_many(steps[300:], mean[300:], std[300:], lo[300:], hi[300:], med[300:])
        clone.update(steps[-1] + 1, 0.0, 1.0, advantage_samples=samples)
        assert clone.to_bytes() == whole.to_bytes()
        assert clone.distribution_window == 30
        assert clone.current_metrics == whole.current_metrics


def test_history_size_caps_memory():
    t = AdvantageStatisticsTracker(history_size=10, window_size=5)
    t.update_many(np.arange(100.0), np.zeros(100), np.ones(100))
    assert len(t.metrics_history) == 10 and t.metrics_history[0].step == 90
    assert len(t.advantage_mean_history) == 5
    with pytest.raises(IndexError):
        t.metrics_history[10]


# --- against NumPy / SciPy ---------------------------------------------------------------------------


@settings(max_examples=examples(300))
@given(
    rows=st.lists(
        st.tuples(
            st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False),
            st.floats(0.1, 3.0, allow_nan=False),
            st.lists(st.floats(-50.0, 50.0, allow_nan=False, allow_subnormal=False), max_size=12),
        ),
        min_size=1,
        max_size=60,
    ),
    dw=st.integers(4, 16),
    gaps=st.lists(st.integers(1, 1000), min_size=60, max_size=60),
)
def test_window_statistics_match_references(rows, dw, gaps):
    _check_window_statistics(rows, dw, gaps)


def test_volatility_is_exact_after_a_large_value_leaves():
    """Found by Hypothesis: sliding sums kept a residue of 3e-9 in the volatility of ten tiny
    means once 1.0 had left the window; the short window is now summed afresh."""
    rows = [(0.0, 1.0, []), (1.0, 1.0, []), (0.04916976983325072, 1.0, [])] + [(0.0, 1.0, [])] * 9
    rows.append((1.1754943508222875e-38, 1.0, []))
    _check_window_statistics(rows, 4, [1] * 60)


def _check_window_statistics(rows, dw, gaps):
    t = AdvantageStatisticsTracker(distribution_window=dw, trend_window=8)
    steps = np.cumsum(gaps).astype(float)
    means, stds, samples = [], [], []
    for i, (mean, std, batch) in enumerate(rows):
        m = t.update(steps[i], mean, std, advantage_samples=np.array(batch, dtype=np.float64))
        means.append(mean)
        stds.append(std)
        samples.extend(batch)
        if len(means) >= 10:
            w = np.array(means[-10:])
            assert m.advantage_bias == pytest.approx(abs(w.mean()), abs=1e-12)
            assert m.advantage_volatility == pytest.approx(np.std(w, ddof=1), rel=1e-9, abs=1e-12)
            s = np.array(stds[-10:])
            cv = np.std(s) / max(s.mean(), 1e-8)
            assert m.advantage_scale_stability == pytest.approx(max(0.0, 1.0 - cv), abs=1e-9)
        else:
            assert m.advantage_bias is None and m.advantage_volatility is None
        if len(means) >= 8:
            xs, ys = steps[i - 7 : i + 1], np.array(means[-8:])
            ref = np.polyfit(xs - xs.mean(), ys, 1)[0]
            scale = np.ptp(ys) / max(np.ptp(xs), 1.0)
            assert m.advantage_mean_trend == pytest.approx(ref, rel=1e-6, abs=1e-9 * scale + 1e-15)
        else:
            assert m.advantage_mean_trend is None
        if len(means) >= 5:
            risk = min(1.0, abs(np.mean(means[-5:])) / 0.1)
            assert m.advantage_bias_risk == pytest.approx(risk, abs=1e-12)
        if len(samples) < dw:
            assert m.advantage_skewness is None and m.advantage_percentiles == {}
            continue
        x = np.array(samples[-dw:])
        p = m.advantage_percentiles
        ref = np.percentile(x, [5, 10, 25, 50, 75, 90, 95])
        assert [p[k] for k in ("p5", "p10", "p25", "p50", "p75", "p90", "p95")] == pytest.approx(
            ref, rel=1e-12, abs=1e-12)
        # Skewness and kurtosis come from sliding power sums, which keep a residue of order
        # eps * scale**k from every larger value that passed through the window (see
        # test_rolling.py): compare where the window's variance is at least 1e-6 (skew) /
        # 1e-4 (kurtosis) of scale**2, with scale the largest sample seen, at rtol = atol = 1e-6.
        scale2 = max(1.0, float(np.abs(samples).max())) ** 2
        if np.var(x) >= 1e-6 * scale2:
            assert m.advantage_skewness == pytest.approx(scipy.stats.skew(x), rel=1e-6, abs=1e-6)
        if np.var(x) >= 1e-4 * scale2:
            assert m.advantage_kurtosis == pytest.approx(scipy.stats.kurtosis(x), rel=1e-6, abs=1e-6)
        if np.ptp(x) == 0.0:
            assert m.advantage_skewness is None and m.advantage_kurtosis is None
