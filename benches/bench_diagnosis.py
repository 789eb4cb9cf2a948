#!/usr/bin/env python
"""How often the scanner's "first cause" of a faulty run lies before the fault began.

Every fault scenario of ``rlforensics.testing`` (the PPO-shaped ones, written as TRL PPO-v1 or
GRPO logs, and the GRPO/RLOO trainer runs) is written to JSONL and scanned. The rows before a
scenario's onset are those of a healthy run, so an event that began before the onset cannot
be the fault's cause. For each run the report's ``first_cause()`` (the root of its most
serious event) is compared with the onset:

- "serious before onset": the most serious event itself began before the onset (a fault
  whose own events are warnings, with a healthy-run warning earlier); no horizon helps there;
- "first cause before onset": the most serious event came after the onset but its first
  cause lies before it: a misleading lead;
- "without the background rule": the same, had the diagnosis not skipped the run's
  background (types that had already begun twice before the horizon), from a mirror of the
  linking in Python, which is checked against the core's on every run.

Usage::

    python benches/bench_diagnosis.py            # 10 seeds per scenario
    python benches/bench_diagnosis.py --seeds 3
"""

from __future__ import annotations

import argparse
import collections
import os
import tempfile
from typing import Any

import rlforensics
from rlforensics.testing import fault_names, generate, generate_trainer_run, trainer_fault_names, writers

BACKGROUND = 2  # the core's `diagnosis::BACKGROUND`


def root(events: list[dict[str, Any]], i: int, horizon: float, skip_background: bool) -> dict[str, Any]:
    """The diagnosis root of ``events[i]`` (events in order of onset), as the core links."""
    s = events[i]["first_step"]
    preds = [p for p in events if 0 < s - p["first_step"] <= horizon and p["last_step"] >= s - horizon / 5]
    if skip_background:
        preds = [p for p in preds
                 if sum(q["type"] == p["type"] and q["first_step"] < s - horizon for q in events) < BACKGROUND]
    return preds[0] if preds else events[i]


def runs(seeds: int, directory: str) -> list[tuple[str, str, float]]:
    out = []
    for name in fault_names():
        for seed in range(seeds):
            sc = generate(name, seed)
            style = "trl_grpo" if "grpo" in sc.family else "trl_ppo_v1"
            path = os.path.join(directory, f"{name}-{seed}.jsonl")
            writers.write_jsonl(path, sc.steps, writers.trainer_columns(sc, style))
            out.append((name, path, float(sc.onset_step)))
    for name in trainer_fault_names():
        for seed in range(seeds):
            run = generate_trainer_run(name, seed)
            path = os.path.join(directory, f"{name}-{seed}.jsonl")
            run.write_jsonl(path)
            assert run.onset_step is not None
            out.append((name, path, run.onset_step))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=10)
    a = p.parse_args(argv)
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    with tempfile.TemporaryDirectory() as d:
        for name, path, onset in runs(a.seeds, d):
            report = rlforensics.scan(path, progress=False).runs[0]
            events = sorted(report.events, key=lambda e: e["first_step"])
            c = counts[name]
            c["runs"] += 1
            cause = report.first_cause()
            if cause is None:
                continue
            critical = [i for i, e in enumerate(events) if e["severity"] == "critical"]
            serious = critical[0] if critical else 0
            mirror = root(events, serious, report.diagnosis_horizon, skip_background=True)
            if (mirror["type"], mirror["first_step"]) != (cause["type"], cause["first_step"]):
                raise AssertionError(f"{path}: the mirror's first cause {mirror} is not the core's {cause}")
            if events[serious]["first_step"] < onset:
                c["serious before onset"] += 1
                continue
            c["first cause before onset"] += cause["first_step"] < onset
            old = root(events, serious, report.diagnosis_horizon, skip_background=False)
            c["without the background rule"] += old["first_step"] < onset
    keys = ["runs", "serious before onset", "first cause before onset", "without the background rule"]
    print("| scenario | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    total: collections.Counter[str] = collections.Counter()
    for name, c in counts.items():
        total.update(c)
        print(f"| {name} | " + " | ".join(str(c[k]) for k in keys) + " |")
    print("| **all** | " + " | ".join(f"**{total[k]}**" for k in keys) + " |")
    after = total["runs"] - total["serious before onset"]
    if after:
        print(f"\nOf {after} runs whose most serious event came after the onset, the first cause lay before it "
              f"in {total['first cause before onset']} ({100 * total['first cause before onset'] / after:.1f}%); "
              f"without the background rule in {total['without the background rule']} "
              f"({100 * total['without the background rule'] / after:.1f}%).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
