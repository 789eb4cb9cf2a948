"""``ComprehensivePPOForensics``: every tracker behind one ``update`` (module path as RLDK's
``rldk.forensics.comprehensive_ppo_forensics``).

The trackers and the comprehensive layer run in Rust (``rlforensics._core``); this module
converts RLDK's arguments (response payloads, event dicts) and builds the report dicts.
Differences from RLDK are listed in ``docs/compatibility.md``; the main ones: a tracker is
updated only when its inputs were logged, nothing missing is replaced by a default, scores
average only the parts that have data (``None`` without any), anomalies are events with
``first_step``/``last_step``, and memory is bounded (``history_size`` snapshots per
tracker, length bias over the last ``length_bias_window`` responses).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from rlforensics._core import (
    TrainerSignalsTracker,
    AdvantageStatisticsTracker,
    ComprehensiveForensicsCore,
    ComprehensiveMetricsHistory,
    ComprehensivePPOMetrics,
    GradientNormsAnalyzer,
    KLScheduleTracker,
)
from rlforensics._json import json_safe
from rlforensics._types import AnomalyEvent
from rlforensics.forensics._events import lookup, readable
from rlforensics.forensics._responses import ResponseReader
from rlforensics.forensics.diagnosis import DIAGNOSIS_ROWS, DiagnosisEntry, diagnose, event_name, first_cause
from rlforensics.forensics.ppo_scan import read_events, scan_columns

logger = logging.getLogger("rlforensics.forensics")

__all__ = ["ComprehensivePPOForensics", "ComprehensivePPOMetrics"]

_UPDATE_ARGS = (
    "kl", "kl_coef", "entropy", "reward_mean", "reward_std", "policy_grad_norm",
    "value_grad_norm", "total_grad_norm", "advantage_mean", "advantage_std", "advantage_min",
    "advantage_max", "advantage_median",
)
_RESPONSE_ARGS = ("response_data", "response_length", "response_text", "response_reward")
_SIGNAL_ONLY = ("frac_reward_zero_std", "truncation_rate", "response_length_mean", "reward_components")


def _samples(samples: Any) -> Any:
    """Advantage samples as an array-like of floats (a tensor goes through NumPy)."""
    if samples is None:
        return None
    if hasattr(samples, "detach") and hasattr(samples, "cpu"):  # a torch tensor
        samples = samples.detach().cpu().numpy()
    return np.asarray(samples, dtype=np.float64).ravel()


class ComprehensivePPOForensics:
    """KL schedule, gradient norms, advantage statistics and length bias of a PPO/RLHF run.

    ``update(step, kl, kl_coef, entropy, reward_mean, reward_std, ...)`` once per logged
    step (every metric may be None when the step did not log it) returns a
    ``ComprehensivePPOMetrics``; ``update_many`` does the same over NumPy columns.
    ``get_anomalies()`` returns the run's anomaly events (ended ones included), each tagged
    with its ``tracker``. ``comprehensive_metrics_history`` keeps the last
    ``history_size`` snapshots (default 10,000) as a read-only sequence.
    """

    def __init__(
        self,
        kl_target: float = 0.1,
        kl_target_tolerance: float = 0.05,
        window_size: int = 100,
        enable_kl_schedule_tracking: bool = True,
        enable_gradient_norms_analysis: bool = True,
        enable_advantage_statistics: bool = True,
        enable_kl_drift_tracking: bool = True,
        kl_drift_threshold: float = 0.15,
        kl_drift_window_size: int = 100,
        kl_drift_reference_period: int = 500,
        enable_length_bias_detection: bool = True,
        length_bias_threshold: float = 0.35,
        response_data: Any = None,
        *,
        length_bias_window: int = 1024,
        event_release: int = 10,
        max_events: int = 1000,
        history_size: int = 10_000,
        enable_trainer_signals: bool = False,
        kl_scale: str = "unknown",
    ) -> None:
        self._core = ComprehensiveForensicsCore(
            kl_target, kl_target_tolerance, window_size, enable_kl_schedule_tracking,
            enable_gradient_norms_analysis, enable_advantage_statistics,
            enable_kl_drift_tracking, kl_drift_threshold, kl_drift_window_size,
            kl_drift_reference_period, enable_length_bias_detection, length_bias_threshold,
            length_bias_window=length_bias_window, event_release=event_release,
            max_events=max_events, history_size=history_size,
        )
        self._reader = ResponseReader()
        # RLDK ingests an initial batch at construction; it joins the first update here.
        self._pending = self._reader.records(response_data)
        self.anomalies: list[AnomalyEvent] = []
        self.analysis_summary: dict[str, Any] = {}
        # The trainer-signal rules (docs/rules.md). Off by default so that the RLDK surface
        # behaves (and costs) as RLDK's; the TRL monitor and the scanner switch them on.
        self._signals: TrainerSignalsTracker | None = None
        if enable_trainer_signals:
            # Non-finite values the RLDK trackers already report are not reported twice.
            checked = ["frac_reward_zero_std", "truncation_rate", "response_length_mean",
                       "reward_component"]
            if not enable_kl_schedule_tracking:
                checked.append("kl")
            if not enable_gradient_norms_analysis:
                checked.append("grad_norm")
            self._signals = TrainerSignalsTracker(kl_scale, event_release=event_release,
                                                  max_events=max_events, checked=checked)

    # --- updates ---------------------------------------------------------------------

    def update(
        self,
        step: Any,
        kl: Any = None,
        kl_coef: Any = None,
        entropy: Any = None,
        reward_mean: Any = None,
        reward_std: Any = None,
        policy_grad_norm: Any = None,
        value_grad_norm: Any = None,
        total_grad_norm: Any = None,
        advantage_mean: Any = None,
        advantage_std: Any = None,
        advantage_min: Any = None,
        advantage_max: Any = None,
        advantage_median: Any = None,
        advantage_samples: Any = None,
        response_data: Any = None,
        response_length: Any = None,
        response_text: Any = None,
        response_reward: Any = None,
        *,
        frac_reward_zero_std: Any = None,
        truncation_rate: Any = None,
        response_length_mean: Any = None,
        reward_components: Mapping[str, Any] | None = None,
    ) -> ComprehensivePPOMetrics:
        """One logged step (RLDK's 19 arguments). Returns this step's snapshot.

        The keyword-only arguments feed the trainer-signal rules (``enable_trainer_signals``):
        the share of prompt groups without reward variance, the share of truncated
        completions, the mean completion length and the per-function reward means."""
        signals = self._signals
        if signals is None and (
            frac_reward_zero_std is not None or truncation_rate is not None
            or response_length_mean is not None or reward_components is not None
        ):
            # Refused before anything is updated: a call either counts fully or not at all.
            raise ValueError(
                f"{', '.join(_SIGNAL_ONLY[:-1])} and {_SIGNAL_ONLY[-1]} feed the "
                "trainer-signal rules: pass enable_trainer_signals=True to "
                "ComprehensivePPOForensics"
            )
        if response_data is None and not self._pending[0] and (
            response_reward is None or response_length is not None
        ):
            # The common live-training calls: no response record, or one given as a reward
            # and a length, go to the core directly.
            if response_reward is not None:
                self._reader.given_lengths += 1
                if self._reader.text_lengths:
                    self._reader.warn_if_mixed()
            m = self._core.update(
                step, kl, kl_coef, entropy, reward_mean, reward_std, policy_grad_norm,
                value_grad_norm, total_grad_norm, advantage_mean, advantage_std, advantage_min,
                advantage_max, advantage_median,
                advantage_samples=None if advantage_samples is None else _samples(advantage_samples),
                response_reward=response_reward,
                response_length=response_length if response_reward is not None else None,
            )
        else:
            m = self._update_with_responses(
                step, kl, kl_coef, entropy, reward_mean, reward_std, policy_grad_norm,
                value_grad_norm, total_grad_norm, advantage_mean, advantage_std, advantage_min,
                advantage_max, advantage_median, advantage_samples, response_data,
                response_length, response_text, response_reward,
            )
        if signals is not None:
            signals.update(
                step, kl, entropy, reward_mean, reward_std,
                total_grad_norm if total_grad_norm is not None else policy_grad_norm,
                frac_reward_zero_std, truncation_rate, response_length_mean, reward_components,
            )
        return m

    def _update_with_responses(
        self, step: Any, kl: Any, kl_coef: Any, entropy: Any, reward_mean: Any, reward_std: Any,
        policy_grad_norm: Any, value_grad_norm: Any, total_grad_norm: Any, advantage_mean: Any,
        advantage_std: Any, advantage_min: Any, advantage_max: Any, advantage_median: Any,
        advantage_samples: Any, response_data: Any, response_length: Any, response_text: Any,
        response_reward: Any,
    ) -> ComprehensivePPOMetrics:
        """The slow path of :meth:`update`: response payloads (texts, dicts, lists) and
        records pending from the constructor."""
        rewards, lengths = self._reader.records(response_data)
        r1, l1 = self._reader.single(response_reward, response_length, response_text)
        rewards += r1
        lengths += l1
        if self._pending[0]:
            rewards = self._pending[0] + rewards
            lengths = self._pending[1] + lengths
            self._pending = ([], [])
        return self._core.update(
            step, kl, kl_coef, entropy, reward_mean, reward_std, policy_grad_norm,
            value_grad_norm, total_grad_norm, advantage_mean, advantage_std, advantage_min,
            advantage_max, advantage_median,
            advantage_samples=_samples(advantage_samples),
            response_rewards=rewards if rewards else None,
            response_lengths=lengths if rewards else None,
        )

    def update_many(self, steps: Any, **columns: Any) -> dict[str, Any]:
        """Feeds NumPy columns (keyword names as ``update``'s, plus ``response_reward`` and
        ``response_length`` for one record per step) as repeated updates; returns each
        step's scalar metrics as columns. For steps with batches of responses (what
        ``response_data`` gives ``update``), pass every step's records one after the other as
        ``response_reward``/``response_length`` and ``response_counts``, the number of
        records of each step (whole numbers >= 0). A column not given was not logged; NaN in a column
        is a non-finite value. With ``enable_trainer_signals``, the columns
        ``frac_reward_zero_std``, ``truncation_rate``, ``response_length_mean`` and
        ``reward_components`` (a mapping of name to column) feed the trainer-signal rules.

        The KL tracker and the gradient/advantage trackers run side by side on two threads
        of rayon's pool (``RAYON_NUM_THREADS=1`` keeps it to one), each over its rows in
        order, with the GIL released: the results are those of ``update`` row by row,
        whatever the thread count."""
        extra = {k: columns.pop(k) for k in _SIGNAL_ONLY if k in columns}
        if extra and self._signals is None:
            raise ValueError(
                f"{', '.join(extra)}: these columns feed the trainer-signal rules; pass "
                "enable_trainer_signals=True to ComprehensivePPOForensics"
            )
        out = self._core.update_many(steps, **columns)
        if self._signals is not None:
            grad = columns.get("total_grad_norm")
            if grad is None:
                grad = columns.get("policy_grad_norm")
            self._signals.update_many(
                steps, kl=columns.get("kl"), entropy=columns.get("entropy"),
                reward_mean=columns.get("reward_mean"), reward_std=columns.get("reward_std"),
                grad_norm=grad, **extra,
            )
        return out

    # --- trackers and state ------------------------------------------------------------------

    @property
    def kl_schedule_tracker(self) -> KLScheduleTracker | None:
        """The KL tracker (live), or None when disabled."""
        return self._core.kl_schedule_tracker

    @property
    def gradient_norms_analyzer(self) -> GradientNormsAnalyzer | None:
        """The gradient analyzer (live), or None when disabled."""
        return self._core.gradient_norms_analyzer

    @property
    def advantage_statistics_tracker(self) -> AdvantageStatisticsTracker | None:
        """The advantage tracker (live), or None when disabled."""
        return self._core.advantage_statistics_tracker

    @property
    def current_metrics(self) -> ComprehensivePPOMetrics:
        return self._core.current_metrics

    @property
    def comprehensive_metrics_history(self) -> ComprehensiveMetricsHistory:
        return self._core.comprehensive_metrics_history

    @property
    def total_updates(self) -> int:
        return self._core.total_updates

    @property
    def history_size(self) -> int:
        """Snapshots kept in ``comprehensive_metrics_history``."""
        return self._core.history_size

    @property
    def kl_target(self) -> float:
        return self._core.kl_target

    @property
    def enable_kl_drift_tracking(self) -> bool:
        return self._core.enable_kl_drift_tracking

    @property
    def kl_drift_threshold(self) -> float:
        return self._core.kl_drift_threshold

    @property
    def enable_length_bias_detection(self) -> bool:
        return self._core.enable_length_bias_detection

    @property
    def length_bias_threshold(self) -> float:
        return self._core.length_bias_threshold

    @property
    def length_bias_corr_threshold(self) -> float:
        return self._core.length_bias_corr_threshold

    @property
    def trainer_signals(self) -> TrainerSignalsTracker | None:
        """The trainer-signal rules, when enabled."""
        return self._signals

    def __getstate__(self) -> dict[str, Any]:
        return {
            "core": self._core.to_bytes(),
            "pending": self._pending,
            "signals": None if self._signals is None else self._signals.to_bytes(),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._core = ComprehensiveForensicsCore.from_bytes(state["core"])
        signals = state.get("signals")
        self._signals = None if signals is None else TrainerSignalsTracker.from_bytes(signals)
        self._reader = ResponseReader()
        self._pending = state["pending"]
        self.anomalies = []
        self.analysis_summary = {}

    # --- queries -----------------------------------------------------------------------------

    def get_anomalies(self, active_only: bool = False) -> list[AnomalyEvent]:
        """The run's anomaly events (KL, gradient, then this layer's), each with its
        ``tracker``; only the still-open ones with ``active_only``. The trainer-signal
        rules' events (``tracker="signals"``) come last."""
        self.anomalies = self._core.get_anomalies(active_only)
        if self._signals is not None:
            self.anomalies += self._signals.get_anomalies(active_only)
        return self.anomalies

    def get_diagnosis(self) -> list[DiagnosisEntry]:
        """The run's events in order of onset, each with the events that began within 50
        logged rows before it and the earliest of those (``summary`` reads like
        "kl_spike at 61, preceded by grad_norm_explosion at 27")."""
        return self._diagnosis(self.get_anomalies())

    def first_cause(self) -> dict[str, Any] | None:
        """Where to start looking, as the scanner's ``RunReport.first_cause()``: the root in
        :meth:`get_diagnosis` of the run's most serious event (its earliest critical event;
        without one, its earliest warning still open; else its earliest event)."""
        return first_cause(self.get_diagnosis())

    @property
    def diagnosis_horizon(self) -> float:
        """Steps within which an earlier event counts as preceding another in
        :meth:`get_diagnosis`: 50 logged rows at the median positive gap between the steps
        seen so far, as the scanner measures a log's stride (so a pause in logging or a
        resumed run that restarts its step count does not stretch it); 50 while no step has
        followed another with a positive, finite gap."""
        return self._core.diagnosis_horizon(DIAGNOSIS_ROWS)

    def _diagnosis(self, events: list[AnomalyEvent]) -> list[DiagnosisEntry]:
        """:meth:`get_diagnosis` of ``events`` (this run's, already fetched)."""
        plain: list[dict[str, Any]] = [dict(e) for e in events]
        return diagnose(plain, self.diagnosis_horizon)

    def _scores(self) -> tuple[float | None, float | None, float | None]:
        """Overall health, stability and convergence: the RLDK trackers' aggregate and the
        trainer-signal rules', averaged over those with data."""
        m = self.current_metrics
        parts = [(m.overall_health_score, m.training_stability_score, m.convergence_quality_score)]
        if self._signals is not None and self._signals.updates:
            s = self._signals.scores()
            parts.append((s["health"], s["stability"], s["convergence"]))

        def mean(i: int) -> float | None:
            vals = [v for p in parts if (v := p[i]) is not None]
            return sum(vals) / len(vals) if vals else None

        return mean(0), mean(1), mean(2)

    def metrics_rows(self, n: int) -> tuple[str, str]:
        """The last ``n`` snapshots (at most ``history_size``) as CSV lines (columns:
        :meth:`metrics_row_fields`) and as JSON objects, one per line; for writers that
        append a run's metrics file as training goes."""
        return self._core.metrics_rows(n)

    @staticmethod
    def metrics_row_fields() -> list[str]:
        """Columns of :meth:`metrics_rows`: ``step``, the inputs and the three scores."""
        return ComprehensiveForensicsCore.metrics_row_fields()

    def anomalies_at(self, step: float) -> list[AnomalyEvent]:
        """The events that held at ``step`` (opened or extended by that update): what a
        per-step caller needs to see what is new, without converting every stored event."""
        held = self._core.get_anomalies(False, float(step))
        if self._signals is not None:
            held += self._signals.get_anomalies(False, float(step))
        return held

    def get_kl_drift_analysis(self) -> dict[str, Any]:
        """``{}`` without KL tracking or drift; else detected, score, trend, divergence,
        reference/current mean and std, and the drift events."""
        kl = self.kl_schedule_tracker
        if kl is None or not kl.enable_drift_tracking:
            return {}
        m = kl.current_metrics
        return {
            "detected": m.kl_drift_detected,
            "score": m.kl_drift_score,
            "trend": m.kl_drift_trend,
            "divergence": m.kl_drift_kl_divergence,
            "reference_mean": m.kl_reference_mean,
            "reference_std": m.kl_reference_std,
            "current_mean": m.kl_current_mean,
            "current_std": m.kl_current_std,
            "anomalies": kl.get_kl_drift_anomalies(),
        }

    def get_length_bias_analysis(self) -> dict[str, Any]:
        """``{}`` when disabled; else RLDK's keys (enabled, detected, threshold,
        corr_threshold, metrics, recommendations, sample_count)."""
        metrics = self._core.length_bias_metrics()
        if metrics is None:
            return {}
        return {
            "enabled": True,
            "detected": bool(
                metrics["valid_sample_count"] > 0
                and metrics["bias_severity"] is not None
                and metrics["bias_severity"] >= self.length_bias_threshold
            ),
            "threshold": self.length_bias_threshold,
            "corr_threshold": self.length_bias_corr_threshold,
            "metrics": metrics,
            "recommendations": list(metrics["recommendations"]),
            "sample_count": metrics["valid_sample_count"],
            "invalid_response_count": self._core.invalid_response_count,
        }

    def get_comprehensive_analysis(self) -> dict[str, Any]:
        """RLDK's version-"2.0" analysis: scores, anomalies and each tracker's summary."""
        trackers: dict[str, Any] = {}
        if self.kl_schedule_tracker is not None:
            trackers["kl_schedule"] = self.kl_schedule_tracker.get_summary()
            if self.enable_kl_drift_tracking:
                trackers["kl_drift"] = self.get_kl_drift_analysis()
        if self.gradient_norms_analyzer is not None:
            trackers["gradient_norms"] = self.gradient_norms_analyzer.get_summary()
        if self.advantage_statistics_tracker is not None:
            trackers["advantage_statistics"] = self.advantage_statistics_tracker.get_summary()
        if self.enable_length_bias_detection:
            trackers["length_bias"] = self.get_length_bias_analysis()
        if self._signals is not None:
            trackers["trainer_signals"] = {
                "kl_scale": self._signals.kl_scale,
                "updates": self._signals.updates,
                "scores": self._signals.scores(),
                "reward_components": self._signals.reward_components,
            }
        overall, stability, convergence = self._scores()
        self.analysis_summary = {
            "version": "2.0",
            "timestamp": time.time(),
            "total_steps": self.total_updates,
            "overall_health_score": overall,
            "training_stability_score": stability,
            "convergence_quality_score": convergence,
            "anomalies": self.get_anomalies(),
            "trackers": trackers,
        }
        if self._signals is not None:
            diagnosis = self._diagnosis(self.analysis_summary["anomalies"])
            self.analysis_summary["diagnosis"] = [d["summary"] for d in diagnosis]
            cause = first_cause(diagnosis)
            self.analysis_summary["first_cause"] = None if cause is None else event_name(cause)
        return self.analysis_summary

    def get_health_summary(self) -> dict[str, Any]:
        """Status and scores. The status judges the whole run: "critical" if any critical
        event happened, else "warning" if any warning did, else "degraded" when the overall
        score is below 0.7, else "healthy"; ``active_anomalies`` counts the open events."""
        if self.total_updates == 0:
            return {"status": "no_data"}
        events = self.get_anomalies()
        critical = sum(e["severity"] == "critical" for e in events)
        warning = sum(e["severity"] == "warning" for e in events)
        m = self.current_metrics
        overall, stability, convergence = self._scores()
        if critical:
            status = "critical"
        elif warning:
            status = "warning"
        elif overall is not None and overall < 0.7:
            status = "degraded"
        else:
            status = "healthy"
        return {
            "status": status,
            "overall_health_score": overall,
            "training_stability_score": stability,
            "convergence_quality_score": convergence,
            "total_anomalies": len(events),
            "critical_anomalies": critical,
            "warning_anomalies": warning,
            "active_anomalies": sum(bool(e["active"]) for e in events),
            "current_kl": m.kl,
            "current_kl_coef": m.kl_coef,
            "current_reward_mean": m.reward_mean,
            "current_entropy": m.entropy,
            "kl_drift": self.get_kl_drift_analysis(),
            "length_bias": self.get_length_bias_analysis(),
        }

    def save_analysis(self, output_path: str | os.PathLike[str]) -> Path:
        """Writes ``get_comprehensive_analysis()`` as JSON (non-finite numbers as null)."""
        path = Path(output_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        analysis = json_safe(self.get_comprehensive_analysis())
        path.write_text(json.dumps(analysis, indent=2, allow_nan=False))
        logger.info("saved comprehensive analysis to %s", path)
        return path

    def scan_ppo_events_comprehensive(
        self, events: Iterable[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Reads ``events`` once: each event updates these forensics (accumulating, as in
        RLDK) and feeds ``scan_ppo_events``' rules. Returns the scan report plus
        ``comprehensive_analysis`` and ``enhanced_version`` "2.0"."""

        def feed(index: int, event: Mapping[str, Any]) -> None:
            step = lookup(event, "step")
            # Unreadable values are skipped, as by the scan (which logs them): a string
            # where a number belongs must not stop the whole scan half-way.
            args: dict[str, Any] = {name: readable(lookup(event, name)) for name in _UPDATE_ARGS}
            args.update((name, lookup(event, name)) for name in _RESPONSE_ARGS)
            self.update(readable(step) if step is not None else index, **args)

        cols = read_events(events, feed)
        report = scan_columns(cols, self.kl_target, self._core.kl_target_tolerance)
        if not cols.steps:
            return report
        report["comprehensive_analysis"] = self.get_comprehensive_analysis()
        report["enhanced_version"] = "2.0"
        return report

    def __repr__(self) -> str:
        return (
            f"ComprehensivePPOForensics(kl_target={self.kl_target}, "
            f"updates={self.total_updates})"
        )
