"""Reading one run's logs: ``read_run(path)`` parses a log file, or a folder holding one run's
logs, in Rust (JSONL, CSV, ``trainer_state.json``, TensorBoard event files) and returns its
columns as NumPy arrays.

A column holds NaN where a row did not log the key; its ``present`` mask tells a missing value
from a logged NaN. Training rows, evaluation entries and the end-of-training summary are kept
apart; rows re-logged after a resume replace the earlier ones (``replaced_rows``). Problems
in the files (a truncated line, a bad record, a CRC mismatch, a string where a number belongs)
are listed with their file and line or byte offset, and the rest of the file is read.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rlforensics._core import read_run_columns

if TYPE_CHECKING:  # pragma: no cover - typing only
    import polars as pl

__all__ = ["LogTable", "RunLog", "read_run"]

Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class LogTable:
    """Rows as columns: ``steps`` (strictly increasing) and one column per key."""

    steps: Floats
    columns: dict[str, Floats]
    present: dict[str, Mask]
    replaced_rows: int = 0

    def __len__(self) -> int:
        return int(self.steps.size)

    def to_pandas(self) -> Any:
        """A pandas DataFrame with a ``step`` column and one column per key (NaN where not
        logged)."""
        pd = importlib.import_module("pandas")  # optional: imported only when asked for

        return pd.DataFrame({"step": self.steps, **self.columns})

    def to_polars(self) -> pl.DataFrame:
        """A polars DataFrame: missing values are nulls, logged NaNs stay NaN."""
        import polars as pl

        cols: dict[str, Any] = {"step": self.steps}
        for name, values in self.columns.items():
            cols[name] = pl.Series(name, values).set(pl.Series(~self.present[name]), None)
        return pl.DataFrame(cols)


def _table(d: dict[str, Any]) -> LogTable:
    return LogTable(
        steps=d["steps"],
        columns=dict(d["columns"]),
        present=dict(d["present"]),
        replaced_rows=int(d["replaced_rows"]),
    )


@dataclass(frozen=True)
class RunLog:
    """One run's parsed logs."""

    id: str
    train: LogTable
    eval: LogTable
    summary: dict[str, float]
    family: str
    format: str
    files: list[str]
    skipped: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    records: int = 0
    rows_without_step: int = 0
    bytes: int = 0

    @property
    def steps(self) -> Floats:
        """The training steps."""
        return self.train.steps

    @property
    def columns(self) -> dict[str, Floats]:
        """The training columns."""
        return self.train.columns

    def to_pandas(self) -> Any:
        """The training rows as a pandas DataFrame."""
        return self.train.to_pandas()

    def to_polars(self) -> pl.DataFrame:
        """The training rows as a polars DataFrame."""
        return self.train.to_polars()


def read_run(path: str | os.PathLike[str]) -> RunLog:
    """Parse the run at ``path``: a log file, or a folder holding one run's logs.

    A folder with the same numbers in several formats (``trainer_state.json``, a JSONL copy,
    TensorBoard events) is read once, from the most precise format; the others are listed in
    ``skipped``. Raises ``ValueError`` when ``path`` does not exist, holds no log, or holds
    several runs (scan those with :func:`rlforensics.scan`).
    """
    d = read_run_columns(os.fspath(path))
    return RunLog(
        id=d["id"],
        train=_table(d["train"]),
        eval=_table(d["eval"]),
        summary=dict(d["summary"]),
        family=d["family"],
        format=d["format"],
        files=list(d["files"]),
        skipped=list(d["skipped"]),
        problems=list(d["problems"]),
        records=int(d["records"]),
        rows_without_step=int(d["rows_without_step"]),
        bytes=int(d["bytes"]),
    )
