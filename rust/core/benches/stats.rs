//! Throughput of the batch kernels on 10^7 float64 values, in elements per second.
//!
//! Run with `cargo bench -p rlforensics-core` (about two minutes). Every kernel writes into a
//! preallocated output, so these figures exclude the allocation and first-touch page faults
//! that the Python batch API pays for its fresh NumPy output; see `benches/bench_stats.py`
//! for the side-by-side comparison with NumPy, pandas and polars.
//!
//! Two floors frame the numbers: one pass of sum and sum of squares over the input (read
//! only), and a copy of the input into the output buffer (read + write, as a batch kernel
//! must do at the very least).

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use rlforensics_core::stats::{
    ewm_batch, rolling_max_batch, rolling_min_batch, rolling_moments_batch, rolling_quantile_batch,
    EwSpec, MomentKind, Moments, QuantileSketch,
};
use rlforensics_core::trend::rolling_trend_batch;

const N: usize = 10_000_000;
const WINDOW: usize = 50;

/// Roughly standard-normal values (Irwin–Hall of four xorshift64* uniforms), seeded.
fn data(n: usize, mut seed: u64) -> Vec<f64> {
    let mut uniform = move || {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        let r = seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| (uniform() + uniform() + uniform() + uniform() - 2.0) * 3f64.sqrt())
        .collect()
}

/// Sum and sum of squares in one pass, with independent accumulators so the loop is bound
/// by memory bandwidth, not by the latency of one dependent add chain.
fn sum_and_squares(xs: &[f64]) -> (f64, f64) {
    let mut s = [0.0f64; 8];
    let mut q = [0.0f64; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            s[k] += c[k];
            q[k] += c[k] * c[k];
        }
    }
    let mut s1: f64 = s.iter().sum();
    let mut s2: f64 = q.iter().sum();
    for &x in rest {
        s1 += x;
        s2 += x * x;
    }
    (s1, s2)
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    // 10^7 values take 10 ms to 1 s per call: a flat sampling of 10 samples keeps the whole
    // run short while still giving a median over at least 10 calls.
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(N as u64));
    g
}

fn bench_rolling(c: &mut Criterion) {
    let xs = data(N, 0x5EED_1234_ABCD_0001);
    let steps: Vec<f64> = (0..N).map(|i| i as f64).collect();
    let mut out = vec![0.0; N];

    let mut g = group(c, "rolling_moments_batch");
    for (name, kind) in [
        ("mean", MomentKind::Mean),
        ("std", MomentKind::Std { ddof: 1 }),
        ("skew", MomentKind::Skew { bias: false }),
        ("kurt", MomentKind::Kurt { bias: false }),
    ] {
        g.bench_function(format!("{name}/w{WINDOW}"), |b| {
            b.iter(|| {
                rolling_moments_batch(black_box(&xs), WINDOW, None, kind, &mut out).unwrap();
                black_box(&out);
            });
        });
    }
    g.finish();

    let mut g = group(c, "rolling_quantile_batch");
    g.bench_function(format!("q0.9/w{WINDOW}"), |b| {
        b.iter(|| {
            rolling_quantile_batch(black_box(&xs), WINDOW, 0.9, None, &mut out).unwrap();
            black_box(&out);
        });
    });
    g.finish();

    let mut g = group(c, "rolling_extrema_batch");
    g.bench_function(format!("min/w{WINDOW}"), |b| {
        b.iter(|| {
            rolling_min_batch(black_box(&xs), WINDOW, None, &mut out).unwrap();
            black_box(&out);
        });
    });
    g.bench_function(format!("max/w{WINDOW}"), |b| {
        b.iter(|| {
            rolling_max_batch(black_box(&xs), WINDOW, None, &mut out).unwrap();
            black_box(&out);
        });
    });
    g.finish();

    let mut g = group(c, "ewm_batch");
    g.bench_function("mean/span20", |b| {
        b.iter(|| {
            ewm_batch(black_box(&xs), EwSpec::Span(20.0), false, &mut out).unwrap();
            black_box(&out);
        });
    });
    g.finish();

    let mut g = group(c, "rolling_trend_batch");
    g.bench_function(format!("slope/w{WINDOW}"), |b| {
        b.iter(|| {
            rolling_trend_batch(
                black_box(&steps),
                black_box(&xs),
                WINDOW,
                None,
                &mut out,
                None,
                None,
            )
            .unwrap();
            black_box(&out);
        });
    });
    g.finish();

    let mut g = group(c, "whole_run");
    g.bench_function("Moments::update_slice", |b| {
        b.iter(|| {
            let mut m = Moments::new();
            m.update_slice(black_box(&xs));
            black_box(m.kurtosis(true))
        });
    });
    g.bench_function("QuantileSketch::update_slice", |b| {
        b.iter(|| {
            let mut s = QuantileSketch::new(QuantileSketch::DEFAULT_K).unwrap();
            s.update_slice(black_box(&xs));
            black_box(s.quantile(0.9))
        });
    });
    g.finish();

    // Same kernels writing into a fresh `vec![0.0; n]` per call: zeroed 4 KiB pages from the
    // OS, faulted in while the kernel writes. This was the Python binding's output path before
    // it switched to NumPy-allocated outputs (huge pages); kept to show what allocation costs.
    let mut g = group(c, "fresh_vec_output");
    for (name, kind) in [
        ("mean", MomentKind::Mean),
        ("std", MomentKind::Std { ddof: 1 }),
    ] {
        g.bench_function(format!("{name}/w{WINDOW}"), |b| {
            b.iter(|| {
                let mut fresh = vec![0.0; N];
                rolling_moments_batch(black_box(&xs), WINDOW, None, kind, &mut fresh).unwrap();
                fresh
            });
        });
    }
    g.bench_function(format!("slope/w{WINDOW}"), |b| {
        b.iter(|| {
            let mut fresh = vec![0.0; N];
            rolling_trend_batch(&steps, black_box(&xs), WINDOW, None, &mut fresh, None, None)
                .unwrap();
            fresh
        });
    });
    g.finish();

    let mut g = group(c, "floor");
    g.bench_function("sum+sumsq one pass (read)", |b| {
        b.iter(|| black_box(sum_and_squares(black_box(&xs))));
    });
    g.bench_function("copy to output (read+write)", |b| {
        b.iter(|| {
            out.copy_from_slice(black_box(&xs));
            black_box(&out);
        });
    });
    g.finish();
}

criterion_group!(benches, bench_rolling);
criterion_main!(benches);
