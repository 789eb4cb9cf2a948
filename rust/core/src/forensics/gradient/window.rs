//! The gradient analyzer's window statistics, each computed once per update without heap
//! allocation, with the arithmetic (and so the bits) of the straightforward definitions on
//! `small.rs`'s functions; `tests` pins each one against them.

use serde::{Deserialize, Serialize};

use super::config::GradientConfig;
use crate::forensics::small::{
    mean, slope, slopes, sorted_percentile, sum_start, variance_about, SortedTail, Tail,
};

/// Samples behind flow, balance, stability and the outlier rule (RLDK's fixed 10).
pub(super) const SHORT: usize = 10;

/// Slope per step, its R² and the step span of a trend fit.
pub(super) type Fit = (f64, Option<f64>, f64);

/// Values with their logged steps, newest last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Series {
    pub values: Tail,
    pub steps: Tail,
}

impl Series {
    pub fn new(capacity: usize) -> Self {
        Series {
            values: Tail::new(capacity),
            steps: Tail::new(capacity),
        }
    }
    pub fn push(&mut self, step: f64, v: f64) {
        self.values.push(v);
        self.steps.push(step);
    }
    /// [`Series::push`] that also keeps `sorted` (the newest `k` values in order) in step.
    pub fn push_sorted(&mut self, step: f64, v: f64, sorted: &mut SortedTail, k: usize) {
        sorted.push(&mut self.values, k, v);
        self.steps.push(step);
    }
    pub fn len(&self) -> usize {
        self.values.len()
    }
    pub fn last(&self, k: usize) -> Option<&[f64]> {
        (self.len() >= k).then(|| self.values.last(k))
    }
    /// Slope per step over the last `k` values, with its R² and the step span.
    pub fn trend(&self, k: usize) -> Option<Fit> {
        let ys = self.last(k)?;
        let xs = self.steps.last(k);
        let (s, r2) = slope(xs, ys)?;
        Some((s, r2, xs[k - 1] - xs[0]))
    }
}

/// [`Series::trend`] of each of `series` over the last `k` values. Series logged at the same
/// steps (policy, value and their ratio, usually) share one fused fit.
pub(super) fn trends(series: [&Series; 3], k: usize) -> [Option<Fit>; 3] {
    if let [Some(a), Some(b), Some(c)] = series.map(|s| s.last(k)) {
        let xs = series[0].steps.last(k);
        if same_bits(xs, series[1].steps.last(k)) && same_bits(xs, series[2].steps.last(k)) {
            let span = xs[k - 1] - xs[0];
            return slopes(xs, [a, b, c]).map(|f| f.map(|(s, r2)| (s, r2, span)));
        }
    }
    series.map(|s| s.trend(k))
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Values derived from the series that are cheaper to keep up to date than to recompute per
/// update. Not state: serde skips it and `==` ignores it; every part rebuilds itself from its
/// series when their lengths disagree (as after deserialization).
#[derive(Debug, Clone, Default)]
pub(super) struct Derived {
    /// The newest `trend_window` ratios, sorted (their median scales the ratio trend).
    pub ratio_sorted: SortedTail,
    /// The newest SHORT totals, sorted (their quartiles fence the outliers).
    pub total_sorted: SortedTail,
    /// Balance terms max(0, 1 − |log10 r|) of the newest SHORT ratios: one log per update
    /// instead of SHORT.
    balance: Option<Tail>,
}

impl PartialEq for Derived {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

fn balance_term(r: f64) -> f64 {
    (1.0 - r.log10().abs()).max(0.0)
}

impl Derived {
    /// Pushes ratio `r` at `step` onto `ratio`, keeping the ratio caches in step.
    pub fn push_ratio(&mut self, ratio: &mut Series, k: usize, step: f64, r: f64) {
        let terms = self.balance_terms(ratio);
        terms.push(balance_term(r));
        ratio.push_sorted(step, r, &mut self.ratio_sorted, k);
    }

    /// The balance terms of the newest SHORT ratios, oldest first, rebuilt if out of step.
    fn balance_terms(&mut self, ratio: &Series) -> &mut Tail {
        let in_step = self
            .balance
            .as_ref()
            .is_some_and(|t| t.len() == ratio.len().min(SHORT));
        if !in_step {
            let mut t = Tail::new(SHORT);
            for &r in ratio.values.last(SHORT) {
                t.push(balance_term(r));
            }
            self.balance = Some(t);
        }
        self.balance.get_or_insert_with(|| Tail::new(SHORT))
    }

    /// Mean balance term of the newest SHORT ratios, once there are SHORT.
    pub fn balance(&mut self, ratio: &Series) -> Option<f64> {
        (ratio.len() >= SHORT)
            .then(|| self.balance_terms(ratio).last(SHORT).iter().sum::<f64>() / SHORT as f64)
    }
}

/// Fraction of `xs` satisfying `pred` (NaN for none, as 0/0).
pub(super) fn fraction(xs: &[f64], pred: impl Fn(f64) -> bool) -> f64 {
    xs.iter().filter(|&&x| pred(x)).count() as f64 / xs.len() as f64
}

/// Sample standard deviation given the mean (`std(xs, 1)` without a second mean).
fn std_about(xs: &[f64], m: f64) -> Option<f64> {
    variance_about(xs, m, 1).map(f64::sqrt)
}

/// 1 − min(CV, 1) with CV = sample std / mean; `None` for a non-positive mean.
pub(super) fn stability(xs: &[f64]) -> Option<f64> {
    let mu = mean(xs)?;
    let sd = std_about(xs, mu)?;
    (mu > 0.0).then(|| 1.0 - (sd / mu).min(1.0))
}

fn second_differences(xs: &[f64]) -> impl Iterator<Item = f64> + '_ {
    xs.windows(3).map(|w| w[2] - 2.0 * w[1] + w[0])
}

/// The momentum window's statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Momentum {
    /// RLDK's momentum risk made scale-free: mean |Δ| relative to the mean level, times the
    /// fraction of accelerating steps.
    pub risk: Option<f64>,
    /// Mean second difference.
    pub acceleration: Option<f64>,
}

