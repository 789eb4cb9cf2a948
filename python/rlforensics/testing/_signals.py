"""Signal primitives for the scenario generator: noise, warm-up shapes, TRL's KL controller.

Everything except the controller loop is vectorised; the controller is a feedback loop
(the coefficient at step t depends on the KL at step t - 1), so it is inherently sequential.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

# Per-step multiplicative clip of TRL's AdaptiveKLController (trl/trainer/utils.py, PPO-v1).
_TRL_CLIP = 0.2


def ar1(rng: np.random.Generator, n: int, sigma: float, rho: float) -> Array:
    """Stationary AR(1) noise with marginal std ``sigma`` and lag-1 correlation ``rho``.

    Computed as white noise convolved with the truncated impulse response rho**k, which is
    exact up to a 1e-6 tail and avoids a Python loop.
    """
    if rho <= 0.0:
        return sigma * rng.standard_normal(n)
    length = min(n, int(np.ceil(np.log(1e-6) / np.log(rho))) + 1)
    kernel = rho ** np.arange(length, dtype=np.float64)
    # Draw a burn-in of `length` values so that the first output is already stationary.
    white = rng.standard_normal(n + length) * sigma * np.sqrt(1.0 - rho * rho)
    return np.convolve(white, kernel)[length : length + n]


def lognoise(rng: np.random.Generator, n: int, sigma: float) -> Array:
    """Mean-one log-normal multiplicative noise (positive scales stay positive)."""
    return np.exp(sigma * rng.standard_normal(n) - 0.5 * sigma * sigma)


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A scale drawn uniformly in log between ``low`` and ``high``."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def saturating(t: Array, tau: float) -> Array:
    """1 - exp(-t / tau): a warm-up from 0 to 1 (or a rise to a plateau)."""
    return -np.expm1(-np.maximum(t, 0.0) / tau)


def spikes(rng: np.random.Generator, n: int, rate: float, low: float, high: float) -> Array:
    """Rare isolated multiplicative spikes (heavy tails of real gradient norms)."""
    hit = rng.random(n) < rate
    return np.where(hit, rng.uniform(low, high, n), 1.0)


def adaptive_kl(
    pressure: Array,
    noise: Array,
    gain: Array,
    *,
    target: float,
    coef0: float,
    lag: float,
    delay: int,
) -> tuple[Array, Array]:
    """KL under TRL's adaptive controller, with the KL responding to the coefficient.

    The policy's pull away from the reference (``pressure``, in KL x coefficient units) sets
    an equilibrium KL of pressure / coef; the true KL approaches it with rate ``lag`` and
    sees the coefficient ``delay`` updates late (the policy needs a few updates to move), and
    the logged KL is the true KL times ``noise``. The dead time is what turns a too-high gain
    into KL and coefficient swings, as in a real run. The controller then updates
    coef *= 1 + clip(kl / target - 1, -0.2, 0.2) * gain[t], with gain = batch / horizon as in
    TRL (gain 0 freezes the coefficient). Returns (logged kl, coefficient used at each step).
    """
    n = pressure.size
    kl = np.empty(n)
    coef = np.empty(n)
    c, level = coef0, 0.0
    for t in range(n):
        coef[t] = c
        level += lag * (pressure[t] / coef[max(0, t - delay)] - level)
        kl[t] = level * noise[t]
        err = min(max(kl[t] / target - 1.0, -_TRL_CLIP), _TRL_CLIP)
        c *= 1.0 + err * gain[t]
    return kl, coef
