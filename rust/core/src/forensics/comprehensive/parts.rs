//! What the comprehensive layer reads of the trackers at one update: whether each was
//! updated (and its metrics then), and the parts of its latest metrics that RLDK's three
//! aggregate scores average. Kept as plain data so that the batch path can run the
//! trackers apart from the layer and hand it the same values.

use std::sync::Arc;

use super::metrics::{ComprehensiveMetrics, StepInput};
use crate::forensics::advantage::{AdvantageInput, AdvantageMetrics, AdvantageTracker};
use crate::forensics::gradient::{GradientAnalyzer, GradientMetrics};
use crate::forensics::kl_schedule::{KlScheduleMetrics, KlScheduleTracker};

/// Updates the KL tracker when KL or its coefficient was logged; its metrics if so.
fn update_kl<'a>(
    kl: &'a mut KlScheduleTracker,
    input: &StepInput,
) -> Option<&'a KlScheduleMetrics> {
    (input.kl.is_some() || input.kl_coef.is_some())
        .then(|| kl.update(input.step, input.kl, input.kl_coef))
}

/// Updates the gradient analyzer when a norm was logged; its metrics if so.
fn update_gradient<'a>(
    g: &'a mut GradientAnalyzer,
    input: &StepInput,
) -> Option<&'a GradientMetrics> {
    let (p, v, t) = (
        input.policy_grad_norm,
        input.value_grad_norm,
        input.total_grad_norm,
    );
    (p.is_some() || v.is_some() || t.is_some()).then(|| g.update(input.step, p, v, t))
}

/// Updates the advantage tracker when advantage statistics or samples were logged; its
/// metrics if so.
pub(super) fn update_advantage<'a>(
    a: &'a mut AdvantageTracker,
    input: &StepInput,
    samples: Option<&[f64]>,
) -> Option<&'a AdvantageMetrics> {
    if input.advantage_mean.is_none() && input.advantage_std.is_none() && samples.is_none() {
        return None;
    }
    let ai = AdvantageInput {
        mean: input.advantage_mean,
        std: input.advantage_std,
        min: input.advantage_min,
        max: input.advantage_max,
        median: input.advantage_median,
        samples,
    };
    Some(a.update(input.step, &ai))
}

/// One tracker as the comprehensive layer drives it.
pub(super) trait Part {
    /// Its per-update metrics.
    type Metrics: Clone;
    /// What the aggregate scores read of those metrics.
    type Parts: Copy + Default;
    /// Updates it with the step's input when its inputs were logged (advantage samples
    /// aside); its metrics if so.
    fn step(&mut self, input: &StepInput) -> Option<&Self::Metrics>;
    /// Its score parts now.
    fn score_parts(&self) -> Self::Parts;
    /// The snapshot of its latest update (shared with its history when that kept it).
    fn snapshot(&self) -> Arc<Self::Metrics>;
    /// Keeps snapshots only where its own history will still hold them after `remaining`
    /// more updates (this one included); `layer_keeps`: the layer's history keeps this
    /// update's snapshot, which carries this tracker's metrics.
    fn keep_for_remaining(&mut self, remaining: usize, layer_keeps: bool);
}

impl Part for KlScheduleTracker {
    type Metrics = KlScheduleMetrics;
    type Parts = KlParts;
    fn step(&mut self, input: &StepInput) -> Option<&KlScheduleMetrics> {
        update_kl(self, input)
    }
    fn score_parts(&self) -> KlParts {
        KlParts::of(self.metrics())
    }
    fn snapshot(&self) -> Arc<KlScheduleMetrics> {
        KlScheduleTracker::snapshot(self)
    }
    fn keep_for_remaining(&mut self, remaining: usize, _layer_keeps: bool) {
        self.set_history_recording(remaining <= self.config().history_size);
    }
}

