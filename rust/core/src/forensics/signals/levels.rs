//! Rules on one signal's level against its own recent past or early level: KL spike and
//! blow-up, gradient-norm spike, explosion and collapse, entropy collapse, policy collapse,
//! learning-signal starvation, reward-spread collapse, truncation saturation.
//!
//! Each rule reads medians of a few rows, not single values, where one noisy row must not
//! decide (the exceptions: the spike rules, and a gradient norm 100x its early level, which
//! is a broken update by itself). Thresholds are relative
//! to the run's early level (its first `baseline_rows` finite values) or to a robust spread
//! (median/MAD), so they transfer between models; the few absolute numbers are the ones
//! whose meaning does not depend on the model (fractions of groups or completions, and the
//! KL levels of a known KL definition). docs/rules.md gives each rule's reasons.

use super::config::SignalConfig;
use super::series::Series;
use crate::forensics::event::{Finding, Severity};

/// `x` to 4 significant digits, in plain notation where that stays short.
fn sig(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || !a.is_finite() {
        return format!("{x}");
    }
    if (1e-3..1e5).contains(&a) {
        let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.3e}")
    }
}

/// Rows whose median is a signal's current level in the level rules.
const NOW: usize = 5;
/// Rows back to the "before" level of the growth and fast-loss rules.
const AGO: usize = 20;
/// Least values in the spike window before the spike rules judge.
const SPIKE_MIN: usize = 20;

/// Robust z-score of `x` against the newest `window` values of `s` (taken before `x` is
/// pushed), with the spread floored at `floor` and at `rel` × |median|: a signal that was
/// nearly constant does not turn every wobble into a spike.
pub fn spike_z(
    s: &Series,
    x: f64,
    window: usize,
    z: f64,
    floor: f64,
    rel: f64,
) -> Option<(f64, f64)> {
    // A spike needs x − m ≥ z·σ with σ ≥ floor and σ ≥ rel·|m|, so the median m is at most
    // x − z·floor, and (when m ≥ 0) at most x / (1 + z·rel); a negative m is below any
    // non-negative bound. That needs at least half the window at or below the bound:
    // counted first (one compare per value), the median and MAD computed only when it holds.
    let xs = s.last(window);
    if xs.len() < SPIKE_MIN {
        return None;
    }
    let bar = (x - z * floor).min((x / (1.0 + z * rel)).max(0.0));
    if 2 * xs.iter().filter(|&&v| v <= bar).count() < xs.len() {
        return None;
    }
    let l = s.robust_last(window, SPIKE_MIN)?;
    let sigma = l.sigma.max(floor).max(rel * l.median.abs());
    Some(((x - l.median) / sigma, l.median))
}

/// KL spike (before `x` is pushed): a value `spike_z` robust σ above the recent median.
pub fn kl_spike(cfg: &SignalConfig, kl: &Series, x: f64, out: &mut Vec<Finding>) {
    let floor = cfg.kl_scale.noise_floor();
    if let Some((z, m)) = spike_z(kl, x, cfg.spike_window, cfg.spike_z, floor, 0.1) {
        if z >= cfg.spike_z {
            out.push(Finding::new(
                "kl_spike",
                Severity::Warning,
                z,
                Some(cfg.spike_z),
                format!(
                    "KL {x:.4} is {z:.1} robust σ above its recent median {m:.4} \
                     (threshold {:.1})",
                    cfg.spike_z
                ),
            ));
        }
    }
}

/// KL blow-up (after the push): tenfold growth within [`AGO`] rows to a level that
/// matters (warning), or a level past the KL definition's critical level (critical).
pub fn kl_blowup(cfg: &SignalConfig, kl: &Series, out: &mut Vec<Finding>) {
    let scale = cfg.kl_scale;
    let lowest = scale
        .critical_level()
        .map_or(scale.growth_floor(), |l| l.min(scale.growth_floor()));
    let Some(now) = kl.median_last_if(NOW, |x| x >= lowest) else {
        return;
    };
    if let Some(level) = scale.critical_level().filter(|&l| now >= l) {
        out.push(Finding::new(
            "kl_blowup",
            Severity::Critical,
            now,
            Some(level),
            format!(
                "KL is {now:.3} over the last {NOW} rows, past {level} for a {} KL: the \
                 policy has left the reference model",
                scale.as_str()
            ),
        ));
        return;
    }
    let floor = scale.growth_floor();
    let Some(then) = kl.median_ago(AGO, NOW) else {
        return;
    };
    let base = then.max(0.1 * floor);
    if now >= floor && now >= 10.0 * base {
        out.push(Finding::new(
            "kl_blowup",
            Severity::Warning,
            now / base,
            Some(10.0),
            format!(
                "KL grew {:.0}x in {AGO} rows, from {then:.4} to {now:.4}",
                now / base
            ),
        ));
    }
}

