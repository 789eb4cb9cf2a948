//! Exponentially weighted mean and variance (recursive form, pandas `adjust=False`).
//!
//! With one internal `alpha`: `m_t = m_{t-1} + alpha·(x_t - m_{t-1})` and
//! `v_t = (1 - alpha)·(v_{t-1} + alpha·(x_t - m_{t-1})²)`, started at `m_0 = x_0`, `v_0 = 0`.
//! This is the biased EW variance (pandas `ewm(adjust=False).var(bias=True)`). Non-finite
//! inputs are skipped and counted (pandas `ignore_na=True`). Not mergeable: EW weights depend
//! on order.

use crate::state::{invalid, Validate};
use serde::{Deserialize, Serialize};

use crate::error::{check_same_len, CoreError, Result};

/// The ways users specify the decay; all resolve to one `alpha` in (0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EwSpec {
    /// Smoothing factor, 0 < alpha ≤ 1.
    Alpha(f64),
    /// Span s ≥ 1: alpha = 2 / (s + 1).
    Span(f64),
    /// Half-life h > 0 in observations: alpha = 1 - exp(-ln 2 / h).
    HalfLife(f64),
    /// Centre of mass c ≥ 0: alpha = 1 / (1 + c).
    Com(f64),
}

impl EwSpec {
    /// The smoothing factor, validated.
    pub fn alpha(self) -> Result<f64> {
        let (alpha, ok, name, rule) = match self {
            EwSpec::Alpha(a) => (a, a > 0.0 && a <= 1.0, "alpha", "0 < alpha <= 1"),
            EwSpec::Span(s) => (2.0 / (s + 1.0), s >= 1.0, "span", "span >= 1"),
            EwSpec::HalfLife(h) => (
                1.0 - (-std::f64::consts::LN_2 / h).exp(),
                h > 0.0,
                "halflife",
                "halflife > 0",
            ),
            EwSpec::Com(c) => (1.0 / (1.0 + c), c >= 0.0, "com", "com >= 0"),
        };
        let value = match self {
            EwSpec::Alpha(v) | EwSpec::Span(v) | EwSpec::HalfLife(v) | EwSpec::Com(v) => v,
        };
        if ok && alpha.is_finite() && alpha > 0.0 {
            Ok(alpha)
        } else {
            Err(CoreError::param(
                name,
                format!("must satisfy {rule}, got {value}"),
            ))
        }
    }
}

/// Exponentially weighted mean and variance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EwMoments {
    alpha: f64,
    n: u64,
    mean: f64,
    var: f64,
    nonfinite: u64,
}

impl EwMoments {
    /// An empty estimator with the given decay.
    pub fn new(spec: EwSpec) -> Result<Self> {
        Ok(EwMoments {
            alpha: spec.alpha()?,
            n: 0,
            mean: 0.0,
            var: 0.0,
            nonfinite: 0,
        })
    }

    /// The smoothing factor.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Adds one value; non-finite values are counted and skipped.
    #[inline]
    pub fn update(&mut self, x: f64) {
        if !x.is_finite() {
            self.nonfinite += 1;
            return;
        }
        if self.n == 0 {
            self.mean = x;
            self.var = 0.0;
        } else {
            let d = x - self.mean;
            self.mean += self.alpha * d;
            self.var = (1.0 - self.alpha) * (self.var + self.alpha * d * d);
        }
        self.n += 1;
    }

    /// Adds every value of `xs`.
    pub fn update_slice(&mut self, xs: &[f64]) {
        for &x in xs {
            self.update(x);
        }
    }

    /// Finite values seen.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Non-finite values seen (and skipped).
    pub fn nonfinite(&self) -> u64 {
        self.nonfinite
    }

    /// EW mean; `None` before the first finite value.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// EW (biased) variance; `None` before the first finite value.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 0).then_some(self.var)
    }

    /// EW standard deviation.
    pub fn std(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }
}

/// Writes the EW mean (`var = false`) or variance (`var = true`) after each value of `xs`.
pub fn ewm_batch(xs: &[f64], spec: EwSpec, var: bool, out: &mut [f64]) -> Result<()> {
    check_same_len("input and output", xs.len(), out.len())?;
    let mut e = EwMoments::new(spec)?;
    for (o, &x) in out.iter_mut().zip(xs) {
        e.update(x);
        *o = if var { e.variance() } else { e.mean() }.unwrap_or(f64::NAN);
    }
    Ok(())
}

impl Validate for EwMoments {
    fn validate(&self) -> Result<()> {
        if !(self.alpha > 0.0 && self.alpha <= 1.0) || self.var < 0.0 {
            return Err(invalid("alpha or variance"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_specs() {
        assert_eq!(EwSpec::Span(3.0).alpha().unwrap(), 0.5);
        assert_eq!(EwSpec::Com(1.0).alpha().unwrap(), 0.5);
        assert!((EwSpec::HalfLife(1.0).alpha().unwrap() - 0.5).abs() < 1e-15);
        assert!(EwSpec::Alpha(0.0).alpha().is_err());
        assert!(EwSpec::Alpha(f64::NAN).alpha().is_err());
        assert!(EwSpec::Span(0.5).alpha().is_err());
        assert!(EwSpec::HalfLife(-1.0).alpha().is_err());
    }

    #[test]
    fn weights_match_definition() {
        let mut e = EwMoments::new(EwSpec::Alpha(0.5)).unwrap();
        e.update_slice(&[1.0, f64::NAN, 3.0]);
        assert_eq!(e.mean(), Some(2.0));
        // weights 0.5, 0.5 around mean 2: biased variance 1.
        assert_eq!(e.variance(), Some(1.0));
        assert_eq!(e.nonfinite(), 1);
    }
}
