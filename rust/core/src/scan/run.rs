//! One run through the forensics: its logs are read, the canonical metrics found, every row
//! fed to the comprehensive forensics (the same code as the live `update`), and every series
//! checked for non-finite values and spikes.

use crate::forensics::comprehensive::{ComprehensiveConfig, ComprehensiveForensics, StepInput};
use crate::forensics::diagnosis::{diagnose, horizon_for, spans_of};
use crate::forensics::signals::{SignalConfig, SignalInput, SignalTracker};
use crate::ingest::alias::{resolve, reward_components, CANONICAL};
use crate::ingest::source::read_files;

use super::discover::RunSpec;
use super::report::{RunEvent, RunReport};
use super::series::SeriesCheck;
use crate::forensics::small::weighted_score;

/// Scan options.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScanOptions {
    /// The KL target; `None` takes the trainer family's (only TRL PPO-v1's adaptive
    /// controller has one), and without one the KL band analysis is skipped.
    pub kl_target: Option<f64>,
}

/// Keys whose jumps are not anomalies: counters, schedules and timings.
fn spike_exempt(key: &str) -> bool {
    let k = key.rsplit('/').next().unwrap_or(key);
    matches!(
        k,
        "epoch"
            | "num_tokens"
            | "episode"
            | "eps"
            | "lr"
            | "learning_rate"
            | "total_flos"
            | "num_input_tokens_seen"
            | "global_step"
            | "step"
    ) || k.contains("time")
        || k.contains("runtime")
        || k.contains("per_second")
        || k.ends_with("_lr")
}

