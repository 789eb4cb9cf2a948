//! Named regression tests for the adversarial inputs the issue lists: large offsets, constant
//! input, non-finite values, huge step numbers and long-run drift of sliding sums.

use rlforensics_core::control::{controller_batch, ControllerConfig, ControllerKind};
use rlforensics_core::drift::{histogram_kl, ks_2samp};
use rlforensics_core::stats::{
    rolling_moments_batch, EwMoments, EwSpec, MomentKind, Moments, RollingMoments,
};
use rlforensics_core::trend::{rolling_trend_batch, RollingTrend};

/// xorshift64* in [0, 1): deterministic data without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn window_var(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
}

#[test]
fn large_offset_1e9_spread_1e3() {
    let mut rng = Rng(1);
    let xs: Vec<f64> = (0..100_000).map(|_| 1e9 + 1e-3 * rng.next()).collect();
    let mut m = Moments::new();
    m.update_slice(&xs);
    let shifted: Vec<f64> = xs.iter().map(|x| x - 1e9).collect();
    let exact = window_var(&shifted);
    let rel = (m.variance(1).unwrap() - exact).abs() / exact;
    assert!(rel < 1e-9, "whole-run relative error {rel}");
    let mut r = RollingMoments::new(50, None).unwrap();
    r.update_slice(&xs);
    let exact = window_var(&shifted[xs.len() - 50..]);
    let rel = (r.variance(1).unwrap() - exact).abs() / exact;
    assert!(rel < 1e-9, "rolling relative error {rel}");
}

#[test]
fn constant_input_variance_is_exactly_zero() {
    for c in [0.1, 1e9 + 0.3, -7.25, 0.0] {
        let mut m = Moments::new();
        let mut r = RollingMoments::new(16, None).unwrap();
        let mut e = EwMoments::new(EwSpec::Span(10.0)).unwrap();
        for _ in 0..5000 {
            m.update(c);
            r.update(c);
            e.update(c);
        }
        assert_eq!(m.variance(0), Some(0.0));
        assert_eq!(r.variance(1), Some(0.0));
        assert_eq!(r.mean(), Some(c));
        assert_eq!(e.variance(), Some(0.0));
        assert_eq!(
            m.skewness(true),
            None,
            "skewness of a constant is undefined"
        );
    }
}

#[test]
fn nonfinite_values_never_poison_sums() {
    let mut xs: Vec<f64> = (0..10_000).map(|i| (i % 10) as f64).collect();
    for i in (0..xs.len()).step_by(37) {
        xs[i] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][i % 3];
    }
    let mut out = vec![0.0; xs.len()];
    rolling_moments_batch(&xs, 20, Some(10), MomentKind::Mean, &mut out).unwrap();
    assert!(out[100..].iter().all(|v| v.is_finite()));
    let mut m = Moments::new();
    m.update_slice(&xs);
    assert!(m.mean().unwrap().is_finite());
    assert_eq!(m.nonfinite(), xs.len().div_ceil(37) as u64);
    let ks = ks_2samp(&[f64::NAN, 1.0, 2.0], &[1.0, 2.0, f64::INFINITY]).unwrap();
    assert_eq!(ks.n_a, 2);
    assert!(histogram_kl(&[f64::NAN], &[1.0], None).unwrap().is_none());
    let cfg = ControllerConfig::new(0.1, 0.01, None, 3, 2).unwrap();
    let r = controller_batch(
        cfg,
        &[f64::NAN, 0.1, 0.1],
        Some(&[1.0, f64::NAN, 1.0]),
        None,
    )
    .unwrap();
    assert_eq!(r.nonfinite_kl, 1);
    assert_eq!(r.invalid_coef, 1);
    assert_eq!(r.controller, ControllerKind::Fixed);
}

#[test]
fn huge_step_numbers_near_2_pow_52() {
    let base = 2f64.powi(52);
    let steps: Vec<f64> = (0..1000).map(|i| base + (i * 4) as f64).collect();
    let ys: Vec<f64> = (0..1000).map(|i| 0.25 * (i * 4) as f64 + 3.0).collect();
    let mut slope = vec![0.0; steps.len()];
    rolling_trend_batch(&steps, &ys, 10, None, &mut slope, None, None).unwrap();
    for s in &slope[9..] {
        assert!((s - 0.25).abs() < 1e-12, "slope {s}");
    }
    let mut t = RollingTrend::new(10, None).unwrap();
    for i in 0..steps.len() {
        t.update(steps[i], ys[i]);
    }
    assert!(t.fit().unwrap().r2.unwrap() > 1.0 - 1e-12);
}

/// Sliding sums over a long run must not drift: the error after 10^8 steps is that of a
/// fresh window. The series makes naive add/subtract drift visible (large offset, steady
/// trend, tiny noise). `SLIDING_DRIFT_STEPS` changes the length.
#[test]
fn sliding_sums_do_not_drift_over_long_runs() {
    let steps: usize = std::env::var("SLIDING_DRIFT_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000_000);
    let window = 64;
    let mut rng = Rng(42);
    let mut r = RollingMoments::new(window, None).unwrap();
    let mut last = std::collections::VecDeque::with_capacity(window);
    let mut worst: f64 = 0.0;
    for i in 0..steps {
        let x = 1e6 + 1e-3 * i as f64 + 1e-4 * rng.next();
        r.update(x);
        if last.len() == window {
            last.pop_front();
        }
        last.push_back(x);
        if i % 10_000_000 == 9_999_999 || i + 1 == steps {
            let w: Vec<f64> = last.iter().map(|v| v - last[0]).collect();
            let exact = window_var(&w);
            let rel = (r.variance(1).unwrap() - exact).abs() / exact;
            worst = worst.max(rel);
        }
    }
    assert!(
        worst < 1e-6,
        "relative variance error after {steps} steps: {worst}"
    );
}

/// A level jump into a quiet stretch leaves the anchor far from the window; the variance must
/// not lose precision until the next periodic recompute (found by the property tests).
#[test]
fn level_jump_then_quiet_window_keeps_precision() {
    let mut xs = vec![0.0; 10];
    xs.extend((0..40).map(|i| 1e3 + 1e-5 * ((i * 7) % 5) as f64));
    let mut r = RollingMoments::new(8, None).unwrap();
    for (i, &x) in xs.iter().enumerate() {
        r.update(x);
        if i >= 17 {
            let w: Vec<f64> = xs[i - 7..=i].iter().map(|v| v - 1e3).collect();
            let exact = window_var(&w);
            let got = r.variance(1).unwrap();
            assert!(
                (got - exact).abs() <= 1e-9 * exact,
                "step {i}: {got} vs {exact}"
            );
        }
    }
}
