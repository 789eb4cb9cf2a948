//! Rules for the signals today's trainers log (TRL GRPO/RLOO, OpenRLHF, verl): no KL
//! coefficient, no policy/value split, no advantages, but KL (per token), entropy, reward
//! and its spread, the total gradient norm, the share of prompt groups without reward
//! variance, the share of truncated completions, the completion length and per-function
//! reward components.
//!
//! One [`SignalTracker`] per run, fed once per logged step with whatever was logged; its
//! rules raise events through the same [`EventLog`] as RLDK's trackers. The live forensics,
//! the TRL monitor and the scanner all drive it through [`SignalTracker::update`].

mod config;
mod health;
mod levels;
pub mod series;
mod trends;

#[cfg(test)]
mod tests;

pub use config::{KlScale, SignalConfig};
pub use health::SignalScores;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::forensics::event::{EventLog, Finding, Severity};
use crate::state::{invalid, Validate};
use series::Series;
use trends::{Component, Joint};

/// One logged step's signals; `None` is "not logged" (NaN and infinities are findings).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SignalInput<'a> {
    /// The logged step.
    pub step: f64,
    /// KL to the reference policy (on the configured [`KlScale`]).
    pub kl: Option<f64>,
    /// Policy entropy.
    pub entropy: Option<f64>,
    /// Mean reward.
    pub reward_mean: Option<f64>,
    /// Reward spread within prompt groups.
    pub reward_std: Option<f64>,
    /// Total (pre-clip) gradient norm, or the policy's where only that is logged.
    pub grad_norm: Option<f64>,
    /// Share of prompt groups whose rewards were all equal (TRL `frac_reward_zero_std`).
    pub frac_reward_zero_std: Option<f64>,
    /// Share of completions cut at the length cap (TRL `completions/clipped_ratio`).
    pub truncation_rate: Option<f64>,
    /// Mean completion length.
    pub response_length_mean: Option<f64>,
    /// Per-function reward means (TRL `rewards/<name>/mean`), by name.
    pub reward_components: &'a [(&'a str, f64)],
}

/// The inputs, in the order of [`SignalTracker::with_checked`]'s mask bits.
pub const SIGNAL_INPUTS: [&str; 9] = [
    "kl",
    "entropy",
    "reward_mean",
    "reward_std",
    "grad_norm",
    "frac_reward_zero_std",
    "truncation_rate",
    "response_length_mean",
    "reward_component",
];

const NON_FINITE: [&str; 9] = [
    "non_finite_kl",
    "non_finite_entropy",
    "non_finite_reward_mean",
    "non_finite_reward_std",
    "non_finite_grad_norm",
    "non_finite_frac_reward_zero_std",
    "non_finite_truncation_rate",
    "non_finite_response_length_mean",
    "non_finite_reward_component",
];

/// Rows of KL whose trend is the "early trend" of the reward-hacking rule.
const EARLY_KL_ROWS: usize = 50;
/// Reward components followed per run (more are counted, not followed).
pub const MAX_COMPONENTS: usize = 16;

/// The trainer-signal rules of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalTracker {
    cfg: SignalConfig,
    updates: u64,
    /// Bit i set: input `SIGNAL_INPUTS[i]` raises its own non-finite anomaly here (clear
    /// where another tracker already reports it, so one problem is one event).
    checked: u16,
    nonfinite: u64,
    kl: Series,
    log_kl: Series,
    kl_early_slope: Option<f64>,
    entropy: Series,
    reward: Series,
    reward_std: Series,
    grad: Series,
    log_grad: Series,
    zero_std: Series,
    truncation: Series,
    reward_length: Joint,
    reward_kl: Joint,
    components: Vec<Component>,
    /// Component values not analysed: their function came after the first
    /// `MAX_COMPONENTS` (counted so that nothing given is dropped unseen).
    components_ignored: u64,
    events: EventLog,
    /// The findings of an update, kept between updates (empty) so that their vector is
    /// allocated once, not per update.
    #[serde(skip)]
    findings: Vec<Finding>,
}

impl SignalTracker {
    /// A tracker that reports non-finite values of every input.
    pub fn new(cfg: SignalConfig) -> Result<Self> {
        Self::with_checked(cfg, u16::MAX)
    }

    /// A tracker that reports non-finite values only of the inputs whose bit is set in
    /// `checked` (bit i: `SIGNAL_INPUTS[i]`).
    pub fn with_checked(cfg: SignalConfig, checked: u16) -> Result<Self> {
        let cfg = cfg.validated()?;
        let s = || Series::new(cfg.baseline_rows);
        Ok(SignalTracker {
            updates: 0,
            checked,
            nonfinite: 0,
            // The KL's early trend and the share's rise are fitted against the step.
            kl: Series::with_steps(cfg.baseline_rows),
            log_kl: s(),
            kl_early_slope: None,
            entropy: s(),
            reward: s(),
            reward_std: s(),
            grad: s(),
            log_grad: s(),
            zero_std: Series::with_steps(cfg.baseline_rows),
            truncation: s(),
            reward_length: Joint::new(cfg.trend_window, true)?,
            reward_kl: Joint::new(cfg.trend_window, false)?,
            components: Vec::new(),
            components_ignored: 0,
            findings: Vec::new(),
            events: EventLog::new(cfg.event_release, cfg.max_events)?,
            cfg,
        })
    }

