//! The KL-schedule tracker: RLDK's `KLScheduleTracker`, computed incrementally on the
//! estimators of the numeric core.
//!
//! What differs from RLDK, and why (each listed in docs/compatibility.md):
//! - Inputs are not sanitised into plausible values. A missing KL (`None`) leaves the KL
//!   analyses untouched; a non-finite KL is counted, kept out of every statistic and raises
//!   the critical `non_finite_kl` anomaly. Negative KL estimates (legitimate for the k1
//!   estimator) are analysed as given.
//! - The trend is a least-squares slope per *logged step*, and its rule looks at the change
//!   the trend implies across the trend window, relative to the band, with an R² floor so
//!   that noise does not read as a trend.
//! - Controller overshoot, oscillation and responsiveness come from the core's controller
//!   analysis over the last `controller_window` samples (computed in one pass over the
//!   window, see `controller_window`; lags whose correlations tie in magnitude go to the
//!   shorter lag). A coefficient that does not change is "no controller" (responsiveness
//!   `None`, no anomaly), unless it used to change and has stopped while the KL is out of
//!   band: that is a stuck controller.
//! - Drift uses the bias-corrected histogram KL and must also be significant by a KS test;
//!   the current window never overlaps the reference.
//! - Scores need data: a part without data is `None` and does not count as a perfect 1.0.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::coefficient::coef_stats;
use super::config::KlScheduleConfig;
use super::controller_window::{self, Sample};
use super::fixed::Fixed;
use super::metrics::{DriftTrend, KlScheduleMetrics};
use crate::control::ControllerKind;
use crate::drift::DriftDetector;
use crate::error::Result;
use crate::forensics::event::{EventLog, Finding, Severity};
use crate::forensics::small::weighted_score;
use crate::state::{invalid, Validate};

mod findings;
use crate::stats::{Moments, Ring, RollingMoments};
use crate::trend::RollingTrend;

/// Samples behind volatility and the coefficient statistics (RLDK's fixed 10).
const SHORT_WINDOW: usize = 10;
/// KL samples before any rule is evaluated (RLDK's history gate).
const RULE_MIN_SAMPLES: u64 = 10;
/// Drift scores behind the drift trend.
const DRIFT_TREND_SCORES: usize = 10;

/// What the last drift test found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftDetails {
    /// KS statistic of the current window against the reference.
    pub ks_statistic: f64,
    /// Its asymptotic p-value.
    pub ks_p_value: f64,
    /// Plug-in histogram KL(current ‖ reference).
    pub raw_divergence: f64,
    /// The same with its small-sample bias removed.
    pub corrected_divergence: f64,
    /// Histogram bins.
    pub bins: usize,
    /// Values in the reference.
    pub reference_size: usize,
    /// Values in the current window.
    pub window_size: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DriftState {
    detector: DriftDetector,
    reference: Moments,
    current: RollingMoments,
    scores: Ring,
    details: Option<DriftDetails>,
    /// Values since the last drift test.
    since_test: usize,
}

/// Facts of the windowed controller analysis that the rules read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct ControllerWindow {
    kind: ControllerKind,
    /// Signed responsiveness (adaptive only).
    responsiveness: Option<f64>,
    time_in_band: f64,
}

/// Streaming KL-schedule analysis with anomaly events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KlScheduleTracker {
    cfg: KlScheduleConfig,
    updates: u64,
    finite_kl: u64,
    in_band_total: u64,
    nonfinite_coef: u64,
    kl_window: Ring,
    step_window: Ring,
    in_band_window: usize,
    trend: RollingTrend,
    trend_steps: Ring,
    trend_r2: Option<f64>,
    volatility: RollingMoments,
    /// (kl, coef, step, ln coef) of the last `controller_window` finite KL values; the
    /// coefficient is NaN where none was usable, and its logarithm is kept so that the
    /// windowed analyses do not take it again at every step.
    controller: VecDeque<(f64, f64, f64, f64)>,
    controller_window: Option<ControllerWindow>,
    /// (kl, coef, ln coef) of the last `SHORT_WINDOW` of them.
    coef_pairs: VecDeque<(f64, f64, f64)>,
    /// Whether the KL has been inside the band at least once (the controller acquired
    /// its target); before that the band rule waits for a full window.
    acquired: bool,
    /// Finite KL samples since the KL first reached the band.
    since_acquired: u64,
    /// Consecutive in-band samples up to now, until there have been `RULE_MIN_SAMPLES` of
    /// them: then the controller held its target, and the count stays there. A KL that
    /// approaches the band from below and grazes its edge during the warm-up has reached
    /// the band but not held it, and falling back out of it is not a controller losing
    /// its band.
    in_band_run: u64,
    first_coef: Option<f64>,
    coef_ever_changed: bool,
    drift: Option<DriftState>,
    metrics: KlScheduleMetrics,
    events: EventLog,
    history: VecDeque<Arc<KlScheduleMetrics>>,
    /// Whether snapshots are kept in `history` (batch paths switch it off for rows whose
    /// snapshot the history would drop anyway). Not state.
    #[serde(skip)]
    history_off: bool,
    /// Whether messages that can be rebuilt from their event's value are left empty until
    /// [`KlScheduleTracker::set_deferred_messages`] turns this off. Not state.
    #[serde(skip)]
    defer_messages: bool,
    /// The findings of an update, kept between updates (empty) so that their vector is
    /// allocated once. Not state.
    #[serde(skip)]
    findings: Vec<Finding>,
}

