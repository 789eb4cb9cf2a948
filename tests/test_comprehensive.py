"""ComprehensivePPOForensics: RLDK's surface and checklist facts, our fixes, batch ==
per-step, pickling."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
from helpers import as_nan

import rlforensics
from rlforensics.forensics.comprehensive_ppo_forensics import (
    ComprehensivePPOForensics,
    ComprehensivePPOMetrics,
)


def healthy_step(f: ComprehensivePPOForensics, i: int, rng: np.random.Generator):
    return f.update(
        i, 0.1 + 0.005 * rng.standard_normal(), 0.2 * (1 + 0.05 * np.sin(i / 3)), 2.0, 1.0, 0.5,
        policy_grad_norm=0.5 * (1 + 0.05 * rng.standard_normal()),
        value_grad_norm=1.0 * (1 + 0.05 * rng.standard_normal()),
        advantage_mean=0.01 * rng.standard_normal(), advantage_std=1.0,
    )


def test_import_paths():
    assert rlforensics.ComprehensivePPOForensics is ComprehensivePPOForensics
    assert rlforensics.forensics.ComprehensivePPOMetrics is ComprehensivePPOMetrics


def test_defaults_and_attributes():
    f = ComprehensivePPOForensics()
    assert f.kl_schedule_tracker.kl_target == 0.1 and f.kl_schedule_tracker.window_size == 100
    assert f.gradient_norms_analyzer.window_size == 100
    assert f.advantage_statistics_tracker.window_size == 100
    assert f.length_bias_threshold == 0.35
    assert f.length_bias_corr_threshold == pytest.approx(0.4)
    assert len(f.comprehensive_metrics_history) == 0
    assert f.get_health_summary() == {"status": "no_data"}
    off = ComprehensivePPOForensics(enable_kl_schedule_tracking=False, enable_gradient_norms_analysis=False)
    assert off.kl_schedule_tracker is None and off.gradient_norms_analyzer is None


def test_update_echoes_and_history_counts():
    f = ComprehensivePPOForensics()
    m = f.update(3, 0.1, 0.2, 2.5, 1.0, 0.3, policy_grad_norm=1.0, value_grad_norm=0.5)
    assert (m.step, m.kl, m.kl_coef, m.entropy, m.reward_mean, m.reward_std) == (3, 0.1, 0.2, 2.5, 1.0, 0.3)
    assert m.kl_schedule_metrics.current_kl == 0.1
    assert m.gradient_norms_metrics.policy_value_ratio == 2.0
    assert m.advantage_statistics_metrics is None
    m2 = f.update(4, 0.1, 0.2, 2.5, 1.0, 0.3, advantage_mean=0.0, advantage_std=1.0,
                  advantage_samples=np.linspace(-1, 1, 64, dtype=np.float32))
    assert m2.advantage_statistics_metrics.advantage_std == 1.0
    assert m2.to_dict()["advantage_advantage_std"] == 1.0
    assert len(f.comprehensive_metrics_history) == 2
    d = m.to_dict()
    assert d["kl_schedule_current_kl"] == 0.1 and d["gradient_policy_value_ratio"] == 2.0


def test_missing_inputs_do_not_update_trackers():
    f = ComprehensivePPOForensics()
    m = f.update(0, None, None, 2.0, 1.0, 0.5)
    assert m.kl_schedule_metrics is None and m.gradient_norms_metrics is None
    assert f.kl_schedule_tracker.total_updates == 0
    assert m.overall_health_score is None, "no data is not a perfect 1.0"


def test_normal_then_bad_split_raises_anomalies_from_several_trackers():
    f = ComprehensivePPOForensics()
    rng = np.random.default_rng(0)
    for i in range(25):
        healthy_step(f, i, rng)
    for i in range(25, 50):
        f.update(i, 0.6, 0.2, 2.0, 1.0, 0.5, policy_grad_norm=40.0, value_grad_norm=1.0,
                 advantage_mean=0.5, advantage_std=1.0)
    trackers = {a["tracker"] for a in f.get_anomalies()}
    assert {"kl_schedule", "gradient_norms", "advantage_statistics"} <= trackers
    assert f.anomalies == f.get_anomalies()
    assert all(a["first_step"] >= 25 for a in f.get_anomalies())


def test_healthy_twenty_steps():
    f = ComprehensivePPOForensics()
    rng = np.random.default_rng(1)
    for i in range(20):
        healthy_step(f, i, rng)
    s = f.get_health_summary()
    assert s["status"] in {"healthy", "warning"}
    assert s["overall_health_score"] > 0.7 and s["total_anomalies"] <= 1


def test_comprehensive_analysis_and_save(tmp_path):
    f = ComprehensivePPOForensics()
    rng = np.random.default_rng(2)
    for i in range(30):
        healthy_step(f, i, rng)
    f.update(30, float("nan"), 0.2, float("inf"), 1.0, 0.5)
    a = f.get_comprehensive_analysis()
    assert a["version"] == "2.0" and a["total_steps"] == 31
    assert {"kl_schedule", "kl_drift", "gradient_norms", "advantage_statistics", "length_bias"} <= set(a["trackers"])
    assert f.analysis_summary is a
    path = f.save_analysis(tmp_path / "out" / "analysis.json")
    loaded = json.loads(path.read_text())  # strict JSON: no bare NaN
    assert loaded["version"] == "2.0"
    types = {(x["type"], x["tracker"]) for x in loaded["anomalies"]}
    assert ("non_finite_kl", "kl_schedule") in types and ("non_finite_entropy", "comprehensive") in types
    assert f.get_health_summary()["status"] == "critical"


def test_scan_ppo_events_comprehensive_reads_once():
    f = ComprehensivePPOForensics()
    seen = []

    def gen():
        for i in range(50):
            seen.append(i)
            yield {"step": i, "kl": 0.3 if 20 <= i < 35 else 0.1, "kl_coef": 0.1, "entropy": 2.0,
                   "grad_norm_policy": 8.0 if i >= 35 else 1.0, "grad_norm_value": 1.0}

    report = f.scan_ppo_events_comprehensive(gen())
    assert seen == list(range(50))
    assert report["version"] == "1" and report["enhanced_version"] == "2.0"
    assert "rules_fired" in report and report["comprehensive_analysis"]["total_steps"] == 50
    assert f.total_updates == 50
    assert f.scan_ppo_events_comprehensive([]) == {
        "version": "1", "rules_fired": [], "earliest_step": None, "stats": {}}


def test_length_bias_monotone_batch_and_disabled():
    f = ComprehensivePPOForensics(length_bias_threshold=0.3)
    batch = [{"response": "x" * (10 * (i + 1)), "reward": 0.1 * i} for i in range(6)]
    m = f.update(0, 0.1, 0.1, 2.0, 1.0, 0.5, response_data=batch)
    assert m.length_bias_detected and m.length_bias_score > 0.3
    assert m.length_reward_correlation_abs == pytest.approx(1.0)
    assert m.length_reward_spearman_abs == pytest.approx(1.0)
    a = f.get_length_bias_analysis()
    assert a["detected"] and a["sample_count"] == 6 and a["metrics"]["quartile_metrics"]["q4"]["count"] >= 1
    off = ComprehensivePPOForensics(enable_length_bias_detection=False)
    m = off.update(0, 0.1, 0.1, 2.0, 1.0, 0.5, response_data=batch)
    assert off.get_length_bias_analysis() == {} and m.length_bias_score is None


def test_length_bias_payload_shapes_and_scipy():
    from scipy import stats

    rng = np.random.default_rng(3)
    lengths = rng.integers(10, 200, 300).astype(float)
    rewards = 0.01 * lengths + rng.standard_normal(300)
    f = ComprehensivePPOForensics()
    f.update(0, 0.1, response_data={"rewards": rewards[:100], "response_lengths": lengths[:100]})
    f.update(1, 0.1, response_data=[{"reward": r, "length": n} for r, n in zip(rewards[100:200], lengths[100:200])])
    for r, n in zip(rewards[200:], lengths[200:]):
        f.update(2, 0.1, response_reward=r, response_length=n)
    m = f.get_length_bias_analysis()["metrics"]
    assert m["valid_sample_count"] == 300
    p = stats.pearsonr(lengths, rewards)
    s = stats.spearmanr(lengths, rewards)
    assert m["pearson_correlation"] == pytest.approx(p.statistic, rel=1e-9)
    assert m["pearson_pvalue"] == pytest.approx(p.pvalue, rel=1e-6)
    assert m["spearman_correlation"] == pytest.approx(s.statistic, rel=1e-9)
    assert m["spearman_pvalue"] == pytest.approx(s.pvalue, rel=1e-6)
    assert any(a["type"] == "length_bias_anomaly" for a in f.get_anomalies())


def test_records_without_reward_are_skipped_and_without_length_counted():
    f = ComprehensivePPOForensics()
    f.update(0, 0.1, response_data=[{"response": "abc"}, {"reward": 1.0}, {"reward": 2.0, "length": 5}])
    a = f.get_length_bias_analysis()
    assert a["sample_count"] == 1 and a["invalid_response_count"] == 1


def test_update_many_equals_update_loop():
    rng = np.random.default_rng(4)
    n = 300
    cols = {
        "kl": 0.1 + 0.01 * rng.standard_normal(n),
        "kl_coef": 0.2 * np.exp(0.01 * np.cumsum(rng.standard_normal(n))),
        "entropy": 2.0 - 0.001 * np.arange(n),
        "total_grad_norm": 1.0 + 0.05 * rng.standard_normal(n),
        "response_reward": rng.standard_normal(n),
        "response_length": rng.integers(5, 50, n).astype(float),
    }
    cols["entropy"][77] = np.nan
    steps = np.arange(n, dtype=float) * 10
    a, b = ComprehensivePPOForensics(), ComprehensivePPOForensics()
    rows = [
        a.update(steps[i], cols["kl"][i], cols["kl_coef"][i], cols["entropy"][i],
                 total_grad_norm=cols["total_grad_norm"][i],
                 response_reward=cols["response_reward"][i],
                 response_length=cols["response_length"][i]).to_dict()
        for i in range(n)
    ]
    out = b.update_many(steps, **cols)
    for name, col in out.items():
        ref = as_nan(r[name] for r in rows)
        np.testing.assert_array_equal(col, ref, err_msg=name)
    assert a.get_anomalies() == b.get_anomalies()


def test_update_many_with_response_batches_equals_update_with_response_data():
    # The length-bias scenario: a batch of 16 scored responses per step, a bias from onset.
    from rlforensics.testing import generate

    s = generate("length_bias", 1, n_steps=600)
    names = ("kl", "kl_coef", "entropy", "reward_mean", "reward_std")
    a, b = ComprehensivePPOForensics(), ComprehensivePPOForensics()
    rows = []
    for i, row in enumerate(s.rows()):
        # Vary the batch sizes (an empty batch included) and put in one unreadable length.
        k = i % 17
        payload = {"rewards": s.responses.rewards[i, :k].tolist(),
                   "response_lengths": s.responses.lengths[i, :k].tolist()}
        if i == 300 and k:
            payload["response_lengths"][0] = float("nan")
        rows.append(a.update(row["step"], *(row[n] for n in names), response_data=payload).to_dict())
    counts = np.arange(s.n_steps) % 17
    keep = np.arange(16)[None, :] < counts[:, None]
    lengths = s.responses.lengths.copy()
    lengths[300, 0] = np.nan
    out = b.update_many(
        s.steps, **{n: s.columns[n] for n in names},
        response_reward=s.responses.rewards[keep], response_length=lengths[keep],
        response_counts=counts,
    )
    for name, col in out.items():
        ref = as_nan(r[name] for r in rows)
        np.testing.assert_array_equal(col, ref, err_msg=name)
    assert a.get_anomalies() == b.get_anomalies()
    assert any(e["type"] == "length_bias_anomaly" for e in b.get_anomalies())
    assert a.get_length_bias_analysis() == b.get_length_bias_analysis()


@pytest.mark.parametrize("counts, match", [
    ([1, 2, 1.5], "whole numbers"),
    ([1, -1, 2], "whole numbers"),
    ([1, 1, 1], "response records and response_reward"),
])
def test_update_many_rejects_bad_response_counts(counts, match):
    f = ComprehensivePPOForensics()
    with pytest.raises(ValueError, match=match):
        f.update_many(np.arange(3.0), kl=np.full(3, 0.1), response_reward=np.ones(4),
                      response_length=np.ones(4), response_counts=np.array(counts, dtype=float))
    assert f.total_updates == 0
    with pytest.raises(ValueError, match="response_counts"):
        f.update_many(np.arange(3.0), response_counts=np.ones(3))


def test_pickle_round_trip_continues_identically():
    rng = np.random.default_rng(5)
    f = ComprehensivePPOForensics()
    for i in range(40):
        healthy_step(f, i, rng)
    g = pickle.loads(pickle.dumps(f))
    state = np.random.default_rng(6)
    for i in range(40, 60):
        healthy_step(f, i, state)
    state = np.random.default_rng(6)
    for i in range(40, 60):
        healthy_step(g, i, state)
    assert f.current_metrics.to_dict() == g.current_metrics.to_dict()
    assert f.get_anomalies() == g.get_anomalies()


def test_no_prints(capsys):
    f = ComprehensivePPOForensics()
    f.update(0, 0.1, 0.1, 2.0, 1.0, 0.5)
    f.get_comprehensive_analysis()
    assert capsys.readouterr() == ("", "")


def test_importable_without_heavy_dependencies():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'torch', 'pandas', 'scipy', 'transformers'}:\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import rlforensics\n"
        "from rlforensics.forensics.comprehensive_ppo_forensics import ComprehensivePPOForensics\n"
        "from rlforensics.forensics.ppo_scan import scan_ppo_events\n"
        "f = ComprehensivePPOForensics(); f.update(0, 0.1, 0.1, 1.0, 1.0, 0.1)\n"
        "print(scan_ppo_events([])['version'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def test_review_fixes_comprehensive():
    f = ComprehensivePPOForensics(kl_target=0.1, kl_target_tolerance=0.02)
    # An unreadable value in an event is skipped, not fatal half-way through.
    report = f.scan_ppo_events_comprehensive([{"step": 0, "kl": 0.1}, {"step": 1, "kl": "n/a"}])
    assert report["comprehensive_analysis"]["total_steps"] == 2
    # The length-bias analysis travels with each snapshot (RLDK's 22nd field).
    m = f.update(2, 0.1, response_data=[{"reward": 1.0, "length": 3}, {"reward": 2.0, "length": 5}])
    assert m.length_bias_metrics["valid_sample_count"] == 2
    assert m.to_dict()["length_bias_metrics"]["response_count"] == 2
    # The batch path wants both response columns or neither.
    with pytest.raises(ValueError, match="response_reward"):
        f.update_many(np.arange(3.0), response_reward=np.ones(3))
    off = ComprehensivePPOForensics(enable_length_bias_detection=False)
    assert off.update(0, 0.1).length_bias_metrics is None


def test_batch_keeps_the_same_capped_history_as_per_step_updates():
    """The batch path skips snapshots a capped history would drop; what remains is the same."""
    from rlforensics import AdvantageStatisticsTracker, GradientNormsAnalyzer, KLScheduleTracker

    rng = np.random.default_rng(5)
    n = 57
    steps = np.arange(n, dtype=float)
    kl = 0.1 + 0.01 * rng.standard_normal(n)
    coef = 0.2 * np.exp(np.cumsum(0.01 * rng.standard_normal(n)))
    pg, vg = np.abs(rng.normal(1, 0.1, n)), np.abs(rng.normal(2, 0.1, n))
    am, asd = rng.normal(0, 0.01, n), np.abs(rng.normal(1, 0.02, n))
    pairs = [
        (lambda: KLScheduleTracker(history_size=7), lambda t: t.update_many(steps, kl, coef),
         lambda t, i: t.update(steps[i], kl[i], coef[i])),
        (lambda: GradientNormsAnalyzer(history_size=7), lambda t: t.update_many(steps, pg, vg),
         lambda t, i: t.update(steps[i], pg[i], vg[i])),
        (lambda: AdvantageStatisticsTracker(history_size=7), lambda t: t.update_many(steps, am, asd),
         lambda t, i: t.update(steps[i], am[i], asd[i])),
        (lambda: ComprehensivePPOForensics(history_size=7),
         lambda t: t.update_many(steps, kl=kl, kl_coef=coef, policy_grad_norm=pg, value_grad_norm=vg,
                                 advantage_mean=am, advantage_std=asd),
         lambda t, i: t.update(steps[i], kl[i], coef[i], policy_grad_norm=pg[i], value_grad_norm=vg[i],
                               advantage_mean=am[i], advantage_std=asd[i])),
    ]
    for make, batch, step in pairs:
        a, b = make(), make()
        for i in range(3):  # earlier snapshots that both must drop
            step(a, i)
            step(b, i)
        batch(a)
        for i in range(n):
            step(b, i)
        history = "comprehensive_metrics_history" if hasattr(a, "comprehensive_metrics_history") else "metrics_history"
        ha = [m.to_dict() for m in getattr(a, history)]
        hb = [m.to_dict() for m in getattr(b, history)]
        assert len(ha) == len(hb) == 7
        assert repr(ha) == repr(hb)  # repr: NaN-safe equality
        if history == "metrics_history":
            assert repr(a.current_metrics.to_dict()) == repr(b.current_metrics.to_dict())
