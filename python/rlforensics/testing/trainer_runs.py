"""Labelled synthetic TRL 1.16 GRPO/RLOO runs, with the exact keys ``Trainer.log`` passes on.

``generate_trainer_run(name, seed)`` returns a :class:`TrainerRun` whose ``columns`` are keyed
by the metric keys of trl 1.16's ``GRPOTrainer`` (``loss_type="dapo"``) or ``RLOOTrainer``
(log-formats.md §2.3-2.4), logged every optimizer step (``logging_steps=1``) as in the real run
in ../shared/data/trl-grpo-healthy. ``onset_step`` is the logged step at which the fault
starts and ``expected`` lists the anomaly ``type`` strings that correctly describe it.

The generation is modelled rather than painted: each step samples P prompts x G completions
(binary ``format_reward`` and ``accuracy_reward`` per completion, a length per completion
capped at ``max_completion_length``, truncated completions scoring 0), and the completion,
reward and group statistics are computed from those samples the way TRL computes them. So
``frac_reward_zero_std`` is a multiple of 1/P, ``reward`` is the sum of the component means,
and scales and noise are those of a real batch. A fault changes the latent state the samples
are drawn from (see ``_trainer_faults``); the random draws themselves depend on the seed and
trainer only, so rows before the onset equal the healthy run's of the same seed and trainer
(``grpo_healthy_beta`` for GRPO faults that log ``kl``, ``grpo_healthy`` for the others).
"""

from __future__ import annotations

import json
import math
import os
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from rlforensics.testing import _trainer_faults
from rlforensics.testing._signals import Array, ar1, log_uniform, lognoise, saturating, spikes

__all__ = [
    "TRAINER_SCENARIOS",
    "TrainerRun",
    "generate_trainer_run",
    "trainer_fault_names",
    "trainer_healthy_names",
]

Trainer = Literal["grpo", "rloo"]

DEFAULT_ROWS = 600
MIN_ROWS = 200
ONSET_RANGE = (0.4, 0.6)  # onset row drawn uniformly in this fraction of the run
REWARD_FUNCS = ("format_reward", "accuracy_reward")

_KL_JUMP = ("kl_blowup", "kl_spike")

# name -> (trainer, logs kl, fault, expected anomaly types). GRPO's beta defaults to 0 in
# trl >= 0.19, so a GRPO run logs `kl` only when beta was set; RLOO's beta defaults to 0.05.
_SPECS: Mapping[str, tuple[Trainer, bool, str | None, tuple[str, ...]]] = {
    "grpo_healthy": ("grpo", False, None, ()),
    "grpo_healthy_beta": ("grpo", True, None, ()),
    "rloo_healthy": ("rloo", True, None, ()),
    "grpo_kl_blowup": ("grpo", True, "kl_blowup", _KL_JUMP),
    "grpo_grad_explosion": ("grpo", False, "grad_explosion", ("grad_norm_explosion", "grad_norm_spike")),
    "grpo_grad_collapse": ("grpo", False, "grad_collapse", ("grad_norm_collapse",)),
    "grpo_entropy_collapse": ("grpo", False, "entropy_collapse", ("entropy_collapse",)),
    "grpo_policy_collapse": (
        "grpo",
        False,
        "policy_collapse",
        ("policy_collapse", "entropy_collapse", "learning_signal_starvation", "reward_std_collapse",
         "grad_norm_collapse"),
    ),
    "grpo_starvation": ("grpo", False, "starvation", ("learning_signal_starvation", "reward_std_collapse")),
    "grpo_truncation_saturation": ("grpo", False, "truncation_saturation", ("truncation_saturation",)),
    "grpo_length_hacking": ("grpo", False, "length_hacking", ("length_hacking",)),
    "grpo_reward_hacking": ("grpo", True, "reward_hacking", ("reward_hacking", *_KL_JUMP)),
    "grpo_component_divergence": ("grpo", False, "component_divergence", ("reward_component_divergence",)),
    "rloo_kl_blowup": ("rloo", True, "kl_blowup", _KL_JUMP),
    "grpo_nan_grad": ("grpo", False, "nan_grad", ("non_finite_grad_norm", "non_finite_total_grad_norm")),
}

