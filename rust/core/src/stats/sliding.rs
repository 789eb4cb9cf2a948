//! Power sums over a sliding window, kept numerically honest over any run length.
//!
//! Sums of `(x - anchor)^k` for k = 1..P are updated by adding the entering value and
//! subtracting the leaving one: O(1) per step. Subtraction leaves rounding residue, and a
//! drifting series moves away from the anchor (cancellation in `S2 - S1²/n`). Both are bounded
//! by re-anchoring: every `period` slides the sums are recomputed exactly from the window with
//! the anchor moved to its newest value. The error therefore depends on `period`, never on how
//! many steps came before, and the cost is one extra pass over the window per `period` steps.
//! For variance and higher moments the sums are also re-anchored as soon as the mean has
//! moved far from the anchor relative to the spread (see `far_from_anchor`).
//!
//! A run of identical values is tracked separately so that a constant window reports its value
//! and a variance of exactly 0, whatever residue the sums carry.

use serde::{Deserialize, Serialize};

/// Slides between exact recomputations: a multiple of the window so the amortised extra
/// cost stays near 1/4 of a pass, with a floor so short windows do not recompute constantly.
pub(crate) fn recompute_period(window: usize) -> usize {
    window.saturating_mul(4).max(1024)
}

/// Counts the observations since the newest finite value that differs from its predecessor:
/// a window of `n_obs` observations holds one repeated finite value (and possibly missing
/// ones) exactly when `run >= n_obs`. Missing values extend a run instead of breaking it.
#[inline(always)]
pub(crate) fn track_run(run: &mut usize, last: &mut f64, x: f64) {
    if x.is_finite() && x != *last {
        *run = 1;
        *last = x;
    } else if !last.is_nan() {
        *run += 1;
    }
}

/// Power sums of the finite values of `window` (oldest first) anchored at its newest finite
/// value: (anchor, sums, count). Zero sums and count (and a NaN anchor) when none is finite.
#[cold]
#[inline(never)]
fn exact_sums<const P: usize, I>(window: I) -> (f64, [f64; 4], usize)
where
    I: Iterator<Item = f64> + Clone,
{
    let mut sums = [0.0; 4];
    let Some(anchor) = window.clone().filter(|x| x.is_finite()).last() else {
        return (f64::NAN, sums, 0);
    };
    let mut valid = 0;
    for x in window.filter(|x| x.is_finite()) {
        valid += 1;
        let d = x - anchor;
        let mut p = d;
        for k in 0..P {
            sums[k] += p;
            p *= d;
        }
    }
    (anchor, sums, valid)
}

/// [`track_run`] for a value known to be finite.
#[inline(always)]
pub(crate) fn track_finite_run(run: &mut usize, last: &mut f64, x: f64) {
    if x != *last {
        *run = 1;
        *last = x;
    } else {
        *run += 1;
    }
}

/// Exactly +0 for a finite `x` and NaN for ±inf and NaN; a NaN survives any sum, so a sum
/// of these is 0 exactly when every term came from a finite value.
#[inline(always)]
#[allow(clippy::eq_op)]
pub(crate) fn zero_if_finite(x: f64) -> f64 {
    x - x
}

/// True when both values are finite, in three arithmetic instructions and one branch rather
/// than a bit test per value: `x − x` is exactly +0 for a finite `x` and NaN for ±inf and
/// NaN, and a NaN survives the addition.
#[inline(always)]
pub(crate) fn both_finite(a: f64, b: f64) -> bool {
    zero_if_finite(a) + zero_if_finite(b) == 0.0
}

/// True when all four values are finite (see [`both_finite`]).
#[inline(always)]
pub(crate) fn all_four_finite(a: f64, b: f64, c: f64, d: f64) -> bool {
    (zero_if_finite(a) + zero_if_finite(b)) + (zero_if_finite(c) + zero_if_finite(d)) == 0.0
}

