//! Rolling (by count) mean, variance, skewness and kurtosis in O(1) amortised per step.

use crate::state::{invalid, Validate};
use serde::{Deserialize, Serialize};

use super::sliding::{zero_if_finite, SlidingSums};
use super::{kurtosis_from, skewness_from, KurtCoef, Ring, SkewCoef};
use crate::error::{resolve_min_periods, Result};

/// Which rolling statistic a batch kernel writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MomentKind {
    /// Window mean.
    Mean,
    /// Variance with divisor `n - ddof`.
    Var {
        /// Delta degrees of freedom.
        ddof: u32,
    },
    /// Standard deviation with divisor `n - ddof`.
    Std {
        /// Delta degrees of freedom.
        ddof: u32,
    },
    /// Skewness (biased g1 or adjusted G1).
    Skew {
        /// True for g1 (scipy), false for G1 (pandas).
        bias: bool,
    },
    /// Excess kurtosis (biased g2 or adjusted G2).
    Kurt {
        /// True for g2 (scipy), false for G2 (pandas).
        bias: bool,
    },
}

/// Moments of the last `window` observations. Non-finite observations occupy their slot but
/// are not used; a statistic needs at least `min_periods` finite values in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollingMoments {
    ring: Ring,
    sums: SlidingSums,
    min_periods: usize,
}

impl RollingMoments {
    /// A window of `window` observations; `min_periods` defaults to `window`.
    pub fn new(window: usize, min_periods: Option<usize>) -> Result<Self> {
        let min_periods = resolve_min_periods(window, min_periods)?;
        Ok(RollingMoments {
            ring: Ring::new(window),
            sums: SlidingSums::new(window),
            min_periods,
        })
    }

    /// Window length.
    pub fn window(&self) -> usize {
        self.ring.capacity()
    }

    /// Minimum number of finite values for a statistic.
    pub fn min_periods(&self) -> usize {
        self.min_periods
    }

    /// Adds one observation.
    #[inline]
    pub fn update(&mut self, x: f64) {
        match self.ring.push(x) {
            None => self.sums.push::<4>(x),
            Some(out) => {
                if self.sums.slide::<4>(x, out) {
                    self.sums.recompute::<4, _>(self.ring.iter());
                }
            }
        }
    }

    /// Adds every value of `xs`.
    pub fn update_slice(&mut self, xs: &[f64]) {
        for &x in xs {
            self.update(x);
        }
    }

    /// Finite values currently in the window.
    pub fn count(&self) -> usize {
        self.sums.valid()
    }

    fn ready(&self) -> bool {
        self.sums.valid() >= self.min_periods
    }

    /// Mean of the window.
    pub fn mean(&self) -> Option<f64> {
        self.ready().then(|| self.sums.mean(self.ring.len()))
    }

    /// Variance with divisor `n - ddof`.
    pub fn variance(&self, ddof: u32) -> Option<f64> {
        let n = self.sums.valid();
        if !self.ready() || n <= ddof as usize {
            return None;
        }
        Some(self.sums.m2(self.ring.len()) * self.sums.inv_dof(ddof))
    }

    /// Standard deviation with divisor `n - ddof`.
    pub fn std(&self, ddof: u32) -> Option<f64> {
        self.variance(ddof).map(f64::sqrt)
    }

    /// Skewness of the window (see [`crate::stats::Moments::skewness`]).
    pub fn skewness(&self, bias: bool) -> Option<f64> {
        if !self.ready() {
            return None;
        }
        let c = self.sums.central(self.ring.len());
        skewness_from(c.n, c.m2, c.m3, bias)
    }

    /// Excess kurtosis of the window (see [`crate::stats::Moments::kurtosis`]).
    pub fn kurtosis(&self, bias: bool) -> Option<f64> {
        if !self.ready() {
            return None;
        }
        let c = self.sums.central(self.ring.len());
        kurtosis_from(c.n, c.m2, c.m4, bias)
    }
}

