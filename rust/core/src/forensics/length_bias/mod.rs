//! Length-bias detection: does the reward favour long (or short) responses?
//!
//! RLDK re-ran its whole detector over every record ever seen at each update (O(N) per
//! update, O(N²) per run). Here records stream in, and the work per record is O(1) except
//! when there is something to look at:
//! - the whole-run correlation is exact and O(1) per record;
//! - the full analysis (ranks, quartiles, ODIN, severity) covers the last `window` valid
//!   records; on the per-update path it runs every `window / 2` records, and every
//!   `window / 8` while the window's correlation (kept in O(1) per record) is significant;
//!   queries always re-analyse;
//! - so that a bias that starts late is seen within tens of records, a recent horizon is
//!   analysed too, but only when its O(1) correlation is significant at the anomaly's 1%
//!   level (a necessary condition of the anomaly), at most every 4 records: the last 64
//!   records while they come one per update, the last 128 when updates bring batches
//!   (more records per update are more chance looks per update; see `WIDE`).
//!
//! The anomaly also needs the records themselves to be coupled, not only their levels: the
//! changes from one record to the next (Δ length, Δ reward) must correlate in the same
//! direction, at least weakly (see [`confirms`]). Length and reward that drift together
//! (both rise while a model learns, as in a healthy GRPO run) correlate over a window
//! without any record being paid for its length; a reward that reads the length moves with
//! each record's length. On 40 seeds of each healthy scenario of `rlforensics.testing` this
//! took the false alarms on healthy runs from 36 to 25 (a simplified model over 200 seeds:
//! 29 to 13) and left every one of 40 length-bias delays as it was (docs/benchmarks.md).
//!
//! Spearman's ranks average ties (RLDK's fallback did not), and the recommendations never
//! say "no bias" next to a positive ODIN flag.

mod analysis;
mod horizon;
mod window;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use self::horizon::Horizon;
use self::window::PairWindow;
use crate::control::Bivariate;
use crate::error::{CoreError, Result};
use crate::special::correlation_p_value;
use crate::state::{invalid, Validate};

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
    window: PairWindow,
    /// The last `NARROW` records: the recent horizon while records come one per update.
    narrow: Horizon,
    /// The last `WIDE` records: the recent horizon of batched records.
    wide: Horizon,
    whole: Bivariate,
    response_count: u64,
    invalid: u64,
    /// Valid records since the last full analysis.
    since_refresh: usize,
    /// The last full analysis (shared with the snapshots that carry it).
    metrics: Arc<LengthBiasMetrics>,
    /// |r| at which a full window is significant at `ALPHA`.
    critical_r: f64,
    /// The previous valid record (length, reward), for the record-to-record changes.
    previous: Option<(f64, f64)>,
    /// (Δ length, Δ reward) between consecutive valid records within `window`.
    changes: PairWindow,
    /// Whether the changes confirmed the window's analysis when it was made.
    confirmed: bool,
    /// Updates that brought at least one valid record (with the valid records before the
    /// `pending` ones: records per update).
    updates_with_records: u64,
    /// Valid records since the last `maybe_refresh`.
    pending: u64,
}

/// Records of the recent horizon when records come one per update: about the best single
/// horizon for a bias that grows in gradually (docs/benchmarks.md).
const NARROW: usize = 64;
/// Records of the recent horizon when updates bring batches. Each record is a look at the
/// horizon, so a batch of k records per update gives k times the chance looks per logged
/// step; at 64 records a weak real coupling of healthy runs (|ρ| ≈ 0.15) crosses the
/// severity bar by chance about once in 200 looks, at 128 about once in 10,000
/// (docs/benchmarks.md).
const WIDE: usize = 128;
/// Mean valid records per update from which updates count as batches.
const BATCHED: f64 = 2.0;
/// The anomaly's significance level.
const ALPHA: f64 = 0.01;

/// Below this many records in the window every update re-analyses (it is cheap there).
const ALWAYS_REFRESH_BELOW: usize = 256;

