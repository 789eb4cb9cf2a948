"""Healthy base runs of the two log families, at the scales real TRL runs log.

Scales come from log-formats.md and the two real runs in ../shared/data (GRPO: per-token KL
growing from 0, reward rising then flattening, grad_norm ~0.5 with noise, slowly falling
entropy; PPO: reward climbing to a plateau, policy entropy decaying from ~3 to ~1). Every
parameter is drawn from a range, so no detector can be tuned to one run.

A builder returns ``(drivers, columns)``. Drivers are the inputs of the KL controller
(``pressure``: the policy's pull away from the reference, in KL x coefficient units;
``gain``: TRL's batch / horizon per step), so that faults can change the dynamics before the
controller runs rather than painting over its output.
"""

from __future__ import annotations

import numpy as np

from rlforensics.testing._signals import Array, adaptive_kl, ar1, lognoise, saturating, spikes

KL_TARGET = 0.1  # RLDK's default kl_target; TRL's PPO-v1 used 6.0 for summed KL, same shape
TRL_INIT_COEF = 0.2  # PPOConfig.init_kl_coef of TRL <= 0.11
FIXED_COEF = 0.05  # PPOConfig.kl_coef of TRL 0.12-1.12 (fixed, no controller)


def ppo_drivers(rng: np.random.Generator, n: int, *, adaptive: bool) -> dict[str, Array]:
    """Pressure and gain of a healthy PPO run (adaptive or fixed coefficient)."""
    t = np.arange(n, dtype=np.float64)
    warm = saturating(t, rng.uniform(15.0, 40.0))
    if adaptive:
        # The coefficient that would hold KL on target wanders slowly and drifts up as the
        # policy improves; the controller (a few % per step at most) has to follow it.
        c_eq = (
            TRL_INIT_COEF
            * rng.uniform(0.6, 1.2)
            * np.exp(ar1(rng, n, 0.2, 0.998))
            * (1.0 + rng.uniform(0.0, 0.6) * t / n)
        )
        pressure = KL_TARGET * c_eq * warm
        gain = np.full(n, rng.uniform(0.03, 0.08))  # batch 256-512 / horizon 5000-10000
    else:
        # Fixed coefficient: nothing steers KL, which wanders around its level (within the
        # default band most of the time).
        pressure = KL_TARGET * FIXED_COEF * np.exp(ar1(rng, n, 0.15, 0.99)) * warm
        gain = np.zeros(n)
    return {"pressure": pressure, "gain": gain, "kl_noise": lognoise(rng, n, rng.uniform(0.08, 0.15))}


def run_controller(rng: np.random.Generator, drivers: dict[str, Array], *, adaptive: bool) -> tuple[Array, Array]:
    """Logged KL and coefficient from the drivers."""
    coef0 = TRL_INIT_COEF if adaptive else FIXED_COEF
    return adaptive_kl(
        drivers["pressure"],
        drivers["kl_noise"],
        drivers["gain"],
        target=KL_TARGET,
        coef0=coef0,
        lag=rng.uniform(0.2, 0.5),
        delay=int(rng.integers(3, 7)),
    )


def ppo_columns(rng: np.random.Generator, n: int) -> dict[str, Array]:
    """Everything a PPO run logs besides KL: reward, entropy, split norms, advantages, length."""
    t = np.arange(n, dtype=np.float64)
    rise = saturating(t, rng.uniform(0.05, 0.2) * n)
    reward_mean = rng.uniform(0.0, 0.3) + rng.uniform(0.4, 0.8) * rise
    reward_mean += rng.uniform(0.02, 0.06) * rng.standard_normal(n)
    reward_std = rng.uniform(0.2, 0.35) * (1.0 - 0.3 * rise) * lognoise(rng, n, 0.1)
    e0, e_end = rng.uniform(2.5, 3.5), rng.uniform(0.8, 1.5)
    entropy = e_end + (e0 - e_end) * np.exp(-t / (rng.uniform(0.1, 0.3) * n))
    entropy *= 1.0 + 0.05 * rng.standard_normal(n)
    # Early updates have larger gradients; both heads share a slow wander; rare spikes.
    level = (1.0 + 0.6 * np.exp(-t / rng.uniform(30.0, 100.0))) * np.exp(ar1(rng, n, 0.1, 0.98))
    policy = rng.uniform(0.2, 0.8) * level * lognoise(rng, n, 0.12) * spikes(rng, n, 0.005, 2.0, 4.0)
    value = rng.uniform(0.8, 2.5) * level * lognoise(rng, n, 0.12) * spikes(rng, n, 0.005, 2.0, 4.0)
    adv_std = rng.uniform(0.5, 1.5) * np.exp(ar1(rng, n, 0.05, 0.99)) * lognoise(rng, n, 0.03)
    adv_mean = 0.03 * adv_std * rng.standard_normal(n)
    length = (
        rng.uniform(20.0, 60.0)
        * (1.0 + rng.uniform(-0.1, 0.2) * t / n)
        * np.exp(ar1(rng, n, 0.03, 0.95))
        * lognoise(rng, n, 0.05)
    )
    return {
        "entropy": entropy,
        "reward_mean": reward_mean,
        "reward_std": reward_std,
        "policy_grad_norm": policy,
        "value_grad_norm": value,
        "advantage_mean": adv_mean,
        "advantage_std": adv_std,
        "response_length": length,
    }


def grpo_columns(rng: np.random.Generator, n: int) -> dict[str, Array]:
    """A healthy GRPO run (beta > 0 so that kl is logged): per-token k3 KL ~1e-3..1e-2."""
    t = np.arange(n, dtype=np.float64)
    k0, k1 = rng.uniform(1e-3, 2e-3), rng.uniform(5e-3, 1.5e-2)
    kl = np.exp(np.log(k0) + np.log(k1 / k0) * t / n)
    # The first log is exactly 0 (policy == reference), as in the real GRPO run.
    kl *= saturating(t, rng.uniform(3.0, 10.0)) * np.exp(ar1(rng, n, 0.15, 0.95)) * lognoise(rng, n, 0.3)
    rise = saturating(t, rng.uniform(0.15, 0.35) * n)
    reward = rng.uniform(0.05, 0.2) + rng.uniform(0.15, 0.5) * rise
    reward = np.clip(reward + rng.uniform(0.025, 0.045) * rng.standard_normal(n), 0.0, 1.0)
    reward_std = np.maximum(
        rng.uniform(0.15, 0.25) * (1.0 - 0.2 * t / n) + 0.03 * rng.standard_normal(n), 0.01
    )
    entropy = rng.uniform(2.5, 3.6) * (1.0 - rng.uniform(0.05, 0.2) * t / n)
    entropy += 0.045 * rng.standard_normal(n)
    grad = (
        rng.uniform(0.3, 0.7)
        * (1.0 + 0.5 * np.exp(-t / 3.0))
        * np.exp(ar1(rng, n, 0.05, 0.9))
        * lognoise(rng, n, 0.12)
        * spikes(rng, n, 0.005, 1.5, 2.5)
    )
    length = rng.uniform(20.0, 120.0) * (1.0 + rng.uniform(0.1, 0.5) * rise) * lognoise(rng, n, 0.05)
    return {
        "kl": kl,
        "entropy": entropy,
        "reward_mean": reward,
        "reward_std": reward_std,
        "total_grad_norm": grad,
        "response_length": length,
    }
