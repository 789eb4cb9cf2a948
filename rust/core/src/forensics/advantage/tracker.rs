//! The advantage tracker: RLDK's `AdvantageStatisticsTracker`, computed incrementally on
//! the estimators of the numeric core.
//!
//! What differs from RLDK, and why (each listed in docs/compatibility.md):
//! - Inputs are never defaulted. A missing mean or std (`None`) leaves the analyses of that
//!   series untouched; min, max and median are echoed as given (RLDK turned a real 0.0
//!   median into the mean). A non-finite mean or std is counted, kept out of every
//!   statistic and raises its own critical anomaly; non-finite samples are counted and
//!   skipped.
//! - Statistics without enough data are `None`, and the scores are weighted means of the
//!   parts that have data, so a tracker that has seen nothing does not report perfect health.
//! - Trends are least-squares slopes per *logged step*; the trend rule and the trend part of
//!   the quality score look at the change the trend implies across the trend window,
//!   relative to `bias_threshold`, so they do not depend on how often the run logs.
//! - The bias anomaly reports the 5-mean bias that triggered it (RLDK reported a 10-mean
//!   bias, which is 0 before 10 updates).
//! - Volatility is the sample std (ddof = 1) of the last 10 means, as in the KL tracker.
//! - A new rule, `advantage_scale_collapse_anomaly`, catches advantages whose std collapses
//!   relative to the run's early level (a normalisation that divides by a vanishing std, or
//!   a reward that stopped varying).

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::config::AdvantageConfig;
use super::metrics::{AdvantageMetrics, PERCENTILES};
use crate::error::Result;
use crate::forensics::event::{EventLog, Finding, Severity};
use crate::forensics::small::{self, weighted_score, Tail};
use crate::state::{invalid, Validate};
use crate::stats::{Ring, RollingMoments, RollingQuantile};
use crate::trend::RollingTrend;

/// Means/stds behind bias, volatility and scale stability (RLDK's fixed 10).
const SHORT_WINDOW: usize = 10;
/// Means/stds behind the bias and scale risks (RLDK's fixed 5).
const RISK_WINDOW: usize = 5;
/// Samples behind the distribution risk (RLDK's fixed 20).
const RISK_SAMPLES: usize = 20;
/// Values of a series before its rules are evaluated (RLDK's history gate).
const RULE_MIN_SAMPLES: u64 = 5;
/// Finite stds that define the run's early std level.
const EARLY_STDS: usize = 20;
/// Latest stds compared with the early level.
const RECENT_STDS: usize = 5;

/// Bias risk above which the bias anomaly fires (RLDK's 0.5).
pub const BIAS_RISK_LIMIT: f64 = 0.5;
/// Bias risk above which it is critical (RLDK's 0.8).
pub const BIAS_RISK_CRITICAL: f64 = 0.8;
/// Scale risk above which the scale anomaly fires (RLDK's 0.5).
pub const SCALE_RISK_LIMIT: f64 = 0.5;
/// Distribution risk above which the distribution anomaly fires (RLDK's 0.5).
pub const DISTRIBUTION_RISK_LIMIT: f64 = 0.5;
/// Normalisation health below which the normalisation anomaly fires (RLDK's 0.5).
pub const NORMALIZATION_LIMIT: f64 = 0.5;
/// Volatility of the mean above which the volatility anomaly fires (RLDK's 0.1).
pub const VOLATILITY_LIMIT: f64 = 0.1;
/// |skewness| above which the skewness anomaly fires (RLDK's 2.0).
pub const SKEWNESS_LIMIT: f64 = 2.0;
/// |excess kurtosis| above which the kurtosis anomaly fires (RLDK's 3.0).
pub const KURTOSIS_LIMIT: f64 = 3.0;
/// R² a trend fit needs before its slope counts as a trend.
pub const TREND_MIN_R2: f64 = 0.5;
/// Recent/early std ratio below which the std has collapsed: the advantages lost three
/// quarters of their early scale (whitened advantages keep a std near 1).
pub const COLLAPSE_RATIO: f64 = 0.25;
/// Ratio below which the collapse is critical.
pub const COLLAPSE_CRITICAL: f64 = 0.01;

