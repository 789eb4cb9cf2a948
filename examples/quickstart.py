"""A worked example on the two bundled TRL runs: the numeric core, then the RLDK-compatible
forensics.

Run:  python examples/quickstart.py [path/to/log_history.jsonl ...]

Until the log scanner lands, the example reads the JSONL itself (one JSON object per logged
step), maps TRL's keys to ``ComprehensivePPOForensics.update``'s arguments by hand, and hands
columns to ``rlforensics.stats`` and ``rlforensics.ComprehensivePPOForensics``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from rlforensics import stats

HERE = Path(__file__).parent
RUNS = {
    # file: (KL key, KL target, tolerance, note on the KL scale)
    "trl-ppo-v2-basic.jsonl": ("objective/kl", 3.0, 1.0, "per-sequence summed KL"),
    "trl-grpo-healthy.jsonl": ("kl", 0.1, 0.05, "per-token mean KL"),
}

# ComprehensivePPOForensics argument -> TRL key, per run (the alias layer will do this).
FORENSICS_KEYS = {
    "trl-ppo-v2-basic.jsonl": {
        "kl": "objective/kl", "entropy": "objective/entropy", "reward_mean": "objective/scores",
    },
    "trl-grpo-healthy.jsonl": {
        "kl": "kl", "entropy": "entropy", "reward_mean": "reward", "reward_std": "reward_std",
        "total_grad_norm": "grad_norm",
    },
}


def load_columns(path: Path, keys: list[str]) -> dict[str, np.ndarray]:
    """Training entries of a log_history JSONL as float columns (NaN where a key is absent)."""
    rows = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        if "train_runtime" in entry or any(k.startswith("eval_") for k in entry):
            continue  # the final summary and evaluation entries are not training steps
        rows.append(entry)
    def value(entry: dict, key: str) -> float:
        v = entry.get(key)
        return math.nan if v is None else float(v)  # keep a real 0.0; None means "not logged"

    cols = {k: np.array([value(r, k) for r in rows]) for k in keys}
    cols["step"] = np.array([float(r["step"]) for r in rows])
    return cols


def fmt(v: float | None, spec: str = ".3g") -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def analyse(path: Path, kl_key: str, target: float, tol: float, note: str) -> None:
    c = load_columns(path, [kl_key])
    steps, kl = c["step"], c[kl_key]
    print(f"\n{path.name}: {len(kl)} training steps, {kl_key} ({note})")

    m = stats.Moments()
    m.update_many(kl)
    sketch = stats.QuantileSketch()
    sketch.update_many(kl)
    print(
        f"  KL mean {fmt(m.mean())}  std {fmt(m.std())}  min {fmt(m.min())}  max {fmt(m.max())}"
        f"  p50 {fmt(sketch.quantile(0.5))}  p99 {fmt(sketch.quantile(0.99))}"
    )

    slope = stats.rolling_slope(steps, kl, 50)
    std = stats.rolling_std(kl, 50)
    for at in (49, len(kl) // 2, len(kl) - 1):
        print(
            f"  step {int(steps[at]):>4}: KL {kl[at]:.4f}  50-step trend {fmt(slope[at], '+.2e')}/step"
            f"  rolling std {fmt(std[at])}"
        )

    mk = stats.mann_kendall(kl[-100:])
    if mk is not None:
        print(f"  last 100 steps, Mann-Kendall tau {mk['tau']:+.2f} (p={mk['p_value']:.2g})")

    drift = stats.DriftDetector(reference_size=100, window=50)
    drift.update_many(kl)
    ks = drift.ks()
    kl_div = drift.histogram_kl()
    if ks is not None and kl_div is not None:
        print(
            f"  drift of the last 50 steps vs the first 100: KS p={ks['p_value']:.2g}, "
            f"histogram KL {kl_div['corrected']:.3f} (raw {kl_div['raw']:.3f}, bias removed)"
        )

    r = stats.controller_metrics(kl, None, target, tol, steps=steps)
    print(
        f"  vs target {target}±{tol}: {fmt(r['time_in_band'], '.0%')} of steps in band, "
        f"{r['band_exits']} exits, max overshoot {fmt(r['max_overshoot'])}, "
        f"settled {r['settle_count']}x (last after {fmt(r['last_settling_time'])} steps)"
    )


def forensics(path: Path, target: float, tol: float) -> None:
    """The RLDK-compatible forensics over the run's columns (batch path), then its verdict."""
    import rlforensics

    keys = FORENSICS_KEYS.get(path.name, {"kl": "kl"})
    c = load_columns(path, list(keys.values()))
    f = rlforensics.ComprehensivePPOForensics(kl_target=target, kl_target_tolerance=tol)
    # A column that is all NaN was never logged: leave it out rather than report NaNs.
    cols = {arg: c[key] for arg, key in keys.items() if not np.isnan(c[key]).all()}
    f.update_many(c["step"], **cols)
    h = f.get_health_summary()
    print(
        f"  forensics: status {h['status']}, overall health {fmt(h['overall_health_score'])}, "
        f"{h['total_anomalies']} anomaly events ({h['critical_anomalies']} critical)"
    )
    for e in f.get_anomalies()[:5]:
        print(f"    [{e['severity']}] {e['type']} steps {e['first_step']}-{e['last_step']}: {e['message']}")


def main(argv: list[str]) -> int:
    import rlforensics

    print(f"rlforensics {rlforensics.__version__}: numeric core and forensics on sample TRL runs")
    paths = [Path(a) for a in argv] or [HERE / "data" / name for name in RUNS]
    for path in paths:
        kl_key, target, tol, note = RUNS.get(path.name, ("kl", 0.1, 0.05, "KL"))
        analyse(path, kl_key, target, tol, note)
        forensics(path, target, tol)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
