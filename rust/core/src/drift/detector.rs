//! Streaming drift detector: a frozen reference sample versus a sliding current window.
//!
//! The first `reference_size` finite values form the reference; only later values enter the
//! current window (RLDK let the window overlap its own reference, which hides drift early on).
//! The reference is kept sorted and, once full, frozen: each window value is ranked in it on
//! arrival, so a KS test costs O(window) per call, and the histogram test counts the
//! reference's bins by binary search (or, through [`DriftDetector::histogram_kl_cached`],
//! reuses the counts while the grid stays the same). Nothing is re-sorted per step.

use crate::state::{invalid, Validate};
use serde::{Deserialize, Serialize};

use super::histogram_kl::{default_bins, divergence_with, Grid, TermMemo};
use super::ranked::RankedWindow;
use super::{HistogramKl, KsTest};
use crate::error::{check_alpha, check_window, CoreError, Result};

/// Reference-versus-window drift state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftDetector {
    reference_size: usize,
    reference: Vec<f64>,
    window: RankedWindow,
    min_window: usize,
    alpha: f64,
    nonfinite: u64,
    /// What [`DriftDetector::histogram_kl_cached`] reuses between tests: pure functions of
    /// the frozen reference and the grid (and the last terms on it), so it is not stored;
    /// a restored detector rebuilds it at its next test.
    #[serde(skip)]
    reference_bins: BinCache,
}

/// What depends only on the grid of a histogram test and the frozen reference, for the last
/// few grids: a window value beyond the reference's range moves the grid while it is in the
/// window, and the grid moves back when it leaves.
#[derive(Debug, Clone, Default)]
struct BinCache(Vec<GridCache>);

/// Grids kept by [`BinCache`].
const CACHED_GRIDS: usize = 3;

#[derive(Debug, Clone)]
struct GridCache {
    /// The grid's (lo, hi, bins), lo and hi as bits.
    key: (u64, u64, usize),
    /// The reference's bin counts.
    reference: Vec<u64>,
    /// [`Grid::run_ends`].
    run_ends: Vec<f64>,
    /// The divergence terms of the last test on this grid.
    terms: TermMemo,
}

impl PartialEq for BinCache {
    /// A cache does not make two detectors different.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl DriftDetector {
    /// `reference_size` values form the reference, the current window holds the last `window`
    /// values after it, and a test needs `min_window` of them (default: `window`).
    pub fn new(
        reference_size: usize,
        window: usize,
        min_window: Option<usize>,
        alpha: f64,
    ) -> Result<Self> {
        if reference_size == 0 {
            return Err(CoreError::param(
                "reference_size",
                "must be at least 1, got 0",
            ));
        }
        check_alpha(alpha)?;
        check_window(window)?;
        let min_window = match min_window {
            None => window,
            Some(m) if m >= 1 && m <= window => m,
            Some(m) => {
                return Err(CoreError::param(
                    "min_window",
                    format!("must lie in 1..={window}, got {m}"),
                ))
            }
        };
        Ok(DriftDetector {
            reference_size,
            reference: Vec::with_capacity(reference_size.min(1 << 16)),
            window: RankedWindow::new(window),
            min_window,
            alpha,
            nonfinite: 0,
            reference_bins: BinCache::default(),
        })
    }

    /// Adds one value (non-finite values are counted and skipped).
    pub fn update(&mut self, x: f64) {
        if !x.is_finite() {
            self.nonfinite += 1;
        } else if self.reference.len() < self.reference_size {
            let at = self.reference.partition_point(|v| v.total_cmp(&x).is_lt());
            self.reference.insert(at, x);
        } else {
            self.window.push(x, &self.reference);
        }
    }

    /// Adds every value of `xs`.
    pub fn update_slice(&mut self, xs: &[f64]) {
        for &x in xs {
            self.update(x);
        }
    }

    /// True once the reference is full and the window holds `min_window` values.
    pub fn ready(&self) -> bool {
        self.reference.len() == self.reference_size && self.window.len() >= self.min_window
    }

