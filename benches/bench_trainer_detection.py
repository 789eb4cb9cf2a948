#!/usr/bin/env python
"""Detection quality of the trainer-signal rules on TRL GRPO/RLOO-shaped runs.

Every scenario of ``rlforensics.testing.trainer_runs`` (healthy GRPO without KL, GRPO with KL,
RLOO; eleven faults with a known onset) over several seeds, fed entry by entry the way the TRL
monitor feeds them: the monitor's key map (trainer family, KL scale, canonical keys, reward
components) into ``ComprehensivePPOForensics(enable_trainer_signals=True)``. Reports, per
fault: recall (caught by one of its expected anomaly types at or after the onset), median
delay in logged steps (these runs log every step, as the real GRPO run in shared/data does),
and events of other types before the onset; per anomaly type on the healthy runs: false
alarms per 10,000 logged steps, and critical events (required: none).

    python benches/bench_trainer_detection.py            # 5 seeds
    python benches/bench_trainer_detection.py --seeds 2  # smoke run
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
from typing import Any

from rlforensics import ComprehensivePPOForensics
from rlforensics.integrations.trl._entries import KeyMap
from rlforensics.testing import generate_trainer_run, trainer_fault_names, trainer_healthy_names

REQUIRED_DELAY = 20


def events_of(name: str, seed: int) -> tuple[Any, list[dict[str, Any]]]:
    run = generate_trainer_run(name, seed)
    keys = KeyMap()
    forensics: ComprehensivePPOForensics | None = None
    for step, entry in zip(run.steps.tolist(), run.entries()):
        inputs = keys.all_inputs(entry)
        if forensics is None:
            # As the monitor: no KL band without a controller target (GRPO/RLOO have none).
            forensics = ComprehensivePPOForensics(
                enable_kl_schedule_tracking=False, enable_length_bias_detection=False,
                enable_trainer_signals=True, kl_scale=keys.kl_scale,
            )
        forensics.update(step, **inputs)
    assert forensics is not None
    return run, forensics.get_anomalies()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    seeds = range(args.seeds)

    print(f"trainer-signal detection, {args.seeds} seeds per scenario\n")
    print(f"{'fault':28s} {'recall':>6s} {'median delay':>12s}  {'delays':24s} caught by")
    ok = True
    for name in trainer_fault_names():
        delays: list[float] = []
        by: collections.Counter[str] = collections.Counter()
        for seed in seeds:
            run, events = events_of(name, seed)
            hits = sorted(
                (e["first_step"] - run.onset_step, e["type"]) for e in events
                if e["type"] in run.expected and e["first_step"] >= run.onset_step
            )
            if hits:
                delays.append(hits[0][0])
                by[hits[0][1]] += 1
        recall = len(delays) / len(seeds)
        med = statistics.median(delays) if delays else float("nan")
        ok &= recall == 1.0 and med <= REQUIRED_DELAY
        shown = ",".join(f"{d:g}" for d in delays)
        print(f"{name:28s} {recall:6.2f} {med:12.1f}  {shown:24s} {dict(by)}")

    print(f"\n{'healthy run':20s} {'rows':>6s} {'critical':>8s}  false alarms per 10k rows by type")
    for name in trainer_healthy_names():
        rows = 0
        per_type: collections.Counter[str] = collections.Counter()
        critical = 0
        for seed in seeds:
            run, events = events_of(name, seed)
            rows += run.n_rows
            for e in events:
                per_type[f"{e['tracker']}:{e['type']}"] += 1
                critical += e["severity"] == "critical"
        ok &= critical == 0
        rates = {k: round(1e4 * v / rows, 1) for k, v in sorted(per_type.items())}
        print(f"{name:20s} {rows:6d} {critical:8d}  {rates}")
    print(f"\nrequired: every fault caught by its rule within {REQUIRED_DELAY} steps at the "
          f"median, no critical event on a healthy run -> {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
