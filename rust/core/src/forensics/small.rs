//! Statistics of short windows (5 to 30 values) recomputed per step. At these sizes a fresh
//! two-pass computation costs tens of nanoseconds and is exact, so the trackers use it
//! where RLDK's rules are defined on tiny windows, and the streaming estimators elsewhere.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::state::{invalid, Validate};
use crate::stats::{interpolate_sorted, Ring};

/// The last `capacity` values, readable as one contiguous slice without copying: each value
/// is written twice, at `i` and `i + capacity`, so the newest `k` always sit side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tail {
    buf: Vec<f64>,
    head: usize,
    len: usize,
}

impl Tail {
    /// An empty tail of `capacity` (at least 1) values.
    pub fn new(capacity: usize) -> Self {
        Tail {
            buf: vec![0.0; 2 * capacity.max(1)],
            head: 0,
            len: 0,
        }
    }

    fn capacity(&self) -> usize {
        self.buf.len() / 2
    }

    /// Appends `x`, dropping the oldest value when full.
    pub fn push(&mut self, x: f64) {
        let cap = self.capacity();
        self.buf[self.head] = x;
        self.buf[self.head + cap] = x;
        self.head = if self.head + 1 == cap {
            0
        } else {
            self.head + 1
        };
        self.len = (self.len + 1).min(cap);
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first push.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The newest `min(k, len)` values, oldest first.
    pub fn last(&self, k: usize) -> &[f64] {
        let end = self.head + self.capacity();
        &self.buf[end - k.min(self.len)..end]
    }
}

impl Validate for Tail {
    fn validate(&self) -> Result<()> {
        let cap = self.capacity();
        if cap == 0 || self.buf.len() % 2 != 0 || self.head >= cap || self.len > cap {
            return Err(invalid("tail buffer"));
        }
        Ok(())
    }
}

/// The newest `k` values of `ring` (all of them if it holds fewer), oldest first.
pub fn last(ring: &Ring, k: usize) -> Vec<f64> {
    let n = ring.len();
    ring.iter().skip(n.saturating_sub(k)).collect()
}

/// Arithmetic mean; `None` when empty.
pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// The value `iter.sum::<f64>()` starts from (−0.0 or 0.0 depending on the standard
/// library): the hand-fused sums below start there too, so that they keep the bits of
/// [`mean`] even for a window of negative zeros.
#[inline]
pub(crate) fn sum_start() -> f64 {
    std::iter::empty::<f64>().sum()
}

/// Variance with `ddof`; `None` when there are not more than `ddof` values.
pub fn variance(xs: &[f64], ddof: usize) -> Option<f64> {
    let m = mean(xs)?;
    variance_about(xs, m, ddof)
}

/// [`variance`] given `m = mean(xs)`, for callers that need the mean too: the same bits
/// without summing the window twice.
pub fn variance_about(xs: &[f64], m: f64, ddof: usize) -> Option<f64> {
    if xs.is_empty() || xs.len() <= ddof {
        return None;
    }
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    Some(ss / (xs.len() - ddof) as f64)
}

/// Standard deviation with `ddof`.
pub fn std(xs: &[f64], ddof: usize) -> Option<f64> {
    variance(xs, ddof).map(f64::sqrt)
}

/// Least-squares slope of `ys` against `xs` and its R² (`None` for constant `ys`); `None`
/// with fewer than 2 points or constant `xs`.
pub fn slope(xs: &[f64], ys: &[f64]) -> Option<(f64, Option<f64>)> {
    if xs.len() < 2 || xs.len() != ys.len() {
        return None;
    }
    let (mx, my) = (mean(xs)?, mean(ys)?);
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 {
        return None;
    }
    let r2 = (syy > 0.0).then(|| (sxy * sxy / (sxx * syy)).clamp(0.0, 1.0));
    Some((sxy / sxx, r2))
}

/// Least-squares slopes (with R², as [`slope`]) of several series against the same `xs`,
/// bit for bit what `slope(xs, ys[j])` gives each. The per-series sums run interleaved in one
/// pass, so their add latencies overlap and `xs` is summed once instead of once per series.
pub fn slopes<const N: usize>(xs: &[f64], ys: [&[f64]; N]) -> [Option<(f64, Option<f64>)>; N] {
    let n = xs.len();
    if n < 2 || ys.iter().any(|y| y.len() != n) {
        return ys.map(|y| slope(xs, y));
    }
    // Re-sliced to `n` so that the compiler drops the bounds checks in the loops.
    let (xs, ys) = (&xs[..n], ys.map(|y| &y[..n]));
    let (mut sx, mut sy) = (sum_start(), [sum_start(); N]);
    for i in 0..n {
        sx += xs[i];
        for j in 0..N {
            sy[j] += ys[j][i];
        }
    }
    let mx = sx / n as f64;
    let my = sy.map(|s| s / n as f64);
    let (mut sxx, mut sxy, mut syy) = (0.0, [0.0; N], [0.0; N]);
    for i in 0..n {
        let dx = xs[i] - mx;
        sxx += dx * dx;
        for j in 0..N {
            let dy = ys[j][i] - my[j];
            sxy[j] += dx * dy;
            syy[j] += dy * dy;
        }
    }
    std::array::from_fn(|j| {
        if sxx <= 0.0 {
            return None;
        }
        let r2 = (syy[j] > 0.0).then(|| (sxy[j] * sxy[j] / (sxx * syy[j])).clamp(0.0, 1.0));
        Some((sxy[j] / sxx, r2))
    })
}

/// Slope of `ys` against their index 0..n−1: [`slope`]'s arithmetic with the indices made on
/// the fly instead of collected.
pub fn index_slope(ys: &[f64]) -> Option<f64> {
    let n = ys.len();
    if n < 2 {
        return None;
    }
    let x = |i: usize| i as f64;
    let mx = (0..n).map(x).sum::<f64>() / n as f64;
    let my = mean(ys)?;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let (dx, dy) = (x(i) - mx, y - my);
        sxx += dx * dx;
        sxy += dx * dy;
    }
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Linear-interpolated percentile `p` (0..=100) of unsorted values.
pub fn percentile(xs: &[f64], p: f64) -> Option<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    interpolate_sorted(&v, p / 100.0)
}