    /// Values that make up the reference.
    pub fn reference_size(&self) -> usize {
        self.reference_size
    }

    /// Length of the current window.
    pub fn window(&self) -> usize {
        self.window.capacity()
    }

    /// Window values needed for a test.
    pub fn min_window(&self) -> usize {
        self.min_window
    }

    /// Values in the reference so far.
    pub fn reference_len(&self) -> usize {
        self.reference.len()
    }

    /// Values in the current window.
    pub fn window_len(&self) -> usize {
        self.window.len()
    }

    /// Non-finite values seen.
    pub fn nonfinite(&self) -> u64 {
        self.nonfinite
    }

    /// Significance level of [`DriftDetector::drifted`].
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// KS test of the window against the reference, once ready.
    pub fn ks(&self) -> Option<KsTest> {
        if !self.ready() {
            return None;
        }
        let d = self.window.ks_statistic();
        Some(KsTest::new(d, self.reference.len(), self.window.len()))
    }

    /// Bias-corrected histogram KL of the window against the reference, once ready (the
    /// same numbers as [`super::histogram_kl`] on the two samples).
    pub fn histogram_kl(&self, bins: Option<usize>) -> Result<Option<HistogramKl>> {
        self.histogram_kl_with(bins, None)
    }

    /// [`DriftDetector::histogram_kl`], keeping the reference's bin counts for the next call:
    /// the grid spans both samples, and while the window stays inside the reference's range
    /// (or keeps its extremes) the grid, and so the counts, do not change.
    pub fn histogram_kl_cached(&mut self, bins: Option<usize>) -> Result<Option<HistogramKl>> {
        let mut cache = std::mem::take(&mut self.reference_bins);
        let out = self.histogram_kl_with(bins, Some(&mut cache));
        self.reference_bins = cache;
        out
    }

    fn histogram_kl_with(
        &self,
        bins: Option<usize>,
        cache: Option<&mut BinCache>,
    ) -> Result<Option<HistogramKl>> {
        if !self.ready() {
            return Ok(None);
        }
        let bins = bins.unwrap_or_else(|| default_bins(self.reference.len()));
        if bins == 0 {
            return Err(CoreError::param("bins", "must be at least 1, got 0"));
        }
        let (Some((wlo, whi)), Some(&rlo), Some(&rhi)) = (
            self.window.range(),
            self.reference.first(),
            self.reference.last(),
        ) else {
            return Ok(None);
        };
        let (lo, hi) = (rlo.min(wlo), rhi.max(whi));
        let Some(grid) = Grid::new(lo, hi, bins) else {
            return Ok(Some(HistogramKl::identical(bins)));
        };
        // The usual grids (at most 50 bins by default) are counted on the stack.
        let mut stack = [0u64; 64];
        let mut heap = Vec::new();
        let cur: &mut [u64] = if bins <= stack.len() {
            &mut stack[..bins]
        } else {
            heap.resize(bins, 0);
            &mut heap
        };
        let key = (lo.to_bits(), hi.to_bits(), bins);
        let fresh = |grid: &Grid| GridCache {
            key,
            reference: grid.counts_sorted(&self.reference),
            run_ends: grid.run_ends(),
            terms: TermMemo::default(),
        };
        let mut local = None;
        let cache_used = cache.is_some();
        let cached: &mut GridCache = match cache {
            Some(BinCache(grids)) => {
                // Most recently used first.
                match grids.iter().position(|c| c.key == key) {
                    Some(i) => grids[..=i].rotate_right(1),
                    None => {
                        grids.truncate(CACHED_GRIDS - 1);
                        grids.insert(0, fresh(&grid));
                    }
                }
                &mut grids[0]
            }
            None => local.insert(fresh(&grid)),
        };
        grid.count_sorted_into(self.window.sorted(), &cached.run_ends, cur);
        // Terms are reused only through the cache: one-off tests start afresh.
        let GridCache {
            reference, terms, ..
        } = cached;
        Ok(Some(divergence_with(
            cur,
            reference,
            self.window.steps(),
            cache_used.then_some(terms),
        )))
    }

