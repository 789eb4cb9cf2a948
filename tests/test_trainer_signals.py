"""The trainer-signal rules (GRPO/RLOO-era signals) through the Python surface: per-step ==
batch, the live forensics, the TRL monitor and the scanner agree, and the diagnosis links
events by onset."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rlforensics
from rlforensics import ComprehensivePPOForensics, TrainerSignalsTracker
from rlforensics.forensics.diagnosis import diagnose, event_name
from rlforensics.integrations.trl._entries import KeyMap
from rlforensics.testing import generate_trainer_run, trainer_healthy_names

ROWS = 300


def _cols(run: Any) -> dict[str, Any]:
    c = run.columns
    comps = {k[len("rewards/"):-len("/mean")]: c[k] for k in c if k.startswith("rewards/") and k.endswith("/mean")}
    return {
        "kl": c.get("kl"),
        "entropy": c["entropy"],
        "reward_mean": c["reward"],
        "reward_std": c["reward_std"],
        "grad_norm": c["grad_norm"],
        "frac_reward_zero_std": c["frac_reward_zero_std"],
        "truncation_rate": c["completions/clipped_ratio"],
        "response_length_mean": c["completions/mean_length"],
        "reward_components": comps,
    }


def _signature(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["type"], e["severity"], e["first_step"], e["last_step"]) for e in events]


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), name=st.sampled_from(["grpo_kl_blowup", "grpo_policy_collapse", "rloo_healthy"]))
def test_per_step_equals_batch(seed: int, name: str) -> None:
    run = generate_trainer_run(name, seed, n_rows=ROWS)
    cols = _cols(run)
    a = TrainerSignalsTracker("token_mean")
    a.update_many(run.steps, **cols)
    b = TrainerSignalsTracker("token_mean")
    for i, step in enumerate(run.steps.tolist()):
        b.update(
            step, **{k: (None if v is None else float(v[i])) for k, v in cols.items() if k != "reward_components"},
            reward_components={k: float(v[i]) for k, v in cols["reward_components"].items()},
        )
    assert _signature(a.get_anomalies()) == _signature(b.get_anomalies())
    assert a.scores() == b.scores()
    assert pickle.loads(pickle.dumps(a)).scores() == a.scores()
    assert copy.deepcopy(a).get_anomalies() == a.get_anomalies()


@pytest.mark.parametrize("name", trainer_healthy_names())
def test_healthy_runs_have_no_critical_event(name: str) -> None:
    for seed in range(3):
        run = generate_trainer_run(name, seed)
        t = TrainerSignalsTracker("token_mean")
        t.update_many(run.steps, **_cols(run))
        crit = [e for e in t.get_anomalies() if e["severity"] == "critical"]
        assert crit == [], (name, seed, crit)
        s = t.scores()
        assert s["health"] is not None and s["health"] > 0.5, s


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("grpo_grad_collapse", "grad_norm_collapse"),
        ("grpo_entropy_collapse", "entropy_collapse"),
        ("grpo_truncation_saturation", "truncation_saturation"),
        ("grpo_kl_blowup", "kl_spike"),
        ("grpo_nan_grad", "non_finite_grad_norm"),
    ],
)
def test_faults_are_caught_soon_after_onset(name: str, kind: str) -> None:
    run = generate_trainer_run(name, 0)
    t = TrainerSignalsTracker("token_mean")
    t.update_many(run.steps, **_cols(run))
    first = [e["first_step"] for e in t.get_anomalies() if e["type"] == kind]
    assert first, [e["type"] for e in t.get_anomalies()]
    assert run.onset_step <= first[0] <= run.onset_step + 20


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="kl_scale"):
        TrainerSignalsTracker("nats")
    with pytest.raises(ValueError, match="checked"):
        TrainerSignalsTracker(checked=["loss"])
    with pytest.raises(TypeError, match="entropy"):
        TrainerSignalsTracker().update(1, entropy=[1.0])
    f = ComprehensivePPOForensics()
    with pytest.raises(ValueError, match="enable_trainer_signals"):
        f.update(1, kl=0.1, frac_reward_zero_std=0.5)
    assert f.total_updates == 0  # refused whole, not half-applied


def test_live_forensics_monitor_path_and_diagnosis() -> None:
    run = generate_trainer_run("grpo_grad_collapse", 1)
    keys = KeyMap()
    f: ComprehensivePPOForensics | None = None
    for step, entry in zip(run.steps.tolist(), run.entries()):
        inputs = keys.all_inputs(entry)
        if f is None:
            f = ComprehensivePPOForensics(enable_kl_schedule_tracking=False, enable_trainer_signals=True,
                                          kl_scale=keys.kl_scale)
        f.update(step, **inputs)
    assert f is not None and keys.kl_scale == "token_mean"
    assert f.trainer_signals is not None
    assert sorted(f.trainer_signals.reward_components) == ["accuracy_reward", "format_reward"]
    events = f.get_anomalies()
    assert any(e["tracker"] == "signals" and e["type"] == "grad_norm_collapse" for e in events)
    d = f.get_diagnosis()
    assert [x["event"]["first_step"] for x in d] == sorted(e["first_step"] for e in events)
    summary = f.get_health_summary()
    assert summary["status"] == "critical" and summary["overall_health_score"] is not None
    analysis = f.get_comprehensive_analysis()
    assert analysis["trackers"]["trainer_signals"]["kl_scale"] == "token_mean"
    assert analysis["diagnosis"] == [x["summary"] for x in d]
    # The first cause: the root of the earliest critical event, as the scanner picks it.
    critical = [x for x in d if x["event"]["severity"] == "critical"]
    cause = f.first_cause()
    assert critical and cause == critical[0]["root"]
    assert analysis["first_cause"] == event_name(cause)
    back = pickle.loads(pickle.dumps(f))
    assert back.get_anomalies() == events


def test_scanner_raises_the_same_signal_events(tmp_path: Path) -> None:
    run = generate_trainer_run("grpo_truncation_saturation", 2)
    run.write_trainer_state(tmp_path / "run")
    report = rlforensics.scan(tmp_path, progress=False).runs[0]
    scanned = [e for e in report.events if e["tracker"] == "signals"]
    live = TrainerSignalsTracker("token_mean", checked=["frac_reward_zero_std", "truncation_rate",
                                                         "response_length_mean", "reward_component", "kl"])
    live.update_many(run.steps, **_cols(run))
    assert _signature(scanned) == _signature(sorted(live.get_anomalies(), key=lambda e: e["first_step"]))
    assert any(e["type"] == "truncation_saturation" for e in scanned)
    assert report.diagnosis and report.first_causes()


def test_diagnosis_names_the_first_cause() -> None:
    events = [
        {"type": "kl_spike", "first_step": 61, "last_step": 64},
        {"type": "grad_norm_explosion", "first_step": 27, "last_step": 58},
        {"type": "entropy_collapse", "first_step": 900, "last_step": 950},
        {"type": "grad_norm_spike", "first_step": 20, "last_step": 20},  # long over by 61
    ]
    d = diagnose(events, 50.0)
    assert [x["summary"] for x in d] == [
        "grad_norm_spike at 20",
        "grad_norm_explosion at 27, preceded by grad_norm_spike at 20",
        "kl_spike at 61, preceded by grad_norm_explosion at 27",
        "entropy_collapse at 900",
    ]
    assert d[2]["root"] is events[1]


def test_a_warning_that_comes_and_goes_all_run_is_not_the_first_cause() -> None:
    background = [{"type": "gradient_imbalance_anomaly", "first_step": s, "last_step": s + 20}
                  for s in (5, 44, 97, 217, 320)]
    nan = {"type": "non_finite_kl", "first_step": 339, "last_step": 339}
    d = diagnose([*background, nan], 50.0)
    assert d[-1]["event"] is nan
    assert d[-1]["preceded_by"] == [background[-1]]  # still listed
    assert d[-1]["root"] is nan
    assert d[-1]["summary"] == "non_finite_kl at 339, preceded by gradient_imbalance_anomaly at 320"
    # Seen once before the horizon, it may be a warning sign: still the first cause.
    d = diagnose([background[0], background[-1], nan], 50.0)
    assert d[-1]["root"] is background[-1]


def test_components_past_the_first_sixteen_are_counted_not_dropped_unseen() -> None:
    t = TrainerSignalsTracker()
    for step in range(3):
        t.update(step, reward_components={f"r{i:02d}": 0.5 for i in range(18)})
    assert len(t.reward_components) == 16
    assert t.components_ignored == 2 * 3


def test_live_and_scan_measure_the_horizon_alike_on_an_irregular_log(tmp_path: Path) -> None:
    """Logged every 2 steps, with a pause of 5,000 steps after row 100 and a resume that
    goes back 5,150 steps at row 200: the median gap is still 2, where the mean stride from
    first to last step (what the live horizon used to be) says 1.5."""
    run = generate_trainer_run("grpo_grad_collapse", 3, n_rows=300)
    steps = 2.0 * np.arange(1, 301)
    steps[100:200] += 5_000.0
    steps[200:] -= 150.0
    run = dataclasses.replace(run, steps=steps)
    run.write_jsonl(tmp_path / "run.jsonl")
    report = rlforensics.scan(tmp_path, progress=False).runs[0]
    keys = KeyMap()
    f: ComprehensivePPOForensics | None = None
    for step, entry in zip(steps.tolist(), run.entries()):
        inputs = keys.all_inputs(entry)
        if f is None:
            f = ComprehensivePPOForensics(enable_trainer_signals=True, kl_scale=keys.kl_scale)
        f.update(step, **inputs)
    assert f is not None
    assert f.diagnosis_horizon == report.diagnosis_horizon == 50 * 2.0
    events = f.get_anomalies()
    assert [d["preceded_by"] for d in f.get_diagnosis()] == [
        d["preceded_by"] for d in diagnose([dict(e) for e in events], 100.0)
    ]
    # The batch path and a restored copy keep the same stride.
    g = ComprehensivePPOForensics()
    g.update_many(steps, total_grad_norm=run.columns["grad_norm"])
    assert g.diagnosis_horizon == 100.0
    assert pickle.loads(pickle.dumps(g)).diagnosis_horizon == 100.0
    assert ComprehensivePPOForensics().diagnosis_horizon == 50.0
