"""Writing training logs the way trainers write them, for tests, the bundled sample runs and
the scan benchmark's corpus: JSON Lines, CSV, transformers' ``trainer_state.json`` and
TensorBoard event files (TFRecord framing and ``Event`` protobufs written here, checksums
from the core).

:func:`trainer_columns` renames a :class:`~rlforensics.testing.scenarios.Scenario`'s columns to
a trainer family's keys (and scales KL to that family's definition); the ``write_*``
functions take ``steps`` and such a ``{key: array}`` mapping. NaN values are written as NaN
(bare ``NaN`` tokens in JSON, as Python's ``json`` and transformers write them).
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping
from typing import Literal

import numpy as np

from rlforensics._core import masked_crc32c
from rlforensics.testing._signals import Array
from rlforensics.testing.scenarios import Scenario

__all__ = [
    "STYLES",
    "trainer_columns",
    "write_csv",
    "write_jsonl",
    "write_tensorboard",
    "write_trainer_state",
]

Style = Literal["trl_ppo_v1", "trl_grpo", "generic"]
STYLES: tuple[Style, ...] = ("trl_ppo_v1", "trl_grpo", "generic")

# Scenario column -> key, per style. TRL PPO-v1 did not log gradient norms or an advantage
# spread; those keep RLDK's generic names (which the alias layer also reads).
_KEYS: Mapping[str, Mapping[str, str]] = {
    "trl_ppo_v1": {
        "kl": "objective/kl",
        "kl_coef": "objective/kl_coef",
        "entropy": "ppo/policy/entropy",
        "reward_mean": "ppo/mean_scores",
        "reward_std": "ppo/std_scores",
        "policy_grad_norm": "policy_grad_norm",
        "value_grad_norm": "value_grad_norm",
        "advantage_mean": "ppo/policy/advantages_mean",
        "advantage_std": "advantage_std",
        "response_length": "tokens/responses_len_mean",
    },
    "trl_grpo": {
        "kl": "kl",
        "entropy": "entropy",
        "reward_mean": "reward",
        "reward_std": "reward_std",
        "total_grad_norm": "grad_norm",
        "response_length": "completions/mean_length",
    },
    "generic": {
        k: k
        for k in (
            "kl", "kl_coef", "entropy", "reward_mean", "reward_std", "policy_grad_norm",
            "value_grad_norm", "total_grad_norm", "advantage_mean", "advantage_std",
        )
    },
}

#: TRL PPO-v1 logged the KL summed over a response (its controller's target was 6 where
#: RLDK's per-token default is 0.1): the scenarios' KL is scaled by this factor.
PPO_V1_KL_SCALE = 60.0


def trainer_columns(s: Scenario, style: Style) -> dict[str, Array]:
    """The scenario's columns under ``style``'s keys (columns the style does not log are left
    out), plus the bookkeeping keys trainers add (``learning_rate``, ``epoch``)."""
    if style not in _KEYS:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(STYLES)}")
    out: dict[str, Array] = {}
    for col, key in _KEYS[style].items():
        if col in s.columns:
            v = s.columns[col]
            if style == "trl_ppo_v1" and col == "kl":
                v = v * PPO_V1_KL_SCALE
            out[key] = v
    n = s.steps.size
    out["learning_rate"] = np.full(n, 1e-5)
    out["epoch"] = np.round(np.arange(1, n + 1) / n, 4)
    return out


def _number(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(float(x))


def _entry(step: float, cols: Mapping[str, Array], i: int) -> dict[str, float | int]:
    d: dict[str, float | int] = {k: float(v[i]) for k, v in cols.items()}
    d["step"] = int(step) if float(step).is_integer() else step
    return d


def write_jsonl(path: str | os.PathLike[str], steps: Array, cols: Mapping[str, Array], *, summary: Mapping[str, float] | None = None) -> None:
    """One object per step (transformers' ``log_history`` lines), then ``summary`` if given."""
    names = list(cols)
    with open(path, "w", encoding="utf-8") as f:
        for i, step in enumerate(steps.tolist()):
            parts = [f'"{k}": {_number(float(cols[k][i]))}' for k in names]
            s = int(step) if float(step).is_integer() else step
            f.write("{" + ", ".join(parts) + f', "step": {s}' + "}\n")
        if summary:
            f.write(json.dumps({**summary, "step": int(steps[-1])}) + "\n")


def write_csv(path: str | os.PathLike[str], steps: Array, cols: Mapping[str, Array]) -> None:
    """A wide CSV with a header (``step`` first); NaN as ``nan``."""
    names = list(cols)
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(["step", *names]) + "\n")
        for i, step in enumerate(steps.tolist()):
            vals = [repr(float(cols[k][i])) for k in names]
            f.write(",".join([f"{step:g}", *vals]) + "\n")


def write_trainer_state(path: str | os.PathLike[str], steps: Array, cols: Mapping[str, Array], *, summary: Mapping[str, float] | None = None) -> None:
    """transformers' ``trainer_state.json``: sorted keys, 2-space indent, NaN tokens."""
    history = [_entry(step, cols, i) for i, step in enumerate(steps.tolist())]
    if summary:
        history.append({**summary, "step": int(steps[-1])})
    state = {
        "best_global_step": None,
        "epoch": 1.0,
        "global_step": int(steps[-1]),
        "log_history": history,
        "logging_steps": int(steps[1] - steps[0]) if steps.size > 1 else 1,
        "max_steps": int(steps[-1]),
    }
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(state, indent=2, sort_keys=True) + "\n")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num: int, wire: int) -> bytes:
    return _varint(num << 3 | wire)


def _bytes(num: int, data: bytes) -> bytes:
    return _field(num, 2) + _varint(len(data)) + data


def _record(payload: bytes) -> bytes:
    head = struct.pack("<Q", len(payload))
    return head + struct.pack("<I", masked_crc32c(head)) + payload + struct.pack("<I", masked_crc32c(payload))


def write_tensorboard(
    path: str | os.PathLike[str],
    steps: Array,
    cols: Mapping[str, Array],
    *,
    summary: Mapping[str, float] | None = None,
    wall_time0: float = 1.7e9,
) -> None:
    """An event file as transformers' ``TensorBoardCallback`` writes it: ``train/<key>``
    scalar summaries (``simple_value``, float32), one event per value, after the
    ``brain.Event:2`` version record."""
    names = list(cols)
    tags = [_bytes(1, f"train/{k}".encode()) for k in names]
    with open(path, "wb") as f:
        f.write(_record(_field(1, 1) + struct.pack("<d", wall_time0) + _bytes(3, b"brain.Event:2")))
        rows: list[tuple[float, list[float] | None]] = [
            (float(s), [float(cols[k][i]) for k in names]) for i, s in enumerate(steps.tolist())
        ]
        if summary:
            rows.append((float(steps[-1]), None))  # summary marker
        for i, (step, values) in enumerate(rows):
            wall = struct.pack("<d", wall_time0 + i)
            head = _field(1, 1) + wall + _field(2, 0) + _varint(int(step))
            pairs = zip(tags, values) if values is not None else (
                (_bytes(1, f"train/{k}".encode()), v) for k, v in (summary or {}).items()
            )
            for tag, v in pairs:
                value = tag + _field(2, 5) + struct.pack("<f", v)
                f.write(_record(head + _bytes(5, _bytes(1, value))))
