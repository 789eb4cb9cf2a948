//! Rolling minimum and maximum with monotonic queues: O(1) amortised per step.

use crate::state::{invalid, Validate};
use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::error::{check_same_len, resolve_min_periods, Result};

/// Minimum and maximum of the last `window` observations (non-finite ones are skipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollingExtrema {
    window: usize,
    min_periods: usize,
    /// Observations seen; the sequence number of the next one.
    seen: u64,
    /// Finite values in the window, with their sequence numbers (to know when they leave).
    finite_seq: VecDeque<u64>,
    /// Candidates for the minimum: increasing values, oldest first.
    mins: VecDeque<(u64, f64)>,
    /// Candidates for the maximum: decreasing values, oldest first.
    maxs: VecDeque<(u64, f64)>,
}

impl RollingExtrema {
    /// A window of `window` observations; `min_periods` defaults to `window`.
    pub fn new(window: usize, min_periods: Option<usize>) -> Result<Self> {
        let min_periods = resolve_min_periods(window, min_periods)?;
        Ok(RollingExtrema {
            window,
            min_periods,
            seen: 0,
            finite_seq: VecDeque::new(),
            mins: VecDeque::new(),
            maxs: VecDeque::new(),
        })
    }

    /// Window length.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Minimum number of finite values for a result.
    pub fn min_periods(&self) -> usize {
        self.min_periods
    }

    /// Adds one observation.
    #[inline]
    pub fn update(&mut self, x: f64) {
        let seq = self.seen;
        self.seen += 1;
        // Oldest sequence number still inside the window after this observation.
        let oldest = self.seen.saturating_sub(self.window as u64);
        while self.finite_seq.front().is_some_and(|&s| s < oldest) {
            self.finite_seq.pop_front();
        }
        while self.mins.front().is_some_and(|&(s, _)| s < oldest) {
            self.mins.pop_front();
        }
        while self.maxs.front().is_some_and(|&(s, _)| s < oldest) {
            self.maxs.pop_front();
        }
        if !x.is_finite() {
            return;
        }
        self.finite_seq.push_back(seq);
        while self.mins.back().is_some_and(|&(_, v)| v >= x) {
            self.mins.pop_back();
        }
        self.mins.push_back((seq, x));
        while self.maxs.back().is_some_and(|&(_, v)| v <= x) {
            self.maxs.pop_back();
        }
        self.maxs.push_back((seq, x));
    }

    /// Adds every value of `xs`.
    pub fn update_slice(&mut self, xs: &[f64]) {
        for &x in xs {
            self.update(x);
        }
    }

    /// Finite values in the window.
    pub fn count(&self) -> usize {
        self.finite_seq.len()
    }

    /// Window minimum.
    pub fn min(&self) -> Option<f64> {
        if self.count() < self.min_periods {
            return None;
        }
        self.mins.front().map(|&(_, v)| v)
    }

    /// Window maximum.
    pub fn max(&self) -> Option<f64> {
        if self.count() < self.min_periods {
            return None;
        }
        self.maxs.front().map(|&(_, v)| v)
    }
}

fn batch(
    xs: &[f64],
    window: usize,
    min_periods: Option<usize>,
    out: &mut [f64],
    pick: impl Fn(&RollingExtrema) -> Option<f64>,
) -> Result<()> {
    check_same_len("input and output", xs.len(), out.len())?;
    let mut r = RollingExtrema::new(window, min_periods)?;
    for (o, &x) in out.iter_mut().zip(xs) {
        r.update(x);
        *o = pick(&r).unwrap_or(f64::NAN);
    }
    Ok(())
}

/// Rolling minimum of `xs` into `out` (NaN where not enough data).
pub fn rolling_min_batch(
    xs: &[f64],
    window: usize,
    min_periods: Option<usize>,
    out: &mut [f64],
) -> Result<()> {
    batch(xs, window, min_periods, out, RollingExtrema::min)
}

/// Rolling maximum of `xs` into `out` (NaN where not enough data).
pub fn rolling_max_batch(
    xs: &[f64],
    window: usize,
    min_periods: Option<usize>,
    out: &mut [f64],
) -> Result<()> {
    batch(xs, window, min_periods, out, RollingExtrema::max)
}

impl Validate for RollingExtrema {
    fn validate(&self) -> Result<()> {
        if self.window == 0 || self.min_periods == 0 || self.min_periods > self.window {
            return Err(invalid("window or min_periods"));
        }
        if self.finite_seq.len() > self.window
            || self.finite_seq.back().is_some_and(|&s| s >= self.seen)
        {
            return Err(invalid("window contents"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_naive() {
        let xs: Vec<f64> = (0..500)
            .map(|i| {
                if i % 13 == 0 {
                    f64::NAN
                } else {
                    ((i * 37) % 29) as f64
                }
            })
            .collect();
        let mut r = RollingExtrema::new(7, Some(1)).unwrap();
        for (i, &x) in xs.iter().enumerate() {
            r.update(x);
            let lo = i.saturating_sub(6);
            let w: Vec<f64> = xs[lo..=i]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            let mn = w.iter().copied().fold(f64::INFINITY, f64::min);
            let mx = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if w.is_empty() {
                assert_eq!(r.min(), None);
            } else {
                assert_eq!(r.min(), Some(mn));
                assert_eq!(r.max(), Some(mx));
            }
        }
    }
}
