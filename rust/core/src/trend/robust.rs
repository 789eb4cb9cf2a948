//! Robust whole-sample trends for on-demand use: Theil–Sen slope and the Mann–Kendall test.
//! Both are O(n²) in time; Theil–Sen also holds the n(n-1)/2 pairwise slopes in memory, so
//! call them on windows (up to a few thousand points), not on whole million-step runs.

use crate::error::{check_same_len, Result};
use crate::special::normal_sf;

/// Theil–Sen estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TheilSen {
    /// Median of the pairwise slopes (pairs with equal steps are skipped).
    pub slope: f64,
    /// median(values) − slope·median(steps) (scipy's default "separate" method).
    pub intercept: f64,
    /// Finite pairs used.
    pub n: usize,
}

fn median_in_place(v: &mut [f64]) -> f64 {
    let n = v.len();
    let mid = n / 2;
    let (_, &mut upper, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    if n % 2 == 1 {
        upper
    } else {
        let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        lower + (upper - lower) / 2.0
    }
}

fn finite_pairs(steps: &[f64], values: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    check_same_len("steps and values", steps.len(), values.len())?;
    Ok(steps
        .iter()
        .zip(values)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(&x, &y)| (x, y))
        .unzip())
}

/// Theil–Sen slope of `values` against `steps`; `None` without two distinct finite steps.
pub fn theil_sen(steps: &[f64], values: &[f64]) -> Result<Option<TheilSen>> {
    let (xs, ys) = finite_pairs(steps, values)?;
    let n = xs.len();
    let mut slopes = Vec::with_capacity(n.saturating_sub(1) * n / 2);
    for i in 0..n {
        for j in i + 1..n {
            let dx = xs[j] - xs[i];
            if dx != 0.0 {
                slopes.push((ys[j] - ys[i]) / dx);
            }
        }
    }
    if slopes.is_empty() {
        return Ok(None);
    }
    let slope = median_in_place(&mut slopes);
    let (mut mx, mut my) = (xs, ys);
    let intercept = median_in_place(&mut my) - slope * median_in_place(&mut mx);
    Ok(Some(TheilSen {
        slope,
        intercept,
        n,
    }))
}

/// Mann–Kendall monotonic-trend test on values in time order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// Finite values used.
    pub n: usize,
    /// S = Σ_{i<j} sign(x_j − x_i).
    pub s: f64,
    /// Variance of S under no trend, corrected for ties.
    pub var_s: f64,
    /// Continuity-corrected normal score.
    pub z: f64,
    /// Two-sided p-value of "no monotonic trend".
    pub p_value: f64,
    /// Kendall's tau-a, S / (n(n−1)/2).
    pub tau: f64,
}

/// Mann–Kendall test of `values` (non-finite values are dropped); `None` with fewer than 3.
pub fn mann_kendall(values: &[f64]) -> Option<MannKendall> {
    let xs: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let n = xs.len();
    if n < 3 {
        return None;
    }
    let mut s = 0i64;
    for i in 0..n {
        let xi = xs[i];
        for &xj in &xs[i + 1..] {
            s += i64::from(xj > xi) - i64::from(xj < xi);
        }
    }
    let mut sorted = xs;
    sorted.sort_unstable_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && sorted[j] == sorted[i] {
            j += 1;
        }
        let t = (j - i) as f64;
        ties += t * (t - 1.0) * (2.0 * t + 5.0);
        i = j;
    }
    let nf = n as f64;
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    let s = s as f64;
    let z = if var_s <= 0.0 || s == 0.0 {
        0.0
    } else if s > 0.0 {
        (s - 1.0) / var_s.sqrt()
    } else {
        (s + 1.0) / var_s.sqrt()
    };
    Some(MannKendall {
        n,
        s,
        var_s,
        z,
        p_value: (2.0 * normal_sf(z.abs())).min(1.0),
        tau: s / (nf * (nf - 1.0) / 2.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theil_sen_ignores_outliers() {
        let xs: Vec<f64> = (0..50).map(f64::from).collect();
        let mut ys: Vec<f64> = xs.iter().map(|x| 2.0 * x + 1.0).collect();
        ys[10] = 1e6;
        ys[20] = -1e6;
        let t = theil_sen(&xs, &ys).unwrap().unwrap();
        assert_eq!(t.slope, 2.0);
        // "separate" intercept: median(y) − slope·median(x) = 52 − 2·24.5 (the two outliers
        // shift the median of y by one rank).
        assert_eq!(t.intercept, 3.0);
        assert!(theil_sen(&[1.0, 1.0], &[0.0, 5.0]).unwrap().is_none());
        assert!(theil_sen(&[1.0], &[0.0, 5.0]).is_err());
    }

    #[test]
    fn mann_kendall_monotone_and_ties() {
        let up: Vec<f64> = (0..30).map(f64::from).collect();
        let mk = mann_kendall(&up).unwrap();
        assert_eq!(mk.s, 435.0);
        assert_eq!(mk.tau, 1.0);
        assert!(mk.p_value < 1e-6);
        let flat = vec![1.0; 10];
        let mk = mann_kendall(&flat).unwrap();
        assert_eq!(mk.s, 0.0);
        assert_eq!(mk.p_value, 1.0);
        assert!(mann_kendall(&[1.0, f64::NAN]).is_none());
    }
}
