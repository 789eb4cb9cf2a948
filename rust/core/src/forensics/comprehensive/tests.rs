//! Behaviour of the comprehensive forensics.

use super::*;
use crate::forensics::Severity;
use crate::state::{from_bytes, to_bytes};

fn row(step: f64) -> StepInput {
    StepInput {
        step,
        ..StepInput::default()
    }
}

#[test]
fn trackers_update_only_when_their_inputs_are_logged() {
    let mut f = ComprehensiveForensics::new(ComprehensiveConfig::default()).unwrap();
    let m = f
        .update(
            StepInput {
                reward_mean: Some(1.0),
                ..row(0.0)
            },
            None,
            &[],
        )
        .clone();
    assert!(m.kl_schedule_metrics.is_none() && m.gradient_norms_metrics.is_none());
    assert_eq!(
        m.overall_health_score, None,
        "no data is not a perfect score"
    );
    assert_eq!(f.kl().unwrap().updates(), 0);
    let m = f
        .update(
            StepInput {
                kl: Some(0.1),
                total_grad_norm: Some(1.0),
                ..row(1.0)
            },
            None,
            &[],
        )
        .clone();
    assert!(m.kl_schedule_metrics.is_some() && m.gradient_norms_metrics.is_some());
    assert_eq!(f.gradient().unwrap().updates(), 1);
}

#[test]
fn non_finite_entropy_is_critical() {
    let mut f = ComprehensiveForensics::new(ComprehensiveConfig::default()).unwrap();
    f.update(
        StepInput {
            entropy: Some(f64::NAN),
            ..row(7.0)
        },
        None,
        &[],
    );
    let e: Vec<_> = f.events().events().collect();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].kind, "non_finite_entropy");
    assert_eq!(e[0].severity, Severity::Critical);
    assert_eq!(e[0].first_step, 7.0);
}

#[test]
fn length_bias_streams_and_raises_an_event() {
    let mut f = ComprehensiveForensics::new(ComprehensiveConfig::default()).unwrap();
    for i in 0..50 {
        let batch: Vec<(f64, f64)> = (0..8)
            .map(|j| {
                let len = f64::from(10 + 5 * j);
                (len / 50.0 + 0.01 * f64::from(i % 3), len)
            })
            .collect();
        f.update(row(f64::from(i)), None, &batch);
    }
    let m = f.metrics();
    assert!(m.length_bias_detected);
    assert!(m.length_reward_correlation.unwrap() > 0.9);
    assert!(f
        .events()
        .events()
        .any(|e| e.kind == "length_bias_anomaly" && e.active));
}

/// Feeds `cols` to fresh forensics step by step (each row with its response record) and as
/// one batch, checks that every row's metrics are the same bits, and returns both.
fn per_step_and_batch(
    cfg: ComprehensiveConfig,
    cols: &StepColumns<'_>,
) -> (ComprehensiveForensics, ComprehensiveForensics) {
    let mut a = ComprehensiveForensics::new(cfg).unwrap();
    let n = cols.steps.len();
    let starts = cols.response_starts(0..n, 0);
    let mut rec = Vec::new();
    let rows: Vec<_> = (0..n)
        .map(|i| {
            cols.responses_into(starts[i], starts[i + 1], &mut rec);
            a.update(cols.row(i), None, &rec).numeric()
        })
        .collect();
    let mut b = ComprehensiveForensics::new(cfg).unwrap();
    let out = comprehensive_batch(&mut b, cols).unwrap();
    for (i, r) in rows.iter().enumerate() {
        for (j, v) in r.iter().enumerate() {
            assert_eq!(
                v.to_bits(),
                out[j][i].to_bits(),
                "row {i} {}",
                COMPREHENSIVE_NUMERIC_FIELDS[j]
            );
        }
    }
    (a, b)
}

#[test]
fn batch_equals_per_step_and_snapshot_resumes() {
    let n = 400;
    let steps: Vec<f64> = (0..n).map(f64::from).collect();
    let kl: Vec<f64> = (0..n)
        .map(|i| 0.1 + 0.02 * (f64::from(i) / 7.0).sin())
        .collect();
    let coef: Vec<f64> = (0..n).map(|i| 0.05 + 0.001 * f64::from(i % 11)).collect();
    let mut ent: Vec<f64> = (0..n).map(|i| 2.0 - 0.001 * f64::from(i)).collect();
    ent[123] = f64::NAN;
    let g: Vec<f64> = (0..n)
        .map(|i| 1.0 + 0.1 * (f64::from(i) / 3.0).cos())
        .collect();
    let rr: Vec<f64> = (0..n).map(|i| f64::from(i % 17) / 17.0).collect();
    let rl: Vec<f64> = (0..n).map(|i| f64::from(50 + i % 23)).collect();
    let cols = StepColumns {
        steps: &steps,
        kl: Some(&kl),
        kl_coef: Some(&coef),
        entropy: Some(&ent),
        total_grad_norm: Some(&g),
        response_reward: Some(&rr),
        response_length: Some(&rl),
        ..StepColumns::default()
    };
    let (a, b) = per_step_and_batch(ComprehensiveConfig::default(), &cols);
    // NaN inputs live in the state, so compare snapshots (NaN != NaN under PartialEq).
    assert!(to_bytes("C", &a) == to_bytes("C", &b));
    let mut c: ComprehensiveForensics = from_bytes("C", &to_bytes("C", &b)).unwrap();
    assert!(to_bytes("C", &c) == to_bytes("C", &a));
    c.update(row(1e12), None, &[]);
    assert_eq!(c.updates(), a.updates() + 1);
}

