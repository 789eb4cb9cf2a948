#!/usr/bin/env python
"""How much evidence a fault of the TRL-shaped runs leaves within k rows of its onset.

An oracle that knows the onset row compares the mean of the k rows from the onset with the
level the 100 rows before it predict (their least-squares line, extrapolated), in units of
that line's residual spread: a one-sided t in the fault's direction. No detector that does
not know the onset can do better on the same rows at a useful false-alarm rate, so a seed
whose t is small at k rows cannot be caught at k rows by any rule. The issue asks for a
median delay of at most 20 rows; this shows, per signal, which faults leave enough at 20.

    python benches/study_trainer_evidence.py              # 40 seeds, k = 20
    python benches/study_trainer_evidence.py --seeds 10 --rows 30
"""

from __future__ import annotations

import argparse

import numpy as np

from rlforensics.testing import generate_trainer_run

# fault -> the signals its rule must see move, each with the direction of the move (+1/-1,
# or 0 when the rising and falling component depend on the seed: see `directions`).
SIGNALS: dict[str, list[tuple[str, int]]] = {
    "grpo_length_hacking": [("reward", +1), ("completions/mean_length", +1)],
    "grpo_component_divergence": [("rewards/accuracy_reward/mean", 0), ("rewards/format_reward/mean", 0)],
}


def shift_t(y: np.ndarray, i0: int, k: int, before: int = 100) -> float:
    """t of the mean of y[i0:i0+k] against the pre-onset line's prediction."""
    x = np.arange(-before, 0, dtype=np.float64)
    line = np.polyfit(x, y[i0 - before : i0], 1)
    spread = float(np.std(y[i0 - before : i0] - np.polyval(line, x), ddof=2))
    expected = float(np.mean(np.polyval(line, np.arange(k, dtype=np.float64))))
    return (float(np.mean(y[i0 : i0 + k])) - expected) / (spread * np.sqrt(1.0 / k + 1.0 / before))


def directions(fault: str, params: dict[str, float]) -> list[int]:
    """The direction each signal of `fault` moves in this run."""
    if fault == "grpo_component_divergence":
        acc_rises = bool(params["accuracy_rises"])
        return [+1, -1] if acc_rises else [-1, +1]
    return [d for _, d in SIGNALS[fault]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--rows", type=int, default=20, help="rows after the onset (k)")
    a = ap.parse_args()
    print(f"evidence {a.rows} rows after the onset, oracle t against the pre-onset line, {a.seeds} seeds\n")
    print(f"{'fault':28s} {'signal':32s} {'median t':>8s} {'t >= 2':>7s} {'t >= 3':>7s}")
    for fault, signals in SIGNALS.items():
        ts = []
        for seed in range(a.seeds):
            run = generate_trainer_run(fault, seed)
            i0 = int(np.searchsorted(run.steps, run.onset_step))
            dirs = directions(fault, run.params)
            ts.append([d * shift_t(run.columns[k], i0, a.rows) for (k, _), d in zip(signals, dirs)])
        t = np.array(ts)
        for j, (k, _) in enumerate(signals):
            print(f"{fault:28s} {k:32s} {np.median(t[:, j]):8.2f} {np.mean(t[:, j] >= 2):7.2f} {np.mean(t[:, j] >= 3):7.2f}")
        both = t.min(axis=1)
        print(f"{fault:28s} {'all of them (smallest t)':32s} {np.median(both):8.2f} {np.mean(both >= 2):7.2f} {np.mean(both >= 3):7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
