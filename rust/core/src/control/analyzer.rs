//! Streaming analysis of a KL controller from (kl, coefficient, step) samples.
//!
//! Everything is read off the error `e = kl − target` and the band |e| ≤ tolerance:
//! - time in band, band entries and exits;
//! - **overshoot**: an *excursion* is a maximal run of samples outside the band on one side.
//!   An excursion that follows one on the other side means the KL crossed the target and
//!   carried on past the band: its size is (peak |e| − tolerance) / target.
//! - **oscillation**: the sign of e is tracked with a dead band (it only changes when |e|
//!   exceeds the dead band), and each change is a flip. Between two flips lies a complete
//!   half-cycle, giving the period (2 × its length in steps) and its peak |e|; the ratio of
//!   successive peaks gives the decay ratio (< 1 damped, > 1 growing) and the damping ratio
//!   ζ = δ / sqrt(4π² + δ²) with the logarithmic decrement δ = −2·ln(decay ratio) per cycle.
//! - **settling**: a disturbance starts when the KL leaves the band (or at the first sample,
//!   if it starts outside); it has settled once the KL is back in the band for `settle_hold`
//!   consecutive samples, and its settling time runs from its start to the first of those.
//! - **responsiveness**: an adaptive controller raises the coefficient when the KL is above
//!   target. Of the correlations of e_{t−lag} with Δ ln(coef)_t over lags 0..=`max_lag`,
//!   the one largest in magnitude is the responsiveness, with its sign (positive: acts
//!   against the error; about 0: does not react; negative: acts the wrong way), and its lag
//!   is the response lag.
//!   A coefficient that never changes is reported as [`ControllerKind::Fixed`] (no controller),
//!   never as an unresponsive one.
//!
//! Non-finite KL values do not move the band analysis (they are counted); non-finite or
//! non-positive coefficients are counted and break the Δ ln(coef) chain.

use crate::state::{invalid, Validate};
use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::Bivariate;
use crate::error::{check_same_len, CoreError, Result};

/// Parameters of the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ControllerConfig {
    /// KL target (> 0).
    pub target: f64,
    /// Half-width of the acceptable band around the target (≥ 0).
    pub tolerance: f64,
    /// |e| beyond which the sign of the error counts for oscillation (default: tolerance).
    pub deadband: f64,
    /// Consecutive in-band samples that confirm settling (≥ 1, default 5).
    pub settle_hold: u32,
    /// Largest lag, in samples, searched for the coefficient's response (default 5, ≤ 64).
    pub max_lag: u32,
}

impl ControllerConfig {
    /// Validated configuration; `deadband` defaults to `tolerance`.
    pub fn new(
        target: f64,
        tolerance: f64,
        deadband: Option<f64>,
        settle_hold: u32,
        max_lag: u32,
    ) -> Result<Self> {
        if !(target.is_finite() && target > 0.0) {
            return Err(CoreError::param(
                "target",
                format!("must be finite and > 0, got {target}"),
            ));
        }
        if !(tolerance.is_finite() && tolerance >= 0.0) {
            return Err(CoreError::param(
                "tolerance",
                format!("must be finite and >= 0, got {tolerance}"),
            ));
        }
        let deadband = deadband.unwrap_or(tolerance);
        if !(deadband.is_finite() && deadband >= 0.0) {
            return Err(CoreError::param(
                "deadband",
                format!("must be finite and >= 0, got {deadband}"),
            ));
        }
        if settle_hold == 0 {
            return Err(CoreError::param("settle_hold", "must be at least 1, got 0"));
        }
        if max_lag > 64 {
            return Err(CoreError::param(
                "max_lag",
                format!("must be at most 64, got {max_lag}"),
            ));
        }
        Ok(ControllerConfig {
            target,
            tolerance,
            deadband,
            settle_hold,
            max_lag,
        })
    }
}

/// What the coefficient series says about the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControllerKind {
    /// No coefficient was given.
    Unknown,
    /// The coefficient never changed: there is no controller to judge.
    Fixed,
    /// The coefficient changed: responsiveness is measured.
    Adaptive,
}

impl ControllerKind {
    /// Lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ControllerKind::Unknown => "unknown",
            ControllerKind::Fixed => "fixed",
            ControllerKind::Adaptive => "adaptive",
        }
    }
}