TRAINER_SCENARIOS: tuple[str, ...] = tuple(_SPECS)


def trainer_healthy_names() -> tuple[str, ...]:
    """Scenarios without a fault (every anomaly on them is a false alarm)."""
    return tuple(n for n, s in _SPECS.items() if s[2] is None)


def trainer_fault_names() -> tuple[str, ...]:
    """Scenarios with a fault and a known onset."""
    return tuple(n for n, s in _SPECS.items() if s[2] is not None)


def _key_order(trainer: Trainer, logs_kl: bool) -> tuple[str, ...]:
    """The keys in the order a 1.16 entry carries them: the Trainer's loss/grad_norm/
    learning_rate, then the trainer's averaged metrics, then ``epoch`` (added by Trainer.log)."""
    rewards = tuple(f"rewards/{f}/{s}" for f in REWARD_FUNCS for s in ("mean", "std"))
    return (
        "loss", "grad_norm", "learning_rate", "num_tokens",
        "completions/mean_length", "completions/min_length", "completions/max_length",
        "completions/clipped_ratio", "completions/mean_terminated_length",
        "completions/min_terminated_length", "completions/max_terminated_length",
        *rewards, "reward", "reward_std", "frac_reward_zero_std",
        *(("kl",) if logs_kl else ()),
        "entropy", "clip_ratio/low_mean", "clip_ratio/low_min", "clip_ratio/high_mean",
        "clip_ratio/high_max", "clip_ratio/region_mean", "step_time", "epoch",
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class TrainerRun:
    """One labelled run. ``columns`` are float64 arrays aligned with ``steps`` (1..n)."""

    name: str
    trainer: Trainer
    seed: int
    n_rows: int
    fault: str | None
    onset_step: float | None
    expected: tuple[str, ...]
    steps: Array
    columns: dict[str, Array]
    params: dict[str, float] = field(default_factory=dict)

    def entries(self) -> Iterator[dict[str, float | None]]:
        """One dict per logged step as ``Trainer.log`` hands it to ``on_log``: the metric
        keys plus ``epoch``, without ``step``."""
        names = list(self.columns)
        lists = [self.columns[k].tolist() for k in names]
        for values in zip(*lists):
            yield dict(zip(names, values))

    def log_history(self) -> list[dict[str, Any]]:
        """The entries as ``trainer_state.json``'s ``log_history`` holds them (``step`` an int)."""
        return [{**e, "step": int(s)} for e, s in zip(self.entries(), self.steps.tolist())]

    def write_jsonl(self, path: str | os.PathLike[str]) -> None:
        """One ``log_history`` entry per line (NaN as a bare ``NaN`` token, as ``json`` does)."""
        with open(path, "w", encoding="utf-8") as f:
            for entry in self.log_history():
                f.write(json.dumps(entry) + "\n")

    def write_trainer_state(self, directory: str | os.PathLike[str]) -> str:
        """``<directory>/trainer_state.json`` as ``TrainerState.save_to_json`` writes it (sorted
        keys, 2-space indent); returns the file's path."""
        os.makedirs(directory, exist_ok=True)
        n = self.n_rows
        state: dict[str, Any] = {
            "best_global_step": None,
            "best_metric": None,
            "best_model_checkpoint": None,
            "epoch": float(self.columns["epoch"][-1]),
            "eval_steps": 500,
            "global_step": n,
            "is_hyper_param_search": False,
            "is_local_process_zero": True,
            "is_world_process_zero": True,
            "log_history": self.log_history(),
            "logging_steps": 1,
            "max_steps": n,
            "num_input_tokens_seen": int(self.columns["num_tokens"][-1]),
            "num_train_epochs": math.ceil(float(self.columns["epoch"][-1])),
            "save_steps": 500,
            "total_flos": 0.0,
            "train_batch_size": int(self.params["prompts_per_step"] * self.params["num_generations"]),
            "trial_name": None,
            "trial_params": None,
        }
        path = os.path.join(os.fspath(directory), "trainer_state.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(state, indent=2, sort_keys=True) + "\n")
        return path


def _base(rng: np.random.Generator, n: int, trainer: Trainer) -> tuple[dict[str, Array], dict[str, float], dict[str, Array]]:
    """A healthy run's latent state per row, its configuration, and every random draw the
    sampling needs. The draws are made here, in a fixed order and with fixed shapes, so that
    a fault (which only changes the latent state) cannot shift any other row's randomness."""
    t = np.arange(n, dtype=np.float64)
    frac = t / (n - 1)
    P = int(rng.integers(8, 17))  # prompts per step (per_device_batch x processes / G)
    G = int(rng.choice((8, 16)))  # num_generations
    cap = float(rng.choice((256, 512, 1024, 2048)))  # max_completion_length
    cfg: dict[str, float] = {
        "prompts_per_step": float(P),
        "num_generations": float(G),
        "max_completion_length": cap,
        "kl_k3": float(trainer == "grpo"),
        # beta is drawn for every run (so the draws do not depend on whether kl is logged)
        # and used only by runs that log kl: RLOO's default 0.05, GRPO's old 0.04 or less.
        "beta": 0.05 if trainer == "rloo" else log_uniform(rng, 1e-3, 0.04),
        "steps_per_epoch": float(rng.integers(100, 1500)),
    }

    # Skill: the accuracy logit rises over the first 15-40 % of the run and flattens; prompt
    # difficulties spread it per group, which sets how many groups are all-right/all-wrong.
    rise = saturating(t, rng.uniform(0.15, 0.4) * n)
    a0 = rng.uniform(-2.5, -0.5)
    acc = a0 + rng.uniform(1.0, 3.0) * rise + ar1(rng, n, 0.1, 0.95)
    cfg["difficulty_spread"] = rng.uniform(1.2, 2.4)
    # The answer template is learnt early (p ~ 0.5-0.8 -> 0.95-0.995 within 5-15 % of the run).
    f0, f1 = rng.uniform(0.0, 1.4), rng.uniform(3.0, 5.3)
    fmt = f0 + (f1 - f0) * saturating(t, rng.uniform(0.05, 0.15) * n) + ar1(rng, n, 0.1, 0.9)

    # Log-median completion length at 8-25 % of the cap, drifting by -20..+40 % over the run.
    mu0 = np.log(rng.uniform(0.08, 0.25) * cap)
    len_mu = mu0 + np.log1p(rng.uniform(-0.2, 0.4) * saturating(t, rng.uniform(0.2, 0.6) * n))
    len_mu += ar1(rng, n, 0.04, 0.95)
    cfg["length_sigma_group"] = rng.uniform(0.2, 0.4)  # prompts differ in answer length
    cfg["length_sigma"] = rng.uniform(0.25, 0.45)  # completions of one prompt differ

    # Token entropy from 0.3-3.5 nats, losing 10-45 % over the run (mostly early).
    e0, lose, tau = log_uniform(rng, 0.3, 3.5), rng.uniform(0.1, 0.45), rng.uniform(0.3, 0.8) * n
    shape = saturating(t, tau) / -math.expm1(-(n - 1.0) / tau)  # 0 -> 1 at the last row
    entropy = e0 * (1.0 - lose * shape) * np.exp(ar1(rng, n, 0.03, 0.9)) * lognoise(rng, n, 0.02)

    # Pre-clip gradient norm: level 0.1-2, larger for the first few updates, a slow wander and
    # rare mild bursts (<= 3x).
    grad = (
        log_uniform(rng, 0.1, 2.0)
        * (1.0 + rng.uniform(0.2, 0.8) * np.exp(-t / rng.uniform(3.0, 15.0)))
        * np.exp(ar1(rng, n, 0.1, 0.95))
        * lognoise(rng, n, rng.uniform(0.08, 0.2))
        * spikes(rng, n, rng.uniform(0.003, 0.015), 1.5, 3.0)
    )

    # KL to the reference: 0 at step 1 (policy == reference), growing as a power of progress
    # to 3e-3..0.1 (k3) or 2e-3..0.05 (k1) at the end.
    k_end = log_uniform(rng, 3e-3, 0.1) if trainer == "grpo" else log_uniform(rng, 2e-3, 0.05)
    kl_level = k_end * frac ** rng.uniform(0.6, 1.4) * np.exp(ar1(rng, n, 0.15, 0.95))

    lat = {
        "acc_logit": acc,
        "fmt_logit": fmt,
        "len_mu": len_mu,
        "mode": np.zeros(n),
        "entropy": entropy,
        "grad": grad,
        "kl_level": kl_level,
    }

    # Bookkeeping: learning-rate schedule, prompt lengths, timing, clip ratios.
    cfg["learning_rate"] = log_uniform(rng, 5e-7, 5e-5)
    cfg["schedule"] = float(rng.integers(0, 3))  # 0 constant, 1 linear, 2 cosine
    cfg["warmup_steps"] = float(rng.integers(0, n // 10 + 1)) if rng.random() < 0.5 else 0.0
    cfg["prompt_length"] = rng.uniform(40.0, 300.0)
    cfg["step_time_base"] = log_uniform(rng, 0.5, 5.0)
    cfg["step_time_per_token"] = log_uniform(rng, 5.0, 60.0) / cap
    # Off-policy batches (num_iterations > 1 or steps_per_generation > accumulation) clip a
    # few tokens; on-policy ones have ratio 1 and log exact zeros, like the real run.
    cfg["off_policy"] = float(rng.random() < 0.5)
    cfg["processes"] = float(rng.choice((1, 2, 4, 8)))
    W = int(cfg["processes"])
    cfg["loss_scale"] = rng.uniform(0.05, 0.15)

    draws = {
        "u_fmt": rng.random((n, P, G)),
        "u_acc": rng.random((n, P, G)),
        "u_fmt_group": rng.random((n, P, 1)),
        "u_acc_group": rng.random((n, P, 1)),
        "u_copy": rng.random((n, P, G)),
        "z_len": rng.standard_normal((n, P, G)),
        "z_len_group": rng.standard_normal((n, P, 1)),
        "difficulty": rng.standard_normal((n, P, 1)),
        "prompt_len": np.exp(0.3 * rng.standard_normal((n, P))),
        "kl_noise": lognoise(rng, n, rng.uniform(0.1, 0.25)),
        "k1_noise": rng.standard_normal(n),
        "loss_noise": rng.standard_normal(n),
        "time_noise": lognoise(rng, n, 0.05),
        "clip_low": log_uniform(rng, 2e-4, 5e-3) * lognoise(rng, n * W, 0.5).reshape(n, W),
        "clip_high": log_uniform(rng, 2e-4, 5e-3) * lognoise(rng, n * W, 0.5).reshape(n, W),
    }
    return lat, cfg, draws


def _learning_rate(cfg: Mapping[str, float], n: int) -> Array:
    """The rate ``Trainer`` logs at step s: the scheduler's value after s steps."""
    s = np.arange(1, n + 1, dtype=np.float64)
    w = cfg["warmup_steps"]
    progress = np.clip((s - w) / max(n - w, 1.0), 0.0, 1.0)
    shape = {0: np.ones(n), 1: 1.0 - progress, 2: 0.5 * (1.0 + np.cos(np.pi * progress))}[int(cfg["schedule"])]
    warm = np.minimum(s / w, 1.0) if w > 0 else np.ones(n)
    out: Array = cfg["learning_rate"] * np.where(s < w, warm, shape)
    return out


def _sigmoid(x: Array) -> Array:
    out: Array = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


def _observe(lat: Mapping[str, Array], cfg: Mapping[str, float], d: Mapping[str, Array], trainer: Trainer, logs_kl: bool) -> dict[str, Array]:
    """Sample the completions from the latent state and compute what TRL logs from them."""
    n = lat["grad"].size
    cap = cfg["max_completion_length"]
    row = (slice(None), None, None)
    # A collapsing policy repeats itself: with probability `mode` a completion copies its
    # group's draw (outcome and length), so at mode 1 a group's G completions are identical.
    copy = d["u_copy"] < lat["mode"][row]
    u_fmt = np.where(copy, d["u_fmt_group"], d["u_fmt"])
    u_acc = np.where(copy, d["u_acc_group"], d["u_acc"])
    z = np.where(copy, 0.0, d["z_len"])
    raw = np.exp(lat["len_mu"][row] + cfg["length_sigma_group"] * d["z_len_group"] + cfg["length_sigma"] * z)
    length = np.clip(np.round(raw), 1.0, cap)
    truncated = length >= cap  # no EOS before max_completion_length
    ok = ~truncated  # a truncated completion has no final answer: both rewards 0
    fmt = (ok & (u_fmt < _sigmoid(lat["fmt_logit"])[row])).astype(np.float64)
    p_acc = _sigmoid(lat["acc_logit"][row] + cfg["difficulty_spread"] * d["difficulty"])
    acc = (ok & (u_acc < p_acc)).astype(np.float64)

    cols: dict[str, Array] = {}
    flat = length.reshape(n, -1)
    # Terminated-length statistics are 0 when every completion was truncated (TRL's choice).
    ok_flat = ok.reshape(n, -1)
    count = ok_flat.sum(axis=1)
    term_mean = np.where(ok_flat, flat, 0.0).sum(axis=1) / np.maximum(count, 1)
    term_min = np.where(count > 0, np.where(ok_flat, flat, np.inf).min(axis=1), 0.0)
    term_max = np.where(ok_flat, flat, 0.0).max(axis=1)
    prompt_tokens = np.round(cfg["prompt_length"] * d["prompt_len"]).sum(axis=1) * cfg["num_generations"]
    cols["num_tokens"] = np.cumsum(prompt_tokens + flat.sum(axis=1))
    cols["completions/mean_length"] = flat.mean(axis=1)
    cols["completions/min_length"] = flat.min(axis=1)
    cols["completions/max_length"] = flat.max(axis=1)
    cols["completions/clipped_ratio"] = truncated.reshape(n, -1).mean(axis=1)
    cols["completions/mean_terminated_length"] = term_mean
    cols["completions/min_terminated_length"] = term_min
    cols["completions/max_terminated_length"] = term_max
    for name, r in zip(REWARD_FUNCS, (fmt, acc)):
        cols[f"rewards/{name}/mean"] = r.reshape(n, -1).mean(axis=1)
        cols[f"rewards/{name}/std"] = r.reshape(n, -1).std(axis=1, ddof=1)  # torch.std: unbiased
    cols["reward"] = cols["rewards/format_reward/mean"] + cols["rewards/accuracy_reward/mean"]
    # scale_rewards="group": the std of each group's summed rewards, averaged over groups.
    group_std = (fmt + acc).std(axis=2, ddof=1)
    cols["reward_std"] = group_std.mean(axis=1)
    cols["frac_reward_zero_std"] = (group_std < 1e-8).mean(axis=1)

    kl = lat["kl_level"] * d["kl_noise"]
    if trainer == "rloo":
        # k1 = mean(logp - ref_logp) over sampled tokens: unbiased but noisy, so a small KL
        # logs slightly negative now and then.
        kl = lat["kl_level"] + (0.3 * lat["kl_level"] + 1e-4) * d["k1_noise"]
    kl[0] = 0.0  # the first batch is scored by the reference policy itself
    # Zero-std groups carry no advantage, so they add nothing to the gradient; the rest add
    # roughly independent directions (norm ~ sqrt of their share).
    grad = lat["grad"] * np.sqrt((1.0 - cols["frac_reward_zero_std"] + 0.02) / 0.8)
    # DAPO loss: on-policy it is -mean(advantage) over tokens, a small number whose spread
    # follows the reward spread; plus beta * kl when the KL term is on (not in RLOO, which
    # folds the penalty into the reward).
    loss = cfg["loss_scale"] * cols["reward_std"] * d["loss_noise"]
    if logs_kl and trainer == "grpo":
        loss = loss + cfg["beta"] * kl
    low, high = d["clip_low"] * cfg["off_policy"], d["clip_high"] * cfg["off_policy"]
    out: dict[str, Array] = {
        "loss": loss,
        "grad_norm": grad,
        "learning_rate": _learning_rate(cfg, n),
        **cols,
        "entropy": lat["entropy"],
        "clip_ratio/low_mean": low.mean(axis=1),
        "clip_ratio/low_min": low.min(axis=1),
        "clip_ratio/high_mean": high.mean(axis=1),
        "clip_ratio/high_max": high.max(axis=1),
        "clip_ratio/region_mean": (low + high).mean(axis=1),  # low and high regions are disjoint
        "step_time": (cfg["step_time_base"] + cfg["step_time_per_token"] * cols["completions/max_length"]) * d["time_noise"],
        "epoch": np.arange(1, n + 1, dtype=np.float64) / cfg["steps_per_epoch"],
    }
    if logs_kl:
        out["kl"] = kl
    return {k: np.ascontiguousarray(out[k], dtype=np.float64) for k in _key_order(trainer, logs_kl)}


def generate_trainer_run(name: str, seed: int = 0, n_rows: int | None = None) -> TrainerRun:
    """Build scenario ``name`` deterministically from ``seed``.

    ``n_rows`` is the number of logged rows (default 600), logged at steps 1..n. Raises
    ``ValueError`` for an unknown name or fewer than 200 rows (too short for a warm-up, a
    baseline and a fault that has room to develop).
    """
    if name not in _SPECS:
        raise ValueError(f"unknown trainer scenario {name!r}; known: {', '.join(TRAINER_SCENARIOS)}")
    trainer, logs_kl, fault, expected = _SPECS[name]
    n = DEFAULT_ROWS if n_rows is None else int(n_rows)
    if n < MIN_ROWS:
        raise ValueError(f"n_rows must be at least {MIN_ROWS}, got {n_rows}")
    # Independent streams: the healthy base depends on the seed and trainer only (the same
    # with or without a fault, with or without kl logged); the fault's onset and size also
    # depend on the name, so that the faults of one seed do not share an onset.
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2, zlib.crc32(trainer.encode())]))
    frng = np.random.default_rng(np.random.SeedSequence([seed, 3, zlib.crc32(name.encode())]))
    lat, cfg, draws = _base(rng, n, trainer)
    params = dict(cfg)
    i0 = int(frng.integers(int(ONSET_RANGE[0] * n), int(ONSET_RANGE[1] * n) + 1))
    if fault is not None:
        params.update(_trainer_faults.FAULTS[fault](frng, lat, cfg, i0))
    if not logs_kl:
        del params["beta"]
    steps = np.arange(1, n + 1, dtype=np.float64)
    return TrainerRun(
        name=name,
        trainer=trainer,
        seed=seed,
        n_rows=n,
        fault=fault,
        onset_step=None if fault is None else float(steps[i0]),
        expected=expected,
        steps=steps,
        columns=_observe(lat, cfg, draws, trainer, logs_kl),
        params=params,
    )
