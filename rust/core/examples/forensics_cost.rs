//! Cost of each forensics part per step, in nanoseconds, without Python in the way.
//!
//! `cargo run --release -p rlforensics-core --example forensics_cost [steps] [part]`
//! (`part`: kl, gradient, advantage, length, signals, all, parts; every part when omitted; one
//! part is handy under a profiler). `parts` times the comprehensive batch with one part
//! switched on at a time; with `RAYON_NUM_THREADS=1` the increments are each part's CPU
//! time per row inside the batch.
//!
//! Feeds the same seeded PPO-shaped columns as `benches/bench_forensics.py` (KL around its
//! target with an adaptive coefficient, entropy, reward, policy/value gradient norms,
//! advantage mean/std, one response record per step) to each tracker alone and to the
//! comprehensive batch path (each tracker configured as the comprehensive forensics
//! configures it by default: window 100), and prints the median of three runs. The Python benchmark is
//! the one of record; this one shows where the time goes while working on the core.

use std::time::Instant;

use rlforensics_core::forensics::advantage::{AdvantageConfig, AdvantageInput, AdvantageTracker};
use rlforensics_core::forensics::comprehensive::{
    comprehensive_batch, ComprehensiveConfig, ComprehensiveForensics, StepColumns,
};
use rlforensics_core::forensics::gradient::{GradientAnalyzer, GradientConfig};
use rlforensics_core::forensics::kl_schedule::{KlScheduleConfig, KlScheduleTracker};
use rlforensics_core::forensics::length_bias::LengthBias;
use rlforensics_core::forensics::signals::{
    signals_batch, KlScale, SignalColumns, SignalConfig, SignalTracker,
};

struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Roughly standard normal (Irwin–Hall of four uniforms).
    fn normal(&mut self) -> f64 {
        (self.uniform() + self.uniform() + self.uniform() + self.uniform() - 2.0) * 3f64.sqrt()
    }
    fn col(&mut self, n: usize, mut f: impl FnMut(usize, f64) -> f64) -> Vec<f64> {
        (0..n).map(|i| f(i, self.normal())).collect()
    }
}

