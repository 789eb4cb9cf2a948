//! Behaviour of the gradient-norm analyzer on hand-built runs.

use super::*;
use crate::forensics::Severity;
use crate::state::{from_bytes, to_bytes};

use crate::forensics::testing::Noise;

fn kinds(a: &GradientAnalyzer) -> Vec<String> {
    a.events().events().map(|e| e.kind.clone()).collect()
}

/// Healthy PPO gradients: slowly decaying norms with 5% noise, policy about a third of value.
fn healthy(a: &mut GradientAnalyzer, n: usize, seed: u64) {
    let mut rng = Noise(seed);
    for i in 0..n {
        let level = 1.0 + 0.5 * (-(i as f64) / 2000.0).exp();
        let p = 0.5 * level * (1.0 + 0.05 * rng.normal());
        let v = 1.5 * level * (1.0 + 0.05 * rng.normal());
        a.update(i as f64, Some(p), Some(v), None);
    }
}

#[test]
fn healthy_run_is_quiet() {
    for seed in 1..4 {
        let mut a = GradientAnalyzer::new(GradientConfig::default()).unwrap();
        healthy(&mut a, 3000, seed);
        assert!(kinds(&a).is_empty(), "seed {seed}: {:?}", kinds(&a));
        let m = a.metrics();
        assert!(m.gradient_health_score.unwrap() > 0.8, "{m:?}");
        assert!(m.training_stability.unwrap() > 0.7, "{m:?}");
    }
}

#[test]
fn total_only_run_is_analysed() {
    let mut rng = Noise(4);
    let mut a = GradientAnalyzer::new(GradientConfig::default()).unwrap();
    for i in 0..500 {
        let g = if i < 300 { 0.8 } else { 80.0 } * (1.0 + 0.05 * rng.normal());
        a.update(f64::from(i), None, None, Some(g));
    }
    let m = a.metrics();
    assert_eq!(m.policy_value_ratio, None);
    assert!(m.gradient_stability.is_some());
    let k = kinds(&a);
    assert!(
        k.contains(&"exploding_gradient_anomaly".to_string()),
        "{k:?}"
    );
    assert!(
        k.contains(&"adaptive_explosion_anomaly".to_string()),
        "{k:?}"
    );
    let first = a
        .events()
        .events()
        .find(|e| e.kind == "adaptive_explosion_anomaly")
        .unwrap();
    assert!((300.0..=305.0).contains(&first.first_step), "{first:?}");
}

#[test]
fn exploding_policy_norm_with_custom_threshold() {
    let cfg = GradientConfig {
        exploding_threshold: 5.0,
        ..GradientConfig::default()
    };
    let mut a = GradientAnalyzer::new(cfg).unwrap();
    for i in 0..30 {
        let p = if i < 10 { 1.0 } else { 10.0 };
        a.update(f64::from(i), Some(p), Some(1.0), None);
    }
    let ev: Vec<_> = a
        .events()
        .events()
        .filter(|e| e.kind == "exploding_gradient_anomaly")
        .collect();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].severity, Severity::Critical);
    assert!(ev[0].first_step >= 10.0);
}

#[test]
fn constant_large_ratio_is_unbalanced() {
    let mut a = GradientAnalyzer::new(GradientConfig::default()).unwrap();
    for i in 0..20 {
        a.update(f64::from(i), Some(5.0), Some(0.1), None);
    }
    let m = a.metrics();
    assert!(m.gradient_balance.unwrap() < 0.5);
    assert!(m.policy_value_ratio.unwrap() > 10.0);
    let k = kinds(&a);
    assert!(
        k.contains(&"gradient_imbalance_anomaly".to_string()),
        "{k:?}"
    );
}

#[test]
fn non_finite_norm_is_critical_and_kept_out() {
    let mut a = GradientAnalyzer::new(GradientConfig::default()).unwrap();
    for i in 0..40 {
        let p = if i == 20 { f64::NAN } else { 1.0 };
        a.update(f64::from(i), Some(p), Some(2.0), None);
    }
    let ev: Vec<_> = a.events().events().collect();
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0].kind, "non_finite_policy_grad_norm");
    assert_eq!(ev[0].first_step, 20.0);
    assert_eq!(a.metrics().momentum_instability_risk, Some(0.0));
    assert_eq!(a.policy_history().len(), 39);
}

#[test]
fn vanishing_gradients_are_flagged() {
    let mut a = GradientAnalyzer::new(GradientConfig::default()).unwrap();
    for i in 0..60 {
        let g = if i < 30 { 1.0 } else { 1e-5 };
        a.update(f64::from(i), None, None, Some(g));
    }
    let k = kinds(&a);
    assert!(
        k.contains(&"vanishing_gradient_anomaly".to_string()),
        "{k:?}"
    );
    assert!(k.contains(&"gradient_flow_anomaly".to_string()), "{k:?}");
}

#[test]
fn change_point_needs_a_real_shift() {
    let mut rng = Noise(9);
    let mut a = GradientAnalyzer::new(GradientConfig::default()).unwrap();
    let mut flagged = 0;
    for i in 0..2000 {
        a.update(f64::from(i), None, None, Some(1.0 + 0.05 * rng.normal()));
        flagged += usize::from(a.metrics().change_point_detected);
    }
    assert!(flagged < 10, "noise flagged on {flagged} of 2000 steps");
    for i in 2000..2010 {
        a.update(f64::from(i), None, None, Some(3.0 + 0.05 * rng.normal()));
    }
    assert!(kinds(&a).contains(&"change_point_anomaly".to_string()));
}

