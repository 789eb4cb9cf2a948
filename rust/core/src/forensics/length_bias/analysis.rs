//! The analysis of a batch of (reward, length) records: RLDK's `LengthBiasDetector`
//! statistics (correlations with p-values, length quartiles, ODIN heuristics, severity,
//! patterns and recommendations), computed from the records themselves.

use super::{LengthBiasMetrics, Quartile};
use crate::control::Bivariate;
use crate::special::correlation_p_value;
use crate::stats::interpolate_sorted;

/// The analysis of rewards `r` paired with lengths `l` (same length).
pub(super) fn analyse(r: &[f64], l: &[f64], whole_run_pearson: Option<f64>) -> LengthBiasMetrics {
    let n = r.len();
    let mut m = LengthBiasMetrics {
        valid_sample_count: n,
        whole_run_pearson,
        ..LengthBiasMetrics::default()
    };
    if n == 0 {
        m.recommendations
            .push("Unable to compute length bias metrics due to empty inputs.".into());
        return m;
    }
    let nf = n as f64;
    let mean_r = r.iter().sum::<f64>() / nf;
    let mean_l = l.iter().sum::<f64>() / nf;
    m.mean_reward = Some(mean_r);
    m.mean_length = Some(mean_l);
    let var_r = r.iter().map(|x| (x - mean_r) * (x - mean_r)).sum::<f64>() / nf;
    let var_l = l.iter().map(|x| (x - mean_l) * (x - mean_l)).sum::<f64>() / nf;
    // One sort of the lengths serves the ranks, the quartiles, the median split and the
    // distinct-length count.
    let order_l = order(l);
    let sorted_l: Vec<f64> = order_l.iter().map(|&i| l[i]).collect();
    if n >= 2 && var_r > 0.0 && var_l > 0.0 {
        let p = pearson(l, r);
        m.pearson_correlation = p;
        m.pearson_pvalue = p.and_then(|p| correlation_p_value(p, n));
        let s = pearson(&ranks_in_order(l, &order_l), &ranks(r));
        m.spearman_correlation = s;
        m.spearman_pvalue = s.and_then(|s| correlation_p_value(s, n));
    }
    m.quartile_metrics = quartiles(l, r, &sorted_l);
    if var_r > 0.0 {
        let between: f64 = m
            .quartile_metrics
            .iter()
            .filter_map(|q| {
                q.mean_reward
                    .map(|mr| q.count as f64 * (mr - mean_r).powi(2))
            })
            .sum();
        m.variance_explained = Some(between / (var_r * nf));
    }
    let (sum_r, sum_l) = (r.iter().sum::<f64>(), l.iter().sum::<f64>());
    m.odin_reward_per_token = (sum_l > 0.0).then(|| sum_r / sum_l);
    m.odin_efficiency = (mean_l > 0.0).then(|| mean_r / mean_l);
    let baseline = r.iter().map(|x| x.abs()).sum::<f64>() / nf + 1e-8;
    m.odin_optimization_flag = odin_flag(l, r, &sorted_l, baseline);
    m.optimization_patterns = patterns(&m, &sorted_l, r, baseline);
    let corr = m
        .pearson_correlation
        .unwrap_or(0.0)
        .abs()
        .max(m.spearman_correlation.unwrap_or(0.0).abs());
    let severity = (0.6 * corr + 0.4 * m.variance_explained.unwrap_or(0.0)).clamp(0.0, 1.0);
    m.bias_severity = Some(severity);
    m.recommendations = recommendations(severity, &m);
    m
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let mut b = Bivariate::default();
    for (a, c) in x.iter().zip(y) {
        b.update(*a, *c);
    }
    b.correlation()
}

/// 1-based ranks with ties given their average rank (scipy's `rankdata`).
pub(super) fn ranks(xs: &[f64]) -> Vec<f64> {
    ranks_in_order(xs, &order(xs))
}

/// Indices of `xs` in ascending order (`total_cmp`; the order within a run of equal values
/// is unspecified, which nothing downstream sees: tied values share one average rank).
///
/// Sorts (key, index) pairs rather than indices compared through `xs`: the key is the bit
/// pattern that orders as `total_cmp` does. Windows of the usual size go through a radix
/// sort (a byte per pass, passes in which every key has the same byte skipped: integer
/// token counts differ only in their top bytes), which costs a few linear passes where a
/// comparison sort pays log n mispredicted comparisons per value.
fn order(xs: &[f64]) -> Vec<usize> {
    let mut keyed: Vec<(u64, u32)> = xs
        .iter()
        .enumerate()
        .map(|(i, &x)| (total_order_key(x), i as u32))
        .collect();
    if keyed.len() >= RADIX_FROM && keyed.len() <= u32::MAX as usize {
        radix_sort(&mut keyed);
    } else {
        keyed.sort_unstable();
    }
    keyed.into_iter().map(|(_, i)| i as usize).collect()
}