pub(super) fn momentum(xs: &[f64]) -> Momentum {
    let acc_n = xs.len().saturating_sub(2);
    let acc_sum: f64 = second_differences(xs).sum();
    Momentum {
        risk: momentum_risk(xs, acc_n),
        acceleration: (acc_n > 0).then(|| acc_sum / acc_n as f64),
    }
}

fn momentum_risk(xs: &[f64], acc_n: usize) -> Option<f64> {
    let mu = mean(xs)?;
    if mu <= 0.0 || xs.len() < 2 {
        return None;
    }
    let diffs: f64 = xs.windows(2).map(|w| (w[1] - w[0]).abs()).sum();
    let rising = second_differences(xs).filter(|&a| a > 0.0).count();
    let accelerating = rising as f64 / acc_n as f64;
    Some((diffs / (xs.len() - 1) as f64 / mu * accelerating).min(1.0))
}

/// Three standard errors of the mean second difference of `xs` (`None` with fewer than two
/// second differences): the noise an acceleration must stand clear of.
pub(super) fn acceleration_noise(xs: &[f64]) -> Option<f64> {
    let n = xs.len().saturating_sub(2);
    if n <= 1 {
        return None;
    }
    let acc = second_differences(xs).sum::<f64>() / n as f64;
    let ss: f64 = second_differences(xs).map(|a| (a - acc) * (a - acc)).sum();
    let sd = (ss / (n - 1) as f64).sqrt();
    Some(3.0 * sd / (n as f64).sqrt())
}

/// RLDK's outlier risk: the larger of the z-score and IQR-fence outlier fractions of `xs`,
/// whose sorted copy is `sorted`.
pub(super) fn outlier_risk(xs: &[f64], sorted: &[f64], cfg: &GradientConfig) -> f64 {
    let m = mean(xs);
    let mu = m.unwrap_or(0.0);
    let sd = m.and_then(|m| std_about(xs, m)).unwrap_or(0.0);
    let z = if sd > 1e-12 * mu.abs().max(1e-300) {
        fraction(xs, |x| ((x - mu) / sd).abs() > cfg.z_score_threshold)
    } else {
        0.0
    };
    let (q1, q3) = (
        sorted_percentile(sorted, 25.0).unwrap_or(0.0),
        sorted_percentile(sorted, 75.0).unwrap_or(0.0),
    );
    let k = cfg.iqr_multiplier * (q3 - q1);
    let iqr = fraction(xs, |x| x < q1 - k || x > q3 + k);
    z.max(iqr)
}

/// [`mean_variance`] with ddof 0 of the newest `lens[j]` values of `xs`, for each `j`
/// (`None` where `xs` holds fewer, or `lens[j]` is 0); `lens` ascending.
///
/// Each window's two sums run over its own values in order from the start
/// `mean_variance` uses, so every bit is the same; but the sums of the nested windows advance
/// side by side in one pass per moment, so their additions overlap instead of waiting on one
/// another window after window (a sum of short windows is all latency).
pub(super) fn nested_mean_variances(xs: &[f64], lens: [usize; 3]) -> [Option<(f64, f64)>; 3] {
    debug_assert!(lens[0] <= lens[1] && lens[1] <= lens[2]);
    let n = xs.len();
    let fits = lens.map(|l| l >= 1 && l <= n);
    // Where each window starts; one that does not fit is summed over all of `xs` and its
    // sums are dropped, which keeps the starts descending.
    let [a, b, c] = lens.map(|l| n - l.min(n));
    // The longest window runs over [c, n), the middle one over [b, n), the shortest over
    // [a, n), with c ≤ b ≤ a: three segments, each with a fixed set of running sums.
    #[inline(always)]
    fn moment(xs: &[f64], [a, b, c]: [usize; 3], f: impl Fn(f64, usize) -> f64) -> [f64; 3] {
        let mut sums = [sum_start(); 3];
        for &x in &xs[c..b] {
            sums[2] += f(x, 2);
        }
        for &x in &xs[b..a] {
            sums[2] += f(x, 2);
            sums[1] += f(x, 1);
        }
        for &x in &xs[a..] {
            sums[2] += f(x, 2);
            sums[1] += f(x, 1);
            sums[0] += f(x, 0);
        }
        sums
    }
    let sums = moment(xs, [a, b, c], |x, _| x);
    let means: [f64; 3] = std::array::from_fn(|j| sums[j] / lens[j] as f64);
    let squares = moment(xs, [a, b, c], |x, j| (x - means[j]) * (x - means[j]));
    std::array::from_fn(|j| fits[j].then(|| (means[j], squares[j] / lens[j] as f64)))
}

/// Mean and variance with `ddof` of `xs`, the mean summed once.
pub(super) fn mean_variance(xs: &[f64], ddof: usize) -> (Option<f64>, Option<f64>) {
    let m = mean(xs);
    (m, m.and_then(|m| variance_about(xs, m, ddof)))
}

#[cfg(test)]
mod tests;
