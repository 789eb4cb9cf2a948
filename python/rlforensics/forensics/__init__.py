"""Drop-in replacements for RLDK's ``rldk.forensics`` trackers, computed in Rust.

Replace ``rldk`` by ``rlforensics`` in import lines; the module paths mirror RLDK's
(``rlforensics.forensics.kl_schedule_tracker``, ``.gradient_norms_analyzer``,
``.advantage_statistics_tracker``, ``.comprehensive_ppo_forensics``, ``.ppo_scan``).
Differences from RLDK are listed in ``docs/compatibility.md``: missing or non-finite inputs
are never replaced by defaults, statistics without enough data are ``None``, and anomalies
are events with ``first_step``/``last_step``.
"""

from __future__ import annotations

from rlforensics.forensics.advantage_statistics_tracker import (
    AdvantageStatisticsMetrics,
    AdvantageStatisticsTracker,
)
from rlforensics.forensics.comprehensive_ppo_forensics import (
    ComprehensivePPOForensics,
    ComprehensivePPOMetrics,
)
from rlforensics.forensics.gradient_norms_analyzer import (
    GradientNormsAnalyzer,
    GradientNormsMetrics,
)
from rlforensics.forensics.kl_schedule_tracker import KLScheduleMetrics, KLScheduleTracker
from rlforensics.forensics.ppo_scan import scan_ppo_events
from rlforensics.forensics.trainer_signals import TrainerSignalsTracker

__all__ = [
    "AdvantageStatisticsMetrics",
    "AdvantageStatisticsTracker",
    "ComprehensivePPOForensics",
    "ComprehensivePPOMetrics",
    "GradientNormsAnalyzer",
    "GradientNormsMetrics",
    "KLScheduleMetrics",
    "KLScheduleTracker",
    "TrainerSignalsTracker",
    "scan_ppo_events",
]