/// Below this many values a comparison sort is as fast as the radix sort's passes.
const RADIX_FROM: usize = 128;

/// Least-significant-byte-first radix sort of `v` by key (stable within a pass; skips the
/// bytes on which all keys agree). One pass over the keys counts every byte.
fn radix_sort(v: &mut Vec<(u64, u32)>) {
    let mut counts = [[0u32; 256]; 8];
    let (mut and, mut or) = (u64::MAX, 0u64);
    for &(k, _) in v.iter() {
        and &= k;
        or |= k;
        for (byte, c) in counts.iter_mut().enumerate() {
            c[((k >> (8 * byte)) & 0xff) as usize] += 1;
        }
    }
    // Bits that differ between some keys; a byte without any needs no pass.
    let varying = and ^ or;
    let mut buf = vec![(0u64, 0u32); v.len()];
    for (byte, count) in counts.iter().enumerate() {
        let shift = 8 * byte;
        if (varying >> shift) & 0xff == 0 {
            continue;
        }
        let mut start = [0u32; 256];
        let mut sum = 0;
        for (s, &c) in start.iter_mut().zip(count) {
            *s = sum;
            sum += c;
        }
        for &e in v.iter() {
            let b = ((e.0 >> shift) & 0xff) as usize;
            buf[start[b] as usize] = e;
            start[b] += 1;
        }
        std::mem::swap(v, &mut buf);
    }
}

/// A key whose unsigned order is `f64::total_cmp`'s (the transformation `total_cmp` itself
/// applies, made unsigned by flipping the sign bit).
#[inline]
fn total_order_key(x: f64) -> u64 {
    let bits = x.to_bits() as i64;
    ((bits ^ (((bits >> 63) as u64) >> 1) as i64) as u64) ^ (1 << 63)
}

/// [`ranks`] given the ascending `idx` of `xs`.
fn ranks_in_order(xs: &[f64], idx: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && xs[idx[j + 1]] == xs[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            out[k] = avg;
        }
        i = j + 1;
    }
    out
}

/// Quartile bins of length: edges at its 0/25/50/75/100% quantiles; q1–q3 half-open, q4
/// closed (RLDK's bins).
fn quartiles(l: &[f64], r: &[f64], sorted: &[f64]) -> Vec<Quartile> {
    let edges: Vec<f64> = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|&q| interpolate_sorted(sorted, q).unwrap_or(f64::NAN))
        .collect();
    // Every length lies in [edges[0], edges[4]] (they are its minimum and maximum), and the
    // bins partition that range, so a length's bin is the number of inner edges at or below
    // it: one pass instead of one per bin. Each bin still sums its records in arrival
    // order, so the sums are those of a pass per bin, bit for bit.
    let mut acc = [(0usize, 0.0f64, 0.0f64); 4];
    for (&x, &y) in l.iter().zip(r) {
        let bin =
            usize::from(edges[1] <= x) + usize::from(edges[2] <= x) + usize::from(edges[3] <= x);
        let a = &mut acc[bin];
        a.0 += 1;
        a.1 += y;
        a.2 += x;
    }
    (0..4)
        .map(|q| {
            let (n, sr, sl) = acc[q];
            Quartile {
                length_min: edges[q],
                length_max: edges[q + 1],
                mean_reward: (n > 0).then(|| sr / n as f64),
                mean_length: (n > 0).then(|| sl / n as f64),
                count: n,
            }
        })
        .collect()
}

fn odin_flag(l: &[f64], r: &[f64], sorted: &[f64], baseline: f64) -> bool {
    let Some(median) = interpolate_sorted(sorted, 0.5) else {
        return false;
    };
    let (mut nl, mut sl, mut ns, mut ss) = (0usize, 0.0, 0usize, 0.0);
    for (x, y) in l.iter().zip(r) {
        if *x >= median {
            nl += 1;
            sl += y;
        } else {
            ns += 1;
            ss += y;
        }
    }
    nl > 0 && ns > 0 && sl / nl as f64 - ss / ns as f64 > 0.1 * baseline
}

fn patterns(m: &LengthBiasMetrics, sorted_l: &[f64], r: &[f64], baseline: f64) -> Vec<String> {
    let mut out = Vec::new();
    let p = m.pearson_correlation.unwrap_or(0.0);
    let s = m.spearman_correlation.unwrap_or(0.0);
    let dominant = if p.abs() >= s.abs() { p } else { s };
    if dominant > 0.2 {
        out.push("Longer responses are rewarded".to_string());
    } else if dominant < -0.2 {
        out.push("Shorter responses are rewarded".to_string());
    }
    if let (Some(q1), Some(q4)) = (
        m.quartile_metrics.first().and_then(|q| q.mean_reward),
        m.quartile_metrics.last().and_then(|q| q.mean_reward),
    ) {
        if q4 - q1 > 0.15 * baseline {
            out.push("Top length quartile outperforms short responses".to_string());
        } else if q4 - q1 < -0.15 * baseline {
            out.push("Short responses outperform long responses".to_string());
        }
    }
    let range = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - r.iter().cloned().fold(f64::INFINITY, f64::min);
    // Distinct lengths (as `dedup` counts them), counted only as far as the rule needs.
    let few_distinct = sorted_l.windows(2).filter(|w| w[0] != w[1]).take(3).count() < 3;
    if range > 0.0 && few_distinct {
        out.push("Reward concentrated on narrow length range".to_string());
    }
    out
}

