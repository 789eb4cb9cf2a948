//! Each rule on a healthy, noisy run (quiet) and on the same run with its fault (fires,
//! soon after the onset), plus state round trips.

use super::*;
use crate::forensics::testing::Noise;

const N: usize = 400;
const ONSET: usize = 200;

/// A healthy GRPO-like run: every signal noisy at realistic scales.
#[derive(Clone)]
struct Run {
    kl: Vec<f64>,
    entropy: Vec<f64>,
    reward: Vec<f64>,
    reward_std: Vec<f64>,
    grad: Vec<f64>,
    zero_std: Vec<f64>,
    trunc: Vec<f64>,
    length: Vec<f64>,
    fmt: Vec<f64>,
    acc: Vec<f64>,
}

fn healthy(seed: u64) -> Run {
    let mut z = Noise(seed);
    let mut r = Run {
        kl: vec![],
        entropy: vec![],
        reward: vec![],
        reward_std: vec![],
        grad: vec![],
        zero_std: vec![],
        trunc: vec![],
        length: vec![],
        fmt: vec![],
        acc: vec![],
    };
    for i in 0..N {
        let t = i as f64 / N as f64;
        r.kl.push(0.04 * t * (0.2 * z.normal()).exp() + 1e-4);
        r.entropy
            .push(1.2 * (1.0 - 0.3 * t) * (1.0 + 0.03 * z.normal()));
        let fmt = 0.5 + 0.3 * t + 0.03 * z.normal();
        let acc = 0.2 + 0.1 * t + 0.03 * z.normal();
        r.fmt.push(fmt);
        r.acc.push(acc);
        r.reward.push(fmt + acc);
        r.reward_std.push(0.3 * (1.0 + 0.1 * z.normal()));
        r.grad.push(0.5 * (0.25 * z.normal()).exp());
        r.zero_std.push((0.2 + 0.1 * z.normal()).clamp(0.0, 1.0));
        r.trunc.push((0.03 + 0.02 * z.normal()).clamp(0.0, 1.0));
        r.length
            .push(200.0 * (1.0 + 0.1 * t) * (1.0 + 0.04 * z.normal()));
    }
    r
}

fn cfg() -> SignalConfig {
    SignalConfig {
        kl_scale: KlScale::TokenMean,
        ..SignalConfig::default()
    }
}

fn feed(run: &Run) -> SignalTracker {
    let mut t = SignalTracker::new(cfg()).unwrap();
    for i in 0..N {
        let comps = [("format", run.fmt[i]), ("accuracy", run.acc[i])];
        t.update(&SignalInput {
            step: (i + 1) as f64,
            kl: Some(run.kl[i]),
            entropy: Some(run.entropy[i]),
            reward_mean: Some(run.reward[i]),
            reward_std: Some(run.reward_std[i]),
            grad_norm: Some(run.grad[i]),
            frac_reward_zero_std: Some(run.zero_std[i]),
            truncation_rate: Some(run.trunc[i]),
            response_length_mean: Some(run.length[i]),
            reward_components: &comps,
        });
    }
    t
}

/// The onset delay (rows) of the first event of `kind`, if any.
fn delay(t: &SignalTracker, kind: &str) -> Option<f64> {
    t.events()
        .events()
        .find(|e| e.kind == kind)
        .map(|e| e.first_step - (ONSET + 1) as f64)
}

fn kinds(t: &SignalTracker) -> Vec<String> {
    t.events().events().map(|e| e.kind.clone()).collect()
}

#[test]
fn healthy_runs_raise_nothing() {
    for seed in 1..=8 {
        let t = feed(&healthy(seed));
        assert!(
            kinds(&t).is_empty(),
            "seed {seed}: {:#?}",
            t.events().events().collect::<Vec<_>>()
        );
        let s = t.scores();
        assert!(s.health.unwrap() > 0.7, "{s:?}");
        assert!(s.convergence.unwrap() > 0.5, "{s:?}");
    }
}