#[test]
fn batch_equals_per_step_and_snapshot_resumes() {
    let mut rng = Noise(5);
    let n = 600;
    let steps: Vec<f64> = (0..n).map(|i| 1e9 + 8.0 * f64::from(i)).collect();
    let mut p: Vec<f64> = (0..n).map(|_| 0.5 + 0.05 * rng.normal()).collect();
    let v: Vec<f64> = (0..n).map(|_| 1.5 + 0.05 * rng.normal()).collect();
    p[100] = f64::INFINITY;
    let mut a = GradientAnalyzer::new(GradientConfig::default()).unwrap();
    let rows: Vec<_> = (0..n as usize)
        .map(|i| a.update(steps[i], Some(p[i]), Some(v[i]), None).numeric())
        .collect();
    let mut b = GradientAnalyzer::new(GradientConfig::default()).unwrap();
    let cols = gradient_batch(&mut b, &steps, Some(&p), Some(&v), None).unwrap();
    for (i, row) in rows.iter().enumerate() {
        for (j, x) in row.iter().enumerate() {
            assert_eq!(
                x.to_bits(),
                cols[j][i].to_bits(),
                "{}",
                GRADIENT_NUMERIC_FIELDS[j]
            );
        }
    }
    assert_eq!(a, b);
    let mut c = GradientAnalyzer::new(GradientConfig::default()).unwrap();
    gradient_batch(
        &mut c,
        &steps[..300],
        Some(&p[..300]),
        Some(&v[..300]),
        None,
    )
    .unwrap();
    let mut d: GradientAnalyzer = from_bytes("G", &to_bytes("G", &c)).unwrap();
    gradient_batch(
        &mut d,
        &steps[300..],
        Some(&p[300..]),
        Some(&v[300..]),
        None,
    )
    .unwrap();
    assert_eq!(d, a);
}

#[test]
fn parameters_are_validated() {
    for bad in [
        GradientConfig {
            window_size: 0,
            ..GradientConfig::default()
        },
        GradientConfig {
            imbalance_threshold: 1.5,
            ..GradientConfig::default()
        },
        GradientConfig {
            vanishing_threshold: 20.0,
            ..GradientConfig::default()
        },
        GradientConfig {
            smoothing_alpha: 0.0,
            ..GradientConfig::default()
        },
    ] {
        assert!(GradientAnalyzer::new(bad).is_err());
    }
}

#[test]
fn rebuilt_caches_change_nothing() {
    // The sorted windows and balance terms are derived, not serialized: an analyzer restored
    // from bytes before every update (its caches empty each time) must match one that kept
    // them, bit for bit, on a run with missing parts, ties, zeros and bad values.
    let mut rng = Noise(11);
    let cfg = GradientConfig {
        trend_window: 7,
        ..GradientConfig::default()
    };
    let mut kept = GradientAnalyzer::new(cfg).unwrap();
    let mut restored = GradientAnalyzer::new(cfg).unwrap();
    for i in 0..400 {
        let u = rng.uniform();
        let p = if u < 0.1 {
            None
        } else {
            Some((0.5 + 0.05 * rng.normal()).max(0.0))
        };
        let v = match u {
            u if u < 0.2 => Some(2.0),
            u if u < 0.25 => Some(0.0),
            u if u < 0.27 => Some(f64::NAN),
            _ => Some(1.5 + 0.05 * rng.normal()),
        };
        let t = (i % 50 == 7).then_some(3.0);
        restored = from_bytes("G", &to_bytes("G", &restored)).unwrap();
        let a = kept.update(f64::from(i), p, v, t).numeric();
        let b = restored.update(f64::from(i), p, v, t).numeric();
        assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits), "step {i}");
    }
    // Bytes, not `==`: the metrics keep the NaN that was logged, and NaN != NaN.
    assert_eq!(to_bytes("G", &kept), to_bytes("G", &restored));
}

#[test]
fn vanishing_is_relative_to_the_runs_early_level() {
    // A healthy total norm of about 0.5 collapses 500-fold at step 300, to 1e-3: RLDK's
    // absolute 0.001 would never see it.
    let mut rng = Noise(11);
    let mut a = GradientAnalyzer::new(GradientConfig::default()).unwrap();
    for i in 0..300 {
        a.update(i as f64, None, None, Some(0.5 * (1.0 + 0.1 * rng.normal())));
    }
    assert!(!kinds(&a).contains(&"vanishing_gradient_anomaly".to_string()));
    assert!(
        (a.vanishing_floor() - 5e-3).abs() < 1e-3,
        "{}",
        a.vanishing_floor()
    );
    for i in 300..320 {
        a.update(
            i as f64,
            None,
            None,
            Some(1e-3 * (1.0 + 0.1 * rng.normal())),
        );
    }
    let e = a
        .events()
        .events()
        .find(|e| e.kind == "vanishing_gradient_anomaly")
        .expect("vanishing gradients are detected");
    assert!(e.first_step <= 302.0, "onset {}", e.first_step);
    assert_eq!(e.severity, Severity::Critical);
    // The floor never drops below the configured absolute threshold.
    let mut b = GradientAnalyzer::new(GradientConfig::default()).unwrap();
    for i in 0..50 {
        b.update(i as f64, None, None, Some(1e-2));
    }
    assert_eq!(b.vanishing_floor(), 1e-3);
    // It survives a round trip.
    let c: GradientAnalyzer = from_bytes("G", &to_bytes("G", &a)).unwrap();
    assert_eq!(c.vanishing_floor(), a.vanishing_floor());
}