    /// Whether the KS p-value is below `alpha`; `None` before ready.
    pub fn drifted(&self) -> Option<bool> {
        self.ks().map(|t| t.p_value < self.alpha)
    }
}

impl Validate for DriftDetector {
    fn validate(&self) -> Result<()> {
        self.window.validate(&self.reference)?;
        check_alpha(self.alpha)?;
        if self.reference_size == 0
            || self.reference.len() > self.reference_size
            || self.min_window == 0
            || self.min_window > self.window.capacity()
            || (self.window.len() > 0 && self.reference.len() < self.reference_size)
            || self.reference.windows(2).any(|w| w[0] > w[1])
            || self.reference.iter().any(|v| !v.is_finite())
        {
            return Err(invalid("reference or window sizes"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::{histogram_kl, ks_2samp};
    use proptest::prelude::*;

    proptest! {
        /// At every step of a stream (coarse grids with ties, constants, large offsets, a
        /// shift that moves the window beyond the reference's range and back), the ranked
        /// KS test and the cached histogram test give exactly the numbers of the
        /// from-scratch functions on the reference and the current window.
        #[test]
        fn tests_equal_the_from_scratch_functions(
            steps in prop::collection::vec((0u8..6, -20i32..20), 1..400),
            offset in prop::sample::select(vec![0.0, 1e9, -2.5]),
            scale in prop::sample::select(vec![1.0, 0.01, 1e-7]),
            reference_size in 1usize..60,
            window in 1usize..40,
            bins in prop::sample::select(vec![None, Some(1), Some(3), Some(200)]),
        ) {
            let mut d = DriftDetector::new(reference_size, window, Some(1), 0.05).unwrap();
            let mut reference = Vec::new();
            let mut current = std::collections::VecDeque::new();
            for (i, &(kind, k)) in steps.iter().enumerate() {
                let x = match kind {
                    0 => offset,
                    1 => -0.0,
                    2 if i > steps.len() / 2 => offset + scale * f64::from(k + 40),
                    _ => offset + scale * f64::from(k),
                };
                d.update(x);
                if reference.len() < reference_size {
                    reference.push(x);
                } else {
                    if current.len() == window {
                        current.pop_front();
                    }
                    current.push_back(x);
                }
                let cur: Vec<f64> = current.iter().copied().collect();
                let expected = ks_2samp(&reference, &cur).filter(|_| d.ready());
                let got = d.ks();
                prop_assert_eq!(got.map(|t| (t.statistic.to_bits(), t.p_value.to_bits())),
                    expected.map(|t| (t.statistic.to_bits(), t.p_value.to_bits())));
                let expected = if d.ready() { histogram_kl(&reference, &cur, bins).unwrap() } else { None };
                let bits = |h: Option<HistogramKl>| h.map(|h| (h.raw.to_bits(), h.corrected.to_bits(), h.bins, h.occupied));
                prop_assert_eq!(bits(d.histogram_kl(bins).unwrap()), bits(expected.clone()));
                prop_assert_eq!(bits(d.histogram_kl_cached(bins).unwrap()), bits(expected));
                d.validate().unwrap();
            }
        }
    }

    #[test]
    fn detects_a_shift_not_noise() {
        let mut d = DriftDetector::new(200, 50, None, 0.01).unwrap();
        let noise = |i: u64| ((i.wrapping_mul(2654435761) % 1000) as f64) / 1000.0;
        for i in 0..200 {
            d.update(noise(i));
        }
        assert!(!d.ready());
        for i in 200..250 {
            d.update(noise(i));
        }
        assert_eq!(d.drifted(), Some(false));
        for i in 250..300 {
            d.update(noise(i) + 0.5);
        }
        assert_eq!(d.drifted(), Some(true));
        assert!(d.histogram_kl(None).unwrap().unwrap().corrected > 0.1);
        assert!(DriftDetector::new(0, 5, None, 0.01).is_err());
        assert!(DriftDetector::new(5, 5, None, 1.5).is_err());
    }
}
