//! The comprehensive forensics: every tracker behind one `update`, RLDK's
//! `ComprehensivePPOForensics`.
//!
//! What differs from RLDK (each in docs/compatibility.md):
//! - A tracker is updated only when its inputs were logged (RLDK fed the KL tracker
//!   defaults when KL was missing, and never reached the gradient analyzer without a
//!   policy/value split); a snapshot carries the tracker metrics of this step only.
//! - Entropy and the reward are checked: a non-finite value is a critical anomaly.
//! - The overall scores average the parts that have data; a tracker without data is not
//!   a perfect 1.0, and the drift term counts once, in training stability.
//! - Length bias streams (bounded work per update) and raises `length_bias_anomaly`.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::config::ComprehensiveConfig;
use super::metrics::{ComprehensiveMetrics, StepInput};
use super::parts::{update_advantage, Part, ScoreParts, Snapshots};
use crate::error::Result;
use crate::forensics::advantage::AdvantageTracker;
use crate::forensics::event::{EventLog, Finding, Severity};
use crate::forensics::gradient::GradientAnalyzer;
use crate::forensics::kl_schedule::KlScheduleTracker;
use crate::forensics::length_bias::LengthBias;
use crate::forensics::stride::StepStride;
use crate::state::{invalid, Validate};

/// The trackers and the events they raise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComprehensiveForensics {
    kl: Option<KlScheduleTracker>,
    gradient: Option<GradientAnalyzer>,
    advantage: Option<AdvantageTracker>,
    layer: Layer,
}

/// The parts of [`ComprehensiveForensics`]: KL tracker, gradient analyzer, advantage
/// tracker, layer.
pub type Parts = (
    Option<KlScheduleTracker>,
    Option<GradientAnalyzer>,
    Option<AdvantageTracker>,
    Layer,
);

/// The trackers a [`Layer`] drives at one update (borrowed, so that a binding can keep
/// each tracker as its own object and still update them together).
#[derive(Debug)]
pub struct Trackers<'a> {
    /// The KL tracker, when enabled.
    pub kl: Option<&'a mut KlScheduleTracker>,
    /// The gradient analyzer, when enabled.
    pub gradient: Option<&'a mut GradientAnalyzer>,
    /// The advantage tracker, when enabled.
    pub advantage: Option<&'a mut AdvantageTracker>,
}

/// The comprehensive layer's own state: parameters, length bias, input checks, scores,
/// events and history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    cfg: ComprehensiveConfig,
    length_bias: Option<LengthBias>,
    updates: u64,
    nonfinite: u64,
    metrics: Arc<ComprehensiveMetrics>,
    events: EventLog,
    history: VecDeque<Arc<ComprehensiveMetrics>>,
    /// The logging stride of every step seen: the diagnosis horizon, as the scanner finds it.
    stride: StepStride,
    /// Whether snapshots are kept in `history` (batch paths switch it off for rows whose
    /// snapshot the history would drop anyway). Not state.
    #[serde(skip)]
    history_off: bool,
}

impl ComprehensiveForensics {
    /// Forensics with validated parameters.
    pub fn new(cfg: ComprehensiveConfig) -> Result<Self> {
        let cfg = cfg.validated()?;
        let kl = cfg
            .enable_kl_schedule_tracking
            .then(|| KlScheduleTracker::new(cfg.kl()))
            .transpose()?;
        let gradient = cfg
            .enable_gradient_norms_analysis
            .then(|| GradientAnalyzer::new(cfg.gradient()))
            .transpose()?;
        let advantage = cfg
            .enable_advantage_statistics
            .then(|| AdvantageTracker::new(cfg.advantage()))
            .transpose()?;
        Ok(ComprehensiveForensics {
            kl,
            gradient,
            advantage,
            layer: Layer::new(cfg)?,
        })
    }

