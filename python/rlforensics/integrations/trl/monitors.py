"""``ComprehensivePPOMonitor``: RLDK's TRL callback, reading what trainers really log.

Attach it with ``callbacks=[ComprehensivePPOMonitor(...)]`` to any ``transformers.Trainer``
(TRL's GRPO, RLOO, online DPO, PPO-v2 trainers) or feed TRL PPO-v1's step API with
:meth:`ComprehensivePPOMonitor.record`. What differs from RLDK (``docs/trl.md``):

- Log keys are read through the trainer family's vocabulary (``objective/kl``, ``kl``,
  ``reward``, ``grad_norm``, ...), never RLDK's invented ``ppo/policy/kl_mean``; a key the
  entry does not hold is "not logged", never a default.
- Evaluation entries and the end-of-training summary are not training steps.
- The KL target is the user's, else the family's (TRL PPO-v1's adaptive controller: 6 on the
  summed KL); families without a controller target get no KL band analysis unless given one.
- It computes on every rank and writes files and logs only on world rank 0; with
  ``stop_on_critical`` every rank sets ``control.should_training_stop`` at the same step.
- It logs one line per new anomaly event (``logging``, logger ``rlforensics.trl``), not every
  active anomaly at every step, and prints nothing.
- Files are appended as training goes, not rewritten whole at every save; the monitor's state
  is saved in each checkpoint folder and restored when training resumes from it.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import pickle
import time
from pathlib import Path
from typing import Any

try:
    from transformers import TrainerCallback
except ImportError as e:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "rlforensics.integrations.trl needs transformers: pip install 'rlforensics[trl]'"
    ) from e

from rlforensics._json import json_safe
from rlforensics._types import AnomalyEvent
from rlforensics.forensics.comprehensive_ppo_forensics import ComprehensivePPOForensics
from rlforensics.integrations.trl._entries import EntryKinds, KeyMap

__all__ = ["ComprehensivePPOMonitor"]

log = logging.getLogger("rlforensics.trl")

STATE_FILE = "rlforensics_monitor.pkl"
CSV_FIELDS = tuple(ComprehensivePPOForensics.metrics_row_fields())


class ComprehensivePPOMonitor(TrainerCallback):
    """Comprehensive forensics as a ``transformers.TrainerCallback``.

    Args (RLDK's, with ``kl_target``/``kl_target_tolerance`` defaulting to the trainer
    family's, ``save_interval`` and ``stop_on_critical`` added):
        output_dir: where the files go (default ``./rlforensics_trl_logs``), created at once.
        kl_target, kl_target_tolerance: the KL band; ``None`` takes the family's (tolerance:
            half the target).
        enable_*: which analyses run.
        length_bias_threshold: severity at which length bias is flagged (needs per-response
            records, see :meth:`record`).
        log_interval: training entries between two appends to the metrics files.
        save_interval: training entries between two ``..._analysis_step_<N>.json`` files (and
            rewrites of the analysis and health files) besides those at each checkpoint save
            and at the end (``None``: only then).
        run_id: the files' prefix (default ``comprehensive_ppo_run_<unix time>``).
        stop_on_critical: stop training (on every rank) at the first critical anomaly.
    """

    def __init__(
        self,
        output_dir: str | os.PathLike[str] | None = None,
        kl_target: float | None = None,
        kl_target_tolerance: float | None = None,
        enable_kl_schedule_tracking: bool = True,
        enable_gradient_norms_analysis: bool = True,
        enable_advantage_statistics: bool = True,
        enable_length_bias_detection: bool = True,
        length_bias_threshold: float = 0.35,
        log_interval: int = 10,
        save_interval: int | None = None,
        run_id: str | None = None,
        stop_on_critical: bool = False,
    ) -> None:
        if log_interval < 1:
            raise ValueError(f"log_interval must be at least 1, got {log_interval}")
        if save_interval is not None and save_interval < 1:
            raise ValueError(f"save_interval must be at least 1, got {save_interval}")
        if kl_target is not None and not kl_target > 0:
            raise ValueError(f"kl_target must be positive, got {kl_target}")
        self.output_dir = Path(output_dir if output_dir is not None else "./rlforensics_trl_logs")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._explicit_run_id = run_id is not None
        self.run_id = run_id or f"comprehensive_ppo_run_{int(time.time())}"
        self.kl_target = kl_target
        self.kl_target_tolerance = kl_target_tolerance
        self.enable_kl_schedule_tracking = enable_kl_schedule_tracking
        self.enable_gradient_norms_analysis = enable_gradient_norms_analysis
        self.enable_advantage_statistics = enable_advantage_statistics
        self.enable_length_bias_detection = enable_length_bias_detection
        self.length_bias_threshold = length_bias_threshold
        self.log_interval = log_interval
        self.save_interval = save_interval
        self.stop_on_critical = stop_on_critical
        self.keys = KeyMap()
        self._kind = EntryKinds()
        self.forensics: ComprehensivePPOForensics | None = None
        self.family: str | None = None
        self.skipped_entries = {"eval": 0, "summary": 0}
        self._announced: dict[tuple[str, str, Any], str] = {}
        self._unflushed = 0  # training entries not yet in the metrics files
        self._since_save = 0
        self._critical_seen = False

    # --- the forensics ---------------------------------------------------------------------

    def _make_forensics(self) -> ComprehensivePPOForensics:
        target = self.kl_target if self.kl_target is not None else self.keys.kl_target
        kl_on = self.enable_kl_schedule_tracking and target is not None
        if self.enable_kl_schedule_tracking and target is None and "kl" in self.keys.sources:
            log.info(
                "KL band analysis off: a %s run has no KL controller target; pass kl_target to "
                "ComprehensivePPOMonitor for this trainer's KL scale",
                self.keys.family,
            )
        tol = self.kl_target_tolerance if self.kl_target_tolerance is not None else 0.5 * (target or 0.1)
        self.family = self.keys.family
        return ComprehensivePPOForensics(
            kl_target=target or 0.1,
            kl_target_tolerance=tol,
            enable_kl_schedule_tracking=kl_on,
            enable_gradient_norms_analysis=self.enable_gradient_norms_analysis,
            enable_advantage_statistics=self.enable_advantage_statistics,
            enable_length_bias_detection=self.enable_length_bias_detection,
            length_bias_threshold=self.length_bias_threshold,
            enable_trainer_signals=True,
            kl_scale=self.keys.kl_scale,
        )

    def record(self, stats: dict[str, Any], step: int, *, is_world_process_zero: bool = True) -> list[AnomalyEvent]:
        """Feed one training step's stats dict (TRL PPO-v1's ``PPOTrainer.step`` return value,
        or any flat metrics dict) and return the anomaly events that began at this step."""
        return self._observe(stats, step, is_world_process_zero)

    def _observe(self, logs: dict[str, Any], step: int, rank_zero: bool) -> list[AnomalyEvent]:
        kind = self._kind(logs)
        if kind != "train":
            self.skipped_entries[kind] += 1
            return []
        inputs = self.keys.all_inputs(logs)
        if all(v is None for v in inputs.values()):
            # Nothing the forensics read (a custom log call, or only nulls): not a step. The
            # trainer family is decided by the first entry that has something to analyse.
            self.skipped_entries["empty"] = self.skipped_entries.get("empty", 0) + 1
            return []
        if self.forensics is None:
            self.forensics = self._make_forensics()
        self.forensics.update(step, **inputs)
        new: list[AnomalyEvent] = []
        held = self.forensics.anomalies_at(step)
        for e in held:
            ident = (e["tracker"], e["type"], e["first_step"])
            seen = self._announced.get(ident)
            if seen == e["severity"]:
                continue
            # A new event, or one that has just become critical: one line each.
            self._announced[ident] = e["severity"]
            self._critical_seen |= e["severity"] == "critical"
            if seen is None:
                new.append(e)
            if rank_zero:
                level = logging.ERROR if e["severity"] == "critical" else logging.WARNING
                what = "anomaly" if seen is None else "anomaly now critical"
                log.log(level, "%s %s at step %s [%s] %s: %s", e["severity"], what, step,
                        e["tracker"], e["type"], e["message"])
        if rank_zero:
            self._unflushed += 1
            if self._unflushed >= min(self.log_interval, self.forensics.history_size):
                self._flush()
            self._since_save += 1
            if self.save_interval is not None and self._since_save >= self.save_interval:
                self._write_step_analysis(step)
        return new

    # --- files -----------------------------------------------------------------------------

    def _path(self, suffix: str) -> Path:
        return self.output_dir / f"{self.run_id}_{suffix}"

    def _flush(self, *, summaries: bool = False) -> None:
        """Appends the pending rows to the metrics CSV and JSON; with ``summaries`` also
        rewrites the (small) analysis and health files."""
        if self.forensics is None:
            return
        n, self._unflushed = self._unflushed, 0
        if n:
            # The rows come formatted from the core's snapshot history (cheap per entry).
            csv_rows, json_rows = self.forensics.metrics_rows(n)
            path = self._path("comprehensive_metrics.csv")
            with open(path, "a", encoding="utf-8") as f:
                if f.tell() == 0:
                    f.write(",".join(CSV_FIELDS) + "\n")
                f.write(csv_rows)
            self._append_json(self._path("comprehensive_metrics.json"), json_rows.splitlines())
        if summaries:
            self._write_json(self._path("comprehensive_analysis.json"), self.forensics.get_comprehensive_analysis())
            self._write_json(self._path("health_summary.json"), self.forensics.get_health_summary())

    @staticmethod
    def _write_json(path: Path, doc: Any) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(json_safe(doc), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    @staticmethod
    def _append_json(path: Path, rows: list[str]) -> None:
        """Extends the JSON array in ``path`` in place with ``rows`` (JSON objects): only the
        new rows are written."""
        body = ",\n".join(rows)
        if not body:
            return
        if not path.exists() or path.stat().st_size < 4:
            path.write_text("[\n" + body + "\n]\n", encoding="utf-8")
            return
        with open(path, "r+b") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            f.seek(max(0, end - 3))
            tail = f.read()
            cut = end - len(tail) + tail.rindex(b"]")
            f.seek(cut)
            f.truncate()
            f.write(b",\n" + body.encode() + b"\n]\n")

    def _write_step_analysis(self, step: int) -> None:
        if self.forensics is None:
            return
        self._since_save = 0
        self._flush(summaries=True)
        self._write_json(self._path(f"comprehensive_analysis_step_{step}.json"), self.forensics.get_comprehensive_analysis())

    def _append_checkpoint_row(self, step: int) -> None:
        if self.forensics is None:
            return
        h = self.forensics.get_health_summary()
        path = self._path("checkpoint_summary.csv")
        new = not path.exists()
        with open(path, "a", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["step", "status", "overall_health_score", "critical_anomalies", "warning_anomalies"])
            anomalies = self.forensics.get_anomalies()
            w.writerow([
                step, h.get("status"), h.get("overall_health"),
                sum(e["severity"] == "critical" for e in anomalies),
                sum(e["severity"] == "warning" for e in anomalies),
            ])

    # --- state across checkpoints ----------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {
            "version": 1,
            "run_id": self.run_id,
            "forensics": self.forensics,
            "family": self.family,
            "keys": self.keys.snapshot(),
            "announced": self._announced,
            "skipped_entries": self.skipped_entries,
            "critical_seen": self._critical_seen,
        }

    def _restore(self, path: Path, step: int) -> None:
        with open(path, "rb") as f:
            st = pickle.load(f)  # noqa: S301 - our own file in the run's checkpoint folder
        if not self._explicit_run_id:
            # The resumed run continues the interrupted run's files.
            self.run_id = st["run_id"]
        self.forensics = st["forensics"]
        self.family = st["family"]
        self.keys.restore(st["keys"])
        self._announced = st["announced"]
        self.skipped_entries = st["skipped_entries"]
        self._critical_seen = st["critical_seen"]
        self._unflushed = 0
        self._truncate_files_after(step)
        log.info("restored the monitor's state at step %s from %s", step, path)

    def _truncate_files_after(self, step: int) -> None:
        """After a resume the trainer recomputes the steps after the checkpoint: drop the
        rows a crashed run wrote for them."""
        path = self._path("comprehensive_metrics.csv")
        if path.exists():
            with open(path, newline="", encoding="utf-8") as f:
                kept = [r for r in csv.DictReader(f) if float(r["step"]) <= step]
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n")
                w.writeheader()
                w.writerows(kept)
        jpath = self._path("comprehensive_metrics.json")
        if jpath.exists():
            try:
                rows = [r for r in json.loads(jpath.read_text(encoding="utf-8")) if r["step"] <= step]
            except ValueError:  # cut short by the crash: keep the rows that parse
                rows = []
                for line in jpath.read_text(encoding="utf-8").splitlines():
                    line = line.strip().rstrip(",")
                    if line.startswith("{"):
                        try:
                            r = json.loads(line)
                        except ValueError:
                            continue
                        if r.get("step", step + 1) <= step:
                            rows.append(r)
            if rows:
                jpath.write_text("[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n", encoding="utf-8")
            else:
                jpath.unlink()

    # --- transformers' events --------------------------------------------------------------

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # ``Trainer.train(resume_from_checkpoint=...)`` has loaded the checkpoint's state by
        # now: a resumed run starts past step 0, and its checkpoint folder holds our state.
        step = int(getattr(state, "global_step", 0) or 0)
        if step <= 0:
            return
        candidates = [Path(args.output_dir) / f"checkpoint-{step}"]
        resume = getattr(args, "resume_from_checkpoint", None)
        if isinstance(resume, (str, os.PathLike)):
            candidates.insert(0, Path(resume))
        for folder in candidates:
            if (folder / STATE_FILE).exists():
                self._restore(folder / STATE_FILE, step)
                return
        # No saved state (a checkpoint from before the first log, or written without the
        # monitor): the analysis starts afresh, but rows past the checkpoint go.
        log.warning("resuming at step %s without a saved monitor state; the analysis restarts", step)
        self._truncate_files_after(step)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if not logs:
            return control
        rank_zero = bool(getattr(state, "is_world_process_zero", True))
        self._observe(dict(logs), int(state.global_step), rank_zero)
        if self.stop_on_critical and self._critical_seen:
            control.should_training_stop = True
        return control

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        step = int(state.global_step)
        if getattr(state, "is_world_process_zero", True) and self.forensics is not None:
            self._write_step_analysis(step)
            self._append_checkpoint_row(step)
            ckpt = Path(args.output_dir) / f"checkpoint-{step}"
            ckpt.mkdir(parents=True, exist_ok=True)
            with open(ckpt / STATE_FILE, "wb") as f:
                pickle.dump(self._state(), f)
        return control

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if getattr(state, "is_world_process_zero", True) and self.forensics is not None:
            self._flush(summaries=True)
            self.forensics.save_analysis(self._path("comprehensive_analysis.json"))
            h = self.forensics.get_health_summary()
            log.info("training ended: health %s, files in %s", h.get("status"), self.output_dir)
        return control

    # --- RLDK's query methods --------------------------------------------------------------

    def get_current_health_summary(self) -> dict[str, Any]:
        """The forensics' health summary (``{}`` before the first training entry)."""
        return self.forensics.get_health_summary() if self.forensics is not None else {}

    def get_anomalies(self, active_only: bool = False) -> list[AnomalyEvent]:
        """Every anomaly event so far (or only the active ones)."""
        return list(self.forensics.get_anomalies(active_only)) if self.forensics is not None else []
