//! Streaming drift detector: a frozen reference sample versus a sliding current window.
//!
//! The first `reference_size` finite values form the reference; only later values enter the
//! current window (RLDK let the window overlap its own reference, which hides drift early on).
//! The reference is kept sorted and, once full, frozen: each window value is ranked in it on
//! arrival, so a KS test costs O(window) per call, and the histogram test counts the
//! reference's bins by binary search (or, through [`DriftDetector::histogram_kl_cached`],
//! reuses the counts while the grid stays the same, keeps the window's counts on that grid
//! up to date value by value, and remembers the divergence terms by bin and count). Nothing
//! is re-sorted per step.

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
    /// The divergence terms of the tests on this grid.
    terms: TermMemo,
    /// The grid and its upper end.
    grid: Grid,
    hi: f64,
    /// The current window's bin counts on this grid, while they are known: kept up to date
    /// value by value (see [`BinCache::track`]) for the most recently used grid as long as
    /// every window value lies in its span, so that a test need not count the window.
    window: Option<Vec<u64>>,
}

impl BinCache {
    /// Moves the window's counts on the most recently used grid by one value in (`x`) and
    /// the one that left (`out`). A value outside the grid's span drops them (the grid of
    /// the next test is another one; should this one come back, it is counted afresh).
    fn track(&mut self, x: f64, out: Option<f64>) {
        let Some(g) = self.0.first_mut() else {
            return;
        };
        let Some(counts) = g.window.as_mut() else {
            return;
        };
        // `Grid::bin_of` bins values of the span only: lo <= x <= hi.
        if !(g.grid.lo() <= x && x <= g.hi) {
            g.window = None;
            return;
        }
        counts[g.grid.bin_of(x)] += 1;
        if let Some(o) = out {
            // `o` was in the window, so in the span and counted.
            counts[g.grid.bin_of(o)] -= 1;
        }
    }
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
            let out = self.window.push(x, &self.reference);
            self.reference_bins.track(x, out);
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
        let key = (lo.to_bits(), hi.to_bits(), bins);
        let fresh = |grid: &Grid| GridCache {
            key,
            reference: grid.counts_sorted(&self.reference),
            run_ends: grid.run_ends(),
            terms: TermMemo::default(),
            grid: *grid,
            hi,
            window: None,
        };
        let Some(BinCache(grids)) = cache else {
            // A one-off test: the usual grids (at most 50 bins by default) are counted on
            // the stack, and the terms computed afresh.
            let c = fresh(&grid);
            let mut stack = [0u64; 64];
            let mut heap = Vec::new();
            let cur: &mut [u64] = if bins <= stack.len() {
                &mut stack[..bins]
            } else {
                heap.resize(bins, 0);
                &mut heap
            };
            grid.count_sorted_into(self.window.sorted(), &c.run_ends, cur);
            return Ok(Some(divergence_with(
                cur,
                &c.reference,
                self.window.steps(),
                None,
            )));
        };
        // Most recently used first; only the first keeps its window counts up to date.
        match grids.iter().position(|c| c.key == key) {
            Some(0) => {}
            Some(i) => grids[..=i].rotate_right(1),
            None => {
                grids.truncate(CACHED_GRIDS - 1);
                grids.insert(0, fresh(&grid));
            }
        }
        if let Some(previous) = grids.get_mut(1) {
            previous.window = None;
        }
        let GridCache {
            reference,
            run_ends,
            terms,
            window,
            ..
        } = &mut grids[0];
        let cur = window.get_or_insert_with(|| {
            let mut counts = vec![0; bins];
            grid.count_sorted_into(self.window.sorted(), run_ends, &mut counts);
            counts
        });
        Ok(Some(divergence_with(
            cur,
            reference,
            self.window.steps(),
            Some(terms),
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

    /// What the detector should hold: the first `reference_size` values, then the last
    /// `window` values after them, kept the plain way.
    struct Mirror {
        reference: Vec<f64>,
        reference_size: usize,
        current: std::collections::VecDeque<f64>,
        window: usize,
    }

    impl Mirror {
        fn new(reference_size: usize, window: usize) -> Self {
            Mirror {
                reference: Vec::new(),
                reference_size,
                current: std::collections::VecDeque::new(),
                window,
            }
        }

        fn push(&mut self, x: f64) {
            if self.reference.len() < self.reference_size {
                self.reference.push(x);
            } else {
                if self.current.len() == self.window {
                    self.current.pop_front();
                }
                self.current.push_back(x);
            }
        }

        fn current(&self) -> Vec<f64> {
            self.current.iter().copied().collect()
        }
    }

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
            let mut mirror = Mirror::new(reference_size, window);
            for (i, &(kind, k)) in steps.iter().enumerate() {
                let x = match kind {
                    0 => offset,
                    1 => -0.0,
                    2 if i > steps.len() / 2 => offset + scale * f64::from(k + 40),
                    _ => offset + scale * f64::from(k),
                };
                d.update(x);
                mirror.push(x);
                let (reference, cur) = (&mirror.reference, mirror.current());
                let expected = ks_2samp(reference, &cur).filter(|_| d.ready());
                let got = d.ks();
                prop_assert_eq!(got.map(|t| (t.statistic.to_bits(), t.p_value.to_bits())),
                    expected.map(|t| (t.statistic.to_bits(), t.p_value.to_bits())));
                let expected = if d.ready() { histogram_kl(reference, &cur, bins).unwrap() } else { None };
                let bits = |h: Option<HistogramKl>| h.map(|h| (h.raw.to_bits(), h.corrected.to_bits(), h.bins, h.occupied));
                prop_assert_eq!(bits(d.histogram_kl(bins).unwrap()), bits(expected.clone()));
                prop_assert_eq!(bits(d.histogram_kl_cached(bins).unwrap()), bits(expected));
                d.validate().unwrap();
            }
        }
    }

    proptest! {
        /// The window's bin counts kept value by value between sparse tests (every `every`
        /// values, with bins switching between calls and values that leave the grid's span
        /// and come back) and the terms remembered across tests give the from-scratch
        /// numbers at every test.
        #[test]
        fn sparse_cached_tests_equal_the_from_scratch_function(
            steps in prop::collection::vec((0u8..8, -20i32..20), 1..500),
            offset in prop::sample::select(vec![0.0, 1e9, -2.5]),
            scale in prop::sample::select(vec![1.0, 0.01, 1e-7]),
            reference_size in 1usize..80,
            window in 1usize..60,
            every in 1usize..9,
            bins in prop::sample::select(vec![None, Some(2), Some(7), Some(300)]),
        ) {
            let mut d = DriftDetector::new(reference_size, window, Some(1), 0.05).unwrap();
            let mut mirror = Mirror::new(reference_size, window);
            for (i, &(kind, k)) in steps.iter().enumerate() {
                let x = match kind {
                    0 => offset,
                    // Now and then far outside the reference's range, on either side.
                    1 => offset + scale * 1e3,
                    2 => offset - scale * 1e3,
                    _ => offset + scale * f64::from(k),
                };
                d.update(x);
                mirror.push(x);
                if i % every != 0 || !d.ready() {
                    continue;
                }
                // Now and then another bin count, which moves the cache to another grid.
                let bins = if (i / every) % 5 == 4 { Some(3) } else { bins };
                let expected = histogram_kl(&mirror.reference, &mirror.current(), bins).unwrap();
                let bits = |h: Option<HistogramKl>| h.map(|h| (h.raw.to_bits(), h.corrected.to_bits(), h.bins, h.occupied));
                prop_assert_eq!(bits(d.histogram_kl_cached(bins).unwrap()), bits(expected));
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