/// Median of unsorted values.
pub fn median(xs: &[f64]) -> Option<f64> {
    percentile(xs, 50.0)
}

/// The newest `k` values of a [`Tail`] kept sorted as the tail moves: one shifted move per
/// push instead of a copy and a sort per read. Percentiles read from it equal
/// [`percentile`]'s bit for bit, except that a zero may come out with the other sign (values
/// are ordered by `<`, under which −0.0 and 0.0 tie). The values must not be NaN.
///
/// It is derived state: it follows its tail through [`SortedTail::push`] and rebuilds itself
/// from the tail whenever their lengths disagree (a fresh or deserialized cache is empty).
#[derive(Debug, Clone, Default)]
pub struct SortedTail {
    k: usize,
    sorted: Vec<f64>,
}

impl SortedTail {
    fn in_step(&self, tail: &Tail, k: usize) -> bool {
        self.k == k && self.sorted.len() == tail.len().min(k)
    }

    fn rebuild(&mut self, tail: &Tail, k: usize) {
        self.k = k;
        self.sorted.clear();
        self.sorted.extend_from_slice(tail.last(k));
        self.sorted.sort_by(f64::total_cmp);
    }

    /// Pushes `x` (not NaN) onto `tail` and into the sorted newest `k`.
    pub fn push(&mut self, tail: &mut Tail, k: usize, x: f64) {
        debug_assert!(!x.is_nan(), "SortedTail holds no NaN");
        if !self.in_step(tail, k) {
            self.rebuild(tail, k);
        }
        let leaving = (tail.len() >= k).then(|| tail.last(k)[0]);
        tail.push(x);
        let s = &mut self.sorted;
        let Some(old) = leaving else {
            let at = s.partition_point(|&v| v < x);
            s.insert(at, x);
            return;
        };
        // `x` replaces the leaving value. Positions are counted, not searched: branch-free
        // compares that vectorise, so nothing is mispredicted in these short windows.
        let below = |x: f64| s.iter().map(|&v| usize::from(v < x)).sum::<usize>();
        let i = below(old);
        if s.get(i) != Some(&old) {
            // Unreachable while in step; rebuilding is always right.
            return self.rebuild(tail, k);
        }
        // x's place once the leaving value is gone.
        let j = below(x) - usize::from(old < x);
        // Only the values between the two slots move, by one; written as a select over the
        // window so that it compiles to vector blends, not a call to `memmove`.
        if i < j {
            for t in 0..s.len() - 1 {
                s[t] = if t >= i && t < j { s[t + 1] } else { s[t] };
            }
        } else {
            for t in (1..s.len()).rev() {
                s[t] = if t > j && t <= i { s[t - 1] } else { s[t] };
            }
        }
        s[j] = x;
    }

    /// The newest `min(k, len)` values of `tail` in ascending order (all of them before the
    /// tail holds `k`); `tail` must be the one this follows.
    pub fn sorted_so_far(&mut self, tail: &Tail, k: usize) -> &[f64] {
        if !self.in_step(tail, k) {
            self.rebuild(tail, k);
        }
        &self.sorted
    }

    /// The newest `k` values of `tail` in ascending order, once it holds `k`; `tail` must be
    /// the one this follows.
    pub fn sorted(&mut self, tail: &Tail, k: usize) -> Option<&[f64]> {
        if tail.len() < k {
            return None;
        }
        if !self.in_step(tail, k) {
            self.rebuild(tail, k);
        }
        Some(&self.sorted)
    }
}

/// [`percentile`] of values already sorted by `f64::total_cmp`.
pub fn sorted_percentile(sorted: &[f64], p: f64) -> Option<f64> {
    interpolate_sorted(sorted, p / 100.0)
}

