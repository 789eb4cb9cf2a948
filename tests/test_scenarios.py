"""Scenario generator: determinism, shapes per family, and faults that start at their onset."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rlforensics.testing import SCENARIOS, Scenario, fault_names, generate, healthy_names

PPO_COLUMNS = {
    "kl", "kl_coef", "entropy", "reward_mean", "reward_std", "policy_grad_norm",
    "value_grad_norm", "total_grad_norm", "advantage_mean", "advantage_std",
    "response_length",
}
GRPO_COLUMNS = {"kl", "entropy", "reward_mean", "reward_std", "total_grad_norm", "response_length"}
BATCH = 16


def onset_index(s: Scenario) -> int:
    assert s.onset_step is not None
    i = int(np.searchsorted(s.steps, s.onset_step))
    assert s.steps[i] == s.onset_step
    return i


def test_names_split_into_healthy_and_faults():
    assert set(healthy_names()) | set(fault_names()) == set(SCENARIOS)
    assert not set(healthy_names()) & set(fault_names())
    assert set(healthy_names()) == {"healthy_ppo_adaptive", "healthy_ppo_fixed", "healthy_grpo"}
    assert len(fault_names()) == 9


@pytest.mark.parametrize("name", SCENARIOS)
def test_same_seed_same_run_other_seed_other_run(name):
    a, b, c = generate(name, 3), generate(name, 3), generate(name, 4)
    assert a.onset_step == b.onset_step and a.params == b.params
    assert a.columns.keys() == b.columns.keys() == c.columns.keys()
    for k in a.columns:
        np.testing.assert_array_equal(a.columns[k], b.columns[k])
        fixed = np.ptp(a.columns[k]) == 0  # the fixed coefficient is a config value
        assert fixed or not np.array_equal(a.columns[k], c.columns[k], equal_nan=True), k


@pytest.mark.parametrize("name", SCENARIOS)
def test_shapes_keys_and_labels(name):
    s = generate(name, 1, n_steps=400)
    assert s.name == name and s.seed == 1 and s.n_steps == 400
    assert set(s.columns) == (PPO_COLUMNS if s.family == "ppo" else GRPO_COLUMNS)
    assert s.steps.shape == (400,) and s.steps.dtype == np.float64
    assert np.all(np.diff(s.steps) == (1.0 if s.family == "ppo" else 10.0))
    for k, v in s.columns.items():
        assert v.shape == (400,) and v.dtype == np.float64, k
    r = s.responses
    assert r.lengths.shape == r.rewards.shape == (400, BATCH)
    assert np.all(r.lengths > 0) and np.all(np.isfinite(r.rewards))
    # A logged response_length is the mean of its batch's lengths, up to the sampling spread.
    ratio = r.lengths.mean(axis=1) / s.columns["response_length"]
    assert 0.75 < np.median(ratio) < 1.25
    if s.fault is None:
        assert s.onset_step is None and s.expected == ()
    else:
        i = onset_index(s)
        assert 0.4 * 400 <= i <= 0.6 * 400
        assert s.expected and all(isinstance(t, str) for t in s.expected)


@pytest.mark.parametrize("name", SCENARIOS)
def test_nan_only_where_injected(name):
    for seed in range(3):
        s = generate(name, seed)
        for k, v in s.columns.items():
            bad = ~np.isfinite(v)
            if name == "nan_injection" and k in {"kl", "policy_grad_norm", "total_grad_norm"}:
                i = onset_index(s)
                assert np.isnan(v[i]) and 3 <= bad.sum() <= 6 and not bad[:i].any(), k
            else:
                assert not bad.any(), (name, k)


def test_healthy_scales_are_realistic():
    ppo, grpo = generate("healthy_ppo_adaptive", 0), generate("healthy_grpo", 0)
    settled = ppo.columns["kl"][200:]
    assert np.mean(np.abs(settled - 0.1) <= 0.05) > 0.9  # the controller holds the band
    assert np.ptp(ppo.columns["kl_coef"]) > 0  # ...by moving the coefficient
    assert np.ptp(generate("healthy_ppo_fixed", 0).columns["kl_coef"]) == 0
    kl = grpo.columns["kl"]
    assert kl[0] == 0.0 and 5e-4 < np.median(kl) < 2e-2  # per-token k3 KL
    assert np.median(kl[-100:]) > 2 * np.median(kl[10:110])  # grows slowly
    g = grpo.columns["total_grad_norm"]
    assert 0.1 < np.median(g) < 1.0 and np.std(g) > 0
    r = grpo.columns["reward_mean"]
    assert r[-200:].mean() > r[:50].mean() + 0.05  # reward rises...
    assert abs(r[-200:-100].mean() - r[-100:].mean()) < 0.05  # ...then plateaus
    e = grpo.columns["entropy"]
    assert e[-100:].mean() < e[:100].mean()


def test_fault_rows_before_onset_equal_the_healthy_run():
    for name in fault_names():
        s, h = generate(name, 7), generate("healthy_ppo_adaptive", 7)
        i = onset_index(s)
        for k in s.columns:
            np.testing.assert_array_equal(s.columns[k][:i], h.columns[k][:i], err_msg=f"{name}.{k}")
        changed = [k for k in s.columns if not np.array_equal(s.columns[k], h.columns[k], equal_nan=True)]
        assert changed, name


def pre_post(s: Scenario, col: str, skip: int = 0) -> tuple[np.ndarray, np.ndarray]:
    i = onset_index(s)
    v = s.columns[col]
    return v[max(0, i - 200) : i], v[i + skip :]


@pytest.mark.parametrize("seed", range(3))
def test_fault_statistics_change_as_labelled(seed):
    g = lambda name: generate(name, seed)  # noqa: E731

    pre, post = pre_post(g("kl_blowup"), "kl", 1)
    assert np.median(post[-100:]) > 20 * np.median(pre)
    growth = np.log(post[: post.size // 3])
    assert np.polyfit(np.arange(growth.size), growth, 1)[0] > 0.005  # exponential growth

    s = g("controller_oscillation")
    pre, post = pre_post(s, "kl_coef", 50)
    assert np.std(np.log(post)) > 3 * np.std(np.log(pre))
    pre, post = pre_post(s, "kl", 50)
    assert np.mean(np.abs(post - 0.1) > 0.05) > 3 * np.mean(np.abs(pre - 0.1) > 0.05) + 0.1

    s = g("controller_stuck")
    i = onset_index(s)
    assert np.all(s.columns["kl_coef"][i:] == s.columns["kl_coef"][i])
    assert np.ptp(s.columns["kl_coef"][i - 100 : i]) > 0
    assert np.mean(np.abs(s.columns["kl"][i + 200 :] - 0.1) > 0.05) > 0.6  # out of band

    for name, factor in (("gradient_explosion", 100.0), ("vanishing_gradients", 0.01)):
        s = g(name)
        for col in ("policy_grad_norm", "value_grad_norm", "total_grad_norm"):
            pre, post = pre_post(s, col)
            ratio = np.median(post) / np.median(pre)
            assert (ratio > factor / 2) if factor > 1 else (ratio < factor * 2), (name, col, ratio)

    pre, post = pre_post(g("advantage_bias"), "advantage_mean")
    assert abs(np.mean(pre)) < 0.05 and 0.18 < np.mean(post) < 0.55

    s = g("advantage_scale_collapse")
    pre, post = pre_post(s, "advantage_std")
    assert np.median(post[-100:]) < 0.02 * np.median(pre)

    s = g("length_bias")
    i = onset_index(s)
    ln = s.columns["response_length"]
    assert ln[-100:].mean() > 1.3 * ln[i - 100 : i].mean()
    assert s.columns["reward_mean"][-100:].mean() > s.columns["reward_mean"][i - 100 : i].mean() + 0.05
    lengths, rewards = s.responses.lengths, s.responses.rewards

    def within_batch_r(rows: slice) -> float:
        """Correlation of length and reward across the responses of the rows' batches,
        each batch centred (a shared drift of the means does not count)."""
        dl = lengths[rows] - lengths[rows].mean(axis=1, keepdims=True)
        dr = rewards[rows] - rewards[rows].mean(axis=1, keepdims=True)
        return float(np.corrcoef(dl.ravel(), dr.ravel())[0, 1])

    # Each response is paid for its own length from the onset, the batches before it not.
    assert within_batch_r(slice(i, i + 20)) > 0.6
    assert abs(within_batch_r(slice(i - 300, i))) < 0.2
    # Rows before the onset are the healthy run's, batches included.
    h = g("healthy_ppo_adaptive")
    np.testing.assert_array_equal(h.responses.rewards[:i], rewards[:i])
    np.testing.assert_array_equal(h.responses.lengths[:i], lengths[:i])


@pytest.mark.parametrize("name", ["healthy_ppo_adaptive", "healthy_grpo", "nan_injection"])
def test_rows_and_events_agree_with_columns(name):
    s = generate(name, 2, n_steps=300)
    rows, events = list(s.rows()), list(s.events())
    assert len(rows) == len(events) == 300
    for i, (r, e) in enumerate(zip(rows, events)):
        assert set(r) == {"step", "response_data", *s.columns} and r.keys() == e.keys()
        assert r["step"] == s.steps[i]
        for k, v in s.columns.items():
            same = (math.isnan(r[k]) and math.isnan(v[i])) or r[k] == v[i]
            assert same and (math.isnan(e[k]) or e[k] == r[k]), (i, k)
        assert r["response_data"] == {
            "rewards": s.responses.rewards[i].tolist(),
            "response_lengths": s.responses.lengths[i].tolist(),
        }


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown scenario"):
        generate("no_such_run")
    with pytest.raises(ValueError, match="n_steps"):
        generate("healthy_grpo", n_steps=10)
    assert generate("healthy_grpo").n_steps == 1200 and generate("kl_blowup").n_steps == 1500
