//! RLDK's `scan_ppo_events` rules over event columns, in one pass each.
//!
//! Columns hold NaN where an event did not carry the value (or carried a non-finite one):
//! nothing is filled with a default, so a log without KL cannot fire KL rules. Fixes over
//! RLDK (docs/compatibility.md):
//! - `kl_spike` compares against the median of the 10 values *before* the spike run
//!   started, so a sustained jump is one rule spanning the whole elevated stretch instead
//!   of a short spike that the running median swallows.
//! - `kl_controller_stuck` uses the target band when one is given.
//! - `advantage_reward_hacking` needs three real trends over 10 events (each fit with
//!   R² ≥ 0.5: advantage up, entropy down, KL up), and overlapping windows merge into one
//!   rule (RLDK fired on one noise window in eight, one rule per window).
//! - `entropy_trend` judges the change across the run relative to the entropy's level,
//!   against the logged step.

use crate::forensics::small::{median, slope};

/// One fired rule: RLDK's `{rule, description, step_range}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRule {
    /// Rule id.
    pub rule: &'static str,
    /// What it means, with numbers.
    pub description: String,
    /// First and last step.
    pub step_range: (f64, f64),
}

/// The scan's statistics.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScanStats {
    /// Median of the KL values present.
    pub kl_median: Option<f64>,
    /// Median policy/value gradient ratio over events with both norms > 0.
    pub grad_ratio_median: Option<f64>,
    /// "increasing", "decreasing" or "stable" (with 10 or more entropy values).
    pub entropy_trend: Option<&'static str>,
}

/// Event columns; NaN marks a missing value.
#[derive(Debug, Clone, Copy)]
pub struct ScanColumns<'a> {
    /// Logged steps.
    pub steps: &'a [f64],
    /// KL.
    pub kl: &'a [f64],
    /// KL coefficient.
    pub kl_coef: &'a [f64],
    /// Entropy.
    pub entropy: &'a [f64],
    /// Advantage mean.
    pub advantage_mean: &'a [f64],
    /// Policy-gradient norm.
    pub policy_grad_norm: &'a [f64],
    /// Value-gradient norm.
    pub value_grad_norm: &'a [f64],
}

/// Spike factor over the reference median (RLDK's 4).
const SPIKE_FACTOR: f64 = 4.0;
/// Consecutive spikes that make a rule (RLDK's code: 3).
const SPIKE_RUN: usize = 3;
/// Values in the spike reference median.
const SPIKE_REFERENCE: usize = 10;
/// Window of the reward-hacking trends.
const HACKING_WINDOW: usize = 10;
/// R² each of its trends needs.
const HACKING_R2: f64 = 0.5;

/// Runs every rule; `band` is the KL band of `kl_controller_stuck` (RLDK: [0.01, 0.15]).
pub fn scan(cols: &ScanColumns<'_>, band: (f64, f64)) -> (Vec<ScanRule>, ScanStats) {
    let mut rules = Vec::new();
    let n = cols.steps.len();
    if n >= 10 {
        kl_spikes(cols, &mut rules);
        controller_stuck(cols, band, &mut rules);
        reward_hacking(cols, &mut rules);
    }
    if n >= 5 {
        grad_ratio(cols, &mut rules);
    }
    (rules, stats(cols))
}

fn present(xs: &[f64]) -> Vec<f64> {
    xs.iter().copied().filter(|x| x.is_finite()).collect()
}

