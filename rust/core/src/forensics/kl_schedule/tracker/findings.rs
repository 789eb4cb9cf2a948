//! The KL tracker's rules: which conditions hold after an update (thresholds and reasons:
//! docs/compatibility.md).

use super::*;

impl KlScheduleTracker {
    /// Appends the conditions that hold now to `out` (thresholds and reasons:
    /// docs/compatibility.md).
    pub(super) fn rule_findings(&self, out: &mut Vec<Finding>) {
        if self.finite_kl < RULE_MIN_SAMPLES {
            return;
        }
        let m = &self.metrics;
        let scale = self.cfg.kl_scale();
        if let (Some(slope), Some(change), Some(r2)) =
            (m.kl_trend, self.trend_change(), self.trend_r2)
        {
            if r2 >= TREND_MIN_R2 && change > 2.0 * scale {
                let span = change / slope.abs();
                out.push(Finding::new(
                    "kl_trend_anomaly",
                    if change > 4.0 * scale {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    },
                    slope,
                    Some(2.0 * scale / span),
                    format!(
                        "KL trend {slope:.4e} per step: {change:.4} over the last {} samples \
                         (R² {r2:.2}), more than twice the band half-width {scale:.4}",
                        self.cfg.trend_window
                    ),
                ));
            }
        }
        if let Some(v) = m.kl_volatility.filter(|&v| v > scale) {
            out.push(Finding::new(
                "kl_volatility_anomaly",
                if v >= 2.0 * scale {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                v,
                Some(scale),
                self.message("kl_volatility_anomaly", v),
            ));
        }
        // A run's KL starts far from its target (near 0 for a fresh policy): the band rule
        // judges the samples since the KL first reached the band (at least 10 of them), or
        // a full window when it never did.
        if let Some(t) = self.band_fraction_for_rule().filter(|&t| t < 0.5) {
            // A KL that never reached the band says the target may not fit this run (a
            // GRPO run's per-token KL is far below PPO's 0.1) as much as that the run is
            // broken, and without an adaptive coefficient nothing steers the KL to the band:
            // those are warnings. An adaptive controller losing a band it held (10 samples in
            // a row inside it) is critical.
            out.push(Finding::new(
                "target_range_anomaly",
                if t <= 0.3 && self.held() && self.coef_ever_changed {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                t,
                Some(0.5),
                self.message("target_range_anomaly", t),
            ));
        }
        self.controller_findings(out);
        self.drift_findings(out);
    }

    fn controller_findings(&self, out: &mut Vec<Finding>) {
        let Some(w) = self.controller_window else {
            return;
        };
        let m = &self.metrics;
        let window = self.cfg.controller_window;
        match (w.kind, w.responsiveness) {
            (ControllerKind::Adaptive, Some(r)) if r < RESPONSIVENESS_LIMIT => {
                out.push(Finding::new(
                    "controller_responsiveness_anomaly",
                    Severity::Warning,
                    r.max(0.0),
                    Some(RESPONSIVENESS_LIMIT),
                    // The value is r only when positive (the stopped-controller finding of this
                    // kind has value 0), so only then does it key the message.
                    if r > 0.0 {
                        self.message("controller_responsiveness_anomaly", r)
                    } else {
                        responsiveness_message(r, window)
                    },
                ));
            }
            (ControllerKind::Fixed, _) if self.coef_ever_changed && w.time_in_band < 0.5 => {
                out.push(Finding::new(
                    "controller_responsiveness_anomaly",
                    Severity::Warning,
                    0.0,
                    Some(RESPONSIVENESS_LIMIT),
                    format!(
                        "KL coefficient has stopped adapting: unchanged over the last {window} \
                         samples while KL was in band only {}% of them",
                        Fixed::<1>(100.0 * w.time_in_band)
                    ),
                ));
            }
            _ => {}
        }
        if let Some(o) = m.controller_overshoot.filter(|&o| o > OVERSHOOT_LIMIT) {
            out.push(Finding::new(
                "controller_overshoot_anomaly",
                Severity::Warning,
                o,
                Some(OVERSHOOT_LIMIT),
                self.message("controller_overshoot_anomaly", o),
            ));
        }
        if let Some(o) = m.controller_oscillation.filter(|&o| o > OSCILLATION_LIMIT) {
            out.push(Finding::new(
                "controller_oscillation_anomaly",
                Severity::Warning,
                o,
                Some(OSCILLATION_LIMIT),
                self.message("controller_oscillation_anomaly", o),
            ));
        }
        if w.kind == ControllerKind::Adaptive {
            if let Some(q) = m.coef_adaptation_quality.filter(|&q| q < ADAPTATION_LIMIT) {
                out.push(Finding::new(
                    "coef_adaptation_anomaly",
                    Severity::Warning,
                    q,
                    Some(ADAPTATION_LIMIT),
                    self.message("coef_adaptation_anomaly", q),
                ));
            }
        }
    }

    /// The message of a finding of `kind` whose text depends only on its `value` (and the
    /// configuration): see [`keyed_message`]. While the condition holds, the open event of
    /// that kind keeps the last message and value; when the value is unchanged (the
    /// controller analysis is refreshed only every few samples) that message is reused
    /// rather than formatted again, formatting being most of what a step costs while a
    /// condition holds. While messages are deferred (a batch, see
    /// [`KlScheduleTracker::set_deferred_messages`]) it is left empty, to be rebuilt from the
    /// event's value once the batch ends: only the last message of each event is ever seen.
    fn message(&self, kind: &str, value: f64) -> String {
        if self.defer_messages {
            return String::new();
        }
        match self.events.active().find(|e| e.kind == kind) {
            Some(e) if e.value.to_bits() == value.to_bits() => e.message.clone(),
            _ => keyed_message(kind, value, &self.cfg),
        }
    }

    fn drift_findings(&self, out: &mut Vec<Finding>) {
        let m = &self.metrics;
        let (Some(score), Some(div)) = (m.kl_drift_score, m.kl_drift_kl_divergence) else {
            return;
        };
        let thr = self.cfg.drift_threshold;
        if m.kl_drift_detected {
            let mut f = Finding::new(
                "kl_drift_detected",
                // Drift is a change, not by itself a failure: critical only when strong, the
                // KL has also left its band, and an adaptive coefficient was there to hold it
                // (with a fixed one the KL wanders freely, as the band rule also says).
                if score > 0.6
                    && self.coef_ever_changed
                    && m.kl_current_mean.is_some_and(|c| !self.in_band(c))
                {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                score,
                Some(thr),
                format!(
                    "KL distribution drift: divergence {}, score {}",
                    Fixed::<4>(div),
                    Fixed::<3>(score)
                ),
            );
            f.extra = Some(("trend", m.kl_drift_trend.as_str()));
            out.push(f);
        }
        // RLDK fires on any rising score, but the corrected divergence of a stationary
        // series wanders around 0 and its score rises half the time: a rising score means
        // worsening drift only while drift is detected.
        if m.kl_drift_detected && m.kl_drift_trend == DriftTrend::Increasing {
            out.push(Finding::new(
                "kl_drift_trend",
                Severity::Warning,
                score,
                None,
                "KL drift severity increasing".to_string(),
            ));
        }
    }
}

/// The text of a finding of `kind` with value `v`, for the kinds whose message depends only
/// on the value and the configuration (the controller-responsiveness one when its value is
/// the positive correlation); the same words and digits as formatting it at the step.
pub(super) fn keyed_message(kind: &str, v: f64, cfg: &KlScheduleConfig) -> String {
    let window = cfg.controller_window;
    match kind {
        "kl_volatility_anomaly" => format!(
            "KL volatility {} exceeds the band half-width {}",
            Fixed::<4>(v),
            Fixed::<4>(cfg.kl_scale())
        ),
        "target_range_anomaly" => format!(
            "KL in target range [{}, {}] only {}% of the recent samples",
            Fixed::<4>(cfg.band_low()),
            Fixed::<4>(cfg.band_high()),
            Fixed::<1>(100.0 * v)
        ),
        "controller_responsiveness_anomaly" => responsiveness_message(v, window),
        "controller_overshoot_anomaly" => format!(
            "KL overshot the band by {} of the target after crossing it",
            Fixed::<3>(v)
        ),
        "controller_oscillation_anomaly" => format!(
            "KL swings across the band: {} sign changes of the error per sample over the \
             last {window} samples",
            Fixed::<3>(v)
        ),
        "coef_adaptation_anomaly" => format!(
            "KL coefficient changes do not follow the KL error: quality {} over the last \
             {SHORT_WINDOW} samples",
            Fixed::<3>(v)
        ),
        // Every caller passes one of the kinds above.
        _ => String::new(),
    }
}

fn responsiveness_message(r: f64, window: usize) -> String {
    format!(
        "KL coefficient does not act against the KL error: correlation {} over the last \
         {window} samples",
        Fixed::<3>(r)
    )
}
