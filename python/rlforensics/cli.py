"""The ``rlforensics`` command line: ``rlforensics scan PATH...``.

Exit status: 0 when no run has a critical anomaly, 1 when some run has one, 2 on usage
errors (bad arguments, a path that does not exist, nothing to scan).
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from rlforensics import __version__
from rlforensics.forensics.diagnosis import seriousness
from rlforensics.scanning import RunReport, ScanResult, scan

EXIT_OK, EXIT_CRITICAL, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rlforensics", description="Forensics for PPO/RLHF training runs.")
    p.add_argument("--version", action="version", version=f"rlforensics {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser(
        "scan",
        help="scan training logs for anomalies",
        description=(
            "Scan every run under the given paths (log files, or folders of runs: JSONL, CSV, "
            "trainer_state.json, TensorBoard event files) and rank the runs worst-first."
        ),
    )
    s.add_argument("paths", nargs="+", metavar="PATH", help="log files or folders")
    s.add_argument("--json", metavar="FILE", help="write the full report as JSON")
    s.add_argument("--csv", metavar="FILE", help="write one row per run as CSV")
    s.add_argument("--jobs", type=int, metavar="N", help="threads (default: one per core)")
    s.add_argument("--kl-target", type=float, metavar="X", help="KL target of the runs' controller")
    s.add_argument("--top", type=int, default=50, metavar="N", help="rows of the table (default 50)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def _step(x: float | None) -> str:
    if x is None:
        return "-"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _anomalies(r: RunReport, k: int = 3) -> str:
    evs = sorted(r.events, key=seriousness)  # as `RunReport.most_serious` ranks them
    parts = [f"{e['type']}@{_step(e['first_step'])}" for e in evs[:k]]
    more = len(evs) - k
    return ", ".join(parts) + (f" (+{more})" if more > 0 else "")


def _cause(r: RunReport) -> str:
    c = r.first_cause()
    return "-" if c is None else f"{c['type']}@{_step(c['first_step'])}"


#: Below this terminal width the table stacks each run's findings under its name.
WIDE_TABLE = 120


def _table(result: ScanResult, top: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    wide = console.width >= WIDE_TABLE
    t = Table(title=f"{len(result)} runs, worst first", show_lines=not wide)
    if wide:
        columns: list[tuple[str, dict[str, Any]]] = [
            ("run", {"overflow": "fold", "ratio": 2}),
            ("family", {"overflow": "ellipsis", "no_wrap": True}),
            ("rows", {"justify": "right"}),
        ]
    else:
        # An 80-column terminal (or a pipe, which rich treats as one): the run's family,
        # size and findings go under its name, so that no column is folded a few letters
        # at a time.
        columns = [("run: most serious anomalies (type@onset step), first cause", {"overflow": "fold"})]
    columns += [
        ("health", {"justify": "right"}),
        ("crit/warn", {"justify": "right"}),
        ("onset", {"justify": "right"}),
    ]
    if wide:
        columns += [
            ("most serious anomalies (type@onset step)", {"overflow": "fold", "ratio": 3}),
            ("first cause", {"overflow": "fold", "ratio": 2}),
        ]
    for col, kw in columns:
        t.add_column(col, **kw)
    for r in result.worst_first()[:top]:
        style = "red" if r.critical else ("yellow" if r.warnings else "green")
        problems = f"\n[dim]{len(r.problems)} input problem(s)[/]" if r.problems else ""
        scores = [_fmt(r.overall_health), f"{len(r.critical)}/{len(r.warnings)}", _step(r.first_anomaly_step)]
        if wide:
            t.add_row(f"[{style}]{r.run_id}[/]{problems}", r.family, str(r.rows), *scores,
                      _anomalies(r, k=2) or "-", _cause(r))
        else:
            t.add_row(
                f"[{style}]{r.run_id}[/] [dim]({r.family}, {r.rows} rows)[/]{problems}\n"
                f"{_anomalies(r, k=2) or '-'}\n[dim]first cause:[/] {_cause(r)}",
                *scores,
            )
    console.print(t)
    if len(result) > top:
        console.print(f"... {len(result) - top} more runs (see --json / --csv)")
    mb = result.bytes / 1e6
    rate = mb / result.seconds if result.seconds > 0 else float("inf")
    n_crit = sum(1 for r in result if r.critical)
    console.print(
        f"{len(result)} runs, {mb:.1f} MB in {result.seconds:.2f} s ({rate:.0f} MB/s); "
        f"[{'red' if n_crit else 'green'}]{n_crit} with critical anomalies[/]"
    )
    for p, e in result.errors:
        console.print(f"[red]cannot read {p}: {e}[/]")


def _write_csv(result: ScanResult, path: str) -> None:
    fields = ["run_id", "format", "family", "rows", "overall_health", "training_stability",
              "convergence_quality", "critical", "warnings", "first_anomaly_step", "first_cause", "anomalies",
              "problems"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for r in result.worst_first():
            w.writerow([r.run_id, r.format, r.family, r.rows, r.overall_health, r.training_stability,
                        r.convergence_quality, len(r.critical), len(r.warnings), r.first_anomaly_step,
                        _cause(r), _anomalies(r, k=len(r.events)), len(r.problems)])


def _scan(args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        print(f"rlforensics scan: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if args.jobs is not None and args.jobs < 1:
        print("rlforensics scan: --jobs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.top < 1:
        print("rlforensics scan: --top must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.kl_target is not None and not (math.isfinite(args.kl_target) and args.kl_target > 0):
        print("rlforensics scan: --kl-target must be positive", file=sys.stderr)
        return EXIT_USAGE
    if args.no_progress or not sys.stderr.isatty():
        result = scan(args.paths, kl_target=args.kl_target, jobs=args.jobs, progress=False)
    else:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

        with Progress(
            TextColumn("scanning {task.fields[runs]}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task("scan", total=None, runs="")

            def update(done: int, total: int, runs_done: int, runs_total: int) -> None:
                bar.update(task, completed=done, total=total, runs=f"{runs_done}/{runs_total} runs")

            result = scan(args.paths, kl_target=args.kl_target, jobs=args.jobs, progress=update)
    if len(result) == 0:
        print("rlforensics scan: no training logs found under the given paths", file=sys.stderr)
        return EXIT_USAGE
    _table(result, args.top)
    if args.json:
        result.to_json(args.json)
    if args.csv:
        _write_csv(result, args.csv)
    return EXIT_CRITICAL if result.has_critical else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    if args.command == "scan":
        return _scan(args)
    return EXIT_USAGE  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
