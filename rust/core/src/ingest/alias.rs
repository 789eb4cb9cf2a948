//! One vocabulary for every trainer's keys: which source column holds the KL, the reward, the
//! entropy, the gradient norms... and which trainer family a run looks like (its KL scale and
//! controller differ: TRL PPO's KL is a per-sequence sum, GRPO's a per-token mean).
//!
//! The key tables follow `shared/spec/log-formats.md` (§2 and the cross-walk of §6.3) and
//! RLDK's adapters. Source columns are never renamed or dropped: the canonical names are
//! aliases to them, and keys that map to nothing stay as they are.

/// A trainer family, told from the keys it logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// TRL ≤ 0.11 `PPOTrainer.step` (`ppo/...`, `objective/kl_coef`, `env/reward_mean`).
    TrlPpoV1,
    /// TRL PPO-v2 / old RLOO-v2 (`objective/kl`, `policy/entropy_avg`, `loss/..._avg`).
    TrlPpoV2,
    /// TRL GRPO and GRPO-style RLOO (`reward`, `frac_reward_zero_std`, `completions/*`).
    TrlGrpo,
    /// TRL online DPO (`objective/kl`, `rewards/chosen`, `beta`).
    TrlOnlineDpo,
    /// OpenRLHF (`policy_loss`, `ppo_kl`, `response_length`, `actor_lr`).
    OpenRlhf,
    /// verl (`actor/...`, `critic/...`).
    Verl,
    /// Anything else (RLDK event logs, custom loggers).
    Generic,
}

impl Family {
    /// A stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::TrlPpoV1 => "trl_ppo_v1",
            Family::TrlPpoV2 => "trl_ppo_v2",
            Family::TrlGrpo => "trl_grpo",
            Family::TrlOnlineDpo => "trl_online_dpo",
            Family::OpenRlhf => "openrlhf",
            Family::Verl => "verl",
            Family::Generic => "generic",
        }
    }

    /// The KL target of the family's controller, where it has one: TRL PPO-v1's adaptive
    /// controller (`PPOConfig.target = 6`, on the per-sequence summed KL). Other families
    /// fix their coefficient (PPO-v2, GRPO's `beta`) and steer to no target.
    pub fn kl_target(self) -> Option<f64> {
        (self == Family::TrlPpoV1).then_some(6.0)
    }

    /// What the family's logged KL measures: TRL PPO (v1, v2) and online DPO sum
    /// per-token log-ratios over the sequence; GRPO/RLOO, OpenRLHF and verl log a per-token
    /// mean (`shared/spec/log-formats.md` §0.3, §2.6).
    pub fn kl_scale(self) -> crate::forensics::signals::KlScale {
        use crate::forensics::signals::KlScale;
        match self {
            Family::TrlPpoV1 | Family::TrlPpoV2 | Family::TrlOnlineDpo => KlScale::SequenceSum,
            Family::TrlGrpo | Family::OpenRlhf | Family::Verl => KlScale::TokenMean,
            Family::Generic => KlScale::Unknown,
        }
    }

    /// Every family.
    pub const ALL: [Family; 7] = [
        Family::TrlPpoV1,
        Family::TrlPpoV2,
        Family::TrlGrpo,
        Family::TrlOnlineDpo,
        Family::OpenRlhf,
        Family::Verl,
        Family::Generic,
    ];
}

/// Keys whose presence marks a family, checked in order (the first family with a marker
/// present wins; markers are specific enough that runs of two families do not collide).
const MARKERS: [(Family, &[&str]); 6] = [
    (
        Family::TrlPpoV1,
        &[
            "objective/kl_coef",
            "ppo/mean_scores",
            "env/reward_mean",
            "ppo/loss/policy",
        ],
    ),
    (
        Family::Verl,
        &[
            "actor/pg_loss",
            "actor/entropy",
            "critic/score/mean",
            "actor/ppo_kl",
        ],
    ),
    (
        Family::TrlOnlineDpo,
        &["rewards/chosen", "logps/chosen", "val/contain_eos_token"],
    ),
    (
        Family::TrlPpoV2,
        &[
            "policy/entropy_avg",
            "loss/policy_avg",
            "policy/approxkl_avg",
        ],
    ),
    (
        Family::TrlGrpo,
        &[
            "frac_reward_zero_std",
            "completions/mean_length",
            "completion_length",
            "clip_ratio/region_mean",
        ],
    ),
    (
        Family::OpenRlhf,
        &[
            "ppo_kl",
            "ppo_clip_ratio",
            "actor_lr",
            "response_clip_ratio",
        ],
    ),
];

