"""Diagnosis of a run's events: in order of onset, each linked to the events that began
shortly before it, so that a likely first cause shows and not only the last symptom.

``diagnose(events, horizon)`` takes event dicts (as ``get_anomalies()`` or a scan report
give them) and the horizon in steps; the linking runs in the core (``_core.diagnose``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from rlforensics._core import diagnose as _links

__all__ = ["DiagnosisEntry", "describe", "diagnose", "event_name"]

#: Events that began within this many logged rows before another are linked to it (the
#: scanner's ``DIAGNOSIS_ROWS`` in ``scan/run.rs``).
DIAGNOSIS_ROWS = 50


class DiagnosisEntry(TypedDict):
    """One event with the events that preceded it within the horizon."""

    event: dict[str, Any]
    preceded_by: list[dict[str, Any]]
    root: dict[str, Any]
    summary: str


def event_name(e: dict[str, Any]) -> str:
    """An event as "type at first step"."""
    return f"{e['type']} at {e['first_step']}"


def describe(events: Sequence[dict[str, Any]], links: Sequence[dict[str, Any]]) -> list[DiagnosisEntry]:
    """Entries from events and the core's links (indices into ``events``)."""
    out: list[DiagnosisEntry] = []
    for link in links:
        e = events[link["event"]]
        before = [events[j] for j in link["preceded_by"]]
        summary = event_name(e)
        if before:
            summary += ", preceded by " + ", ".join(event_name(b) for b in before)
        out.append(
            DiagnosisEntry(event=e, preceded_by=before, root=events[link["root"]], summary=summary)
        )
    return out


def seriousness(e: dict[str, Any]) -> tuple[bool, bool, float]:
    """Sort key, most serious first: critical events by onset, then warnings still open
    (``active``) when the log ends, since a problem that stayed outranks warnings that came
    and went, which healthy runs have too; then the other events by onset."""
    warning = e["severity"] != "critical"
    return (warning, warning and not e.get("active"), e["first_step"])


def most_serious(events: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """A run's most serious event (the first by :func:`seriousness`)."""
    return min(events, key=seriousness, default=None)


def first_cause(entries: Sequence[DiagnosisEntry]) -> dict[str, Any] | None:
    """Where to start looking: the root of the most serious of the entries' events."""
    serious = most_serious([d["event"] for d in entries])
    return next((d["root"] for d in entries if d["event"] is serious), None)


def diagnose(events: Sequence[dict[str, Any]], horizon: float) -> list[DiagnosisEntry]:
    """Every event in order of onset with the events that began within ``horizon`` steps
    before it and still held (or had ended at most ``horizon / 5`` before its onset), and
    the earliest of those (``root``; the event itself when none did) that is not the run's
    background: a ``type`` that had already begun twice before the horizon is listed among
    the predecessors but is not a first cause."""
    firsts = [float(e["first_step"]) for e in events]
    lasts = [float(e.get("last_step", e["first_step"])) for e in events]
    kinds = [str(e["type"]) for e in events]
    return describe(events, _links(firsts, lasts, kinds, float(horizon)))
