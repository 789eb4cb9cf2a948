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

use serde::{Deserialize, Serialize};

use super::config::GradientConfig;
use super::metrics::GradientMetrics;
use crate::error::Result;
use crate::forensics::event::{EventLog, Finding, Severity};
use crate::forensics::small::{
    mean, median, percentile, slope, std, variance, weighted_score, Tail,
};
use crate::state::{invalid, Validate};
use crate::stats::{Ring, RollingMoments, RollingQuantile};

/// Samples behind flow, balance, stability and the outlier rule (RLDK's fixed 10).
const SHORT: usize = 10;
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
/// Updates before any rule is evaluated (RLDK's history gate).
const RULE_MIN_SAMPLES: u64 = 5;
/// R² a trend fit needs before its slope counts as a trend.
const TREND_MIN_R2: f64 = 0.5;

/// Values with their logged steps, newest last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Series {
    values: Tail,
    steps: Tail,
}

impl Series {
    fn new(capacity: usize) -> Self {
        Series {
            values: Tail::new(capacity),
            steps: Tail::new(capacity),
        }
    }
    fn push(&mut self, step: f64, v: f64) {
        self.values.push(v);
        self.steps.push(step);
    }
    fn len(&self) -> usize {
        self.values.len()
    }
    fn last(&self, k: usize) -> Option<&[f64]> {
        (self.len() >= k).then(|| self.values.last(k))
    }
    /// Slope per step over the last `k` values, with its R² and the step span.
    fn trend(&self, k: usize) -> Option<(f64, Option<f64>, f64)> {
        let ys = self.last(k)?;
        let xs = self.steps.last(k);
        let (s, r2) = slope(xs, ys)?;
        Some((s, r2, xs[k - 1] - xs[0]))
    }
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
    metrics: GradientMetrics,
    events: EventLog,
    history: std::collections::VecDeque<GradientMetrics>,
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
            metrics: GradientMetrics::empty(),
            events: EventLog::new(cfg.event_release, cfg.max_events)?,
            history: std::collections::VecDeque::new(),
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

    /// The latest snapshot.
    pub fn metrics(&self) -> &GradientMetrics {
        &self.metrics
    }