impl KlScheduleTracker {
    /// A tracker with validated parameters.
    pub fn new(cfg: KlScheduleConfig) -> Result<Self> {
        let cfg = cfg.validated()?;
        let drift = if cfg.enable_drift_tracking {
            Some(DriftState {
                detector: DriftDetector::new(
                    cfg.reference_period,
                    cfg.drift_window_size,
                    Some(cfg.drift_min_window()),
                    cfg.drift_alpha,
                )?,
                reference: Moments::new(),
                current: RollingMoments::new(cfg.drift_window_size, Some(1))?,
                scores: Ring::new(DRIFT_TREND_SCORES),
                details: None,
                since_test: 0,
            })
        } else {
            None
        };
        Ok(KlScheduleTracker {
            updates: 0,
            finite_kl: 0,
            in_band_total: 0,
            nonfinite_coef: 0,
            kl_window: Ring::new(cfg.window_size),
            step_window: Ring::new(cfg.window_size),
            in_band_window: 0,
            trend: RollingTrend::new(cfg.trend_window, None)?,
            trend_steps: Ring::new(cfg.trend_window),
            trend_r2: None,
            volatility: RollingMoments::new(SHORT_WINDOW, None)?,
            controller: VecDeque::with_capacity(cfg.controller_window.min(1024)),
            controller_window: None,
            coef_pairs: VecDeque::with_capacity(SHORT_WINDOW),
            acquired: false,
            since_acquired: 0,
            in_band_run: 0,
            first_coef: None,
            coef_ever_changed: false,
            drift,
            metrics: KlScheduleMetrics::empty(cfg.kl_target),
            events: EventLog::new(cfg.event_release, cfg.max_events)?,
            history: VecDeque::new(),
            history_off: false,
            defer_messages: false,
            findings: Vec::new(),
            cfg,
        })
    }

    /// The effective parameters (after RLDK's clamps).
    pub fn config(&self) -> &KlScheduleConfig {
        &self.cfg
    }

    /// Updates seen (every call, whatever it carried).
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Switches keeping per-update snapshots in the history on or off. A batch path turns
    /// it off for the rows whose snapshots a full history would drop before the batch ends,
    /// which leaves every result, the final history included, as per-step updates give.
    pub fn set_history_recording(&mut self, on: bool) {
        self.history_off = !on;
    }

    /// Defers (or, with `false`, completes) the formatting of finding messages that depend
    /// only on the finding's value: while deferred they are stored empty, and turning it off
    /// writes each event's message from its value, the text per-step updates leave. A batch
    /// path defers for its whole length: an event's message is replaced at every step it
    /// holds, so only the last one is ever read.
    pub fn set_deferred_messages(&mut self, on: bool) {
        if self.defer_messages && !on {
            let cfg = self.cfg;
            self.events
                .fill_empty_messages(|kind, value| findings::keyed_message(kind, value, &cfg));
        }
        self.defer_messages = on;
    }

    /// The latest snapshot.
    pub fn metrics(&self) -> &KlScheduleMetrics {
        &self.metrics
    }

    /// The retained snapshots, oldest first (at most `history_size`).
    pub fn history(&self) -> &VecDeque<Arc<KlScheduleMetrics>> {
        &self.history
    }

