//! Property tests: every streaming estimator against a naive two-pass oracle, merges at every
//! split point, and serde round trips that continue exactly where they stopped.

use proptest::prelude::*;
use rlforensics_core::state::{from_bytes, to_bytes};
use rlforensics_core::stats::{
    interpolate_sorted, rolling_moments_batch, MomentKind, Moments, QuantileSketch, RollingExtrema,
    RollingMoments, RollingQuantile,
};
use rlforensics_core::trend::RollingTrend;

fn finite(xs: &[f64]) -> Vec<f64> {
    xs.iter().copied().filter(|x| x.is_finite()).collect()
}

/// Two-pass mean and central sums M2..M4, computed on values shifted by the first one (exact
/// differences), so the oracle itself keeps precision at large offsets.
fn two_pass(xs: &[f64]) -> (f64, f64, f64, f64) {
    let n = xs.len() as f64;
    let c = xs[0];
    let mean = xs.iter().map(|x| x - c).sum::<f64>() / n;
    let m = |k: i32| xs.iter().map(|x| (x - c - mean).powi(k)).sum::<f64>();
    (c + mean, m(2), m(3), m(4))
}

/// |a − b| within `tol`·`scale` plus a few units in the last place of the values themselves
/// (a mean at offset 1e6 cannot be closer than its own rounding).
fn close(a: f64, b: f64, scale: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * scale + 4.0 * f64::EPSILON * a.abs().max(b.abs())
}

