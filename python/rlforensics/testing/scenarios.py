"""Labelled synthetic training runs: healthy PPO/GRPO runs and faults with a known onset.

``generate(name, seed)`` returns a :class:`Scenario` whose ``columns`` use the argument names
of RLDK's ``ComprehensivePPOForensics.update`` (a column a family does not log is absent),
whose ``onset_step`` is the logged step at which the fault starts, and whose ``expected``
lists the anomaly ``type`` strings that correctly describe the fault. Fault scenarios are the
``healthy_ppo_adaptive`` run of the same seed with the fault injected from the onset row on,
so rows before the onset are identical to the healthy run's.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from rlforensics.testing import _families, _faults, _responses
from rlforensics.testing._signals import Array

Family = Literal["ppo", "grpo"]

# Logging stride in optimizer steps: PPO-style trainers log every update; TRL's GRPO/RLOO
# configs default to logging_steps=10, so their logged steps are 10, 20, ...
STRIDE: Mapping[str, int] = {"ppo": 1, "grpo": 10}
DEFAULT_ROWS: Mapping[str, int] = {"ppo": 1500, "grpo": 1200}
ONSET_RANGE = (0.4, 0.6)  # onset row drawn uniformly in this fraction of the run

COLUMN_ORDER = (
    "kl",
    "kl_coef",
    "entropy",
    "reward_mean",
    "reward_std",
    "policy_grad_norm",
    "value_grad_norm",
    "total_grad_norm",
    "advantage_mean",
    "advantage_std",
    "response_length",
)

_KL_SHAPE = ("target_range_anomaly", "kl_trend_anomaly", "kl_drift_detected", "kl_volatility_anomaly")

# name -> (family, fault, expected anomaly types)
_SPECS: Mapping[str, tuple[Family, str | None, tuple[str, ...]]] = {
    "healthy_ppo_adaptive": ("ppo", None, ()),
    "healthy_ppo_fixed": ("ppo", None, ()),
    "healthy_grpo": ("grpo", None, ()),
    "kl_blowup": ("ppo", "kl_blowup", _KL_SHAPE),
    "controller_oscillation": (
        "ppo",
        "controller_oscillation",
        ("controller_oscillation_anomaly", "controller_overshoot_anomaly", "kl_volatility_anomaly",
         "target_range_anomaly"),
    ),
    "controller_stuck": (
        "ppo",
        "controller_stuck",
        ("controller_responsiveness_anomaly", "coef_adaptation_anomaly", "kl_controller_stuck",
         "target_range_anomaly", "kl_trend_anomaly", "kl_drift_detected"),
    ),
    "gradient_explosion": (
        "ppo",
        "gradient_explosion",
        ("exploding_gradient_anomaly", "adaptive_explosion_anomaly", "gradient_flow_anomaly",
         "change_point_anomaly"),
    ),
    "vanishing_gradients": (
        "ppo",
        "vanishing_gradients",
        ("vanishing_gradient_anomaly", "gradient_flow_anomaly", "change_point_anomaly"),
    ),
    "advantage_bias": (
        "ppo",
        "advantage_bias",
        ("advantage_bias_anomaly", "advantage_normalization_anomaly"),
    ),
    "advantage_scale_collapse": (
        "ppo",
        "advantage_scale_collapse",
        ("advantage_scale_collapse_anomaly", "advantage_scale_anomaly", "advantage_normalization_anomaly"),
    ),
    # RLDK surfaces length bias as the `length_bias_detected` metric flag, not an anomaly; a
    # detector may report either name.
    "length_bias": ("ppo", "length_bias", ("length_bias_anomaly", "length_bias_detected")),
    "nan_injection": (
        "ppo",
        "nan_injection",
        ("non_finite_kl", "non_finite_policy_grad_norm", "non_finite_total_grad_norm"),
    ),
}

SCENARIOS: tuple[str, ...] = tuple(_SPECS)


def healthy_names() -> tuple[str, ...]:
    """Scenarios without a fault (every anomaly on them is a false alarm)."""
    return tuple(n for n, s in _SPECS.items() if s[1] is None)


def fault_names() -> tuple[str, ...]:
    """Scenarios with a fault and a known onset."""
    return tuple(n for n, s in _SPECS.items() if s[1] is not None)


@dataclass(frozen=True, eq=False)
class Scenario:
    """One labelled run. ``columns`` are float64 arrays aligned with ``steps``;
    ``responses`` holds the batch of scored responses (lengths and rewards) of every row."""

    name: str
    family: Family
    seed: int
    n_steps: int
    fault: str | None
    onset_step: float | None
    expected: tuple[str, ...]
    steps: Array
    columns: dict[str, Array]
    responses: _responses.Responses
    params: dict[str, float] = field(default_factory=dict)

    def rows(self) -> Iterator[dict[str, Any]]:
        """One dict per logged step for ``update(**row)``: ``step``, every column, and
        ``response_data``, the row's response batch as RLDK's payload
        ``{"rewards": [...], "response_lengths": [...]}``."""
        names = list(self.columns)
        lists = [self.columns[k].tolist() for k in names]
        for i, (step, *values) in enumerate(zip(self.steps.tolist(), *lists)):
            row: dict[str, Any] = {"step": step}
            row.update(zip(names, values))
            row["response_data"] = self.responses.payload(i)
            yield row

    def events(self) -> Iterator[dict[str, Any]]:
        """The same dicts as :meth:`rows`, for consumers of event iterables
        (``scan_ppo_events``-style)."""
        return self.rows()


def generate(name: str, seed: int = 0, n_steps: int | None = None) -> Scenario:
    """Build scenario ``name`` deterministically from ``seed``.

    ``n_steps`` is the number of logged rows (default 1500 for PPO, 1200 for GRPO); logged
    steps advance by the family's logging stride. Raises ``ValueError`` for an unknown name
    or fewer than 100 rows (too short for a warm-up, a baseline and a fault).
    """
    if name not in _SPECS:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    family, fault, expected = _SPECS[name]
    n = DEFAULT_ROWS[family] if n_steps is None else int(n_steps)
    if n < 100:
        raise ValueError(f"n_steps must be at least 100, got {n_steps}")
    # Independent streams: the healthy base depends on the seed only (the same with or
    # without a fault); the fault's onset and size also depend on the name, so that faults
    # of one seed do not share an onset.
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    frng = np.random.default_rng(np.random.SeedSequence([seed, 1, zlib.crc32(name.encode())]))
    steps = STRIDE[family] * np.arange(1, n + 1, dtype=np.float64)
    params: dict[str, float] = {}
    i0 = int(frng.integers(int(ONSET_RANGE[0] * n), int(ONSET_RANGE[1] * n) + 1))

    if family == "grpo":
        columns = _families.grpo_columns(rng, n)
    else:
        adaptive = name != "healthy_ppo_fixed"
        drivers = _families.ppo_drivers(rng, n, adaptive=adaptive)
        if fault in _faults.DRIVER_FAULTS:
            params.update(_faults.DRIVER_FAULTS[fault](frng, drivers, i0))
        kl, coef = _families.run_controller(rng, drivers, adaptive=adaptive)
        columns = {"kl": kl, "kl_coef": coef, **_families.ppo_columns(rng, n)}
        params["kl_target"] = _families.KL_TARGET
    if fault in _faults.SIGNAL_FAULTS:
        params.update(_faults.SIGNAL_FAULTS[fault](frng, columns, i0))
    if "policy_grad_norm" in columns:
        # Derived after the faults, as a training loop computes it from the two heads.
        columns["total_grad_norm"] = np.hypot(columns["policy_grad_norm"], columns["value_grad_norm"])
    columns = {k: np.ascontiguousarray(columns[k], dtype=np.float64) for k in COLUMN_ORDER if k in columns}
    # Drawn from a stream of their own (the seed's), so rows before a fault's onset keep
    # the healthy run's batches.
    pay = _responses.LengthPay.from_params(i0, params) if fault == "length_bias" else None
    responses = _responses.sample(np.random.default_rng(np.random.SeedSequence([seed, 2])), columns, pay)
    return Scenario(
        name=name,
        family=family,
        seed=seed,
        n_steps=n,
        fault=fault,
        onset_step=None if fault is None else float(steps[i0]),
        expected=expected,
        steps=steps,
        columns=columns,
        responses=responses,
        params=params,
    )