    /// Reassembles forensics from its parts (as [`ComprehensiveForensics::into_parts`]
    /// gave them); the parts must match the layer's configuration.
    pub fn from_parts(
        kl: Option<KlScheduleTracker>,
        gradient: Option<GradientAnalyzer>,
        advantage: Option<AdvantageTracker>,
        layer: Layer,
    ) -> Result<Self> {
        let f = ComprehensiveForensics {
            kl,
            gradient,
            advantage,
            layer,
        };
        f.validate()?;
        Ok(f)
    }

    /// The KL tracker, the gradient analyzer, the advantage tracker and the layer.
    pub fn into_parts(self) -> Parts {
        (self.kl, self.gradient, self.advantage, self.layer)
    }

    /// The parts, borrowed apart (the batch path updates the trackers side by side).
    pub(super) fn parts_mut(
        &mut self,
    ) -> (
        Option<&mut KlScheduleTracker>,
        Option<&mut GradientAnalyzer>,
        Option<&mut AdvantageTracker>,
        &mut Layer,
    ) {
        (
            self.kl.as_mut(),
            self.gradient.as_mut(),
            self.advantage.as_mut(),
            &mut self.layer,
        )
    }

    /// The parameters.
    pub fn config(&self) -> &ComprehensiveConfig {
        &self.layer.cfg
    }

    /// Updates seen.
    pub fn updates(&self) -> u64 {
        self.layer.updates
    }

    /// The KL tracker (when enabled).
    pub fn kl(&self) -> Option<&KlScheduleTracker> {
        self.kl.as_ref()
    }

    /// The gradient analyzer (when enabled).
    pub fn gradient(&self) -> Option<&GradientAnalyzer> {
        self.gradient.as_ref()
    }

    /// The advantage tracker (when enabled).
    pub fn advantage(&self) -> Option<&AdvantageTracker> {
        self.advantage.as_ref()
    }

    /// The comprehensive layer (length bias, own events, history).
    pub fn layer(&self) -> &Layer {
        &self.layer
    }

    /// The length-bias detector (when enabled).
    pub fn length_bias(&mut self) -> Option<&mut LengthBias> {
        self.layer.length_bias.as_mut()
    }

    /// Events raised by the comprehensive layer (non-finite entropy/reward, length bias).
    pub fn events(&self) -> &EventLog {
        &self.layer.events
    }

    /// The latest snapshot (shared: cloning the `Arc` is cheap).
    pub fn metrics(&self) -> &Arc<ComprehensiveMetrics> {
        &self.layer.metrics
    }

    /// One logged step with its advantage samples and the (reward, length) records of its
    /// responses.
    pub fn update(
        &mut self,
        input: StepInput,
        advantage_samples: Option<&[f64]>,
        responses: &[(f64, f64)],
    ) -> &Arc<ComprehensiveMetrics> {
        let trackers = Trackers {
            kl: self.kl.as_mut(),
            gradient: self.gradient.as_mut(),
            advantage: self.advantage.as_mut(),
        };
        self.layer
            .update(trackers, input, advantage_samples, responses)
    }
}

impl ComprehensiveForensics {
    /// Keeps snapshots only where a full history will still hold them after `remaining`
    /// more updates (this one included): each part by its own `history_size`.
    pub fn record_history_for_remaining(&mut self, remaining: usize) {
        let layer_keeps = remaining <= self.layer.cfg.history_size;
        if let Some(k) = self.kl.as_mut() {
            k.keep_for_remaining(remaining, layer_keeps);
        }
        if let Some(g) = self.gradient.as_mut() {
            g.keep_for_remaining(remaining, layer_keeps);
        }
        if let Some(a) = self.advantage.as_mut() {
            a.keep_for_remaining(remaining, layer_keeps);
        }
        self.layer.set_history_recording(layer_keeps);
    }
}

impl Layer {
    /// Switches keeping per-update snapshots on or off. While off, an update neither keeps
    /// its snapshot nor copies the trackers' metrics or the length-bias analysis into it
    /// (its scalar fields, which the
    /// batch columns read, are complete). A batch path turns it off for the rows whose
    /// snapshots a full history would drop before the batch ends, and back on for the rest,
    /// which leaves every result, the final history and snapshot included, as per-step
    /// updates give.
    pub fn set_history_recording(&mut self, on: bool) {
        self.history_off = !on;
    }

