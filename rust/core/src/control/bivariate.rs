//! Streaming covariance and correlation of pairs (Welford's co-moment update).

use serde::{Deserialize, Serialize};

/// Running means and co-moments of (x, y) pairs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bivariate {
    n: u64,
    mx: f64,
    my: f64,
    cxx: f64,
    cyy: f64,
    cxy: f64,
}

impl Bivariate {
    /// Adds one pair.
    #[inline]
    pub fn update(&mut self, x: f64, y: f64) {
        self.n += 1;
        let n = self.n as f64;
        let dx = x - self.mx;
        let dy = y - self.my;
        self.mx += dx / n;
        self.my += dy / n;
        let dy2 = y - self.my;
        self.cxx += dx * (x - self.mx);
        self.cyy += dy * dy2;
        self.cxy += dx * dy2;
    }

    /// Pairs seen.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Population covariance; `None` before any pair.
    pub fn covariance(&self) -> Option<f64> {
        (self.n > 0).then(|| self.cxy / self.n as f64)
    }

    /// Pearson correlation; `None` with fewer than 3 pairs or a constant coordinate.
    pub fn correlation(&self) -> Option<f64> {
        if self.n < 3 || self.cxx <= 0.0 || self.cyy <= 0.0 {
            return None;
        }
        Some((self.cxy / (self.cxx * self.cyy).sqrt()).clamp(-1.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_signs() {
        let mut b = Bivariate::default();
        for i in 0..10 {
            b.update(f64::from(i), -2.0 * f64::from(i) + 1.0);
        }
        assert!((b.correlation().unwrap() + 1.0).abs() < 1e-12);
        let mut c = Bivariate::default();
        for i in 0..10 {
            c.update(f64::from(i), 3.0);
        }
        assert_eq!(c.correlation(), None);
    }
}