/// Scans one run; `on_bytes` hears each file's size once it is read.
pub fn scan_run(spec: &RunSpec, opts: &ScanOptions, on_bytes: &mut dyn FnMut(u64)) -> RunReport {
    let data = read_files(&spec.files, on_bytes);
    let t = &data.train;
    let keys: Vec<&str> = t.names().iter().map(String::as_str).collect();
    let col = |name: &str| resolve(data.family, name, &keys).and_then(|k| t.position(k));
    let mut metrics = Vec::new();
    let mut cols = [None; 12];
    // The canonical metrics the forensics take, in the order of `CANONICAL`.
    let wanted = &CANONICAL[..cols.len()];
    for (slot, &name) in cols.iter_mut().zip(wanted) {
        *slot = col(name);
        if let Some(i) = *slot {
            metrics.push((name, t.names()[i].clone()));
        }
    }
    let [kl, kl_coef, entropy, reward_mean, reward_std, policy, value, total, adv_mean, adv_std, length, _] =
        cols;
    let mut found = |name: &'static str| {
        let c = col(name);
        if let Some(i) = c {
            metrics.push((name, t.names()[i].clone()));
        }
        c
    };
    let truncation = found("truncation_rate");
    let zero_std = found("frac_reward_zero_std");
    let components: Vec<(&str, usize)> = reward_components(&keys)
        .into_iter()
        .filter_map(|(name, key)| Some((name, t.position(key)?)))
        .collect();
    let mut notes = Vec::new();
    let kl_target = opts.kl_target.or_else(|| data.family.kl_target());
    if kl.is_some() && kl_target.is_none() {
        notes.push(format!(
            "KL band analysis skipped: no kl_target given and a {} run has no controller \
             target (pass kl_target for this trainer's KL scale)",
            data.family.as_str()
        ));
    }
    let target = kl_target.unwrap_or(0.1);
    let cfg = ComprehensiveConfig {
        kl_target: target,
        kl_target_tolerance: 0.5 * target,
        enable_kl_schedule_tracking: kl_target.is_some() && kl.is_some(),
        enable_length_bias_detection: false,
        history_size: 1,
        ..ComprehensiveConfig::default()
    };
    let kl_tracked = cfg.enable_kl_schedule_tracking;
    let mut forensics = match ComprehensiveForensics::new(cfg) {
        Ok(f) => f,
        Err(e) => {
            notes.push(format!("forensics not run: {e}"));
            return report(
                spec,
                &data,
                kl_target,
                metrics,
                Scores::default(),
                Vec::new(),
                notes,
            );
        }
    };
    // The trainer-signal rules; they report non-finite values of the inputs no RLDK tracker
    // reads (bits as `SIGNAL_INPUTS`: kl unless tracked, the zero-std share, the truncation
    // rate, the length, the reward components).
    let checked = u16::from(!kl_tracked) | (0b1111 << 5);
    let mut signals = SignalTracker::with_checked(
        SignalConfig {
            kl_scale: data.family.kl_scale(),
            ..SignalConfig::default()
        },
        checked,
    )
    .ok();
    let grad = total.or(policy);
    // Series the trackers already check for non-finite values get no generic check of
    // that kind (one event per problem).
    let consumed: Vec<usize> = [
        kl.filter(|_| kl_tracked),
        kl_coef.filter(|_| kl_tracked),
        entropy,
        reward_mean,
        reward_std,
        policy,
        value,
        total,
        adv_mean,
        adv_std,
        kl.filter(|_| signals.is_some()),
        truncation.filter(|_| signals.is_some()),
        zero_std.filter(|_| signals.is_some()),
        length.filter(|_| signals.is_some()),
    ]
    .into_iter()
    .flatten()
    .chain(components.iter().map(|c| c.1).filter(|_| signals.is_some()))
    .collect();
    let mut row_components: Vec<(&str, f64)> = Vec::with_capacity(components.len());
    let mut checks: Vec<SeriesCheck> = vec![SeriesCheck::default(); keys.len()];
    // Per column, decided once: skip its non-finite check (a tracker has it) and its spike
    // check (counters, schedules, timings).
    let skip_nonfinite: Vec<bool> = (0..keys.len()).map(|i| consumed.contains(&i)).collect();
    let skip_spikes: Vec<bool> = keys.iter().map(|k| spike_exempt(k)).collect();
    let at = |c: Option<usize>, r: usize| c.and_then(|c| t.get(c, r));
    for r in 0..t.len() {
        let step = t.steps()[r];
        let input = StepInput {
            step,
            kl: if kl_tracked { at(kl, r) } else { None },
            kl_coef: if kl_tracked { at(kl_coef, r) } else { None },
            entropy: at(entropy, r),
            reward_mean: at(reward_mean, r),
            reward_std: at(reward_std, r),
            policy_grad_norm: at(policy, r),
            value_grad_norm: at(value, r),
            total_grad_norm: at(total, r),
            advantage_mean: at(adv_mean, r),
            advantage_std: at(adv_std, r),
            advantage_min: None,
            advantage_max: None,
            advantage_median: None,
        };
        // Only the final snapshot is reported: no per-row snapshot copies before it.
        forensics.record_history_for_remaining(t.len() - r);
        forensics.update(input, None, &[]);
        if let Some(sig) = signals.as_mut() {
            row_components.clear();
            row_components.extend(
                components
                    .iter()
                    .filter_map(|&(name, c)| Some((name, t.get(c, r)?))),
            );
            sig.update(&SignalInput {
                step,
                kl: at(kl, r),
                entropy: at(entropy, r),
                reward_mean: at(reward_mean, r),
                reward_std: at(reward_std, r),
                grad_norm: at(grad, r),
                frac_reward_zero_std: at(zero_std, r),
                truncation_rate: at(truncation, r),
                response_length_mean: at(length, r),
                reward_components: &row_components,
            });
        }
        for (i, check) in checks.iter_mut().enumerate() {
            let Some(x) = t.get(i, r) else { continue };
            let skip = if x.is_finite() {
                skip_spikes[i]
            } else {
                skip_nonfinite[i]
            };
            if !skip {
                check.update(keys[i], step, x);
            }
        }
    }
    let mut events = Vec::new();
    if let Some(k) = forensics.kl() {
        events.extend(
            k.events()
                .events()
                .map(|e| RunEvent::from_tracker("kl_schedule", e)),
        );
    }
    if let Some(g) = forensics.gradient() {
        events.extend(
            g.events()
                .events()
                .map(|e| RunEvent::from_tracker("gradient_norms", e)),
        );
    }
    if let Some(a) = forensics.advantage() {
        events.extend(
            a.events()
                .events()
                .map(|e| RunEvent::from_tracker("advantage_statistics", e)),
        );
    }
    events.extend(
        forensics
            .events()
            .events()
            .map(|e| RunEvent::from_tracker("comprehensive", e)),
    );
    if let Some(sig) = &signals {
        events.extend(
            sig.events()
                .events()
                .map(|e| RunEvent::from_tracker("signals", e)),
        );
    }
    let last = t.steps().last().copied().unwrap_or(f64::NAN);
    for c in checks {
        events.extend(c.finish(last));
    }
    events.sort_by(|a, b| a.first_step.total_cmp(&b.first_step));
    let mut scores = Scores::default();
    if !t.is_empty() {
        scores.add(forensics.metrics());
    }
    if let Some(sig) = signals.as_ref().filter(|s| s.updates() > 0) {
        scores.add_signals(&sig.scores());
    }
    let spans = spans_of(
        events
            .iter()
            .map(|e| (e.first_step, e.last_step, e.kind.as_str())),
    );
    let mut r = report(spec, &data, kl_target, metrics, scores, events, notes);
    r.diagnosis = diagnose(&spans, r.diagnosis_horizon);
    r
}