/// The family of a run that logged `keys` (OpenRLHF's tracker prefix `train/` is ignored).
pub fn family_of<'a>(keys: impl IntoIterator<Item = &'a str> + Clone) -> Family {
    for (family, markers) in MARKERS {
        let hit = keys.clone().into_iter().any(|k| {
            let k = k.strip_prefix("train/").unwrap_or(k);
            markers.contains(&k)
        });
        if hit {
            return family;
        }
    }
    Family::Generic
}

/// The canonical metrics, the forensics' inputs first (kl ... clip_frac, in the order a scan
/// reads them), and the names people log them under.
pub const CANONICAL: [&str; 18] = [
    "kl",
    "kl_coef",
    "entropy",
    "reward_mean",
    "reward_std",
    "policy_grad_norm",
    "value_grad_norm",
    "grad_norm",
    "advantage_mean",
    "advantage_std",
    "response_length_mean",
    "clip_frac",
    "truncation_rate",
    "approx_kl",
    "policy_loss",
    "value_loss",
    "lr",
    "frac_reward_zero_std",
];

/// Source keys of canonical `name` for `family`, most specific first; the generic names
/// (RLDK's synonyms) come after the family's own.
fn sources(family: Family, name: &str) -> (&'static [&'static str], &'static [&'static str]) {
    use Family::*;
    let own: &'static [&'static str] = match (name, family) {
        ("kl", TrlPpoV1 | TrlPpoV2 | TrlOnlineDpo) => &["objective/kl"],
        ("kl", Verl) => &["actor/reward_kl_penalty", "actor/kl_loss"],
        ("kl_coef", TrlPpoV1) => &["objective/kl_coef"],
        ("kl_coef", TrlOnlineDpo) => &["beta"],
        ("kl_coef", Verl) => &["actor/reward_kl_penalty_coeff", "actor/kl_coef"],
        ("reward_mean", TrlPpoV1) => &["ppo/mean_scores", "env/reward_mean"],
        ("reward_mean", TrlPpoV2 | TrlOnlineDpo) => &["objective/scores"],
        ("reward_mean", Verl) => &["critic/score/mean"],
        ("reward_mean", OpenRlhf) => &["reward", "score"],
        ("reward_std", TrlPpoV1) => &["ppo/std_scores", "env/reward_std"],
        ("reward_std", OpenRlhf) => &["group_reward_std"],
        // PPO-v2's objective/entropy is a per-sequence sum (and biased before TRL 1.10).
        ("entropy", TrlPpoV2) => &["policy/entropy_avg"],
        ("entropy", TrlPpoV1) => &["ppo/policy/entropy", "objective/entropy"],
        ("entropy", TrlOnlineDpo) => &["objective/entropy"],
        ("entropy", Verl) => &["actor/entropy"],
        ("policy_grad_norm", Verl) => &["actor/grad_norm"],
        ("value_grad_norm", Verl) => &["critic/grad_norm"],
        ("advantage_mean", TrlPpoV1) => &["ppo/policy/advantages_mean"],
        ("advantage_mean", Verl) => &["critic/advantages/mean"],
        ("response_length_mean", TrlPpoV1) => &["tokens/responses_len_mean"],
        ("response_length_mean", TrlGrpo) => &["completions/mean_length", "completion_length"],
        ("response_length_mean", OpenRlhf) => &["response_length"],
        ("response_length_mean", Verl) => &["response_length/mean"],
        ("clip_frac", TrlPpoV1) => &["ppo/policy/clipfrac"],
        ("clip_frac", TrlPpoV2) => &["policy/clipfrac_avg"],
        ("clip_frac", TrlGrpo) => &["clip_ratio/region_mean", "clip_ratio"],
        ("clip_frac", OpenRlhf) => &["ppo_clip_ratio"],
        ("clip_frac", Verl) => &["actor/pg_clipfrac"],
        ("truncation_rate", TrlGrpo) => &["completions/clipped_ratio"],
        ("truncation_rate", OpenRlhf) => &["response_clip_ratio"],
        ("truncation_rate", Verl) => &["response_length/clip_ratio"],
        ("approx_kl", TrlPpoV1) => &["ppo/policy/approxkl"],
        ("approx_kl", TrlPpoV2) => &["policy/approxkl_avg"],
        ("approx_kl", OpenRlhf | Verl) => &["ppo_kl", "actor/ppo_kl"],
        ("policy_loss", TrlPpoV1) => &["ppo/loss/policy"],
        ("policy_loss", TrlPpoV2) => &["loss/policy_avg"],
        ("policy_loss", TrlGrpo) => &["loss"],
        ("policy_loss", OpenRlhf) => &["policy_loss"],
        ("policy_loss", Verl) => &["actor/pg_loss"],
        ("value_loss", TrlPpoV1) => &["ppo/loss/value"],
        ("value_loss", TrlPpoV2) => &["loss/value_avg"],
        ("value_loss", OpenRlhf) => &["critic_loss"],
        ("value_loss", Verl) => &["critic/vf_loss"],
        ("lr", TrlPpoV1) => &["ppo/learning_rate"],
        ("lr", OpenRlhf) => &["actor_lr"],
        ("lr", Verl) => &["actor/lr"],
        _ => &[],
    };
    let generic: &'static [&'static str] = match name {
        "kl" => &[
            "kl",
            "kl_mean",
            "kl_to_ref",
            "kl_divergence",
            "policy_kl",
            "kl_avg",
            "kl_value",
        ],
        "kl_coef" => &["kl_coef", "kl_coeff", "kl_coefficient", "kl_beta", "kl_ctl"],
        "entropy" => &["entropy", "entropy_mean", "policy_entropy"],
        "reward_mean" => &[
            "reward_mean",
            "reward",
            "mean_reward",
            "reward_avg",
            "avg_reward",
            "reward_scalar",
        ],
        "reward_std" => &[
            "reward_std",
            "reward_stddev",
            "std_reward",
            "group_reward_std",
        ],
        "policy_grad_norm" => &[
            "policy_grad_norm",
            "grad_norm_policy",
            "actor_grad_norm",
            "pi_grad_norm",
        ],
        "value_grad_norm" => &["value_grad_norm", "grad_norm_value", "critic_grad_norm"],
        "grad_norm" => &["grad_norm", "gradient_norm", "total_grad_norm"],
        "advantage_mean" => &["advantage_mean", "adv_mean", "advantages_mean"],
        "advantage_std" => &["advantage_std", "adv_std", "advantage_stddev"],
        "response_length_mean" => &[
            "response_length_mean",
            "response_length",
            "completion_length",
        ],
        "clip_frac" => &["clip_frac", "clipfrac", "clip_fraction"],
        "truncation_rate" => &["truncation_rate", "clipped_ratio"],
        "approx_kl" => &["approx_kl", "approxkl"],
        "policy_loss" => &["policy_loss"],
        "value_loss" => &["value_loss", "vf_loss"],
        "lr" => &["lr", "learning_rate"],
        "frac_reward_zero_std" => &["frac_reward_zero_std"],
        _ => &[],
    };
    (own, generic)
}

