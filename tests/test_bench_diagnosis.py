"""The diagnosis benchmark (benches/bench_diagnosis.py): its mirror of the linking, and a
smoke run in which the mirror must agree with the core's first cause on every run."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import load_bench

from rlforensics.forensics.diagnosis import diagnose


def ev(kind: str, first: float, last: float) -> dict[str, Any]:
    return {"type": kind, "severity": "warning", "first_step": first, "last_step": last}


def test_the_mirror_links_as_the_core() -> None:
    bench = load_bench("bench_diagnosis")
    events = [ev("a", 5, 20), ev("a", 40, 60), ev("a", 100, 120), ev("b", 290, 335), ev("a", 300, 340),
              ev("c", 339, 339)]
    core = diagnose(events, 50.0)
    for i in range(len(events)):
        assert bench.root(events, i, 50.0, skip_background=True) is core[i]["root"]
    assert core[-1]["root"] is events[3]  # "b" at 290 began first
    without_b = events[:3] + events[4:]
    assert diagnose(without_b, 50.0)[-1]["root"] is without_b[-1]  # "a" at 300 is background
    assert bench.root(without_b, 4, 50.0, skip_background=True) is without_b[-1]
    assert bench.root(without_b, 4, 50.0, skip_background=False) is without_b[3]


def test_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench("bench_diagnosis")
    assert bench.main(["--seeds", "1"]) == 0
    out = capsys.readouterr().out
    assert "| **all** | **21** |" in out
