#!/usr/bin/env python
"""Cost of the forensics trackers: per-step ``update()`` from Python and the batch path.

Runs, in one process and on the same seeded PPO-shaped columns (KL with an adaptive
coefficient, entropy, reward, policy/value gradient norms, advantage mean/std, one response
record per step):

1. ``ComprehensivePPOForensics.update(...)`` called once per step from a Python loop (the
   live-training path), timed per call;
2. ``ComprehensivePPOForensics.update_many(...)`` over the same columns (the batch path);
3. each tracker's ``update_many`` alone (KL, gradient, advantage), to show where time goes;
4. peak RSS growth of the process across the per-step loop (``resource.getrusage``): the
   state a live run keeps, bounded histories included (``history_size`` snapshots per
   tracker); the batch path's output columns (8 bytes per step per column) come on top.

RLDK's own figures (from the issue, same machine kind): about 1.3 ms per ``update()`` and
7.5 KB kept per step. Usage::

    python benches/bench_forensics.py               # 10^6 steps (per-step loop: 2*10^5)
    python benches/bench_forensics.py --quick       # smoke run
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time

import numpy as np

import rlforensics
from rlforensics import (
    AdvantageStatisticsTracker,
    ComprehensivePPOForensics,
    GradientNormsAnalyzer,
    KLScheduleTracker,
)


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def columns(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    coef = 0.2 * np.exp(np.cumsum(0.01 * rng.standard_normal(n)))
    return {
        "kl": 0.1 + 0.01 * rng.standard_normal(n),
        "kl_coef": coef,
        "entropy": 2.0 - 1e-6 * np.arange(n) + 0.01 * rng.standard_normal(n),
        "reward_mean": 0.5 + 0.05 * rng.standard_normal(n),
        "reward_std": 0.3 + 0.01 * rng.standard_normal(n),
        "policy_grad_norm": 0.5 * (1 + 0.05 * rng.standard_normal(n)),
        "value_grad_norm": 1.5 * (1 + 0.05 * rng.standard_normal(n)),
        "advantage_mean": 0.01 * rng.standard_normal(n),
        "advantage_std": 1.0 + 0.02 * rng.standard_normal(n),
        "response_reward": rng.standard_normal(n),
        "response_length": rng.integers(20, 400, n).astype(np.float64),
    }


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1_000_000, help="steps of the batch path")
    p.add_argument("--n-loop", type=int, default=200_000, help="steps of the per-step loop")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", metavar="PATH")
    p.add_argument("--quick", action="store_true", help="20,000 steps, 1 repeat")
    a = p.parse_args(argv)
    if a.quick:
        a.n, a.n_loop, a.repeats = 20_000, 5_000, 1
    cols = columns(a.n, a.seed)
    steps = np.arange(a.n, dtype=np.float64)
    print(f"# forensics benchmark: batch n={a.n:,}, loop n={a.n_loop:,}, repeats={a.repeats}")
    print(f"# rlforensics {rlforensics.__version__}, Python {platform.python_version()}, numpy {np.__version__}")

    rows = []

    # 1. per-step update() from Python
    loop_cols = {k: v[: a.n_loop].tolist() for k, v in cols.items()}
    rss0 = rss_mb()  # after the inputs exist: growth from here is the forensics' state

    def loop() -> None:
        f = ComprehensivePPOForensics()
        c = loop_cols
        for i in range(a.n_loop):
            f.update(
                i, c["kl"][i], c["kl_coef"][i], c["entropy"][i], c["reward_mean"][i],
                c["reward_std"][i], policy_grad_norm=c["policy_grad_norm"][i],
                value_grad_norm=c["value_grad_norm"][i], advantage_mean=c["advantage_mean"][i],
                advantage_std=c["advantage_std"][i], response_reward=c["response_reward"][i],
                response_length=c["response_length"][i],
            )

    t = timed(loop, a.repeats)
    rows.append(("ComprehensivePPOForensics.update() loop", a.n_loop, statistics.median(t)))
    rss_loop = rss_mb()

    # 2. the batch path
    def batch() -> None:
        ComprehensivePPOForensics().update_many(steps, **cols)

    t = timed(batch, a.repeats)
    rows.append(("ComprehensivePPOForensics.update_many", a.n, statistics.median(t)))

    # 3. each tracker alone
    t = timed(lambda: KLScheduleTracker(window_size=100).update_many(steps, cols["kl"], cols["kl_coef"]), a.repeats)
    rows.append(("KLScheduleTracker.update_many", a.n, statistics.median(t)))
    t = timed(
        lambda: GradientNormsAnalyzer(window_size=100).update_many(
            steps, cols["policy_grad_norm"], cols["value_grad_norm"]
        ),
        a.repeats,
    )
    rows.append(("GradientNormsAnalyzer.update_many", a.n, statistics.median(t)))
    t = timed(
        lambda: AdvantageStatisticsTracker(window_size=100).update_many(
            steps, cols["advantage_mean"], cols["advantage_std"]
        ),
        a.repeats,
    )
    rows.append(("AdvantageStatisticsTracker.update_many", a.n, statistics.median(t)))
    rss1 = rss_mb()

    print()
    print("| path | steps | median s | µs per step | steps/s |")
    print("|---|---:|---:|---:|---:|")
    for name, n, s in rows:
        print(f"| {name} | {n:,} | {s:.3f} | {s / n * 1e6:.2f} | {n / s:,.0f} |")
    print()
    print(f"peak RSS: {rss0:.0f} MB at start, {rss_loop:.0f} MB after {a.n_loop:,} update() calls"
          f" (state growth {rss_loop - rss0:.0f} MB), {rss1:.0f} MB after the batch runs (their"
          f" output columns included)")
    per_call = rows[0][2] / rows[0][1] * 1e6
    batch_rate = rows[1][1] / rows[1][2]
    print()
    print("Targets (issue 3):")
    for name, ok, val in (
        ("update() <= 5 µs per call", per_call <= 5.0, f"{per_call:.1f} µs"),
        ("batch >= 5 M steps/s", batch_rate >= 5e6, f"{batch_rate / 1e6:.2f} M/s"),
        ("state RSS growth < 100 MB", rss_loop - rss0 < 100, f"{rss_loop - rss0:.0f} MB"),
    ):
        print(f"  {'PASS' if ok else 'FAIL'}  {name:32s} measured {val}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"args": vars(a), "rows": rows, "rss_mb": [rss0, rss_loop, rss1]}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
