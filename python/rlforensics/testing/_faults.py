"""Fault injections. Each starts exactly at row ``i0`` and leaves rows before it untouched.

Driver faults change the KL controller's inputs (pressure, gain) before it runs, so the
coefficient reacts to the fault as a real controller would; signal faults change logged
columns afterwards. Each returns the parameters it drew (recorded on the scenario).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from rlforensics.testing._signals import Array, saturating

Fault = Callable[[np.random.Generator, dict[str, Array], int], dict[str, float]]


def _since(d: dict[str, Array], i0: int) -> Array:
    """Rows elapsed since onset (0 at i0, negative before)."""
    n = next(iter(d.values())).size
    return np.arange(n, dtype=np.float64) - i0


def kl_blowup(rng: np.random.Generator, d: dict[str, Array], i0: int) -> dict[str, float]:
    """The policy's pull outgrows the controller: the clipped controller can raise the
    coefficient by at most a factor 1 + 0.2 * gain per step, and the pull grows faster than
    that, so KL grows exponentially (e-folding every 30-100 rows) up to 30-60x the target,
    where a diverged run sits instead of overflowing."""
    since = _since(d, i0)[i0:]
    ctrl = np.log1p(0.2 * d["gain"][i0])  # the controller's fastest log-rate
    efold, cap = rng.uniform(30.0, 100.0), rng.uniform(30.0, 60.0)
    d["pressure"][i0:] *= np.exp(ctrl * since) * np.minimum(np.exp(since / efold), cap)
    return {"efold_rows": efold, "cap": cap}


def controller_oscillation(rng: np.random.Generator, d: dict[str, Array], i0: int) -> dict[str, float]:
    """Controller gain (batch / horizon) 10-50x too high, e.g. a horizon of ~300 instead of
    10000: with the KL's response delay the loop overshoots and swings."""
    gain = rng.uniform(0.8, 1.5)
    d["gain"][i0:] = gain
    return {"gain": gain}


def controller_stuck(rng: np.random.Generator, d: dict[str, Array], i0: int) -> dict[str, float]:
    """The coefficient stops updating while the policy's pull moves KL out of the band."""
    n = d["pressure"].size
    factor = rng.uniform(3.0, 5.0) if rng.random() < 0.5 else rng.uniform(0.08, 0.2)
    tau = rng.uniform(0.03, 0.08) * n
    d["gain"][i0:] = 0.0
    d["pressure"][i0:] *= 1.0 + (factor - 1.0) * saturating(_since(d, i0)[i0:], tau)
    return {"pressure_factor": factor, "tau_rows": tau}


def _norm_names(d: dict[str, Array]) -> list[str]:
    return [k for k in ("policy_grad_norm", "value_grad_norm", "total_grad_norm") if k in d]


def gradient_explosion(rng: np.random.Generator, d: dict[str, Array], i0: int) -> dict[str, float]:
    """Every gradient norm jumps by 2-3 orders of magnitude and stays there."""
    factor = 10.0 ** rng.uniform(2.0, 3.0)
    for k in _norm_names(d):
        d[k][i0:] *= factor
    return {"factor": factor}


def vanishing_gradients(rng: np.random.Generator, d: dict[str, Array], i0: int) -> dict[str, float]:
    """Every gradient norm collapses by 2-3 orders of magnitude and stays there."""
    factor = 10.0 ** -rng.uniform(2.0, 3.0)
    for k in _norm_names(d):
        d[k][i0:] *= factor
    return {"factor": factor}


def advantage_bias(rng: np.random.Generator, d: dict[str, Array], i0: int) -> dict[str, float]:
    """A sustained positive advantage mean (e.g. a broken baseline or reward offset)."""
    shift = rng.uniform(0.2, 0.5)
    d["advantage_mean"][i0:] += shift
    return {"shift": shift}


def advantage_scale_collapse(rng: np.random.Generator, d: dict[str, Array], i0: int) -> dict[str, float]:
    """Advantage std decays exponentially to 0.1-1% of its level (mean noise shrinks too)."""
    n = d["advantage_std"].size
    tau, floor = rng.uniform(0.01, 0.04) * n, 10.0 ** rng.uniform(-3.0, -2.0)
    shrink = np.maximum(np.exp(-_since(d, i0)[i0:] / tau), floor)
    d["advantage_std"][i0:] *= shrink
    d["advantage_mean"][i0:] *= shrink
    return {"tau_rows": tau, "floor": floor}


def length_bias(rng: np.random.Generator, d: dict[str, Array], i0: int) -> dict[str, float]:
    """Reward starts paying for length: responses grow and mean reward rises with them. Each
    scored response's reward is mostly paid for its own length (quality stays at the
    pre-onset level): ``_responses.sample`` applies the returned base, growth, payoff and
    quality to every response of the batches from the onset on."""
    grow, tau = rng.uniform(0.5, 1.0), rng.uniform(0.1, 0.3) * d["response_length"].size
    payoff = rng.uniform(0.1, 0.3)  # reward gained when length has grown by `grow`
    base = float(np.mean(d["response_length"][max(0, i0 - 50) : i0]))
    quality = float(np.mean(d["reward_mean"][max(0, i0 - 50) : i0]))
    d["response_length"][i0:] *= 1.0 + grow * saturating(_since(d, i0)[i0:], tau)
    excess = (d["response_length"][i0:] / base - 1.0) / grow  # ~0 at onset, ~1 when grown
    d["reward_mean"][i0:] += payoff * excess
    return {"length_growth": grow, "tau_rows": tau, "reward_payoff": payoff,
            "length_base": base, "reward_quality": quality}


def nan_injection(rng: np.random.Generator, d: dict[str, Array], i0: int) -> dict[str, float]:
    """NaN KL and policy gradient norm at onset and at 2-5 later rows (a NaN batch statistic
    that the trainer logs but survives). The total norm is derived, so it becomes NaN too."""
    n = d["kl"].size
    later = rng.choice(np.arange(i0 + 1, min(n, i0 + 1 + max(10, n // 10))), size=int(rng.integers(2, 6)), replace=False)
    rows = np.concatenate(([i0], np.sort(later)))
    for k in ("kl", "policy_grad_norm" if "policy_grad_norm" in d else "total_grad_norm"):
        d[k][rows] = np.nan
    return {"nan_rows": float(rows.size)}


DRIVER_FAULTS: dict[str, Fault] = {
    "kl_blowup": kl_blowup,
    "controller_oscillation": controller_oscillation,
    "controller_stuck": controller_stuck,
}

SIGNAL_FAULTS: dict[str, Fault] = {
    "gradient_explosion": gradient_explosion,
    "vanishing_gradients": vanishing_gradients,
    "advantage_bias": advantage_bias,
    "advantage_scale_collapse": advantage_scale_collapse,
    "length_bias": length_bias,
    "nan_injection": nan_injection,
}
