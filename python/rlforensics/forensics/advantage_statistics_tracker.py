"""Advantage forensics: RLDK's ``rldk.forensics.advantage_statistics_tracker`` module path.

``AdvantageStatisticsTracker`` and ``AdvantageStatisticsMetrics`` are implemented in Rust
(``rlforensics._core``); see ``docs/compatibility.md`` for where they differ from RLDK.
"""

from __future__ import annotations

from rlforensics._core import AdvantageStatisticsMetrics, AdvantageStatisticsTracker

__all__ = ["AdvantageStatisticsMetrics", "AdvantageStatisticsTracker"]