/// Writes the rolling statistic `kind` of `xs` into `out` (NaN where not enough data).
/// Results are bit-identical to feeding [`RollingMoments`] one value at a time.
pub fn rolling_moments_batch(
    xs: &[f64],
    window: usize,
    min_periods: Option<usize>,
    kind: MomentKind,
    out: &mut [f64],
) -> Result<()> {
    let min_periods = resolve_min_periods(window, min_periods)?;
    crate::error::check_same_len("input and output", xs.len(), out.len())?;
    match kind {
        MomentKind::Mean => run::<2>(xs, window, min_periods, out, |s, n_obs| s.mean(n_obs)),
        MomentKind::Var { ddof } => run::<2>(xs, window, min_periods, out, |s, n_obs| {
            var_of(s, n_obs, ddof)
        }),
        MomentKind::Std { ddof } => run::<2>(xs, window, min_periods, out, |s, n_obs| {
            var_of(s, n_obs, ddof).sqrt()
        }),
        MomentKind::Skew { bias } => {
            let mut coef = CountCache::new(SkewCoef::new);
            run::<3>(xs, window, min_periods, out, |s, n_obs| {
                let c = s.central(n_obs);
                coef.get(s.valid())
                    .skewness(c.m2, c.m3, bias)
                    .unwrap_or(f64::NAN)
            })
        }
        MomentKind::Kurt { bias } => {
            let mut coef = CountCache::new(KurtCoef::new);
            run::<4>(xs, window, min_periods, out, |s, n_obs| {
                let c = s.central(n_obs);
                coef.get(s.valid())
                    .kurtosis(c.m2, c.m4, bias)
                    .unwrap_or(f64::NAN)
            })
        }
    }
    Ok(())
}

#[inline(always)]
fn var_of(s: &SlidingSums, n_obs: usize, ddof: u32) -> f64 {
    let n = s.valid();
    if n <= ddof as usize {
        return f64::NAN;
    }
    s.m2(n_obs) * s.inv_dof(ddof)
}

/// Count-dependent factors of an estimator, rebuilt only when the count of finite values
/// changes. The factors are a pure function of the count, so the cached ones are the bits the
/// streaming object computes on the spot.
struct CountCache<T, F: Fn(f64) -> T> {
    count: usize,
    value: T,
    make: F,
}

impl<T: Copy, F: Fn(f64) -> T> CountCache<T, F> {
    fn new(make: F) -> Self {
        CountCache {
            count: 0,
            value: make(0.0),
            make,
        }
    }

    #[inline(always)]
    fn get(&mut self, count: usize) -> T {
        if count != self.count {
            self.count = count;
            self.value = (self.make)(count as f64);
        }
        self.value
    }
}

