//! Rolling ordinary least squares of a value against the logged step.
//!
//! Sums are kept relative to an anchor point (a step and a value inside the window) and
//! recomputed exactly every few windows (see `stats::sliding`), so steps near 1e9 with short
//! windows lose no precision: the deviations from the anchor are small exact numbers.

use crate::state::{invalid, Validate};
use serde::{Deserialize, Serialize};

use crate::error::{check_same_len, resolve_min_periods, CoreError, Result};
use crate::stats::sliding::{all_four_finite, track_finite_run, track_run, zero_if_finite};
use crate::stats::Ring;

/// One least-squares fit: `value ≈ slope·step + intercept`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendFit {
    /// Pairs used.
    pub n: usize,
    /// Change of the value per unit of step.
    pub slope: f64,
    /// Fitted value at step 0 (as `numpy.polyfit`).
    pub intercept: f64,
    /// Coefficient of determination; `None` when the values are constant (0/0).
    pub r2: Option<f64>,
}

/// Sums of a window computed from scratch (see [`exact_trend_sums`]).
struct ExactSums {
    ax: f64,
    ay: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    syy: f64,
    valid: usize,
}

/// Sums of the usable pairs of `window` (oldest first) anchored at its newest usable pair;
/// all zero (and NaN anchors) when there is none.
#[cold]
#[inline(never)]
fn exact_trend_sums<I: Iterator<Item = (f64, f64)> + Clone>(window: I) -> ExactSums {
    let finite = window.filter(|(x, y)| x.is_finite() && y.is_finite());
    let mut e = ExactSums {
        ax: f64::NAN,
        ay: f64::NAN,
        sx: 0.0,
        sy: 0.0,
        sxx: 0.0,
        sxy: 0.0,
        syy: 0.0,
        valid: 0,
    };
    let Some((ax, ay)) = finite.clone().last() else {
        return e;
    };
    e.ax = ax;
    e.ay = ay;
    for (x, y) in finite {
        e.valid += 1;
        let dx = x - ax;
        let dy = y - ay;
        e.sx += dx;
        e.sy += dy;
        e.sxx += dx * dx;
        e.sxy += dx * dy;
        e.syy += dy * dy;
    }
    e
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TrendSums {
    ax: f64,
    ay: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    syy: f64,
    valid: usize,
    inv_valid: f64,
    since: usize,
    period: usize,
    /// Runs of identical steps / values (see `stats::sliding::track_run`): equal steps mean
    /// no fit and equal values a slope of exactly 0, whatever residue the sums hold.
    run_x: usize,
    last_x: f64,
    run_y: usize,
    last_y: f64,
}

impl TrendSums {
    fn new(window: usize) -> Self {
        TrendSums {
            ax: 0.0,
            ay: 0.0,
            sx: 0.0,
            sy: 0.0,
            sxx: 0.0,
            sxy: 0.0,
            syy: 0.0,
            valid: 0,
            inv_valid: 0.0,
            since: 0,
            period: crate::stats::sliding::recompute_period(window),
            run_x: 0,
            last_x: f64::NAN,
            run_y: 0,
            last_y: f64::NAN,
        }
    }

    fn set_inverse(&mut self) {
        self.inv_valid = if self.valid > 0 {
            1.0 / self.valid as f64
        } else {
            0.0
        };
    }

    #[inline(always)]
    fn track(&mut self, x: f64, y: f64) {
        // A pair with a missing coordinate is missing as a whole.
        let usable = x.is_finite() & y.is_finite();
        let (x, y) = if usable { (x, y) } else { (f64::NAN, f64::NAN) };
        track_run(&mut self.run_x, &mut self.last_x, x);
        track_run(&mut self.run_y, &mut self.last_y, y);
    }

    #[inline(always)]
    fn add(&mut self, x: f64, y: f64) {
        if self.valid == 0 {
            self.ax = x;
            self.ay = y;
            self.zero();
        }
        self.valid += 1;
        self.set_inverse();
        let dx = x - self.ax;
        let dy = y - self.ay;
        self.sx += dx;
        self.sy += dy;
        self.sxx += dx * dx;
        self.sxy += dx * dy;
        self.syy += dy * dy;
    }

    #[inline(always)]
    fn remove(&mut self, x: f64, y: f64) {
        self.valid -= 1;
        self.set_inverse();
        if self.valid == 0 {
            self.zero();
            return;
        }
        let dx = x - self.ax;
        let dy = y - self.ay;
        self.sx -= dx;
        self.sy -= dy;
        self.sxx -= dx * dx;
        self.sxy -= dx * dy;
        self.syy -= dy * dy;
    }

    fn zero(&mut self) {
        self.sx = 0.0;
        self.sy = 0.0;
        self.sxx = 0.0;
        self.sxy = 0.0;
        self.syy = 0.0;
    }

    #[inline(always)]
    fn push(&mut self, x: f64, y: f64) {
        self.track(x, y);
        if x.is_finite() && y.is_finite() {
            self.add(x, y);
        }
    }

    #[inline(always)]
    fn slide(&mut self, x: f64, y: f64, x_out: f64, y_out: f64) -> bool {
        if all_four_finite(x, y, x_out, y_out) {
            // Common case: one fused update per sum, count unchanged.
            track_finite_run(&mut self.run_x, &mut self.last_x, x);
            track_finite_run(&mut self.run_y, &mut self.last_y, y);
            self.replace_finite(x, y, x_out, y_out);
        } else {
            self.track(x, y);
            if x_out.is_finite() && y_out.is_finite() {
                self.remove(x_out, y_out);
            }
            if x.is_finite() && y.is_finite() {
                self.add(x, y);
            }
        }
        self.tick()
    }

    /// The sums' part of a slide whose four coordinates are finite: one fused update per
    /// sum, count unchanged.
    #[inline(always)]
    fn replace_finite(&mut self, x: f64, y: f64, x_out: f64, y_out: f64) {
        let (dx, dy) = (x - self.ax, y - self.ay);
        let (ox, oy) = (x_out - self.ax, y_out - self.ay);
        self.sx += dx - ox;
        self.sy += dy - oy;
        self.sxx += dx * dx - ox * ox;
        self.sxy += dx * dy - ox * oy;
        self.syy += dy * dy - oy * oy;
    }

    /// Counts a slide; true when the sums must be recomputed.
    #[inline(always)]
    fn tick(&mut self) -> bool {
        self.since += 1;
        self.since >= self.period || self.far_from_anchor()
    }

    /// True when either mean has moved so far from its anchor that the centred sums would
    /// cancel more than four digits (as `stats::sliding`).
    #[inline(always)]
    fn far_from_anchor(&self) -> bool {
        let mx = self.sx * self.inv_valid;
        let my = self.sy * self.inv_valid;
        let (px, py) = (self.sx * mx, self.sy * my);
        (px > 1e4 * (self.sxx - px)) | (py > 1e4 * (self.syy - py))
    }

    /// Recomputes the sums exactly from the window, anchored at its newest usable pair. The
    /// pass is out of line and returns the new sums by value, so `self` never escapes and the
    /// batch loop keeps the sums in registers (as `stats::sliding`).
    #[inline(always)]
    fn recompute<I: Iterator<Item = (f64, f64)> + Clone>(&mut self, window: I) {
        let e = exact_trend_sums(window);
        self.since = 0;
        self.valid = e.valid;
        if e.valid > 0 {
            self.ax = e.ax;
            self.ay = e.ay;
        }
        self.sx = e.sx;
        self.sy = e.sy;
        self.sxx = e.sxx;
        self.sxy = e.sxy;
        self.syy = e.syy;
        self.set_inverse();
    }

    /// [`TrendSums::slope`] for a batch output, NaN with fewer than `min_periods` (at least 2)
    /// usable pairs. The ordinary case (enough pairs, neither coordinate constant, positive
    /// spread of the steps) is decided by one branch on the conjunction of the tests and
    /// computes the very expression `slope` does; anything else goes through `slope` itself.
    #[inline(always)]
    fn slope_or_nan(&self, n_obs: usize, min_periods: usize) -> f64 {
        let mx = self.sx * self.inv_valid;
        let cxx = self.sxx - self.sx * mx;
        let ready = self.valid >= min_periods;
        if ready & (self.run_x < n_obs) & (self.run_y < n_obs) & (cxx > 0.0) {
            (self.sxy - mx * self.sy) / cxx
        } else if ready {
            self.slope(n_obs)
        } else {
            f64::NAN
        }
    }

    /// [`TrendSums::slope_or_nan`] for a full window whose runs are both 1 (see
    /// `slope_batch`): the run tests are known to pass.
    #[inline(always)]
    fn slope_or_nan_no_runs(&self, min_periods: usize) -> f64 {
        let mx = self.sx * self.inv_valid;
        let cxx = self.sxx - self.sx * mx;
        let ready = self.valid >= min_periods;
        if ready & (cxx > 0.0) {
            (self.sxy - mx * self.sy) / cxx
        } else if ready {
            self.slope(usize::MAX)
        } else {
            f64::NAN
        }
    }

    /// Recomputes from the window of `window` pairs starting at `start`.
    #[inline(always)]
    fn recompute_at(&mut self, steps: &[f64], values: &[f64], start: usize, window: usize) {
        let win = start..start + window;
        self.recompute(
            steps[win.clone()]
                .iter()
                .copied()
                .zip(values[win].iter().copied()),
        );
    }

    /// Slope over a window of `n_obs` observations; NaN without two distinct steps.
    #[inline(always)]
    fn slope(&self, n_obs: usize) -> f64 {
        if self.valid < 2 || self.run_x >= n_obs {
            return f64::NAN;
        }
        let mx = self.sx * self.inv_valid;
        let cxx = self.sxx - self.sx * mx;
        if cxx <= 0.0 {
            return f64::NAN;
        }
        if self.run_y >= n_obs {
            return 0.0;
        }
        (self.sxy - mx * self.sy) / cxx
    }

    fn fit(&self, n_obs: usize) -> Option<TrendFit> {
        let slope = self.slope(n_obs);
        if slope.is_nan() {
            return None;
        }
        let mx = self.sx * self.inv_valid;
        let my = self.sy * self.inv_valid;
        let cxx = self.sxx - self.sx * mx;
        let cxy = self.sxy - mx * self.sy;
        let cyy = (self.syy - self.sy * my).max(0.0);
        let intercept = (self.ay + my) - slope * (self.ax + mx);
        let constant_y = self.run_y >= n_obs;
        let r2 = if constant_y {
            None
        } else if self.valid == 2 {
            // Two distinct points are fit exactly; the sums' rounding at large step offsets
            // would otherwise report 0.99999... (Equal values between missing slots are no
            // run, so distinctness is judged by the spread.)
            (cyy > 0.0).then_some(1.0)
        } else {
            (cyy > 0.0).then(|| (cxy * cxy / (cxx * cyy)).clamp(0.0, 1.0))
        };
        Some(TrendFit {
            n: self.valid,
            slope,
            intercept,
            r2,
        })
    }
}

/// Least-squares trend of the last `window` (step, value) pairs. Pairs with a non-finite
/// step or value occupy their slot but are not used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollingTrend {
    steps: Ring,
    values: Ring,
    sums: TrendSums,
    min_periods: usize,
}

