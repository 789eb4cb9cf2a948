//! Length-bias detection: does the reward favour long (or short) responses?
//!
//! RLDK re-ran its whole detector over every record ever seen at each update (O(N) per
//! update, O(N²) per run). Here records stream in: whole-run sums (count, means, the
//! reward–length correlation, the ODIN totals) are exact and O(1) per record, and the
//! rank and quartile statistics that need the data itself are computed over the last
//! `window` valid records, recomputed only when new records arrived and only when asked.
//! Spearman's ranks average ties (RLDK's fallback did not), and the recommendations never
//! say "no bias" next to a positive ODIN flag.

use serde::{Deserialize, Serialize};

use crate::control::Bivariate;
use crate::error::{CoreError, Result};
use crate::special::correlation_p_value;
use crate::state::{invalid, Validate};
use crate::stats::{interpolate_sorted, Ring};

/// Valid records in the window that an anomaly needs, besides a significant correlation.
pub const MIN_ANOMALY_SAMPLES: usize = 20;

/// One length quartile of the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quartile {
    /// Lower edge.
    pub length_min: f64,
    /// Upper edge.
    pub length_max: f64,
    /// Mean reward in the bin (`None` when empty).
    pub mean_reward: Option<f64>,
    /// Mean length in the bin.
    pub mean_length: Option<f64>,
    /// Records in the bin.
    pub count: usize,
}

/// RLDK's 16 `LengthBiasMetrics` fields plus the whole-run correlation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LengthBiasMetrics {
    /// Records offered (valid or not).
    pub response_count: u64,
    /// Valid records in the analysed window.
    pub valid_sample_count: usize,
    /// Mean length over the window.
    pub mean_length: Option<f64>,
    /// Mean reward over the window.
    pub mean_reward: Option<f64>,
    /// Pearson correlation of length and reward over the window.
    pub pearson_correlation: Option<f64>,
    /// Its two-sided p-value.
    pub pearson_pvalue: Option<f64>,
    /// Spearman correlation (tie-averaged ranks).
    pub spearman_correlation: Option<f64>,
    /// Its two-sided p-value (t approximation, as scipy).
    pub spearman_pvalue: Option<f64>,
    /// η² of reward explained by length quartile.
    pub variance_explained: Option<f64>,
    /// q1..q4 of length with their mean reward.
    pub quartile_metrics: Vec<Quartile>,
    /// Σ reward / Σ length.
    pub odin_reward_per_token: Option<f64>,
    /// mean reward / mean length.
    pub odin_efficiency: Option<f64>,
    /// Long responses (≥ median length) out-score short ones by > 10% of mean |reward|.
    pub odin_optimization_flag: bool,
    /// Human-readable patterns.
    pub optimization_patterns: Vec<String>,
    /// clamp(0.6·max |correlation| + 0.4·η², 0, 1).
    pub bias_severity: Option<f64>,
    /// What to do about it.
    pub recommendations: Vec<String>,
    /// Pearson correlation over every valid record of the run (not an RLDK field).
    pub whole_run_pearson: Option<f64>,
}

/// Streaming length-bias detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthBias {
    threshold: f64,
    rewards: Ring,
    lengths: Ring,
    whole: Bivariate,
    response_count: u64,
    invalid: u64,
    dirty: bool,
    /// Valid records since the last analysis.
    since_refresh: usize,
    metrics: LengthBiasMetrics,
    /// The analysis of the last `RECENT` records, when the window holds more.
    recent: Option<LengthBiasMetrics>,
    /// Valid records since `recent` was computed.
    since_recent: usize,
}

/// Valid records between two analyses of the short horizon.
const RECENT_EVERY: usize = 16;

/// Records of the short horizon that the anomaly also looks at.
const RECENT: usize = 128;

/// Below this many records in the window every update re-analyses (it is cheap there);
/// above, the per-update analysis of the whole window runs every `window / 8` new records
/// (the short horizon, every `RECENT_EVERY`), which bounds the amortised cost per record;
/// queries always re-analyse.
const ALWAYS_REFRESH_BELOW: usize = 256;

impl LengthBias {
    /// A detector that calls severity ≥ `threshold` detected, over the last `window` records.
    pub fn new(threshold: f64, window: usize) -> Result<Self> {
        if !(threshold.is_finite() && (0.0..=1.0).contains(&threshold)) {
            return Err(CoreError::param(
                "length_bias_threshold",
                format!("must lie in [0, 1], got {threshold}"),
            ));
        }
        if window < 2 {
            return Err(CoreError::param(
                "length_bias_window",
                format!("must be at least 2, got {window}"),
            ));
        }
        Ok(LengthBias {
            threshold,
            rewards: Ring::new(window),
            lengths: Ring::new(window),
            whole: Bivariate::default(),
            response_count: 0,
            invalid: 0,
            dirty: false,
            since_refresh: 0,
            metrics: LengthBiasMetrics::default(),
            recent: None,
            since_recent: 0,
        })
    }

