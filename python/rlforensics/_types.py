"""Result shapes of ``rlforensics._core`` (dicts at runtime; TypedDicts for type checkers)."""

from __future__ import annotations

from typing import Literal, TypedDict


class KsResult(TypedDict):
    statistic: float
    p_value: float
    n_a: int
    n_b: int


class HistogramKlResult(TypedDict):
    raw: float
    corrected: float
    bins: int
    occupied: int


class TrendFit(TypedDict):
    n: int
    slope: float
    intercept: float
    r2: float | None


class TheilSenResult(TypedDict):
    slope: float
    intercept: float
    n: int


class MannKendallResult(TypedDict):
    n: int
    s: float
    var_s: float
    z: float
    p_value: float
    tau: float


class ControllerReport(TypedDict):
    samples: int
    nonfinite_kl: int
    time_in_band: float | None
    band_entries: int
    band_exits: int
    overshoot_count: int
    max_overshoot: float | None
    mean_overshoot: float | None
    oscillation_flips: int
    oscillation_rate: float | None
    mean_period: float | None
    decay_ratio: float | None
    damping_ratio: float | None
    settle_count: int
    mean_settling_time: float | None
    max_settling_time: float | None
    last_settling_time: float | None
    unsettled_since: float | None
    controller: Literal["unknown", "fixed", "adaptive"]
    responsiveness: float | None
    response_lag: int | None
    invalid_coef: int



class _AnomalyRequired(TypedDict):
    type: str
    severity: Literal["warning", "critical"]
    message: str
    value: float
    step: int | float
    first_step: int | float
    last_step: int | float
    active: bool
    occurrences: int


class AnomalyEvent(_AnomalyRequired, total=False):
    """An anomaly event: RLDK's keys plus onset/last step, whether it is still open, and
    how many evaluations it held for. ``threshold`` is absent for rules without one,
    ``tracker`` is set by the comprehensive forensics, ``trend`` only on ``kl_drift_detected``."""

    threshold: float
    tracker: str
    trend: str