fn resolve_trend_periods(window: usize, min_periods: Option<usize>) -> Result<usize> {
    let m = resolve_min_periods(window, min_periods)?;
    if m < 2 {
        return Err(CoreError::param(
            "min_periods",
            format!("a trend needs at least 2 points, got {m}"),
        ));
    }
    Ok(m)
}

impl RollingTrend {
    /// A window of `window` pairs (at least 2); `min_periods` defaults to `window`.
    pub fn new(window: usize, min_periods: Option<usize>) -> Result<Self> {
        let min_periods = resolve_trend_periods(window, min_periods)?;
        Ok(RollingTrend {
            steps: Ring::new(window),
            values: Ring::new(window),
            sums: TrendSums::new(window),
            min_periods,
        })
    }

    /// Window length.
    pub fn window(&self) -> usize {
        self.steps.capacity()
    }

    /// Minimum number of usable pairs for a fit.
    pub fn min_periods(&self) -> usize {
        self.min_periods
    }

    /// Adds the pair (step, value).
    #[inline]
    pub fn update(&mut self, step: f64, value: f64) {
        let x_out = self.steps.push(step);
        let y_out = self.values.push(value);
        match (x_out, y_out) {
            (Some(xo), Some(yo)) => {
                if self.sums.slide(step, value, xo, yo) {
                    self.sums
                        .recompute(self.steps.iter().zip(self.values.iter()));
                }
            }
            _ => self.sums.push(step, value),
        }
    }