    /// This update's snapshot: the one the history kept, shared, or else a copy of the
    /// latest metrics. The comprehensive layer keeps it in its own snapshot, so that a
    /// step's metrics are stored once for both histories.
    pub fn snapshot(&self) -> Arc<KlScheduleMetrics> {
        crate::forensics::latest_snapshot(&self.history, self.history_off, &self.metrics)
    }

    /// The anomaly events.
    pub fn events(&self) -> &EventLog {
        &self.events
    }

    /// The last `window_size` finite KL values, oldest first.
    pub fn kl_history(&self) -> impl Iterator<Item = f64> + '_ {
        self.kl_window.iter()
    }

    /// Their logged steps.
    pub fn step_history(&self) -> impl Iterator<Item = f64> + '_ {
        self.step_window.iter()
    }

    /// The last `controller_window` coefficients that came with a finite KL (NaN where none
    /// was logged), oldest first.
    pub fn coef_history(&self) -> impl Iterator<Item = f64> + '_ {
        self.controller.iter().map(|c| c.1)
    }

    /// Non-finite coefficients seen.
    pub fn nonfinite_coef(&self) -> u64 {
        self.nonfinite_coef
    }

    /// The last drift test, once the reference and window are filled.
    pub fn drift_details(&self) -> Option<&DriftDetails> {
        self.drift.as_ref().and_then(|d| d.details.as_ref())
    }

    /// One logged step. `kl` or `coef` is `None` when the step did not log it.
    pub fn update(&mut self, step: f64, kl: Option<f64>, coef: Option<f64>) -> &KlScheduleMetrics {
        self.updates += 1;
        self.metrics.step = step;
        self.metrics.current_kl = kl;
        self.metrics.current_kl_coef = coef;
        // Input findings come first (the order the log sees them in), then the rules'.
        let mut findings = std::mem::take(&mut self.findings);
        findings.clear();
        if let Some(c) = coef.filter(|c| !c.is_finite()) {
            self.nonfinite_coef += 1;
            findings.push(Finding::new(
                "non_finite_kl_coef",
                Severity::Critical,
                self.nonfinite_coef as f64,
                Some(0.0),
                format!(
                    "KL coefficient is {c} at step {step} ({} non-finite so far)",
                    self.nonfinite_coef
                ),
            ));
        }
        match kl {
            Some(k) if k.is_finite() => {
                let usable_coef = coef.filter(|c| c.is_finite() && *c > 0.0);
                self.ingest(step, k, usable_coef);
            }
            Some(k) => {
                self.metrics.nonfinite_kl_count += 1;
                let n = self.metrics.nonfinite_kl_count;
                findings.push(Finding::new(
                    "non_finite_kl",
                    Severity::Critical,
                    n as f64,
                    Some(0.0),
                    format!("KL is {k} at step {step} ({n} non-finite so far)"),
                ));
            }
            None => {}
        }
        if kl.is_some() || !findings.is_empty() {
            self.rule_findings(&mut findings);
            self.events.observe_drain(step, &mut findings);
        }
        self.findings = findings;
        if !self.history_off {
            crate::forensics::push_capped(
                &mut self.history,
                Arc::new(self.metrics.clone()),
                self.cfg.history_size,
            );
        }
        &self.metrics
    }

    /// Whether the KL has stayed in the band for `RULE_MIN_SAMPLES` samples in a row.
    pub(super) fn held(&self) -> bool {
        self.in_band_run >= RULE_MIN_SAMPLES
    }

    fn in_band(&self, kl: f64) -> bool {
        self.cfg.band_low() <= kl && kl <= self.cfg.band_high()
    }

    fn ingest(&mut self, step: f64, kl: f64, coef: Option<f64>) {
        self.finite_kl += 1;
        let inside = self.in_band(kl);
        self.acquired |= inside;
        self.since_acquired += u64::from(self.acquired);
        self.in_band_total += u64::from(inside);
        if !self.held() {
            self.in_band_run = if inside { self.in_band_run + 1 } else { 0 };
        }
        if let Some(old) = self.kl_window.push(kl) {
            self.in_band_window -= usize::from(self.in_band(old));
        }
        self.in_band_window += usize::from(inside);
        self.step_window.push(step);
        self.trend.update(step, kl);
        self.trend_steps.push(step);
        self.volatility.update(kl);
        let c = coef.unwrap_or(f64::NAN);
        let ln_c = c.ln();
        if self.controller.len() == self.cfg.controller_window {
            self.controller.pop_front();
        }
        self.controller.push_back((kl, c, step, ln_c));
        if self.coef_pairs.len() == SHORT_WINDOW {
            self.coef_pairs.pop_front();
        }
        self.coef_pairs.push_back((kl, c, ln_c));
        if let Some(c) = coef {
            match self.first_coef {
                None => self.first_coef = Some(c),
                Some(f) if f != c => self.coef_ever_changed = true,
                Some(_) => {}
            }
        }
        self.update_drift(kl);
        self.recompute();
    }

    /// RLDK's drift bookkeeping on its own: feeds one KL value to the drift reference or the
    /// current drift window (and runs the drift tests when due), without touching the band,
    /// trend or controller analyses. `update` does this itself; this is for callers that
    /// track the KL distribution from another source. A no-op when drift tracking is off;
    /// a non-finite value is an error (it cannot be placed in a distribution).
    pub fn track_kl_distribution(&mut self, step: f64, kl: f64) -> Result<()> {
        if !kl.is_finite() {
            return Err(crate::error::CoreError::param(
                "kl_value",
                format!("must be finite, got {kl} at step {step}"),
            ));
        }
        self.update_drift(kl);
        Ok(())
    }

    fn update_drift(&mut self, kl: f64) {
        let cfg = self.cfg;
        let Some(d) = self.drift.as_mut() else {
            return;
        };
        if d.detector.reference_len() < cfg.reference_period {
            d.reference.update(kl);
        } else {
            d.current.update(kl);
        }
        d.detector.update(kl);
        let m = &mut self.metrics;
        m.kl_reference_mean = d.reference.mean();
        m.kl_reference_std = d.reference.std(1);
        m.kl_distribution_mean = m.kl_reference_mean;
        m.kl_distribution_std = m.kl_reference_std;
        m.kl_current_mean = d.current.mean();
        m.kl_current_std = d.current.std(1);
        // The tests cost O(reference + window) each; the window moves by one value per
        // step, so they run every `drift_stride` values (a twentieth of the window), which
        // bounds the per-step cost and delays a verdict by at most that many steps.
        d.since_test += 1;
        if d.since_test < cfg.drift_stride() {
            return;
        }
        let (Some(ks), Ok(Some(hkl))) = (d.detector.ks(), d.detector.histogram_kl_cached(None))
        else {
            return;
        };
        d.since_test = 0;
        let divergence = hkl.corrected.max(0.0);
        let score = if divergence > 0.0 {
            (1.0 - (-divergence / cfg.drift_threshold).exp()).clamp(0.0, 1.0)
        } else {
            0.0
        };
        d.scores.push(score);
        m.kl_drift_kl_divergence = Some(divergence);
        m.kl_drift_score = Some(score);
        // Consecutive KL values are autocorrelated, which makes the KS test anti-conservative
        // over long runs; drift also has to matter on the band's scale: the mean moved by
        // half a band half-width, or the spread grew by as much (a narrower spread than a
        // reference that includes the warm-up is no problem).
        let practical = match (
            m.kl_reference_mean,
            m.kl_current_mean,
            m.kl_reference_std,
            m.kl_current_std,
        ) {
            (Some(rm), Some(cm), Some(rs), Some(cs)) => {
                (cm - rm).abs() > 0.5 * cfg.kl_scale() || cs - rs > 0.5 * cfg.kl_scale()
            }
            _ => false,
        };
        m.kl_drift_detected =
            ks.p_value < cfg.drift_alpha && divergence > cfg.drift_threshold && practical;
        m.kl_drift_trend = drift_trend(&d.scores);
        d.details = Some(DriftDetails {
            ks_statistic: ks.statistic,
            ks_p_value: ks.p_value,
            raw_divergence: hkl.raw,
            corrected_divergence: hkl.corrected,
            bins: hkl.bins,
            reference_size: d.detector.reference_len(),
            window_size: d.detector.window_len(),
        });
    }

    fn recompute(&mut self) {
        let n = self.kl_window.len();
        let m = &mut self.metrics;
        if n >= 5 {
            let frac = self.in_band_window as f64 / n as f64;
            m.time_in_target_range = Some(frac);
            m.target_range_violations = (n - self.in_band_window) as u64;
            m.target_range_stability = Some(frac);
        }
        m.kl_volatility = self.volatility.std(1);
        let fit = self.trend.fit();
        m.kl_trend = fit.map(|f| f.slope);
        self.trend_r2 = fit.and_then(|f| f.r2);
        m.kl_controller_performance = Some(self.in_band_total as f64 / self.finite_kl as f64);
        self.analyse_controller_window();
        self.coefficient_stats();
        self.health_scores();
    }

    /// Re-runs the controller analysis over the last `controller_window` samples: O(window)
    /// per refresh, which keeps overshoot, oscillation and responsiveness about the
    /// controller's recent behaviour rather than the whole run. It gives what a fresh
    /// `ControllerAnalyzer` over the window reports (see `controller_window`).
    fn analyse_controller_window(&mut self) {
        if self.controller.len() < self.cfg.controller_window {
            return;
        }
        // The analysis costs O(window × lags); the window moves by one sample per step, so
        // it is refreshed every tenth of the window (every 3 samples by default).
        let stride = (self.cfg.controller_window / 10).max(1) as u64;
        if self.controller_window.is_some() && self.finite_kl % stride != 0 {
            return;
        }
        let samples = self.controller.iter().map(|&(kl, c, _, ln_c)| Sample {
            kl,
            coef: c.is_finite().then_some((c, ln_c)),
        });
        let r = controller_window::analyse(
            samples,
            self.cfg.kl_target,
            self.cfg.kl_target_tolerance,
            RESPONSE_MAX_LAG as usize,
        );
        let m = &mut self.metrics;
        m.controller_kind = r.kind;
        m.controller_responsiveness = r.responsiveness.map(|v| v.clamp(0.0, 1.0));
        m.controller_overshoot = Some(r.max_overshoot.unwrap_or(0.0).max(0.0));
        m.controller_oscillation = r.oscillation_rate;
        self.controller_window = Some(ControllerWindow {
            kind: r.kind,
            responsiveness: r.responsiveness,
            time_in_band: r.time_in_band.unwrap_or(0.0),
        });
    }

    fn coefficient_stats(&mut self) {
        let m = &mut self.metrics;
        let full = self.coef_pairs.len() == SHORT_WINDOW;
        let stats = if full && self.coef_pairs.iter().all(|p| p.1.is_finite()) {
            coef_stats(self.coef_pairs.iter().copied(), self.cfg.kl_target)
        } else {
            None
        };
        m.coef_change_rate = stats.map(|s| s.change_rate);
        m.coef_adaptation_quality = stats.and_then(|s| s.adaptation_quality);
        m.coef_stability = stats.and_then(|s| s.stability);
    }

    /// Fraction in band that the band rule judges (see `rule_findings`).
    fn band_fraction_for_rule(&self) -> Option<f64> {
        let n = self.kl_window.len();
        if !self.acquired {
            return (n == self.cfg.window_size).then(|| self.in_band_window as f64 / n as f64);
        }
        let k = (self.since_acquired as usize).min(n);
        if k < RULE_MIN_SAMPLES as usize {
            return None;
        }
        if k == n {
            return Some(self.in_band_window as f64 / n as f64);
        }
        let inside = self
            .kl_window
            .iter()
            .skip(n - k)
            .filter(|&x| self.in_band(x))
            .count();
        Some(inside as f64 / k as f64)
    }

    /// Change of KL across the trend window implied by the fitted slope.
    fn trend_change(&self) -> Option<f64> {
        let slope = self.metrics.kl_trend?;
        let first = self.trend_steps.iter().next()?;
        let last = self.trend_steps.last()?;
        Some((slope * (last - first)).abs())
    }

    fn health_scores(&mut self) {
        let scale = self.cfg.kl_scale();
        let change = self.trend_change();
        let m = &mut self.metrics;
        m.kl_health_score = weighted_score(&[
            (0.4, m.target_range_stability),
            (
                0.3,
                m.kl_volatility.map(|v| (1.0 - v / (2.0 * scale)).max(0.0)),
            ),
            (0.3, change.map(|c| (1.0 - c / (4.0 * scale)).max(0.0))),
        ]);
        m.schedule_health_score = if self.controller_window.is_some() {
            weighted_score(&[
                (0.3, m.controller_responsiveness),
                (
                    0.3,
                    m.controller_overshoot
                        .map(|o| (1.0 - o / (2.0 * OVERSHOOT_LIMIT)).max(0.0)),
                ),
                (
                    0.2,
                    m.controller_oscillation
                        .map(|o| (1.0 - o / (2.0 * OSCILLATION_LIMIT)).max(0.0)),
                ),
                (0.2, m.coef_adaptation_quality),
            ])
        } else {
            None
        };
    }
}