/// Gradient-norm spike on the log scale (before `ln x` is pushed).
pub fn grad_spike(cfg: &SignalConfig, log_grad: &Series, x: f64, out: &mut Vec<Finding>) {
    // A 5% floor on the log spread: a norm that barely moved does not make 1.3x a spike.
    if let Some((z, m)) = spike_z(log_grad, x.ln(), cfg.spike_window, cfg.spike_z, 0.05, 0.0) {
        if z >= cfg.spike_z {
            out.push(Finding::new(
                "grad_norm_spike",
                Severity::Warning,
                z,
                Some(cfg.spike_z),
                format!(
                    "grad_norm {} is {:.1}x its recent median {} ({z:.1} robust σ on \
                     the log scale)",
                    sig(x),
                    x / m.exp(),
                    sig(m.exp())
                ),
            ));
        }
    }
}

/// Gradient explosion and collapse against the early median (after the push).
pub fn grad_level(grad: &Series, out: &mut Vec<Finding>) {
    let Some(g0) = grad.level().map(|l| l.median).filter(|&g| g > 0.0) else {
        return;
    };
    let Some(x) = grad.latest() else {
        return;
    };
    let (hi, lo) = (10.0 * g0, 0.1 * g0);
    if x < 100.0 * g0 && 2 * grad.count_last(3, |v| v >= hi || v <= lo) < 3 {
        return;
    }
    let Some(now) = grad.median_last(3) else {
        return;
    };
    if x >= 100.0 * g0 || now >= 10.0 * g0 {
        let critical = x >= 100.0 * g0;
        let r = if critical { x / g0 } else { now / g0 };
        out.push(Finding::new(
            "grad_norm_explosion",
            Severity::critical_if(critical),
            r,
            Some(if critical { 100.0 } else { 10.0 }),
            format!("grad_norm is {r:.0}x the run's early median {}", sig(g0)),
        ));
    }
    if now <= 0.1 * g0 {
        let critical = now <= 0.01 * g0;
        out.push(Finding::new(
            "grad_norm_collapse",
            Severity::critical_if(critical),
            now / g0,
            Some(if critical { 0.01 } else { 0.1 }),
            format!(
                "grad_norm {} (median of 3 rows) is {}x the run's early median {}: the \
                 policy has stopped learning",
                sig(now),
                sig(now / g0),
                sig(g0)
            ),
        ));
    }
}

/// Entropy collapse (after the push): most of the early entropy gone, or half of it lost
/// within [`AGO`] rows.
pub fn entropy_collapse(entropy: &Series, out: &mut Vec<Finding>) {
    let Some(e0) = entropy.level().map(|l| l.median).filter(|&e| e > 0.0) else {
        return;
    };
    // The median of the "before" rows is at most their largest value.
    let then_max = entropy
        .last(AGO + NOW)
        .iter()
        .take(NOW)
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let bar = (0.2 * e0).max(then_max - 0.5 * e0);
    let Some(now) = entropy.median_last_if(NOW, |v| v <= bar) else {
        return;
    };
    let fast = entropy
        .median_ago(AGO, NOW)
        .is_some_and(|then| then - now >= 0.5 * e0);
    if now <= 0.2 * e0 || fast {
        let critical = now <= 0.05 * e0;
        out.push(Finding::new(
            "entropy_collapse",
            Severity::critical_if(critical),
            now / e0,
            Some(if critical { 0.05 } else { 0.2 }),
            format!(
                "entropy {} is {:.0}% of its early level {}{}",
                sig(now),
                100.0 * now / e0,
                sig(e0),
                if fast {
                    format!(", half of it lost in the last {AGO} rows")
                } else {
                    String::new()
                }
            ),
        ));
    }
}

