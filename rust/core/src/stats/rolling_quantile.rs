//! Exact rolling quantiles: a sorted copy of the window, updated by one shifted move per step.
//!
//! Replacing the leaving value by the entering one moves only the elements between their two
//! positions (O(window) worst case, a short `memmove` in practice). Positions are found by a
//! binary search in long windows and by branch-free counting in windows up to 256 (see
//! `positions`). For windows up to a few thousand this beats heap- and tree-based schemes.
//! The batch kernel runs the same updates; it counts the positions of the next step before
//! shifting (corrected for the shift) so that successive steps overlap.

use crate::state::{invalid, Validate};
use serde::{Deserialize, Serialize};

use super::sliding::both_finite;
use super::Ring;
use crate::error::{check_same_len, resolve_min_periods, CoreError, Result};

/// Checks that `q` lies in [0, 1].
pub fn check_quantile(q: f64) -> Result<()> {
    if (0.0..=1.0).contains(&q) {
        Ok(())
    } else {
        Err(CoreError::param(
            "q",
            format!("must lie in [0, 1], got {q}"),
        ))
    }
}

/// Linear-interpolated quantile of sorted values (NumPy's default "linear" method).
pub fn interpolate_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(Interp::new(n, q).apply(sorted))
}

/// Where the `q`-quantile of `n` sorted values lies: the lower index and the fraction of the
/// way to the next. It depends only on `n` and `q`, so the batch kernel builds it once per
/// count (a `floor` is a library call on baseline x86-64) and gets the bits
/// [`interpolate_sorted`] computes on the spot.
#[derive(Debug, Clone, Copy)]
struct Interp {
    lo: usize,
    /// True when the quantile is the last value (`lo + 1 >= n`).
    last: bool,
    frac: f64,
}

impl Interp {
    /// For `n >= 1` values.
    #[inline]
    fn new(n: usize, q: f64) -> Self {
        let h = (n - 1) as f64 * q;
        let lo = h.floor() as usize;
        if lo + 1 >= n {
            return Interp {
                lo: n - 1,
                last: true,
                frac: 0.0,
            };
        }
        Interp {
            lo,
            last: false,
            frac: h - lo as f64,
        }
    }

    /// The quantile of `sorted`, which holds the `n` values this was built for.
    #[inline(always)]
    fn apply(&self, sorted: &[f64]) -> f64 {
        if self.last {
            return sorted[self.lo];
        }
        let (a, b) = (sorted[self.lo], sorted[self.lo + 1]);
        if self.frac == 0.0 {
            a
        } else {
            a + self.frac * (b - a)
        }
    }
}

/// First index of ascending `sorted` holding a value ≥ `x`. Only finite values are stored, so
/// plain `<` is a total order here (−0.0 and 0.0 compare equal, which no quantile can tell
/// apart).
#[inline(always)]
fn position(sorted: &[f64], x: f64) -> usize {
    sorted.partition_point(|&v| v < x)
}

/// Positions of `a` and `b` (as [`position`]). Short windows count instead of searching:
/// first the blocks of 8 whose last element is below the value (all their elements are),
/// then the elements below it in the one block that may straddle it. The loops are
/// branch-free with trip counts fixed by the window length, so nothing is mispredicted, and
/// each value meets about n/8 + 8 comparisons instead of n.
#[inline(always)]
fn positions(sorted: &[f64], a: f64, b: f64) -> (usize, usize) {
    let n = sorted.len();
    if n > 256 {
        return (position(sorted, a), position(sorted, b));
    }
    let (mut ba, mut bb) = (0usize, 0usize);
    for &v in sorted.iter().skip(7).step_by(8) {
        ba += usize::from(v < a);
        bb += usize::from(v < b);
    }
    (
        ba * 8 + count_below(sorted, ba * 8, a),
        bb * 8 + count_below(sorted, bb * 8, b),
    )
}

/// Values below `x` among the (up to) 8 of `sorted` from `start`.
#[inline(always)]
fn count_below(sorted: &[f64], start: usize, x: f64) -> usize {
    let block = &sorted[start..(start + 8).min(sorted.len())];
    if let Ok(block) = <&[f64; 8]>::try_from(block) {
        block.iter().map(|&v| usize::from(v < x)).sum()
    } else {
        block.iter().map(|&v| usize::from(v < x)).sum()
    }
}