/// Values with occasional NaN/inf, on a chosen offset and scale.
fn series() -> impl Strategy<Value = Vec<f64>> {
    (
        prop::collection::vec(
            prop_oneof![
                20 => -1.0f64..1.0,
                1 => Just(f64::NAN),
                1 => Just(f64::INFINITY),
                1 => Just(0.25),
            ],
            0..300,
        ),
        prop_oneof![Just(0.0), Just(1e6), Just(-3e9)],
        prop_oneof![Just(1.0), Just(1e-3), Just(1e4)],
    )
        .prop_map(|(v, off, scale)| {
            v.into_iter()
                .map(|x| if x.is_finite() { off + scale * x } else { x })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn moments_match_two_pass(xs in series()) {
        let mut m = Moments::new();
        m.update_slice(&xs);
        let f = finite(&xs);
        prop_assert_eq!(m.count() as usize, f.len());
        prop_assert_eq!(m.nonfinite() as usize, xs.len() - f.len());
        if f.is_empty() {
            prop_assert_eq!(m.mean(), None);
            return Ok(());
        }
        let (mean, m2, _, _) = two_pass(&f);
        let spread = f.iter().map(|x| (x - mean).abs()).fold(0.0, f64::max);
        let scale = spread;
        prop_assert!(close(m.mean().unwrap(), mean, scale, 1e-9), "{} vs {}", m.mean().unwrap(), mean);
        let var = m2 / f.len() as f64;
        prop_assert!(close(m.variance(0).unwrap(), var, spread * spread, 1e-9));
    }

    #[test]
    fn moments_merge_at_every_split(xs in series()) {
        let mut whole = Moments::new();
        whole.update_slice(&xs);
        for split in 0..=xs.len() {
            let mut a = Moments::new();
            let mut b = Moments::new();
            a.update_slice(&xs[..split]);
            b.update_slice(&xs[split..]);
            a.merge(&b);
            prop_assert_eq!(a.count(), whole.count());
            prop_assert_eq!(a.nonfinite(), whole.nonfinite());
            prop_assert_eq!(a.min(), whole.min());
            prop_assert_eq!(a.max(), whole.max());
            if let (Some(x), Some(y)) = (a.variance(0), whole.variance(0)) {
                let s = whole.max().unwrap() - whole.min().unwrap();
                prop_assert!(close(x, y, s * s, 1e-9), "split {}: {} vs {}", split, x, y);
                let mx = a.mean().unwrap();
                let my = whole.mean().unwrap();
                prop_assert!(close(mx, my, s, 1e-9));
            }
            // Merging an empty estimator is the identity.
            let mut c = whole.clone();
            c.merge(&Moments::new());
            prop_assert_eq!(&c, &whole);
        }
    }

    #[test]
    fn rolling_moments_match_windows(xs in series(), window in 1usize..40, mp in 1usize..40) {
        let mp = mp.min(window);
        let mut r = RollingMoments::new(window, Some(mp)).unwrap();
        for i in 0..xs.len() {
            r.update(xs[i]);
            let lo = (i + 1).saturating_sub(window);
            let f = finite(&xs[lo..=i]);
            if f.len() < mp {
                prop_assert_eq!(r.mean(), None);
                continue;
            }
            let (mean, m2, _, _) = two_pass(&f);
            let spread = f.iter().map(|x| (x - mean).abs()).fold(0.0, f64::max);
            prop_assert!(close(r.mean().unwrap(), mean, spread, 1e-8));
            if f.len() > 1 {
                let v = m2 / (f.len() - 1) as f64;
                prop_assert!(close(r.variance(1).unwrap(), v, spread * spread, 1e-8));
            }
        }
    }

    #[test]
    fn rolling_batch_is_bitwise_streaming(xs in series(), window in 1usize..30) {
        let mut out = vec![0.0; xs.len()];
        rolling_moments_batch(&xs, window, Some(1), MomentKind::Std { ddof: 0 }, &mut out).unwrap();
        let mut r = RollingMoments::new(window, Some(1)).unwrap();
        for i in 0..xs.len() {
            r.update(xs[i]);
            let v = r.std(0).unwrap_or(f64::NAN);
            prop_assert!(v.to_bits() == out[i].to_bits() || (v.is_nan() && out[i].is_nan()));
        }
    }

    #[test]
    fn rolling_quantile_and_extrema_match_sorting(xs in series(), window in 1usize..40, q in 0.0f64..=1.0) {
        let mut rq = RollingQuantile::new(window, Some(1)).unwrap();
        let mut re = RollingExtrema::new(window, Some(1)).unwrap();
        for i in 0..xs.len() {
            rq.update(xs[i]);
            re.update(xs[i]);
            let lo = (i + 1).saturating_sub(window);
            let mut f = finite(&xs[lo..=i]);
            f.sort_by(f64::total_cmp);
            prop_assert_eq!(rq.quantile(q), interpolate_sorted(&f, q));
            prop_assert_eq!(re.min(), f.first().copied());
            prop_assert_eq!(re.max(), f.last().copied());
        }
    }

    #[test]
    fn rolling_trend_matches_least_squares(
        ys in prop::collection::vec(-1.0f64..1.0, 2..200),
        gaps in prop::collection::vec(1u32..5, 200),
        base in prop_oneof![Just(0.0), Just(1e9), Just(4.0e15)],
        window in 2usize..30,
    ) {
        let mut step = base;
        let steps: Vec<f64> = gaps.iter().take(ys.len()).map(|&g| { step += f64::from(g); step }).collect();
        let mut t = RollingTrend::new(window, None).unwrap();
        for i in 0..ys.len() {
            t.update(steps[i], ys[i]);
            if i + 1 < window {
                prop_assert_eq!(t.fit(), None);
                continue;
            }
            let lo = i + 1 - window;
            let xs: Vec<f64> = steps[lo..=i].iter().map(|s| s - steps[lo]).collect();
            let (mx, _, _, _) = two_pass(&xs);
            let (my, _, _, _) = two_pass(&ys[lo..=i]);
            let sxy: f64 = xs.iter().zip(&ys[lo..=i]).map(|(x, y)| (x - mx) * (y - my)).sum();
            let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
            let b = sxy / sxx;
            prop_assert!(close(t.slope().unwrap(), b, 1.0, 1e-9), "{} vs {}", t.slope().unwrap(), b);
        }
    }

    #[test]
    fn sketch_merge_at_splits_respects_bound(xs in prop::collection::vec(-1e3f64..1e3, 0..3000), split in 0usize..3000) {
        let split = split.min(xs.len());
        let mut a = QuantileSketch::new(16).unwrap();
        let mut b = QuantileSketch::new(16).unwrap();
        a.update_slice(&xs[..split]);
        b.update_slice(&xs[split..]);
        a.merge(&b).unwrap();
        prop_assert_eq!(a.count() as usize, xs.len());
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        for i in 1..20 {
            let q = f64::from(i) / 20.0;
            if let Some(v) = a.quantile(q) {
                let lo = sorted.partition_point(|&x| x < v) as f64;
                let hi = sorted.partition_point(|&x| x <= v) as f64;
                let target = q * n;
                let err = if target < lo { lo - target } else if target > hi { target - hi } else { 0.0 };
                prop_assert!(err / n <= a.rank_error_bound() + 1.0 / n, "q {} err {} bound {}", q, err / n, a.rank_error_bound());
            }
        }
    }

    #[test]
    fn serde_round_trips_continue_exactly(xs in series(), cut in 0usize..300) {
        let cut = cut.min(xs.len());
        let mut r = RollingMoments::new(7, Some(3)).unwrap();
        let mut m = Moments::new();
        let mut q = QuantileSketch::new(8).unwrap();
        r.update_slice(&xs[..cut]);
        m.update_slice(&xs[..cut]);
        q.update_slice(&xs[..cut]);
        let mut r2: RollingMoments = from_bytes("R", &to_bytes("R", &r)).unwrap();
        let mut m2: Moments = from_bytes("M", &to_bytes("M", &m)).unwrap();
        let mut q2: QuantileSketch = from_bytes("Q", &to_bytes("Q", &q)).unwrap();
        r.update_slice(&xs[cut..]);
        m.update_slice(&xs[cut..]);
        q.update_slice(&xs[cut..]);
        r2.update_slice(&xs[cut..]);
        m2.update_slice(&xs[cut..]);
        q2.update_slice(&xs[cut..]);
        prop_assert_eq!(format!("{r:?}"), format!("{r2:?}"));
        prop_assert_eq!(format!("{m:?}"), format!("{m2:?}"));
        prop_assert_eq!(format!("{q:?}"), format!("{q2:?}"));
    }
}