/// |r| above which `n` pairs are significant at `ALPHA` (two-sided), found by bisection on
/// the p-value (decreasing in |r|); a hair below the exact value, so that the O(1)
/// correlation, which may differ from a fresh pass by rounding, never misses a case.
pub(super) fn critical_correlation(n: usize) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if correlation_p_value(mid, n).is_some_and(|p| p < ALPHA) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    lo * (1.0 - 1e-9)
}

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
            window: PairWindow::new(window),
            narrow: Horizon::new(NARROW.min(window)),
            wide: Horizon::new(WIDE.min(window)),
            whole: Bivariate::default(),
            response_count: 0,
            invalid: 0,
            since_refresh: 0,
            metrics: Arc::new(LengthBiasMetrics::default()),
            critical_r: critical_correlation(window),
            previous: None,
            changes: PairWindow::new(window - 1),
            confirmed: false,
            updates_with_records: 0,
            pending: 0,
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
            self.window.push(length, reward);
            self.whole.update(length, reward);
            let change = self.previous.map(|(l0, r0)| (length - l0, reward - r0));
            if let Some((dl, dr)) = change {
                self.changes.push(dl, dr);
            }
            self.narrow.push(length, reward, change);
            self.wide.push(length, reward, change);
            self.previous = Some((length, reward));
            self.since_refresh += 1;
            self.pending += 1;
        } else {
            self.invalid += 1;
        }
    }

    fn refresh(&mut self) {
        let (l, r) = (self.window.lengths(), self.window.rewards());
        let l: Vec<f64> = l.iter().collect();
        let r: Vec<f64> = r.iter().collect();
        let mut m = analysis::analyse(&r, &l, self.whole.correlation());
        m.response_count = self.response_count;
        self.confirmed = confirms(&self.changes, &m);
        self.metrics = Arc::new(m);
        self.since_refresh = 0;
    }

    /// The analysis of the current window, brought up to date.
    pub fn metrics(&mut self) -> &LengthBiasMetrics {
        if self.since_refresh > 0 {
            self.refresh();
        }
        if self.metrics.response_count != self.response_count {
            Arc::make_mut(&mut self.metrics).response_count = self.response_count;
        }
        &self.metrics
    }

    /// Whether updates bring batches of records (on average at least `BATCHED`).
    fn batched(&self) -> bool {
        let records = self.response_count - self.invalid - self.pending;
        let updates = self.updates_with_records;
        updates > 0 && records as f64 >= BATCHED * updates as f64
    }

    /// The per-update path: re-analyses the window when due (see the module notes) and the
    /// recent horizon when it may hold evidence; bounded work per record.
    pub fn maybe_refresh(&mut self) {
        if self.pending > 0 {
            self.updates_with_records += 1;
            self.pending = 0;
        }
        let cap = self.window.capacity();
        let n = self.window.len();
        let significant = self.window.is_full()
            && self
                .window
                .correlation()
                .is_some_and(|r| r.abs() >= self.critical_r);
        let due = self.since_refresh > 0
            && (n < ALWAYS_REFRESH_BELOW
                || self.since_refresh >= (cap / 2).max(1)
                || (self.since_refresh >= (cap / 8).max(1) && (n < cap || significant)));
        if due {
            self.refresh();
        }
        // A horizon adds nothing until the window holds more than it; only the one that
        // fits how records arrive is analysed.
        let whole = self.whole.correlation();
        let batched = self.batched();
        let (on, off) = if batched {
            (&mut self.wide, &mut self.narrow)
        } else {
            (&mut self.narrow, &mut self.wide)
        };
        off.forget();
        let useful = n > on.capacity();
        on.maybe_refresh(useful, whole);
    }

    /// The latest analysis, as last refreshed (shared: cloning the `Arc` is cheap).
    pub fn cached(&self) -> &Arc<LengthBiasMetrics> {
        &self.metrics
    }

    /// Whether the latest analysis crosses the threshold.
    pub fn detected(&self) -> bool {
        let m = &self.metrics;
        m.valid_sample_count > 0 && m.bias_severity.is_some_and(|s| s >= self.threshold)
    }

    /// Strong enough evidence for an anomaly: detected, significant, enough records.
    /// Over the whole window or, so that a bias that starts late is seen quickly, over
    /// the recent horizon.
    pub fn anomalous(&self) -> bool {
        self.evidence().is_some()
    }

    /// The analysis that holds the anomaly's evidence (the window's first), if any: severity
    /// at the threshold, a correlation significant at `ALPHA`, enough records, and changes
    /// from record to record that confirm the correlation's direction.
    pub fn evidence(&self) -> Option<&LengthBiasMetrics> {
        let holds = |m: &LengthBiasMetrics| {
            m.valid_sample_count >= MIN_ANOMALY_SAMPLES
                && m.bias_severity.is_some_and(|s| s >= self.threshold)
                && m.pearson_pvalue
                    .or(m.spearman_pvalue)
                    .is_some_and(|p| p < ALPHA)
        };
        Some(&*self.metrics)
            .filter(|m| self.confirmed && holds(m))
            .or(self.narrow.confirmed().filter(|m| holds(m)))
            .or(self.wide.confirmed().filter(|m| holds(m)))
    }
}

/// Standard errors by which the correlation of the record-to-record changes must confirm
/// the direction of the analysis's correlation.
const CONFIRM_Z: f64 = 0.5;

