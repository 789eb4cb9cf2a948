#!/usr/bin/env python
"""Throughput and memory of ``rlforensics scan`` on a multi-run corpus, next to the best
Python parsers on the same files.

The corpus (written once and cached; ``--corpus`` to choose where) is ``--runs`` runs of
``--steps`` logged steps with 21 TRL GRPO keys each (``loss``, ``grad_norm``, ``kl``,
``reward``, ``completions/*``, ``clip_ratio/*``, ...), mixed formats: 3 in 5 runs JSONL, 1 in 5
CSV, 1 in 5 TensorBoard event files; every fourth run has a fault injected. In one process
run the script times:

1. a raw read of the JSONL files (the floor), ``polars.read_ndjson`` on them, ``orjson`` and
   the stdlib ``json`` line by line (both on a subset of the JSONL files: throughput is per
   byte), in MB/s of JSONL;
2. tensorboard's own ``EventFileLoader`` on one event file (if tensorboard is installed) and
   ``rlforensics.read_run`` on the same file, in scalar events per second;
3. ``rlforensics.scan`` end to end (discovery, parsing, forensics, reports) over the whole
   corpus with 1 and 2 jobs, each in a fresh subprocess that reports its peak RSS; and with 2
   jobs over half the corpus, to show peak RSS does not grow with the corpus.

Usage::

    python benches/bench_scan.py                      # 20 runs x 100,000 steps (about 1.5 GB)
    python benches/bench_scan.py --quick              # smoke run on a tiny corpus
    pip install orjson tensorboard                    # optional baselines
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import rlforensics
from rlforensics.testing import scenarios
from rlforensics.testing.writers import write_csv, write_jsonl, write_tensorboard

FAULTS = ("gradient_explosion", "nan_injection", "kl_blowup", "vanishing_gradients")
KEYS = (
    "loss", "grad_norm", "learning_rate", "num_tokens", "completions/mean_length",
    "completions/min_length", "completions/max_length", "completions/clipped_ratio",
    "completions/mean_terminated_length", "rewards/good/mean", "rewards/good/std", "reward",
    "reward_std", "frac_reward_zero_std", "kl", "entropy", "clip_ratio/region_mean",
    "clip_ratio/low_mean", "clip_ratio/high_mean", "step_time", "epoch",
)


def run_columns(i: int, steps: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A GRPO-shaped run: the scenario's signals plus the trainer's other keys."""
    rng = np.random.default_rng(i)
    s = scenarios.generate("healthy_grpo", i, steps)
    c = s.columns
    n = steps
    fault = FAULTS[(i // 4) % len(FAULTS)] if i % 4 == 3 else None
    grad = np.exp(0.1 * rng.standard_normal(n)) * 0.6
    kl = c["kl"].copy()
    if fault is not None:
        i0 = n // 2
        if fault == "gradient_explosion":
            grad[i0:] *= 1e3
        elif fault == "nan_injection":
            grad[i0 :: n // 7] = np.nan
            kl[i0] = np.nan
        elif fault == "kl_blowup":
            kl[i0:] *= np.exp(np.linspace(0, 5, n - i0))
        else:
            grad[i0:] *= 1e-3
    length = 40 + 10 * rng.standard_normal(n)
    cols = {
        "loss": 0.01 * rng.standard_normal(n),
        "grad_norm": grad,
        "learning_rate": np.linspace(1e-6, 0, n),
        "num_tokens": np.cumsum(np.full(n, 4096.0)),
        "completions/mean_length": length,
        "completions/min_length": length - 30,
        "completions/max_length": length + 60,
        "completions/clipped_ratio": np.clip(0.02 + 0.01 * rng.standard_normal(n), 0, 1),
        "completions/mean_terminated_length": length - 2,
        "rewards/good/mean": c["reward_mean"],
        "rewards/good/std": c["reward_std"],
        "reward": c["reward_mean"],
        "reward_std": c["reward_std"],
        "frac_reward_zero_std": np.clip(0.1 + 0.05 * rng.standard_normal(n), 0, 1),
        "kl": kl,
        "entropy": c["entropy"],
        "clip_ratio/region_mean": np.clip(0.01 + 0.005 * rng.standard_normal(n), 0, 1),
        "clip_ratio/low_mean": np.clip(0.005 + 0.002 * rng.standard_normal(n), 0, 1),
        "clip_ratio/high_mean": np.clip(0.005 + 0.002 * rng.standard_normal(n), 0, 1),
        "step_time": 1.5 + 0.1 * rng.standard_normal(n),
        "epoch": np.arange(1, n + 1) / n,
    }
    return s.steps, cols


def make_corpus(root: Path, runs: int, steps: int) -> None:
    manifest = root / ".manifest"  # not a log name: discovery skips it
    want = {"runs": runs, "steps": steps, "keys": len(KEYS), "version": 1}
    if manifest.exists() and json.loads(manifest.read_text()) == want:
        return
    root.mkdir(parents=True, exist_ok=True)
    for f in root.rglob("*"):
        if f.is_file():
            f.unlink()
    t0 = time.perf_counter()
    for i in range(runs):
        steps_i, cols = run_columns(i, steps)
        kind = ("jsonl", "jsonl", "jsonl", "csv", "tensorboard")[i % 5]
        d = root / f"run-{i:03d}"
        d.mkdir(exist_ok=True)
        if kind == "jsonl":
            write_jsonl(d / "log_history.jsonl", steps_i, cols)
        elif kind == "csv":
            write_csv(d / "metrics.csv", steps_i, cols)
        else:
            write_tensorboard(d / f"events.out.tfevents.{1795580000 + i}.host.1.0", steps_i, cols)
        print(f"  wrote run {i + 1}/{runs} ({kind}) in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    manifest.write_text(json.dumps(want))


def files(root: Path, pattern: str) -> list[Path]:
    return sorted(root.rglob(pattern))


def mb(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths) / 1e6


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def scan_subprocess(paths: list[Path], jobs: int) -> tuple[float, float, int]:
    """(seconds, peak RSS MB, runs) of a scan in a fresh interpreter. The peak is the
    child's VmHWM: ``ru_maxrss`` survives exec on Linux and would report this (parent)
    process's peak, which holds the polars baselines' frames."""
    code = (
        "import sys, time, rlforensics\n"
        "t0 = time.perf_counter()\n"
        f"r = rlforensics.scan({[str(p) for p in paths]!r}, jobs={jobs}, progress=False)\n"
        "dt = time.perf_counter() - t0\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(dt, int(hwm) / 1024, len(r))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    dt, rss, n = out.stdout.split()
    return float(dt), float(rss), int(n)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--corpus", type=Path, default=None, help="where the corpus lives (cached)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", type=Path, help="write the figures as JSON")
    p.add_argument("--quick", action="store_true", help="tiny corpus, one repeat (CI smoke)")
    a = p.parse_args(argv)
    tmp = None
    if a.quick:
        a.runs, a.steps, a.repeats = 5, 2_000, 1
        tmp = tempfile.TemporaryDirectory()
        a.corpus = Path(tmp.name)
    corpus = a.corpus or Path.home() / ".cache" / "rlforensics" / f"scan-corpus-{a.runs}x{a.steps}"
    make_corpus(corpus, a.runs, a.steps)
    jsonl, csvs, tbs = files(corpus, "*.jsonl"), files(corpus, "*.csv"), files(corpus, "events.out.tfevents.*")
    all_files = jsonl + csvs + tbs
    total_mb = mb(all_files)
    print(f"# scan benchmark: {a.runs} runs x {a.steps:,} steps x {len(KEYS)} keys, {total_mb:,.0f} MB "
          f"({len(jsonl)} JSONL {mb(jsonl):,.0f} MB, {len(csvs)} CSV {mb(csvs):,.0f} MB, {len(tbs)} TensorBoard {mb(tbs):,.0f} MB)")
    print(f"# rlforensics {rlforensics.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}")
    fig: dict[str, float | None] = {}

    # 1. JSONL parsing baselines (files are in the page cache after the first pass), on the
    # files strict JSON parsers accept: a run with NaN values holds bare NaN tokens (as
    # Python's json and transformers write them), which polars and orjson reject.
    clean = [f for f in jsonl if b"NaN" not in f.read_bytes() and b"Infinity" not in f.read_bytes()]
    print(f"# parser baselines on the {len(clean)} JSONL files without NaN tokens ({mb(clean):,.0f} MB)")

    def raw() -> None:
        for f in clean:
            f.read_bytes()

    raw()
    fig["raw_read_MBps"] = mb(clean) / best_of(raw, a.repeats)
    try:
        import polars as pl

        fig["polars_read_ndjson_MBps"] = mb(clean) / best_of(lambda: [pl.read_ndjson(f) for f in clean], a.repeats)
    except ImportError:
        fig["polars_read_ndjson_MBps"] = None
    subset = clean[:2]

    def stdlib() -> None:
        for f in subset:
            with open(f, "rb") as fh:
                for line in fh:
                    json.loads(line)

    fig["stdlib_json_MBps"] = mb(subset) / best_of(stdlib, 1)
    try:
        import orjson

        def oj() -> None:
            for f in subset:
                with open(f, "rb") as fh:
                    for line in fh:
                        orjson.loads(line)

        fig["orjson_MBps"] = mb(subset) / best_of(oj, a.repeats)
    except ImportError:
        fig["orjson_MBps"] = None

    # 2. TensorBoard scalars.
    tb = tbs[0]
    n_events = len(KEYS) * a.steps
    fig["rlforensics_tb_events_per_s"] = n_events / best_of(lambda: rlforensics.read_run(tb), a.repeats)
    try:
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

        def tb_load() -> None:
            for _ in EventFileLoader(str(tb)).Load():
                pass

        fig["tensorboard_loader_events_per_s"] = n_events / best_of(tb_load, 1)
    except ImportError:
        fig["tensorboard_loader_events_per_s"] = None

    # 3. The scan, end to end, in fresh processes.
    run_dirs = sorted(d for d in corpus.iterdir() if d.is_dir())
    t1 = [scan_subprocess([corpus], 1) for _ in range(a.repeats)]
    t2 = [scan_subprocess([corpus], 2) for _ in range(a.repeats)]
    half = scan_subprocess(run_dirs[: len(run_dirs) // 2], 2)
    s1 = statistics.median(t[0] for t in t1)
    s2 = statistics.median(t[0] for t in t2)
    fig["scan_1_job_MBps"] = total_mb / s1
    fig["scan_2_jobs_MBps"] = total_mb / s2
    fig["parallel_speedup"] = s1 / s2
    fig["peak_rss_MB_full"] = max(t[1] for t in t2)
    fig["peak_rss_MB_half"] = half[1]
    fig["peak_rss_MB_1_job"] = max(t[1] for t in t1)

    print()
    print("| measurement | value |")
    print("|---|---:|")
    for k, v in fig.items():
        if v is not None:
            print(f"| {k} | {v:,.1f} |")
    print()
    polars = fig["polars_read_ndjson_MBps"]
    tbl = fig["tensorboard_loader_events_per_s"]
    checks = [
        ("scan (2 jobs, analysis included) >= 500 MB/s", fig["scan_2_jobs_MBps"] >= 500, f"{fig['scan_2_jobs_MBps']:,.0f} MB/s"),
        ("scan faster than polars.read_ndjson parsing alone", polars is not None and fig["scan_2_jobs_MBps"] > polars,
         f"{fig['scan_2_jobs_MBps']:,.0f} vs {polars or float('nan'):,.0f} MB/s"),
        ("TensorBoard scalars >= 10x tensorboard's loader", tbl is not None and fig["rlforensics_tb_events_per_s"] >= 10 * tbl,
         "loader not installed" if tbl is None else f"{fig['rlforensics_tb_events_per_s'] / tbl:.1f}x"),
        ("parallel speed-up 1 -> 2 jobs >= 1.7x", fig["parallel_speedup"] >= 1.7, f"{fig['parallel_speedup']:.2f}x"),
        ("peak RSS < 300 MB", fig["peak_rss_MB_full"] < 300, f"{fig['peak_rss_MB_full']:.0f} MB"),
        ("peak RSS independent of corpus size (full vs half)", fig["peak_rss_MB_full"] < 1.25 * fig["peak_rss_MB_half"],
         f"{fig['peak_rss_MB_full']:.0f} vs {fig['peak_rss_MB_half']:.0f} MB"),
    ]
    print("Targets (issue 4):")
    for name, ok, detail in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name:55s} {detail}")
    if a.json:
        a.json.write_text(json.dumps({"figures": fig, "runs": a.runs, "steps": a.steps, "MB": total_mb}, indent=2))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
