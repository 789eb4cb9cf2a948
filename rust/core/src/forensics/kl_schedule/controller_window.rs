//! The facts the KL tracker reads off a controller analysis of its last `controller_window`
//! samples, computed in one pass over the window's cached samples.
//!
//! A fresh [`crate::control::ControllerAnalyzer`] over the window would give the same numbers
//! (up to rounding in the correlations; the tests hold the two side by side), but it takes
//! one `ln` per coefficient and updates nine lagged Welford accumulators, with two divisions
//! each, per sample, and also tracks settling and decay that the tracker never reads. Here the
//! logarithms come cached with the samples, and each lag's correlation is a two-pass sum.

use crate::control::{centred_sums, pearson, ControllerKind};

/// Relative difference of two correlation magnitudes below which they are tied: far above
/// the rounding of the sums (about 1e-15), far below any difference that means something.
const TIE: f64 = 1e-12;

/// Longest lag searched (the `ControllerConfig` limit).
pub(super) const MAX_LAG: usize = 64;

/// Windows up to this many samples are analysed without allocating.
const STACK: usize = 64;

/// One sample of the window: a finite KL and, when logged, its positive finite coefficient
/// with that coefficient's logarithm.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sample {
    pub kl: f64,
    pub coef: Option<(f64, f64)>,
}

/// What the tracker uses of the analysis (see [`crate::control::ControllerReport`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct WindowFacts {
    pub kind: ControllerKind,
    /// `responsiveness`.
    pub responsiveness: Option<f64>,
    /// `max_overshoot`.
    pub max_overshoot: Option<f64>,
    /// `oscillation_rate`.
    pub oscillation_rate: Option<f64>,
    /// `time_in_band`.
    pub time_in_band: Option<f64>,
}

/// The analysis with target `target`, band and dead band `tolerance`, and lags up to
/// `max_lag`, as `ControllerAnalyzer` runs it over `samples` in order.
pub(super) fn analyse(
    samples: impl ExactSizeIterator<Item = Sample>,
    target: f64,
    tolerance: f64,
    max_lag: usize,
) -> WindowFacts {
    let mut n = 0usize;
    let mut in_band = 0usize;
    // Band excursions: maximal runs outside the band on one side; one that follows an
    // excursion on the other side overshot. The largest overshoot is that of the largest
    // peak, (peak − tolerance) / target being non-decreasing in the peak.
    let mut prev_side: Option<i8> = None;
    let mut last_exc_side = 0i8;
    let mut exc_peak = 0.0f64;
    let mut exc_overshoot = false;
    let mut overshoot_peak: Option<f64> = None;
    // Oscillation: sign changes of the error beyond the dead band.
    let mut osc_sign = 0i8;
    let mut flips = 0usize;
    // The coefficient samples: error and ln(coef), on the stack for the usual windows; their
    // min and max coefficient.
    let len = samples.len();
    let mut stack = [0.0; 2 * STACK];
    let mut heap = Vec::new();
    let buf: &mut [f64] = if len <= STACK {
        &mut stack[..2 * len]
    } else {
        heap.resize(2 * len, 0.0);
        &mut heap
    };
    let (errors, logs) = buf.split_at_mut(len);
    let mut k = 0;
    let (mut cmin, mut cmax) = (f64::INFINITY, f64::NEG_INFINITY);
    for s in samples {
        let e = s.kl - target;
        n += 1;
        let side: i8 = if e > tolerance {
            1
        } else if e < -tolerance {
            -1
        } else {
            0
        };
        if let Some(p) = prev_side {
            if p != 0 && side != p {
                last_exc_side = p;
            }
        }
        if side == 0 {
            in_band += 1;
        } else {
            if prev_side != Some(side) {
                exc_peak = e.abs();
                exc_overshoot = last_exc_side == -side;
            } else if e.abs() > exc_peak {
                exc_peak = e.abs();
            }
            if exc_overshoot {
                overshoot_peak = Some(overshoot_peak.map_or(exc_peak, |p| p.max(exc_peak)));
            }
        }
        prev_side = Some(side);
        // The dead band equals the tolerance, so the oscillation sign is the band side.
        if side != 0 && osc_sign != 0 && side != osc_sign {
            flips += 1;
        }
        if side != 0 {
            osc_sign = side;
        }
        if let Some((c, ln_c)) = s.coef {
            cmin = cmin.min(c);
            cmax = cmax.max(c);
            errors[k] = e;
            logs[k] = ln_c;
            k += 1;
        }
    }
    let (errors, logs) = (&mut errors[..k], &mut logs[..k]);
    let kind = if k == 0 {
        ControllerKind::Unknown
    } else if cmin == cmax {
        ControllerKind::Fixed
    } else {
        ControllerKind::Adaptive
    };
    let responsiveness = if kind == ControllerKind::Adaptive {
        responsiveness(errors, logs, max_lag)
    } else {
        None
    };
    WindowFacts {
        kind,
        responsiveness,
        max_overshoot: overshoot_peak.map(|p| (p - tolerance) / target),
        oscillation_rate: (n > 1).then(|| flips as f64 / (n - 1) as f64),
        time_in_band: (n > 0).then(|| in_band as f64 / n as f64),
    }
}