    /// The layer of forensics with parameters `cfg`.
    pub fn new(cfg: ComprehensiveConfig) -> Result<Self> {
        let cfg = cfg.validated()?;
        let length_bias = cfg
            .enable_length_bias_detection
            .then(|| LengthBias::new(cfg.length_bias_threshold, cfg.length_bias_window))
            .transpose()?;
        let thresholds = length_bias
            .as_ref()
            .map(|l| (l.threshold(), l.corr_threshold()));
        Ok(Layer {
            length_bias,
            updates: 0,
            nonfinite: 0,
            metrics: Arc::new(ComprehensiveMetrics::empty(thresholds)),
            events: EventLog::new(cfg.event_release, cfg.max_events)?,
            history: VecDeque::new(),
            stride: StepStride::new(),
            history_off: false,
            cfg,
        })
    }

    /// The parameters.
    pub fn config(&self) -> &ComprehensiveConfig {
        &self.cfg
    }

    /// Updates seen.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The length-bias detector (when enabled).
    pub fn length_bias(&mut self) -> Option<&mut LengthBias> {
        self.length_bias.as_mut()
    }

    /// The length-bias detector, read-only (its analysis may be stale until
    /// [`Layer::length_bias`] refreshes it).
    pub fn length_bias_ref(&self) -> Option<&LengthBias> {
        self.length_bias.as_ref()
    }

    /// Events raised by this layer (non-finite entropy/reward, length bias).
    pub fn events(&self) -> &EventLog {
        &self.events
    }

    /// The latest snapshot (shared: cloning the `Arc` is cheap).
    pub fn metrics(&self) -> &Arc<ComprehensiveMetrics> {
        &self.metrics
    }

    /// The retained snapshots, oldest first.
    pub fn history(&self) -> &VecDeque<Arc<ComprehensiveMetrics>> {
        &self.history
    }

    /// The run's logging stride so far (the median positive gap between the steps seen).
    pub fn stride(&self) -> &StepStride {
        &self.stride
    }

    /// One logged step: updates the trackers whose inputs were logged, then this layer.
    pub fn update(
        &mut self,
        trackers: Trackers<'_>,
        input: StepInput,
        advantage_samples: Option<&[f64]>,
        responses: &[(f64, f64)],
    ) -> &Arc<ComprehensiveMetrics> {
        let Trackers {
            mut kl,
            mut gradient,
            mut advantage,
        } = trackers;
        let keep = !self.history_off;
        let mut snaps = Snapshots::default();
        if let Some(kl) = kl.as_deref_mut() {
            if kl.step(&input).is_some() && keep {
                snaps.kl = Some(kl.snapshot());
            }
        }
        if let Some(g) = gradient.as_deref_mut() {
            if g.step(&input).is_some() && keep {
                snaps.gradient = Some(g.snapshot());
            }
        }
        if let Some(a) = advantage.as_deref_mut() {
            if update_advantage(a, &input, advantage_samples).is_some() && keep {
                snaps.advantage = Some(a.snapshot());
            }
        }
        let parts = ScoreParts::of(kl.as_deref(), gradient.as_deref(), advantage.as_deref());
        self.finish(input, parts, snaps, responses)
    }

