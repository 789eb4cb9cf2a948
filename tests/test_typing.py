"""Type-checked (mypy --strict in .ci/run) usage of the public API; also run as a test."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rlforensics import AdvantageStatisticsTracker, stats
from rlforensics.testing import Scenario, generate


def typed_usage() -> float:
    x: npt.NDArray[np.float64] = np.linspace(0.0, 1.0, 100)
    m = stats.Moments()
    m.update_many(x)
    both: stats.Moments = m + stats.Moments()
    mean: float | None = both.mean()
    std: npt.NDArray[np.float64] = stats.rolling_std(x, 10)
    report = stats.controller_metrics(x, None, 0.5, 0.1)
    kind: str = report["controller"]
    fit = stats.RollingTrend(5)
    fit.update(1.0, 2.0)
    assert kind == "unknown" and mean is not None
    adv = AdvantageStatisticsTracker(bias_threshold=0.05)
    for i in range(6):
        adv.update(i, 0.2, 1.0, advantage_median=None, advantage_samples=x)
    cols: dict[str, npt.NDArray[np.float64]] = adv.update_many(x, x, x + 1.0)
    bias: float | None = adv.current_metrics.advantage_bias_risk
    first: int | float = adv.get_anomalies()[0]["first_step"]
    assert bias is not None and first == 4 and cols["step"].size == 100
    return float(std[-1]) + mean


def typed_scenario() -> int:
    s: Scenario = generate("healthy_grpo", seed=1, n_steps=200)
    kl: npt.NDArray[np.float64] = s.columns["kl"]
    onset: float | None = s.onset_step
    first = next(s.rows())
    assert onset is None and first["step"] == s.steps[0] and kl.size == s.n_steps
    return len(s.expected) + len(first)


def test_typed_scenario() -> None:
    assert typed_scenario() == 8


def test_typed_usage() -> None:
    assert typed_usage() > 0.5
