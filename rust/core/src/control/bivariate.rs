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

/// Pearson correlation of the pairs `(xs[i], ys[i])`: what [`Bivariate::correlation`] gives
/// after feeding them in order, up to rounding, with no division per pair (two passes over
/// the slices instead of Welford's update; each sum is split over two accumulators, so the
/// additions do not all wait on one another).
///
/// Both coordinates are measured from their first value before centring, so a constant
/// coordinate has a spread of exactly zero (and gives `None`), as in Welford's update; any
/// other has a positive one.
pub fn correlation(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n < 3 {
        return None;
    }
    let (xs, ys) = (&xs[..n], &ys[..n]);
    let (x0, y0) = (xs[0], ys[0]);
    let [sx, sy] = sums(xs, ys, |x, y| [x - x0, y - y0]);
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let [cxx, cyy, cxy] = centred_sums(xs, ys, (x0, mx), (y0, my));
    pearson(cxx, cyy, cxy)
}

/// Σ dx², Σ dy², Σ dx·dy with dx = (x − x0) − mx and dy = (y − y0) − my: the second pass of
/// [`correlation`], for callers that have the means.
#[inline]
pub(crate) fn centred_sums(
    xs: &[f64],
    ys: &[f64],
    (x0, mx): (f64, f64),
    (y0, my): (f64, f64),
) -> [f64; 3] {
    sums(xs, ys, |x, y| {
        let (dx, dy) = ((x - x0) - mx, (y - y0) - my);
        [dx * dx, dy * dy, dx * dy]
    })
}

/// The correlation from the centred sums; `None` when either spread is zero.
#[inline]
pub(crate) fn pearson(cxx: f64, cyy: f64, cxy: f64) -> Option<f64> {
    if cxx <= 0.0 || cyy <= 0.0 {
        return None;
    }
    Some((cxy / (cxx * cyy).sqrt()).clamp(-1.0, 1.0))
}

/// Sums of `K` terms of each pair, each over two interleaved accumulators (enough to
/// overlap the additions while every accumulator stays in a register).
#[inline(always)]
fn sums<const K: usize>(xs: &[f64], ys: &[f64], term: impl Fn(f64, f64) -> [f64; K]) -> [f64; K] {
    let mut even = [0.0; K];
    let mut odd = [0.0; K];
    let (xc, yc) = (xs.chunks_exact(2), ys.chunks_exact(2));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (x2, y2) in xc.zip(yc) {
        let (t0, t1) = (term(x2[0], y2[0]), term(x2[1], y2[1]));
        for k in 0..K {
            even[k] += t0[k];
            odd[k] += t1[k];
        }
    }
    if let (Some(&x), Some(&y)) = (xr.first(), yr.first()) {
        let t = term(x, y);
        for k in 0..K {
            even[k] += t[k];
        }
    }
    std::array::from_fn(|k| even[k] + odd[k])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn welford(xs: &[f64], ys: &[f64]) -> Option<f64> {
        let mut b = Bivariate::default();
        for (&x, &y) in xs.iter().zip(ys) {
            b.update(x, y);
        }
        b.correlation()
    }

    proptest! {
        /// The two-pass correlation agrees with Welford's, including on constant
        /// coordinates, coarse grids (ties) and values away from 0 (not so far that
        /// Welford's running mean itself loses the digits).
        #[test]
        fn two_pass_matches_welford(
            pairs in prop::collection::vec((0u8..5, 0u8..5, -1e3f64..1e3, -1e3f64..1e3), 0..40),
            offset in prop::sample::select(vec![0.0, 100.0, -0.1]),
            const_x in any::<bool>(),
        ) {
            let xs: Vec<f64> = pairs
                .iter()
                .map(|p| if const_x { offset } else { offset + f64::from(p.0) * 0.01 + p.2 * 1e-6 })
                .collect();
            let ys: Vec<f64> = pairs.iter().map(|p| f64::from(p.1) + p.3).collect();
            match (correlation(&xs, &ys), welford(&xs, &ys)) {
                (None, None) => {}
                (Some(a), Some(b)) => prop_assert!((a - b).abs() <= 1e-9, "{} vs {}", a, b),
                (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
            }
        }
    }

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