/// Weighted mean of the parts that have a value, clamped to [0, 1]; `None` when none has.
/// Scores built this way never count a part without data as perfect.
pub fn weighted_score(parts: &[(f64, Option<f64>)]) -> Option<f64> {
    let (mut w, mut s) = (0.0, 0.0);
    for &(weight, v) in parts {
        if let Some(v) = v {
            w += weight;
            s += weight * v;
        }
    }
    (w > 0.0).then(|| (s / w).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_slices_are_the_newest_values() {
        let mut t = Tail::new(3);
        assert!(t.is_empty() && t.last(2).is_empty());
        for x in 1..=5 {
            t.push(f64::from(x));
        }
        assert_eq!(t.last(3), &[3.0, 4.0, 5.0]);
        assert_eq!(t.last(2), &[4.0, 5.0]);
        assert_eq!(t.last(9), &[3.0, 4.0, 5.0]);
        assert_eq!(t.len(), 3);
        t.push(6.0);
        assert_eq!(t.last(3), &[4.0, 5.0, 6.0]);
    }

    #[test]
    fn small_window_statistics() {
        let xs = [1.0, 2.0, 4.0, 7.0];
        assert_eq!(mean(&xs), Some(3.5));
        assert!((variance(&xs, 1).unwrap() - 7.0).abs() < 1e-12);
        assert_eq!(variance(&[1.0], 1), None);
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 50.0), Some(2.0));
        assert_eq!(percentile(&xs, 25.0), Some(1.75));
        let (s, r2) = slope(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]).unwrap();
        assert!((s - 2.0).abs() < 1e-12 && (r2.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(slope(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(slope(&[0.0, 1.0], &[2.0, 2.0]).unwrap().1, None);
        assert_eq!(weighted_score(&[(0.5, None), (0.5, Some(0.4))]), Some(0.4));
        assert_eq!(weighted_score(&[(1.0, None)]), None);
    }

    use proptest::prelude::*;

    /// Values drawn from a few levels (ties, constant windows, both zeros) or anywhere.
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            prop::sample::select(vec![0.0, -0.0, 1.0, 2.5, 1e-300, 1e300]),
            -1e6..1e6f64,
        ]
    }

    fn same(a: Option<f64>, b: Option<f64>) -> bool {
        a.map(f64::to_bits) == b.map(f64::to_bits)
    }

    proptest! {
        #[test]
        fn fused_slopes_have_the_bits_of_slope(
            xs in prop::collection::vec(value(), 0..40),
            seed in prop::collection::vec(value(), 120),
            constant in any::<bool>(),
        ) {
            let n = xs.len();
            let xs: Vec<f64> = if constant { vec![3.0; n] } else { xs };
            let (a, b, c) = (&seed[..n], &seed[40..40 + n], vec![seed[80]; n]);
            let fused = slopes(&xs, [a, b, &c]);
            for (f, ys) in fused.iter().zip([a, b, &c[..]]) {
                let reference = slope(&xs, ys);
                prop_assert!(same(f.map(|f| f.0), reference.map(|r| r.0)));
                prop_assert!(same(f.and_then(|f| f.1), reference.and_then(|r| r.1)));
            }
        }

        #[test]
        fn index_slope_has_the_bits_of_slope(ys in prop::collection::vec(value(), 0..40)) {
            let xs: Vec<f64> = (0..ys.len()).map(|i| i as f64).collect();
            prop_assert!(same(index_slope(&ys), slope(&xs, &ys).map(|s| s.0)));
        }

        #[test]
        fn variance_about_the_mean_is_variance(
            xs in prop::collection::vec(value(), 0..40),
            ddof in 0usize..3,
        ) {
            let v = mean(&xs).and_then(|m| variance_about(&xs, m, ddof));
            prop_assert!(same(v, variance(&xs, ddof)));
        }

        #[test]
        fn sorted_tail_percentiles_are_percentile(
            xs in prop::collection::vec(value(), 1..120),
            cap in 1usize..30,
            k in 1usize..30,
            restart in 0usize..120,
        ) {
            let k = k.min(cap);
            let mut tail = Tail::new(cap);
            let mut sorted = SortedTail::default();
            for (i, &x) in xs.iter().enumerate() {
                if i == restart {
                    // A deserialized cache is empty: it must rebuild from the tail.
                    sorted = SortedTail::default();
                }
                sorted.push(&mut tail, k, x);
                let window = tail.last(k);
                let got = sorted.sorted(&tail, k);
                prop_assert_eq!(got.is_some(), window.len() == k);
                if let Some(got) = got {
                    let mut want = window.to_vec();
                    want.sort_by(f64::total_cmp);
                    // Equal as numbers (−0.0 and 0.0 may trade places) and in order.
                    prop_assert_eq!(got, &want[..]);
                    for p in [0.0, 25.0, 50.0, 75.0, 95.0, 100.0] {
                        let (a, b) = (sorted_percentile(got, p), percentile(window, p));
                        prop_assert!(a == b, "p{} {:?} {:?}", p, a, b);
                        if a != Some(0.0) {
                            prop_assert!(same(a, b));
                        }
                    }
                }
            }
        }
    }
}
