//! Each window kernel against the straightforward definition it replaced (the allocating
//! code on `small.rs`'s functions, kept here as the reference): bit for bit.

use proptest::prelude::*;

use super::*;
use crate::forensics::small::{percentile, std, variance};

fn reference_second_differences(xs: &[f64]) -> Vec<f64> {
    xs.windows(3).map(|w| w[2] - 2.0 * w[1] + w[0]).collect()
}

fn reference_momentum_risk(xs: &[f64]) -> Option<f64> {
    let mu = mean(xs)?;
    if mu <= 0.0 {
        return None;
    }
    let diffs: Vec<f64> = xs.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let acc = reference_second_differences(xs);
    let accelerating = fraction(&acc, |a| a > 0.0);
    Some((mean(&diffs)? / mu * accelerating).min(1.0))
}

fn reference_noise(xs: &[f64]) -> Option<f64> {
    let acc = reference_second_differences(xs);
    std(&acc, 1).map(|sd| 3.0 * sd / (acc.len() as f64).sqrt())
}

fn reference_stability(xs: &[f64]) -> Option<f64> {
    let mu = mean(xs)?;
    let sd = std(xs, 1)?;
    (mu > 0.0).then(|| 1.0 - (sd / mu).min(1.0))
}

fn reference_outlier_risk(xs: &[f64], cfg: &GradientConfig) -> f64 {
    let (mu, sd) = (mean(xs).unwrap_or(0.0), std(xs, 1).unwrap_or(0.0));
    let z = if sd > 1e-12 * mu.abs().max(1e-300) {
        fraction(xs, |x| ((x - mu) / sd).abs() > cfg.z_score_threshold)
    } else {
        0.0
    };
    let (q1, q3) = (
        percentile(xs, 25.0).unwrap_or(0.0),
        percentile(xs, 75.0).unwrap_or(0.0),
    );
    let k = cfg.iqr_multiplier * (q3 - q1);
    let iqr = fraction(xs, |x| x < q1 - k || x > q3 + k);
    z.max(iqr)
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    a.map(f64::to_bits) == b.map(f64::to_bits)
}

/// Norm-like values: a few levels (ties, constant windows, zeros) or anywhere.
fn norm() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::sample::select(vec![0.0, 1.0, 1.5, 1e-300, 1e300]),
        0.0..10.0f64,
    ]
}

fn series(steps: &[f64], ys: &[f64]) -> Series {
    let mut s = Series::new(64);
    for (&x, &y) in steps.iter().zip(ys) {
        s.push(x, y);
    }
    s
}

proptest! {
    #[test]
    fn momentum_is_the_reference(
        xs in prop::collection::vec(norm(), 0..40),
        constant in any::<bool>(),
    ) {
        let xs = if constant { vec![xs.first().copied().unwrap_or(2.0); xs.len()] } else { xs };
        let mo = momentum(&xs);
        prop_assert!(same(mo.risk, reference_momentum_risk(&xs)), "{:?}", mo);
        let acc = reference_second_differences(&xs);
        prop_assert!(same(mo.acceleration, mean(&acc)));
        prop_assert!(same(acceleration_noise(&xs), reference_noise(&xs)));
    }

    #[test]
    fn stability_and_outliers_are_the_reference(
        xs in prop::collection::vec(norm(), 1..30),
        constant in any::<bool>(),
    ) {
        let xs = if constant { vec![xs[0]; xs.len()] } else { xs };
        prop_assert!(same(stability(&xs), reference_stability(&xs)));
        let cfg = GradientConfig::default();
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let (a, b) = (outlier_risk(&xs, &sorted, &cfg), reference_outlier_risk(&xs, &cfg));
        prop_assert_eq!(a.to_bits(), b.to_bits());
        let (m, v) = mean_variance(&xs, 1);
        prop_assert!(same(m, mean(&xs)) && same(v, variance(&xs, 1)));
    }

    #[test]
    fn nested_windows_have_each_window_mean_variance(
        xs in prop::collection::vec(prop_oneof![Just(-0.0), norm()], 0..40),
        mut lens in prop::collection::vec(0usize..45, 3),
        constant in any::<bool>(),
    ) {
        lens.sort_unstable();
        let xs = if constant { vec![xs.first().copied().unwrap_or(-0.0); xs.len()] } else { xs };
        let got = nested_mean_variances(&xs, [lens[0], lens[1], lens[2]]);
        for (g, &l) in got.iter().zip(&lens) {
            let want = (l >= 1 && l <= xs.len()).then(|| mean_variance(&xs[xs.len() - l..], 0));
            prop_assert_eq!(
                g.map(|(m, v)| (m.to_bits(), v.to_bits())),
                want.map(|(m, v)| (m.unwrap().to_bits(), v.unwrap().to_bits()))
            );
        }
    }

    #[test]
    fn fused_trends_are_each_series_trend(
        ys in prop::collection::vec(norm(), 60),
        gaps in prop::collection::vec(prop::sample::select(vec![1.0, 1.0, 8.0]), 20),
        k in 2usize..20,
        misaligned in 0usize..3,
    ) {
        let steps: Vec<f64> = gaps.iter().scan(1e9, |s, g| { *s += g; Some(*s) }).collect();
        let (a, b, c) = (&ys[..20], &ys[20..40], &ys[40..]);
        let mut other = steps.clone();
        if misaligned == 1 {
            other[19] += 0.5;
        }
        let s = [series(&steps, a), series(&steps, b), series(&other, c)];
        let got = trends([&s[0], &s[1], &s[2]], k);
        for (g, s) in got.iter().zip(&s) {
            let want = s.trend(k);
            prop_assert!(same(g.map(|f| f.0), want.map(|f| f.0)));
            prop_assert!(same(g.and_then(|f| f.1), want.and_then(|f| f.1)));
            prop_assert!(same(g.map(|f| f.2), want.map(|f| f.2)));
        }
    }

    #[test]
    fn cached_balance_is_the_mean_term(
        rs in prop::collection::vec(prop_oneof![Just(1.0), Just(10.0), 0.001..100.0f64], 1..40),
        restart in 0usize..40,
    ) {
        let mut ratio = Series::new(30);
        let mut derived = Derived::default();
        for (i, &r) in rs.iter().enumerate() {
            if i == restart {
                // What deserialization leaves: an empty cache beside full series.
                derived = Derived::default();
            }
            derived.push_ratio(&mut ratio, 20, i as f64, r);
            let want = ratio.last(SHORT).map(|w| {
                w.iter().map(|r| (1.0 - r.log10().abs()).max(0.0)).sum::<f64>() / SHORT as f64
            });
            prop_assert!(same(derived.balance(&ratio), want));
        }
    }
}