/// The shared batch loop: fill, then slide reading the leaving value straight from `xs`.
#[inline(always)]
fn run<const P: usize>(
    xs: &[f64],
    window: usize,
    min_periods: usize,
    out: &mut [f64],
    mut stat: impl FnMut(&SlidingSums, usize) -> f64,
) {
    let mut s = SlidingSums::new(window);
    let fill = window.min(xs.len());
    for i in 0..fill {
        s.push::<P>(xs[i]);
        out[i] = if s.valid() >= min_periods {
            stat(&s, i + 1)
        } else {
            f64::NAN
        };
    }
    if xs.len() <= window {
        return;
    }
    // Blocks of slides. A block is clean when its entering and leaving values are all finite
    // and every entering value differs from the one before it (the first from the last one
    // tracked). In a clean block `slide` would take its finite branch at every step and leave
    // the run at 1 (shorter than the window, so no output sees a constant window), so the
    // loop below runs that branch's sums update with the run set to 1 and the newest value
    // recorded at the end. Windows of 1 (where a run of 1 is the whole window) and all other
    // blocks run the general `slide`. The entering values are checked by branch-free passes;
    // the leaving ones entered earlier, so it is enough to remember the last missing one.
    const BLOCK: usize = 64;
    let mut last_bad = (0..window).rev().find(|&i| !xs[i].is_finite());
    let n = xs.len();
    let mut lo = 0;
    while lo + window < n {
        let len = BLOCK.min(n - window - lo);
        let (xi, xo) = (&xs[lo + window..lo + window + len], &xs[lo..lo + len]);
        let block = &mut out[lo + window..lo + window + len];
        if window > 1 && last_bad.is_none_or(|b| b < lo) && clean_entering(xi, s.last()) {
            s.set_fresh_run(xi[0]);
            for (k, (o, (&x, &x_out))) in block.iter_mut().zip(xi.iter().zip(xo)).enumerate() {
                s.replace_finite::<P>(x, x_out);
                if s.tick() {
                    let start = lo + k + 1;
                    s.recompute::<P, _>(xs[start..start + window].iter().copied());
                }
                *o = if s.valid() >= min_periods {
                    stat(&s, window)
                } else {
                    f64::NAN
                };
            }
            s.set_fresh_run(xi[len - 1]);
        } else {
            for (k, (o, (&x, &x_out))) in block.iter_mut().zip(xi.iter().zip(xo)).enumerate() {
                if s.slide::<P>(x, x_out) {
                    let start = lo + k + 1;
                    s.recompute::<P, _>(xs[start..start + window].iter().copied());
                }
                *o = if s.valid() >= min_periods {
                    stat(&s, window)
                } else {
                    f64::NAN
                };
                if !x.is_finite() {
                    last_bad = Some(lo + window + k);
                }
            }
        }
        lo += len;
    }
}

/// True when the values `xs` are all finite and each differs from its predecessor (the
/// first from `last`). Branch-free: the finiteness terms (see [`zero_if_finite`]) are summed
/// in four independent lanes and the comparisons or-reduced.
#[inline(always)]
fn clean_entering(xs: &[f64], last: f64) -> bool {
    let Some(&x0) = xs.first() else {
        return true;
    };
    let mut zero = [0.0; 4];
    let chunks = xs.chunks_exact(4);
    for &x in chunks.remainder() {
        zero[0] += zero_if_finite(x);
    }
    for x4 in chunks {
        for k in 0..4 {
            zero[k] += zero_if_finite(x4[k]);
        }
    }
    let mut repeat = x0 == last;
    for (&x, &prev) in xs[1..].iter().zip(xs) {
        repeat |= x == prev;
    }
    ((zero[0] + zero[1]) + (zero[2] + zero[3]) == 0.0) & !repeat
}