    /// Usable pairs in the window.
    pub fn count(&self) -> usize {
        self.sums.valid
    }

    /// The fit over the window; `None` with fewer than `min_periods` pairs or when all steps
    /// in the window are equal.
    pub fn fit(&self) -> Option<TrendFit> {
        if self.sums.valid < self.min_periods {
            return None;
        }
        self.sums.fit(self.steps.len())
    }

    /// Slope of the fit.
    pub fn slope(&self) -> Option<f64> {
        self.fit().map(|f| f.slope)
    }
}

/// Rolling trend over aligned `steps`/`values` into `slope` and, when given, `intercept` and
/// `r2` (NaN where not enough data). Bit-identical to feeding [`RollingTrend`] pair by pair.
pub fn rolling_trend_batch(
    steps: &[f64],
    values: &[f64],
    window: usize,
    min_periods: Option<usize>,
    slope: &mut [f64],
    mut intercept: Option<&mut [f64]>,
    mut r2: Option<&mut [f64]>,
) -> Result<()> {
    let min_periods = resolve_trend_periods(window, min_periods)?;
    check_same_len("steps and values", steps.len(), values.len())?;
    check_same_len("input and output", values.len(), slope.len())?;
    for o in [&intercept, &r2].into_iter().flatten() {
        check_same_len("input and output", values.len(), o.len())?;
    }
    let full = intercept.is_some() || r2.is_some();
    if !full {
        slope_batch(steps, values, window, min_periods, slope);
        return Ok(());
    }
    let mut s = TrendSums::new(window);
    for i in 0..values.len() {
        let recompute = if i < window {
            s.push(steps[i], values[i]);
            false
        } else {
            s.slide(steps[i], values[i], steps[i - window], values[i - window])
        };
        if recompute {
            let lo = i + 1 - window;
            s.recompute(
                steps[lo..=i]
                    .iter()
                    .copied()
                    .zip(values[lo..=i].iter().copied()),
            );
        }
        let n_obs = window.min(i + 1);
        let ready = s.valid >= min_periods;
        if !full {
            slope[i] = if ready { s.slope(n_obs) } else { f64::NAN };
            continue;
        }
        let fit = if ready { s.fit(n_obs) } else { None };
        slope[i] = fit.map_or(f64::NAN, |f| f.slope);
        if let Some(o) = intercept.as_deref_mut() {
            o[i] = fit.map_or(f64::NAN, |f| f.intercept);
        }
        if let Some(o) = r2.as_deref_mut() {
            o[i] = fit.and_then(|f| f.r2).unwrap_or(f64::NAN);
        }
    }
    Ok(())
}