/// Longest delay, in samples, searched for the coefficient's response (controllers often
/// act on the KL of a few steps back).
const RESPONSE_MAX_LAG: u32 = 8;
/// Overshoot (fraction of the target past the band) that raises an anomaly.
pub const OVERSHOOT_LIMIT: f64 = 0.3;
/// Error sign changes per sample that raise an oscillation anomaly (3 in a 30-sample window).
pub const OSCILLATION_LIMIT: f64 = 0.1;
/// Responsiveness below which an adaptive controller is flagged (RLDK's 0.3).
pub const RESPONSIVENESS_LIMIT: f64 = 0.3;
/// Adaptation quality below which an adaptive controller is flagged (RLDK's 0.2).
pub const ADAPTATION_LIMIT: f64 = 0.2;
/// R² a trend fit needs before its slope counts as a trend.
pub const TREND_MIN_R2: f64 = 0.5;

/// RLDK's drift trend: OLS slope of the last drift scores against their index.
///
/// Two passes over the (at most 10) scores rather than the streaming estimators, which pay a
/// division per score; measured from the first score, equal scores have a spread of exactly
/// zero.
pub(super) fn drift_trend(scores: &Ring) -> DriftTrend {
    let n = scores.len();
    let Some(first) = scores.iter().next().filter(|_| n >= 3) else {
        return DriftTrend::Stable;
    };
    let nf = n as f64;
    let mean = scores.iter().map(|s| s - first).sum::<f64>() / nf;
    // The mean index of 0..n-1.
    let mid = (nf - 1.0) / 2.0;
    let (mut m2, mut cxy) = (0.0, 0.0);
    for (i, s) in scores.iter().enumerate() {
        let d = (s - first) - mean;
        m2 += d * d;
        cxy += (i as f64 - mid) * d;
    }
    if (m2 / nf).sqrt() < 1e-6 {
        return DriftTrend::Stable;
    }
    // slope = cov(i, s) / var(i); var of 0..n-1 is (n² − 1) / 12.
    let var_i = ((n * n - 1) as f64) / 12.0;
    let slope = (cxy / nf) / var_i;
    if slope > 0.01 {
        DriftTrend::Increasing
    } else if slope < -0.01 {
        DriftTrend::Decreasing
    } else {
        DriftTrend::Stable
    }
}