/// A batch longer than the history: the early rows keep no snapshot (the layer then writes
/// its snapshot in place), the last ones do. Rows, events, final state and history equal
/// per-step updates, with a reward that starts paying for length half-way (length-bias
/// analyses, the short horizon and the record-to-record confirmation all run).
#[test]
fn long_batch_equals_per_step_with_a_capped_history_and_length_bias() {
    let n = 1500usize;
    let mut noise = crate::forensics::testing::Noise(3);
    let steps: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let kl: Vec<f64> = (0..n).map(|_| 0.1 + 0.01 * noise.normal()).collect();
    let coef: Vec<f64> = (0..n).map(|i| 0.2 + 0.001 * (i % 13) as f64).collect();
    let pg: Vec<f64> = (0..n)
        .map(|_| 0.5 * (1.0 + 0.05 * noise.normal()))
        .collect();
    let vg: Vec<f64> = (0..n)
        .map(|_| 1.5 * (1.0 + 0.05 * noise.normal()))
        .collect();
    let am: Vec<f64> = (0..n).map(|_| 0.01 * noise.normal()).collect();
    let asd: Vec<f64> = (0..n).map(|_| 1.0 + 0.02 * noise.normal()).collect();
    let rl: Vec<f64> = (0..n)
        .map(|_| (200.0 + 30.0 * noise.normal()).round())
        .collect();
    let rr: Vec<f64> = (0..n)
        .map(|i| {
            let paid = if i > n / 2 {
                0.01 * (rl[i] - 200.0)
            } else {
                0.0
            };
            paid + 0.2 * noise.normal()
        })
        .collect();
    let cols = StepColumns {
        steps: &steps,
        kl: Some(&kl),
        kl_coef: Some(&coef),
        policy_grad_norm: Some(&pg),
        value_grad_norm: Some(&vg),
        advantage_mean: Some(&am),
        advantage_std: Some(&asd),
        response_reward: Some(&rr),
        response_length: Some(&rl),
        ..StepColumns::default()
    };
    let cfg = ComprehensiveConfig {
        history_size: 25,
        length_bias_window: 256,
        ..ComprehensiveConfig::default()
    };
    let (a, b) = per_step_and_batch(cfg, &cols);
    assert!(a
        .events()
        .events()
        .any(|e| e.kind == "length_bias_anomaly" && e.first_step > (n / 2) as f64));
    assert_eq!(a.layer().history().len(), 25);
    assert!(a.layer().history() == b.layer().history());
    assert!(a.metrics() == b.metrics());
    assert!(to_bytes("C", &a) == to_bytes("C", &b));
    for f in [&a, &b] {
        snapshots_are_stored_once(f);
    }
}

/// Each kept step's tracker metrics are one allocation, held by the tracker's history and
/// the layer's snapshot alike (per-step updates and the batch path), not two copies.
fn snapshots_are_stored_once(f: &ComprehensiveForensics) {
    fn same<T>(a: Option<&std::sync::Arc<T>>, b: &std::sync::Arc<T>) -> bool {
        a.is_some_and(|a| std::sync::Arc::ptr_eq(a, b))
    }
    let layer = f.layer().history();
    let (kl, g, adv) = (
        f.kl().unwrap(),
        f.gradient().unwrap(),
        f.advantage().unwrap(),
    );
    assert_eq!(kl.history().len(), layer.len());
    for (i, snap) in layer.iter().enumerate() {
        assert!(
            same(snap.kl_schedule_metrics.as_ref(), &kl.history()[i]),
            "{i}"
        );
        assert!(
            same(snap.gradient_norms_metrics.as_ref(), &g.history()[i]),
            "{i}"
        );
        assert!(
            same(
                snap.advantage_statistics_metrics.as_ref(),
                &adv.history()[i]
            ),
            "{i}"
        );
    }
}

