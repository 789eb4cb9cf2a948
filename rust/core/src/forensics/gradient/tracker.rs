//! The gradient-norm analyzer: RLDK's `GradientNormsAnalyzer`, computed incrementally.
//!
//! What differs from RLDK, and why (each listed in docs/compatibility.md):
//! - Any of the three norms may be missing: GRPO and RLOO log only the total `grad_norm`,
//!   which RLDK never analysed. The total is √(p² + v²) only when both parts were logged.
//! - Non-finite norms are counted, kept out of every statistic and raise the critical
//!   `non_finite_<name>` anomaly (RLDK let NaN through, and NaN pinned momentum risk at 1).
//! - Flow health uses the constructor's thresholds, not a hard-coded [0.1, 10]; balance is
//!   symmetric in log space (a ratio of 10 and of 0.1 are equally unbalanced); momentum
//!   and acceleration are relative to the norm's level; trends are per logged step.
//! - The adaptive threshold is learnt from the `window_size` totals that precede the
//!   latest 10, continuously (RLDK re-estimated on `len % 100 == 0`: never with its default
//!   window, every step with the comprehensive one).
//! - A change point needs a two-sample t statistic above 4 *and* a relative level shift
//!   above `change_point_sensitivity` (RLDK flagged 0.1 σ shifts: 85% of healthy steps).
//! - A norm vanishes below `vanishing_threshold` *or* two orders of magnitude below the run's
//!   early level (the median of its first 20 totals): RLDK's absolute 0.001 does not transfer
//!   between models, whose healthy norms range from 1e-2 to 1e2.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::config::GradientConfig;
use super::metrics::GradientMetrics;
use super::window::{
    fraction, mean_variance, momentum, nested_mean_variances, outlier_risk, stability, trends,
    Derived, Fit, Series, SHORT,
};
use crate::error::Result;
use crate::forensics::event::{EventLog, Finding, Severity};
use crate::forensics::small::{index_slope, sorted_percentile, weighted_score};
use crate::state::{invalid, Validate};
use crate::stats::{Ring, RollingMoments, RollingQuantile};

mod findings;

/// Samples behind the exploding/vanishing/imbalance risks (RLDK's fixed 5).
const RISK: usize = 5;
/// Samples of the change-point test (7 before, 8 after).
const CHANGE_POINT: usize = 15;
/// Multi-scale windows: (length, squared-CV scale, weight), RLDK's.
const SCALES: [(usize, f64, f64); 3] = [(5, 0.5, 0.5), (15, 0.3, 0.3), (30, 0.2, 0.2)];
/// Totals the adaptive baseline needs before it is used (RLDK's 20).
const BASELINE_MIN: usize = 20;
/// Consecutive updates a change point must hold for.
const CHANGE_POINT_CONFIRM: u32 = 3;
/// |t| a change point needs.
const CHANGE_POINT_T: f64 = 4.0;
/// Totals behind the run's early level.
const EARLY_TOTALS: usize = 20;
/// A total this far below the early level counts as vanishing.
pub const RELATIVE_VANISHING: f64 = 0.01;

/// The ratio trend and its size relative to the ratio's level: computed once per update for
/// the metrics, the training-stability score and the ratio-trend rule.
#[derive(Debug, Clone, Copy)]
struct RatioTrend {
    fit: Option<Fit>,
    /// |slope × span| / median ratio over the trend window.
    change: Option<f64>,
}

/// Streaming gradient-norm analysis with anomaly events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientAnalyzer {
    cfg: GradientConfig,
    updates: u64,
    total_samples: u64,
    policy: Series,
    value: Series,
    total: Series,
    ratio: Series,
    recent: Ring,
    baseline: RollingMoments,
    baseline_q: RollingQuantile,
    ema: Option<f64>,
    smoothed: Series,
    health: Ring,
    /// Consecutive updates at which the change-point test held.
    change_run: u32,
    /// Whether the current update added a total (only those advance `change_run`).
    #[serde(skip)]
    total_pushed: bool,
    /// The run's first `EARLY_TOTALS` totals, then their median as `early_level`.
    early: Vec<f64>,
    early_level: Option<f64>,
    metrics: GradientMetrics,
    events: EventLog,
    history: std::collections::VecDeque<Arc<GradientMetrics>>,
    /// Whether snapshots are kept in `history` (batch paths switch it off for rows whose
    /// snapshot the history would drop anyway). Not state.
    #[serde(skip)]
    history_off: bool,
    /// Sorted windows and balance terms kept in step with the series (not state).
    #[serde(skip)]
    derived: Derived,
    /// Whether the fields that only a snapshot shows (the policy, value and smoothed
    /// trends: no rule or score reads them) are left as they are, for batch rows whose
    /// snapshot nobody keeps. Not state.
    #[serde(skip)]
    lean: bool,
    /// The findings of an update, kept between updates (empty) so that their vector is
    /// allocated once. Not state.
    #[serde(skip)]
    findings: Vec<Finding>,
}

