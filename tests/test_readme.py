"""The README's code block is executed, so the front page never shows code that fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's paths are relative to the repository, where a reader runs them."""
    monkeypatch.chdir(README.parent)


def _block(needle: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    return next(b for b in blocks if needle in b)


def test_readme_python_block_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    # The example's last line classifies a constant coefficient as "no controller".
    stats = namespace["stats"]
    kl = namespace["kl"]
    assert stats.controller_metrics(kl, namespace["coef"], 0.1, 0.02)["controller"] == "fixed"  # type: ignore[attr-defined]


def test_readme_forensics_example_shows_what_it_says() -> None:
    namespace: dict[str, object] = {}
    exec(compile(_block("ComprehensivePPOForensics"), str(README), "exec"), namespace)  # noqa: S102
    forensics = namespace["forensics"]
    events = forensics.get_anomalies()  # type: ignore[attr-defined]
    assert forensics.get_health_summary()["status"] == "critical"  # type: ignore[attr-defined]
    assert ("non_finite_total_grad_norm", 150) in [(e["type"], e["first_step"]) for e in events]
    kl_events = [e for e in events if e["tracker"] == "kl_schedule"]
    assert kl_events and all(e["first_step"] >= 120 for e in kl_events)


def test_readme_scan_example_shows_what_it_says() -> None:
    namespace: dict[str, object] = {}
    exec(compile(_block("rlforensics.scan("), str(README), "exec"), namespace)  # noqa: S102
    worst = namespace["worst"]
    assert worst.critical  # type: ignore[attr-defined]
    assert namespace["log"].family == "trl_grpo"  # type: ignore[attr-defined]
