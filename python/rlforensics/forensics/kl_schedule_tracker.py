"""KL-schedule forensics: RLDK's ``rldk.forensics.kl_schedule_tracker`` module path.

``KLScheduleTracker`` and ``KLScheduleMetrics`` are implemented in Rust
(``rlforensics._core``); see ``docs/compatibility.md`` for where they differ from RLDK.
"""

from __future__ import annotations

from rlforensics._core import KLScheduleMetrics, KLScheduleTracker

__all__ = ["KLScheduleMetrics", "KLScheduleTracker"]
