"""From a trainer's log entry to the forensics' inputs: which entries are training steps, and
which key holds each metric, through the core's key vocabulary (TRL PPO-v1/v2, GRPO/RLOO,
online DPO, OpenRLHF, verl). A missing or ``None`` value is "not logged", never a default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rlforensics._core import entry_kind, resolve_keys

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

#: trainer-signal ``update`` keyword -> canonical metric (read when the signals are on).
SIGNAL_INPUTS = {
    "frac_reward_zero_std": "frac_reward_zero_std",
    "truncation_rate": "truncation_rate",
    "response_length_mean": "response_length_mean",
}


class EntryKinds:
    """The kind of a log entry (``"train"``, ``"eval"``, ``"summary"``) by the readers' rules
    (the core's ``entry_kind``), remembered for the last key set (a trainer logs the same keys
    at every training step)."""

    def __init__(self) -> None:
        self._keys: tuple[str, ...] = ()
        self._kind = "train"

    def __call__(self, logs: Mapping[str, Any]) -> str:
        keys = tuple(logs)
        if keys != self._keys:
            self._keys, self._kind = keys, entry_kind(list(keys))
        return self._kind


def number(value: Any) -> float | None:
    """A logged value as a float: ``None`` when not a number (``None``, text, lists);
    NaN and infinities are kept, they are findings."""
    if type(value) is float:  # the common case first
        return value
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
        self._keys: frozenset[str] = frozenset()  # numeric keys seen
        self._seen: set[str] = set()  # keys seen holding a number
        self.family = "generic"
        self.sources: dict[str, str] = {}
        self.kl_target: float | None = None  # the family's controller target, if any
        self.kl_scale = "unknown"  # what the family's KL measures
        self._pairs: list[tuple[str, str]] = []
        self._all_pairs: list[tuple[str, str]] = []
        self._components: list[tuple[str, str]] = []  # (reward function, key)

    def resolve(self, logs: Mapping[str, Any]) -> None:
        # Entries repeat their keys: only a key never seen before can change the mapping
        # (a subset test of the dict's keys runs in C).
        if logs.keys() <= self._seen:
            return
        keys = frozenset(k for k, v in logs.items() if number(v) is not None)
        # Only keys seen with a number are settled: one logged as null (GRPO writes null for
        # a metric that was NaN over a whole window) is looked at again when it has a value.
        self._seen.update(keys)
        if not keys <= self._keys:
            self._settle(self._keys | keys)

    def _settle(self, keys: frozenset[str]) -> None:
        self._keys = keys
        self.family, self.sources, self.kl_target, self.kl_scale = resolve_keys(sorted(keys))
        self._pairs = [(arg, self.sources[c]) for arg, c in INPUTS.items() if c in self.sources]
        self._all_pairs = self._pairs + [
            (arg, self.sources[c]) for arg, c in SIGNAL_INPUTS.items() if c in self.sources
        ]
        # Per-function reward means, TRL GRPO/RLOO's ``rewards/<name>/mean``.
        self._components = sorted(
            (k[len("rewards/"):-len("/mean")], k)
            for k in keys
            if k.startswith("rewards/") and k.endswith("/mean") and len(k) > len("rewards//mean")
        )

    def snapshot(self) -> list[str]:
        """What :meth:`restore` needs (for the monitor's checkpoint state): the numeric keys."""
        return sorted(self._keys)

    def restore(self, keys: list[str]) -> None:
        self._seen = set(keys)
        self._settle(frozenset(keys))

    def inputs(self, logs: Mapping[str, Any]) -> dict[str, Any]:
        """The forensics' inputs from one entry (``None`` where not logged)."""
        self.resolve(logs)
        return {arg: number(logs.get(key)) for arg, key in self._pairs}

    def all_inputs(self, logs: Mapping[str, Any]) -> dict[str, Any]:
        """The forensics' inputs from one entry, those of the trainer-signal rules included
        (``None`` where not logged): the keyword arguments of ``update``, with
        ``reward_components`` when this entry logs at least one of them."""
        self.resolve(logs)
        out: dict[str, Any] = {arg: number(logs.get(key)) for arg, key in self._all_pairs}
        components = {name: number(logs.get(key)) for name, key in self._components}
        # A component not logged at this entry is None, which the rules skip; an entry with
        # none of them leaves the argument out, so that it does not look like a step.
        if any(v is not None for v in components.values()):
            out["reward_components"] = components
        return out