/// The slope-only batch loop: the same updates as [`RollingTrend::update`] and
/// [`RollingTrend::slope`], with the filling and sliding phases split so the sliding loop
/// carries no per-step phase or output-kind branches and reads the leaving pair straight from
/// the inputs.
fn slope_batch(steps: &[f64], values: &[f64], window: usize, min_periods: usize, out: &mut [f64]) {
    let n = values.len();
    let (steps, out) = (&steps[..n], &mut out[..n]);
    let mut s = TrendSums::new(window);
    let fill = window.min(n);
    for i in 0..fill {
        s.push(steps[i], values[i]);
        out[i] = if s.valid >= min_periods {
            s.slope(i + 1)
        } else {
            f64::NAN
        };
    }
    if n <= window {
        return;
    }
    // Blocks of slides. A block is clean when its entering and leaving pairs are all finite
    // and every entering coordinate differs from the one before it (the first from the last
    // one tracked). In a clean block `slide` would take its finite branch at every step and
    // leave both runs at 1, so the loop below runs exactly that branch's sums update and sets
    // the runs once at the end, and the ordinary-case test of the output drops the run tests
    // (a run of 1 is shorter than any window, which holds at least 2). Any other block runs
    // the general `slide`. The entering pairs are checked by branch-free passes; the leaving
    // ones entered earlier, so it is enough to remember the last pair that was not finite.
    const BLOCK: usize = 64;
    let usable = |i: usize| steps[i].is_finite() & values[i].is_finite();
    let mut last_bad = (0..window).rev().find(|&i| !usable(i));
    let mut lo = 0;
    while lo + window < n {
        let len = BLOCK.min(n - window - lo);
        let (xi, yi) = (
            &steps[lo + window..lo + window + len],
            &values[lo + window..lo + window + len],
        );
        let (xo, yo) = (&steps[lo..lo + len], &values[lo..lo + len]);
        let block = &mut out[lo + window..lo + window + len];
        if last_bad.is_none_or(|b| b < lo) && clean_entering(xi, yi, s.last_x, s.last_y) {
            for (k, (o, (((&x, &y), &x_out), &y_out))) in block
                .iter_mut()
                .zip(xi.iter().zip(yi).zip(xo).zip(yo))
                .enumerate()
            {
                s.replace_finite(x, y, x_out, y_out);
                if s.tick() {
                    s.recompute_at(steps, values, lo + k + 1, window);
                }
                *o = s.slope_or_nan_no_runs(min_periods);
            }
            (s.run_x, s.last_x) = (1, xi[len - 1]);
            (s.run_y, s.last_y) = (1, yi[len - 1]);
        } else {
            for (k, (o, (((&x, &y), &x_out), &y_out))) in block
                .iter_mut()
                .zip(xi.iter().zip(yi).zip(xo).zip(yo))
                .enumerate()
            {
                if s.slide(x, y, x_out, y_out) {
                    s.recompute_at(steps, values, lo + k + 1, window);
                }
                *o = s.slope_or_nan(window, min_periods);
                if !(x.is_finite() & y.is_finite()) {
                    last_bad = Some(lo + window + k);
                }
            }
        }
        lo += len;
    }
}

