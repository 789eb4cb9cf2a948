#!/usr/bin/env python
"""Throughput of rlforensics' batch API next to NumPy, pandas, polars and SciPy.

Every implementation runs on the same seeded float64 array in the same process, so the
ratios within one run are what count (absolute numbers move with the machine and its load).

For each operation group the script

1. runs every implementation once and checks that its output agrees with rlforensics'
   (``np.allclose`` on the positions where the window is full and both are finite, and the
   same finite/non-finite pattern), so a wrong result is never timed;
2. times it ``--repeats`` times after one warm-up call (``time.perf_counter``) and reports the
   median, the throughput in millions of input elements per second and the ratio to the
   group's baseline (the implementation the issue's targets are stated against, marked ``*``).

Timed calls include allocating and writing the output array, as a user's call would; polars
and pandas calls return their own Series/arrays (the conversion back to NumPy used for the
check is not timed). Library thread pools are left at their defaults.

Usage::

    python benches/bench_stats.py                   # 10^7 values, window 50, 5 repeats
    python benches/bench_stats.py --json out.json   # also write every figure as JSON
    python benches/bench_stats.py --quick           # tiny smoke run (seconds)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Callable

import numpy as np
import pandas as pd
import polars as pl
import scipy
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage, signal
from scipy import stats as sps

import rlforensics
from rlforensics import stats as rs

EWM_SPAN = 20
QUANTILE = 0.9


# --------------------------------------------------------------------------------------
# NumPy / SciPy reference implementations (the "write it yourself in NumPy" baselines)
# --------------------------------------------------------------------------------------


def _window_sums(a: np.ndarray, w: int) -> np.ndarray:
    """Sums of every full window of ``a`` (length n - w + 1) from one cumulative sum."""
    c = np.empty(a.size + 1)
    c[0] = 0.0
    np.cumsum(a, out=c[1:])
    return c[w:] - c[:-w]


def np_rolling_mean(x: np.ndarray, w: int) -> np.ndarray:
    """Cumsum rolling mean (NaN until the window is full)."""
    out = np.empty(x.size)
    out[: w - 1] = np.nan
    np.divide(_window_sums(x, w), w, out=out[w - 1 :])
    return out


def np_rolling_mean_std(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumsum rolling mean and sample std from the sum and the sum of squares.

    Fast and fine for this well-conditioned (zero-mean, unit-scale) data; it cancels
    catastrophically on data with a large offset, which the library's anchored sums do not.
    """
    s1 = _window_sums(x, w)
    s2 = _window_sums(x * x, w)
    mean = np.empty(x.size)
    std = np.empty(x.size)
    mean[: w - 1] = np.nan
    std[: w - 1] = np.nan
    np.divide(s1, w, out=mean[w - 1 :])
    var = (s2 - s1 * mean[w - 1 :]) / (w - 1)
    np.maximum(var, 0.0, out=var)
    np.sqrt(var, out=std[w - 1 :])
    return mean, std


