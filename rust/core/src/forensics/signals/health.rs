//! Health scores from the trainer signals that have data. A signal never logged adds
//! nothing (no perfect 1.0 for missing data); every score is in [0, 1], 1 being healthy.

use serde::{Deserialize, Serialize};

use super::config::KlScale;
use super::series::Series;
use crate::forensics::small::weighted_score;

/// The signal rules' view of a run's health.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SignalScores {
    /// Mean of the part scores below that have data.
    pub health: Option<f64>,
    /// How steady KL and the gradient norm are.
    pub stability: Option<f64>,
    /// Whether the reward is improving on its early level.
    pub convergence: Option<f64>,
    /// 1 − the share of prompt groups without reward variance (median of 5 rows).
    pub learning_signal: Option<f64>,
    /// Share of the early entropy kept (1 down to half of it, 0 at 5%).
    pub entropy_retention: Option<f64>,
    /// 1 − the share of truncated completions (median of 5 rows).
    pub completion: Option<f64>,
    /// 1 at the early gradient-norm level, 0.5 at 10x (or a tenth), 0 at 100x.
    pub gradient: Option<f64>,
    /// 1 − KL over its definition's critical level (none for an unknown KL scale).
    pub kl: Option<f64>,
}

/// Typical row-to-row variation on the log scale (robust σ of the differences of the last
/// 50 log values, ÷ √2 so that it estimates the per-row noise) → a score: 1 for a still
/// signal, 1/e for one that moves by a factor e from row to row. A smooth trend moves
/// little from row to row and is not counted as unsteady.
fn steadiness(log_series: &Series) -> Option<f64> {
    let xs = log_series.last(51);
    if xs.len() < 21 {
        return None;
    }
    let mut d = [0.0; super::series::CAPACITY];
    let n = xs.len() - 1;
    for i in 0..n {
        d[i] = xs[i + 1] - xs[i];
    }
    let l = super::series::robust(&mut d[..n])?;
    Some((-l.sigma / std::f64::consts::SQRT_2).exp())
}

/// Scores from the signals' current state.
#[allow(clippy::too_many_arguments)]
pub fn scores(
    kl_scale: KlScale,
    kl: &Series,
    log_kl: &Series,
    entropy: &Series,
    reward: &Series,
    zero_std: &Series,
    truncation: &Series,
    grad: &Series,
    log_grad: &Series,
) -> SignalScores {
    let clamp = |x: f64| x.clamp(0.0, 1.0);
    let learning_signal = zero_std.median_last(5).map(|z| clamp(1.0 - z));
    let entropy_retention = entropy.level().and_then(|l| {
        let now = entropy.median_last(5)?;
        (l.median > 0.0).then(|| clamp((now / l.median - 0.05) / 0.45))
    });
    let completion = truncation.median_last(5).map(|t| clamp(1.0 - t));
    let gradient = grad.level().and_then(|l| {
        let now = grad.median_last(5)?;
        (l.median > 0.0 && now > 0.0).then(|| clamp(1.0 - (now / l.median).log10().abs() / 2.0))
    });
    let kl_score = kl_scale
        .critical_level()
        .and_then(|level| kl.median_last(5).map(|now| clamp(1.0 - now / level)));
    let stability = weighted_score(&[(1.0, steadiness(log_kl)), (1.0, steadiness(log_grad))]);
    // Improvement in early spreads, squashed: no change 0.5, +4 spreads 0.88, −4 spreads 0.12.
    let convergence = reward.level().and_then(|l| {
        let now = reward.median_last(20)?;
        let spread = l.sigma.max(1e-3 * l.median.abs()).max(1e-12);
        Some(0.5 + 0.5 * ((now - l.median) / spread / 4.0).tanh())
    });
    let health = weighted_score(&[
        (1.0, learning_signal),
        (1.0, entropy_retention),
        (1.0, completion),
        (1.0, gradient),
        (1.0, kl_score),
    ]);
    SignalScores {
        health,
        stability,
        convergence,
        learning_signal,
        entropy_retention,
        completion,
        gradient,
        kl: kl_score,
    }
}
