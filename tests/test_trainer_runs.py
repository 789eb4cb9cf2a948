"""TRL-shaped labelled runs: determinism, TRL 1.16 key sets, batch-statistic invariants, faults
that start at their onset and visibly change their signal, and writers that round-trip through
``read_run``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from helpers import load_bench
from hypothesis import given, settings
from hypothesis import strategies as st

from rlforensics import read_run
from rlforensics.testing.trainer_runs import (
    TRAINER_SCENARIOS,
    TrainerRun,
    generate_trainer_run,
    trainer_fault_names,
    trainer_healthy_names,
)

REWARDS = ("format_reward", "accuracy_reward")
KEYS = {
    "loss", "grad_norm", "learning_rate", "num_tokens", "completions/mean_length",
    "completions/min_length", "completions/max_length", "completions/clipped_ratio",
    "completions/mean_terminated_length", "completions/min_terminated_length",
    "completions/max_terminated_length", "reward", "reward_std", "frac_reward_zero_std",
    "entropy", "clip_ratio/low_mean", "clip_ratio/low_min", "clip_ratio/high_mean",
    "clip_ratio/high_max", "clip_ratio/region_mean", "step_time", "epoch",
    *(f"rewards/{f}/{s}" for f in REWARDS for s in ("mean", "std")),
}  # fmt: skip
FRACTIONS = (
    "completions/clipped_ratio", "frac_reward_zero_std", "clip_ratio/low_mean", "clip_ratio/low_min",
    "clip_ratio/high_mean", "clip_ratio/high_max", "clip_ratio/region_mean",
    *(f"rewards/{f}/mean" for f in REWARDS),
)  # fmt: skip

names = st.sampled_from(TRAINER_SCENARIOS)
seeds = st.integers(0, 2**32 - 1)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bitwise equal, NaN where the other is NaN."""
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def onset(r: TrainerRun) -> int:
    assert r.onset_step is not None
    i = int(np.searchsorted(r.steps, r.onset_step))
    assert r.steps[i] == r.onset_step
    return i


def healthy_twin(r: TrainerRun) -> TrainerRun:
    """The healthy run a fault scenario is built on: same seed, trainer and kl logging."""
    name = "rloo_healthy" if r.trainer == "rloo" else "grpo_healthy_beta" if "kl" in r.columns else "grpo_healthy"
    return generate_trainer_run(name, r.seed, r.n_rows)


def test_names_split_into_healthy_and_faults() -> None:
    assert set(trainer_healthy_names()) == {"grpo_healthy", "grpo_healthy_beta", "rloo_healthy"}
    assert set(trainer_healthy_names()) | set(trainer_fault_names()) == set(TRAINER_SCENARIOS)
    assert not set(trainer_healthy_names()) & set(trainer_fault_names())
    assert len(TRAINER_SCENARIOS) == 15


def test_rejects_unknown_names_and_short_runs() -> None:
    with pytest.raises(ValueError, match="unknown"):
        generate_trainer_run("grpo_nope")
    with pytest.raises(ValueError, match="200"):
        generate_trainer_run("grpo_healthy", n_rows=199)
    assert generate_trainer_run("grpo_healthy", n_rows=200).n_rows == 200


@settings(max_examples=10, deadline=None)
@given(names, seeds)
def test_same_seed_same_run(name: str, seed: int) -> None:
    a, b = generate_trainer_run(name, seed, 200), generate_trainer_run(name, seed, 200)
    assert list(a.columns) == list(b.columns)
    assert all(same(a.columns[k], b.columns[k]) for k in a.columns)
    assert a.params == b.params and a.onset_step == b.onset_step and a.expected == b.expected
    other = generate_trainer_run(name, seed + 1, 200)
    assert not same(a.columns["reward"], other.columns["reward"])


@pytest.mark.parametrize("name", TRAINER_SCENARIOS)
def test_key_sets_follow_trl_1_16(name: str) -> None:
    r = generate_trainer_run(name, 3)
    kl = r.trainer == "rloo" or name in ("grpo_healthy_beta", "grpo_kl_blowup", "grpo_reward_hacking")
    assert set(r.columns) == KEYS | ({"kl"} if kl else set())
    assert r.trainer == ("rloo" if name.startswith("rloo") else "grpo")
    assert (r.fault is None) == (r.onset_step is None) == (r.expected == ()) == (name in trainer_healthy_names())
    np.testing.assert_array_equal(r.steps, np.arange(1, r.n_rows + 1))
    assert all(v.dtype == np.float64 and v.shape == (r.n_rows,) for v in r.columns.values())


