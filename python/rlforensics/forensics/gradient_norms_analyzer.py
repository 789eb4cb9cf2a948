"""Gradient-norm forensics: RLDK's ``rldk.forensics.gradient_norms_analyzer`` module path.

``GradientNormsAnalyzer`` and ``GradientNormsMetrics`` are implemented in Rust
(``rlforensics._core``); see ``docs/compatibility.md`` for where they differ from RLDK.
"""

from __future__ import annotations

from rlforensics._core import GradientNormsAnalyzer, GradientNormsMetrics

__all__ = ["GradientNormsAnalyzer", "GradientNormsMetrics"]
