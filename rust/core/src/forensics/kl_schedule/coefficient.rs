//! Statistics of the last few KL coefficients: change rate, adaptation quality, stability.
//!
//! They are recomputed every step over a short window (10 samples), from logarithms cached
//! with the samples and with two-pass sums: no allocation, no `ln` and no division per
//! sample. The numbers are those of the streaming estimators (`Moments`, `Bivariate`) fed the
//! same samples, up to rounding; constant coefficients still give a spread of exactly zero.

use crate::control::correlation;

/// The coefficient metrics of the tracker's snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct CoefStats {
    /// Mean |Δcoef|.
    pub change_rate: f64,
    /// Correlation of the KL error with the next change of ln(coef), clamped to [0, 1].
    pub adaptation_quality: Option<f64>,
    /// 1 − min(coefficient of variation, 1).
    pub stability: Option<f64>,
}

/// Longest window these statistics are taken over (the tracker's is 10).
const MAX_SAMPLES: usize = 16;

/// The statistics of `samples` (kl, coef, ln coef), oldest first: between 2 and
/// [`MAX_SAMPLES`] of them, every coefficient finite and positive. `None` otherwise.
pub(super) fn coef_stats(
    samples: impl ExactSizeIterator<Item = (f64, f64, f64)>,
    target: f64,
) -> Option<CoefStats> {
    let n = samples.len();
    if !(2..=MAX_SAMPLES).contains(&n) {
        return None;
    }
    let mut coefs = [0.0; MAX_SAMPLES];
    let mut errors = [0.0; MAX_SAMPLES];
    let mut changes = [0.0; MAX_SAMPLES];
    let mut abs_change = 0.0;
    let mut prev: Option<(f64, f64, f64)> = None;
    for (i, (kl, c, ln_c)) in samples.enumerate() {
        if let Some((kl0, c0, ln_c0)) = prev {
            abs_change += (c - c0).abs();
            errors[i - 1] = kl0 - target;
            changes[i - 1] = ln_c - ln_c0;
        }
        coefs[i] = c;
        prev = Some((kl, c, ln_c));
    }
    let coefs = &coefs[..n];
    // Mean and sample std measured from the first coefficient, as `Moments` does.
    let c0 = coefs[0];
    let mean_d = coefs.iter().map(|&c| c - c0).sum::<f64>() / n as f64;
    let m2: f64 = coefs
        .iter()
        .map(|&c| {
            let d = (c - c0) - mean_d;
            d * d
        })
        .sum();
    let (std, mean) = ((m2 / (n - 1) as f64).max(0.0).sqrt(), c0 + mean_d);
    Some(CoefStats {
        change_rate: abs_change / (n - 1) as f64,
        adaptation_quality: correlation(&errors[..n - 1], &changes[..n - 1])
            .map(|r| r.clamp(0.0, 1.0)),
        stability: (mean > 0.0).then(|| 1.0 - (std / mean).min(1.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Bivariate;
    use crate::forensics::testing::{close, Noise};
    use crate::stats::Moments;

    /// The statistics as the tracker computed them with the streaming estimators.
    fn streaming(pairs: &[(f64, f64)], target: f64) -> CoefStats {
        let mut coefs = Moments::new();
        let mut adapt = Bivariate::default();
        let mut abs_change = 0.0;
        for w in pairs.windows(2) {
            let ((kl0, c0), (_, c1)) = (w[0], w[1]);
            abs_change += (c1 - c0).abs();
            adapt.update(kl0 - target, c1.ln() - c0.ln());
        }
        for &(_, c) in pairs {
            coefs.update(c);
        }
        CoefStats {
            change_rate: abs_change / (pairs.len() - 1) as f64,
            adaptation_quality: adapt.correlation().map(|r| r.clamp(0.0, 1.0)),
            stability: match (coefs.std(1), coefs.mean()) {
                (Some(s), Some(mu)) if mu > 0.0 => Some(1.0 - (s / mu).min(1.0)),
                _ => None,
            },
        }
    }

    #[test]
    fn matches_the_streaming_estimators() {
        let mut rng = Noise(5);
        for case in 0..4000 {
            let n = 2 + case % 9;
            let target = 0.1;
            let mut c = [0.2, 1e4, 3e-7][case % 3];
            let pairs: Vec<(f64, f64)> = (0..n)
                .map(|i| {
                    let kl = if case % 5 == 0 {
                        0.1
                    } else {
                        0.1 + 0.02 * rng.normal()
                    };
                    c = match case % 4 {
                        0 => c,
                        1 if i % 3 == 0 => c * 1.5,
                        1 => c,
                        _ => c * (1.0 + 0.3 * (kl - target) + 0.01 * rng.normal()),
                    };
                    (kl, c)
                })
                .collect();
            let mine = coef_stats(pairs.iter().map(|&(k, c)| (k, c, c.ln())), target).unwrap();
            let theirs = streaming(&pairs, target);
            assert!(
                close(Some(mine.change_rate), Some(theirs.change_rate))
                    && close(mine.adaptation_quality, theirs.adaptation_quality)
                    && close(mine.stability, theirs.stability),
                "case {case}: {mine:?} vs {theirs:?}"
            );
            if case % 4 == 0 {
                // A constant coefficient: exactly stable, no adaptation to measure.
                assert_eq!(mine.stability, Some(1.0));
                assert_eq!(mine.adaptation_quality, None);
            }
        }
        assert_eq!(
            coef_stats(std::iter::once((0.1, 0.2, 0.2f64.ln())), 0.1),
            None
        );
    }
}