def np_rolling_slope(t: np.ndarray, y: np.ndarray, w: int, block: int = 8192) -> np.ndarray:
    """Rolling OLS slope of ``y`` on ``t`` from cumulative sums, anchored per block.

    A single cumsum of t² over 10^7 steps reaches ~1e20 and the window's centred sum of
    squares (~1e4) is lost in rounding, so the sums are taken block by block (``block``
    windows per row of a strided view) relative to each block's first point: still
    vectorised cumsums, with (block + w - 1) / block of the work.
    """
    n = y.size
    m = n - w + 1  # full windows
    nb = -(-m // block)
    length = block + w - 1
    tp = np.zeros(nb * block + w - 1)
    yp = np.zeros_like(tp)
    tp[:n] = t
    yp[:n] = y
    tv = sliding_window_view(tp, length)[::block]
    yv = sliding_window_view(yp, length)[::block]
    dt = tv - tv[:, :1]
    dy = yv - yv[:, :1]

    def wsum(a: np.ndarray) -> np.ndarray:
        c = np.zeros((nb, length + 1))
        np.cumsum(a, axis=1, out=c[:, 1:])
        return c[:, w:] - c[:, :-w]

    st, sy = wsum(dt), wsum(dy)
    stt, sty = wsum(dt * dt), wsum(dt * dy)
    with np.errstate(divide="ignore", invalid="ignore"):  # the zero padding past the end
        slope = (sty - st * sy / w) / (stt - st * st / w)
    out = np.empty(n)
    out[: w - 1] = np.nan
    out[w - 1 :] = slope.ravel()[:m]
    return out


def polars_slope(df: pl.DataFrame, w: int) -> pl.Series:
    """polars: rolling covariance over rolling variance of the step."""
    return df.select(
        pl.rolling_cov("t", "y", window_size=w) / pl.col("t").rolling_var(w)
    ).to_series()


def scipy_ewm_mean(x: np.ndarray, span: float) -> np.ndarray:
    """EW mean (adjust=False) as a first-order IIR filter started at x[0]."""
    a = 2.0 / (span + 1.0)
    return signal.lfilter([a], [1.0, a - 1.0], x, zi=[x[0] * (1.0 - a)])[0]


def pandas_rolling(s: pd.Series, w: int, op: str) -> pd.Series:
    """``s.rolling(w).<op>()``."""
    return getattr(s.rolling(w), op)()


def scipy_rolling_min(x: np.ndarray, w: int) -> np.ndarray:
    """Trailing-window minimum with SciPy's O(n) filter (edges differ: masked in the check)."""
    return ndimage.minimum_filter1d(x, w, origin=(w - 1) // 2)


def scipy_rolling_max(x: np.ndarray, w: int) -> np.ndarray:
    return ndimage.maximum_filter1d(x, w, origin=(w - 1) // 2)


# --------------------------------------------------------------------------------------
# Harness
# --------------------------------------------------------------------------------------


@dataclass
class Row:
    group: str
    impl: str
    elements: int
    median_s: float = float("nan")
    min_s: float = float("nan")
    times_s: list[float] = field(default_factory=list)
    baseline: bool = False
    ratio: float = float("nan")  # throughput / group baseline throughput
    check: str = ""
    note: str = ""

    @property
    def meps(self) -> float:
        return self.elements / self.median_s / 1e6 if self.median_s > 0 else float("nan")


def to_numpy(result: Any) -> Any:
    """pandas/polars results (or tuples of them) as float64 NumPy arrays (nulls -> NaN)."""
    if isinstance(result, tuple):
        return tuple(to_numpy(r) for r in result)
    if isinstance(result, pl.Series):
        return result.cast(pl.Float64).fill_null(np.nan).to_numpy()
    if isinstance(result, pd.Series):
        return result.to_numpy(dtype=np.float64)
    return result


def agree(got: np.ndarray, ref: np.ndarray, start: int, rtol: float, atol: float) -> str:
    """'' when ``got`` matches ``ref`` from index ``start`` on, else a description."""
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        return f"shape {got.shape} != {ref.shape}"
    g, r = got[start:], ref[start:]
    fg, fr = np.isfinite(g), np.isfinite(r)
    if (fg != fr).any():
        return f"{int((fg != fr).sum())} positions finite in one and not the other"
    if not fr.any():
        return "no finite values to compare"
    if not np.allclose(g[fr], r[fr], rtol=rtol, atol=atol):
        err = np.abs(g[fr] - r[fr])
        return f"max abs diff {err.max():.3g} (rtol={rtol:g}, atol={atol:g})"
    return ""


def time_call(fn: Callable[[], Any], repeats: int) -> list[float]:
    """One warm-up call, then ``repeats`` timed calls; results dropped between calls."""
    fn()
    gc.collect()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t0)
        del res
    return times


class Bench:
    def __init__(self, repeats: int, verbose: bool = True) -> None:
        self.repeats = repeats
        self.rows: list[Row] = []
        self.verbose = verbose

    def group(
        self,
        name: str,
        elements: int,
        impls: list[tuple[str, Callable[[], Any]]],
        *,
        baseline: str,
        ref: Callable[[Any], Any] | None = None,
        check: Callable[[str, Any, Any], str] | None = None,
        notes: dict[str, str] | None = None,
    ) -> list[Row]:
        """Checks then times every implementation of one operation.

        ``ref`` picks the reference output from the first implementation's result (default:
        the result itself); ``check(impl, got, ref)`` returns '' on agreement.
        """
        notes = notes or {}
        rows = []
        reference = None
        for i, (impl, fn) in enumerate(impls):
            row = Row(name, impl, elements, baseline=(impl == baseline), note=notes.get(impl, ""))
            out = to_numpy(fn())
            if check is None:
                row.check = "n/a"
            elif i == 0:
                reference = ref(out) if ref else out
                row.check = "reference"
            elif check is not None:
                problem = check(impl, out, reference)
                row.check = "ok" if not problem else f"MISMATCH: {problem}"
            del out
            if row.check.startswith("MISMATCH"):
                row.note = (row.note + "; " if row.note else "") + "not timed"
                if self.verbose:
                    print(f"  {name:<24} {impl:<40} {row.check}", file=sys.stderr)
            else:
                row.times_s = time_call(fn, self.repeats)
                row.median_s = statistics.median(row.times_s)
                row.min_s = min(row.times_s)
                if self.verbose:
                    print(
                        f"  {name:<24} {impl:<40} {row.median_s:9.4f} s {row.meps:9.1f} M/s",
                        file=sys.stderr,
                    )
            rows.append(row)
        base = next((r for r in rows if r.baseline), None)
        for r in rows:
            if base is not None and base.meps == base.meps:
                r.ratio = r.meps / base.meps
        self.rows.extend(rows)
        return rows

    def skipped(self, name: str, impl: str, elements: int, why: str) -> None:
        self.rows.append(Row(name, impl, elements, check="skipped", note=why))

    def find(self, group: str, impl_prefix: str) -> Row | None:
        """The first row of ``group`` whose implementation starts with ``impl_prefix``."""
        for r in self.rows:
            if r.group == group and r.impl.startswith(impl_prefix):
                return r
        return None

    def get(self, group: str, impl: str) -> Row:
        """The row of ``group`` named exactly ``impl``."""
        for r in self.rows:
            if r.group == group and r.impl == impl:
                return r
        raise KeyError((group, impl))


def elementwise(start: int, rtol: float = 1e-7, atol: float = 1e-9, index: int | None = None):
    """A check comparing (one element of) each output with the reference from ``start``."""

    def check(impl: str, got: Any, ref: Any) -> str:
        if index is not None and isinstance(got, tuple):
            got = got[index]
        return agree(got, ref, start, rtol, atol)

    return check


# --------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------


def run(n: int, w: int, repeats: int, seed: int, stream_n: int, verbose: bool) -> Bench:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    steps = np.arange(n, dtype=np.float64)  # the logged training step
    ps = pl.Series("x", x)
    pds = pd.Series(x)
    pdf = pl.DataFrame({"t": steps, "y": x})
    start = w - 1
    b = Bench(repeats, verbose)

    # --- rolling mean ---------------------------------------------------------------
    b.group(
        "rolling mean",
        n,
        [
            ("rlforensics rolling_mean", lambda: rs.rolling_mean(x, w)),
            ("numpy cumsum", lambda: np_rolling_mean(x, w)),
            (f"pandas rolling({w}).mean", lambda: pds.rolling(w).mean()),
            ("polars rolling_mean", lambda: ps.rolling_mean(w)),
        ],
        baseline="numpy cumsum",
        check=elementwise(start),
    )

    # --- rolling std ----------------------------------------------------------------
    b.group(
        "rolling std",
        n,
        [
            ("rlforensics rolling_std", lambda: rs.rolling_std(x, w)),
            ("numpy cumsum (mean+std, S1 & S2)", lambda: np_rolling_mean_std(x, w)),
            (f"pandas rolling({w}).std", lambda: pds.rolling(w).std()),
            ("polars rolling_std", lambda: ps.rolling_std(w)),
        ],
        baseline="polars rolling_std",
        check=elementwise(start, index=1),
    )

    # --- rolling slope vs logged step ----------------------------------------------
    b.group(
        "rolling slope",
        n,
        [
            ("rlforensics rolling_slope", lambda: rs.rolling_slope(steps, x, w)),
            ("numpy blocked-cumsum OLS", lambda: np_rolling_slope(steps, x, w)),
            ("polars rolling_cov/rolling_var", lambda: polars_slope(pdf, w)),
        ],
        baseline="numpy blocked-cumsum OLS",
        check=elementwise(start),
    )

    # --- rolling skew / kurt (pandas' adjusted estimators) --------------------------
    b.group(
        "rolling skew",
        n,
        [
            ("rlforensics rolling_skew(bias=False)", lambda: rs.rolling_skew(x, w, bias=False)),
            (f"pandas rolling({w}).skew", lambda: pds.rolling(w).skew()),
            ("polars rolling_skew(bias=False)", lambda: ps.rolling_skew(w, bias=False)),
        ],
        baseline=f"pandas rolling({w}).skew",
        check=elementwise(start, rtol=1e-6, atol=1e-8),
    )
    b.group(
        "rolling kurt",
        n,
        [
            ("rlforensics rolling_kurt(bias=False)", lambda: rs.rolling_kurt(x, w, bias=False)),
            (f"pandas rolling({w}).kurt", lambda: pds.rolling(w).kurt()),
            ("polars rolling_kurtosis(bias=False)", lambda: ps.rolling_kurtosis(w, bias=False)),
        ],
        baseline=f"pandas rolling({w}).kurt",
        check=elementwise(start, rtol=1e-6, atol=1e-8),
    )

    # --- rolling quantile -----------------------------------------------------------
    b.group(
        f"rolling quantile q={QUANTILE}",
        n,
        [
            ("rlforensics rolling_quantile", lambda: rs.rolling_quantile(x, w, QUANTILE)),
            (f"pandas rolling({w}).quantile", lambda: pds.rolling(w).quantile(QUANTILE)),
            (
                "polars rolling_quantile(linear)",
                lambda: ps.rolling_quantile(QUANTILE, "linear", w),
            ),
        ],
        baseline=f"pandas rolling({w}).quantile",
        check=elementwise(start, rtol=0.0, atol=0.0),
    )

    # --- rolling min / max ----------------------------------------------------------
    extrema = (
        ("min", rs.rolling_min, ps.rolling_min, scipy_rolling_min),
        ("max", rs.rolling_max, ps.rolling_max, scipy_rolling_max),
    )
    for op, rs_fn, pl_fn, sp_fn in extrema:
        b.group(
            f"rolling {op}",
            n,
            [
                (f"rlforensics rolling_{op}", partial(rs_fn, x, w)),
                (f"pandas rolling({w}).{op}", partial(pandas_rolling, pds, w, op)),
                (f"polars rolling_{op}", partial(pl_fn, w)),
                (f"scipy ndimage.{op}imum_filter1d", partial(sp_fn, x, w)),
            ],
            baseline=f"pandas rolling({w}).{op}",
            check=elementwise(start, rtol=0.0, atol=0.0),
        )

    # --- exponentially weighted mean ------------------------------------------------
    b.group(
        f"ewm mean span={EWM_SPAN}",
        n,
        [
            ("rlforensics ewm_mean", lambda: rs.ewm_mean(x, span=EWM_SPAN)),
            ("pandas ewm(adjust=False).mean", lambda: pds.ewm(span=EWM_SPAN, adjust=False).mean()),
            ("polars ewm_mean(adjust=False)", lambda: ps.ewm_mean(span=EWM_SPAN, adjust=False)),
            ("scipy signal.lfilter", lambda: scipy_ewm_mean(x, EWM_SPAN)),
        ],
        baseline="pandas ewm(adjust=False).mean",
        check=elementwise(0, rtol=1e-9, atol=1e-12),
    )

    # --- whole-run estimators -------------------------------------------------------
    def whole_moments():
        m = rs.Moments()
        m.update_many(x)
        return np.array([m.mean(), m.variance(1), m.skewness(True), m.kurtosis(True)])

    def scipy_describe():
        d = sps.describe(x)
        return np.array([d.mean, d.variance, d.skewness, d.kurtosis])

    b.group(
        "whole-run moments",
        n,
        [
            ("rlforensics Moments.update_many", whole_moments),
            ("scipy stats.describe", scipy_describe),
        ],
        baseline="scipy stats.describe",
        check=elementwise(0, rtol=1e-9, atol=1e-12),
    )

    qs = np.array([0.01, 0.1, 0.5, 0.9, 0.99])

    def sketch():
        s = rs.QuantileSketch()
        s.update_many(x)
        return np.array([s.quantile(q) for q in qs] + [s.rank_error_bound()])

    def sketch_check(impl: str, got: np.ndarray, ref: np.ndarray) -> str:
        # The sketch is approximate: compare ranks, within its reported bound.
        bound = ref[-1]
        ranks = np.searchsorted(np.sort(x), ref[:-1], side="right") / n
        worst = float(np.max(np.abs(ranks - qs)))
        return "" if worst <= bound + 1.0 / n else f"rank error {worst:.3g} > bound {bound:.3g}"

    b.group(
        "whole-run quantiles (5 q)",
        n,
        [
            ("rlforensics QuantileSketch.update_many", sketch),
            ("numpy quantile (exact, partition)", lambda: np.quantile(x, qs)),
        ],
        baseline="numpy quantile (exact, partition)",
        check=sketch_check,
    )

    # --- memory floors --------------------------------------------------------------
    b.group(
        "memory floor",
        n,
        [
            ("numpy x.sum() + x@x (read only)", lambda: (x.sum(), x @ x)),
            ("numpy x.copy() (read + write new)", lambda: x.copy()),
        ],
        baseline="numpy x.sum() + x@x (read only)",
    )

    # --- streaming-object overhead (per-call cost of the FFI) -----------------------
    xs_small = x[:stream_n].copy()
    xs_list = xs_small.tolist()

    def stream_batch():
        r = rs.RollingMoments(w)
        r.update_many(xs_small)
        return r.std()

    def stream_loop():
        r = rs.RollingMoments(w)
        upd = r.update
        for v in xs_list:
            upd(v)
        return r.std()

    def stream_loop_query():
        r = rs.RollingMoments(w)
        upd, sd = r.update, r.std
        for v in xs_list:
            upd(v)
            sd()
        return r.std()

    def python_loop():
        acc = 0.0
        for v in xs_list:
            acc += v
        return acc

    b.group(
        "streaming RollingMoments",
        stream_n,
        [
            ("RollingMoments.update_many", stream_batch),
            ("loop of .update(v)", stream_loop),
            ("loop of .update(v) + .std()", stream_loop_query),
            ("bare Python loop (acc += v)", python_loop),
        ],
        baseline="loop of .update(v)",
        check=lambda impl, got, ref: "" if impl.startswith("bare") or got == ref else f"{got} != {ref}",
    )

    return b


def targets(b: Bench) -> list[dict]:
    """The issue's targets, evaluated on this run's medians."""

    def meps(group: str, impl: str) -> float:
        r = b.find(group, impl)
        return r.meps if r and r.median_s == r.median_s else float("nan")

    out = []

    def add(name: str, value: float, goal: float, unit: str) -> None:
        ok = value == value and value >= goal
        out.append({"target": name, "value": value, "goal": goal, "unit": unit, "pass": ok})

    for g, impl in (
        ("rolling mean", "rlforensics"),
        ("rolling std", "rlforensics"),
        ("rolling slope", "rlforensics"),
    ):
        add(f"{g} >= 200 M elements/s", meps(g, impl), 200.0, "M/s")
    add(
        "rolling std >= 3x polars rolling_std",
        meps("rolling std", "rlforensics") / meps("rolling std", "polars"),
        3.0,
        "x",
    )
    for g in ("rolling skew", "rolling kurt"):
        add(f"{g} >= 2x pandas", meps(g, "rlforensics") / meps(g, "pandas"), 2.0, "x")
    qg = f"rolling quantile q={QUANTILE}"
    add(
        "rolling quantile (w=50) >= 10x pandas",
        meps(qg, "rlforensics") / meps(qg, "pandas"),
        10.0,
        "x",
    )
    return out


def _loadavg() -> str:
    """1/5/15-minute load averages: other work on the machine skews absolute numbers."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def _git_state() -> str | None:
    """Commit of the checkout and whether the Rust sources differ from it (best effort)."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "rust", "Cargo.toml"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + (" (Rust sources modified)" if dirty else "")


def environment() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ext = getattr(rlforensics, "_core", None)
    ext_file = getattr(ext, "__file__", None)
    return {
        "git": _git_state(),
        "extension": ext_file,
        "extension_built": (
            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(os.path.getmtime(ext_file)))
            if ext_file
            else None
        ),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "polars": pl.__version__,
        "polars_threads": pl.thread_pool_size(),
        "scipy": scipy.__version__,
        "rlforensics": getattr(rlforensics, "__version__", "unknown"),
    }


def fmt_table(rows: list[Row]) -> str:
    head = f"| {'operation':<26} | {'implementation':<40} | {'median s':>9} | {'M elem/s':>9} | {'ratio':>7} | check |"
    sep = "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"
    lines = [head, sep]
    for r in rows:
        if r.median_s == r.median_s:
            med, mps = f"{r.median_s:9.6f}", f"{r.meps:9.1f}"
            ratio = f"{r.ratio:6.2f}x" if r.ratio == r.ratio else ""
        else:
            med = mps = ratio = "-"
        impl = r.impl + (" *" if r.baseline else "")
        chk = r.check + (f" ({r.note})" if r.note else "")
        lines.append(
            f"| {r.group:<26} | {impl:<40} | {med:>9} | {mps:>9} | {ratio:>7} | {chk} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10_000_000, help="values per array (default 10^7)")
    p.add_argument("--window", type=int, default=50, help="rolling window (default 50)")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per row (default 5)")
    p.add_argument("--seed", type=int, default=20240601, help="RNG seed")
    p.add_argument(
        "--stream-n", type=int, default=100_000, help="values for the per-call overhead rows"
    )
    p.add_argument("--json", metavar="PATH", help="write all figures as JSON to PATH")
    p.add_argument("--quick", action="store_true", help="tiny smoke run (n=20000, 2 repeats)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    a = p.parse_args(argv)
    if a.quick:
        a.n, a.repeats, a.stream_n = 20_000, 2, 5_000
    if a.window < 2 or a.n < 2 * a.window:
        p.error("need window >= 2 and n >= 2 * window")

    env = environment()
    cmd = " ".join([os.path.basename(sys.executable)] + sys.argv)
    print(
        f"# rlforensics stats benchmark: n={a.n:,} window={a.window} repeats={a.repeats} "
        f"(median of repeats after one warm-up)"
    )
    print(
        f"# {env['cpu']}, {env['nproc']} CPUs; Python {env['python']}, numpy {env['numpy']}, "
        f"pandas {env['pandas']}, polars {env['polars']} ({env['polars_threads']} threads), "
        f"scipy {env['scipy']}"
    )
    print(f"# git {env['git']}; extension built {env['extension_built']}")
    load_start = _loadavg()
    print(f"# load average at start: {load_start}")
    t0 = time.perf_counter()
    b = run(a.n, a.window, a.repeats, a.seed, a.stream_n, not a.quiet)
    print()
    print(fmt_table(b.rows))
    print()
    print("* = baseline of the group; ratio = throughput / baseline throughput.")

    # Per-call costs of the streaming objects, in ns.
    g = "streaming RollingMoments"
    many, loop, loopq, bare = (
        b.get(g, "RollingMoments.update_many"),
        b.get(g, "loop of .update(v)"),
        b.get(g, "loop of .update(v) + .std()"),
        b.get(g, "bare Python loop (acc += v)"),
    )
    per = {r.impl: r.median_s / r.elements * 1e9 for r in (many, loop, loopq, bare)}
    print()
    print(f"Per-element cost on {a.stream_n:,} values (ns):")
    for k, v in per.items():
        print(f"  {k:<32} {v:8.1f}")
    ffi = per[loop.impl] - per[many.impl]
    print(
        f"  => a Python-level .update(v) call costs ~{ffi:.0f} ns more than the same update "
        f"inside update_many (interpreter loop + method call + FFI); the bare loop alone is "
        f"~{per[bare.impl]:.0f} ns."
    )

    tg = targets(b)
    print()
    print("Targets (from this run):")
    for t in tg:
        unit = " M/s" if t["unit"] == "M/s" else "x"
        val = f"{t['value']:.1f}{unit}" if t["unit"] == "M/s" else f"{t['value']:.2f}{unit}"
        goal = f"{t['goal']:.0f}{unit}"
        print(f"  {'PASS' if t['pass'] else 'FAIL'}  {t['target']:<42} measured {val:>10} (goal {goal})")
    mismatches = [r for r in b.rows if r.check.startswith("MISMATCH")]
    if mismatches:
        print()
        print("Mismatching implementations (not timed):")
        for r in mismatches:
            print(f"  {r.group} / {r.impl}: {r.check}")
    print()
    load_end = _loadavg()
    print(f"# load average at end: {load_end}")
    print(f"# total wall time {time.perf_counter() - t0:.1f} s; command: {cmd}")

    if a.json:
        doc = {
            "command": cmd,
            "args": vars(a),
            "environment": env,
            "loadavg": {"start": load_start, "end": load_end},
            "rows": [dict(asdict(r), meps=r.meps) for r in b.rows],
            "per_element_ns": per,
            "targets": tg,
        }
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=2, default=float)
        print(f"# wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
