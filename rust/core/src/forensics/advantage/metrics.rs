//! The per-step snapshot of the advantage tracker: RLDK's 19 `AdvantageStatisticsMetrics`
//! fields, with "not enough data yet" as `None` instead of a made-up perfect score.

use serde::{Deserialize, Serialize};

/// Percentiles reported in `advantage_percentiles`, as (RLDK key, quantile).
pub const PERCENTILES: [(&str, f64); 7] = [
    ("p5", 0.05),
    ("p10", 0.10),
    ("p25", 0.25),
    ("p50", 0.50),
    ("p75", 0.75),
    ("p90", 0.90),
    ("p95", 0.95),
];

/// One snapshot. Field names are RLDK's; the meaning of each is documented where it differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvantageMetrics {
    /// Logged step of the latest update (not an RLDK field; NaN before any).
    pub step: f64,
    /// Latest mean as given (NaN stays NaN; `None` when not logged).
    pub advantage_mean: Option<f64>,
    /// Latest std as given.
    pub advantage_std: Option<f64>,
    /// Latest min as given (`None` when not logged; RLDK made it 0.0).
    pub advantage_min: Option<f64>,
    /// Latest max as given.
    pub advantage_max: Option<f64>,
    /// Latest median as given (RLDK replaced a real 0.0 by the mean).
    pub advantage_median: Option<f64>,
    /// Population skewness (g1) of the last `distribution_window` finite samples.
    pub advantage_skewness: Option<f64>,
    /// Population excess kurtosis (g2) of the same samples.
    pub advantage_kurtosis: Option<f64>,
    /// p5 … p95 (see [`PERCENTILES`]) of the same samples, NumPy's linear interpolation.
    pub advantage_percentiles: Option<[f64; 7]>,
    /// Mean of the bias part (1 − bias / bias_threshold, floored at 0) and scale stability.
    pub advantage_normalization_health: Option<f64>,
    /// |mean of the last 10 finite means|.
    pub advantage_bias: Option<f64>,
    /// 1 − CV (population) of the last 10 finite stds, floored at 0.
    pub advantage_scale_stability: Option<f64>,
    /// OLS slope of the mean per logged step over the last `trend_window` finite means.
    pub advantage_mean_trend: Option<f64>,
    /// OLS slope of the std per logged step over the last `trend_window` finite stds.
    pub advantage_std_trend: Option<f64>,
    /// Sample std (ddof = 1) of the last 10 finite means.
    pub advantage_volatility: Option<f64>,
    /// min(1, |mean of the last 5 finite means| / bias_threshold).
    pub advantage_bias_risk: Option<f64>,
    /// min(1, CV of the last 5 finite stds / scale_threshold).
    pub advantage_scale_risk: Option<f64>,
    /// min(1, (|skew| + |excess kurtosis|) / 4) of the last 20 finite samples.
    pub advantage_distribution_risk: Option<f64>,
    /// Weighted mean (0.4/0.3/0.2/0.1) of the health parts that have data.
    pub advantage_health_score: Option<f64>,
    /// Weighted mean (0.3/0.3/0.2/0.2) of the quality parts that have data.
    pub advantage_quality_score: Option<f64>,
    /// Non-finite means seen.
    pub nonfinite_mean_count: u64,
    /// Non-finite stds seen.
    pub nonfinite_std_count: u64,
    /// Non-finite samples seen (skipped).
    pub nonfinite_sample_count: u64,
}

impl Default for AdvantageMetrics {
    fn default() -> Self {
        Self::empty()
    }
}

impl AdvantageMetrics {
    /// The snapshot before any update.
    pub fn empty() -> Self {
        AdvantageMetrics {
            step: f64::NAN,
            advantage_mean: None,
            advantage_std: None,
            advantage_min: None,
            advantage_max: None,
            advantage_median: None,
            advantage_skewness: None,
            advantage_kurtosis: None,
            advantage_percentiles: None,
            advantage_normalization_health: None,
            advantage_bias: None,
            advantage_scale_stability: None,
            advantage_mean_trend: None,
            advantage_std_trend: None,
            advantage_volatility: None,
            advantage_bias_risk: None,
            advantage_scale_risk: None,
            advantage_distribution_risk: None,
            advantage_health_score: None,
            advantage_quality_score: None,
            nonfinite_mean_count: 0,
            nonfinite_std_count: 0,
            nonfinite_sample_count: 0,
        }
    }

    /// Every field as a number, in the order of [`ADVANTAGE_NUMERIC_FIELDS`]: `None` is NaN
    /// and the percentiles are seven columns.
    pub fn numeric(&self) -> [f64; 29] {
        let o = |v: Option<f64>| v.unwrap_or(f64::NAN);
        let p = self.advantage_percentiles.unwrap_or([f64::NAN; 7]);
        [
            self.step,
            o(self.advantage_mean),
            o(self.advantage_std),
            o(self.advantage_min),
            o(self.advantage_max),
            o(self.advantage_median),
            o(self.advantage_skewness),
            o(self.advantage_kurtosis),
            p[0],
            p[1],
            p[2],
            p[3],
            p[4],
            p[5],
            p[6],
            o(self.advantage_normalization_health),
            o(self.advantage_bias),
            o(self.advantage_scale_stability),
            o(self.advantage_mean_trend),
            o(self.advantage_std_trend),
            o(self.advantage_volatility),
            o(self.advantage_bias_risk),
            o(self.advantage_scale_risk),
            o(self.advantage_distribution_risk),
            o(self.advantage_health_score),
            o(self.advantage_quality_score),
            self.nonfinite_mean_count as f64,
            self.nonfinite_std_count as f64,
            self.nonfinite_sample_count as f64,
        ]
    }
}

/// Names of [`AdvantageMetrics::numeric`]'s columns, in order. The percentiles are
/// flattened to `advantage_percentiles_p5` … `advantage_percentiles_p95`.
pub const ADVANTAGE_NUMERIC_FIELDS: [&str; 29] = [
    "step",
    "advantage_mean",
    "advantage_std",
    "advantage_min",
    "advantage_max",
    "advantage_median",
    "advantage_skewness",
    "advantage_kurtosis",
    "advantage_percentiles_p5",
    "advantage_percentiles_p10",
    "advantage_percentiles_p25",
    "advantage_percentiles_p50",
    "advantage_percentiles_p75",
    "advantage_percentiles_p90",
    "advantage_percentiles_p95",
    "advantage_normalization_health",
    "advantage_bias",
    "advantage_scale_stability",
    "advantage_mean_trend",
    "advantage_std_trend",
    "advantage_volatility",
    "advantage_bias_risk",
    "advantage_scale_risk",
    "advantage_distribution_risk",
    "advantage_health_score",
    "advantage_quality_score",
    "nonfinite_mean_count",
    "nonfinite_std_count",
    "nonfinite_sample_count",
];
