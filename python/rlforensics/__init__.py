"""rlforensics: forensics for PPO/RLHF training runs.

A Rust numeric core (streaming statistics, trends, drift tests, KL-controller analysis) under a
Python facade: the numeric core as :mod:`rlforensics.stats` and RLDK-compatible trackers as
:mod:`rlforensics.forensics`; :func:`read_run` and :func:`scan` read and scan training logs
(JSONL, CSV, ``trainer_state.json``, TensorBoard) in Rust.
"""

from __future__ import annotations

from rlforensics import forensics, stats
from rlforensics._core import __version__
from rlforensics.runs import RunLog, read_run
from rlforensics.scanning import RunReport, ScanResult, scan
from rlforensics.forensics import (
    AdvantageStatisticsMetrics,
    AdvantageStatisticsTracker,
    ComprehensivePPOForensics,
    ComprehensivePPOMetrics,
    GradientNormsAnalyzer,
    GradientNormsMetrics,
    KLScheduleMetrics,
    KLScheduleTracker,
    TrainerSignalsTracker,
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
    "RunLog",
    "RunReport",
    "ScanResult",
    "TrainerSignalsTracker",
    "__version__",
    "forensics",
    "read_run",
    "scan",
    "scan_ppo_events",
    "stats",
]


def __getattr__(name: str) -> object:
    # The TRL callback imports transformers: only when asked for.
    if name == "ComprehensivePPOMonitor":
        from rlforensics.integrations.trl import ComprehensivePPOMonitor

        return ComprehensivePPOMonitor
    raise AttributeError(f"module 'rlforensics' has no attribute {name!r}")