/// Replaces one occurrence of the finite value `out` in ascending `sorted` by the finite
/// value `x`, keeping the order: only the elements between the two positions move.
#[inline(always)]
fn replace_finite(sorted: &mut [f64], out: f64, x: f64) {
    let (i, j) = positions(sorted, out, x);
    move_into_place(sorted, i, j, x);
}

/// Removes the element at `i` and inserts `x` where `j` elements of the old array were below
/// it, by one shift of the elements in between.
#[inline(always)]
fn move_into_place(sorted: &mut [f64], i: usize, j: usize, x: f64) {
    // x goes after out (j > i): shift (i, j) left by one; else shift [j, i) right by one.
    let up = j <= i;
    let (src, dst, len, at) = if up {
        (j, j + 1, i - j, j)
    } else {
        (i + 1, i, j - i - 1, j - 1)
    };
    sorted.copy_within(src..src + len, dst);
    sorted[at] = x;
}

/// The window update shared by [`RollingQuantile::update`] and the batch kernel: removes the
/// leaving value and inserts the entering one, each when present (finite).
#[inline(always)]
fn replace(sorted: &mut Vec<f64>, out: Option<f64>, x_in: Option<f64>) {
    match (out, x_in) {
        (Some(o), Some(x)) => replace_finite(sorted, o, x),
        (Some(o), None) => {
            let i = position(sorted, o);
            sorted.remove(i);
        }
        (None, Some(x)) => {
            let j = position(sorted, x);
            sorted.insert(j, x);
        }
        (None, None) => {}
    }
}

/// Quantiles of the last `window` observations (non-finite ones are skipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollingQuantile {
    ring: Ring,
    sorted: Vec<f64>,
    min_periods: usize,
}

impl RollingQuantile {
    /// A window of `window` observations; `min_periods` defaults to `window`.
    pub fn new(window: usize, min_periods: Option<usize>) -> Result<Self> {
        let min_periods = resolve_min_periods(window, min_periods)?;
        Ok(RollingQuantile {
            ring: Ring::new(window),
            sorted: Vec::with_capacity(window.min(1 << 16)),
            min_periods,
        })
    }

    /// Window length.
    pub fn window(&self) -> usize {
        self.ring.capacity()
    }

    /// Minimum number of finite values for a result.
    pub fn min_periods(&self) -> usize {
        self.min_periods
    }

    /// Adds one observation.
    #[inline]
    pub fn update(&mut self, x: f64) {
        let out = self.ring.push(x).filter(|v| v.is_finite());
        let x_in = x.is_finite().then_some(x);
        replace(&mut self.sorted, out, x_in);
    }

    /// Adds every value of `xs`.
    pub fn update_slice(&mut self, xs: &[f64]) {
        for &x in xs {
            self.update(x);
        }
    }

    /// Finite values in the window.
    pub fn count(&self) -> usize {
        self.sorted.len()
    }

    /// The `q`-quantile of the window with linear interpolation (`None` if `q` is outside
    /// [0, 1] or there is not enough data).
    #[inline]
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if !(0.0..=1.0).contains(&q) || self.sorted.len() < self.min_periods {
            return None;
        }
        interpolate_sorted(&self.sorted, q)
    }

    /// The window's finite values in ascending order.
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }
}

/// Rolling `q`-quantile of `xs` into `out` (NaN where not enough data).
pub fn rolling_quantile_batch(
    xs: &[f64],
    window: usize,
    q: f64,
    min_periods: Option<usize>,
    out: &mut [f64],
) -> Result<()> {
    check_quantile(q)?;
    check_same_len("input and output", xs.len(), out.len())?;
    let min_periods = resolve_min_periods(window, min_periods)?;
    // The streaming update without the ring (the leaving value is read from `xs`), with the
    // interpolation point cached per count and the all-finite case tested once per step.
    let mut sorted = Vec::with_capacity(window.min(1 << 16));
    let mut interp: Option<(usize, Interp)> = None;
    let mut quantile = |sorted: &[f64]| {
        let n = sorted.len();
        if n < min_periods {
            return f64::NAN;
        }
        let ip = match interp {
            Some((count, ip)) if count == n => ip,
            _ => {
                let ip = Interp::new(n, q);
                interp = Some((n, ip));
                ip
            }
        };
        ip.apply(sorted)
    };
    let fill = window.min(xs.len());
    for (o, &x) in out[..fill].iter_mut().zip(xs) {
        replace(&mut sorted, None, x.is_finite().then_some(x));
        *o = quantile(&sorted);
    }
    let n = xs.len();
    // Positions for step t + 1 are counted on the array before step t's shift and corrected
    // by step t's change (its leaving value, equal to the element removed, and its entering
    // value each move a count by one): the same integers as counting after the shift, but
    // the counting no longer waits for the shift's stores, so consecutive steps overlap.
    let mut next: Option<(usize, usize)> = None;
    for t in window..n {
        let (x, x_out) = (xs[t], xs[t - window]);
        if both_finite(x, x_out) {
            let (i, j) = next.unwrap_or_else(|| positions(&sorted, x_out, x));
            next = None;
            if let Some((&nx, &no)) = xs.get(t + 1).zip(xs.get(t + 1 - window)) {
                if both_finite(nx, no) {
                    let (ci, cj) = positions(&sorted, no, nx);
                    next = Some((
                        ci + usize::from(x < no) - usize::from(x_out < no),
                        cj + usize::from(x < nx) - usize::from(x_out < nx),
                    ));
                }
            }
            move_into_place(&mut sorted, i, j, x);
        } else {
            next = None;
            let x_out = x_out.is_finite().then_some(x_out);
            replace(&mut sorted, x_out, x.is_finite().then_some(x));
        }
        out[t] = quantile(&sorted);
    }
    Ok(())
}

