#!/usr/bin/env python
"""Detection quality of rlforensics' detectors on the labelled scenarios.

For every scenario of ``rlforensics.testing`` and every seed, the scenario is fed to a
detector ``detect(scenario) -> list[event dict]`` (each event has at least ``type``,
``severity`` and ``first_step``) and scored against its labels:

* recall: the fault is caught when an event whose type is one of the scenario's ``expected``
  types has ``first_step >= onset_step``. An expected-type event that opened before the
  onset does not count: it is a false alarm, and if it is still open at the onset it may
  hide the fault (one event that grows is not raised again): such seeds are "masked".
* delay: first such ``first_step`` minus ``onset_step``, in logged steps (PPO logs every
  step, GRPO every 10); the median over detected seeds is reported.
* false alarms: every event on a healthy scenario, and every event that opened before the
  onset on a fault scenario, per 10,000 logged rows of the clean span (all rows of a healthy
  run, the rows before the onset of a faulty one); critical ones are also counted apart.
* wall time: the detector call (construction + feeding + get_anomalies), per scenario.

The detector is pluggable (``--detector``). ``comprehensive`` feeds ``rows()`` one by one
into ``rlforensics.ComprehensivePPOForensics`` when it exists (RLDK's ``update`` signature),
and turns the first step with ``length_bias_detected`` into a ``length_bias_detected`` event;
``trackers`` feeds the columns into the trackers that exist today (``KLScheduleTracker``,
``GradientNormsAnalyzer``) through their batch paths, all with default settings; ``auto``
(default) prefers ``comprehensive``. Nothing is tuned here: the point is to measure what the
detectors catch and what they flag on healthy runs.

Usage::

    python benches/bench_detection.py                  # all scenarios, 5 seeds, full length
    python benches/bench_detection.py --json out.json  # also write every figure as JSON
    python benches/bench_detection.py --quick          # 1 seed, 400 rows (CI smoke)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from typing import Any, Callable

import numpy as np

import rlforensics
from rlforensics.testing import SCENARIOS, Scenario, generate, healthy_names

Event = dict[str, Any]
Detector = Callable[[Scenario], list[Event]]
PER_ROWS = 10_000


# --------------------------------------------------------------------------------------
# Detectors
# --------------------------------------------------------------------------------------


def _tagged(events: list[Any], tracker: str) -> list[Event]:
    return [{**e, "tracker": e.get("tracker", tracker)} for e in events]


def detect_trackers(s: Scenario) -> list[Event]:
    """The standalone trackers with default settings, fed through their batch paths."""
    c = s.columns
    out: list[Event] = []
    if "kl" in c:
        kl = rlforensics.KLScheduleTracker()
        kl.update_many(s.steps, c["kl"], c.get("kl_coef"))
        out += _tagged(kl.get_anomalies(), "kl_schedule")
    norms = {k: c[k] for k in ("policy_grad_norm", "value_grad_norm", "total_grad_norm") if k in c}
    if norms:
        g = rlforensics.GradientNormsAnalyzer()
        g.update_many(s.steps, **norms)
        out += _tagged(g.get_anomalies(), "gradient_norms")
    return out


# RLDK's update() takes these positionally without defaults; a family that does not log one
# passes None (our facade treats a missing metric as "no update", never as a default value).
_REQUIRED = ("kl", "kl_coef", "entropy", "reward_mean", "reward_std")


def detect_comprehensive(s: Scenario) -> list[Event]:
    """``ComprehensivePPOForensics`` fed row by row, as a training loop would."""
    forensics = rlforensics.ComprehensivePPOForensics()  # type: ignore[attr-defined]
    length_bias_step = None
    for row in s.rows():
        for k in _REQUIRED:
            row.setdefault(k, None)  # type: ignore[arg-type]
        m = forensics.update(**row)
        if length_bias_step is None and getattr(m, "length_bias_detected", False):
            length_bias_step = row["step"]
    out = _tagged(list(forensics.get_anomalies()), "comprehensive")
    if length_bias_step is not None:
        # RLDK surfaces length bias only as a metric flag; its rising edge is the event.
        out.append({"type": "length_bias_detected", "severity": "warning",
                    "first_step": length_bias_step, "tracker": "length_bias"})
    return out


def pick_detector(name: str) -> tuple[str, Detector]:
    has = hasattr(rlforensics, "ComprehensivePPOForensics")
    if name == "comprehensive" or (name == "auto" and has):
        if not has:
            raise SystemExit("rlforensics.ComprehensivePPOForensics does not exist in this build")
        return "comprehensive", detect_comprehensive
    return "trackers", detect_trackers


# --------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------


def score(s: Scenario, events: list[Event], seconds: float) -> dict[str, Any]:
    """Labels versus events for one (scenario, seed) run."""
    onset = s.onset_step
    # A healthy run has no onset: every event is a false alarm and none is a detection.
    cut = np.inf if onset is None else onset
    clean_rows = s.n_steps if onset is None else int(np.searchsorted(s.steps, onset))
    false = [e for e in events if e["first_step"] < cut]
    hits = [e for e in events if e["type"] in s.expected and e["first_step"] >= cut]
    by_type: dict[str, float] = {}
    for e in hits:
        by_type[e["type"]] = min(by_type.get(e["type"], np.inf), e["first_step"] - cut)
    first_hit = min(hits, key=lambda e: e["first_step"]) if hits else None
    return {
        "scenario": s.name,
        "family": s.family,
        "seed": s.seed,
        "rows": s.n_steps,
        "onset_step": onset,
        "clean_rows": clean_rows,
        "detected": first_hit is not None,
        "delay_steps": None if first_hit is None else first_hit["first_step"] - cut,
        "first_hit_type": None if first_hit is None else first_hit["type"],
        "delay_by_type": by_type,
        # Expected-type events opened before the onset and still open at it: one event that
        # grows cannot announce the fault again.
        "masked": sorted({e["type"] for e in false
                          if e["type"] in s.expected and (e.get("last_step") or -np.inf) >= cut}),
        "false_alarms": len(false),
        "critical_false_alarms": sum(e["severity"] == "critical" for e in false),
        "seconds": seconds,
        "events": [
            {k: e.get(k) for k in ("type", "severity", "first_step", "last_step", "tracker")}
            for e in events
        ],
    }


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def aggregate(runs: list[dict[str, Any]], expected: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Per scenario, per (scenario, expected type) and per anomaly type figures."""
    per_scenario: dict[str, Any] = {}
    per_expected: list[dict[str, Any]] = []
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        by_name[r["scenario"]].append(r)
    for name, rs in by_name.items():
        clean = sum(r["clean_rows"] for r in rs)
        healthy = rs[0]["onset_step"] is None
        per_scenario[name] = {
            "seeds": len(rs),
            "healthy": healthy,
            "recall": None if healthy else sum(r["detected"] for r in rs) / len(rs),
            "median_delay_steps": _median([r["delay_steps"] for r in rs if r["detected"]]),
            "first_hit_types": sorted({r["first_hit_type"] for r in rs if r["first_hit_type"]}),
            "masked_seeds": sum(bool(r["masked"]) for r in rs),
            "false_alarms": sum(r["false_alarms"] for r in rs),
            "critical_false_alarms": sum(r["critical_false_alarms"] for r in rs),
            "clean_rows": clean,
            "fa_per_10k": PER_ROWS * sum(r["false_alarms"] for r in rs) / max(clean, 1),
            "critical_fa_per_10k": PER_ROWS * sum(r["critical_false_alarms"] for r in rs) / max(clean, 1),
            "median_ms": 1e3 * statistics.median(r["seconds"] for r in rs),
            "us_per_row": 1e6 * sum(r["seconds"] for r in rs) / sum(r["rows"] for r in rs),
        }
        for t in expected[name]:
            delays = [r["delay_by_type"][t] for r in rs if t in r["delay_by_type"]]
            per_expected.append({"scenario": name, "type": t, "recall": len(delays) / len(rs),
                                 "median_delay_steps": _median(delays)})
    clean_total = {"healthy": 0, "pre_onset": 0}
    for r in runs:
        clean_total["healthy" if r["onset_step"] is None else "pre_onset"] += r["clean_rows"]
    counts = ("healthy", "healthy_critical", "pre_onset", "post_onset_expected", "post_onset_other")
    per_type: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(counts, 0))
    for r in runs:
        onset, exp = r["onset_step"], expected[r["scenario"]]
        for e in r["events"]:
            d = per_type[e["type"]]
            if onset is None:
                d["healthy"] += 1
                d["healthy_critical"] += int(e["severity"] == "critical")
            elif e["first_step"] < onset:
                d["pre_onset"] += 1
            elif e["type"] in exp:
                d["post_onset_expected"] += 1
            else:
                d["post_onset_other"] += 1
    types = {}
    for t, d in sorted(per_type.items()):
        types[t] = {
            **d,
            "healthy_per_10k": PER_ROWS * d["healthy"] / max(clean_total["healthy"], 1),
            "pre_onset_per_10k": PER_ROWS * d["pre_onset"] / max(clean_total["pre_onset"], 1),
            "caught_in": sorted({r["scenario"] for r in runs if t in r["delay_by_type"]}),
            "fired_in": sorted({r["scenario"] for r in runs if any(e["type"] == t for e in r["events"])}),
        }
    return {"scenarios": per_scenario, "expected_types": per_expected, "anomaly_types": types,
            "clean_rows": clean_total}


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def _f(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def tables(agg: dict[str, Any]) -> str:
    out = ["| scenario | recall | median delay (steps) | first expected type caught | masked | "
           "FA/10k rows | critical FA/10k | median ms | us/row |",
           "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for name, a in agg["scenarios"].items():
        out.append(
            f"| {name} | {_f(a['recall'], '.2f')} | {_f(a['median_delay_steps'], '.0f')} | "
            f"{', '.join(a['first_hit_types']) or '-'} | {a['masked_seeds']}/{a['seeds']} | "
            f"{a['fa_per_10k']:.1f} | {a['critical_fa_per_10k']:.1f} | {a['median_ms']:.1f} | "
            f"{a['us_per_row']:.2f} |"
        )
    out += ["", "| fault scenario | expected type | recall | median delay (steps) |", "|---|---|---:|---:|"]
    for e in agg["expected_types"]:
        out.append(f"| {e['scenario']} | {e['type']} | {e['recall']:.2f} | {_f(e['median_delay_steps'], '.0f')} |")
    out += ["", "| anomaly type | healthy events (FA/10k) | critical on healthy | pre-onset events (FA/10k) | "
            "post-onset expected | post-onset other | fired in |", "|---|---:|---:|---:|---:|---:|---|"]
    for t, d in agg["anomaly_types"].items():
        out.append(
            f"| {t} | {d['healthy']} ({d['healthy_per_10k']:.1f}) | {d['healthy_critical']} | "
            f"{d['pre_onset']} ({d['pre_onset_per_10k']:.1f}) | {d['post_onset_expected']} | "
            f"{d['post_onset_other']} | {', '.join(d['fired_in'])} |"
        )
    return "\n".join(out)


def environment() -> dict[str, Any]:
    try:
        load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        load = "unknown"
    return {"python": platform.python_version(), "platform": platform.platform(),
            "numpy": np.__version__, "rlforensics": rlforensics.__version__,
            "nproc": os.cpu_count(), "load_average": load}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=5, help="seeds per scenario (default 5)")
    p.add_argument("--n-steps", type=int, default=None, help="rows per run (default: per family)")
    p.add_argument("--detector", choices=("auto", "trackers", "comprehensive"), default="auto")
    p.add_argument("--scenario", action="append", choices=SCENARIOS, help="only these (repeatable)")
    p.add_argument("--json", metavar="PATH", help="write all figures as JSON to PATH")
    p.add_argument("--quick", action="store_true", help="1 seed, 400 rows (CI smoke)")
    a = p.parse_args(argv)
    if a.quick:
        a.seeds, a.n_steps = 1, a.n_steps or 400
    det_name, detect = pick_detector(a.detector)
    names = tuple(a.scenario or SCENARIOS)
    env = environment()
    print(f"# detection benchmark: detector={det_name}, {len(names)} scenarios x {a.seeds} seeds, "
          f"rows={a.n_steps or 'family default'}")
    print(f"# rlforensics {env['rlforensics']}, Python {env['python']}, numpy {env['numpy']}, "
          f"load average {env['load_average']}")
    runs, expected = [], {}
    t0 = time.perf_counter()
    for name in names:
        for seed in range(a.seeds):
            s = generate(name, seed, a.n_steps)
            expected[name] = s.expected
            t = time.perf_counter()
            events = detect(s)
            runs.append(score(s, events, time.perf_counter() - t))
    agg = aggregate(runs, expected)
    print()
    print(tables(agg))
    print()
    print(f"# healthy rows {agg['clean_rows']['healthy']}, pre-onset rows {agg['clean_rows']['pre_onset']}; "
          f"total {time.perf_counter() - t0:.1f} s; healthy scenarios: {', '.join(healthy_names())}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"environment": env, "detector": det_name, "seeds": a.seeds,
                       "n_steps": a.n_steps, "command": " ".join(sys.argv), **agg, "runs": runs},
                      f, indent=1, default=float)
        print(f"# wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