impl Validate for KlScheduleTracker {
    fn validate(&self) -> Result<()> {
        if self.cfg.validated().is_err() {
            return Err(invalid("KL tracker parameters"));
        }
        let in_band = self.kl_window.iter().filter(|&x| self.in_band(x)).count();
        if self.kl_window.capacity() != self.cfg.window_size
            || self.step_window.capacity() != self.cfg.window_size
            || self.step_window.len() != self.kl_window.len()
            || self.trend_steps.capacity() != self.cfg.trend_window
            || in_band != self.in_band_window
            || self.controller.len() > self.cfg.controller_window
            || self.coef_pairs.len() > SHORT_WINDOW
            || self.history.len() > self.cfg.history_size
            || self.drift.is_some() != self.cfg.enable_drift_tracking
            || self.in_band_run > self.in_band_total.min(RULE_MIN_SAMPLES)
            || (self.held() && !self.acquired)
        {
            return Err(invalid("KL tracker windows"));
        }
        // Coefficients are NaN or positive, with their logarithm cached beside them.
        let coef_ok = |c: f64, ln_c: f64| {
            (c.is_nan() && ln_c.is_nan()) || (c.is_finite() && c > 0.0 && ln_c == c.ln())
        };
        if !self
            .controller
            .iter()
            .all(|s| s.0.is_finite() && coef_ok(s.1, s.3))
            || !self
                .coef_pairs
                .iter()
                .all(|s| s.0.is_finite() && coef_ok(s.1, s.2))
        {
            return Err(invalid("KL tracker coefficients"));
        }
        self.kl_window.validate()?;
        self.step_window.validate()?;
        self.trend_steps.validate()?;
        self.trend.validate()?;
        self.volatility.validate()?;
        self.events.validate()?;
        if let Some(d) = &self.drift {
            if d.scores.capacity() != DRIFT_TREND_SCORES {
                return Err(invalid("KL drift scores"));
            }
            d.scores.validate()?;
            d.detector.validate()?;
            d.reference.validate()?;
            d.current.validate()?;
        }
        Ok(())
    }
}
