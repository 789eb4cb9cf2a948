//! The gradient analyzer's anomaly rules: which conditions hold after an update.

use super::{GradientAnalyzer, RatioTrend, CHANGE_POINT, RISK};
use crate::forensics::event::{Finding, Severity};
use crate::forensics::gradient::window::acceleration_noise;
use crate::forensics::small::mean;

/// Updates before any rule is evaluated (RLDK's history gate).
const RULE_MIN_SAMPLES: u64 = 5;
/// R² a trend fit needs before its slope counts as a trend.
const TREND_MIN_R2: f64 = 0.5;

impl GradientAnalyzer {
    /// Appends the findings of the rules that hold to `out`; `ratio` is this update's ratio
    /// trend.
    pub(super) fn rule_findings(&self, ratio: &RatioTrend, out: &mut Vec<Finding>) {
        if self.updates < RULE_MIN_SAMPLES {
            return;
        }
        let m = &self.metrics;
        let cfg = &self.cfg;
        let sev = Severity::critical_if;
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
                    "{:.0}% of the last {RISK} total gradient norms are below {:.3e} (the \
                     larger of vanishing_threshold and 1% of the run's early level)",
                    pct(r),
                    self.vanishing_floor()
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
        if let (Some(s), Some(c), Some((_, Some(r2), span))) =
            (m.ratio_trend, ratio.change, ratio.fit)
        {
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
        self.advanced_findings(out);
    }

    fn advanced_findings(&self, out: &mut Vec<Finding>) {
        let m = &self.metrics;
        let cfg = &self.cfg;
        let sev = Severity::critical_if;
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
        let Some(acc) = m.gradient_acceleration else {
            return;
        };
        let Some(window) = self.total.last(self.cfg.momentum_window) else {
            return;
        };
        let Some(level) = mean(window) else {
            return;
        };
        let thr = 0.1 * level;
        // The mean second difference of noise is itself noise (it telescopes to the change
        // of the first difference): it must also stand 3 standard errors clear of 0. Its
        // standard error is worked out only when the cheap tests pass.
        if level > 0.0
            && acc.abs() > thr
            && acceleration_noise(window).is_some_and(|noise| acc.abs() > noise)
        {
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