/// What one logged step carried; `None` means the step did not log it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AdvantageInput<'a> {
    /// Batch mean of the advantages.
    pub mean: Option<f64>,
    /// Batch std of the advantages.
    pub std: Option<f64>,
    /// Batch minimum (echoed only).
    pub min: Option<f64>,
    /// Batch maximum (echoed only).
    pub max: Option<f64>,
    /// Batch median (echoed only).
    pub median: Option<f64>,
    /// Raw advantage values of the batch.
    pub samples: Option<&'a [f64]>,
}

/// Streaming advantage analysis with anomaly events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvantageTracker {
    cfg: AdvantageConfig,
    updates: u64,
    data_updates: u64,
    finite_means: u64,
    finite_stds: u64,
    mean_window: Ring,
    std_window: Ring,
    /// The last means and stds behind bias, volatility, scale stability and the two risks
    /// (the risk windows are the newest `RISK_WINDOW` of them), summed afresh each update:
    /// at 10 values a two-pass mean and std is exact and cheap, where sliding sums keep a
    /// residue of every large value that passed through (a volatility of 3e-9 after zeros).
    means_short: Tail,
    stds_short: Tail,
    mean_trend: RollingTrend,
    mean_trend_steps: Ring,
    mean_trend_r2: Option<f64>,
    std_trend: RollingTrend,
    early_stds: Vec<f64>,
    early_std_level: Option<f64>,
    recent_stds: Ring,
    samples: Ring,
    sample_moments: RollingMoments,
    sample_quantiles: RollingQuantile,
    risk_samples: RollingMoments,
    metrics: AdvantageMetrics,
    events: EventLog,
    history: VecDeque<Arc<AdvantageMetrics>>,
    /// Whether snapshots are kept in `history` (batch paths switch it off for rows whose
    /// snapshot the history would drop anyway). Not state.
    #[serde(skip)]
    history_off: bool,
    /// The findings of an update, kept between updates (empty) so that their vector is
    /// allocated once. Not state.
    #[serde(skip)]
    findings: Vec<Finding>,
}

impl AdvantageTracker {
    /// A tracker with validated parameters.
    pub fn new(cfg: AdvantageConfig) -> Result<Self> {
        let cfg = cfg.validated()?;
        let dw = cfg.distribution_window;
        Ok(AdvantageTracker {
            updates: 0,
            data_updates: 0,
            finite_means: 0,
            finite_stds: 0,
            mean_window: Ring::new(cfg.window_size),
            std_window: Ring::new(cfg.window_size),
            means_short: Tail::new(SHORT_WINDOW),
            stds_short: Tail::new(SHORT_WINDOW),
            mean_trend: RollingTrend::new(cfg.trend_window, None)?,
            mean_trend_steps: Ring::new(cfg.trend_window),
            mean_trend_r2: None,
            std_trend: RollingTrend::new(cfg.trend_window, None)?,
            early_stds: Vec::with_capacity(EARLY_STDS),
            early_std_level: None,
            recent_stds: Ring::new(RECENT_STDS),
            samples: Ring::new(cfg.sample_capacity()),
            sample_moments: RollingMoments::new(dw, None)?,
            sample_quantiles: RollingQuantile::new(dw, None)?,
            risk_samples: RollingMoments::new(RISK_SAMPLES, None)?,
            metrics: AdvantageMetrics::empty(),
            events: EventLog::new(cfg.event_release, cfg.max_events)?,
            history: VecDeque::new(),
            history_off: false,
            findings: Vec::new(),
            cfg,
        })
    }

    /// The parameters.
    pub fn config(&self) -> &AdvantageConfig {
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

    /// The latest snapshot.
    pub fn metrics(&self) -> &AdvantageMetrics {
        &self.metrics
    }

    /// The retained snapshots, oldest first (at most `history_size`).
    pub fn history(&self) -> &VecDeque<Arc<AdvantageMetrics>> {
        &self.history
    }

    /// This update's snapshot: the one the history kept, shared, or else a copy of the
    /// latest metrics. The comprehensive layer keeps it in its own snapshot, so that a
    /// step's metrics are stored once for both histories.
    pub fn snapshot(&self) -> Arc<AdvantageMetrics> {
        crate::forensics::latest_snapshot(&self.history, self.history_off, &self.metrics)
    }

    /// The anomaly events.
    pub fn events(&self) -> &EventLog {
        &self.events
    }

    /// The last `window_size` finite means, oldest first.
    pub fn mean_history(&self) -> impl Iterator<Item = f64> + '_ {
        self.mean_window.iter()
    }