/// Summary of the analysis so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerReport {
    /// Samples with a finite KL.
    pub samples: u64,
    /// Samples with a non-finite KL.
    pub nonfinite_kl: u64,
    /// Fraction of samples inside the band.
    pub time_in_band: Option<f64>,
    /// Transitions from outside to inside the band.
    pub band_entries: u64,
    /// Transitions from inside to outside the band.
    pub band_exits: u64,
    /// Excursions that followed a crossing of the target.
    pub overshoot_count: u64,
    /// Largest overshoot, (peak |e| − tolerance) / target.
    pub max_overshoot: Option<f64>,
    /// Mean overshoot.
    pub mean_overshoot: Option<f64>,
    /// Sign changes of the error beyond the dead band.
    pub oscillation_flips: u64,
    /// Flips per sample.
    pub oscillation_rate: Option<f64>,
    /// Mean oscillation period in steps (2 × mean half-cycle).
    pub mean_period: Option<f64>,
    /// Geometric mean ratio of successive half-cycle peaks.
    pub decay_ratio: Option<f64>,
    /// Damping ratio ζ from the logarithmic decrement (negative when growing).
    pub damping_ratio: Option<f64>,
    /// Disturbances that settled.
    pub settle_count: u64,
    /// Mean settling time in steps.
    pub mean_settling_time: Option<f64>,
    /// Longest settling time in steps.
    pub max_settling_time: Option<f64>,
    /// Most recent settling time in steps.
    pub last_settling_time: Option<f64>,
    /// Step at which the current, unsettled disturbance began.
    pub unsettled_since: Option<f64>,
    /// Controller classification.
    pub controller: ControllerKind,
    /// Correlation of e_{t−lag} with Δ ln(coef)_t at the lag where it is largest in
    /// magnitude, with its sign (adaptive controllers only).
    pub responsiveness: Option<f64>,
    /// Lag, in samples, of the best correlation.
    pub response_lag: Option<u32>,
    /// Coefficients that were non-finite or ≤ 0.
    pub invalid_coef: u64,
}

/// Streaming KL-controller analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControllerAnalyzer {
    cfg: ControllerConfig,
    calls: u64,
    n: u64,
    in_band: u64,
    nonfinite_kl: u64,
    /// Band side of the previous finite sample: 0 inside, ±1 outside; `None` before any.
    side: Option<i8>,
    entries: u64,
    exits: u64,
    exc_peak: f64,
    exc_overshoot: bool,
    last_exc_side: i8,
    overshoot_count: u64,
    overshoot_max: f64,
    overshoot_sum: f64,
    osc_sign: i8,
    flips: u64,
    last_flip_step: Option<f64>,
    half_peak: f64,
    prev_half_peak: Option<f64>,
    half_sum: f64,
    half_count: u64,
    log_ratio_sum: f64,
    ratio_count: u64,
    disturbed_since: Option<f64>,
    settle_candidate: f64,
    settle_run: u32,
    settle_count: u64,
    settle_sum: f64,
    settle_max: f64,
    settle_last: f64,
    coef_prev: Option<f64>,
    coef_min: f64,
    coef_max: f64,
    coef_seen: u64,
    invalid_coef: u64,
    errors: VecDeque<f64>,
    lags: Vec<Bivariate>,
}