fn recommendations(severity: f64, m: &LengthBiasMetrics) -> Vec<String> {
    let mut out = Vec::new();
    if severity < 0.2 {
        // A positive ODIN flag contradicts "no bias" (RLDK printed both).
        if !m.odin_optimization_flag {
            out.push("No significant length bias detected.".to_string());
        }
    } else if severity < 0.5 {
        out.push("Monitor response length during training; mild bias observed.".to_string());
    } else {
        out.push(
            "Consider penalizing overly long responses or diversifying training prompts."
                .to_string(),
        );
    }
    if !m.optimization_patterns.is_empty() {
        out.push("Investigate prompts where the listed patterns appear strongest.".to_string());
    }
    if m.odin_optimization_flag {
        out.push("ODIN heuristics suggest reward hacking; audit tokenizer configuration.".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The previous implementations, kept as the reference the faster ones must equal.
    fn order_by_index(xs: &[f64]) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..xs.len()).collect();
        idx.sort_unstable_by(|&a, &b| xs[a].total_cmp(&xs[b]));
        idx
    }

    fn quartiles_per_bin(l: &[f64], r: &[f64], sorted: &[f64]) -> Vec<Quartile> {
        let edges: Vec<f64> = [0.0, 0.25, 0.5, 0.75, 1.0]
            .iter()
            .map(|&q| interpolate_sorted(sorted, q).unwrap_or(f64::NAN))
            .collect();
        (0..4)
            .map(|q| {
                let (lo, hi) = (edges[q], edges[q + 1]);
                let inside = |x: f64| x >= lo && (x < hi || (q == 3 && x <= hi));
                let (mut n, mut sr, mut sl) = (0usize, 0.0, 0.0);
                for (x, y) in l.iter().zip(r) {
                    if inside(*x) {
                        n += 1;
                        sr += y;
                        sl += x;
                    }
                }
                Quartile {
                    length_min: lo,
                    length_max: hi,
                    mean_reward: (n > 0).then(|| sr / n as f64),
                    mean_length: (n > 0).then(|| sl / n as f64),
                    count: n,
                }
            })
            .collect()
    }

    fn distinct(sorted: &[f64]) -> usize {
        let mut d = sorted.to_vec();
        d.dedup();
        d.len()
    }

    proptest! {
        /// Sorted values, tie-averaged ranks, quartile bins and the distinct count equal
        /// the straightforward versions bit for bit, ties and signed zeros included.
        #[test]
        fn fast_paths_equal_the_reference(
            pairs in prop::collection::vec(
                (prop::sample::select(vec![-0.0, 0.0, 1.0, 2.0, 3.5, 300.0, -7.0, 1e300]),
                 -5.0f64..5.0),
                1..400,
            ),
            noise in prop::collection::vec(0.0f64..1000.0, 400),
            use_noise in any::<bool>(),
        ) {
            let l: Vec<f64> = pairs
                .iter()
                .zip(&noise)
                .map(|(p, z)| if use_noise { p.0 + z } else { p.0 })
                .collect();
            let r: Vec<f64> = pairs.iter().map(|p| p.1).collect();
            let (fast, slow) = (order(&l), order_by_index(&l));
            let sorted = |o: &[usize]| o.iter().map(|&i| l[i].to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(sorted(&fast), sorted(&slow));
            let fast_ranks: Vec<u64> =
                ranks_in_order(&l, &fast).iter().map(|x| x.to_bits()).collect();
            let slow_ranks: Vec<u64> =
                ranks_in_order(&l, &slow).iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(fast_ranks, slow_ranks);
            let sorted_l: Vec<f64> = fast.iter().map(|&i| l[i]).collect();
            prop_assert_eq!(quartiles(&l, &r, &sorted_l), quartiles_per_bin(&l, &r, &sorted_l));
            let few = sorted_l.windows(2).filter(|w| w[0] != w[1]).take(3).count() < 3;
            prop_assert_eq!(few, distinct(&sorted_l) <= 3);
        }
    }

    #[test]
    fn total_order_key_orders_as_total_cmp() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -0.0,
            0.0,
            1e-300,
            1.0,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(
                total_order_key(w[0]) < total_order_key(w[1]),
                "{} {}",
                w[0],
                w[1]
            );
        }
    }
}
