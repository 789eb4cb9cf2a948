"""rlforensics: forensics for PPO/RLHF training runs.

A Rust numeric core (streaming statistics, trends, drift tests, KL-controller analysis) under a
Python facade. This release provides the numeric core as :mod:`rlforensics.stats`; the
RLDK-compatible trackers, the log scanner and the TRL callback build on it.
"""

from __future__ import annotations

from rlforensics import stats
from rlforensics._core import __version__

__all__ = ["__version__", "stats"]
