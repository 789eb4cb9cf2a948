//! Behaviour of the advantage tracker on hand-built runs.

use super::*;
use crate::forensics::Severity;
use crate::state::{from_bytes, to_bytes};

use crate::forensics::testing::Noise;

fn tracker() -> AdvantageTracker {
    AdvantageTracker::new(AdvantageConfig::default()).unwrap()
}

fn ms(mean: f64, std: f64) -> AdvantageInput<'static> {
    AdvantageInput {
        mean: Some(mean),
        std: Some(std),
        ..AdvantageInput::default()
    }
}

fn kinds(t: &AdvantageTracker) -> Vec<String> {
    t.events().events().map(|e| e.kind.clone()).collect()
}

/// A healthy normalised run: mean ~ N(0, 0.02), std 1 ± 5%, logged every 4 steps.
fn healthy(t: &mut AdvantageTracker, n: usize, seed: u64) {
    let mut rng = Noise(seed);
    for i in 0..n {
        let (m, s) = (0.02 * rng.normal(), 1.0 + 0.05 * rng.normal());
        t.update(4.0 * i as f64, &ms(m, s));
    }
}

#[test]
fn healthy_normalised_series_raises_nothing() {
    for seed in 1..6 {
        let mut t = tracker();
        healthy(&mut t, 4000, seed);
        assert!(kinds(&t).is_empty(), "seed {seed}: {:?}", kinds(&t));
        let m = t.metrics();
        assert!(m.advantage_health_score.unwrap() > 0.8, "{m:?}");
        assert!(m.advantage_quality_score.unwrap() > 0.8, "{m:?}");
        assert!(m.advantage_normalization_health.unwrap() > 0.8);
    }
}

#[test]
fn constant_bias_is_one_critical_event_reporting_its_trigger_window() {
    let cfg = AdvantageConfig {
        bias_threshold: 0.05,
        ..AdvantageConfig::default()
    };
    let mut t = AdvantageTracker::new(cfg).unwrap();
    for i in 0..40 {
        t.update(f64::from(i), &ms(0.2, 1.0));
        if i == 4 {
            // RLDK reported a 10-mean bias of 0 here; the value is the 5-mean bias that fired.
            let ev: Vec<_> = t.events().events().collect();
            assert_eq!(ev.len(), 1);
            assert!((ev[0].value - 0.2).abs() < 1e-12);
        }
    }
    let ev: Vec<_> = t
        .events()
        .events()
        .filter(|e| e.kind == "advantage_bias_anomaly")
        .collect();
    assert_eq!(ev.len(), 1, "{:?}", kinds(&t));
    assert_eq!(ev[0].severity, Severity::Critical);
    assert_eq!((ev[0].first_step, ev[0].last_step), (4.0, 39.0));
    assert_eq!(ev[0].threshold, Some(0.05));
    assert!(ev[0].active && ev[0].occurrences == 36);
    assert_eq!(t.metrics().advantage_bias_risk, Some(1.0));
}

/// RLDK's bias threshold is absolute (made for whitened advantages): against a wider
/// spread, a bias that crosses the critical risk but is small for that spread stays a
/// warning; the same bias with unit spread, or a large one with the wide spread, is critical.
#[test]
fn critical_bias_is_large_against_the_spread_too() {
    let severity = |mean: f64, std: f64| {
        let mut t = tracker();
        for i in 0..20 {
            t.update(f64::from(i), &ms(mean, std));
        }
        let ev: Vec<_> = t
            .events()
            .events()
            .filter(|e| e.kind == "advantage_bias_anomaly")
            .map(|e| e.severity)
            .collect();
        assert_eq!(ev.len(), 1);
        ev[0]
    };
    assert_eq!(severity(0.09, 1.5), Severity::Warning);
    assert_eq!(severity(0.09, 1.0), Severity::Critical);
    assert_eq!(severity(0.09, 0.5), Severity::Critical);
    assert_eq!(severity(0.3, 1.5), Severity::Critical);
}

