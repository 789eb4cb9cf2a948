"""Reading RLDK-style event dicts: the first key present with a value wins, and nothing
missing is replaced by a default (RLDK filled a missing KL with 0.0)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Argument of ComprehensivePPOForensics.update -> event keys, in RLDK's order.
EVENT_KEYS: dict[str, tuple[str, ...]] = {
    "step": ("step", "global_step"),
    "kl": ("kl", "kl_div"),
    "kl_coef": ("kl_coef", "kl_coefficient"),
    "entropy": ("entropy",),
    "reward_mean": ("reward_mean", "ppo/rewards/mean"),
    "reward_std": ("reward_std", "ppo/rewards/std"),
    "policy_grad_norm": ("grad_norm_policy", "policy_grad_norm"),
    "value_grad_norm": ("grad_norm_value", "value_grad_norm"),
    "total_grad_norm": ("grad_norm",),
    "advantage_mean": ("advantage_mean", "adv_mean"),
    "advantage_std": ("advantage_std", "adv_std"),
    "advantage_min": ("advantage_min", "adv_min"),
    "advantage_max": ("advantage_max", "adv_max"),
    "advantage_median": ("advantage_median", "adv_median"),
    "response_data": ("response_data",),
    "response_length": ("response_length", "response_tokens"),
    "response_text": ("response_text", "response"),
    "response_reward": ("response_reward", "sample_reward"),
}


def lookup(event: Mapping[str, Any], name: str) -> Any:
    """The value of ``name`` in ``event``: its first key present with a non-None value."""
    for key in EVENT_KEYS[name]:
        value = event.get(key)
        if value is not None:
            return value
    return None


def readable(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing or no number (a string that does not
    parse, a list). NaN and ±inf are numbers: they stay as they are."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None

