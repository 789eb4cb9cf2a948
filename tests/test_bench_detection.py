"""The detection benchmark's scoring rules (benches/bench_detection.py) and its smoke run."""

from __future__ import annotations

import json

import pytest
from helpers import load_bench

from rlforensics.testing import SCENARIOS, generate


@pytest.fixture(scope="module")
def bench():
    return load_bench("bench_detection")


def ev(kind: str, first: float, last: float | None = None, severity: str = "warning") -> dict:
    return {"type": kind, "severity": severity, "first_step": first,
            "last_step": first if last is None else last}


def test_fault_run_scoring(bench):
    s = generate("gradient_explosion", 0, n_steps=200)
    onset = s.onset_step
    assert onset is not None
    events = [
        ev("exploding_gradient_anomaly", onset - 20, onset + 50, "critical"),  # open at onset
        ev("change_point_anomaly", onset - 5),
        ev("gradient_flow_anomaly", onset + 7),
        ev("adaptive_explosion_anomaly", onset + 3),
        ev("kl_trend_anomaly", onset + 1),  # not an expected type: no detection
    ]
    r = bench.score(s, events, 0.5)
    assert r["detected"] and r["delay_steps"] == 3 and r["first_hit_type"] == "adaptive_explosion_anomaly"
    assert r["delay_by_type"] == {"gradient_flow_anomaly": 7, "adaptive_explosion_anomaly": 3}
    assert r["false_alarms"] == 2 and r["critical_false_alarms"] == 1
    assert r["masked"] == ["exploding_gradient_anomaly"]
    assert r["clean_rows"] == int(onset) - 1  # PPO steps are 1, 2, ...


def test_healthy_run_scoring(bench):
    s = generate("healthy_grpo", 0, n_steps=200)
    r = bench.score(s, [ev("target_range_anomaly", 10.0, 2000.0, "critical")], 0.1)
    assert not r["detected"] and r["delay_steps"] is None
    assert r["false_alarms"] == r["critical_false_alarms"] == 1 and r["clean_rows"] == 200
    agg = bench.aggregate([r], {"healthy_grpo": ()})
    row = agg["scenarios"]["healthy_grpo"]
    assert row["recall"] is None and row["fa_per_10k"] == pytest.approx(50.0)
    assert agg["anomaly_types"]["target_range_anomaly"]["healthy_critical"] == 1


def test_quick_run_writes_every_scenario(bench, tmp_path, capsys):
    out = tmp_path / "d.json"
    assert bench.main(["--quick", "--detector", "trackers", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data["scenarios"]) == set(SCENARIOS) and len(data["runs"]) == len(SCENARIOS)
    # Faults the current trackers see at all: the NaNs are caught at their onset.
    assert data["scenarios"]["nan_injection"]["recall"] == 1.0
    assert data["scenarios"]["nan_injection"]["median_delay_steps"] == 0
    assert "| scenario | recall |" in capsys.readouterr().out