@settings(max_examples=12, deadline=None)
@given(names, seeds)
def test_batch_statistics_are_consistent(name: str, seed: int) -> None:
    r = generate_trainer_run(name, seed, 240)
    c, p = r.columns, r.params
    P, G, cap = p["prompts_per_step"], p["num_generations"], p["max_completion_length"]
    for k in FRACTIONS:
        assert np.all((c[k] >= 0.0) & (c[k] <= 1.0)), k
    # Group and completion fractions are counts over P groups / P * G completions.
    for k, m in (("frac_reward_zero_std", P), ("completions/clipped_ratio", P * G)):
        np.testing.assert_allclose(c[k] * m, np.round(c[k] * m), atol=1e-9, err_msg=k)
    total = c["rewards/format_reward/mean"] + c["rewards/accuracy_reward/mean"]
    np.testing.assert_allclose(c["reward"], total, rtol=0, atol=1e-9)
    assert np.all(c["reward_std"] >= 0) and np.all(c["reward_std"] <= 2.0)
    assert np.all(c["reward_std"][c["frac_reward_zero_std"] == 1.0] == 0.0)
    lo, mean, hi = c["completions/min_length"], c["completions/mean_length"], c["completions/max_length"]
    assert np.all((1 <= lo) & (lo <= mean) & (mean <= hi) & (hi <= cap))
    clipped = c["completions/clipped_ratio"]
    assert np.all((clipped > 0) == (hi == cap))
    tlo, tmean, thi = (c[f"completions/{s}_terminated_length"] for s in ("min", "mean", "max"))
    done = clipped < 1.0
    assert np.all((tlo[done] <= tmean[done]) & (tmean[done] <= thi[done]) & (thi[done] < cap))
    assert np.all((tlo[~done] == 0) & (tmean[~done] == 0) & (thi[~done] == 0))
    # The overall mean mixes the truncated (at the cap) and the terminated completions.
    np.testing.assert_allclose(mean, clipped * cap + (1 - clipped) * tmean, rtol=1e-12)
    assert np.all(np.diff(c["num_tokens"]) > 0) and np.all(np.diff(c["epoch"]) > 0)
    assert np.all(c["clip_ratio/low_min"] <= c["clip_ratio/low_mean"] + 1e-15)
    assert np.all(c["clip_ratio/high_max"] >= c["clip_ratio/high_mean"] - 1e-15)
    np.testing.assert_allclose(c["clip_ratio/region_mean"], c["clip_ratio/low_mean"] + c["clip_ratio/high_mean"], atol=1e-12)
    assert np.all(c["learning_rate"] >= 0) and np.all(c["step_time"] > 0) and np.all(c["entropy"] > 0)
    assert np.all(np.isfinite(c["loss"]))
    if "kl" in c:
        assert c["kl"][0] == 0.0
        if r.trainer == "grpo":
            assert np.all(c["kl"] >= 0.0)  # k3 is non-negative; RLOO's k1 need not be


@pytest.mark.parametrize("name", trainer_healthy_names())
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_healthy_runs_look_healthy(name: str, seed: int) -> None:
    c = generate_trainer_run(name, seed).columns
    first, last = slice(0, 30), slice(-30, None)
    assert c["reward"][last].mean() > c["reward"][first].mean()  # learning
    assert c["entropy"][last].mean() > 0.5 * c["entropy"][first].mean()  # loses < 50 %
    assert c["completions/clipped_ratio"].mean() < 0.1
    frac = c["frac_reward_zero_std"][60:].mean()
    assert 0.02 < frac < 0.6
    assert np.all(np.isfinite(c["grad_norm"])) and 0.05 < np.median(c["grad_norm"]) < 3.0
    if "kl" in c:
        assert abs(c["kl"][1:20].mean()) < c["kl"][last].mean() < 0.2


@pytest.mark.parametrize("name", trainer_fault_names())
@pytest.mark.parametrize("seed", [0, 7])
def test_rows_before_onset_match_the_healthy_run(name: str, seed: int) -> None:
    r = generate_trainer_run(name, seed)
    base = healthy_twin(r)
    i0 = onset(r)
    assert 0.4 * r.n_rows <= i0 <= 0.6 * r.n_rows
    assert list(r.columns) == list(base.columns)
    for k, v in r.columns.items():
        assert same(v[:i0], base.columns[k][:i0]), k
    # ... and the fault takes effect from the onset on (a gradual fault may need a few rows
    # before a sampled completion flips).
    after = slice(i0, i0 + 10)
    assert any(not same(v[after], base.columns[k][after]) for k, v in r.columns.items())


def _before(v: np.ndarray, i0: int) -> float:
    return float(np.mean(v[i0 - 50 : i0]))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("name", trainer_fault_names())