/// Of the correlations of e_{k−lag} with Δ ln(coef)_k over the coefficient samples k, the one
/// largest in magnitude. `errors` and `logs` are used as scratch.
///
/// Each lag's correlation is the two-pass one of [`crate::control::correlation`], with the
/// first pass shared: every value is measured from one that lies in the pairs of every lag
/// with at least 3 pairs (error 1 and the last change), and each lag's sums are running
/// sums over exactly its own values. A lag whose values are all equal therefore still has a
/// spread of exactly zero, and no correlation, as in Welford's update.
///
/// A coefficient that alternates between a few values can make two lags' correlations equal
/// and opposite (r and −r); which one is "larger" is then down to the last bit of rounding.
/// Magnitudes within [`TIE`] of each other count as equal and the shorter lag wins, so the
/// sign does not depend on how the sums were rounded.
fn responsiveness(errors: &mut [f64], logs: &mut [f64], max_lag: usize) -> Option<f64> {
    let k_end = errors.len();
    // Lag L pairs the change at k ≥ max(1, L) with the error at k − L: K − max(1, L) pairs,
    // and a correlation needs 3.
    if k_end < 4 {
        return None;
    }
    let max_lag = max_lag.min(k_end - 3).min(MAX_LAG);
    for k in (1..k_end).rev() {
        logs[k] -= logs[k - 1];
    }
    let (x_ref, y_ref) = (errors[1], logs[k_end - 1]);
    for e in errors.iter_mut() {
        *e -= x_ref;
    }
    let changes = &mut logs[1..];
    for u in changes.iter_mut() {
        *u -= y_ref;
    }
    // Sums of the errors over [0, K − L) for L ≥ 1 (running from the front) and over
    // [1, K) for L = 0; of the changes over [max(1, L), K) (running from the back).
    let mut x_sums = [0.0; MAX_LAG + 1];
    let mut y_sums = [0.0; MAX_LAG + 1];
    let mut run = 0.0;
    for (i, &e) in errors[..k_end - 1].iter().enumerate() {
        run += e;
        let lag = k_end - 1 - i;
        if lag <= max_lag {
            x_sums[lag] = run;
        }
    }
    x_sums[0] = errors[1..].iter().sum();
    let mut run = 0.0;
    for (i, &u) in changes.iter().enumerate().rev() {
        run += u;
        // `changes[i]` is the change at k = i + 1.
        if i < max_lag.max(1) {
            y_sums[i + 1] = run;
        }
    }
    y_sums[0] = y_sums[1];
    let mut best: Option<f64> = None;
    for lag in 0..=max_lag {
        let start = lag.max(1);
        let n = (k_end - start) as f64;
        let xs = &errors[start - lag..k_end - lag];
        let ys = &changes[start - 1..];
        let (mx, my) = (x_sums[lag] / n, y_sums[lag] / n);
        let [cxx, cyy, cxy] = centred_sums(xs, ys, (0.0, mx), (0.0, my));
        let Some(r) = pearson(cxx, cyy, cxy) else {
            continue;
        };
        if best.is_none_or(|b| r.abs() > b.abs() * (1.0 + TIE)) {
            best = Some(r);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::{ControllerAnalyzer, ControllerConfig};
    use crate::forensics::testing::{close, Noise};

    /// Windows of KL values around the band (crossing it, sitting on its edges, constant)
    /// with coefficients that adapt, stay fixed, change now and then (runs of equal changes
    /// that make some lags constant), go missing or are absent, and several longest lags,
    /// against a fresh `ControllerAnalyzer` over the same samples.
    #[test]
    fn matches_a_fresh_controller_analyzer() {
        let (target, tol) = (0.1, 0.02);
        let mut rng = Noise(11);
        let mut checked = 0;
        for case in 0..3000 {
            let max_lag = [8, 0, 1, 3, 8, 64][(case / 5) % 6];
            let cfg = ControllerConfig::new(target, tol, None, 5, max_lag).unwrap();
            let len = 1 + case % 45;
            let mut coef = 0.2;
            let samples: Vec<Sample> = (0..len)
                .map(|i| {
                    let kl = match case % 5 {
                        0 => 0.1,
                        1 => [0.08, 0.12, 0.1, 0.13, 0.05][(i + case) % 5],
                        _ => 0.1 + 0.05 * rng.normal() * (case % 3) as f64 / 2.0,
                    };
                    coef = match case % 7 {
                        0 => coef,
                        1 => coef * if rng.normal() > 1.0 { 1.1 } else { 1.0 },
                        _ => coef * (1.0 + 0.5 * (kl - target) + 0.01 * rng.normal()),
                    };
                    let logged = case % 11 != 0 && !(case % 4 == 0 && rng.normal() > 0.8);
                    Sample {
                        kl,
                        coef: logged.then(|| (coef, coef.ln())),
                    }
                })
                .collect();
            let mut a = ControllerAnalyzer::new(cfg);
            for (i, s) in samples.iter().enumerate() {
                a.update(s.kl, s.coef.map(|c| c.0), Some(i as f64));
            }
            let r = a.report();
            let f = analyse(samples.iter().copied(), target, tol, max_lag as usize);
            assert_eq!(f.kind, r.controller, "case {case}");
            assert_eq!(f.max_overshoot, r.max_overshoot, "case {case}");
            assert_eq!(f.oscillation_rate, r.oscillation_rate, "case {case}");
            assert_eq!(f.time_in_band, r.time_in_band, "case {case}");
            // Equal and opposite correlations at two lags are a tie that the analyzer breaks
            // by rounding and this by the shorter lag: the magnitude agrees either way.
            assert!(
                close(f.responsiveness, r.responsiveness)
                    || close(
                        f.responsiveness.map(f64::abs),
                        r.responsiveness.map(f64::abs)
                    ),
                "case {case}: {:?} vs {:?}",
                f.responsiveness,
                r.responsiveness
            );
            checked += usize::from(r.responsiveness.is_some());
        }
        assert!(checked > 1000, "{checked}");
    }
}