    /// The detection threshold on severity.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// RLDK's correlation threshold: clamp(threshold + 0.05, 0.2, 0.6).
    pub fn corr_threshold(&self) -> f64 {
        (self.threshold + 0.05).clamp(0.2, 0.6)
    }

    /// Records whose reward or length was missing or non-finite.
    pub fn invalid(&self) -> u64 {
        self.invalid
    }

    /// Adds one record; a non-finite reward or length (NaN for "not given") is counted
    /// as invalid and not analysed.
    pub fn add(&mut self, reward: f64, length: f64) {
        self.response_count += 1;
        if reward.is_finite() && length.is_finite() {
            self.rewards.push(reward);
            self.lengths.push(length);
            self.whole.update(length, reward);
            self.dirty = true;
            self.since_refresh += 1;
            self.since_recent += 1;
        } else {
            self.invalid += 1;
        }
    }

    fn refresh(&mut self) {
        self.recent = self.analyse_recent();
        self.since_recent = 0;
        self.metrics = self.analyse();
        self.dirty = false;
        self.since_refresh = 0;
    }

    /// The analysis of the current window, brought up to date.
    pub fn metrics(&mut self) -> &LengthBiasMetrics {
        if self.dirty {
            self.refresh();
        }
        self.metrics.response_count = self.response_count;
        &self.metrics
    }

    /// Re-analyses when enough new records arrived (see [`ALWAYS_REFRESH_BELOW`]); the
    /// per-update path of the trackers, whose cost stays bounded per record.
    pub fn maybe_refresh(&mut self) {
        let every = (self.rewards.capacity() / 8).max(1);
        if self.dirty && (self.rewards.len() < ALWAYS_REFRESH_BELOW || self.since_refresh >= every)
        {
            self.refresh();
        } else if self.since_recent >= RECENT_EVERY {
            // The short horizon is cheap: keep it fresh so that a late bias shows quickly.
            self.recent = self.analyse_recent();
            self.since_recent = 0;
        }
        self.metrics.response_count = self.response_count;
    }

    /// The latest analysis, as last refreshed.
    pub fn cached(&self) -> &LengthBiasMetrics {
        &self.metrics
    }

    /// Whether the latest analysis crosses the threshold.
    pub fn detected(&self) -> bool {
        let m = &self.metrics;
        m.valid_sample_count > 0 && m.bias_severity.is_some_and(|s| s >= self.threshold)
    }

    /// Strong enough evidence for an anomaly: detected, significant, enough records.
    /// Over the whole window or, so that a bias that starts late is seen quickly, over
    /// the last `RECENT` records.
    pub fn anomalous(&self) -> bool {
        let evidence = |m: &LengthBiasMetrics| {
            m.valid_sample_count >= MIN_ANOMALY_SAMPLES
                && m.bias_severity.is_some_and(|s| s >= self.threshold)
                && m.pearson_pvalue
                    .or(m.spearman_pvalue)
                    .is_some_and(|p| p < 0.01)
        };
        evidence(&self.metrics) || self.recent.as_ref().is_some_and(evidence)
    }

    fn analyse(&self) -> LengthBiasMetrics {
        let r: Vec<f64> = self.rewards.iter().collect();
        let l: Vec<f64> = self.lengths.iter().collect();
        self.analyse_slices(&r, &l)
    }

    /// The analysis of the last `RECENT` records only, for the anomaly's fast path.
    fn analyse_recent(&self) -> Option<LengthBiasMetrics> {
        let n = self.rewards.len();
        if n <= RECENT {
            return None;
        }
        let r: Vec<f64> = self.rewards.iter().skip(n - RECENT).collect();
        let l: Vec<f64> = self.lengths.iter().skip(n - RECENT).collect();
        Some(self.analyse_slices(&r, &l))
    }