impl Validate for RollingQuantile {
    fn validate(&self) -> Result<()> {
        self.ring.validate()?;
        if self.min_periods == 0 || self.min_periods > self.ring.capacity() {
            return Err(invalid("min_periods"));
        }
        let finite = self.ring.iter().filter(|v| v.is_finite()).count();
        if self.sorted.len() != finite
            || self.sorted.windows(2).any(|w| w[0] > w[1])
            || self.sorted.iter().any(|v| !v.is_finite())
        {
            return Err(invalid("sorted window"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_sorting_each_window() {
        let xs: Vec<f64> = (0..2000)
            .map(|i| match i % 50 {
                0 => f64::NAN,
                7 => -0.0,
                8 => 0.0,
                _ => ((i * 7919) % 211) as f64 - 100.0,
            })
            .collect();
        for w in [1usize, 2, 5, 50] {
            let mut r = RollingQuantile::new(w, Some(1)).unwrap();
            for (i, &x) in xs.iter().enumerate() {
                r.update(x);
                let lo = (i + 1).saturating_sub(w);
                let mut win: Vec<f64> = xs[lo..=i]
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                win.sort_by(f64::total_cmp);
                assert_eq!(r.sorted(), win.as_slice(), "window {w} at {i}");
                for q in [0.0, 0.1, 0.5, 0.99, 1.0] {
                    assert_eq!(r.quantile(q), interpolate_sorted(&win, q));
                }
            }
        }
    }

    /// The batch kernel (look-ahead positions, cached interpolation, block counts) against the
    /// streaming object, bit for bit, with missing values, signed zeros and ties.
    #[test]
    fn batch_equals_streaming_bitwise() {
        let xs: Vec<f64> = (0..4000)
            .map(|i| match i % 61 {
                0 => f64::NAN,
                3 if i % 2 == 0 => f64::INFINITY,
                7 => -0.0,
                8 | 9 => 0.0,
                _ if (1000..1100).contains(&i) => 2.5,
                _ => ((i * 7919) % 211) as f64 - 100.0,
            })
            .collect();
        for (w, mp) in [
            (1, None),
            (2, Some(1)),
            (5, Some(3)),
            (50, None),
            (50, Some(7)),
            (300, Some(20)),
        ] {
            for q in [0.0, 0.1, 0.5, 0.9, 1.0] {
                let mut out = vec![0.0; xs.len()];
                rolling_quantile_batch(&xs, w, q, mp, &mut out).unwrap();
                let mut r = RollingQuantile::new(w, mp).unwrap();
                for (i, &x) in xs.iter().enumerate() {
                    r.update(x);
                    let v = r.quantile(q).unwrap_or(f64::NAN);
                    assert!(
                        v.to_bits() == out[i].to_bits() || (v.is_nan() && out[i].is_nan()),
                        "window {w} q {q} at {i}: {v} vs {}",
                        out[i]
                    );
                }
            }
        }
    }

    #[test]
    fn bad_q_is_rejected() {
        assert!(check_quantile(1.5).is_err());
        assert!(check_quantile(f64::NAN).is_err());
        let mut out = vec![0.0; 3];
        assert!(rolling_quantile_batch(&[1.0, 2.0, 3.0], 2, -0.1, None, &mut out).is_err());
    }
}
