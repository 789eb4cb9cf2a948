//! Rules on two or more signals moving together over the last `trend_window` rows: length
//! hacking, the reward-hacking signature, and reward components pulling apart.
//!
//! A trend counts when its least-squares slope against the logged step is significant
//! (t-statistic) and large against the run's own scale, so that neither a long quiet run
//! (tiny but "significant" slopes) nor a short noisy one (large but insignificant ones)
//! raises it.

use serde::{Deserialize, Serialize};

use super::series::{fit_t, pearson, Series, CAPACITY};
use crate::error::Result;
use crate::forensics::event::{Finding, Severity};
use crate::forensics::small::{self, Tail};
use crate::state::{invalid, Validate};
use crate::trend::RollingTrend;

/// Rows logged with both of two signals: their steps and values, aligned, and each
/// signal's rolling least-squares trend against the step over the trend window (O(1) per
/// row, so the rules test the trends first and touch the rows only when they can fire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Joint {
    steps: Tail,
    a: Tail,
    b: Tail,
    trend_a: RollingTrend,
    trend_b: RollingTrend,
    /// The same trends over twice the window, for rules that also look at a slower pace.
    long: Option<(RollingTrend, RollingTrend)>,
}

impl Joint {
    /// No rows yet; trends over `window` rows (2 ≤ window ≤ [`CAPACITY`]), and over
    /// `2 × window` (≤ [`CAPACITY`]) with `long`.
    pub fn new(window: usize, long: bool) -> Result<Self> {
        let long = if long {
            Some((
                RollingTrend::new(2 * window, None)?,
                RollingTrend::new(2 * window, None)?,
            ))
        } else {
            None
        };
        Ok(Joint {
            steps: Tail::new(CAPACITY),
            a: Tail::new(CAPACITY),
            b: Tail::new(CAPACITY),
            trend_a: RollingTrend::new(window, None)?,
            trend_b: RollingTrend::new(window, None)?,
            long,
        })
    }

    /// Appends one row (both values finite).
    pub fn push(&mut self, step: f64, a: f64, b: f64) {
        self.steps.push(step);
        self.a.push(a);
        self.b.push(b);
        self.trend_a.update(step, a);
        self.trend_b.update(step, b);
        if let Some((la, lb)) = self.long.as_mut() {
            la.update(step, a);
            lb.update(step, b);
        }
    }

    /// Slope and t of each signal over the trend window, once it is full.
    fn trends(&self) -> Option<((f64, f64), (f64, f64))> {
        Some((fit_t(&self.trend_a.fit()?), fit_t(&self.trend_b.fit()?)))
    }

    /// As [`Joint::trends`], over twice the window (for a joint built with `long`).
    fn long_trends(&self) -> Option<((f64, f64), (f64, f64))> {
        let (la, lb) = self.long.as_ref()?;
        Some((fit_t(&la.fit()?), fit_t(&lb.fit()?)))
    }

    /// The newest `k` rows (steps, a, b), once `k + warmup` were seen: the first rows of a
    /// run are its warm-up, where reward, length and KL all move together by design, so a
    /// window is judged only once it lies wholly after them.
    fn last(&self, k: usize, warmup: usize) -> Option<(&[f64], &[f64], &[f64])> {
        // The tail holds at most CAPACITY rows; k + warmup within it is checked by the
        // configuration (trend_window ≤ CAPACITY, baseline_rows small), and a longer
        // warm-up simply waits for a full tail.
        (self.steps.len() >= (k + warmup).min(CAPACITY))
            .then(|| (self.steps.last(k), self.a.last(k), self.b.last(k)))
    }
}

impl Validate for Joint {
    fn validate(&self) -> Result<()> {
        self.steps.validate()?;
        self.a.validate()?;
        self.b.validate()?;
        let long_ok = self.long.as_ref().is_none_or(|(la, lb)| {
            la.window() == 2 * self.trend_a.window() && lb.window() == la.window()
        });
        if self.a.len() != self.steps.len()
            || self.b.len() != self.steps.len()
            || self.trend_a.window() != self.trend_b.window()
            || !long_ok
        {
            return Err(invalid("joint signal rows"));
        }
        Ok(())
    }
}

/// One reward component: its name, values and rolling trend over the component window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// The reward function's name.
    pub name: String,
    /// Its per-step means.
    pub series: Series,
    /// Their trend against the step.
    pub trend: RollingTrend,
}

