"""``scan_ppo_events``: RLDK's five PPO rules over an event stream (module path as RLDK's
``rldk.forensics.ppo_scan``).

The events are read once, into columns, and the rules run in Rust. Unlike RLDK, a missing
value is missing (a log without KL fires no KL rule), a sustained KL jump is one
``kl_spike`` spanning the whole stretch, the stuck-controller band follows ``kl_target``
when given, and ``advantage_reward_hacking`` needs three clear trends and merges
overlapping windows. The output keeps RLDK's version-"1" schema.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from rlforensics._core import ppo_scan_columns
from rlforensics.forensics._events import lookup, readable

logger = logging.getLogger("rlforensics.forensics")

__all__ = ["scan_ppo_events"]

_COLUMNS = ("kl", "kl_coef", "entropy", "advantage_mean", "policy_grad_norm", "value_grad_norm")


class EventColumns:
    """Columns of the values the scan rules read, filled one event at a time."""

    def __init__(self) -> None:
        self.steps: list[float] = []
        self.values: dict[str, list[float]] = {c: [] for c in _COLUMNS}
        self.missing_steps = 0
        self.unreadable: dict[str, int] = {}
        self.first_unreadable: tuple[int, str] | None = None

    def add(self, index: int, event: Mapping[str, Any]) -> None:
        step = lookup(event, "step")
        if step is None:
            # RLDK used 0; the event's position keeps the order and is counted.
            self.missing_steps += 1
            self.steps.append(float(index))
        else:
            number = readable(step)
            self.steps.append(math.nan if number is None else number)
        for name in _COLUMNS:
            raw = lookup(event, name)
            number = readable(raw)
            if raw is not None and number is None:
                self.unreadable[name] = self.unreadable.get(name, 0) + 1
                if self.first_unreadable is None:
                    self.first_unreadable = (index, name)
            self.values[name].append(math.nan if number is None else number)

    def report_problems(self) -> None:
        if self.missing_steps:
            logger.warning(
                "scan_ppo_events: %d events carry no step; their position was used",
                self.missing_steps,
            )
        if self.first_unreadable is not None:
            index, name = self.first_unreadable
            logger.warning(
                "scan_ppo_events: unreadable values skipped %s (first: event %d, %r)",
                self.unreadable,
                index,
                name,
            )


def read_events(
    events: Iterable[Mapping[str, Any]] | None,
    on_event: Callable[[int, Mapping[str, Any]], None] | None = None,
) -> EventColumns:
    """Reads ``events`` once (any iterable; not iterable means no events), calling
    ``on_event(index, event)`` for each mapping."""
    cols = EventColumns()
    if events is None or not isinstance(events, Iterable):
        return cols
    for index, event in enumerate(events):
        if not isinstance(event, Mapping):
            logger.warning("scan_ppo_events: event %d is not a mapping; skipped", index)
            continue
        cols.add(index, event)
        if on_event is not None:
            on_event(index, event)
    cols.report_problems()
    return cols


def scan_columns(
    cols: EventColumns, kl_target: float | None = None, kl_tolerance: float | None = None
) -> dict[str, Any]:
    """RLDK's version-"1" report from read events."""
    if not cols.steps:
        return {"version": "1", "rules_fired": [], "earliest_step": None, "stats": {}}
    if kl_target is not None:
        tol = kl_tolerance if kl_tolerance is not None else 0.5 * kl_target
        band = (kl_target - tol, kl_target + tol)
    else:
        band = (0.01, 0.15)  # RLDK's fixed band
    v = cols.values
    steps = np.asarray(cols.steps, dtype=np.float64)
    col = {c: np.asarray(v[c], dtype=np.float64) for c in _COLUMNS}
    rules, stats = ppo_scan_columns(
        steps, col["kl"], col["kl_coef"], col["entropy"], col["advantage_mean"],
        col["policy_grad_norm"], col["value_grad_norm"], band_low=band[0], band_high=band[1],
    )
    finite = steps[np.isfinite(steps)]
    earliest: int | float | None = None
    if finite.size:
        lo = float(finite.min())
        earliest = int(lo) if lo.is_integer() else lo
    return {"version": "1", "rules_fired": rules, "earliest_step": earliest, "stats": stats}


def scan_ppo_events(
    events: Iterable[Mapping[str, Any]],
    *,
    kl_target: float | None = None,
    kl_tolerance: float | None = None,
) -> dict[str, Any]:
    """Scans PPO events for RLDK's five rules: ``kl_spike``, ``kl_controller_stuck``,
    ``grad_ratio_low``, ``grad_ratio_high`` and ``advantage_reward_hacking``.

    ``events`` is any iterable of dicts, read once. ``kl_target`` (with ``kl_tolerance``,
    default half the target) sets the band of ``kl_controller_stuck``; without it RLDK's
    fixed [0.01, 0.15] is used. Returns ``{"version": "1", "rules_fired": [...],
    "earliest_step": ..., "stats": {...}}``.
    """
    return scan_columns(read_events(events), kl_target, kl_tolerance)