    /// The parameters.
    pub fn config(&self) -> &SignalConfig {
        &self.cfg
    }

    /// Updates seen.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The events raised.
    pub fn events(&self) -> &EventLog {
        &self.events
    }

    /// The scores of the current state (computed on demand: a per-step caller that does
    /// not read them does not pay for them).
    pub fn scores(&self) -> SignalScores {
        health::scores(
            self.cfg.kl_scale,
            &self.kl,
            &self.log_kl,
            &self.entropy,
            &self.reward,
            &self.zero_std,
            &self.truncation,
            &self.grad,
            &self.log_grad,
        )
    }

    /// Names of the reward components followed.
    pub fn component_names(&self) -> impl Iterator<Item = &str> {
        self.components.iter().map(|c| c.name.as_str())
    }

    /// Non-finite values seen (of every input, reported here or not).
    pub fn nonfinite(&self) -> u64 {
        self.nonfinite
    }

    /// Component values not analysed, their reward function coming after the first
    /// `MAX_COMPONENTS`.
    pub fn components_ignored(&self) -> u64 {
        self.components_ignored
    }

    /// One logged step.
    pub fn update(&mut self, input: &SignalInput<'_>) {
        self.updates += 1;
        let step = input.step;
        let mut out = std::mem::take(&mut self.findings);
        let plain = [
            input.kl,
            input.entropy,
            input.reward_mean,
            input.reward_std,
            input.grad_norm,
            input.frac_reward_zero_std,
            input.truncation_rate,
            input.response_length_mean,
        ];
        for (i, v) in plain.iter().enumerate() {
            if let Some(x) = v.filter(|x| !x.is_finite()) {
                self.non_finite(i, SIGNAL_INPUTS[i], x, step, &mut out);
            }
        }
        let fin = |v: Option<f64>| v.filter(|x| x.is_finite());
        let cfg = self.cfg;
        if let Some(x) = fin(input.kl) {
            levels::kl_spike(&cfg, &self.kl, x, &mut out);
            self.kl.push(step, x);
            if x > 0.0 {
                self.log_kl.push(step, x.ln());
            }
            // The series holds more than EARLY_KL_ROWS values, so its length reaches that
            // count exactly once, at the run's EARLY_KL_ROWS-th finite KL.
            if self.kl.len() == EARLY_KL_ROWS {
                self.kl_early_slope = self.kl.trend_last(EARLY_KL_ROWS).map(|(b, _)| b);
            }
            levels::kl_blowup(&cfg, &self.kl, &mut out);
        }
        if let Some(x) = fin(input.grad_norm).filter(|&x| x >= 0.0) {
            if x > 0.0 {
                levels::grad_spike(&cfg, &self.log_grad, x, &mut out);
                self.log_grad.push(step, x.ln());
            }
            self.grad.push(step, x);
            levels::grad_level(&self.grad, &mut out);
        }
        if let Some(x) = fin(input.entropy) {
            self.entropy.push(step, x);
            levels::entropy_collapse(&self.entropy, &mut out);
        }
        if let Some(x) = fin(input.reward_mean) {
            self.reward.push(step, x);
        }
        if let Some(x) = fin(input.reward_std) {
            self.reward_std.push(step, x);
        }
        if let Some(x) = fin(input.frac_reward_zero_std) {
            self.zero_std.push(step, x);
        }
        if input.reward_std.is_some() || input.frac_reward_zero_std.is_some() {
            levels::starvation(&self.zero_std, &self.reward_std, &mut out);
        }
        if input.entropy.is_some() {
            levels::policy_collapse(
                &self.entropy,
                &self.reward_std,
                &self.zero_std,
                &self.grad,
                &mut out,
            );
        }
        if let Some(x) = fin(input.truncation_rate) {
            self.truncation.push(step, x);
            levels::truncation(&self.truncation, &mut out);
        }
        let w = cfg.trend_window;
        if let (Some(r), Some(l)) = (fin(input.reward_mean), fin(input.response_length_mean)) {
            self.reward_length.push(step, r, l);
            trends::length_hacking(w, cfg.baseline_rows, &self.reward_length, &mut out);
        }
        if let (Some(r), Some(k)) = (fin(input.reward_mean), fin(input.kl)) {
            self.reward_kl.push(step, r, k);
            let floor = cfg.kl_scale.noise_floor();
            trends::reward_hacking(
                w,
                cfg.baseline_rows,
                &self.reward_kl,
                &self.reward,
                self.kl_early_slope,
                floor,
                &mut out,
            );
        }
        if !input.reward_components.is_empty() {
            self.components(step, input.reward_components, &mut out);
            trends::component_divergence(cfg.component_window, &self.components, &mut out);
        }
        self.events.observe_drain(step, &mut out);
        self.findings = out;
    }

