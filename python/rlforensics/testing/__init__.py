"""Testing utilities: labelled synthetic PPO/GRPO runs for detector tests and benchmarks.

NumPy only. ``generate(name, seed)`` builds one :class:`Scenario`; ``SCENARIOS`` lists the
names, ``healthy_names()`` and ``fault_names()`` split them. ``generate_trainer_run(name,
seed)`` builds a TRL GRPO/RLOO-shaped :class:`TrainerRun` (the trainers' own log keys).
"""

from __future__ import annotations

from rlforensics.testing.scenarios import (
    SCENARIOS,
    Scenario,
    fault_names,
    generate,
    healthy_names,
)
from rlforensics.testing.trainer_runs import (
    TRAINER_SCENARIOS,
    TrainerRun,
    generate_trainer_run,
    trainer_fault_names,
    trainer_healthy_names,
)

__all__ = [
    "SCENARIOS",
    "TRAINER_SCENARIOS",
    "Scenario",
    "TrainerRun",
    "fault_names",
    "generate",
    "generate_trainer_run",
    "healthy_names",
    "trainer_fault_names",
    "trainer_healthy_names",
]
