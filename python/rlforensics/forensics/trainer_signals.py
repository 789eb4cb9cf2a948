"""``TrainerSignalsTracker``: rules for the signals today's trainers log (TRL GRPO/RLOO,
OpenRLHF, verl), computed in Rust.

GRPO and RLOO logs have no KL coefficient, no policy/value gradient split and no advantages,
so RLDK's trackers see little there. This tracker reads what they do log (KL, entropy,
reward and its spread, the total gradient norm, ``frac_reward_zero_std``,
``completions/clipped_ratio``, the mean completion length and the per-function reward
means) and raises events for KL spikes and blow-ups, gradient spikes, explosions and
collapse, entropy and policy collapse, learning-signal starvation, truncation saturation,
length hacking, the reward-hacking signature and diverging reward components.
``docs/rules.md`` gives each rule's signal, threshold and reasons.

``kl_scale`` says what the logged KL measures: ``"token_mean"`` (GRPO's k3, RLOO's k1),
``"sequence_sum"`` (TRL PPO) or ``"unknown"`` (only rules relative to the run's own level).
The scanner and the TRL monitor choose it from the trainer family.
"""

from __future__ import annotations

from rlforensics._core import TrainerSignalsTracker

__all__ = ["TrainerSignalsTracker"]