#[test]
fn no_rule_before_five_values() {
    let mut t = tracker();
    for i in 0..4 {
        t.update(f64::from(i), &ms(5.0, 1.0));
    }
    assert!(kinds(&t).is_empty());
    t.update(4.0, &ms(5.0, 1.0));
    assert_eq!(kinds(&t), ["advantage_bias_anomaly"]);
}

#[test]
fn repeated_skewed_batch_has_skewness() {
    let mut rng = Noise(3);
    let batch: Vec<f64> = (0..120).map(|_| -rng.uniform().ln()).collect();
    let mut t = tracker();
    for i in 0..20 {
        t.update(
            f64::from(i),
            &AdvantageInput {
                samples: Some(&batch),
                ..ms(0.0, 1.0)
            },
        );
    }
    let m = t.metrics();
    assert!(m.advantage_skewness.unwrap().abs() > 0.5, "{m:?}");
    assert!(m.advantage_kurtosis.is_some() && m.advantage_distribution_risk.is_some());
    let p = m.advantage_percentiles.unwrap();
    assert!(p.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(t.samples().count(), 500);
}

#[test]
fn samples_skip_non_finite_values_and_count_them() {
    let mut t = tracker();
    let xs = [1.0, f64::NAN, 2.0, f64::INFINITY, 3.0];
    t.update(
        0.0,
        &AdvantageInput {
            samples: Some(&xs),
            ..AdvantageInput::default()
        },
    );
    assert_eq!(t.metrics().nonfinite_sample_count, 2);
    assert_eq!(t.samples().collect::<Vec<_>>(), [1.0, 2.0, 3.0]);
    assert_eq!(
        t.metrics().advantage_skewness,
        None,
        "fewer than 50 samples"
    );
    assert!(t.events().events().next().is_none());
}

#[test]
fn a_huge_batch_feeds_only_its_tail() {
    let xs: Vec<f64> = (0..100_000).map(f64::from).collect();
    let mut t = tracker();
    t.update(
        0.0,
        &AdvantageInput {
            samples: Some(&xs),
            ..AdvantageInput::default()
        },
    );
    let kept: Vec<f64> = t.samples().collect();
    assert_eq!(kept.len(), 500);
    assert_eq!(kept[0], 99_500.0);
    let p50 = t.metrics().advantage_percentiles.unwrap()[3];
    assert_eq!(p50, 99_974.5);
}

#[test]
fn non_finite_mean_is_a_critical_event_and_does_not_poison_statistics() {
    let mut t = tracker();
    for i in 0..30 {
        let m = if i == 12 { f64::NAN } else { 0.01 };
        t.update(f64::from(i), &ms(m, 1.0));
    }
    let ev: Vec<_> = t.events().events().collect();
    assert_eq!(ev.len(), 1, "{:?}", kinds(&t));
    assert_eq!(ev[0].kind, "non_finite_advantage_mean");
    assert_eq!(ev[0].severity, Severity::Critical);
    assert_eq!(ev[0].first_step, 12.0);
    let m = t.metrics();
    assert_eq!(m.nonfinite_mean_count, 1);
    assert!((m.advantage_bias.unwrap() - 0.01).abs() < 1e-15);
    assert_eq!(t.mean_history().count(), 29);
    t.update(30.0, &ms(0.0, f64::INFINITY));
    assert_eq!(t.metrics().nonfinite_std_count, 1);
    assert!(kinds(&t).contains(&"non_finite_advantage_std".to_string()));
}

#[test]
fn missing_values_change_nothing_but_the_echo() {
    let mut t = tracker();
    for i in 0..20 {
        t.update(f64::from(i), &ms(0.01 * f64::from(i % 3), 1.0));
    }
    let before = t.metrics().clone();
    let m = t
        .update(
            20.0,
            &AdvantageInput {
                median: Some(0.0),
                ..AdvantageInput::default()
            },
        )
        .clone();
    assert_eq!(m.advantage_mean, None);
    assert_eq!(m.advantage_min, None);
    assert_eq!(m.advantage_median, Some(0.0));
    assert_eq!(m.advantage_bias, before.advantage_bias);
    assert_eq!(m.advantage_health_score, before.advantage_health_score);
    // Only the std: the mean analyses stay as they were.
    let m = t
        .update(
            21.0,
            &AdvantageInput {
                std: Some(1.0),
                ..AdvantageInput::default()
            },
        )
        .clone();
    assert_eq!(m.advantage_volatility, before.advantage_volatility);
    assert_eq!(t.mean_history().count(), 20);
    assert_eq!(t.std_history().count(), 21);
    assert_eq!(t.history().len(), 22);
}

#[test]
fn not_enough_data_is_none_not_a_perfect_score() {
    let mut t = tracker();
    let m = t.update(0.0, &ms(0.0, 1.0));
    assert_eq!(m.advantage_health_score, None);
    assert_eq!(m.advantage_quality_score, None);
    assert_eq!(m.advantage_percentiles, None);
    let m = t.update(1.0, &ms(0.0, 1.0)).clone();
    assert_eq!(m.advantage_volatility, None);
    for i in 2..5 {
        t.update(f64::from(i), &ms(0.0, 1.0));
    }
    // Five values: the risks exist, and the health score is the mean of its available parts.
    let m = t.metrics();
    assert_eq!(m.advantage_bias_risk, Some(0.0));
    assert_eq!(m.advantage_health_score, Some(1.0));
    assert_eq!(m.advantage_normalization_health, None);
}

#[test]
fn trend_is_per_logged_step_and_its_rule_is_scale_aware() {
    // The mean drifts by 0.001 per step, logged every 10 steps: 0.19 across 20 logs.
    let mut t = tracker();
    for i in 0..40 {
        let step = 10.0 * f64::from(i);
        t.update(step, &ms(0.001 * step - 0.2, 1.0));
    }
    let slope = t.metrics().advantage_mean_trend.unwrap();
    assert!((slope - 0.001).abs() < 1e-12);
    assert!(kinds(&t).contains(&"advantage_trend_anomaly".to_string()));
    // The same per-step drift logged every step changes only 0.019 across the window.
    let mut t = tracker();
    for i in 0..400 {
        let step = f64::from(i);
        t.update(step, &ms(0.001 * (step % 40.0) - 0.02, 1.0));
    }
    assert!(!kinds(&t).contains(&"advantage_trend_anomaly".to_string()));
    // Steps counting down: the threshold is still a positive per-step limit.
    let mut t = tracker();
    for i in 0..40 {
        let step = 400.0 - 10.0 * f64::from(i);
        t.update(step, &ms(0.01 * f64::from(i) - 0.2, 1.0));
    }
    let ev = t
        .events()
        .events()
        .find(|e| e.kind == "advantage_trend_anomaly")
        .unwrap();
    assert!((ev.value + 0.001).abs() < 1e-12);
    assert!((ev.threshold.unwrap() - 0.1 / 190.0).abs() < 1e-15);
}

#[test]
fn collapsing_std_is_flagged_against_the_early_level() {
    let mut t = tracker();
    for i in 0..30 {
        t.update(f64::from(i), &ms(0.0, 1.0));
    }
    assert_eq!(t.early_std_level(), Some(1.0));
    for i in 30..40 {
        t.update(f64::from(i), &ms(0.0, 0.05));
    }
    let ev: Vec<_> = t
        .events()
        .events()
        .filter(|e| e.kind == "advantage_scale_collapse_anomaly")
        .collect();
    assert_eq!(ev.len(), 1, "{:?}", kinds(&t));
    assert_eq!(
        ev[0].first_step, 32.0,
        "median of the last 5 drops at the third"
    );
    assert_eq!(ev[0].severity, Severity::Warning);
    for i in 40..50 {
        t.update(f64::from(i), &ms(0.0, 1e-4));
    }
    let ev = t
        .events()
        .events()
        .find(|e| e.kind == "advantage_scale_collapse_anomaly")
        .unwrap();
    assert_eq!(ev.severity, Severity::Critical);
    assert!(ev.value < COLLAPSE_CRITICAL);
}

#[test]
fn batch_equals_per_step_and_snapshot_resumes_exactly() {
    let mut rng = Noise(9);
    let n = 700;
    let steps: Vec<f64> = (0..n).map(|i| 3.0 * i as f64).collect();
    let mut mean: Vec<f64> = (0..n)
        .map(|i| 0.02 * rng.normal() + if i > 400 { 0.08 } else { 0.0 })
        .collect();
    let mut std: Vec<f64> = (0..n).map(|_| 1.0 + 0.3 * rng.normal()).collect();
    mean[333] = f64::INFINITY;
    std[100] = f64::NAN;
    let median: Vec<f64> = mean.iter().map(|m| m * 0.5).collect();
    let echo = EchoColumns {
        median: Some(&median),
        ..EchoColumns::default()
    };
    let mut a = tracker();
    let mut per_step = Vec::new();
    for i in 0..n {
        let input = AdvantageInput {
            median: Some(median[i]),
            ..ms(mean[i], std[i])
        };
        per_step.push(a.update(steps[i], &input).numeric());
    }
    let mut b = tracker();
    let cols = advantage_batch(&mut b, &steps, &mean, &std, echo).unwrap();
    for (i, row) in per_step.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            assert_eq!(
                v.to_bits(),
                cols[j][i].to_bits(),
                "row {i} {}",
                ADVANTAGE_NUMERIC_FIELDS[j]
            );
        }
    }
    // Bytes, not `==`: estimators that never saw a value hold NaN markers (NaN != NaN).
    assert_eq!(to_bytes("A", &a), to_bytes("A", &b));
    assert!(kinds(&a).contains(&"non_finite_advantage_mean".to_string()));
    // Snapshot half-way, restore, continue: identical to never stopping.
    let mut c = tracker();
    let half = EchoColumns {
        median: Some(&median[..350]),
        ..EchoColumns::default()
    };
    advantage_batch(&mut c, &steps[..350], &mean[..350], &std[..350], half).unwrap();
    let mut d: AdvantageTracker = from_bytes("A", &to_bytes("A", &c)).unwrap();
    let rest = EchoColumns {
        median: Some(&median[350..]),
        ..EchoColumns::default()
    };
    advantage_batch(&mut d, &steps[350..], &mean[350..], &std[350..], rest).unwrap();
    assert_eq!(to_bytes("A", &d), to_bytes("A", &a));
}