fn kl_spikes(c: &ScanColumns<'_>, out: &mut Vec<ScanRule>) {
    // Indices of events with a KL, and the spike test against the median of the
    // SPIKE_REFERENCE KL values before the current run of spikes.
    let idx: Vec<usize> = (0..c.kl.len()).filter(|&i| c.kl[i].is_finite()).collect();
    let mut run_start: Option<usize> = None;
    let mut reference: Option<f64> = None;
    let close =
        |start: usize, end_step: f64, len: usize, reference: f64, out: &mut Vec<ScanRule>| {
            if len >= SPIKE_RUN {
                out.push(ScanRule {
                    rule: "kl_spike",
                    description: format!(
                        "KL above {SPIKE_FACTOR}x its preceding median {reference:.4e} for {len} \
                     consecutive events"
                    ),
                    step_range: (c.steps[start], end_step),
                });
            }
        };
    let mut run_len = 0;
    for (k, &i) in idx.iter().enumerate() {
        if run_start.is_none() {
            // A reference needs SPIKE_REFERENCE earlier values: a median of the first one or
            // two values of a warm-up would make every later value a "spike".
            reference = (k >= SPIKE_REFERENCE)
                .then(|| {
                    let prior: Vec<f64> = idx[k - SPIKE_REFERENCE..k]
                        .iter()
                        .map(|&j| c.kl[j])
                        .collect();
                    median(&prior)
                })
                .flatten();
        }
        let spike = reference.is_some_and(|m| m > 0.0 && c.kl[i] > SPIKE_FACTOR * m);
        match (spike, run_start) {
            (true, None) => {
                run_start = Some(i);
                run_len = 1;
            }
            (true, Some(_)) => run_len += 1,
            (false, Some(s)) => {
                close(s, c.steps[i], run_len, reference.unwrap_or(0.0), out);
                run_start = None;
            }
            (false, None) => {}
        }
    }
    if let (Some(s), Some(&last)) = (run_start, idx.last()) {
        close(s, c.steps[last], run_len, reference.unwrap_or(0.0), out);
    }
}

fn controller_stuck(c: &ScanColumns<'_>, band: (f64, f64), out: &mut Vec<ScanRule>) {
    let outside: Vec<usize> = (0..c.kl.len())
        .filter(|&i| {
            let (k, coef) = (c.kl[i], c.kl_coef[i]);
            k.is_finite() && coef.is_finite() && (k < band.0 || k > band.1)
        })
        .collect();
    if outside.len() < 10 {
        return;
    }
    let mut run = 0usize;
    let mut start = outside[0];
    let flush = |run: usize, start: usize, end: usize, out: &mut Vec<ScanRule>| {
        if run >= 10 {
            out.push(ScanRule {
                rule: "kl_controller_stuck",
                description: format!(
                    "KL outside [{}, {}] for {} consecutive events while the coefficient \
                     changed by less than 5% per event",
                    band.0,
                    band.1,
                    run + 1
                ),
                step_range: (c.steps[start], c.steps[end]),
            });
        }
    };
    for w in outside.windows(2) {
        let (i, j) = (w[0], w[1]);
        let rel = (c.kl_coef[j] - c.kl_coef[i]).abs() / c.kl_coef[i].abs().max(1e-8);
        if j == i + 1 && rel < 0.05 {
            if run == 0 {
                start = i;
            }
            run += 1;
        } else {
            flush(run, start, i, out);
            run = 0;
        }
    }
    if let Some(&last) = outside.last() {
        flush(run, start, last, out);
    }
}

fn grad_ratio(c: &ScanColumns<'_>, out: &mut Vec<ScanRule>) {
    // Open runs as (first index, length).
    let mut low: Option<(usize, usize)> = None;
    let mut high: Option<(usize, usize)> = None;
    let emit =
        |rule: &'static str, run: Option<(usize, usize)>, end: f64, out: &mut Vec<ScanRule>| {
            if let Some((start, len)) = run.filter(|r| r.1 >= 5) {
                let side = if rule == "grad_ratio_low" {
                    "below 0.1"
                } else {
                    "above 10"
                };
                out.push(ScanRule {
                    rule,
                    description: format!(
                        "policy/value gradient ratio {side} for {len} consecutive events"
                    ),
                    step_range: (c.steps[start], end),
                });
            }
        };
    let mut last_step = f64::NAN;
    for i in 0..c.steps.len() {
        let (p, v) = (c.policy_grad_norm[i], c.value_grad_norm[i]);
        if !(p.is_finite() && v.is_finite() && p > 0.0 && v > 0.0) {
            continue;
        }
        last_step = c.steps[i];
        let r = p / v;
        if r < 0.1 {
            low = Some(low.map_or((i, 1), |(s, n)| (s, n + 1)));
            emit("grad_ratio_high", high.take(), c.steps[i], out);
        } else if r > 10.0 {
            high = Some(high.map_or((i, 1), |(s, n)| (s, n + 1)));
            emit("grad_ratio_low", low.take(), c.steps[i], out);
        } else {
            emit("grad_ratio_low", low.take(), c.steps[i], out);
            emit("grad_ratio_high", high.take(), c.steps[i], out);
        }
    }
    emit("grad_ratio_low", low, last_step, out);
    emit("grad_ratio_high", high, last_step, out);
}

