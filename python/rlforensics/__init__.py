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
    ComprehensivePPOForensics,
    ComprehensivePPOMetrics,
    GradientNormsAnalyzer,
    GradientNormsMetrics,
    KLScheduleMetrics,
    KLScheduleTracker,
    scan_ppo_events,
)

__all__ = [
    "AdvantageStatisticsMetrics",
    "AdvantageStatisticsTracker",
    "ComprehensivePPOForensics",
    "ComprehensivePPOMetrics",
    "GradientNormsAnalyzer",
    "GradientNormsMetrics",
    "KLScheduleMetrics",
    "KLScheduleTracker",
    "__version__",
    "forensics",
    "scan_ppo_events",
    "stats",
]