/// Anchored power sums of the finite values in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SlidingSums {
    anchor: f64,
    sums: [f64; 4],
    /// Finite values currently in the window.
    valid: usize,
    /// 1 / valid and 1 / (valid - 1), cached because they change only when a missing value
    /// enters or leaves (a division per output would dominate the loop).
    inv_valid: f64,
    inv_valid_m1: f64,
    /// Slides since the last exact recomputation.
    since: usize,
    period: usize,
    /// Length of the current run of identical finite values ending at the newest value.
    run: usize,
    last: f64,
}

/// Central moment sums of a window: count and M2..M4 (sums of powered deviations from the mean).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Central {
    pub n: f64,
    pub m2: f64,
    pub m3: f64,
    pub m4: f64,
}

impl SlidingSums {
    pub(crate) fn new(window: usize) -> Self {
        SlidingSums {
            anchor: 0.0,
            sums: [0.0; 4],
            valid: 0,
            inv_valid: 0.0,
            inv_valid_m1: 0.0,
            since: 0,
            period: recompute_period(window),
            run: 0,
            last: f64::NAN,
        }
    }

    fn set_inverses(&mut self) {
        let n = self.valid as f64;
        self.inv_valid = if self.valid > 0 { 1.0 / n } else { 0.0 };
        self.inv_valid_m1 = if self.valid > 1 { 1.0 / (n - 1.0) } else { 0.0 };
    }

    /// 1 / (valid − ddof); the caller ensures valid > ddof.
    #[inline(always)]
    pub(crate) fn inv_dof(&self, ddof: u32) -> f64 {
        match ddof {
            0 => self.inv_valid,
            1 => self.inv_valid_m1,
            d => 1.0 / (self.valid - d as usize) as f64,
        }
    }

    #[inline(always)]
    fn add<const P: usize>(&mut self, x: f64) {
        if self.valid == 0 {
            self.anchor = x;
            self.sums = [0.0; 4];
        }
        self.valid += 1;
        self.set_inverses();
        let d = x - self.anchor;
        let mut p = d;
        for k in 0..P {
            self.sums[k] += p;
            p *= d;
        }
    }

    #[inline(always)]
    fn remove<const P: usize>(&mut self, x: f64) {
        self.valid -= 1;
        if self.valid == 0 {
            self.sums = [0.0; 4];
            self.set_inverses();
            return;
        }
        self.set_inverses();
        let d = x - self.anchor;
        let mut p = d;
        for k in 0..P {
            self.sums[k] -= p;
            p *= d;
        }
    }

    #[inline(always)]
    fn track_run(&mut self, x: f64) {
        track_run(&mut self.run, &mut self.last, x);
    }

    /// Adds `x_in` to a window that is still filling. `P` is at least 2 for every kernel:
    /// the re-anchoring decision reads S1 and S2, so all kernels (and the streaming object)
    /// re-anchor at the same steps and agree to the bit.
    #[inline(always)]
    pub(crate) fn push<const P: usize>(&mut self, x_in: f64) {
        self.track_run(x_in);
        if x_in.is_finite() {
            self.add::<P>(x_in);
        }
    }

    /// Replaces the oldest value `x_out` by `x_in`. Returns true when the caller must call
    /// [`SlidingSums::recompute`] with the window as it is now.
    #[inline(always)]
    pub(crate) fn slide<const P: usize>(&mut self, x_in: f64, x_out: f64) -> bool {
        if both_finite(x_in, x_out) {
            // The common case: one fused update per sum keeps the loop-carried dependency
            // to a single addition, and the count (and 1/count) does not change.
            track_finite_run(&mut self.run, &mut self.last, x_in);
            self.replace_finite::<P>(x_in, x_out);
        } else {
            self.track_run(x_in);
            if x_out.is_finite() {
                self.remove::<P>(x_out);
            }
            if x_in.is_finite() {
                self.add::<P>(x_in);
            }
        }
        self.tick()
    }

    /// The sums' part of a slide whose two values are finite.
    #[inline(always)]
    pub(crate) fn replace_finite<const P: usize>(&mut self, x_in: f64, x_out: f64) {
        let di = x_in - self.anchor;
        let dout = x_out - self.anchor;
        let (mut pi, mut po) = (di, dout);
        for k in 0..P {
            self.sums[k] += pi - po;
            pi *= di;
            po *= dout;
        }
    }