    fn non_finite(&mut self, i: usize, name: &str, x: f64, step: f64, out: &mut Vec<Finding>) {
        self.nonfinite += 1;
        if self.checked & (1 << i) != 0 {
            out.push(Finding::new(
                NON_FINITE[i],
                Severity::Critical,
                self.nonfinite as f64,
                Some(0.0),
                format!("{name} is {x} at step {step}"),
            ));
        }
    }

    fn components(&mut self, step: f64, given: &[(&str, f64)], out: &mut Vec<Finding>) {
        for &(name, x) in given {
            if !x.is_finite() {
                self.non_finite(8, &format!("reward component {name}"), x, step, out);
                continue;
            }
            let at = self.components.iter().position(|c| c.name == name);
            let c = match at {
                Some(i) => &mut self.components[i],
                None if self.components.len() < MAX_COMPONENTS => {
                    let Ok(trend) =
                        crate::trend::RollingTrend::new(self.cfg.component_window, None)
                    else {
                        // The window was validated with the configuration.
                        continue;
                    };
                    self.components.push(Component {
                        name: name.to_string(),
                        series: Series::with_steps(self.cfg.baseline_rows),
                        trend,
                    });
                    self.components.last_mut().expect("just pushed")
                }
                None => {
                    self.components_ignored += 1;
                    continue;
                }
            };
            c.series.push(step, x);
            c.trend.update(step, x);
        }
    }
}

/// Feeds aligned columns (`None`: not logged; NaN: a non-finite value) through
/// [`SignalTracker::update`] row by row; `components` are (name, column) pairs.
pub fn signals_batch(
    tracker: &mut SignalTracker,
    steps: &[f64],
    columns: &SignalColumns<'_>,
    components: &[(&str, &[f64])],
) -> Result<()> {
    let n = steps.len();
    columns.check(n)?;
    for (_, c) in components {
        crate::error::check_same_len("steps and a reward component", n, c.len())?;
    }
    let mut row: Vec<(&str, f64)> = Vec::with_capacity(components.len());
    for i in 0..n {
        row.clear();
        row.extend(components.iter().map(|(name, c)| (*name, c[i])));
        let at = |c: Option<&[f64]>| c.map(|c| c[i]);
        tracker.update(&SignalInput {
            step: steps[i],
            kl: at(columns.kl),
            entropy: at(columns.entropy),
            reward_mean: at(columns.reward_mean),
            reward_std: at(columns.reward_std),
            grad_norm: at(columns.grad_norm),
            frac_reward_zero_std: at(columns.frac_reward_zero_std),
            truncation_rate: at(columns.truncation_rate),
            response_length_mean: at(columns.response_length_mean),
            reward_components: &row,
        });
    }
    Ok(())
}

/// Input columns of [`signals_batch`], aligned with its steps.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignalColumns<'a> {
    /// KL.
    pub kl: Option<&'a [f64]>,
    /// Entropy.
    pub entropy: Option<&'a [f64]>,
    /// Mean reward.
    pub reward_mean: Option<&'a [f64]>,
    /// Reward spread.
    pub reward_std: Option<&'a [f64]>,
    /// Total gradient norm.
    pub grad_norm: Option<&'a [f64]>,
    /// Share of groups without reward variance.
    pub frac_reward_zero_std: Option<&'a [f64]>,
    /// Share of truncated completions.
    pub truncation_rate: Option<&'a [f64]>,
    /// Mean completion length.
    pub response_length_mean: Option<&'a [f64]>,
}

impl SignalColumns<'_> {
    fn check(&self, n: usize) -> Result<()> {
        for (name, c) in [
            ("steps and kl", self.kl),
            ("steps and entropy", self.entropy),
            ("steps and reward_mean", self.reward_mean),
            ("steps and reward_std", self.reward_std),
            ("steps and grad_norm", self.grad_norm),
            ("steps and frac_reward_zero_std", self.frac_reward_zero_std),
            ("steps and truncation_rate", self.truncation_rate),
            ("steps and response_length_mean", self.response_length_mean),
        ] {
            if let Some(c) = c {
                crate::error::check_same_len(name, n, c.len())?;
            }
        }
        Ok(())
    }
}

impl Validate for SignalTracker {
    fn validate(&self) -> Result<()> {
        if self.cfg.validated().is_err() || self.components.len() > MAX_COMPONENTS {
            return Err(invalid("signal tracker parameters"));
        }
        for s in [
            &self.kl,
            &self.log_kl,
            &self.entropy,
            &self.reward,
            &self.reward_std,
            &self.grad,
            &self.log_grad,
            &self.zero_std,
            &self.truncation,
        ] {
            s.validate()?;
        }
        for c in &self.components {
            c.series.validate()?;
            if c.trend.window() != self.cfg.component_window {
                return Err(invalid("reward component trend window"));
            }
        }
        self.reward_length.validate()?;
        self.reward_kl.validate()?;
        self.events.validate()
    }
}
