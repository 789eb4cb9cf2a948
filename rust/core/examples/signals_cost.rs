//! Cost of the trainer-signal rules per logged step, in nanoseconds, without Python.
//!
//! `cargo run --release -p rlforensics-core --example signals_cost [steps]`
//!
//! Feeds GRPO-shaped columns (per-token KL growing from 0, entropy, reward and its spread,
//! grad_norm, the zero-std share, the truncation rate, the completion length and two reward
//! components) through `signals_batch` and prints the median of three runs; the TRL monitor
//! benchmark (`benches/bench_trl_monitor.py`) is the one of record.

use std::time::Instant;

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
    fn normal(&mut self) -> f64 {
        (self.uniform() + self.uniform() + self.uniform() + self.uniform() - 2.0) * 3f64.sqrt()
    }
    fn col(&mut self, n: usize, mut f: impl FnMut(f64, f64) -> f64) -> Vec<f64> {
        (0..n)
            .map(|i| f(i as f64 / n as f64, self.normal()))
            .collect()
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let steps: Vec<f64> = (1..=n).map(|i| i as f64).collect();
    let kl = r.col(n, |t, z| 0.05 * t * (0.2 * z).exp() + 1e-4);
    let entropy = r.col(n, |t, z| 1.2 * (1.0 - 0.3 * t) * (1.0 + 0.03 * z));
    let fmt = r.col(n, |t, z| 0.5 + 0.3 * t + 0.03 * z);
    let acc = r.col(n, |t, z| 0.2 + 0.1 * t + 0.03 * z);
    let reward: Vec<f64> = fmt.iter().zip(&acc).map(|(a, b)| a + b).collect();
    let reward_std = r.col(n, |_, z| 0.3 * (1.0 + 0.1 * z));
    let grad = r.col(n, |_, z| 0.5 * (0.25 * z).exp());
    let zero_std = r.col(n, |_, z| (0.2 + 0.1 * z).clamp(0.0, 1.0));
    let trunc = r.col(n, |_, z| (0.03 + 0.02 * z).clamp(0.0, 1.0));
    let length = r.col(n, |t, z| 200.0 * (1.0 + 0.1 * t) * (1.0 + 0.04 * z));
    let cols = SignalColumns {
        kl: Some(&kl),
        entropy: Some(&entropy),
        reward_mean: Some(&reward),
        reward_std: Some(&reward_std),
        grad_norm: Some(&grad),
        frac_reward_zero_std: Some(&zero_std),
        truncation_rate: Some(&trunc),
        response_length_mean: Some(&length),
    };
    let comps: [(&str, &[f64]); 2] = [("format", &fmt), ("accuracy", &acc)];
    let mut times: Vec<f64> = (0..3)
        .map(|_| {
            let mut t = SignalTracker::new(SignalConfig {
                kl_scale: KlScale::TokenMean,
                ..SignalConfig::default()
            })
            .unwrap();
            let t0 = Instant::now();
            signals_batch(&mut t, &steps, &cols, &comps).unwrap();
            t0.elapsed().as_secs_f64() * 1e9 / n as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("steps: {n}");
    println!("trainer-signal rules, all inputs: {:.0} ns/step", times[1]);
}
