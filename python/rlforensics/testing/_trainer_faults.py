"""Fault injections for the TRL-shaped runs of :mod:`rlforensics.testing.trainer_runs`.

A fault changes the run's latent per-row state (the policy's skill and format logits, the
log-median completion length, the copy fraction of a collapsing policy, entropy, the gradient
norm level, the KL level) from row ``i0`` on, before the completions are sampled and the logged
statistics computed from them. So a truncation fault lowers the reward through truncated
completions and a collapsing policy drives ``frac_reward_zero_std`` to 1 because its groups
really are identical, rather than by painting over logged columns. Every fault leaves rows
before ``i0`` untouched and returns the parameters it drew (recorded on the run).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Callable

import numpy as np

from rlforensics.testing._signals import Array, log_uniform, saturating

Fault = Callable[[np.random.Generator, dict[str, Array], Mapping[str, float], int], dict[str, float]]


def _since(lat: dict[str, Array], i0: int) -> Array:
    """Rows into the fault for the rows from ``i0`` on: 1 at the onset row, so that every
    fault already changes the onset row."""
    n = lat["grad"].size
    return np.arange(1, n - i0 + 1, dtype=np.float64)


def _ramp(since: Array, width: float) -> Array:
    """A smooth 0 -> 1 transition over ``width`` rows (smoothstep), reaching 1 exactly."""
    x = np.clip(since / width, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def kl_blowup(rng: np.random.Generator, lat: dict[str, Array], cfg: Mapping[str, float], i0: int) -> dict[str, float]:
    """The policy runs away from the reference: the KL level grows by a factor 1.1-1.25 per
    row until it sits at a diverged level (per-token k3 of 1-20 nats, k1 of 0.5-5), where a
    blown-up run stays instead of overflowing."""
    growth = rng.uniform(1.1, 1.25)
    cap = log_uniform(rng, 1.0, 20.0) if cfg["kl_k3"] else log_uniform(rng, 0.5, 5.0)
    kl = lat["kl_level"]
    kl[i0:] = np.minimum(kl[i0:] * growth ** _since(lat, i0), max(cap, float(kl[i0])))
    return {"kl_growth_per_row": growth, "kl_cap": cap}


def grad_explosion(rng: np.random.Generator, lat: dict[str, Array], cfg: Mapping[str, float], i0: int) -> dict[str, float]:
    """The pre-clip gradient norm jumps 10-100x and keeps growing by 1-3 more orders of
    magnitude over 30-120 rows (clipping keeps the updates, and so the loss, finite)."""
    jump, orders, width = log_uniform(rng, 10.0, 100.0), rng.uniform(1.0, 3.0), rng.uniform(30.0, 120.0)
    lat["grad"][i0:] *= jump * 10.0 ** (orders * np.minimum(_since(lat, i0) / width, 1.0))
    return {"jump": jump, "extra_orders": orders, "growth_rows": width}


def grad_collapse(rng: np.random.Generator, lat: dict[str, Array], cfg: Mapping[str, float], i0: int) -> dict[str, float]:
    """The gradient norm falls by 2-4 orders of magnitude within 2-6 rows (a frozen or
    detached policy head, a loss multiplied by a zero) and stays there."""
    orders, width = rng.uniform(2.0, 4.0), rng.uniform(2.0, 6.0)
    lat["grad"][i0:] *= 10.0 ** (-orders * np.minimum(_since(lat, i0) / width, 1.0))
    return {"orders": orders, "collapse_rows": width}


def entropy_collapse(rng: np.random.Generator, lat: dict[str, Array], cfg: Mapping[str, float], i0: int) -> dict[str, float]:
    """Entropy decays exponentially to 1-5 % of its level within 10-20 rows; the rest of the
    run (rewards, groups, gradients) carries on, as when the sampler becomes near-greedy."""
    floor, width = rng.uniform(0.01, 0.05), rng.uniform(10.0, 20.0)
    tau = width / np.log(1.0 / floor)
    lat["entropy"][i0:] *= np.maximum(np.exp(-_since(lat, i0) / tau), floor)
    return {"entropy_floor": floor, "collapse_rows": width}


def policy_collapse(rng: np.random.Generator, lat: dict[str, Array], cfg: Mapping[str, float], i0: int) -> dict[str, float]:
    """The policy degenerates to one completion per prompt over 6-14 rows: every completion
    of a group copies the group's (so rewards within a group are equal, reward_std -> 0 and
    frac_reward_zero_std -> 1), entropy falls 2-3 orders of magnitude, and with no advantage
    left the gradient norm falls 2-4 orders."""
    width = rng.uniform(6.0, 14.0)
    e_orders, g_orders = rng.uniform(2.0, 3.0), rng.uniform(2.0, 4.0)
    q = _ramp(_since(lat, i0), width)
    lat["mode"][i0:] = np.maximum(lat["mode"][i0:], q)
    lat["entropy"][i0:] *= 10.0 ** (-e_orders * q)
    lat["grad"][i0:] *= 10.0 ** (-g_orders * q)
    return {"collapse_rows": width, "entropy_orders": e_orders, "grad_orders": g_orders}


def starvation(rng: np.random.Generator, lat: dict[str, Array], cfg: Mapping[str, float], i0: int) -> dict[str, float]:
    """The prompts become too easy (or too hard) over 20-60 rows: accuracy logits move 9-14
    towards 1 (or 0), the format is always met, and the shorter answers of a settled policy
    rarely truncate, so most groups' G rewards are identical and carry no advantage."""
    width = rng.uniform(20.0, 60.0)
    easy = bool(rng.random() < 0.6)
    shift, fmt_shift, shrink = rng.uniform(9.0, 14.0), rng.uniform(5.0, 8.0), rng.uniform(0.5, 0.8)
    q = _ramp(_since(lat, i0), width)
    lat["acc_logit"][i0:] += (shift if easy else -shift) * q
    lat["fmt_logit"][i0:] += fmt_shift * q
    lat["len_mu"][i0:] += np.log(shrink) * q
    return {"ramp_rows": width, "too_easy": float(easy), "logit_shift": shift, "length_factor": shrink}