/// Applies `fault` from the onset on and checks that `kind` fires within `within` rows.
fn caught(kind: &str, within: f64, fault: impl Fn(&mut Run, usize, usize)) {
    for seed in 1..=4 {
        let mut run = healthy(seed);
        for i in ONSET..N {
            fault(&mut run, i, i - ONSET);
        }
        let t = feed(&run);
        let d = delay(&t, kind);
        assert!(
            d.is_some_and(|d| (0.0..=within).contains(&d)),
            "seed {seed}: {kind} delay {d:?}; events {:?}",
            kinds(&t)
        );
        // Nothing before the onset.
        assert!(
            t.events().events().all(|e| e.first_step > ONSET as f64),
            "{:?}",
            kinds(&t)
        );
    }
}

#[test]
fn kl_blowup_and_spike() {
    caught("kl_spike", 10.0, |r, i, k| {
        r.kl[i] *= 1.2f64.powi(k as i32 + 1)
    });
    caught("kl_blowup", 30.0, |r, i, k| {
        r.kl[i] *= 1.2f64.powi(k as i32 + 1)
    });
}

#[test]
fn kl_past_the_token_level_is_critical() {
    let mut run = healthy(3);
    for i in ONSET..N {
        run.kl[i] = 2.0;
    }
    let t = feed(&run);
    let e = t.events().events().find(|e| e.kind == "kl_blowup").unwrap();
    assert_eq!(e.severity, Severity::Critical);
}

#[test]
fn gradient_explosion_spike_and_collapse() {
    caught("grad_norm_spike", 1.0, |r, i, _| r.grad[i] *= 30.0);
    caught("grad_norm_explosion", 3.0, |r, i, k| {
        r.grad[i] *= 10f64.powf(1.0 + k as f64 / 5.0)
    });
    caught("grad_norm_collapse", 5.0, |r, i, _| r.grad[i] *= 1e-3);
}

#[test]
fn entropy_and_policy_collapse() {
    caught("entropy_collapse", 12.0, |r, i, k| {
        r.entropy[i] *= (-0.25 * k as f64).exp()
    });
    caught("policy_collapse", 20.0, |r, i, k| {
        let f = (-0.4 * k as f64).exp();
        r.entropy[i] *= f;
        r.reward_std[i] *= f;
        r.grad[i] *= f;
        r.zero_std[i] = 1.0 - 0.8 * f;
    });
}

#[test]
fn starvation_and_spread_collapse() {
    caught("learning_signal_starvation", 10.0, |r, i, _| {
        r.zero_std[i] = 0.95
    });
    caught("reward_std_collapse", 10.0, |r, i, _| {
        r.reward_std[i] *= 0.03
    });
}

#[test]
fn truncation_saturation() {
    caught("truncation_saturation", 15.0, |r, i, k| {
        r.trunc[i] = (r.trunc[i] + 0.06 * k as f64).min(1.0);
    });
}

#[test]
fn length_hacking() {
    caught("length_hacking", 20.0, |r, i, k| {
        let g = 0.015 * k as f64;
        r.length[i] *= 1.0 + g;
        r.reward[i] += 0.5 * g;
    });
}

#[test]
fn reward_hacking() {
    caught("reward_hacking", 20.0, |r, i, k| {
        r.reward[i] += 0.02 * k as f64;
        r.kl[i] *= 1.1f64.powi(k as i32 + 1);
    });
}

#[test]
fn component_divergence() {
    caught("reward_component_divergence", 40.0, |r, i, k| {
        r.fmt[i] += 0.01 * k as f64;
        r.acc[i] -= 0.01 * k as f64;
    });
}