impl ControllerAnalyzer {
    /// An analyzer with the given configuration.
    pub fn new(cfg: ControllerConfig) -> Self {
        ControllerAnalyzer {
            cfg,
            calls: 0,
            n: 0,
            in_band: 0,
            nonfinite_kl: 0,
            side: None,
            entries: 0,
            exits: 0,
            exc_peak: 0.0,
            exc_overshoot: false,
            last_exc_side: 0,
            overshoot_count: 0,
            overshoot_max: f64::NEG_INFINITY,
            overshoot_sum: 0.0,
            osc_sign: 0,
            flips: 0,
            last_flip_step: None,
            half_peak: 0.0,
            prev_half_peak: None,
            half_sum: 0.0,
            half_count: 0,
            log_ratio_sum: 0.0,
            ratio_count: 0,
            disturbed_since: None,
            settle_candidate: 0.0,
            settle_run: 0,
            settle_count: 0,
            settle_sum: 0.0,
            settle_max: f64::NEG_INFINITY,
            settle_last: f64::NAN,
            coef_prev: None,
            coef_min: f64::INFINITY,
            coef_max: f64::NEG_INFINITY,
            coef_seen: 0,
            invalid_coef: 0,
            errors: VecDeque::with_capacity(cfg.max_lag as usize + 1),
            lags: vec![Bivariate::default(); cfg.max_lag as usize + 1],
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ControllerConfig {
        &self.cfg
    }

    /// Adds one sample. `coef` is `None` when no coefficient is logged; `step` defaults to
    /// the number of samples seen before this one.
    pub fn update(&mut self, kl: f64, coef: Option<f64>, step: Option<f64>) {
        let step = step.unwrap_or(self.calls as f64);
        self.calls += 1;
        let e = kl - self.cfg.target;
        if kl.is_finite() {
            self.band(e, step);
            self.oscillation(e, step);
        } else {
            self.nonfinite_kl += 1;
        }
        if let Some(c) = coef {
            self.coefficient(if kl.is_finite() { e } else { f64::NAN }, c);
        }
    }

    fn band(&mut self, e: f64, step: f64) {
        let tol = self.cfg.tolerance;
        let side: i8 = if e > tol {
            1
        } else if e < -tol {
            -1
        } else {
            0
        };
        self.n += 1;
        let prev = self.side;
        // Close the running excursion when it ends or switches side.
        if let Some(p) = prev {
            if p != 0 && side != p {
                self.last_exc_side = p;
            }
            if p != 0 && side == 0 {
                self.entries += 1;
            }
            if p == 0 && side != 0 {
                self.exits += 1;
            }
        }
        if side == 0 {
            self.in_band += 1;
            if self.disturbed_since.is_some() {
                if self.settle_run == 0 {
                    self.settle_candidate = step;
                }
                self.settle_run += 1;
                if self.settle_run >= self.cfg.settle_hold {
                    let start = self.disturbed_since.take().unwrap_or(step);
                    let t = self.settle_candidate - start;
                    self.settle_count += 1;
                    self.settle_sum += t;
                    self.settle_max = self.settle_max.max(t);
                    self.settle_last = t;
                }
            }
        } else {
            if self.disturbed_since.is_none() {
                self.disturbed_since = Some(step);
            }
            self.settle_run = 0;
            if prev != Some(side) {
                // A new excursion; it overshoots if the previous one was on the other side.
                self.exc_peak = e.abs();
                self.exc_overshoot = self.last_exc_side == -side;
                if self.exc_overshoot {
                    self.overshoot_count += 1;
                    self.overshoot_sum += self.overshoot_of(self.exc_peak);
                }
            } else if e.abs() > self.exc_peak {
                if self.exc_overshoot {
                    self.overshoot_sum +=
                        self.overshoot_of(e.abs()) - self.overshoot_of(self.exc_peak);
                }
                self.exc_peak = e.abs();
            }
            if self.exc_overshoot {
                self.overshoot_max = self.overshoot_max.max(self.overshoot_of(self.exc_peak));
            }
        }
        self.side = Some(side);
    }

    fn overshoot_of(&self, peak: f64) -> f64 {
        (peak - self.cfg.tolerance) / self.cfg.target
    }

    fn oscillation(&mut self, e: f64, step: f64) {
        let db = self.cfg.deadband;
        let sign: i8 = if e > db {
            1
        } else if e < -db {
            -1
        } else {
            0
        };
        if sign != 0 && self.osc_sign != 0 && sign != self.osc_sign {
            self.flips += 1;
            if let Some(last) = self.last_flip_step {
                // The stretch since the previous flip is a complete half-cycle.
                self.half_sum += step - last;
                self.half_count += 1;
                if let Some(prev) = self.prev_half_peak {
                    if prev > 0.0 && self.half_peak > 0.0 {
                        self.log_ratio_sum += (self.half_peak / prev).ln();
                        self.ratio_count += 1;
                    }
                }
                self.prev_half_peak = Some(self.half_peak);
            }
            self.last_flip_step = Some(step);
            self.half_peak = 0.0;
        }
        if sign != 0 {
            self.osc_sign = sign;
        }
        self.half_peak = self.half_peak.max(e.abs());
    }

    fn coefficient(&mut self, e: f64, c: f64) {
        if self.errors.len() == self.lags.len() {
            self.errors.pop_front();
        }
        self.errors.push_back(e);
        if !(c.is_finite() && c > 0.0) {
            self.invalid_coef += 1;
            self.coef_prev = None;
            return;
        }
        self.coef_seen += 1;
        self.coef_min = self.coef_min.min(c);
        self.coef_max = self.coef_max.max(c);
        if let Some(p) = self.coef_prev {
            let u = c.ln() - p.ln();
            let newest = self.errors.len() - 1;
            for (lag, stats) in self.lags.iter_mut().enumerate() {
                if lag > newest {
                    break;
                }
                let e_lag = self.errors[newest - lag];
                if e_lag.is_finite() {
                    stats.update(e_lag, u);
                }
            }
        }
        self.coef_prev = Some(c);
    }

    /// The analysis so far.
    pub fn report(&self) -> ControllerReport {
        let opt = |cond: bool, v: f64| cond.then_some(v);
        let controller = if self.coef_seen == 0 {
            ControllerKind::Unknown
        } else if self.coef_min == self.coef_max {
            ControllerKind::Fixed
        } else {
            ControllerKind::Adaptive
        };
        // The lag with the strongest association, whatever its sign: a controller that acts
        // the wrong way (r = -1 at its lag) must not be outvoted by noise at other lags.
        let (responsiveness, response_lag) = if controller == ControllerKind::Adaptive {
            self.lags
                .iter()
                .enumerate()
                .filter_map(|(lag, s)| s.correlation().map(|r| (r, lag as u32)))
                .fold(
                    (None, None),
                    |best: (Option<f64>, Option<u32>), (r, lag)| match best.0 {
                        Some(b) if b.abs() >= r.abs() => best,
                        _ => (Some(r), Some(lag)),
                    },
                )
        } else {
            (None, None)
        };
        let decay = opt(
            self.ratio_count > 0,
            (self.log_ratio_sum / self.ratio_count as f64).exp(),
        );
        let damping = decay.map(|r| {
            let delta = -2.0 * r.ln();
            delta / (4.0 * std::f64::consts::PI * std::f64::consts::PI + delta * delta).sqrt()
        });
        ControllerReport {
            samples: self.n,
            nonfinite_kl: self.nonfinite_kl,
            time_in_band: opt(self.n > 0, self.in_band as f64 / self.n as f64),
            band_entries: self.entries,
            band_exits: self.exits,
            overshoot_count: self.overshoot_count,
            max_overshoot: opt(self.overshoot_count > 0, self.overshoot_max),
            mean_overshoot: opt(
                self.overshoot_count > 0,
                self.overshoot_sum / self.overshoot_count as f64,
            ),
            oscillation_flips: self.flips,
            oscillation_rate: opt(self.n > 1, self.flips as f64 / (self.n - 1) as f64),
            mean_period: opt(
                self.half_count > 0,
                2.0 * self.half_sum / self.half_count as f64,
            ),
            decay_ratio: decay,
            damping_ratio: damping,
            settle_count: self.settle_count,
            mean_settling_time: opt(
                self.settle_count > 0,
                self.settle_sum / self.settle_count as f64,
            ),
            max_settling_time: opt(self.settle_count > 0, self.settle_max),
            last_settling_time: opt(self.settle_count > 0, self.settle_last),
            unsettled_since: self.disturbed_since,
            controller,
            responsiveness,
            response_lag,
            invalid_coef: self.invalid_coef,
        }
    }
}

/// Runs the analysis over whole columns (`coef` and `steps` optional, aligned with `kl`).
pub fn controller_batch(
    cfg: ControllerConfig,
    kl: &[f64],
    coef: Option<&[f64]>,
    steps: Option<&[f64]>,
) -> Result<ControllerReport> {
    if let Some(c) = coef {
        check_same_len("kl and coef", kl.len(), c.len())?;
    }
    if let Some(s) = steps {
        check_same_len("kl and steps", kl.len(), s.len())?;
    }
    let mut a = ControllerAnalyzer::new(cfg);
    for i in 0..kl.len() {
        a.update(kl[i], coef.map(|c| c[i]), steps.map(|s| s[i]));
    }
    Ok(a.report())
}

impl Validate for ControllerAnalyzer {
    fn validate(&self) -> Result<()> {
        let c = self.cfg;
        ControllerConfig::new(
            c.target,
            c.tolerance,
            Some(c.deadband),
            c.settle_hold,
            c.max_lag,
        )?;
        if self.lags.len() != c.max_lag as usize + 1 || self.errors.len() > self.lags.len() {
            return Err(invalid("lag buffers"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(target: f64, tol: f64) -> ControllerConfig {
        ControllerConfig::new(target, tol, None, 3, 3).unwrap()
    }

    #[test]
    fn step_response_overshoot_and_settling() {
        // 0 → rises past target to 0.13 → back to 0.1 and stays.
        let kl = [0.0, 0.05, 0.09, 0.13, 0.12, 0.1, 0.1, 0.1, 0.1, 0.1];
        let r = controller_batch(cfg(0.1, 0.015), &kl, None, None).unwrap();
        assert_eq!(r.overshoot_count, 1);
        // peak |e| 0.03, beyond the band by 0.015, relative to the target 0.1.
        assert!((r.max_overshoot.unwrap() - 0.15).abs() < 1e-12);
        assert_eq!(r.band_entries, 2);
        assert_eq!(r.band_exits, 1);
        // disturbance from step 0; in band from step 5 for good (hold 3).
        assert_eq!(r.settle_count, 1);
        assert_eq!(r.last_settling_time, Some(5.0));
        assert_eq!(r.unsettled_since, None);
        assert_eq!(r.controller, ControllerKind::Unknown);
    }

    #[test]
    fn damped_oscillation_period_and_decay() {
        let kl: Vec<f64> = (0..40)
            .map(|k| 0.1 + 0.08 * 0.8f64.powi(k) * if k % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let r = controller_batch(cfg(0.1, 0.001), &kl, None, None).unwrap();
        assert!((r.mean_period.unwrap() - 2.0).abs() < 1e-12);
        assert!((r.decay_ratio.unwrap() - 0.8).abs() < 1e-9);
        assert!(r.damping_ratio.unwrap() > 0.0);
    }

    #[test]
    fn fixed_coef_is_not_a_controller() {
        let kl = [0.1, 0.2, 0.05, 0.3, 0.0];
        let r = controller_batch(cfg(0.1, 0.01), &kl, Some(&[0.05; 5]), None).unwrap();
        assert_eq!(r.controller, ControllerKind::Fixed);
        assert_eq!(r.responsiveness, None);
    }

    #[test]
    fn proportional_controller_is_responsive_with_lag() {
        // coef_{t} = coef_{t-1}·exp(0.5·e_{t-1}): responds to the previous error.
        let mut coef = vec![0.2];
        let kl: Vec<f64> = (0..200)
            .map(|i| 0.1 + 0.05 * ((i as f64) * 0.7).sin())
            .collect();
        for i in 1..kl.len() {
            let c = coef[i - 1] * (0.5 * (kl[i - 1] - 0.1)).exp();
            coef.push(c);
        }
        let r = controller_batch(cfg(0.1, 0.01), &kl, Some(&coef), None).unwrap();
        assert_eq!(r.controller, ControllerKind::Adaptive);
        assert!(r.responsiveness.unwrap() > 0.99);
        assert_eq!(r.response_lag, Some(1));
    }

    #[test]
    fn wrong_way_controller_is_negative_not_noise() {
        // coef_t = coef_{t-1}·exp(-0.5·e_{t-1}): lowers the penalty when KL is too high.
        let kl: Vec<f64> = (0..300u32)
            .map(|i| 0.1 + 0.02 * ((f64::from(i) * 2.399).sin() + (f64::from(i) * 0.77).cos()))
            .collect();
        let mut coef = vec![0.2];
        for i in 1..kl.len() {
            coef.push(coef[i - 1] * (-0.5 * (kl[i - 1] - 0.1)).exp());
        }
        let r = controller_batch(cfg(0.1, 0.01), &kl, Some(&coef), None).unwrap();
        assert!(r.responsiveness.unwrap() < -0.99, "{r:?}");
        assert_eq!(r.response_lag, Some(1));
    }

    #[test]
    fn nonfinite_inputs_are_counted() {
        let mut a = ControllerAnalyzer::new(cfg(0.1, 0.01));
        a.update(f64::NAN, Some(-1.0), None);
        a.update(0.1, Some(f64::INFINITY), None);
        let r = a.report();
        assert_eq!(r.nonfinite_kl, 1);
        assert_eq!(r.invalid_coef, 2);
        assert_eq!(r.samples, 1);
        assert!(ControllerConfig::new(0.0, 0.1, None, 1, 1).is_err());
        assert!(ControllerConfig::new(0.1, -0.1, None, 1, 1).is_err());
        assert!(ControllerConfig::new(0.1, 0.1, None, 0, 1).is_err());
    }
}
