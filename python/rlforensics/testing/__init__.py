"""Testing utilities: labelled synthetic PPO/GRPO runs for detector tests and benchmarks.

NumPy only. ``generate(name, seed)`` builds one :class:`Scenario`; ``SCENARIOS`` lists the
names, ``healthy_names()`` and ``fault_names()`` split them.
"""

from __future__ import annotations

from rlforensics.testing.scenarios import (
    SCENARIOS,
    Scenario,
    fault_names,
    generate,
    healthy_names,
)

__all__ = ["SCENARIOS", "Scenario", "fault_names", "generate", "healthy_names"]