/// Length hacking: reward and mean completion length rising together. Over the window, or
/// failing that over twice the window (a slower coupling):
/// - the length grows significantly (t ≥ 3) by at least 15% of its mean (0.5% per row over
///   the default 30 rows: doubling within about 140 rows, faster than a healthy run drifts);
/// - the reward rises (t ≥ 2: the length trend carries most of the evidence, and a reward
///   bias for length lifts the reward only modestly);
/// - the two correlate row by row (Pearson ≥ 0.4: per-step means over a few hundred
///   completions are noisy, so a joint trend shows as a moderate correlation).
pub fn length_hacking(w: usize, warmup: usize, reward_length: &Joint, out: &mut Vec<Finding>) {
    let short = reward_length
        .trends()
        .and_then(|((_, tr), (bl, tl))| judge_length(reward_length, w, warmup, bl, tl, tr));
    // A slower coupling shows over twice the window: the same test there.
    let found = short.or_else(|| {
        let ((_, tr), (bl, tl)) = reward_length.long_trends()?;
        judge_length(reward_length, 2 * w, warmup, bl, tl, tr)
    });
    if let Some((rows, r, growth, tr)) = found {
        out.push(Finding::new(
            "length_hacking",
            Severity::Warning,
            r,
            Some(0.4),
            format!(
                "reward and completion length rise together over the last {rows} rows: length \
                 +{:.0}%, correlation {r:.2} (reward t = {tr:.1})",
                100.0 * growth
            ),
        ));
    }
}

/// The length-hacking test over the newest `w` joint rows given the two trends:
/// `Some((w, r, growth, reward t))` when it holds.
fn judge_length(
    j: &Joint,
    w: usize,
    warmup: usize,
    bl: f64,
    tl: f64,
    tr: f64,
) -> Option<(usize, f64, f64, f64)> {
    if tl < 3.0 || tr < 2.0 {
        return None;
    }
    let (steps, reward, length) = j.last(w, warmup)?;
    let r = pearson(reward, length)?;
    let span = steps[steps.len() - 1] - steps[0];
    let m = small::mean(length)?;
    if m <= 0.0 {
        return None;
    }
    let growth = bl * span / m;
    (r >= 0.4 && growth >= 0.15).then_some((w, r, growth, tr))
}

/// The reward-hacking signature: the reward rising fast (t ≥ 3, by at least two early
/// spreads over the window) while KL rises much faster than its early trend (slope ≥ 5×
/// the early slope, and at least doubling over the window).
pub fn reward_hacking(
    w: usize,
    warmup: usize,
    reward_kl: &Joint,
    reward: &Series,
    kl_early_slope: Option<f64>,
    kl_floor: f64,
    out: &mut Vec<Finding>,
) {
    let (Some((steps, _, kl)), Some(b0)) = (reward_kl.last(w, warmup), kl_early_slope) else {
        return;
    };
    let Some(spread) = reward.level().map(|l| l.sigma) else {
        return;
    };
    let Some(((br, tr), (bk, _))) = reward_kl.trends() else {
        return;
    };
    if tr < 3.0 {
        return;
    }
    let span = steps[steps.len() - 1] - steps[0];
    let q = (w / 4).max(2);
    let (Some(k_then), Some(k_now)) = (small::mean(&kl[..q]), small::mean(&kl[kl.len() - q..]))
    else {
        return;
    };
    // A floor under the early slope: one noise floor per 100 steps.
    let early = b0.max(kl_floor / 100.0);
    let rising_fast = br * span >= 2.0 * spread.max(1e-12);
    let kl_outpaces = bk >= 5.0 * early && k_now >= 2.0 * k_then.max(kl_floor);
    if rising_fast && kl_outpaces {
        out.push(Finding::new(
            "reward_hacking",
            Severity::Warning,
            bk / early,
            Some(5.0),
            format!(
                "reward rises fast (t = {tr:.1}) while KL climbs {:.0}x faster than its early \
                 trend ({k_then:.4} to {k_now:.4} over the last {w} rows)",
                bk / early
            ),
        ));
    }
}

/// Reward components pulling apart: one rising and another falling over the window, each
/// significantly (|t| ≥ 3.5) and by at least two early spreads or 5% of its early level
/// (whichever is smaller: a component that sat near its ceiling has a tiny spread).
pub fn component_divergence(w: usize, components: &[Component], out: &mut Vec<Finding>) {
    if components.len() < 2 {
        return;
    }
    let mut moves: Vec<(&str, f64, f64)> = Vec::with_capacity(components.len());
    for c in components {
        let (Some(fit), Some(level)) = (c.trend.fit(), c.series.level()) else {
            continue;
        };
        let (b, t) = fit_t(&fit);
        if t.abs() < 3.5 {
            continue;
        }
        let steps = c.series.last_steps(w);
        let change = b * (steps[steps.len() - 1] - steps[0]);
        let scale = (2.0 * level.sigma).min(0.05 * level.median.abs()).max(1e-9);
        if change.abs() >= scale {
            moves.push((&c.name, t, change));
        }
    }
    let up = moves
        .iter()
        .filter(|m| m.1 > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let down = moves
        .iter()
        .filter(|m| m.1 < 0.0)
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let (Some(u), Some(d)) = (up, down) {
        let value = u.1.abs().min(d.1.abs());
        out.push(Finding::new(
            "reward_component_divergence",
            Severity::Warning,
            value,
            Some(3.5),
            format!(
                "reward components diverge over the last {w} rows: {} {:+.3} (t = {:.1}) while \
                 {} {:+.3} (t = {:.1})",
                u.0, u.2, u.1, d.0, d.2, d.1
            ),
        ));
    }
}