/// Whether the changes between consecutive records correlate in the direction of the
/// analysis's correlation (Pearson's, else Spearman's) by at least `CONFIRM_Z` standard
/// errors. The changes of two unrelated series are each autocorrelated at lag 1 by −1/2
/// (every value enters two changes), so the products behind their correlation are
/// autocorrelated by 1/4 and their sum varies 1 + 2/4 = 1.5 times as much as for
/// independent pairs: the standard error of Fisher's z is √(1.5 / (n − 3)). The bar is low
/// on purpose: under a real bias the changes correlate as the records do (each record's
/// reward follows its own length), while for a shared drift their correlation is noise
/// around zero that clears half a standard error in the right direction 31% of the time.
pub(super) fn confirms(changes: &PairWindow, m: &LengthBiasMetrics) -> bool {
    let n = changes.len();
    let (Some(level), Some(rc)) = (
        m.pearson_correlation.or(m.spearman_correlation),
        changes.correlation(),
    ) else {
        return false;
    };
    if n <= 3 || level == 0.0 {
        return false;
    }
    let z = (rc * level.signum())
        .clamp(-1.0 + 1e-15, 1.0 - 1e-15)
        .atanh();
    z * ((n - 3) as f64 / 1.5).sqrt() >= CONFIRM_Z
}

impl Validate for LengthBias {
    fn validate(&self) -> Result<()> {
        self.window.validate()?;
        self.narrow.validate()?;
        self.wide.validate()?;
        self.changes.validate()?;
        let window = self.window.capacity();
        if self.narrow.capacity() != NARROW.min(window)
            || self.wide.capacity() != WIDE.min(window)
            || self.changes.capacity() + 1 != window
            || !(0.0..=1.0).contains(&self.threshold)
            || !(self.critical_r > 0.0 && self.critical_r <= 1.0)
            || self.pending + self.invalid > self.response_count
            || self.updates_with_records > self.response_count - self.invalid - self.pending
        {
            return Err(invalid("length-bias state"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::analysis::ranks;
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

    /// Length and reward that rise together while their record-to-record changes move
    /// against each other: the levels correlate (a shared drift), the records do not
    /// reward length, and no anomaly is raised; a reward that follows each record's length
    /// over the same drift is one.
    #[test]
    fn a_shared_drift_is_not_length_bias_but_a_coupled_reward_is() {
        let (mut drift, mut coupled) = (
            LengthBias::new(0.35, 256).unwrap(),
            LengthBias::new(0.35, 256).unwrap(),
        );
        let mut noise = crate::forensics::testing::Noise(5);
        let (mut drift_flags, mut coupled_flags) = (0, 0);
        for i in 0..1000 {
            let t = f64::from(i);
            let wiggle = if i % 2 == 0 { 1.0 } else { -1.0 };
            let length = 100.0 + 0.1 * t + 0.5 * wiggle;
            drift.add(0.002 * t - 0.02 * wiggle, length);
            let length = 100.0 + 0.1 * t + 3.0 * noise.normal();
            coupled.add(0.02 * length + 0.02 * noise.normal(), length);
            drift.maybe_refresh();
            coupled.maybe_refresh();
            drift_flags += usize::from(drift.anomalous());
            coupled_flags += usize::from(coupled.anomalous());
        }
        let m = drift.metrics().clone();
        assert!(m.pearson_correlation.unwrap() > 0.5 && m.bias_severity.unwrap() > 0.35);
        assert_eq!(drift_flags, 0);
        assert!(coupled_flags > 900, "{coupled_flags}");
    }

    /// A bias that starts late is first seen on the recent horizon that fits how records
    /// arrive: the last 64 records when they come one per update, the last 128 when updates
    /// bring batches of 16.
    #[test]
    fn the_recent_horizon_follows_records_per_update() {
        for (per_update, horizon) in [(1, NARROW), (16, WIDE)] {
            let mut lb = LengthBias::new(0.35, 1024).unwrap();
            let mut noise = crate::forensics::testing::Noise(11);
            let mut first = None;
            for i in 0..1200 {
                let length = 100.0 + 20.0 * noise.normal();
                let reward = if i < 800 { 0.0 } else { 0.01 * length } + 0.1 * noise.normal();
                lb.add(reward, length);
                if (i + 1) % per_update == 0 {
                    lb.maybe_refresh();
                    if first.is_none() && lb.anomalous() {
                        first = Some((i, lb.evidence().unwrap().valid_sample_count));
                    }
                }
            }
            let (at, seen) = first.expect("the late bias is caught");
            assert!((800..800 + 2 * horizon).contains(&at), "{per_update}: {at}");
            assert_eq!(seen, horizon, "{per_update} records per update");
            assert_eq!(lb.batched(), per_update > 1);
        }
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
