"""The batch of scored responses behind each logged step, for length-bias detection.

A trainer scores a batch of responses per update; the length-bias detector reads their
(reward, length) pairs, as RLDK's TRL callback hands it ``{responses, rewards,
response_lengths}`` payloads. A logged step's ``response_length`` is the batch's mean, so a
record must not pair that mean with one response's reward: response lengths within a batch
spread far more (a coefficient of variation of 25–45% here) than batch means do from step
to step (about 6%), and a reward that pays for length is seen through that spread.

Healthy batches: each response's length is the step's mean length times a log-normal factor;
its reward is the step's mean reward plus ``reward_std`` times noise that shares a small,
per-seed chance coupling with the length (correlation in ±0.15), so that a detector meets the
weak length/reward relations of real healthy runs, not only independent pairs.

Under the length-bias fault (from the onset row on) each response's reward is paid for its
own length by the fault's formula (see ``_faults.length_bias``), applied to that response's
length rather than to the batch mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rlforensics.testing._signals import Array

BATCH = 16  # responses scored per logged step (small for speed; trainers score 64 or more)


@dataclass(frozen=True, eq=False)
class Responses:
    """Per-step response batches: ``lengths`` and ``rewards``, each shaped (rows, BATCH)."""

    lengths: Array
    rewards: Array

    def payload(self, row: int) -> dict[str, list[float]]:
        """Row ``row`` as RLDK's batch payload (``update(response_data=...)``)."""
        return {"rewards": self.rewards[row].tolist(), "response_lengths": self.lengths[row].tolist()}


@dataclass(frozen=True)
class LengthPay:
    """The fault's per-response reward: from row ``onset`` on, a response of length L gets
    ``quality + payoff * ((L / base - 1) / grow + 0.25 * noise)``."""

    onset: int
    base: float
    grow: float
    payoff: float
    quality: float

    @classmethod
    def from_params(cls, onset: int, params: dict[str, float]) -> LengthPay:
        """The pay of the length-bias fault that drew ``params`` (``_faults.length_bias``)."""
        return cls(
            onset=onset, base=params["length_base"], grow=params["length_growth"],
            payoff=params["reward_payoff"], quality=params["reward_quality"],
        )


def sample(rng: np.random.Generator, columns: dict[str, Array], pay: LengthPay | None) -> Responses:
    """Batches around the step means in ``columns`` (``response_length``, ``reward_mean``,
    ``reward_std``). Draws the same numbers with or without ``pay``, so that the rows before
    a fault's onset equal the healthy run's."""
    mean_len = columns["response_length"]
    n = mean_len.size
    spread = rng.uniform(0.25, 0.45)
    chance = rng.uniform(-0.15, 0.15)
    z = rng.standard_normal((n, BATCH))
    noise = rng.standard_normal((n, BATCH))
    lengths = mean_len[:, None] * np.exp(spread * z - 0.5 * spread**2)
    coupled = chance * z + np.sqrt(1.0 - chance**2) * noise
    rewards = columns["reward_mean"][:, None] + columns["reward_std"][:, None] * coupled
    if pay is not None:
        i0 = pay.onset
        excess = (lengths[i0:] / pay.base - 1.0) / pay.grow
        rewards[i0:] = pay.quality + pay.payoff * (excess + 0.25 * noise[i0:])
    return Responses(lengths=lengths, rewards=rewards)