fn median_ns(n: usize, enabled: bool, mut run: impl FnMut()) -> f64 {
    if !enabled {
        return f64::NAN;
    }
    let mut t: Vec<f64> = (0..3)
        .map(|_| {
            let t0 = Instant::now();
            run();
            t0.elapsed().as_secs_f64() * 1e9 / n as f64
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[1]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let part = std::env::args().nth(2);
    let on = |name: &str| part.as_deref().is_none_or(|p| p == name);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let steps: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let kl = rng.col(n, |_, z| 0.1 + 0.01 * z);
    let mut c = 0.2;
    let coef = rng.col(n, |_, z| {
        c *= (0.01 * z).exp();
        c
    });
    let entropy = rng.col(n, |i, z| 2.0 - 1e-6 * i as f64 + 0.01 * z);
    let reward_mean = rng.col(n, |_, z| 0.5 + 0.05 * z);
    let reward_std = rng.col(n, |_, z| 0.3 + 0.01 * z);
    let pg = rng.col(n, |_, z| 0.5 * (1.0 + 0.05 * z));
    let vg = rng.col(n, |_, z| 1.5 * (1.0 + 0.05 * z));
    let am = rng.col(n, |_, z| 0.01 * z);
    let asd = rng.col(n, |_, z| 1.0 + 0.02 * z);
    let rr = rng.col(n, |_, z| z);
    let rl = rng.col(n, |_, u| (210.0 + 110.0 * u).round());

    let kl_ns = median_ns(n, on("kl"), || {
        let mut t = KlScheduleTracker::new(KlScheduleConfig {
            window_size: 100,
            ..KlScheduleConfig::default()
        })
        .unwrap();
        for i in 0..n {
            t.update(steps[i], Some(kl[i]), Some(coef[i]));
        }
    });
    let grad_ns = median_ns(n, on("gradient"), || {
        let mut g = GradientAnalyzer::new(GradientConfig {
            window_size: 100,
            ..GradientConfig::default()
        })
        .unwrap();
        for i in 0..n {
            g.update(steps[i], Some(pg[i]), Some(vg[i]), None);
        }
    });
    let adv_ns = median_ns(n, on("advantage"), || {
        let mut a = AdvantageTracker::new(AdvantageConfig {
            window_size: 100,
            ..AdvantageConfig::default()
        })
        .unwrap();
        for i in 0..n {
            let input = AdvantageInput {
                mean: Some(am[i]),
                std: Some(asd[i]),
                min: None,
                max: None,
                median: None,
                samples: None,
            };
            a.update(steps[i], &input);
        }
    });
    let lb_ns = median_ns(n, on("length"), || {
        let mut lb = LengthBias::new(0.35, 1024).unwrap();
        for i in 0..n {
            lb.add(rr[i], rl[i]);
            lb.maybe_refresh();
        }
    });
    let cols = StepColumns {
        steps: &steps,
        kl: Some(&kl),
        kl_coef: Some(&coef),
        entropy: Some(&entropy),
        reward_mean: Some(&reward_mean),
        reward_std: Some(&reward_std),
        policy_grad_norm: Some(&pg),
        value_grad_norm: Some(&vg),
        advantage_mean: Some(&am),
        advantage_std: Some(&asd),
        response_reward: Some(&rr),
        response_length: Some(&rl),
        ..StepColumns::default()
    };
    // The trainer-signal rules on GRPO-shaped extras: the share of groups without reward
    // variance, the truncation rate, the completion length and two reward components.
    let zero_std = rng.col(n, |_, z| (0.2 + 0.1 * z).clamp(0.0, 1.0));
    let trunc = rng.col(n, |_, z| (0.03 + 0.02 * z).clamp(0.0, 1.0));
    let length = rng.col(n, |_, z| 200.0 * (1.0 + 0.04 * z));
    let fmt = rng.col(n, |_, z| 0.8 + 0.03 * z);
    let acc = rng.col(n, |_, z| 0.3 + 0.03 * z);
    let signals_ns = median_ns(n, on("signals"), || {
        let mut t = SignalTracker::new(SignalConfig {
            kl_scale: KlScale::TokenMean,
            ..SignalConfig::default()
        })
        .unwrap();
        let cols = SignalColumns {
            kl: Some(&kl),
            entropy: Some(&entropy),
            reward_mean: Some(&reward_mean),
            reward_std: Some(&reward_std),
            grad_norm: Some(&pg),
            frac_reward_zero_std: Some(&zero_std),
            truncation_rate: Some(&trunc),
            response_length_mean: Some(&length),
        };
        signals_batch(
            &mut t,
            &steps,
            &cols,
            &[("format", &fmt), ("accuracy", &acc)],
        )
        .unwrap();
    });
    let all_ns = median_ns(n, on("all"), || {
        let mut f = ComprehensiveForensics::new(ComprehensiveConfig::default()).unwrap();
        comprehensive_batch(&mut f, &cols).unwrap();
    });
    // The batch path one part at a time: the bare layer (inputs, scores, output columns),
    // then the layer with one part switched on. With RAYON_NUM_THREADS=1 the increments
    // are each part's CPU time per row inside the batch, and their sum bounds what two
    // cores can do.
    let only = |kl: bool, gradient: bool, advantage: bool, length: bool| {
        let cfg = ComprehensiveConfig {
            enable_kl_schedule_tracking: kl,
            enable_gradient_norms_analysis: gradient,
            enable_advantage_statistics: advantage,
            enable_length_bias_detection: length,
            ..ComprehensiveConfig::default()
        };
        median_ns(n, on("parts"), || {
            let mut f = ComprehensiveForensics::new(cfg).unwrap();
            comprehensive_batch(&mut f, &cols).unwrap();
        })
    };
    let bare = only(false, false, false, false);
    let batch_parts = [
        ("  bare layer", bare),
        (
            "  + KL schedule tracker",
            only(true, false, false, false) - bare,
        ),
        (
            "  + gradient analyzer",
            only(false, true, false, false) - bare,
        ),
        (
            "  + advantage tracker",
            only(false, false, true, false) - bare,
        ),
        ("  + length bias", only(false, false, false, true) - bare),
    ];
    println!("steps: {n}");
    println!("{:<34}{:>10}", "part", "ns/step");
    for (name, ns) in [
        ("KL schedule tracker", kl_ns),
        ("gradient analyzer (policy+value)", grad_ns),
        ("advantage tracker (mean+std)", adv_ns),
        ("length bias (1 response/step)", lb_ns),
        ("trainer signals (all inputs)", signals_ns),
        ("comprehensive batch (all)", all_ns),
    ] {
        println!("{name:<34}{ns:>10.0}");
    }
    if on("parts") {
        println!("comprehensive batch, part by part:");
        for (name, ns) in batch_parts {
            println!("{name:<34}{ns:>10.0}");
        }
        let sum: f64 = batch_parts.iter().map(|p| p.1).sum();
        println!("{:<34}{sum:>10.0}", "  sum");
    }
}
