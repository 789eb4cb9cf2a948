"""From a trainer's log entry to the forensics' inputs: which entries are training steps, and
which key holds each metric, through the core's key vocabulary (TRL PPO-v1/v2, GRPO/RLOO,
online DPO, OpenRLHF, verl). A missing or ``None`` value is "not logged", never a default."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rlforensics._core import resolve_keys

#: Keys of transformers' end-of-training summary entry.
SUMMARY_KEYS = frozenset(
    {"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss"}
)

#: forensics ``update`` argument -> canonical metric.
INPUTS = {
    "kl": "kl",
    "kl_coef": "kl_coef",
    "entropy": "entropy",
    "reward_mean": "reward_mean",
    "reward_std": "reward_std",
    "policy_grad_norm": "policy_grad_norm",
    "value_grad_norm": "value_grad_norm",
    "total_grad_norm": "grad_norm",
    "advantage_mean": "advantage_mean",
    "advantage_std": "advantage_std",
}


def entry_kind(logs: Mapping[str, Any]) -> str:
    """``"train"``, ``"eval"`` (``eval_*`` keys) or ``"summary"`` (the end-of-training entry)."""
    if any(k in SUMMARY_KEYS for k in logs):
        return "summary"
    if any(k.startswith(("eval_", "eval/")) for k in logs):
        return "eval"
    return "train"


def number(value: Any) -> float | None:
    """A logged value as a float: ``None`` when not a number (``None``, text, lists);
    NaN and infinities are kept, they are findings."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:  # NumPy / torch scalars
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if isinstance(v, float) else None


class KeyMap:
    """The family and canonical keys of a run, re-resolved when its key set changes."""

    def __init__(self) -> None:
        self._keys: frozenset[str] = frozenset()
        self.family = "generic"
        self.sources: dict[str, str] = {}

    def resolve(self, logs: Mapping[str, Any]) -> None:
        keys = frozenset(k for k, v in logs.items() if number(v) is not None)
        if not keys <= self._keys:
            self._keys = self._keys | keys
            self.family, self.sources = resolve_keys(sorted(self._keys))

    def inputs(self, logs: Mapping[str, Any]) -> dict[str, float | None]:
        """The forensics' inputs from one entry (``None`` where not logged)."""
        self.resolve(logs)
        out: dict[str, float | None] = {}
        for arg, canonical in INPUTS.items():
            key = self.sources.get(canonical)
            out[arg] = number(logs.get(key)) if key is not None else None
        return out


def is_finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