/// Events that began within this many logged rows before another are linked to it.
pub const DIAGNOSIS_ROWS: f64 = 50.0;

/// The run's scores, part by part: the RLDK trackers' aggregates and the signal rules',
/// averaged over those with data.
#[derive(Debug, Default)]
struct Scores {
    overall: Vec<(f64, Option<f64>)>,
    stability: Vec<(f64, Option<f64>)>,
    convergence: Vec<(f64, Option<f64>)>,
}

impl Scores {
    fn add(&mut self, m: &crate::forensics::comprehensive::ComprehensiveMetrics) {
        self.overall.push((1.0, m.overall_health_score));
        self.stability.push((1.0, m.training_stability_score));
        self.convergence.push((1.0, m.convergence_quality_score));
    }

    fn add_signals(&mut self, s: &crate::forensics::signals::SignalScores) {
        self.overall.push((1.0, s.health));
        self.stability.push((1.0, s.stability));
        self.convergence.push((1.0, s.convergence));
    }
}

fn report(
    spec: &RunSpec,
    data: &crate::ingest::source::RunData,
    kl_target: Option<f64>,
    metrics: Vec<(&'static str, String)>,
    scores: Scores,
    events: Vec<RunEvent>,
    notes: Vec<String>,
) -> RunReport {
    let t = &data.train;
    RunReport {
        id: spec.id.clone(),
        files: data.sources.iter().map(|s| s.path.clone()).collect(),
        skipped: spec.skipped.clone(),
        format: data.sources.first().map_or("none", |s| s.format.as_str()),
        family: data.family.as_str(),
        bytes: data.bytes(),
        rows: t.len(),
        eval_rows: data.eval.len(),
        step_range: t
            .steps()
            .first()
            .zip(t.steps().last())
            .map(|(a, b)| (*a, *b)),
        replaced_rows: t.replaced_rows(),
        kl_target,
        metrics,
        overall_health: weighted_score(&scores.overall),
        training_stability: weighted_score(&scores.stability),
        convergence_quality: weighted_score(&scores.convergence),
        events,
        diagnosis: Vec::new(),
        diagnosis_horizon: horizon_for(t.steps(), DIAGNOSIS_ROWS),
        problems: data.problems.clone(),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::source::Format;
    use std::path::Path;

    #[test]
    fn real_runs_scan_without_critical_anomalies() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        for (run, family) in [
            ("trl-grpo-healthy", "trl_grpo"),
            ("trl-ppo-v2-basic", "trl_ppo_v2"),
        ] {
            let spec = RunSpec {
                id: run.into(),
                files: vec![(
                    data.join(run).join("trainer_state.json"),
                    Format::TrainerState,
                )],
                skipped: vec![],
            };
            let mut bytes = 0;
            let r = scan_run(&spec, &ScanOptions::default(), &mut |b| bytes += b);
            assert_eq!(r.bytes, bytes);
            assert_eq!(r.family, family);
            assert_eq!(r.rows, 300);
            assert_eq!(r.step_range, Some((1.0, 300.0)));
            assert!(r.problems.is_empty(), "{:?}", r.problems);
            assert_eq!(r.critical(), 0, "{run}: {:#?}", r.events);
            assert!(r.metrics.iter().any(|(c, _)| *c == "kl"), "{:?}", r.metrics);
            assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
        }
    }

    #[test]
    fn a_nan_loss_is_a_critical_event_at_its_step() {
        let dir = std::env::temp_dir().join(format!("rlf-scan-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("run.jsonl");
        let mut s = String::new();
        for i in 0..200 {
            let loss = if i == 120 {
                "NaN".to_string()
            } else {
                format!("{}", 1.0 + 0.001 * f64::from(i % 7))
            };
            s.push_str(&format!(
                "{{\"step\": {i}, \"loss\": {loss}, \"grad_norm\": 1.0}}\n"
            ));
        }
        std::fs::write(&p, s).unwrap();
        let spec = RunSpec {
            id: "run".into(),
            files: vec![(p, Format::Jsonl)],
            skipped: vec![],
        };
        let r = scan_run(&spec, &ScanOptions::default(), &mut |_| {});
        let e = r
            .events
            .iter()
            .find(|e| e.kind == "non_finite_loss")
            .expect("NaN loss found");
        assert_eq!(
            (e.first_step, e.severity),
            (120.0, crate::forensics::Severity::Critical)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
