"""rlforensics: forensics for PPO/RLHF training runs.

A Rust numeric core (streaming statistics, trends, drift tests, KL-controller analysis) under a
Python facade: the numeric core as :mod:`rlforensics.stats` and RLDK-compatible trackers as
:mod:`rlforensics.forensics`.
"""

from __future__ import annotations

from rlforensics import forensics, stats
from rlforensics._core import __version__
from rlforensics.forensics import (
    AdvantageStatisticsMetrics,
    AdvantageStatisticsTracker,
    KLScheduleMetrics,
    KLScheduleTracker,
)

__all__ = [
    "AdvantageStatisticsMetrics",
    "AdvantageStatisticsTracker",
    "KLScheduleMetrics",
    "KLScheduleTracker",
    "__version__",
    "forensics",
    "stats",
]
