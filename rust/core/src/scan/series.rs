//! Generic checks on every logged series, whatever it measures: non-finite values (a NaN
//! loss or grad norm is never healthy) and isolated spikes far outside the series' recent
//! spread. O(1) per value.

use crate::forensics::Severity;

use super::report::RunEvent;

/// Values before the spike check speaks (its spread estimate needs them).
const SPIKE_WARMUP: u64 = 30;
/// Weight of a new value in the running mean and variance.
const ALPHA: f64 = 0.05;
/// Distance from the running mean, in running standard deviations, that is a spike.
const SPIKE_Z: f64 = 10.0;
/// Steps without a spike that end a spike event.
const SPIKE_RELEASE: f64 = 10.0;

/// One series' check state.
#[derive(Debug, Clone, Default)]
pub struct SeriesCheck {
    n: u64,
    mean: f64,
    var: f64,
    nonfinite: Option<RunEvent>,
    spike: Option<RunEvent>,
    /// Events that ended.
    pub done: Vec<RunEvent>,
}

fn event(
    kind: String,
    metric: &str,
    severity: Severity,
    step: f64,
    value: f64,
    threshold: Option<f64>,
    message: String,
) -> RunEvent {
    RunEvent {
        source: "series",
        kind,
        severity,
        metric: Some(metric.to_string()),
        first_step: step,
        last_step: step,
        occurrences: 1,
        value,
        threshold,
        message,
        active: true,
    }
}

impl SeriesCheck {
    /// Checks `x` at `step` of series `metric`.
    pub fn update(&mut self, metric: &str, step: f64, x: f64) {
        if !x.is_finite() {
            match &mut self.nonfinite {
                Some(e) => {
                    e.last_step = step;
                    e.occurrences += 1;
                    e.message = format!(
                        "{metric} is not finite at {} steps, first at step {}",
                        e.occurrences, e.first_step
                    );
                }
                None => {
                    self.nonfinite = Some(event(
                        format!("non_finite_{metric}"),
                        metric,
                        Severity::Critical,
                        step,
                        x,
                        None,
                        format!("{metric} is {x} at step {step}"),
                    ));
                }
            }
            return;
        }
        if self.n >= SPIKE_WARMUP {
            let sd = self.var.sqrt();
            let z = (x - self.mean).abs() / sd;
            if sd > 0.0 && z > SPIKE_Z {
                match &mut self.spike {
                    Some(e) if step - e.last_step <= SPIKE_RELEASE => {
                        e.last_step = step;
                        e.occurrences += 1;
                        e.value = x;
                    }
                    _ => {
                        if let Some(mut old) = self.spike.take() {
                            old.active = false;
                            self.done.push(old);
                        }
                        self.spike = Some(event(
                            format!("spike_{metric}"),
                            metric,
                            Severity::Warning,
                            step,
                            x,
                            Some(SPIKE_Z),
                            format!(
                                "{metric} jumped to {x:.4e} at step {step}, {z:.1} running standard \
                                 deviations from its running mean {:.4e}",
                                self.mean
                            ),
                        ));
                    }
                }
                // A spike does not enter the running statistics: it would hide the next one.
                return;
            }
        }
        self.n += 1;
        if self.n == 1 {
            self.mean = x;
            self.var = 0.0;
        } else {
            let d = x - self.mean;
            self.mean += ALPHA * d;
            self.var = (1.0 - ALPHA) * (self.var + ALPHA * d * d);
        }
    }

    /// All events of the series, the open ones marked active only if they held at the end.
    pub fn finish(mut self, last_step: f64) -> Vec<RunEvent> {
        for e in [self.nonfinite.take(), self.spike.take()]
            .into_iter()
            .flatten()
        {
            let mut e = e;
            e.active = e.last_step == last_step;
            self.done.push(e);
        }
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_and_spikes_are_events_and_noise_is_not() {
        let mut c = SeriesCheck::default();
        let mut seed = 7u64;
        let mut noise = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for i in 0..500 {
            c.update("loss", i as f64, 2.0 + 0.1 * noise());
        }
        assert!(c.done.is_empty() && c.spike.is_none() && c.nonfinite.is_none());
        c.update("loss", 500.0, 50.0);
        c.update("loss", 501.0, f64::NAN);
        c.update("loss", 502.0, f64::NAN);
        c.update("loss", 503.0, 2.0);
        let ev = c.finish(503.0);
        let kinds: Vec<_> = ev
            .iter()
            .map(|e| (e.kind.as_str(), e.first_step, e.occurrences))
            .collect();
        assert_eq!(
            kinds,
            [("non_finite_loss", 501.0, 2), ("spike_loss", 500.0, 1)]
        );
        assert_eq!(ev[0].severity, Severity::Critical);
        assert!(!ev[0].active);
    }
}
