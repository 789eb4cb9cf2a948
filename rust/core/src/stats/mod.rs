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

/// The factors of the skewness estimators that depend only on the count `n`. Batch kernels
/// compute them once per count (the count rarely changes between windows), which takes two
/// square roots and a division off every output; the single-value path builds them on the
/// spot, so both give the same bits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SkewCoef {
    n: f64,
    sqrt_n: f64,
    /// sqrt(n(n − 1)) / (n − 2): G1 = g1 · adjust.
    adjust: f64,
}

impl SkewCoef {
    #[inline]
    pub(crate) fn new(n: f64) -> Self {
        SkewCoef {
            n,
            sqrt_n: n.sqrt(),
            adjust: (n * (n - 1.0)).sqrt() / (n - 2.0),
        }
    }

    /// Skewness from central moment sums of `n` values (see [`skewness_from`]).
    #[inline(always)]
    pub(crate) fn skewness(&self, m2: f64, m3: f64, bias: bool) -> Option<f64> {
        let n = self.n;
        if n < 2.0 || m2 <= 0.0 {
            return None;
        }
        let g1 = self.sqrt_n * m3 / (m2 * m2.sqrt());
        if bias {
            Some(g1)
        } else if n < 3.0 {
            None
        } else {
            Some(g1 * self.adjust)
        }
    }
}

/// The factors of the kurtosis estimators that depend only on the count `n` (see
/// [`SkewCoef`]): G2 = a·g2 + b with a = (n+1)(n−1)/((n−2)(n−3)) and b = 6(n−1)/((n−2)(n−3)),
/// pandas' ((n+1)·g2 + 6)(n−1)/((n−2)(n−3)) with one division per count instead of per output.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KurtCoef {
    n: f64,
    a: f64,
    b: f64,
}

impl KurtCoef {
    #[inline]
    pub(crate) fn new(n: f64) -> Self {
        let c = (n - 1.0) / ((n - 2.0) * (n - 3.0));
        KurtCoef {
            n,
            a: (n + 1.0) * c,
            b: 6.0 * c,
        }
    }

    /// Excess kurtosis from central moment sums of `n` values (see [`kurtosis_from`]).
    #[inline(always)]
    pub(crate) fn kurtosis(&self, m2: f64, m4: f64, bias: bool) -> Option<f64> {
        let n = self.n;
        if n < 2.0 || m2 <= 0.0 {
            return None;
        }
        let g2 = n * m4 / (m2 * m2) - 3.0;
        if bias {
            Some(g2)
        } else if n < 4.0 {
            None
        } else {
            Some(self.a * g2 + self.b)
        }
    }
}

/// Skewness from central moment sums. `bias = true` is the population estimator g1
/// (scipy's default); `bias = false` is the adjusted G1 (pandas' `.skew()`).
pub(crate) fn skewness_from(n: f64, m2: f64, m3: f64, bias: bool) -> Option<f64> {
    SkewCoef::new(n).skewness(m2, m3, bias)
}

/// Excess kurtosis from central moment sums. `bias = true` is g2 (scipy's default);
/// `bias = false` is the adjusted G2 (pandas' `.kurt()`).
pub(crate) fn kurtosis_from(n: f64, m2: f64, m4: f64, bias: bool) -> Option<f64> {
    KurtCoef::new(n).kurtosis(m2, m4, bias)
}
