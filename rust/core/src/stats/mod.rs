//! Estimator states: whole-run moments, rolling windows, exponential weighting and a
//! mergeable quantile sketch.

mod ewm;
mod moments;
mod ring;
mod rolling_extrema;
mod rolling_moments;
mod rolling_quantile;
mod sketch;
pub(crate) mod sliding;

pub use ewm::{ewm_batch, EwMoments, EwSpec};
pub use moments::Moments;
pub use ring::Ring;
pub use rolling_extrema::{rolling_max_batch, rolling_min_batch, RollingExtrema};
pub use rolling_moments::{rolling_moments_batch, MomentKind, RollingMoments};
pub use rolling_quantile::{
    check_quantile, interpolate_sorted, rolling_quantile_batch, RollingQuantile,
};
pub use sketch::QuantileSketch;

/// Skewness from central moment sums. `bias = true` is the population estimator g1
/// (scipy's default); `bias = false` is the adjusted G1 (pandas' `.skew()`).
pub(crate) fn skewness_from(n: f64, m2: f64, m3: f64, bias: bool) -> Option<f64> {
    if n < 2.0 || m2 <= 0.0 {
        return None;
    }
    let g1 = n.sqrt() * m3 / (m2 * m2.sqrt());
    if bias {
        Some(g1)
    } else if n < 3.0 {
        None
    } else {
        Some(g1 * (n * (n - 1.0)).sqrt() / (n - 2.0))
    }
}

/// Excess kurtosis from central moment sums. `bias = true` is g2 (scipy's default);
/// `bias = false` is the adjusted G2 (pandas' `.kurt()`).
pub(crate) fn kurtosis_from(n: f64, m2: f64, m4: f64, bias: bool) -> Option<f64> {
    if n < 2.0 || m2 <= 0.0 {
        return None;
    }
    let g2 = n * m4 / (m2 * m2) - 3.0;
    if bias {
        Some(g2)
    } else if n < 4.0 {
        None
    } else {
        Some(((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0)))
    }
}