impl Validate for RollingMoments {
    fn validate(&self) -> Result<()> {
        self.ring.validate()?;
        if self.min_periods == 0 || self.min_periods > self.ring.capacity() {
            return Err(invalid("min_periods"));
        }
        if self.sums.valid() > self.ring.len() {
            return Err(invalid("count exceeds window"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_window(xs: &[f64]) -> (f64, f64) {
        let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    #[test]
    fn streaming_equals_batch_bitwise() {
        let xs: Vec<f64> = (0..5000)
            .map(|i| {
                if i % 97 == 0 {
                    f64::NAN
                } else {
                    ((i * 7919) % 1013) as f64 * 0.01 + 1e6
                }
            })
            .collect();
        for kind in [
            MomentKind::Mean,
            MomentKind::Var { ddof: 1 },
            MomentKind::Std { ddof: 0 },
            MomentKind::Skew { bias: true },
            MomentKind::Kurt { bias: false },
        ] {
            let mut out = vec![0.0; xs.len()];
            rolling_moments_batch(&xs, 37, Some(20), kind, &mut out).unwrap();
            let mut r = RollingMoments::new(37, Some(20)).unwrap();
            for (i, &x) in xs.iter().enumerate() {
                r.update(x);
                let v = match kind {
                    MomentKind::Mean => r.mean(),
                    MomentKind::Var { ddof } => r.variance(ddof),
                    MomentKind::Std { ddof } => r.std(ddof),
                    MomentKind::Skew { bias } => r.skewness(bias),
                    MomentKind::Kurt { bias } => r.kurtosis(bias),
                }
                .unwrap_or(f64::NAN);
                assert!(
                    v.to_bits() == out[i].to_bits() || (v.is_nan() && out[i].is_nan()),
                    "{kind:?} step {i}: {v} vs {}",
                    out[i]
                );
            }
        }
    }

    /// The batch loop's clean and general blocks against the streaming object, with runs of
    /// equal values (constant windows), ±inf, signed zeros and a level jump.
    #[test]
    fn batch_blocks_equal_streaming_bitwise() {
        let xs: Vec<f64> = (0..3000)
            .map(|i| match i {
                400..=520 => 7.25,
                900..=905 => -0.0,
                1500..=1999 => 1e9 + ((i * 31) % 17) as f64 * 1e-3,
                _ if i % 211 == 0 => f64::NEG_INFINITY,
                _ if i % 173 == 0 => f64::NAN,
                _ => ((i * 7919) % 1013) as f64 * 0.01,
            })
            .collect();
        for (window, mp) in [
            (1, None),
            (2, None),
            (3, Some(2)),
            (50, None),
            (70, Some(5)),
        ] {
            for kind in [
                MomentKind::Mean,
                MomentKind::Std { ddof: 1 },
                MomentKind::Skew { bias: false },
                MomentKind::Kurt { bias: false },
            ] {
                let mut out = vec![0.0; xs.len()];
                rolling_moments_batch(&xs, window, mp, kind, &mut out).unwrap();
                let mut r = RollingMoments::new(window, mp).unwrap();
                for (i, &x) in xs.iter().enumerate() {
                    r.update(x);
                    let v = match kind {
                        MomentKind::Mean => r.mean(),
                        MomentKind::Std { ddof } => r.std(ddof),
                        MomentKind::Skew { bias } => r.skewness(bias),
                        MomentKind::Kurt { bias } => r.kurtosis(bias),
                        MomentKind::Var { ddof } => r.variance(ddof),
                    }
                    .unwrap_or(f64::NAN);
                    assert!(
                        v.to_bits() == out[i].to_bits() || (v.is_nan() && out[i].is_nan()),
                        "{kind:?} window {window} step {i}: {v} vs {}",
                        out[i]
                    );
                }
            }
        }
    }

    #[test]
    fn matches_naive_windows() {
        let xs: Vec<f64> = (0..3000).map(|i| ((i * 31) % 101) as f64 - 50.0).collect();
        let mut r = RollingMoments::new(50, None).unwrap();
        for (i, &x) in xs.iter().enumerate() {
            r.update(x);
            if i >= 49 {
                let (m, v) = naive_window(&xs[i - 49..=i]);
                assert!((r.mean().unwrap() - m).abs() < 1e-10);
                assert!((r.variance(1).unwrap() - v).abs() < 1e-8 * v.max(1.0));
            } else {
                assert_eq!(r.mean(), None);
            }
        }
    }

    #[test]
    fn constant_window_is_exact_after_noise() {
        let mut r = RollingMoments::new(10, None).unwrap();
        for i in 0..100 {
            r.update(i as f64 * 0.1 + 1e9);
        }
        for _ in 0..10 {
            r.update(0.3);
        }
        assert_eq!(r.variance(1), Some(0.0));
        assert_eq!(r.mean(), Some(0.3));
        assert_eq!(r.skewness(true), None);
    }

    #[test]
    fn nan_window_needs_min_periods() {
        let mut r = RollingMoments::new(3, Some(2)).unwrap();
        r.update(1.0);
        assert_eq!(r.mean(), None);
        r.update(f64::NAN);
        assert_eq!(r.mean(), None);
        r.update(3.0);
        assert_eq!(r.mean(), Some(2.0));
        r.update(f64::INFINITY);
        assert_eq!(r.mean(), None);
        assert!(RollingMoments::new(0, None).is_err());
        assert!(RollingMoments::new(3, Some(4)).is_err());
    }
}