impl Part for GradientAnalyzer {
    type Metrics = GradientMetrics;
    type Parts = GradientParts;
    fn step(&mut self, input: &StepInput) -> Option<&GradientMetrics> {
        update_gradient(self, input)
    }
    fn score_parts(&self) -> GradientParts {
        GradientParts::of(self.metrics())
    }
    fn snapshot(&self) -> Arc<GradientMetrics> {
        GradientAnalyzer::snapshot(self)
    }
    fn keep_for_remaining(&mut self, remaining: usize, layer_keeps: bool) {
        let own = remaining <= self.config().history_size;
        self.set_history_recording(own);
        // Its snapshot is kept by its own history or copied into the layer's.
        self.set_snapshot_only_fields(own || layer_keeps);
    }
}

impl Part for AdvantageTracker {
    type Metrics = AdvantageMetrics;
    type Parts = AdvantageParts;
    fn step(&mut self, input: &StepInput) -> Option<&AdvantageMetrics> {
        update_advantage(self, input, None)
    }
    fn score_parts(&self) -> AdvantageParts {
        AdvantageParts::of(self.metrics())
    }
    fn snapshot(&self) -> Arc<AdvantageMetrics> {
        AdvantageTracker::snapshot(self)
    }
    fn keep_for_remaining(&mut self, remaining: usize, _layer_keeps: bool) {
        self.set_history_recording(remaining <= self.config().history_size);
    }
}

/// The metrics of the trackers updated at one step, kept in its snapshot.
#[derive(Debug, Default)]
pub(super) struct Snapshots {
    pub kl: Option<Arc<KlScheduleMetrics>>,
    pub gradient: Option<Arc<GradientMetrics>>,
    pub advantage: Option<Arc<AdvantageMetrics>>,
}

/// What RLDK's three aggregates read of the trackers' latest metrics (`None` for a
/// disabled tracker or a part without data).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct ScoreParts {
    pub kl: KlParts,
    pub gradient: GradientParts,
    pub advantage: AdvantageParts,
}

/// The KL tracker's score parts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct KlParts {
    health: Option<f64>,
    schedule: Option<f64>,
    in_range: Option<f64>,
    drift: Option<f64>,
}

/// The gradient analyzer's score parts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct GradientParts {
    health: Option<f64>,
    stability: Option<f64>,
}

/// The advantage tracker's score parts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct AdvantageParts {
    health: Option<f64>,
    quality: Option<f64>,
}

impl KlParts {
    fn of(k: &KlScheduleMetrics) -> Self {
        KlParts {
            health: k.kl_health_score,
            schedule: k.schedule_health_score,
            in_range: k.target_range_stability,
            drift: k.kl_drift_score,
        }
    }
}

impl GradientParts {
    fn of(g: &GradientMetrics) -> Self {
        GradientParts {
            health: g.gradient_health_score,
            stability: g.training_stability,
        }
    }
}

impl AdvantageParts {
    fn of(a: &AdvantageMetrics) -> Self {
        AdvantageParts {
            health: a.advantage_health_score,
            quality: a.advantage_quality_score,
        }
    }
}

impl ScoreParts {
    pub(super) fn of(
        kl: Option<&KlScheduleTracker>,
        gradient: Option<&GradientAnalyzer>,
        advantage: Option<&AdvantageTracker>,
    ) -> Self {
        ScoreParts {
            kl: kl.map(Part::score_parts).unwrap_or_default(),
            gradient: gradient.map(Part::score_parts).unwrap_or_default(),
            advantage: advantage.map(Part::score_parts).unwrap_or_default(),
        }
    }

    /// RLDK's three aggregates, over the parts that have data; the drift term counts once,
    /// in training stability.
    pub(super) fn write(&self, m: &mut ComprehensiveMetrics) {
        let (k, g, a) = (self.kl, self.gradient, self.advantage);
        m.overall_health_score = mean_of(&[k.health, k.schedule, g.health, a.health]);
        m.training_stability_score =
            mean_of(&[k.in_range, k.drift.map(|d| (1.0 - d).max(0.0)), g.stability]);
        m.convergence_quality_score = mean_of(&[a.quality]);
    }
}

fn mean_of(parts: &[Option<f64>]) -> Option<f64> {
    let (n, sum) = parts
        .iter()
        .flatten()
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    (n > 0).then(|| sum / n as f64)
}