/// Policy collapse: entropy, reward spread and gradient near zero together (each below a
/// tenth of its early level; a zero-std fraction of 95% stands for the reward spread).
/// Needs the entropy and at least one of the other two.
pub fn policy_collapse(
    entropy: &Series,
    reward_std: &Series,
    zero_std: &Series,
    grad: &Series,
    out: &mut Vec<Finding>,
) {
    let low = |s: &Series| -> Option<bool> {
        let l = s.level()?.median;
        if l <= 0.0 || s.len() < NOW {
            return None;
        }
        Some(
            s.median_last_if(NOW, |v| v <= 0.1 * l)
                .is_some_and(|now| now <= 0.1 * l),
        )
    };
    let Some(true) = low(entropy) else {
        return;
    };
    let spread = match (
        low(reward_std),
        (zero_std.len() >= NOW).then(|| {
            zero_std
                .median_last_if(NOW, |z| z >= 0.95)
                .is_some_and(|z| z >= 0.95)
        }),
    ) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(false) || b.unwrap_or(false)),
    };
    let gradient = low(grad);
    let seen = [spread, gradient];
    if seen.iter().all(Option::is_none) || seen.iter().flatten().any(|ok| !ok) {
        return;
    }
    let e0 = entropy.level().map_or(f64::NAN, |l| l.median);
    let ratio = entropy.median_last(NOW).unwrap_or(f64::NAN) / e0;
    let with = match (spread, gradient) {
        (Some(_), Some(_)) => "reward spread and gradient norm",
        (Some(_), None) => "reward spread",
        _ => "gradient norm",
    };
    out.push(Finding::new(
        "policy_collapse",
        Severity::Critical,
        ratio,
        Some(0.1),
        format!(
            "entropy ({:.1}% of its early level) and {with} are all below a tenth of their \
             early levels: the policy has collapsed to (near) deterministic outputs",
            100.0 * ratio
        ),
    ));
}

/// Learning-signal starvation and reward-spread collapse (after the push).
pub fn starvation(zero_std: &Series, reward_std: &Series, out: &mut Vec<Finding>) {
    // The share is a count over a handful of prompt groups per step, noisy by ±0.1–0.15;
    // a median of 5 rows at 0.8 is far outside a healthy run's 0.05–0.5 and reacts within
    // a few rows.
    const ROWS: usize = NOW;
    // Four groups in five without a learning signal: most of the rollout compute teaches
    // nothing (DAPO's dynamic sampling exists for this).
    // Draining: the share climbing fast towards starvation — past half of the groups, 0.3
    // above its early level, on a significant 20-row rise — is reported before it gets
    // there (a task turning too easy or too hard does this over tens of steps).
    // One median serves both: it is taken once at least half the rows are past 0.5.
    let now = zero_std.median_last_if(ROWS, |z| z >= 0.5);
    let flagged = now.filter(|&z| z >= 0.8).or_else(|| {
        let (now, l) = (now?, zero_std.level()?);
        let (_, t) = zero_std.trend_last(AGO)?;
        (now >= l.median + 0.3 && t >= 4.0).then_some(now)
    });
    if let Some(now) = flagged {
        out.push(Finding::new(
            "learning_signal_starvation",
            Severity::Warning,
            now,
            Some(0.8),
            format!(
                "{:.0}% of prompt groups have no reward variance (median of {ROWS} rows): \
                 their advantages are zero and they teach nothing",
                100.0 * now
            ),
        ));
    }
    let r0 = reward_std.level().map(|l| l.median).filter(|&r| r > 0.0);
    if let Some(r0) = r0 {
        let Some(now) = reward_std.median_last_if(ROWS, |r| r <= 0.1 * r0) else {
            return;
        };
        if now <= 0.1 * r0 {
            out.push(Finding::new(
                "reward_std_collapse",
                Severity::Warning,
                now / r0,
                Some(0.1),
                format!(
                    "reward_std {} is {:.0}% of its early level {}",
                    sig(now),
                    100.0 * now / r0,
                    sig(r0)
                ),
            ));
        }
    }
}

/// Truncation saturation: the share of completions cut at the length cap rising towards 1.
pub fn truncation(trunc: &Series, out: &mut Vec<Finding>) {
    // Judged against the early level, so not before it is known: a run truncated from
    // its first rows is flagged once the level forms, not flagged and then released.
    let Some(t0) = trunc.level().map(|l| l.median) else {
        return;
    };
    // The warning's bar; the critical level (0.9 from an early level of at most 0.5) lies
    // past it, since t0 + 0.25 < 0.9 when t0 ≤ 0.5.
    let bar = 0.5_f64.max(t0 + 0.25);
    // A median of the odd NOW rows is past the bar exactly when this returns it.
    if let Some(now) = trunc.median_last_if(NOW, |v| v >= bar) {
        let critical = now >= 0.9 && t0 <= 0.5;
        out.push(Finding::new(
            "truncation_saturation",
            Severity::critical_if(critical),
            now,
            Some(if critical { 0.9 } else { bar }),
            format!(
                "{:.0}% of completions hit the length cap (early level {:.0}%): rewards are \
                 computed on cut-off answers",
                100.0 * now,
                100.0 * t0
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::sig;

    #[test]
    fn numbers_in_messages_keep_four_digits() {
        assert_eq!(sig(0.5), "0.5000");
        assert_eq!(sig(1.4517), "1.452");
        assert_eq!(sig(1234.5), "1234");
        assert_eq!(sig(0.0012345), "0.001234");
        assert_eq!(sig(2.5e-7), "2.500e-7");
        assert_eq!(sig(0.0), "0");
    }
}