    /// The retained snapshots, oldest first.
    pub fn history(&self) -> &std::collections::VecDeque<GradientMetrics> {
        &self.history
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
        let mut findings = Vec::new();
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
            self.ratio.push(step, r);
        }
        self.total_pushed = t.is_some();
        if let Some(t) = t {
            self.push_total(step, t);
        }
        let logged = policy.is_some() || value.is_some() || total.is_some();
        if p.is_some() || v.is_some() || t.is_some() {
            self.recompute();
        }
        if logged {
            findings.extend(self.rule_findings());
            self.events.observe(step, findings);
        }
        crate::forensics::push_capped(
            &mut self.history,
            self.metrics.clone(),
            self.cfg.history_size,
        );
        &self.metrics
    }

    fn push_total(&mut self, step: f64, t: f64) {
        self.total_samples += 1;
        self.total.push(step, t);
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

    fn recompute(&mut self) {
        let cfg = self.cfg;
        let short_t = self.total.last(SHORT);
        let risk_t = self.total.last(RISK);
        let m = &mut self.metrics;
        m.gradient_flow_health = short_t.as_ref().map(|xs| {
            fraction(xs, |x| {
                x >= cfg.vanishing_threshold && x <= cfg.exploding_threshold
            })
        });
        m.gradient_balance = self.ratio.last(SHORT).map(|rs| {
            rs.iter()
                .map(|r| (1.0 - r.log10().abs()).max(0.0))
                .sum::<f64>()
                / SHORT as f64
        });
        m.gradient_stability = match (self.policy.last(SHORT), self.value.last(SHORT)) {
            (Some(ps), Some(vs)) => match (stability(ps), stability(vs)) {
                (Some(a), Some(b)) => Some(0.5 * (a + b)),
                (a, b) => a.or(b),
            },
            _ => short_t.and_then(stability),
        };
        m.policy_grad_trend = self.policy.trend(cfg.trend_window).map(|t| t.0);
        m.value_grad_trend = self.value.trend(cfg.trend_window).map(|t| t.0);
        m.ratio_trend = self.ratio.trend(cfg.trend_window).map(|t| t.0);
        m.exploding_gradient_risk = risk_t
            .as_ref()
            .map(|xs| fraction(xs, |x| x > cfg.exploding_threshold));
        m.vanishing_gradient_risk = risk_t
            .as_ref()
            .map(|xs| fraction(xs, |x| x < cfg.vanishing_threshold));
        let lo = cfg.imbalance_threshold;
        m.gradient_imbalance_risk = self
            .ratio
            .last(RISK)
            .map(|rs| fraction(rs, |r| r < lo || r > 1.0 / lo));
        if cfg.enable_advanced_detection {
            m.statistical_outlier_risk = short_t.map(|xs| outlier_risk(xs, &cfg));
            self.advanced();
        }
        self.scores();
    }

    fn advanced(&mut self) {
        let cfg = self.cfg;
        let adaptive = self.adaptive_threshold();
        let momentum = self.total.last(cfg.momentum_window);
        let change = self.total.last(CHANGE_POINT);
        let multi = self.multi_scale();
        let smoothed = self
            .smoothed
            .trend(self.smoothed.len())
            .filter(|_| self.smoothed.len() >= 3);
        let m = &mut self.metrics;
        m.adaptive_explosion_risk = adaptive.map(|thr| {
            let recent: Vec<f64> = self.recent.iter().collect();
            fraction(&recent, |x| x > thr)
        });
        m.momentum_instability_risk = momentum.and_then(momentum_risk);
        m.gradient_acceleration = momentum.and_then(|xs| {
            let acc: Vec<f64> = second_differences(xs);
            mean(&acc)
        });
        m.multi_scale_anomaly_risk = multi;
        m.exponential_smoothing_trend = smoothed.map(|t| t.0);
        let shifted = change.is_some_and(|xs| change_point(xs, cfg.change_point_sensitivity));
        // A real level shift stays visible as the window slides over it; a noise blip
        // does not: the test must hold at CHANGE_POINT_CONFIRM consecutive updates.
        if self.total_pushed {
            self.change_run = if shifted { self.change_run + 1 } else { 0 };
        }
        let m = &mut self.metrics;
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
        let (mut w, mut s) = (0.0, 0.0);
        for (len, theta, weight) in SCALES {
            let Some(xs) = self.total.last(len) else {
                continue;
            };
            let (Some(mu), Some(var)) = (mean(xs), variance(xs, 0)) else {
                continue;
            };
            if mu > 0.0 {
                s += weight * (var / (mu * mu) / theta).min(1.0);
                w += weight;
            }
        }
        (self.total.len() >= SHORT && w > 0.0).then(|| s / w)
    }

    fn scores(&mut self) {
        let ratio_term = self.ratio_relative_change().map(|c| (1.0 - c).max(0.0));
        let m = &mut self.metrics;
        let inv = |v: Option<f64>| v.map(|x| 1.0 - x);
        if self.health.len() >= SHORT {
            let hs: Vec<f64> = self.health.iter().collect();
            let s = crate::forensics::small::index_slope(&hs).unwrap_or(0.0);
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

    /// Change of the policy/value ratio across the trend window implied by its trend,
    /// relative to the window's median ratio, when the fit explains the data.
    fn ratio_relative_change(&self) -> Option<f64> {
        let (s, _, span) = self.ratio.trend(self.cfg.trend_window)?;
        let med = median(self.ratio.last(self.cfg.trend_window)?)?;
        (med > 0.0).then(|| (s * span).abs() / med)
    }

    fn rule_findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        if self.updates < RULE_MIN_SAMPLES {
            return out;
        }
        let m = &self.metrics;
        let cfg = &self.cfg;
        let sev = |crit: bool| {
            if crit {
                Severity::Critical
            } else {
                Severity::Warning
            }
        };
        let pct = |v: f64| 100.0 * v;
        if let Some(r) = m.exploding_gradient_risk.filter(|&r| r > 0.2) {
            out.push(Finding::new(
                "exploding_gradient_anomaly",
                sev(r > 0.5),
                r,
                Some(0.2),
                format!(
                    "{:.0}% of the last {RISK} total gradient norms exceed {}",
                    pct(r),
                    cfg.exploding_threshold
                ),
            ));
        }
        if let Some(r) = m.vanishing_gradient_risk.filter(|&r| r > 0.2) {
            out.push(Finding::new(
                "vanishing_gradient_anomaly",
                sev(r > 0.5),
                r,
                Some(0.2),
                format!(
                    "{:.0}% of the last {RISK} total gradient norms are below {}",
                    pct(r),
                    cfg.vanishing_threshold
                ),
            ));
        }
        if let Some(r) = m.gradient_imbalance_risk.filter(|&r| r > 0.3) {
            out.push(Finding::new(
                "gradient_imbalance_anomaly",
                Severity::Warning,
                r,
                Some(0.3),
                format!(
                    "{:.0}% of the last {RISK} policy/value ratios lie outside [{}, {}]",
                    pct(r),
                    cfg.imbalance_threshold,
                    1.0 / cfg.imbalance_threshold
                ),
            ));
        }
        let low = [
            (
                "gradient_flow_anomaly",
                m.gradient_flow_health,
                0.5,
                "gradient flow health",
            ),
            (
                "gradient_balance_anomaly",
                m.gradient_balance,
                0.3,
                "gradient balance",
            ),
            (
                "gradient_stability_anomaly",
                m.gradient_stability,
                0.3,
                "gradient stability",
            ),
        ];
        for (kind, v, thr, what) in low {
            if let Some(v) = v.filter(|&v| v < thr) {
                out.push(Finding::new(
                    kind,
                    Severity::Warning,
                    v,
                    Some(thr),
                    format!("{what} {v:.3} is below {thr}"),
                ));
            }
        }
        if let (Some(s), Some(c), Some((_, Some(r2), span))) = (
            m.ratio_trend,
            self.ratio_relative_change(),
            self.ratio.trend(cfg.trend_window),
        ) {
            if c > 1.0 && r2 >= TREND_MIN_R2 && span > 0.0 {
                out.push(Finding::new(
                    "ratio_trend_anomaly",
                    Severity::Warning,
                    s,
                    Some(s.abs() / c),
                    format!(
                        "policy/value gradient ratio trend {s:.4e} per step changes it by \
                         {:.0}% of its level over the last {} samples",
                        100.0 * c,
                        cfg.trend_window
                    ),
                ));
            }
        }
        self.advanced_findings(&mut out);
        out
    }

    fn advanced_findings(&self, out: &mut Vec<Finding>) {
        let m = &self.metrics;
        let cfg = &self.cfg;
        let sev = |crit: bool| {
            if crit {
                Severity::Critical
            } else {
                Severity::Warning
            }
        };
        let risks = [
            (
                "adaptive_explosion_anomaly",
                m.adaptive_explosion_risk,
                0.3,
                Some(0.6),
                "of the last 10 totals exceed the run's adaptive threshold",
            ),
            (
                "statistical_outlier_anomaly",
                m.statistical_outlier_risk,
                0.4,
                None,
                "of the last 10 totals are statistical outliers",
            ),
            (
                "momentum_instability_anomaly",
                m.momentum_instability_risk,
                0.5,
                Some(0.8),
                "momentum instability risk",
            ),
            (
                "multi_scale_anomaly",
                m.multi_scale_anomaly_risk,
                0.6,
                None,
                "multi-scale variability risk",
            ),
        ];
        for (kind, v, thr, crit, what) in risks {
            if let Some(v) = v.filter(|&v| v > thr) {
                out.push(Finding::new(
                    kind,
                    sev(crit.is_some_and(|c| v > c)),
                    v,
                    Some(thr),
                    format!("{:.0}% {what}", 100.0 * v),
                ));
            }
        }
        if let Some(v) = m
            .early_warning_score
            .filter(|&v| v > cfg.early_warning_threshold)
        {
            out.push(Finding::new(
                "early_warning_anomaly",
                Severity::Warning,
                v,
                Some(cfg.early_warning_threshold),
                format!("gradient early-warning score {v:.3}: health falling and unstable"),
            ));
        }
        if m.change_point_detected {
            out.push(Finding::new(
                "change_point_anomaly",
                Severity::Warning,
                1.0,
                Some(0.0),
                format!(
                    "the total gradient norm's level shifted by more than {:.0}% within the \
                     last {CHANGE_POINT} samples",
                    100.0 * cfg.change_point_sensitivity
                ),
            ));
        }
        let window = self.total.last(self.cfg.momentum_window);
        let level = window.and_then(mean);
        // The mean second difference of noise is itself noise (it telescopes to the change
        // of the first difference): it must also stand 3 standard errors clear of 0.
        let noise = window.and_then(|xs| {
            let acc = second_differences(xs);
            std(&acc, 1).map(|sd| 3.0 * sd / (acc.len() as f64).sqrt())
        });
        if let (Some(acc), Some(level), Some(noise)) = (m.gradient_acceleration, level, noise) {
            let thr = 0.1 * level;
            if level > 0.0 && acc.abs() > thr && acc.abs() > noise {
                out.push(Finding::new(
                    "gradient_acceleration_anomaly",
                    Severity::Warning,
                    acc,
                    Some(thr),
                    format!(
                        "total gradient norm accelerating by {acc:.4e} per step², more than \
                         10% of its level {level:.4e}"
                    ),
                ));
            }
        }
    }
}

fn fraction(xs: &[f64], pred: impl Fn(f64) -> bool) -> f64 {
    xs.iter().filter(|&&x| pred(x)).count() as f64 / xs.len() as f64
}

/// 1 − min(CV, 1) with CV = sample std / mean; `None` for a non-positive mean.
fn stability(xs: &[f64]) -> Option<f64> {
    let mu = mean(xs)?;
    let sd = std(xs, 1)?;
    (mu > 0.0).then(|| 1.0 - (sd / mu).min(1.0))
}

fn second_differences(xs: &[f64]) -> Vec<f64> {
    xs.windows(3).map(|w| w[2] - 2.0 * w[1] + w[0]).collect()
}

/// RLDK's momentum risk made scale-free: mean |Δ| relative to the mean level, times the
/// fraction of accelerating steps.
fn momentum_risk(xs: &[f64]) -> Option<f64> {
    let mu = mean(xs)?;
    if mu <= 0.0 {
        return None;
    }
    let diffs: Vec<f64> = xs.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let acc = second_differences(xs);
    let accelerating = fraction(&acc, |a| a > 0.0);
    Some((mean(&diffs)? / mu * accelerating).min(1.0))
}

/// RLDK's outlier risk: the larger of the z-score and IQR-fence outlier fractions.
fn outlier_risk(xs: &[f64], cfg: &GradientConfig) -> f64 {
    let (mu, sd) = (mean(xs).unwrap_or(0.0), std(xs, 1).unwrap_or(0.0));
    let z = if sd > 1e-12 * mu.abs().max(1e-300) {
        fraction(xs, |x| ((x - mu) / sd).abs() > cfg.z_score_threshold)
    } else {
        0.0
    };
    let (q1, q3) = (
        percentile(xs, 25.0).unwrap_or(0.0),
        percentile(xs, 75.0).unwrap_or(0.0),
    );
    let k = cfg.iqr_multiplier * (q3 - q1);
    let iqr = fraction(xs, |x| x < q1 - k || x > q3 + k);
    z.max(iqr)
}

/// A level shift between the first 7 and last 8 values: relative size above
/// `sensitivity` and a two-sample t statistic above 4 (or no noise at all).
fn change_point(xs: &[f64], sensitivity: f64) -> bool {
    let (a, b) = xs.split_at(7);
    let (Some(ma), Some(mb)) = (mean(a), mean(b)) else {
        return false;
    };
    let shift = (mb - ma).abs();
    if shift <= sensitivity * ma.abs().max(mb.abs()) {
        return false;
    }
    let pooled = (variance(a, 1).unwrap_or(0.0) * 6.0 + variance(b, 1).unwrap_or(0.0) * 7.0) / 13.0;
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