def test_fault_visibly_changes_its_signal(name: str, seed: int) -> None:
    r = generate_trainer_run(name, seed)
    c, i0, p = r.columns, onset(r), r.params
    late = slice(i0 + 60, None)
    if r.fault in ("kl_blowup", "reward_hacking"):
        assert c["kl"][late].max() > 20 * _before(c["kl"], i0)
        if r.fault == "reward_hacking":
            assert c["reward"][late].mean() > _before(c["reward"], i0) + 0.1
    elif r.fault == "grad_explosion":
        assert np.median(c["grad_norm"][late]) > 100 * np.median(c["grad_norm"][i0 - 50 : i0])
    elif r.fault == "grad_collapse":
        assert np.median(c["grad_norm"][i0 + 6 :]) < 2e-2 * np.median(c["grad_norm"][i0 - 50 : i0])
    elif r.fault == "entropy_collapse":
        assert c["entropy"][i0 + 20 :].max() < 0.1 * _before(c["entropy"], i0)
        assert np.all(np.isfinite(c["reward"]))
    elif r.fault == "policy_collapse":
        after = slice(i0 + 14, None)
        assert c["entropy"][after].max() < 0.03 * _before(c["entropy"], i0)
        assert np.all(c["frac_reward_zero_std"][after] == 1.0) and np.all(c["reward_std"][after] == 0.0)
        assert c["grad_norm"][after].max() < 0.03 * _before(c["grad_norm"], i0)
    elif r.fault == "starvation":
        assert c["frac_reward_zero_std"][late].mean() > 0.85
        assert c["reward_std"][late].mean() < 0.3 * _before(c["reward_std"], i0)
        assert c["entropy"][late].mean() > 0.5 * _before(c["entropy"], i0)  # entropy unaffected
    elif r.fault == "truncation_saturation":
        assert c["completions/clipped_ratio"][i0 + 35 :].mean() > 0.5
        assert c["completions/mean_length"][i0 + 35 :].mean() > 0.8 * p["max_completion_length"]
    elif r.fault == "length_hacking":
        assert c["completions/mean_length"][late].mean() > 1.25 * _before(c["completions/mean_length"], i0)
        acc = c["rewards/accuracy_reward/mean"]
        assert acc[late].mean() > _before(acc, i0) + 0.05
    elif r.fault == "component_divergence":
        up, down = ("accuracy_reward", "format_reward") if p["accuracy_rises"] else REWARDS
        rising, falling = c[f"rewards/{up}/mean"], c[f"rewards/{down}/mean"]
        assert rising[-50:].mean() > _before(rising, i0) + 0.01
        assert falling[-50:].mean() < _before(falling, i0) - 0.1
        tail = slice(i0, None)
        assert np.polyfit(np.arange(rising[tail].size), rising[tail], 1)[0] > 0
    elif r.fault == "nan_grad":
        assert np.all(np.isnan(c["grad_norm"][i0:])) and np.all(np.isfinite(c["grad_norm"][:i0]))
        assert np.all(np.isfinite(c["loss"]))
    else:  # pragma: no cover - a new fault needs a check here
        pytest.fail(f"no check for {r.fault}")


def test_entries_and_log_history_match_trainer_log() -> None:
    r = generate_trainer_run("grpo_nan_grad", 5, 220)
    entries, history = list(r.entries()), r.log_history()
    assert len(entries) == len(history) == r.n_rows
    assert all("step" not in e and set(e) == set(r.columns) for e in entries)
    assert [h["step"] for h in history] == list(range(1, r.n_rows + 1))
    assert all(type(h["step"]) is int for h in history)
    assert all(type(v) is float for k, v in history[0].items() if k != "step")
    i0 = onset(r)
    assert math.isnan(entries[i0]["grad_norm"]) and entries[i0]["epoch"] == r.columns["epoch"][i0]


@pytest.mark.parametrize("name", ["grpo_nan_grad", "rloo_kl_blowup", "grpo_healthy"])
def test_writers_round_trip_through_read_run(name: str, tmp_path) -> None:
    r = generate_trainer_run(name, 11, 210)
    jsonl = tmp_path / "log_history.jsonl"
    r.write_jsonl(jsonl)
    state = tmp_path / "ckpt"
    path = r.write_trainer_state(state)
    text = (state / "trainer_state.json").read_text(encoding="utf-8")
    assert path == str(state / "trainer_state.json")
    if name == "grpo_nan_grad":
        assert '"grad_norm": NaN' in text  # bare tokens, as Python's json writes them
    doc = json.loads(text)
    assert doc["global_step"] == doc["max_steps"] == r.n_rows and doc["logging_steps"] == 1
    assert list(doc) == sorted(doc)
    for src in (jsonl, state):
        run = read_run(src)
        np.testing.assert_array_equal(run.steps, r.steps)
        assert set(run.columns) == set(r.columns)
        for k, v in r.columns.items():
            assert same(run.columns[k], v), (src, k)
            assert run.train.present[k].all(), (src, k)


def test_evidence_study_measures_shifts_against_the_pre_onset_line():
    study = load_bench("study_trainer_evidence")
    rng = np.random.default_rng(4)
    trend = 0.05 * np.arange(300.0)
    y = trend + rng.standard_normal(300)
    # A trend that just goes on is no evidence; a 3-sd shift at row 200 is, about
    # 3 / sqrt(1/20 + 1/100) = 12 standard errors.
    assert abs(study.shift_t(y, 200, 20)) < 3.0
    y[200:] += 3.0
    assert 8.0 < study.shift_t(y, 200, 20) < 17.0
    run = generate_trainer_run("grpo_component_divergence", 0)
    assert study.directions("grpo_component_divergence", run.params) in ([1, -1], [-1, 1])