/// Per-function reward means (`rewards/<name>/mean`, TRL GRPO/RLOO ≥ 0.17) among `keys`, as
/// (name, key) pairs in key order.
pub fn reward_components<'a>(keys: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    keys.iter()
        .filter_map(|&k| {
            let name = k.strip_prefix("rewards/")?.strip_suffix("/mean")?;
            (!name.is_empty()).then_some((name, k))
        })
        .collect()
}

/// The source key that canonical `name` reads for a run of `family` among `keys`, if any
/// (OpenRLHF's `train/` tracker prefix is looked through).
pub fn resolve<'a>(family: Family, name: &str, keys: &[&'a str]) -> Option<&'a str> {
    let (own, generic) = sources(family, name);
    own.iter().chain(generic).find_map(|want| {
        keys.iter()
            .copied()
            .find(|k| k == want || k.strip_prefix("train/") == Some(want))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_their_keys() {
        let grpo = [
            "loss",
            "grad_norm",
            "kl",
            "reward",
            "reward_std",
            "entropy",
            "frac_reward_zero_std",
            "completions/mean_length",
            "completions/clipped_ratio",
            "learning_rate",
        ];
        assert_eq!(family_of(grpo), Family::TrlGrpo);
        assert_eq!(resolve(Family::TrlGrpo, "kl", &grpo), Some("kl"));
        assert_eq!(
            resolve(Family::TrlGrpo, "reward_mean", &grpo),
            Some("reward")
        );
        assert_eq!(
            resolve(Family::TrlGrpo, "grad_norm", &grpo),
            Some("grad_norm")
        );
        assert_eq!(
            resolve(Family::TrlGrpo, "truncation_rate", &grpo),
            Some("completions/clipped_ratio")
        );
        assert_eq!(resolve(Family::TrlGrpo, "policy_grad_norm", &grpo), None);

        let v2 = [
            "objective/kl",
            "objective/entropy",
            "objective/scores",
            "policy/entropy_avg",
            "loss/policy_avg",
            "lr",
        ];
        assert_eq!(family_of(v2), Family::TrlPpoV2);
        assert_eq!(
            resolve(Family::TrlPpoV2, "entropy", &v2),
            Some("policy/entropy_avg")
        );
        assert_eq!(
            resolve(Family::TrlPpoV2, "reward_mean", &v2),
            Some("objective/scores")
        );
        assert_eq!(resolve(Family::TrlPpoV2, "kl_coef", &v2), None);

        let v1 = [
            "objective/kl",
            "objective/kl_coef",
            "ppo/mean_scores",
            "env/reward_mean",
            "ppo/policy/advantages_mean",
        ];
        assert_eq!(family_of(v1), Family::TrlPpoV1);
        assert_eq!(
            resolve(Family::TrlPpoV1, "kl_coef", &v1),
            Some("objective/kl_coef")
        );
        assert_eq!(
            resolve(Family::TrlPpoV1, "advantage_mean", &v1),
            Some("ppo/policy/advantages_mean")
        );

        let openrlhf = [
            "train/policy_loss",
            "train/ppo_kl",
            "train/kl",
            "train/reward",
            "train/response_length",
            "train/global_step",
        ];
        assert_eq!(family_of(openrlhf), Family::OpenRlhf);
        assert_eq!(resolve(Family::OpenRlhf, "kl", &openrlhf), Some("train/kl"));

        let verl = [
            "actor/pg_loss",
            "actor/grad_norm",
            "critic/grad_norm",
            "actor/reward_kl_penalty",
            "actor/reward_kl_penalty_coeff",
            "critic/score/mean",
        ];
        assert_eq!(family_of(verl), Family::Verl);
        assert_eq!(
            resolve(Family::Verl, "policy_grad_norm", &verl),
            Some("actor/grad_norm")
        );
        assert_eq!(
            resolve(Family::Verl, "kl_coef", &verl),
            Some("actor/reward_kl_penalty_coeff")
        );

        let rldk = ["kl_mean", "reward_mean", "entropy_mean", "grad_norm"];
        assert_eq!(family_of(rldk), Family::Generic);
        assert_eq!(resolve(Family::Generic, "kl", &rldk), Some("kl_mean"));
        assert_eq!(
            resolve(Family::Generic, "entropy", &rldk),
            Some("entropy_mean")
        );
        assert!(Family::ALL.iter().all(|f| !f.as_str().is_empty()));
        assert!(CANONICAL
            .iter()
            .all(|c| !sources(Family::Generic, c).1.is_empty()));
    }
}