    /// The last `window_size` finite stds, oldest first.
    pub fn std_history(&self) -> impl Iterator<Item = f64> + '_ {
        self.std_window.iter()
    }

    /// The last `10 · distribution_window` finite samples, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = f64> + '_ {
        self.samples.iter()
    }

    /// Median of the first 20 finite stds (the level a collapse is measured against).
    pub fn early_std_level(&self) -> Option<f64> {
        self.early_std_level
    }

    /// One logged step.
    pub fn update(&mut self, step: f64, input: &AdvantageInput<'_>) -> &AdvantageMetrics {
        self.updates += 1;
        let m = &mut self.metrics;
        m.step = step;
        m.advantage_mean = input.mean;
        m.advantage_std = input.std;
        m.advantage_min = input.min;
        m.advantage_max = input.max;
        m.advantage_median = input.median;
        let mut findings = std::mem::take(&mut self.findings);
        findings.clear();
        let mut fresh = false;
        match input.mean {
            Some(x) if x.is_finite() => {
                self.ingest_mean(step, x);
                fresh = true;
            }
            Some(x) => {
                self.metrics.nonfinite_mean_count += 1;
                let n = self.metrics.nonfinite_mean_count;
                findings.push(non_finite("non_finite_advantage_mean", "mean", x, step, n));
            }
            None => {}
        }
        match input.std {
            Some(x) if x.is_finite() => {
                self.ingest_std(step, x);
                fresh = true;
            }
            Some(x) => {
                self.metrics.nonfinite_std_count += 1;
                let n = self.metrics.nonfinite_std_count;
                findings.push(non_finite("non_finite_advantage_std", "std", x, step, n));
            }
            None => {}
        }
        if let Some(s) = input.samples {
            self.ingest_samples(s);
            fresh = true;
        }
        if fresh {
            self.data_updates += 1;
            self.recompute();
        }
        if fresh || !findings.is_empty() {
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

    fn ingest_mean(&mut self, step: f64, x: f64) {
        self.finite_means += 1;
        self.mean_window.push(x);
        self.means_short.push(x);
        self.mean_trend.update(step, x);
        self.mean_trend_steps.push(step);
    }

    fn ingest_std(&mut self, step: f64, x: f64) {
        self.finite_stds += 1;
        self.std_window.push(x);
        self.stds_short.push(x);
        self.std_trend.update(step, x);
        self.recent_stds.push(x);
        if self.early_std_level.is_none() {
            self.early_stds.push(x);
            if self.early_stds.len() == EARLY_STDS {
                self.early_std_level = median(self.early_stds.iter().copied());
                self.early_stds = Vec::new();
            }
        }
    }

    /// Counts the non-finite samples and feeds the finite ones. Only the last
    /// `10 · distribution_window` finite values can still be in any window afterwards, so a
    /// large batch feeds just that tail: O(window) per update whatever the batch size.
    fn ingest_samples(&mut self, xs: &[f64]) {
        let bad = xs.iter().filter(|x| !x.is_finite()).count();
        self.metrics.nonfinite_sample_count += bad as u64;
        let keep = self.samples.capacity().max(RISK_SAMPLES);
        let mut start = xs.len();
        let mut kept = 0;
        while start > 0 && kept < keep {
            start -= 1;
            kept += usize::from(xs[start].is_finite());
        }
        for &x in xs[start..].iter().filter(|x| x.is_finite()) {
            self.samples.push(x);
            self.sample_moments.update(x);
            self.sample_quantiles.update(x);
            self.risk_samples.update(x);
        }
    }

    /// Change of the mean across the trend window implied by the fitted slope, and the step
    /// span of the window.
    fn trend_change(&self) -> Option<(f64, f64)> {
        let slope = self.metrics.advantage_mean_trend?;
        let first = self.mean_trend_steps.iter().next()?;
        let last = self.mean_trend_steps.last()?;
        // Steps that run backwards (a restarted counter) still span |last − first|.
        let span = (last - first).abs();
        Some(((slope * span).abs(), span))
    }

    fn recompute(&mut self) {
        let bt = self.cfg.bias_threshold;
        let st = self.cfg.scale_threshold;
        let fit = self.mean_trend.fit();
        self.mean_trend_r2 = fit.and_then(|f| f.r2);
        let m = &mut self.metrics;
        let short = newest(&self.means_short, SHORT_WINDOW);
        m.advantage_bias = short.and_then(small::mean).map(f64::abs);
        m.advantage_volatility = short.and_then(|w| small::std(w, 1));
        m.advantage_bias_risk = newest(&self.means_short, RISK_WINDOW)
            .and_then(small::mean)
            .map(|b| (b.abs() / bt).min(1.0));
        m.advantage_scale_stability = newest(&self.stds_short, SHORT_WINDOW)
            .and_then(cv)
            .map(|c| (1.0 - c).max(0.0));
        m.advantage_scale_risk = newest(&self.stds_short, RISK_WINDOW)
            .and_then(cv)
            .map(|c| (c / st).min(1.0));
        m.advantage_normalization_health = weighted_score(&[
            (0.5, m.advantage_bias.map(|b| (1.0 - b / bt).max(0.0))),
            (0.5, m.advantage_scale_stability),
        ]);
        m.advantage_mean_trend = fit.map(|f| f.slope);
        m.advantage_std_trend = self.std_trend.slope();
        m.advantage_skewness = self.sample_moments.skewness(true);
        m.advantage_kurtosis = self.sample_moments.kurtosis(true);
        m.advantage_percentiles = (self.sample_quantiles.count() >= self.cfg.distribution_window)
            .then(|| {
                let mut p = [f64::NAN; 7];
                for (out, (_, q)) in p.iter_mut().zip(PERCENTILES) {
                    *out = self.sample_quantiles.quantile(q).unwrap_or(f64::NAN);
                }
                p
            });
        // RLDK scores a window of identical samples (std 0) as risk 0: no tails at all.
        m.advantage_distribution_risk =
            (self.risk_samples.count() >= RISK_SAMPLES).then(|| {
                match (
                    self.risk_samples.skewness(true),
                    self.risk_samples.kurtosis(true),
                ) {
                    (Some(s), Some(k)) => ((s.abs() + k.abs()) / 4.0).min(1.0),
                    _ => 0.0,
                }
            });
        m.advantage_health_score = weighted_score(&[
            (0.4, m.advantage_normalization_health),
            (0.3, m.advantage_bias_risk.map(|r| 1.0 - r)),
            (0.2, m.advantage_scale_risk.map(|r| 1.0 - r)),
            (0.1, m.advantage_distribution_risk.map(|r| 1.0 - r)),
        ]);
        let change = self.trend_change().map(|c| c.0);
        let m = &mut self.metrics;
        m.advantage_quality_score = weighted_score(&[
            (0.3, m.advantage_scale_stability),
            (0.3, change.map(|c| (1.0 - c / (2.0 * bt)).max(0.0))),
            (
                0.2,
                m.advantage_volatility.map(|v| (1.0 - 5.0 * v).max(0.0)),
            ),
            (
                0.2,
                m.advantage_skewness.map(|s| (1.0 - s.abs() / 2.0).max(0.0)),
            ),
        ]);
    }

    /// The conditions that hold now. Each series' rules wait for 5 values of it (RLDK's
    /// gate of 5 updates), the sample rules for 5 updates that carried data.
    fn rule_findings(&self, out: &mut Vec<Finding>) {
        if self.finite_means >= RULE_MIN_SAMPLES {
            self.mean_findings(out);
        }
        if self.finite_stds >= RULE_MIN_SAMPLES {
            self.std_findings(out);
        }
        if self.finite_means.max(self.finite_stds) >= RULE_MIN_SAMPLES {
            if let Some(h) = self
                .metrics
                .advantage_normalization_health
                .filter(|&h| h < NORMALIZATION_LIMIT)
            {
                out.push(Finding::new(
                    "advantage_normalization_anomaly",
                    Severity::Warning,
                    h,
                    Some(NORMALIZATION_LIMIT),
                    format!(
                        "advantage normalisation health {h:.3}: the last {SHORT_WINDOW} batches \
                         are biased or their scale is unstable"
                    ),
                ));
            }
        }
        if self.data_updates >= RULE_MIN_SAMPLES {
            self.sample_findings(out);
        }
    }

    fn mean_findings(&self, out: &mut Vec<Finding>) {
        let m = &self.metrics;
        let bt = self.cfg.bias_threshold;
        let mean5 = newest(&self.means_short, RISK_WINDOW).and_then(small::mean);
        if let (Some(risk), Some(mean5)) = (m.advantage_bias_risk, mean5) {
            if risk > BIAS_RISK_LIMIT {
                // RLDK's threshold is absolute, made for whitened advantages (std 1). A bias
                // is critical only when it is also that large against a wider spread: for
                // advantages with a std of 1.5, a mean of 0.08 is 5% of a std, noise over 5
                // batches rather than a broken baseline.
                let spread = newest(&self.stds_short, RISK_WINDOW)
                    .and_then(small::mean)
                    .filter(|s| s.is_finite())
                    .unwrap_or(1.0)
                    .max(1.0);
                let critical =
                    risk > BIAS_RISK_CRITICAL && mean5.abs() > BIAS_RISK_CRITICAL * bt * spread;
                out.push(Finding::new(
                    "advantage_bias_anomaly",
                    if critical {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    },
                    mean5.abs(),
                    Some(bt),
                    format!(
                        "advantages are biased: mean of the last {RISK_WINDOW} batch means is \
                         {mean5:.4} (bias risk {risk:.2} against bias_threshold {bt})"
                    ),
                ));
            }
        }
        if let (Some(slope), Some((change, span)), Some(r2)) = (
            m.advantage_mean_trend,
            self.trend_change(),
            self.mean_trend_r2,
        ) {
            if r2 >= TREND_MIN_R2 && change > bt {
                out.push(Finding::new(
                    "advantage_trend_anomaly",
                    Severity::Warning,
                    slope,
                    Some(bt / span),
                    format!(
                        "advantage mean trends by {slope:.4e} per step: {change:.4} over the \
                         last {} batches (R² {r2:.2}), more than bias_threshold {bt}",
                        self.cfg.trend_window
                    ),
                ));
            }
        }
        if let Some(v) = m.advantage_volatility.filter(|&v| v > VOLATILITY_LIMIT) {
            out.push(Finding::new(
                "advantage_volatility_anomaly",
                Severity::Warning,
                v,
                Some(VOLATILITY_LIMIT),
                format!(
                    "advantage mean is volatile: std {v:.4} over the last {SHORT_WINDOW} batches"
                ),
            ));
        }
    }

    fn std_findings(&self, out: &mut Vec<Finding>) {
        let m = &self.metrics;
        if let Some(r) = m.advantage_scale_risk.filter(|&r| r > SCALE_RISK_LIMIT) {
            out.push(Finding::new(
                "advantage_scale_anomaly",
                Severity::Warning,
                r,
                Some(SCALE_RISK_LIMIT),
                format!(
                    "advantage scale is unstable: scale risk {r:.3} over the last {RISK_WINDOW} \
                     batch stds (scale_threshold {})",
                    self.cfg.scale_threshold
                ),
            ));
        }
        let (Some(early), true) = (self.early_std_level, self.recent_stds.len() == RECENT_STDS)
        else {
            return;
        };
        // The median of the last RECENT_STDS stds, sorted on the stack: this rule runs at
        // every update, and a vector per update cost more than the rest of it.
        let mut recent = [0.0; RECENT_STDS];
        for (r, x) in recent.iter_mut().zip(self.recent_stds.iter()) {
            *r = x;
        }
        let Some(recent) = median_of_slice(&mut recent) else {
            return;
        };
        if early > 0.0 && recent < COLLAPSE_RATIO * early {
            let ratio = recent / early;
            out.push(Finding::new(
                "advantage_scale_collapse_anomaly",
                if ratio < COLLAPSE_CRITICAL {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                ratio,
                Some(COLLAPSE_RATIO),
                format!(
                    "advantage std collapsed: median of the last {RECENT_STDS} is {recent:.4e}, \
                     {:.2}% of the run's early level {early:.4e}",
                    100.0 * ratio
                ),
            ));
        }
    }

    fn sample_findings(&self, out: &mut Vec<Finding>) {
        let m = &self.metrics;
        if let Some(r) = m
            .advantage_distribution_risk
            .filter(|&r| r > DISTRIBUTION_RISK_LIMIT)
        {
            out.push(Finding::new(
                "advantage_distribution_anomaly",
                Severity::Warning,
                r,
                Some(DISTRIBUTION_RISK_LIMIT),
                format!(
                    "advantage distribution is skewed or heavy-tailed: risk {r:.3} over the \
                     last {RISK_SAMPLES} samples"
                ),
            ));
        }
        let dw = self.cfg.distribution_window;
        if let Some(s) = m.advantage_skewness.filter(|s| s.abs() > SKEWNESS_LIMIT) {
            out.push(Finding::new(
                "advantage_skewness_anomaly",
                Severity::Warning,
                s,
                Some(SKEWNESS_LIMIT),
                format!("advantage skewness {s:.3} over the last {dw} samples"),
            ));
        }
        if let Some(k) = m.advantage_kurtosis.filter(|k| k.abs() > KURTOSIS_LIMIT) {
            out.push(Finding::new(
                "advantage_kurtosis_anomaly",
                Severity::Warning,
                k,
                Some(KURTOSIS_LIMIT),
                format!("advantage excess kurtosis {k:.3} over the last {dw} samples"),
            ));
        }
    }
}

/// The critical finding of a non-finite input.
fn non_finite(kind: &'static str, what: &str, x: f64, step: f64, n: u64) -> Finding {
    Finding::new(
        kind,
        Severity::Critical,
        n as f64,
        Some(0.0),
        format!("advantage {what} is {x} at step {step} ({n} non-finite so far)"),
    )
}

/// RLDK's coefficient of variation: population std over the mean, the mean floored at 1e-8.
/// The newest `k` values of a tail, once it holds `k`.
fn newest(t: &Tail, k: usize) -> Option<&[f64]> {
    (t.len() >= k).then(|| t.last(k))
}

fn cv(stds: &[f64]) -> Option<f64> {
    Some(small::std(stds, 0)? / small::mean(stds)?.max(1e-8))
}

/// Median of a few finite values.
fn median(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = xs.collect();
    median_of_slice(&mut v)
}

/// [`median`] of `v`, sorting it in place (equal values are interchangeable, so the order
/// the sort leaves ties in does not matter).
fn median_of_slice(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

impl Validate for AdvantageTracker {
    fn validate(&self) -> Result<()> {
        let cfg = &self.cfg;
        if cfg.validated().is_err() {
            return Err(invalid("advantage tracker parameters"));
        }
        if self.mean_window.capacity() != cfg.window_size
            || self.std_window.capacity() != cfg.window_size
            || self.samples.capacity() != cfg.sample_capacity()
            || self.mean_trend_steps.capacity() != cfg.trend_window
            || self.recent_stds.capacity() != RECENT_STDS
            || self.early_stds.len() >= EARLY_STDS
            || (self.early_std_level.is_some() && !self.early_stds.is_empty())
            || self.history.len() > cfg.history_size
            || self.sample_moments.window() != cfg.distribution_window
            || self.sample_quantiles.window() != cfg.distribution_window
            || self.mean_trend.window() != cfg.trend_window
            || self.std_trend.window() != cfg.trend_window
        {
            return Err(invalid("advantage tracker windows"));
        }
        for r in [
            &self.mean_window,
            &self.std_window,
            &self.mean_trend_steps,
            &self.recent_stds,
            &self.samples,
        ] {
            r.validate()?;
        }
        self.means_short.validate()?;
        self.stds_short.validate()?;
        for m in [&self.sample_moments, &self.risk_samples] {
            m.validate()?;
        }
        self.sample_quantiles.validate()?;
        self.mean_trend.validate()?;
        self.std_trend.validate()?;
        self.events.validate()?;
        Ok(())
    }
}