/// True when the entering pairs `(xi, yi)` are all finite and each coordinate differs from its
/// predecessor (the first from `last_x`/`last_y`). Branch-free: `v − v` is 0 for a finite
/// `v` and NaN otherwise, summed in four independent lanes; the comparisons are or-reduced.
#[inline(always)]
fn clean_entering(xi: &[f64], yi: &[f64], last_x: f64, last_y: f64) -> bool {
    let (Some(&x0), Some(&y0)) = (xi.first(), yi.first()) else {
        return true;
    };
    let mut zero = [0.0; 4];
    let (xc, yc) = (xi.chunks_exact(4), yi.chunks_exact(4));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (x4, y4) in xc.zip(yc) {
        for k in 0..4 {
            zero[k] += zero_if_finite(x4[k]) + zero_if_finite(y4[k]);
        }
    }
    for (&x, &y) in xr.iter().zip(yr) {
        zero[0] += zero_if_finite(x) + zero_if_finite(y);
    }
    let mut repeat = (x0 == last_x) | (y0 == last_y);
    for (((&x, &px), &y), &py) in xi[1..].iter().zip(xi).zip(&yi[1..]).zip(yi) {
        repeat |= (x == px) | (y == py);
    }
    ((zero[0] + zero[1]) + (zero[2] + zero[3]) == 0.0) & !repeat
}