#[test]
fn non_finite_inputs_are_critical_where_checked() {
    let mut run = healthy(5);
    run.grad[ONSET] = f64::NAN;
    run.trunc[ONSET + 1] = f64::INFINITY;
    let t = feed(&run);
    let k = kinds(&t);
    assert!(
        k.contains(&"non_finite_grad_norm".into())
            && k.contains(&"non_finite_truncation_rate".into()),
        "{k:?}"
    );
    // With grad_norm checked elsewhere, only the truncation rate is reported here.
    let mut t = SignalTracker::with_checked(cfg(), !(1 << 4)).unwrap();
    t.update(&SignalInput {
        step: 1.0,
        grad_norm: Some(f64::NAN),
        truncation_rate: Some(f64::NAN),
        ..SignalInput::default()
    });
    assert_eq!(kinds(&t), vec!["non_finite_truncation_rate".to_string()]);
    assert_eq!(t.nonfinite(), 2);
}

#[test]
fn no_data_means_no_scores() {
    let mut t = SignalTracker::new(cfg()).unwrap();
    t.update(&SignalInput {
        step: 1.0,
        ..SignalInput::default()
    });
    assert_eq!(t.scores(), SignalScores::default());
}

#[test]
fn batch_equals_per_step_and_state_round_trips() {
    let run = healthy(7);
    let per_step = feed(&run);
    let steps: Vec<f64> = (1..=N).map(|i| i as f64).collect();
    let mut batch = SignalTracker::new(cfg()).unwrap();
    signals_batch(
        &mut batch,
        &steps,
        &SignalColumns {
            kl: Some(&run.kl),
            entropy: Some(&run.entropy),
            reward_mean: Some(&run.reward),
            reward_std: Some(&run.reward_std),
            grad_norm: Some(&run.grad),
            frac_reward_zero_std: Some(&run.zero_std),
            truncation_rate: Some(&run.trunc),
            response_length_mean: Some(&run.length),
        },
        &[("format", &run.fmt), ("accuracy", &run.acc)],
    )
    .unwrap();
    assert_eq!(batch, per_step);
    let bytes = crate::state::to_bytes("SignalTracker", &batch);
    let back: SignalTracker = crate::state::from_bytes("SignalTracker", &bytes).unwrap();
    assert_eq!(back, batch);
    // A split run resumes exactly.
    let mut a = SignalTracker::new(cfg()).unwrap();
    let cols = |r: std::ops::Range<usize>| SignalColumns {
        kl: Some(&run.kl[r.clone()]),
        entropy: Some(&run.entropy[r.clone()]),
        reward_mean: Some(&run.reward[r.clone()]),
        reward_std: Some(&run.reward_std[r.clone()]),
        grad_norm: Some(&run.grad[r.clone()]),
        frac_reward_zero_std: Some(&run.zero_std[r.clone()]),
        truncation_rate: Some(&run.trunc[r.clone()]),
        response_length_mean: Some(&run.length[r]),
    };
    signals_batch(
        &mut a,
        &steps[..150],
        &cols(0..150),
        &[("format", &run.fmt[..150]), ("accuracy", &run.acc[..150])],
    )
    .unwrap();
    let mut b: SignalTracker = crate::state::from_bytes(
        "SignalTracker",
        &crate::state::to_bytes("SignalTracker", &a),
    )
    .unwrap();
    signals_batch(
        &mut b,
        &steps[150..],
        &cols(150..N),
        &[("format", &run.fmt[150..]), ("accuracy", &run.acc[150..])],
    )
    .unwrap();
    assert_eq!(b, per_step);
}

#[test]
fn bad_parameters_are_errors() {
    for bad in [
        SignalConfig {
            baseline_rows: 2,
            ..cfg()
        },
        SignalConfig {
            spike_window: 500,
            ..cfg()
        },
        SignalConfig {
            spike_z: f64::NAN,
            ..cfg()
        },
        SignalConfig {
            event_release: 0,
            ..cfg()
        },
        SignalConfig {
            trend_window: 65,
            ..cfg()
        },
        SignalConfig {
            component_window: 129,
            ..cfg()
        },
    ] {
        assert!(SignalTracker::new(bad).is_err(), "{bad:?}");
    }
    assert!(KlScale::parse("nats").is_err());
    assert_eq!(KlScale::parse("token_mean").unwrap(), KlScale::TokenMean);
}
