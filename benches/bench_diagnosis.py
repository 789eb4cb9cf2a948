#!/usr/bin/env python
"""How often the scanner's "first cause" of a faulty run lies before the fault began.

Every fault scenario of ``rlforensics.testing`` (the PPO-shaped ones, written as TRL PPO-v1 or
GRPO logs, and the GRPO/RLOO trainer runs) is written to JSONL and scanned. The rows before a
scenario's onset are those of a healthy run, so an event that began before the onset cannot
be the fault's cause, and a first cause there is a misleading lead. For each run the report's
``first_cause()`` (the diagnosis root of its ``most_serious`` event) is compared with the
onset, and so is what the two rules behind it would give without each of them, from a mirror
of the linking in Python that is checked against the core on every run:

- "background rule": a type that had already begun twice before the horizon is not a root;
- "open-warning rule": without a critical event, the most serious event is the earliest
  warning still open when the log ends, not the earliest event.

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
            cause, serious = report.first_cause(), report.most_serious
            if cause is None or serious is None:
                continue
            critical = [i for i, e in enumerate(events) if e["severity"] == "critical"]
            now = next(i for i, e in enumerate(events) if e is serious)
            old = critical[0] if critical else 0  # the earliest event
            mirror = root(events, now, report.diagnosis_horizon, skip_background=True)
            if mirror is not cause:
                raise AssertionError(f"{path}: the mirror's first cause {mirror} is not the core's {cause}")
            h = report.diagnosis_horizon
            c["first cause before onset"] += cause["first_step"] < onset
            c["without the background rule"] += root(events, now, h, skip_background=False)["first_step"] < onset
            c["without the open-warning rule"] += root(events, old, h, skip_background=True)["first_step"] < onset
            c["without either"] += root(events, old, h, skip_background=False)["first_step"] < onset
    keys = ["runs", "first cause before onset", "without the background rule", "without the open-warning rule",
            "without either"]
    print("| scenario | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    total: collections.Counter[str] = collections.Counter()
    for name, c in counts.items():
        total.update(c)
        print(f"| {name} | " + " | ".join(str(c[k]) for k in keys) + " |")
    print("| **all** | " + " | ".join(f"**{total[k]}**" for k in keys) + " |")
    n = total["runs"]
    if n:
        print(f"\nFirst cause before the fault's onset: {total[keys[1]]} of {n} runs "
              f"({100 * total[keys[1]] / n:.1f}%); without either rule {total[keys[4]]} "
              f"({100 * total[keys[4]] / n:.1f}%).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