impl Validate for RollingTrend {
    fn validate(&self) -> Result<()> {
        self.steps.validate()?;
        self.values.validate()?;
        if self.steps.capacity() != self.values.capacity() || self.steps.len() != self.values.len()
        {
            return Err(invalid("steps and values windows differ"));
        }
        if self.min_periods < 2 || self.min_periods > self.steps.capacity() {
            return Err(invalid("min_periods"));
        }
        if self.sums.valid > self.steps.len() {
            return Err(invalid("count exceeds window"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(xs: &[f64], ys: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mx = xs.iter().sum::<f64>() / n;
        let my = ys.iter().sum::<f64>() / n;
        let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
        let b = sxy / sxx;
        (b, my - b * mx)
    }

    #[test]
    fn huge_steps_short_window() {
        let steps: Vec<f64> = (0..5000).map(|i| 1e9 + 3.0 * i as f64).collect();
        let ys: Vec<f64> = (0..5000)
            .map(|i| 0.5 + 1e-4 * i as f64 + 1e-3 * ((i * 7) % 5) as f64)
            .collect();
        let mut t = RollingTrend::new(8, None).unwrap();
        for i in 0..steps.len() {
            t.update(steps[i], ys[i]);
            if i >= 7 {
                let rel: Vec<f64> = steps[i - 7..=i].iter().map(|s| s - 1e9).collect();
                let (b, _) = naive(&rel, &ys[i - 7..=i]);
                let got = t.slope().unwrap();
                assert!(
                    (got - b).abs() < 1e-12 + 1e-9 * b.abs(),
                    "{i}: {got} vs {b}"
                );
            }
        }
    }

    #[test]
    fn streaming_equals_batch_bitwise() {
        let steps: Vec<f64> = (0..4000).map(|i| (i * 2) as f64).collect();
        let ys: Vec<f64> = (0..4000)
            .map(|i| {
                if i % 101 == 0 {
                    f64::NAN
                } else {
                    ((i * 7919) % 97) as f64
                }
            })
            .collect();
        let mut slope = vec![0.0; ys.len()];
        let mut icpt = vec![0.0; ys.len()];
        let mut r2 = vec![0.0; ys.len()];
        rolling_trend_batch(
            &steps,
            &ys,
            20,
            Some(5),
            &mut slope,
            Some(&mut icpt),
            Some(&mut r2),
        )
        .unwrap();
        let mut only = vec![0.0; ys.len()];
        rolling_trend_batch(&steps, &ys, 20, Some(5), &mut only, None, None).unwrap();
        let mut t = RollingTrend::new(20, Some(5)).unwrap();
        for i in 0..ys.len() {
            t.update(steps[i], ys[i]);
            let f = t.fit();
            let s = f.map_or(f64::NAN, |f| f.slope);
            assert!(s.to_bits() == slope[i].to_bits() || (s.is_nan() && slope[i].is_nan()));
            assert!(s.to_bits() == only[i].to_bits() || (s.is_nan() && only[i].is_nan()));
            let r = f.and_then(|f| f.r2).unwrap_or(f64::NAN);
            assert!(r.to_bits() == r2[i].to_bits() || (r.is_nan() && r2[i].is_nan()));
        }
    }

    /// The slope-only batch loop (clean blocks, general blocks, re-anchoring) against the
    /// streaming object on inputs that switch between the two kinds of block.
    #[test]
    fn slope_batch_blocks_equal_streaming_bitwise() {
        let n = 3000;
        let steps: Vec<f64> = (0..n)
            .map(|i| match i {
                700..=760 => 1e9 + 700.0, // repeated steps: a run in x
                _ if i % 409 == 0 => f64::INFINITY,
                _ => 1e9 + i as f64,
            })
            .collect();
        let ys: Vec<f64> = (0..n)
            .map(|i| match i {
                1200..=1290 => 4.0,                            // constant values: a run in y
                1500..=1999 => 1e6 + ((i * 7919) % 97) as f64, // level jump
                _ if i % 293 == 0 => f64::NAN,
                _ if i % 97 == 5 => -0.0,
                _ => ((i * 7919) % 97) as f64 * 0.01,
            })
            .collect();
        for (window, mp) in [
            (2, None),
            (3, Some(2)),
            (50, None),
            (50, Some(10)),
            (70, Some(3)),
        ] {
            let mut out = vec![0.0; n];
            rolling_trend_batch(&steps, &ys, window, mp, &mut out, None, None).unwrap();
            let mut t = RollingTrend::new(window, mp).unwrap();
            for i in 0..n {
                t.update(steps[i], ys[i]);
                let s = t.slope().unwrap_or(f64::NAN);
                assert!(
                    s.to_bits() == out[i].to_bits() || (s.is_nan() && out[i].is_nan()),
                    "window {window} step {i}: {s} vs {}",
                    out[i]
                );
            }
        }
    }

    #[test]
    fn degenerate_inputs() {
        let mut t = RollingTrend::new(3, None).unwrap();
        for _ in 0..3 {
            t.update(5.0, 1.0);
        }
        assert_eq!(t.fit(), None); // all steps equal
        let mut t = RollingTrend::new(3, None).unwrap();
        for i in 0..3 {
            t.update(i as f64, 2.0);
        }
        let f = t.fit().unwrap();
        assert_eq!(f.slope, 0.0);
        assert_eq!(f.r2, None);
        assert!(RollingTrend::new(1, None).is_err());
        assert!(RollingTrend::new(5, Some(1)).is_err());
    }
}
