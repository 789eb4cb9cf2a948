"""Scanning many runs: ``scan(paths)`` finds the runs under the paths, analyses them in
parallel in Rust (with the GIL released) through the same forensics as the live API, and
returns a :class:`ScanResult` with one :class:`RunReport` per run.

A run is a log file, or a folder holding one run's logs (a transformers output folder with
``checkpoint-*/trainer_state.json`` and ``runs/*/events.out.tfevents.*``, a folder with one
JSONL file, ...); a folder of several JSONL/CSV files holds one run per file.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from rlforensics._core import Scanner
from rlforensics._json import json_safe
from rlforensics.forensics.diagnosis import DiagnosisEntry, describe, event_name, first_cause, most_serious

__all__ = ["RunReport", "ScanResult", "scan"]

log = logging.getLogger("rlforensics.scan")

#: ``progress(bytes_done, bytes_total, runs_done, runs_total)``
ProgressCallback = Callable[[int, int, int, int], None]


@dataclass(frozen=True)
class RunReport:
    """What the scan found in one run."""

    run_id: str
    files: list[str]
    format: str
    family: str
    bytes: int
    rows: int
    eval_rows: int
    step_range: tuple[float, float] | None
    kl_target: float | None
    overall_health: float | None
    training_stability: float | None
    convergence_quality: float | None
    events: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    metrics: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    replaced_rows: int = 0
    notes: list[str] = field(default_factory=list)
    #: Links between events (indices into ``events``): see :meth:`diagnosis_entries`.
    diagnosis: list[dict[str, Any]] = field(default_factory=list)
    #: Steps within which an earlier event counts as preceding another: 50 logged rows at
    #: the run's median step stride (the live forensics' ``diagnosis_horizon`` on the same log).
    diagnosis_horizon: float = 50.0

    def diagnosis_entries(self) -> list[DiagnosisEntry]:
        """Every event in order of onset with the events that began within 50 logged rows
        before it and the earliest of those (``root``)."""
        return describe(self.events, self.diagnosis)

    @property
    def most_serious(self) -> dict[str, Any] | None:
        """The run's most serious event: its earliest critical event; without one, its
        earliest warning still open when the log ends (a problem that stayed outranks warnings
        that came and went, which healthy runs have too); else its earliest event."""
        return most_serious(self.events)

    def first_cause(self) -> dict[str, Any] | None:
        """The root of the run's :attr:`most_serious` event in the diagnosis (the earliest
        event that began within 50 logged rows before it, leaving out the run's background),
        or that event itself: where to start looking."""
        return first_cause(self.diagnosis_entries())

    def first_causes(self) -> list[str]:
        """The events that nothing preceded within the horizon, as "type at step" lines."""
        return [event_name(d["event"]) for d in self.diagnosis_entries() if not d["preceded_by"]]

    @property
    def critical(self) -> list[dict[str, Any]]:
        """Critical anomaly events, in order of onset."""
        return [e for e in self.events if e["severity"] == "critical"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """Warning events, in order of onset."""
        return [e for e in self.events if e["severity"] == "warning"]

    @property
    def first_anomaly_step(self) -> float | None:
        """Onset of the run's :attr:`most_serious` event."""
        serious = self.most_serious
        return None if serious is None else serious["first_step"]

    def badness(self) -> tuple[int, int, float, int]:
        """Sort key, worst first when sorted descending."""
        health = self.overall_health if self.overall_health is not None else 1.0
        return (len(self.critical), len(self.warnings), 1.0 - health, len(self.problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _report(d: dict[str, Any]) -> RunReport:
    """A report from the core's dict (its keys are the dataclass's fields)."""
    values = {f.name: d[f.name] for f in fields(RunReport)}
    if values["step_range"] is not None:
        values["step_range"] = tuple(values["step_range"])
    return RunReport(**values)


@dataclass(frozen=True)
class ScanResult:
    """The reports of a scan, in discovery order; :meth:`worst_first` ranks them."""

    runs: list[RunReport]
    errors: list[tuple[str, str]]
    seconds: float
    bytes: int

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[RunReport]:
        return iter(self.runs)

    def __getitem__(self, run_id: str) -> RunReport:
        for r in self.runs:
            if r.run_id == run_id:
                return r
        raise KeyError(run_id)

    def worst_first(self) -> list[RunReport]:
        """Runs with critical anomalies first, then by warnings, health and input problems."""
        return sorted(self.runs, key=lambda r: r.badness(), reverse=True)

    @property
    def has_critical(self) -> bool:
        return any(r.critical for r in self.runs)

    def to_pandas(self) -> Any:
        """One row per run: ids, format, family, rows, scores, counts and first steps."""
        pd = importlib.import_module("pandas")  # optional: imported only when asked for
    
        rows = []
        for r in self.worst_first():
            first = r.first_anomaly_step
            rows.append(
                {
                    "run_id": r.run_id,
                    "format": r.format,
                    "family": r.family,
                    "rows": r.rows,
                    "first_step": r.step_range[0] if r.step_range else None,
                    "last_step": r.step_range[1] if r.step_range else None,
                    "overall_health": r.overall_health,
                    "training_stability": r.training_stability,
                    "convergence_quality": r.convergence_quality,
                    "critical": len(r.critical),
                    "warnings": len(r.warnings),
                    "problems": len(r.problems),
                    "first_anomaly_step": first,
                    "worst_anomaly": None if r.most_serious is None else r.most_serious["type"],
                }
            )
        return pd.DataFrame(rows)

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int | None = 2) -> str:
        """The whole scan as JSON (strict: non-finite numbers become null); also written to
        ``path`` when given."""
        doc = {
            "rlforensics_scan": 1,
            "seconds": self.seconds,
            "bytes": self.bytes,
            "errors": [{"path": p, "error": e} for p, e in self.errors],
            "runs": [json_safe(r.to_dict()) for r in self.worst_first()],
        }
        text = json.dumps(doc, indent=indent, allow_nan=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text


def scan(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    kl_target: float | None = None,
    jobs: int | None = None,
    progress: bool | ProgressCallback = True,
) -> ScanResult:
    """Scan every run under ``paths``.

    Args:
        paths: files or folders.
        kl_target: the KL target of the runs' controller. ``None`` takes the trainer
            family's own (TRL PPO-v1's adaptive controller: 6); for families without one the
            KL band analysis is skipped and the report says so.
        jobs: threads (default: one per core).
        progress: ``True`` logs progress on the ``rlforensics.scan`` logger about every two
            seconds; a callable is called as ``progress(bytes_done, bytes_total, runs_done,
            runs_total)`` about ten times a second; ``False`` reports nothing.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    started = time.perf_counter()
    scanner = Scanner([os.fspath(p) for p in paths], kl_target, jobs or 0)
    for p, e in scanner.errors:
        log.warning("cannot read %s: %s", p, e)
    total, n_runs = scanner.total_bytes, len(scanner.run_ids)
    scanner.start()
    if progress is not False:
        interval = 0.1 if callable(progress) else 2.0
        last_log = time.perf_counter()
        while True:
            done_bytes, done_runs = scanner.progress()
            if callable(progress):
                progress(done_bytes, total, done_runs, n_runs)
            elif time.perf_counter() - last_log >= interval:
                log.info("scanned %d of %d runs (%.0f of %.0f MB)", done_runs, n_runs, done_bytes / 1e6, total / 1e6)
                last_log = time.perf_counter()
            if scanner.finished():
                break
            time.sleep(0.05)
    reports = [_report(d) for d in scanner.join()]
    if callable(progress):
        progress(total, total, n_runs, n_runs)
    return ScanResult(
        runs=reports,
        errors=scanner.errors,
        seconds=time.perf_counter() - started,
        bytes=sum(r.bytes for r in reports),
    )