impl GradientAnalyzer {
    /// An analyzer with validated parameters.
    pub fn new(cfg: GradientConfig) -> Result<Self> {
        let cfg = cfg.validated()?;
        let cap = cfg
            .window_size
            .max(cfg.trend_window)
            .max(cfg.momentum_window)
            .max(SCALES[2].0);
        Ok(GradientAnalyzer {
            updates: 0,
            total_samples: 0,
            policy: Series::new(cap),
            value: Series::new(cap),
            total: Series::new(cap),
            ratio: Series::new(cap),
            recent: Ring::new(SHORT),
            baseline: RollingMoments::new(cfg.window_size.max(BASELINE_MIN), Some(BASELINE_MIN))?,
            baseline_q: RollingQuantile::new(
                cfg.window_size.max(BASELINE_MIN),
                Some(BASELINE_MIN),
            )?,
            ema: None,
            smoothed: Series::new(5),
            health: Ring::new(SHORT),
            change_run: 0,
            total_pushed: false,
            early: Vec::with_capacity(EARLY_TOTALS),
            early_level: None,
            metrics: GradientMetrics::empty(),
            events: EventLog::new(cfg.event_release, cfg.max_events)?,
            history: std::collections::VecDeque::new(),
            history_off: false,
            derived: Derived::default(),
            lean: false,
            findings: Vec::new(),
            cfg,
        })
    }

    /// The parameters.
    pub fn config(&self) -> &GradientConfig {
        &self.cfg
    }

    /// Updates seen.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Switches keeping per-update snapshots in the history on or off. A batch path turns
    /// it off for the rows whose snapshots a full history would drop before the batch ends,
    /// which leaves every result, the final history included, as per-step updates give.
    pub fn set_history_recording(&mut self, on: bool) {
        self.history_off = !on;
    }

    /// Computes (`true`, the default) or skips the fields that only a snapshot shows: the
    /// policy, value and exponential-smoothing trends, which no rule and no score reads.
    /// A batch skips them for the rows whose snapshot neither this analyzer's history nor
    /// anyone else keeps, and computes them again for the rows that are kept (the last one
    /// included), which leaves every kept snapshot, event and score as per-step updates do.
    pub fn set_snapshot_only_fields(&mut self, on: bool) {
        self.lean = !on;
    }

    /// The latest snapshot.
    pub fn metrics(&self) -> &GradientMetrics {
        &self.metrics
    }

    /// The retained snapshots, oldest first.
    pub fn history(&self) -> &std::collections::VecDeque<Arc<GradientMetrics>> {
        &self.history
    }

    /// This update's snapshot: the one the history kept, shared, or else a copy of the
    /// latest metrics. The comprehensive layer keeps it in its own snapshot, so that a
    /// step's metrics are stored once for both histories.
    pub fn snapshot(&self) -> Arc<GradientMetrics> {
        crate::forensics::latest_snapshot(&self.history, self.history_off, &self.metrics)
    }

    /// The anomaly events.
    pub fn events(&self) -> &EventLog {
        &self.events
    }

    /// The last `window_size` finite policy norms, oldest first.
    pub fn policy_history(&self) -> Vec<f64> {
        self.policy.values.last(self.cfg.window_size).to_vec()
    }

    /// The last `window_size` finite value norms.
    pub fn value_history(&self) -> Vec<f64> {
        self.value.values.last(self.cfg.window_size).to_vec()
    }

    /// The last `window_size` finite total norms.
    pub fn total_history(&self) -> Vec<f64> {
        self.total.values.last(self.cfg.window_size).to_vec()
    }