    fn analyse_slices(&self, r: &[f64], l: &[f64]) -> LengthBiasMetrics {
        let n = r.len();
        let mut m = LengthBiasMetrics {
            valid_sample_count: n,
            whole_run_pearson: self.whole.correlation(),
            ..LengthBiasMetrics::default()
        };
        if n == 0 {
            m.recommendations
                .push("Unable to compute length bias metrics due to empty inputs.".into());
            return m;
        }
        let nf = n as f64;
        let mean_r = r.iter().sum::<f64>() / nf;
        let mean_l = l.iter().sum::<f64>() / nf;
        m.mean_reward = Some(mean_r);
        m.mean_length = Some(mean_l);
        let var_r = r.iter().map(|x| (x - mean_r) * (x - mean_r)).sum::<f64>() / nf;
        let var_l = l.iter().map(|x| (x - mean_l) * (x - mean_l)).sum::<f64>() / nf;
        // One sort of the lengths serves the ranks, the quartiles, the median split and the
        // distinct-length count.
        let order_l = order(l);
        let sorted_l: Vec<f64> = order_l.iter().map(|&i| l[i]).collect();
        if n >= 2 && var_r > 0.0 && var_l > 0.0 {
            let p = pearson(l, r);
            m.pearson_correlation = p;
            m.pearson_pvalue = p.and_then(|p| correlation_p_value(p, n));
            let s = pearson(&ranks_in_order(l, &order_l), &ranks(r));
            m.spearman_correlation = s;
            m.spearman_pvalue = s.and_then(|s| correlation_p_value(s, n));
        }
        m.quartile_metrics = quartiles(l, r, &sorted_l);
        if var_r > 0.0 {
            let between: f64 = m
                .quartile_metrics
                .iter()
                .filter_map(|q| {
                    q.mean_reward
                        .map(|mr| q.count as f64 * (mr - mean_r).powi(2))
                })
                .sum();
            m.variance_explained = Some(between / (var_r * nf));
        }
        let (sum_r, sum_l) = (r.iter().sum::<f64>(), l.iter().sum::<f64>());
        m.odin_reward_per_token = (sum_l > 0.0).then(|| sum_r / sum_l);
        m.odin_efficiency = (mean_l > 0.0).then(|| mean_r / mean_l);
        let baseline = r.iter().map(|x| x.abs()).sum::<f64>() / nf + 1e-8;
        m.odin_optimization_flag = odin_flag(l, r, &sorted_l, baseline);
        m.optimization_patterns = patterns(&m, &sorted_l, r, baseline);
        let corr = m
            .pearson_correlation
            .unwrap_or(0.0)
            .abs()
            .max(m.spearman_correlation.unwrap_or(0.0).abs());
        let severity = (0.6 * corr + 0.4 * m.variance_explained.unwrap_or(0.0)).clamp(0.0, 1.0);
        m.bias_severity = Some(severity);
        m.recommendations = recommendations(severity, &m);
        m
    }
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let mut b = Bivariate::default();
    for (a, c) in x.iter().zip(y) {
        b.update(*a, *c);
    }
    b.correlation()
}

/// 1-based ranks with ties given their average rank (scipy's `rankdata`).
fn ranks(xs: &[f64]) -> Vec<f64> {
    ranks_in_order(xs, &order(xs))
}

/// Indices of `xs` in ascending order.
fn order(xs: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_unstable_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    idx
}

/// [`ranks`] given the ascending `idx` of `xs`.
fn ranks_in_order(xs: &[f64], idx: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && xs[idx[j + 1]] == xs[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            out[k] = avg;
        }
        i = j + 1;
    }
    out
}

/// Quartile bins of length: edges at its 0/25/50/75/100% quantiles; q1–q3 half-open, q4
/// closed (RLDK's bins).
fn quartiles(l: &[f64], r: &[f64], sorted: &[f64]) -> Vec<Quartile> {
    let edges: Vec<f64> = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|&q| interpolate_sorted(sorted, q).unwrap_or(f64::NAN))
        .collect();
    (0..4)
        .map(|q| {
            let (lo, hi) = (edges[q], edges[q + 1]);
            let inside = |x: f64| x >= lo && (x < hi || (q == 3 && x <= hi));
            let (mut n, mut sr, mut sl) = (0usize, 0.0, 0.0);
            for (x, y) in l.iter().zip(r) {
                if inside(*x) {
                    n += 1;
                    sr += y;
                    sl += x;
                }
            }
            Quartile {
                length_min: lo,
                length_max: hi,
                mean_reward: (n > 0).then(|| sr / n as f64),
                mean_length: (n > 0).then(|| sl / n as f64),
                count: n,
            }
        })
        .collect()
}

fn odin_flag(l: &[f64], r: &[f64], sorted: &[f64], baseline: f64) -> bool {
    let Some(median) = interpolate_sorted(sorted, 0.5) else {
        return false;
    };
    let (mut nl, mut sl, mut ns, mut ss) = (0usize, 0.0, 0usize, 0.0);
    for (x, y) in l.iter().zip(r) {
        if *x >= median {
            nl += 1;
            sl += y;
        } else {
            ns += 1;
            ss += y;
        }
    }
    nl > 0 && ns > 0 && sl / nl as f64 - ss / ns as f64 > 0.1 * baseline
}

