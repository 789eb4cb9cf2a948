"""Drop-in replacements for RLDK's ``rldk.forensics`` trackers, computed in Rust.

Replace ``rldk`` by ``rlforensics`` in import lines; the module paths mirror RLDK's
(``rlforensics.forensics.kl_schedule_tracker``, ...). Differences from RLDK are listed in
``docs/compatibility.md``: missing or non-finite inputs are never replaced by defaults,
statistics without enough data are ``None``, and anomalies are events with
``first_step``/``last_step``.
"""

from __future__ import annotations

from rlforensics.forensics.advantage_statistics_tracker import (
    AdvantageStatisticsMetrics,
    AdvantageStatisticsTracker,
)
from rlforensics.forensics.kl_schedule_tracker import KLScheduleMetrics, KLScheduleTracker

__all__ = [
    "AdvantageStatisticsMetrics",
    "AdvantageStatisticsTracker",
    "KLScheduleMetrics",
    "KLScheduleTracker",
]