def truncation_saturation(rng: np.random.Generator, lat: dict[str, Array], cfg: Mapping[str, float], i0: int) -> dict[str, float]:
    """Completions run into the length cap (repetition loops, a lost stop token): the median
    length climbs to 1.1-2x max_completion_length over 10-30 rows, so clipped_ratio rises
    towards 1 and the truncated completions score 0."""
    width, over = rng.uniform(10.0, 30.0), rng.uniform(1.1, 2.0)
    target = np.log(over * cfg["max_completion_length"])
    lat["len_mu"][i0:] += (target - float(lat["len_mu"][i0])) * _ramp(_since(lat, i0), width)
    return {"ramp_rows": width, "median_over_cap": over}


def length_hacking(rng: np.random.Generator, lat: dict[str, Array], cfg: Mapping[str, float], i0: int) -> dict[str, float]:
    """A lenient verifier accepts an answer anywhere in the completion, so listing more
    candidates pays: length grows 0.5-2 % per row (by at least 50 %, and on until the median
    reaches 35-50 % of the cap, where truncation starts to cost reward) and the accuracy logit
    rises 1.5-3 per e-fold of length."""
    rate, payoff, room = rng.uniform(0.005, 0.02), rng.uniform(1.5, 3.0), rng.uniform(0.35, 0.5)
    top = max(np.log(room * cfg["max_completion_length"]) - float(lat["len_mu"][i0]), np.log(1.5))
    grown = np.minimum(rate * _since(lat, i0), top)
    lat["len_mu"][i0:] += grown
    lat["acc_logit"][i0:] += payoff * grown
    return {"growth_per_row": rate, "logit_per_efold": payoff, "max_log_growth": top}


def reward_hacking(rng: np.random.Generator, lat: dict[str, Array], cfg: Mapping[str, float], i0: int) -> dict[str, float]:
    """The policy finds an exploit of the verifier: the accuracy logit climbs 1.5-3 over 20-60
    rows while the KL, having to move far from the reference for it, grows 4-12 % per row up
    to 1-20 nats per token."""
    rise, width = rng.uniform(1.5, 3.0), rng.uniform(20.0, 60.0)
    growth, cap = rng.uniform(1.04, 1.12), log_uniform(rng, 1.0, 20.0)
    since = _since(lat, i0)
    lat["acc_logit"][i0:] += rise * _ramp(since, width)
    kl = lat["kl_level"]
    kl[i0:] = np.minimum(kl[i0:] * growth**since, max(cap, float(kl[i0])))
    return {"logit_rise": rise, "rise_rows": width, "kl_growth_per_row": growth, "kl_cap": cap}


def component_divergence(rng: np.random.Generator, lat: dict[str, Array], cfg: Mapping[str, float], i0: int) -> dict[str, float]:
    """The policy trades one objective for the other for the rest of the run: the reward
    function it satisfies less often at onset (the one with room to rise) gains 2-4 in logit
    while the other loses 3-6 below a success rate of ~0.8 (logit 1.5; a saturated logit
    first has to come down to where losing it shows), linearly (e.g. dropping the answer
    template to spend its tokens on solving, or polishing the template at the expense of
    correctness)."""
    since = _since(lat, i0)
    frac = since / since.size
    up, down = rng.uniform(2.0, 4.0), rng.uniform(3.0, 6.0)
    acc_rises = bool(lat["acc_logit"][i0] < lat["fmt_logit"][i0])
    rising, falling = ("acc_logit", "fmt_logit") if acc_rises else ("fmt_logit", "acc_logit")
    down += max(float(lat[falling][i0]) - 1.5, 0.0)
    lat[rising][i0:] += up * frac
    lat[falling][i0:] -= down * frac
    return {"accuracy_rises": float(acc_rises), "logit_rise": up, "logit_fall": down}


def nan_grad(rng: np.random.Generator, lat: dict[str, Array], cfg: Mapping[str, float], i0: int) -> dict[str, float]:
    """An overflow makes the gradient norm NaN from onset on; transformers logs it unfiltered
    while the NaN loss is replaced by its running mean (logging_nan_inf_filter)."""
    lat["grad"][i0:] = np.nan
    return {}


FAULTS: dict[str, Fault] = {
    "kl_blowup": kl_blowup,
    "grad_explosion": grad_explosion,
    "grad_collapse": grad_collapse,
    "entropy_collapse": entropy_collapse,
    "policy_collapse": policy_collapse,
    "starvation": starvation,
    "truncation_saturation": truncation_saturation,
    "length_hacking": length_hacking,
    "reward_hacking": reward_hacking,
    "component_divergence": component_divergence,
    "nan_grad": nan_grad,
}
