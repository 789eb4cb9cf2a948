//! Parameters of the trainer-signal rules, and the KL scale of a trainer family.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::forensics::event::{DEFAULT_CAPACITY, DEFAULT_RELEASE};

/// What a logged KL value measures; its levels do not transfer between definitions
/// (`shared/spec/log-formats.md` §0.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KlScale {
    /// Per-token mean (TRL GRPO's k3, RLOO's k1, OpenRLHF, verl): a healthy run stays
    /// around 10⁻⁴ to 10⁻¹ nats per token.
    TokenMean,
    /// Per-sequence sum (TRL PPO-v1/v2, online DPO): tens of tokens' worth, a few nats.
    SequenceSum,
    /// Not known (custom loggers): no critical level applies; the floors are the
    /// per-token ones, the smallest plausible.
    Unknown,
}

impl KlScale {
    /// The name used in configuration and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            KlScale::TokenMean => "token_mean",
            KlScale::SequenceSum => "sequence_sum",
            KlScale::Unknown => "unknown",
        }
    }

    /// Parses [`KlScale::as_str`]'s names.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "token_mean" => Ok(KlScale::TokenMean),
            "sequence_sum" => Ok(KlScale::SequenceSum),
            "unknown" => Ok(KlScale::Unknown),
            other => Err(CoreError::param(
                "kl_scale",
                format!("must be 'token_mean', 'sequence_sum' or 'unknown', got {other:?}"),
            )),
        }
    }

    /// KL differences below this are noise of the estimator, not movement: the floor of
    /// the spike rule's spread and of the reward-hacking rule's KL levels.
    pub fn noise_floor(self) -> f64 {
        match self {
            KlScale::TokenMean | KlScale::Unknown => 1e-3,
            KlScale::SequenceSum => 0.05,
        }
    }

    /// The level at which KL growth is worth a warning at all (healthy runs start near
    /// 0 and grow by orders of magnitude below it).
    pub fn growth_floor(self) -> f64 {
        match self {
            KlScale::TokenMean | KlScale::Unknown => 0.05,
            KlScale::SequenceSum => 5.0,
        }
    }

    /// The level past which the policy has left the reference model: a per-token KL of 1
    /// nat means every token is e-times likelier under the policy than under the
    /// reference; for summed KL, 50 nats per sequence (PPO-v1's adaptive target is 6).
    pub fn critical_level(self) -> Option<f64> {
        match self {
            KlScale::TokenMean => Some(1.0),
            KlScale::SequenceSum => Some(50.0),
            KlScale::Unknown => None,
        }
    }
}

/// Rule parameters; [`SignalConfig::default`] gives the documented defaults (docs/rules.md
/// says why each is what it is).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalConfig {
    /// What the logged KL measures.
    pub kl_scale: KlScale,
    /// Finite values per signal whose median and spread are the run's early level.
    pub baseline_rows: usize,
    /// Robust z-score (on the median and MAD of the previous `spike_window` values) above
    /// which a KL or gradient-norm value is a spike.
    pub spike_z: f64,
    /// Values behind the spike rules' median and MAD.
    pub spike_window: usize,
    /// Rows behind the trend rules (length hacking, reward hacking).
    pub trend_window: usize,
    /// Rows behind the reward-component divergence rule: components are per-function means
    /// of a few hundred binary-ish rewards per step, and a policy trading one objective for
    /// another does it over tens to hundreds of steps, so this trend needs more rows than
    /// the others to be significant.
    pub component_window: usize,
    /// Clear evaluations that end an anomaly event.
    pub event_release: u32,
    /// Anomaly events kept.
    pub max_events: usize,
}

impl Default for SignalConfig {
    fn default() -> Self {
        SignalConfig {
            kl_scale: KlScale::Unknown,
            baseline_rows: 20,
            spike_z: 6.0,
            spike_window: 50,
            trend_window: 30,
            component_window: 100,
            event_release: DEFAULT_RELEASE,
            max_events: DEFAULT_CAPACITY,
        }
    }
}

impl SignalConfig {
    /// Checks every parameter.
    pub fn validated(self) -> Result<Self> {
        for (name, v, min) in [
            ("baseline_rows", self.baseline_rows, 5),
            ("spike_window", self.spike_window, 10),
            ("trend_window", self.trend_window, 10),
            ("component_window", self.component_window, 10),
        ] {
            if v < min {
                return Err(CoreError::param(
                    name,
                    format!("must be at least {min}, got {v}"),
                ));
            }
        }
        let cap = super::series::CAPACITY;
        for (name, v, max) in [
            ("spike_window", self.spike_window, cap),
            // Length hacking also reads twice the trend window.
            ("trend_window", self.trend_window, cap / 2),
            ("component_window", self.component_window, cap),
        ] {
            if v > max {
                return Err(CoreError::param(
                    name,
                    format!("must be at most {max}, got {v}"),
                ));
            }
        }
        if !(self.spike_z.is_finite() && self.spike_z > 0.0) {
            return Err(CoreError::param(
                "spike_z",
                format!("must be finite and > 0, got {}", self.spike_z),
            ));
        }
        if self.event_release == 0 {
            return Err(CoreError::param(
                "event_release",
                "must be at least 1, got 0",
            ));
        }
        if self.max_events == 0 {
            return Err(CoreError::param("max_events", "must be at least 1, got 0"));
        }
        Ok(self)
    }
}