    /// This layer's part of an update, after the trackers': input checks, length bias,
    /// events, the scores from `parts` (the trackers' latest metrics) and the snapshot
    /// carrying `snaps` (the metrics of the trackers updated at this step, when kept).
    pub(super) fn finish(
        &mut self,
        input: StepInput,
        parts: ScoreParts,
        snaps: Snapshots,
        responses: &[(f64, f64)],
    ) -> &Arc<ComprehensiveMetrics> {
        self.updates += 1;
        let step = input.step;
        self.stride.push(step);
        let mut m = ComprehensiveMetrics::empty(
            self.length_bias
                .as_ref()
                .map(|l| (l.threshold(), l.corr_threshold())),
        );
        m.input = input;
        m.kl_schedule_metrics = snaps.kl;
        m.gradient_norms_metrics = snaps.gradient;
        m.advantage_statistics_metrics = snaps.advantage;
        let mut findings = self.input_findings(&input);
        if let Some(lb) = self.length_bias.as_mut() {
            let threshold = lb.threshold();
            for &(r, l) in responses {
                lb.add(r, l);
            }
            lb.maybe_refresh();
            let lm = lb.cached();
            m.length_bias_score = lm.bias_severity;
            m.length_reward_correlation = lm.pearson_correlation;
            m.length_reward_spearman = lm.spearman_correlation;
            m.mean_response_length = lm.mean_length;
            m.length_bias_detected = lb.detected();
            // The shared analysis goes into kept snapshots only, as the trackers' do (a
            // reference count up and down per step otherwise).
            if !self.history_off {
                m.length_bias_metrics = Some(Arc::clone(lm));
            }
            if let Some(e) = lb.evidence() {
                let s = e.bias_severity.unwrap_or(0.0);
                findings.push(Finding::new(
                    "length_bias_anomaly",
                    Severity::Warning,
                    s,
                    Some(threshold),
                    format!(
                        "reward favours response length: severity {s:.3}, Pearson {:.3} over \
                         the last {} responses",
                        e.pearson_correlation.unwrap_or(f64::NAN),
                        e.valid_sample_count
                    ),
                ));
            }
        }
        self.events.observe(step, findings);
        parts.write(&mut m);
        // The snapshot is written into the shared slot when nothing else holds it (the
        // batch path, whose rows the history does not keep): the same value as a fresh
        // `Arc`, without an allocation and a free per step.
        match Arc::get_mut(&mut self.metrics) {
            Some(slot) => *slot = m,
            None => self.metrics = Arc::new(m),
        }
        if !self.history_off {
            crate::forensics::push_capped(
                &mut self.history,
                Arc::clone(&self.metrics),
                self.cfg.history_size,
            );
        }
        &self.metrics
    }

    fn input_findings(&mut self, input: &StepInput) -> Vec<Finding> {
        let mut out = Vec::new();
        for (kind, name, v) in [
            ("non_finite_entropy", "entropy", input.entropy),
            ("non_finite_reward_mean", "reward_mean", input.reward_mean),
            ("non_finite_reward_std", "reward_std", input.reward_std),
        ] {
            if let Some(x) = v.filter(|x| !x.is_finite()) {
                self.nonfinite += 1;
                out.push(Finding::new(
                    kind,
                    Severity::Critical,
                    self.nonfinite as f64,
                    Some(0.0),
                    format!("{name} is {x} at step {}", input.step),
                ));
            }
        }
        out
    }
}

impl Validate for ComprehensiveForensics {
    fn validate(&self) -> Result<()> {
        let cfg = &self.layer.cfg;
        if self.kl.is_some() != cfg.enable_kl_schedule_tracking
            || self.gradient.is_some() != cfg.enable_gradient_norms_analysis
            || self.advantage.is_some() != cfg.enable_advantage_statistics
        {
            return Err(invalid("comprehensive forensics trackers"));
        }
        if let Some(k) = &self.kl {
            k.validate()?;
        }
        if let Some(g) = &self.gradient {
            g.validate()?;
        }
        if let Some(a) = &self.advantage {
            a.validate()?;
        }
        self.layer.validate()
    }
}

impl Validate for Layer {
    fn validate(&self) -> Result<()> {
        if self.cfg.validated().is_err()
            || self.history.len() > self.cfg.history_size
            || self.length_bias.is_some() != self.cfg.enable_length_bias_detection
        {
            return Err(invalid("comprehensive forensics parameters"));
        }
        if let Some(l) = &self.length_bias {
            l.validate()?;
        }
        self.stride.validate()?;
        self.events.validate()
    }
}