fn reward_hacking(c: &ScanColumns<'_>, out: &mut Vec<ScanRule>) {
    let n = c.steps.len();
    let mut open: Option<(usize, usize)> = None;
    let trend = |col: &[f64], lo: usize, hi: usize| -> Option<f64> {
        let xs: Vec<f64> = (lo..hi).map(|i| c.steps[i]).collect();
        let ys: Vec<f64> = (lo..hi).map(|i| col[i]).collect();
        if ys.iter().any(|y| !y.is_finite()) {
            return None;
        }
        match slope(&xs, &ys)? {
            (s, Some(r2)) if r2 >= HACKING_R2 => Some(s),
            _ => None,
        }
    };
    let flush = |run: Option<(usize, usize)>, out: &mut Vec<ScanRule>| {
        if let Some((s, e)) = run {
            out.push(ScanRule {
                rule: "advantage_reward_hacking",
                description: "advantage mean rising while entropy falls and KL rises \
                              (each a clear trend over 10 events)"
                    .to_string(),
                step_range: (c.steps[s], c.steps[e]),
            });
        }
    };
    for hi in HACKING_WINDOW..=n {
        let lo = hi - HACKING_WINDOW;
        let fired = matches!(
            (trend(c.advantage_mean, lo, hi), trend(c.entropy, lo, hi), trend(c.kl, lo, hi)),
            (Some(a), Some(e), Some(k)) if a > 0.0 && e < 0.0 && k > 0.0
        );
        open = match (fired, open) {
            (true, Some((s, _))) => Some((s, hi - 1)),
            (true, None) => Some((lo, hi - 1)),
            (false, Some(run)) if lo > run.1 => {
                flush(Some(run), out);
                None
            }
            (false, run) => run,
        };
    }
    flush(open, out);
}