fn patterns(m: &LengthBiasMetrics, sorted_l: &[f64], r: &[f64], baseline: f64) -> Vec<String> {
    let mut out = Vec::new();
    let p = m.pearson_correlation.unwrap_or(0.0);
    let s = m.spearman_correlation.unwrap_or(0.0);
    let dominant = if p.abs() >= s.abs() { p } else { s };
    if dominant > 0.2 {
        out.push("Longer responses are rewarded".to_string());
    } else if dominant < -0.2 {
        out.push("Shorter responses are rewarded".to_string());
    }
    if let (Some(q1), Some(q4)) = (
        m.quartile_metrics.first().and_then(|q| q.mean_reward),
        m.quartile_metrics.last().and_then(|q| q.mean_reward),
    ) {
        if q4 - q1 > 0.15 * baseline {
            out.push("Top length quartile outperforms short responses".to_string());
        } else if q4 - q1 < -0.15 * baseline {
            out.push("Short responses outperform long responses".to_string());
        }
    }
    let range = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - r.iter().cloned().fold(f64::INFINITY, f64::min);
    let mut distinct = sorted_l.to_vec();
    distinct.dedup();
    if range > 0.0 && distinct.len() <= 3 {
        out.push("Reward concentrated on narrow length range".to_string());
    }
    out
}

fn recommendations(severity: f64, m: &LengthBiasMetrics) -> Vec<String> {
    let mut out = Vec::new();
    if severity < 0.2 {
        // A positive ODIN flag contradicts "no bias" (RLDK printed both).
        if !m.odin_optimization_flag {
            out.push("No significant length bias detected.".to_string());
        }
    } else if severity < 0.5 {
        out.push("Monitor response length during training; mild bias observed.".to_string());
    } else {
        out.push(
            "Consider penalizing overly long responses or diversifying training prompts."
                .to_string(),
        );
    }
    if !m.optimization_patterns.is_empty() {
        out.push("Investigate prompts where the listed patterns appear strongest.".to_string());
    }
    if m.odin_optimization_flag {
        out.push("ODIN heuristics suggest reward hacking; audit tokenizer configuration.".into());
    }
    out
}

impl Validate for LengthBias {
    fn validate(&self) -> Result<()> {
        self.rewards.validate()?;
        self.lengths.validate()?;
        // The two rings pair records by position: same capacity and the same fill.
        if !self.rewards.same_shape(&self.lengths) || !(0.0..=1.0).contains(&self.threshold) {
            return Err(invalid("length-bias state"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotone_batch_is_detected() {
        let mut lb = LengthBias::new(0.3, 4096).unwrap();
        for i in 0..6 {
            lb.add(f64::from(i) * 0.2, f64::from(10 + 10 * i));
        }
        lb.maybe_refresh();
        assert!(lb.detected());
        let m = lb.metrics().clone();
        assert!((m.pearson_correlation.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(m.spearman_correlation, Some(1.0));
        assert!(m.bias_severity.unwrap() > 0.3);
        assert!(!lb.anomalous(), "6 records are too few for an anomaly");
    }

    #[test]
    fn ties_are_averaged_and_invalid_records_counted() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        let mut lb = LengthBias::new(0.35, 8).unwrap();
        lb.add(f64::NAN, 3.0);
        lb.add(1.0, f64::NAN);
        assert_eq!(lb.invalid(), 2);
        assert_eq!(lb.metrics().response_count, 2);
        assert_eq!(lb.metrics().valid_sample_count, 0);
        assert!(!lb.detected());
    }

    #[test]
    fn window_bounds_the_work_and_whole_run_correlation_is_exact() {
        let mut lb = LengthBias::new(0.35, 100).unwrap();
        for i in 0..1000 {
            let len = f64::from(i % 50);
            lb.add(if i < 900 { 0.0 } else { len }, len);
        }
        let m = lb.metrics().clone();
        assert_eq!(m.valid_sample_count, 100);
        assert!(m.pearson_correlation.unwrap() > 0.99);
        lb.maybe_refresh();
        assert!(m.whole_run_pearson.unwrap() < 0.5);
        assert!(lb.anomalous());
        assert_eq!(m.quartile_metrics.len(), 4);
        assert_eq!(
            m.quartile_metrics.iter().map(|q| q.count).sum::<usize>(),
            100
        );
    }
}