    /// Counts a slide; true when the caller must call [`SlidingSums::recompute`].
    #[inline(always)]
    pub(crate) fn tick(&mut self) -> bool {
        self.since += 1;
        self.since >= self.period || self.far_from_anchor()
    }

    /// The newest value tracked for runs (NaN before the first finite one).
    #[inline(always)]
    pub(crate) fn last(&self) -> f64 {
        self.last
    }

    /// Sets the run state after finite values that each differed from their predecessor,
    /// the newest being `last`: what [`track_run`] leaves after each of them.
    #[inline(always)]
    pub(crate) fn set_fresh_run(&mut self, last: f64) {
        self.run = 1;
        self.last = last;
    }

    /// True when the window mean has moved so far from the anchor that `S2 − S1²/n` would
    /// cancel more than four digits (n·μ² > 10⁴·M2), e.g. after a level jump into a quiet
    /// stretch. Recomputing then re-anchors inside the window; it cannot fire again until the
    /// mean wanders off by another 100 standard deviations, so the cost stays amortised.
    #[inline(always)]
    fn far_from_anchor(&self) -> bool {
        let s1 = self.sums[0];
        let mu = s1 * self.inv_valid;
        s1 * mu > 1e4 * (self.sums[1] - s1 * mu)
    }

    /// Recomputes the sums exactly from the window (oldest first), anchored at its newest
    /// finite value. The pass itself is out of line and returns the new state by value, so
    /// `self` never escapes to a call: the batch loops keep the sums in registers instead of
    /// storing and reloading them on every step (measured: the loop-carried additions then
    /// went through memory).
    #[inline(always)]
    pub(crate) fn recompute<const P: usize, I>(&mut self, window: I)
    where
        I: Iterator<Item = f64> + Clone,
    {
        let (anchor, sums, valid) = exact_sums::<P, I>(window);
        self.since = 0;
        self.sums = sums;
        self.valid = valid;
        if valid > 0 {
            self.anchor = anchor;
        }
        self.set_inverses();
    }

    /// Finite values in the window.
    #[inline(always)]
    pub(crate) fn valid(&self) -> usize {
        self.valid
    }

    /// True when the whole window of `n_obs` observations holds one repeated finite value.
    #[inline(always)]
    fn constant(&self, n_obs: usize) -> bool {
        self.run >= n_obs && n_obs > 0
    }

    /// Mean of the finite values; the caller checks the count.
    #[inline(always)]
    pub(crate) fn mean(&self, n_obs: usize) -> f64 {
        if self.constant(n_obs) {
            return self.last;
        }
        self.anchor + self.sums[0] * self.inv_valid
    }

    /// Sum of squared deviations from the mean (M2), never negative.
    #[inline(always)]
    pub(crate) fn m2(&self, n_obs: usize) -> f64 {
        if self.constant(n_obs) {
            return 0.0;
        }
        let s1 = self.sums[0];
        (self.sums[1] - s1 * s1 * self.inv_valid).max(0.0)
    }

    /// All central sums up to the fourth (needs P = 4 updates; P = 3 leaves m4 meaningless).
    #[inline(always)]
    pub(crate) fn central(&self, n_obs: usize) -> Central {
        let n = self.valid as f64;
        if self.constant(n_obs) {
            return Central {
                n,
                m2: 0.0,
                m3: 0.0,
                m4: 0.0,
            };
        }
        let [s1, s2, s3, s4] = self.sums;
        let mu = s1 * self.inv_valid;
        let mu2 = mu * mu;
        let m2 = (s2 - s1 * mu).max(0.0);
        let m3 = s3 - 3.0 * mu * s2 + 2.0 * mu2 * s1;
        let m4 = s4 - 4.0 * mu * s3 + 6.0 * mu2 * s2 - 3.0 * mu2 * mu * s1;
        Central {
            n,
            m2,
            m3,
            m4: m4.max(0.0),
        }
    }
}