fn stats(c: &ScanColumns<'_>) -> ScanStats {
    let ratios: Vec<f64> = (0..c.steps.len())
        .filter_map(|i| {
            let (p, v) = (c.policy_grad_norm[i], c.value_grad_norm[i]);
            (p.is_finite() && v.is_finite() && p > 0.0 && v > 0.0).then(|| p / v)
        })
        .collect();
    let ent_idx: Vec<usize> = (0..c.entropy.len())
        .filter(|&i| c.entropy[i].is_finite())
        .collect();
    let entropy_trend = (ent_idx.len() >= 10).then(|| {
        let xs: Vec<f64> = ent_idx.iter().map(|&i| c.steps[i]).collect();
        let ys: Vec<f64> = ent_idx.iter().map(|&i| c.entropy[i]).collect();
        let level = ys.iter().map(|y| y.abs()).sum::<f64>() / ys.len() as f64;
        let span = xs[xs.len() - 1] - xs[0];
        match slope(&xs, &ys) {
            Some((s, _)) if level > 0.0 && s * span > 0.1 * level => "increasing",
            Some((s, _)) if level > 0.0 && s * span < -0.1 * level => "decreasing",
            _ => "stable",
        }
    });
    ScanStats {
        kl_median: median(&present(c.kl)),
        grad_ratio_median: median(&ratios),
        entropy_trend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols<'a>(
        steps: &'a [f64],
        kl: &'a [f64],
        coef: &'a [f64],
        nan: &'a [f64],
    ) -> ScanColumns<'a> {
        ScanColumns {
            steps,
            kl,
            kl_coef: coef,
            entropy: nan,
            advantage_mean: nan,
            policy_grad_norm: nan,
            value_grad_norm: nan,
        }
    }

    #[test]
    fn clean_log_fires_nothing_and_missing_kl_fires_nothing() {
        let steps: Vec<f64> = (0..100).map(f64::from).collect();
        let kl: Vec<f64> = (0..100)
            .map(|i| 0.05 + 0.0001 * f64::from(i % 10))
            .collect();
        let coef = vec![0.1; 100];
        let nan = vec![f64::NAN; 100];
        assert!(scan(&cols(&steps, &kl, &coef, &nan), (0.01, 0.15))
            .0
            .is_empty());
        // RLDK filled a missing KL with 0.0 and fired kl_controller_stuck.
        assert!(scan(&cols(&steps, &nan, &coef, &nan), (0.01, 0.15))
            .0
            .is_empty());
    }

    #[test]
    fn sustained_kl_jump_is_one_spike_rule_to_the_end() {
        let steps: Vec<f64> = (0..100).map(f64::from).collect();
        let kl: Vec<f64> = (0..100).map(|i| if i < 50 { 0.05 } else { 0.5 }).collect();
        let coef: Vec<f64> = (0..100).map(|i| 0.1 * (1.0 + 0.1 * f64::from(i))).collect();
        let nan = vec![f64::NAN; 100];
        let (rules, st) = scan(&cols(&steps, &kl, &coef, &nan), (0.01, 0.15));
        let spikes: Vec<_> = rules.iter().filter(|r| r.rule == "kl_spike").collect();
        assert_eq!(spikes.len(), 1);
        assert_eq!(spikes[0].step_range, (50.0, 99.0));
        assert_eq!(st.kl_median, Some(0.275));
    }

    #[test]
    fn warm_up_is_not_a_spike() {
        let steps: Vec<f64> = (0..20).map(f64::from).collect();
        let mut kl = vec![0.05; 20];
        kl[0] = 1e-5;
        let coef = vec![0.1; 20];
        let nan = vec![f64::NAN; 20];
        assert!(scan(&cols(&steps, &kl, &coef, &nan), (0.01, 0.15))
            .0
            .is_empty());
    }

    #[test]
    fn stuck_controller_and_grad_ratio() {
        let n = 60;
        let steps: Vec<f64> = (0..n).map(f64::from).collect();
        let kl = vec![0.3; n as usize];
        let coef = vec![0.1; n as usize];
        let p: Vec<f64> = (0..n).map(|i| if i >= 50 { 5.0 } else { 1.0 }).collect();
        let v = vec![0.3; n as usize];
        let nan = vec![f64::NAN; n as usize];
        let c = ScanColumns {
            policy_grad_norm: &p,
            value_grad_norm: &v,
            ..cols(&steps, &kl, &coef, &nan)
        };
        let (rules, st) = scan(&c, (0.01, 0.15));
        let ids: Vec<_> = rules.iter().map(|r| r.rule).collect();
        assert!(ids.contains(&"kl_controller_stuck"), "{ids:?}");
        assert!(ids.contains(&"grad_ratio_high"), "{ids:?}");
        assert!(st.grad_ratio_median.is_some());
        // The same run is in band for a target of 0.3 ± 0.05.
        let (rules, _) = scan(&c, (0.25, 0.35));
        assert!(rules.iter().all(|r| r.rule != "kl_controller_stuck"));
    }

    #[test]
    fn reward_hacking_needs_real_trends_and_merges() {
        let n = 40;
        let steps: Vec<f64> = (0..n).map(f64::from).collect();
        let up: Vec<f64> = (0..n).map(|i| 0.01 * f64::from(i)).collect();
        let down: Vec<f64> = (0..n).map(|i| 2.0 - 0.01 * f64::from(i)).collect();
        let coef = vec![0.1; n as usize];
        let nan = vec![f64::NAN; n as usize];
        let c = ScanColumns {
            entropy: &down,
            advantage_mean: &up,
            ..cols(&steps, &up, &coef, &nan)
        };
        let (rules, st) = scan(&c, (-1.0, 1.0));
        let hack: Vec<_> = rules
            .iter()
            .filter(|r| r.rule == "advantage_reward_hacking")
            .collect();
        assert_eq!(hack.len(), 1, "overlapping windows merge");
        assert_eq!(hack[0].step_range, (0.0, 39.0));
        assert_eq!(st.entropy_trend, Some("decreasing"));
    }
}
