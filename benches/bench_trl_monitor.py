#!/usr/bin/env python
"""Cost of ``ComprehensivePPOMonitor.on_log`` per call: a GRPO-shaped log entry of 30 keys
per step, through transformers' ``CallbackHandler`` (what a trainer calls) and through the
callback directly, next to the bare ``ComprehensivePPOForensics.update`` the callback wraps.

Usage::

    python benches/bench_trl_monitor.py            # 20,000 entries, median of 3
    python benches/bench_trl_monitor.py --quick
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time

import numpy as np
from transformers import TrainerControl, TrainerState, TrainingArguments
from transformers.trainer_callback import CallbackHandler

import rlforensics
from rlforensics import ComprehensivePPOForensics
from rlforensics.integrations.trl import ComprehensivePPOMonitor

KEYS = 30


def entries(n: int) -> list[dict[str, float]]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        e = {
            "loss": float(0.01 * rng.standard_normal()),
            "grad_norm": float(0.5 + 0.05 * rng.standard_normal()),
            "learning_rate": 1e-6,
            "kl": float(0.01 + 0.001 * rng.standard_normal()),
            "reward": float(0.5 + 0.05 * rng.standard_normal()),
            "reward_std": float(0.2 + 0.01 * rng.standard_normal()),
            "entropy": float(3.0 + 0.01 * rng.standard_normal()),
            "frac_reward_zero_std": 0.1,
            "num_tokens": float(4096 * (i + 1)),
            "epoch": i / n,
        }
        for k in range(KEYS - len(e)):
            e[f"completions/extra_{k}"] = float(rng.standard_normal())
        out.append(e)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=20_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.n, a.repeats = 500, 1
    logging.getLogger("rlforensics").setLevel(logging.ERROR)
    logs = entries(a.n)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        args = TrainingArguments(output_dir=d, report_to="none")

        def monitor_loop(run_id: str, through_handler: bool) -> float:
            mon = ComprehensivePPOMonitor(output_dir=d, run_id=run_id, kl_target=0.01)
            on_log = CallbackHandler([mon], None, None, None, None).on_log if through_handler else mon.on_log
            state, control = TrainerState(), TrainerControl()
            t0 = time.perf_counter()
            for i, e in enumerate(logs):
                state.global_step = i + 1
                on_log(args, state, control, logs=e)
            return (time.perf_counter() - t0) / a.n * 1e6

        def bare() -> float:
            # The forensics as the monitor builds them for these entries (a GRPO run with a
            # KL target given: KL band, gradient, advantage and the trainer-signal rules).
            f = ComprehensivePPOForensics(kl_target=0.01, kl_target_tolerance=0.005,
                                          enable_trainer_signals=True, kl_scale="token_mean")
            t0 = time.perf_counter()
            for i, e in enumerate(logs):
                f.update(i + 1, kl=e["kl"], entropy=e["entropy"], reward_mean=e["reward"],
                         reward_std=e["reward_std"], total_grad_norm=e["grad_norm"],
                         frac_reward_zero_std=e["frac_reward_zero_std"])
            return (time.perf_counter() - t0) / a.n * 1e6

        for name, fn in [("CallbackHandler.on_log -> monitor", lambda: monitor_loop("h", True)),
                         ("monitor.on_log", lambda: monitor_loop("d", False)),
                         ("ComprehensivePPOForensics.update alone", bare)]:
            rows.append((name, statistics.median(fn() for _ in range(a.repeats))))
    print(f"# TRL monitor benchmark: {a.n:,} GRPO log entries of {KEYS} keys, median of {a.repeats}; "
          f"rlforensics {rlforensics.__version__}")
    print("| path | µs per entry |\n|---|---:|")
    for name, us in rows:
        print(f"| {name} | {us:.1f} |")
    cost = rows[1][1]
    print(f"\nTarget (issue 5): {'PASS' if cost <= 20 else 'FAIL'}  on_log <= 20 µs at {KEYS} keys   measured {cost:.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
