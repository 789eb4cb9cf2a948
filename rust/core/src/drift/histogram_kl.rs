//! Histogram KL divergence KL(current ‖ reference), with its small-sample bias removed.
//!
//! The plug-in estimate is biased upwards: under no drift it averages about
//! (B − 1)/(2n) + (B − 1)/(2m) for B occupied bins, n current and m reference values (the
//! Miller–Madow argument applied to both histograms). With RLDK's defaults (22 bins, 100
//! values) that is ≈ 0.1, two thirds of its 0.15 alarm threshold, which is why a stationary
//! series alarmed on most steps. We (1) use only bins occupied by either sample, (2) give the
//! reference a pseudo-count of 1/2 per bin so that a current value in a bin the reference never
//! hit gives a large but finite divergence, and (3) subtract the bias term above. Under no
//! drift the corrected value then averages within ±0.02 of 0 across the sample sizes we
//! simulated (normal and exponential data), where the raw value averaged 0.03–0.39.

use crate::error::{CoreError, Result};

/// Result of [`histogram_kl`].
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramKl {
    /// Plug-in KL(current ‖ reference) in nats.
    pub raw: f64,
    /// `raw` minus the expected value under no drift; can be slightly negative.
    pub corrected: f64,
    /// Bins in the grid.
    pub bins: usize,
    /// Bins holding at least one value of either sample.
    pub occupied: usize,
}

/// RLDK's bin rule: clamp(floor(sqrt(reference size)), 5, 50).
pub fn default_bins(reference_len: usize) -> usize {
    ((reference_len as f64).sqrt().floor() as usize).clamp(5, 50)
}

/// Histogram KL between the finite values of `current` and `reference` on `bins` equal-width
/// bins spanning both samples; `None` when either sample has no finite value.
pub fn histogram_kl(
    reference: &[f64],
    current: &[f64],
    bins: Option<usize>,
) -> Result<Option<HistogramKl>> {
    let reference: Vec<f64> = reference
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    let current: Vec<f64> = current.iter().copied().filter(|x| x.is_finite()).collect();
    let bins = bins.unwrap_or_else(|| default_bins(reference.len()));
    if bins == 0 {
        return Err(CoreError::param("bins", "must be at least 1, got 0"));
    }
    if reference.is_empty() || current.is_empty() {
        return Ok(None);
    }
    let (lo, hi) = reference
        .iter()
        .chain(&current)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    if lo == hi {
        return Ok(Some(HistogramKl {
            raw: 0.0,
            corrected: 0.0,
            bins,
            occupied: 1,
        }));
    }
    let width = (hi - lo) / bins as f64;
    let bin_of = |x: f64| (((x - lo) / width) as usize).min(bins - 1);
    let mut cur = vec![0u64; bins];
    let mut refc = vec![0u64; bins];
    for &x in &current {
        cur[bin_of(x)] += 1;
    }
    for &x in &reference {
        refc[bin_of(x)] += 1;
    }
    let occupied = cur.iter().zip(&refc).filter(|(a, b)| **a + **b > 0).count();
    let n = current.len() as f64;
    let m = reference.len() as f64;
    let q_total = m + 0.5 * occupied as f64;
    let mut raw = 0.0;
    for (&a, &b) in cur.iter().zip(&refc) {
        if a == 0 {
            continue;
        }
        let p = a as f64 / n;
        let q = (b as f64 + 0.5) / q_total;
        raw += p * (p / q).ln();
    }
    let bias = (occupied as f64 - 1.0) * (0.5 / n + 0.5 / m);
    Ok(Some(HistogramKl {
        raw,
        corrected: raw - bias,
        bins,
        occupied,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_and_disjoint() {
        let a: Vec<f64> = (0..100).map(f64::from).collect();
        let same = histogram_kl(&a, &a, Some(10)).unwrap().unwrap();
        assert!(same.raw.abs() < 0.01, "{same:?}");
        assert!(same.corrected < 0.0);
        let b: Vec<f64> = (0..100).map(|i| 1000.0 + f64::from(i)).collect();
        let far = histogram_kl(&a, &b, Some(10)).unwrap().unwrap();
        assert!(far.corrected > 2.0, "{far:?}");
        assert!(histogram_kl(&a, &[f64::NAN], None).unwrap().is_none());
        assert_eq!(
            histogram_kl(&[1.0; 5], &[1.0; 3], None)
                .unwrap()
                .unwrap()
                .raw,
            0.0
        );
        assert!(histogram_kl(&a, &a, Some(0)).is_err());
    }
}