/// A batch over several of the batch path's chunks, with a history that reaches back
/// across a chunk boundary: the trackers run side by side within each chunk, and rows,
/// events, histories and final state still equal per-step updates.
#[test]
fn batch_across_chunks_equals_per_step() {
    let chunk = super::batch::CHUNK;
    let n = 2 * chunk + 1234;
    let mut noise = crate::forensics::testing::Noise(8);
    let steps: Vec<f64> = (0..n).map(|i| (3 * i) as f64).collect();
    let mut kl: Vec<f64> = (0..n)
        .map(|i| 0.1 + 0.02 * (i as f64 / 500.0).sin() + 0.01 * noise.normal())
        .collect();
    kl[chunk] = f64::NAN;
    let coef: Vec<f64> = (0..n).map(|i| 0.2 + 0.001 * (i % 13) as f64).collect();
    let mut pg: Vec<f64> = (0..n)
        .map(|_| 0.5 * (1.0 + 0.05 * noise.normal()))
        .collect();
    pg[chunk + 7] *= 100.0;
    let vg: Vec<f64> = (0..n)
        .map(|_| 1.5 * (1.0 + 0.05 * noise.normal()))
        .collect();
    let am: Vec<f64> = (0..n).map(|_| 0.01 * noise.normal()).collect();
    let asd: Vec<f64> = (0..n).map(|_| 1.0 + 0.02 * noise.normal()).collect();
    let ent: Vec<f64> = (0..n).map(|_| 2.0 + 0.1 * noise.normal()).collect();
    let cols = StepColumns {
        steps: &steps,
        kl: Some(&kl),
        kl_coef: Some(&coef),
        entropy: Some(&ent),
        policy_grad_norm: Some(&pg),
        value_grad_norm: Some(&vg),
        advantage_mean: Some(&am),
        advantage_std: Some(&asd),
        ..StepColumns::default()
    };
    let cfg = ComprehensiveConfig {
        history_size: chunk / 2 + 1500,
        ..ComprehensiveConfig::default()
    };
    let (a, b) = per_step_and_batch(cfg, &cols);
    assert!(a.kl().unwrap().events().events().count() > 0);
    assert!(a.gradient().unwrap().events().events().count() > 0);
    assert!(to_bytes("C", &a) == to_bytes("C", &b));
}

/// Steps with batches of response records (0 to 9 of them, flat with per-step counts),
/// over more than one chunk: rows and final state equal per-step updates that get each
/// step's records, and the length-bias anomaly a late bias raises is found on both.
#[test]
fn batched_response_records_equal_per_step() {
    let n = super::batch::CHUNK + 3000;
    let mut noise = crate::forensics::testing::Noise(21);
    let steps: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let kl: Vec<f64> = (0..n).map(|_| 0.1 + 0.01 * noise.normal()).collect();
    let counts: Vec<f64> = (0..n).map(|i| ((i * 7) % 10) as f64).collect();
    let total = counts.iter().sum::<f64>() as usize;
    let mut lengths = Vec::with_capacity(total);
    let mut rewards = Vec::with_capacity(total);
    for j in 0..total {
        let l = (200.0 + 40.0 * noise.normal()).round();
        let paid = if j > total / 2 {
            0.01 * (l - 200.0)
        } else {
            0.0
        };
        lengths.push(if j == 77 { f64::NAN } else { l });
        rewards.push(paid + 0.3 * noise.normal());
    }
    let cols = StepColumns {
        steps: &steps,
        kl: Some(&kl),
        response_reward: Some(&rewards),
        response_length: Some(&lengths),
        response_counts: Some(&counts),
        ..StepColumns::default()
    };
    let (a, b) = per_step_and_batch(ComprehensiveConfig::default(), &cols);
    assert!(a.events().events().any(|e| e.kind == "length_bias_anomaly"));
    assert!(to_bytes("C", &a) == to_bytes("C", &b));
    // Counts must be whole, non-negative and add up to the records given.
    let mut f = ComprehensiveForensics::new(ComprehensiveConfig::default()).unwrap();
    for bad in [1.5, -1.0, f64::NAN] {
        let mut c = counts.clone();
        c[3] = bad;
        let cols = StepColumns {
            response_counts: Some(&c),
            ..cols
        };
        assert!(comprehensive_batch(&mut f, &cols).is_err());
    }
    let short = &rewards[..total - 1];
    let cols = StepColumns {
        response_reward: Some(short),
        ..cols
    };
    assert!(comprehensive_batch(&mut f, &cols).is_err());
    assert_eq!(f.updates(), 0, "nothing is fed on a bad batch");
}

#[test]
fn disabled_trackers_are_absent() {
    let cfg = ComprehensiveConfig {
        enable_kl_schedule_tracking: false,
        enable_length_bias_detection: false,
        ..ComprehensiveConfig::default()
    };
    let mut f = ComprehensiveForensics::new(cfg).unwrap();
    assert!(f.kl().is_none() && f.length_bias().is_none());
    let m = f.update(
        StepInput {
            kl: Some(0.1),
            ..row(0.0)
        },
        None,
        &[(1.0, 2.0)],
    );
    assert!(m.kl_schedule_metrics.is_none() && m.length_bias_threshold.is_none());
}