    /// One logged step; a norm is `None` when the step did not log it.
    pub fn update(
        &mut self,
        step: f64,
        policy: Option<f64>,
        value: Option<f64>,
        total: Option<f64>,
    ) -> &GradientMetrics {
        self.updates += 1;
        let mut findings = std::mem::take(&mut self.findings);
        findings.clear();
        let mut check = |name: &'static str, x: Option<f64>, findings: &mut Vec<Finding>| {
            let x = x?;
            if x.is_finite() && x >= 0.0 {
                return Some(x);
            }
            self.metrics.nonfinite_count += 1;
            let (kind, what) = match (name, x.is_finite()) {
                ("policy", true) | ("value", true) | ("total", true) => {
                    ("negative_grad_norm", "negative")
                }
                ("policy", false) => ("non_finite_policy_grad_norm", "non-finite"),
                ("value", false) => ("non_finite_value_grad_norm", "non-finite"),
                _ => ("non_finite_total_grad_norm", "non-finite"),
            };
            findings.push(Finding::new(
                kind,
                Severity::Critical,
                self.metrics.nonfinite_count as f64,
                Some(0.0),
                format!("{name} gradient norm is {x} at step {step} ({what})"),
            ));
            None
        };
        let p = check("policy", policy, &mut findings);
        let v = check("value", value, &mut findings);
        let t_given = check("total", total, &mut findings);
        let t = t_given.or(match (p, v, total) {
            (Some(p), Some(v), None) => Some(p.hypot(v)),
            _ => None,
        });
        let m = &mut self.metrics;
        m.step = step;
        m.policy_grad_norm = policy;
        m.value_grad_norm = value;
        m.total_grad_norm = total.or(t);
        m.policy_value_ratio = p.zip(v).and_then(|(p, v)| (v > 0.0).then(|| p / v));
        m.policy_total_ratio = p.zip(t).and_then(|(p, t)| (t > 0.0).then(|| p / t));
        m.value_total_ratio = v.zip(t).and_then(|(v, t)| (t > 0.0).then(|| v / t));
        if let Some(p) = p {
            self.policy.push(step, p);
        }
        if let Some(v) = v {
            self.value.push(step, v);
        }
        if let Some(r) = self.metrics.policy_value_ratio {
            let k = self.cfg.trend_window;
            self.derived.push_ratio(&mut self.ratio, k, step, r);
        }
        self.total_pushed = t.is_some();
        if let Some(t) = t {
            self.push_total(step, t);
        }
        let logged = policy.is_some() || value.is_some() || total.is_some();
        let ratio_trend = if p.is_some() || v.is_some() || t.is_some() {
            Some(self.recompute())
        } else {
            None
        };
        if logged {
            let ratio_trend = ratio_trend.unwrap_or_else(|| self.ratio_trend());
            self.rule_findings(&ratio_trend, &mut findings);
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

    /// Below this a total norm counts as vanishing: the configured threshold, raised to
    /// `RELATIVE_VANISHING` times the run's early level once that is known.
    pub fn vanishing_floor(&self) -> f64 {
        let rel = self.early_level.map_or(0.0, |l| RELATIVE_VANISHING * l);
        self.cfg.vanishing_threshold.max(rel)
    }

    fn push_total(&mut self, step: f64, t: f64) {
        self.total_samples += 1;
        if self.early_level.is_none() {
            self.early.push(t);
            if self.early.len() == EARLY_TOTALS {
                let mut e = self.early.clone();
                e.sort_by(f64::total_cmp);
                self.early_level = crate::forensics::small::sorted_percentile(&e, 50.0);
            }
        }
        self.total
            .push_sorted(step, t, &mut self.derived.total_sorted, SHORT);
        // The latest SHORT totals are judged against the baseline of those before them.
        if let Some(old) = self.recent.push(t) {
            self.baseline.update(old);
            self.baseline_q.update(old);
        }
        let a = self.cfg.smoothing_alpha;
        let ema = self.ema.map_or(t, |e| a * t + (1.0 - a) * e);
        self.ema = Some(ema);
        self.smoothed.push(step, ema);
    }

    /// The ratio trend over the trend window and its relative change, from scratch.
    fn ratio_trend(&mut self) -> RatioTrend {
        let fit = self.ratio.trend(self.cfg.trend_window);
        self.ratio_trend_of(fit)
    }

    /// Change of the policy/value ratio across the trend window implied by its trend `fit`,
    /// relative to the window's median ratio.
    fn ratio_trend_of(&mut self, fit: Option<Fit>) -> RatioTrend {
        let k = self.cfg.trend_window;
        let change = fit.and_then(|(s, _, span)| {
            let sorted = self.derived.ratio_sorted.sorted(&self.ratio.values, k)?;
            let med = sorted_percentile(sorted, 50.0)?;
            (med > 0.0).then(|| (s * span).abs() / med)
        });
        RatioTrend { fit, change }
    }

    fn recompute(&mut self) -> RatioTrend {
        let cfg = self.cfg;
        let short_t = self.total.last(SHORT);
        let risk_t = self.total.last(RISK);
        // Lean rows fit the ratio alone: `Series::trend` has the arithmetic, and so the
        // bits, of the fused fit of the three series.
        let [policy_fit, value_fit, ratio_fit] = if self.lean {
            [None, None, self.ratio.trend(cfg.trend_window)]
        } else {
            trends([&self.policy, &self.value, &self.ratio], cfg.trend_window)
        };
        let balance = self.derived.balance(&self.ratio);
        let floor = self.vanishing_floor();
        let m = &mut self.metrics;
        m.gradient_flow_health =
            short_t.map(|xs| fraction(xs, |x| x >= floor && x <= cfg.exploding_threshold));
        m.gradient_balance = balance;
        m.gradient_stability = match (self.policy.last(SHORT), self.value.last(SHORT)) {
            (Some(ps), Some(vs)) => match (stability(ps), stability(vs)) {
                (Some(a), Some(b)) => Some(0.5 * (a + b)),
                (a, b) => a.or(b),
            },
            _ => short_t.and_then(stability),
        };
        if !self.lean {
            m.policy_grad_trend = policy_fit.map(|t| t.0);
            m.value_grad_trend = value_fit.map(|t| t.0);
        }
        m.ratio_trend = ratio_fit.map(|t| t.0);
        m.exploding_gradient_risk = risk_t.map(|xs| fraction(xs, |x| x > cfg.exploding_threshold));
        m.vanishing_gradient_risk = risk_t.map(|xs| fraction(xs, |x| x < floor));
        let lo = cfg.imbalance_threshold;
        m.gradient_imbalance_risk = self
            .ratio
            .last(RISK)
            .map(|rs| fraction(rs, |r| r < lo || r > 1.0 / lo));
        if cfg.enable_advanced_detection {
            let sorted = self.derived.total_sorted.sorted(&self.total.values, SHORT);
            m.statistical_outlier_risk = short_t
                .zip(sorted)
                .map(|(xs, sorted)| outlier_risk(xs, sorted, &cfg));
            self.advanced();
        }
        let ratio_trend = self.ratio_trend_of(ratio_fit);
        self.scores(ratio_trend.change);
        ratio_trend
    }

    fn advanced(&mut self) {
        let cfg = self.cfg;
        let adaptive = self.adaptive_threshold();
        let momentum = self.total.last(cfg.momentum_window).map(momentum);
        let change = self.total.last(CHANGE_POINT);
        let multi = self.multi_scale();
        let smoothed = (!self.lean)
            .then(|| self.smoothed.trend(self.smoothed.len()))
            .flatten()
            .filter(|_| self.smoothed.len() >= 3);
        let m = &mut self.metrics;
        m.adaptive_explosion_risk = adaptive.map(|thr| {
            let above = self.recent.iter().filter(|&x| x > thr).count();
            above as f64 / self.recent.len() as f64
        });
        m.momentum_instability_risk = momentum.and_then(|mo| mo.risk);
        m.gradient_acceleration = momentum.and_then(|mo| mo.acceleration);
        m.multi_scale_anomaly_risk = multi;
        if !self.lean {
            m.exponential_smoothing_trend = smoothed.map(|t| t.0);
        }
        let shifted = change.is_some_and(|xs| change_point(xs, cfg.change_point_sensitivity));
        // A real level shift stays visible as the window slides over it; a noise blip
        // does not: the test must hold at CHANGE_POINT_CONFIRM consecutive updates.
        if self.total_pushed {
            self.change_run = if shifted { self.change_run + 1 } else { 0 };
        }
        m.change_point_detected = self.change_run >= CHANGE_POINT_CONFIRM;
    }

    /// max(mean + 3σ, 2·p95) of the baseline, once it holds enough totals.
    fn adaptive_threshold(&self) -> Option<f64> {
        let mu = self.baseline.mean()?;
        let sd = self.baseline.std(1)?;
        let p95 = self.baseline_q.quantile(0.95)?;
        Some((mu + 3.0 * sd).max(2.0 * p95))
    }

    fn multi_scale(&self) -> Option<f64> {
        if self.total.len() < SHORT {
            return None;
        }
        let (mut w, mut s) = (0.0, 0.0);
        // The windows are nested tails of the newest totals: their statistics in one pass.
        let longest = SCALES.iter().map(|sc| sc.0).max().unwrap_or(0);
        let stats = nested_mean_variances(self.total.values.last(longest), SCALES.map(|sc| sc.0));
        for ((_, theta, weight), stat) in SCALES.into_iter().zip(stats) {
            let Some((mu, var)) = stat else {
                continue;
            };
            if mu > 0.0 {
                s += weight * (var / (mu * mu) / theta).min(1.0);
                w += weight;
            }
        }
        (w > 0.0).then(|| s / w)
    }

    fn scores(&mut self, ratio_change: Option<f64>) {
        let ratio_term = ratio_change.map(|c| (1.0 - c).max(0.0));
        let m = &mut self.metrics;
        let inv = |v: Option<f64>| v.map(|x| 1.0 - x);
        if self.health.len() >= SHORT {
            let mut hs = [0.0; SHORT];
            for (h, x) in hs.iter_mut().zip(self.health.iter()) {
                *h = x;
            }
            let s = index_slope(&hs).unwrap_or(0.0);
            m.early_warning_score = m
                .gradient_stability
                .map(|st| (0.6 * (-s).max(0.0) + 0.4 * (1.0 - st)).min(1.0));
        }
        m.gradient_health_score = weighted_score(&[
            (0.2, m.gradient_flow_health),
            (0.2, m.gradient_balance),
            (0.15, m.gradient_stability),
            (0.1, inv(m.exploding_gradient_risk)),
            (0.1, inv(m.vanishing_gradient_risk)),
            (0.1, inv(m.adaptive_explosion_risk)),
            (0.1, inv(m.statistical_outlier_risk)),
            (0.05, inv(m.momentum_instability_risk)),
        ]);
        m.training_stability = weighted_score(&[
            (0.25, m.gradient_stability),
            (0.2, inv(m.gradient_imbalance_risk)),
            (0.15, ratio_term),
            (0.2, inv(m.multi_scale_anomaly_risk)),
            (0.2, inv(m.early_warning_score)),
        ]);
        if let Some(h) = m.gradient_health_score {
            self.health.push(h);
        }
    }
}

/// A level shift between the first 7 and last 8 values: relative size above
/// `sensitivity` and a two-sample t statistic above 4 (or no noise at all).
fn change_point(xs: &[f64], sensitivity: f64) -> bool {
    let (a, b) = xs.split_at(7);
    let ((Some(ma), va), (Some(mb), vb)) = (mean_variance(a, 1), mean_variance(b, 1)) else {
        return false;
    };
    let shift = (mb - ma).abs();
    if shift <= sensitivity * ma.abs().max(mb.abs()) {
        return false;
    }
    let pooled = (va.unwrap_or(0.0) * 6.0 + vb.unwrap_or(0.0) * 7.0) / 13.0;
    if pooled <= 0.0 {
        return true;
    }
    shift / (pooled * (1.0 / 7.0 + 1.0 / 8.0)).sqrt() > CHANGE_POINT_T
}

impl Validate for GradientAnalyzer {
    fn validate(&self) -> Result<()> {
        if self.cfg.validated().is_err() || self.history.len() > self.cfg.history_size {
            return Err(invalid("gradient analyzer parameters"));
        }
        let early_ok = match self.early_level {
            None => self.early.len() < EARLY_TOTALS,
            Some(l) => self.early.len() == EARLY_TOTALS && l.is_finite() && l >= 0.0,
        };
        if !early_ok {
            return Err(invalid("gradient analyzer's early level"));
        }
        for s in [
            &self.policy,
            &self.value,
            &self.total,
            &self.ratio,
            &self.smoothed,
        ] {
            s.values.validate()?;
            s.steps.validate()?;
            if s.values.len() != s.steps.len() {
                return Err(invalid("gradient series of unequal length"));
            }
        }
        self.recent.validate()?;
        self.health.validate()?;
        self.baseline.validate()?;
        self.baseline_q.validate()?;
        self.events.validate()
    }
}