#[test]
fn batch_checks_lengths() {
    let mut t = tracker();
    assert!(advantage_batch(&mut t, &[0.0], &[0.0, 1.0], &[1.0], EchoColumns::default()).is_err());
    let short = EchoColumns {
        min: Some(&[]),
        ..EchoColumns::default()
    };
    assert!(advantage_batch(&mut t, &[0.0], &[0.0], &[1.0], short).is_err());
}

#[test]
fn parameters_are_validated() {
    for (cfg, name) in [
        (
            AdvantageConfig {
                bias_threshold: 0.0,
                ..AdvantageConfig::default()
            },
            "bias_threshold",
        ),
        (
            AdvantageConfig {
                scale_threshold: f64::NAN,
                ..AdvantageConfig::default()
            },
            "scale_threshold",
        ),
        (
            AdvantageConfig {
                trend_window: 1,
                ..AdvantageConfig::default()
            },
            "trend_window",
        ),
        (
            AdvantageConfig {
                distribution_window: 3,
                ..AdvantageConfig::default()
            },
            "distribution_window",
        ),
        (
            AdvantageConfig {
                window_size: 0,
                ..AdvantageConfig::default()
            },
            "window_size",
        ),
    ] {
        let err = AdvantageTracker::new(cfg).unwrap_err().to_string();
        assert!(err.starts_with(name), "{err}");
    }
}

#[test]
fn history_is_capped() {
    let cfg = AdvantageConfig {
        history_size: 7,
        window_size: 3,
        ..AdvantageConfig::default()
    };
    let mut t = AdvantageTracker::new(cfg).unwrap();
    for i in 0..20 {
        t.update(f64::from(i), &ms(0.0, 1.0));
    }
    assert_eq!(t.history().len(), 7);
    assert_eq!(t.history()[0].step, 13.0);
    assert_eq!(t.mean_history().count(), 3);
}
