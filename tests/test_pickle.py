"""Pickle, copy and byte snapshots of every estimator class in ``rlforensics.stats`` and every
tracker in ``rlforensics.forensics``.

Classes are discovered from ``rlforensics.stats.__all__`` and the classes with ``to_bytes`` in
``rlforensics.forensics.__all__``; each needs an entry in
``EXAMPLES`` (constructor, feeder, observer). A class without one fails
``test_every_class_has_an_example``, so new classes cannot slip through untested.
"""

from __future__ import annotations

import copy
import inspect
import math
import pickle
import struct
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

import rlforensics.forensics as forensics
import rlforensics.stats as stats


def _canon(value: Any) -> Any:
    """A comparable form of getter output: floats by their bits (NaN == NaN, -0.0 != 0.0)."""
    if isinstance(value, float):
        return ("f", struct.pack("<d", value))
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canon(v) for v in value]
    return value


@dataclass
class Example:
    make: Callable[[], Any]
    feed: Callable[[Any, int], None]  # feed(obj, part) with part 0 or 1
    observe: Callable[[Any], dict]


_RNG = np.random.default_rng(2024)
_X = _RNG.standard_normal(3000) * 2.0 + 1.0
_X[_RNG.random(3000) < 0.05] = np.nan
_X[::211] = np.inf
_PARTS = (_X[:1700], _X[1700:])
_STEPS = (1e9 + np.cumsum(_RNG.integers(1, 5, 3000))).astype(np.float64)
_STEP_PARTS = (_STEPS[:1700], _STEPS[1700:])
_T = np.arange(3000.0)
_KL = 0.1 + 0.04 * np.exp(-_T / 900.0) * np.cos(_T / 7.0) + 0.005 * _RNG.standard_normal(3000)
_KL[::97] = np.nan
_COEF = 0.05 * np.exp(np.cumsum(0.5 * np.nan_to_num(_KL - 0.1)))
_KL_PARTS = (_KL[:1700], _KL[1700:])
_COEF_PARTS = (_COEF[:1700], _COEF[1700:])
_ADV_MEAN = 0.02 * _RNG.standard_normal(3000) + np.where(_T > 2000, 0.1, 0.0)
_ADV_MEAN[::131] = np.nan
_ADV_STD = np.exp(0.05 * _RNG.standard_normal(3000) - np.where(_T > 2500, 3.0, 0.0))
_ADV_PARTS = ((_ADV_MEAN[:1700], _ADV_STD[:1700]), (_ADV_MEAN[1700:], _ADV_STD[1700:]))
_ADV_SAMPLES = (_RNG.exponential(1.0, 700).astype(np.float32), _RNG.standard_normal(300))


def _feed_advantage(t, part):
    mean, std = _ADV_PARTS[part]
    t.update_many(_STEP_PARTS[part], mean, std, advantage_median=mean * 0.5)
    t.update(_STEP_PARTS[part][-1] + 0.5, None, None, advantage_samples=_ADV_SAMPLES[part])


def _feed_values(obj, part):
    obj.update_many(_PARTS[part])


EXAMPLES: dict[str, Example] = {
    "Moments": Example(
        make=lambda: stats.Moments(),
        feed=_feed_values,
        observe=lambda m: {
            "count": m.count,
            "nonfinite": m.nonfinite,
            "mean": m.mean(),
            "var0": m.variance(0),
            "var1": m.variance(),
            "std": m.std(),
            "skew": m.skewness(),
            "kurt": m.kurtosis(bias=False),
            "min": m.min(),
            "max": m.max(),
        },
    ),
    "EWMoments": Example(
        make=lambda: stats.EWMoments(span=17.0),
        feed=_feed_values,
        observe=lambda e: {
            "alpha": e.alpha,
            "count": e.count,
            "nonfinite": e.nonfinite,
            "mean": e.mean(),
            "var": e.variance(),
            "std": e.std(),
        },
    ),
    "QuantileSketch": Example(
        make=lambda: stats.QuantileSketch(64),
        feed=_feed_values,
        observe=lambda s: {
            "k": s.k,
            "count": s.count,
            "nonfinite": s.nonfinite,
            "retained": s.retained,
            "bound": s.rank_error_bound(),
            "q": [s.quantile(q) for q in (0.0, 0.01, 0.3, 0.5, 0.9, 1.0)],
            "cdf": s.cdf(0.5),
            "min": s.min(),
            "max": s.max(),
        },
    ),
    "RollingMoments": Example(
        make=lambda: stats.RollingMoments(37, min_periods=20),
        feed=_feed_values,
        observe=lambda r: {
            "window": r.window,
            "min_periods": r.min_periods,
            "count": r.count,
            "mean": r.mean(),
            "var": r.variance(),
            "std0": r.std(0),
            "skew": r.skewness(),
            "kurt": r.kurtosis(bias=False),
        },
    ),
    "RollingMinMax": Example(
        make=lambda: stats.RollingMinMax(25, min_periods=3),
        feed=_feed_values,
        observe=lambda r: {
            "window": r.window,
            "min_periods": r.min_periods,
            "count": r.count,
            "min": r.min(),
            "max": r.max(),
        },
    ),
    "RollingQuantile": Example(
        make=lambda: stats.RollingQuantile(31, min_periods=5),
        feed=_feed_values,
        observe=lambda r: {
            "window": r.window,
            "min_periods": r.min_periods,
            "count": r.count,
            "q10": r.quantile(0.1),
            "median": r.median(),
        },
    ),
    "RollingTrend": Example(
        make=lambda: stats.RollingTrend(40, min_periods=10),
        feed=lambda t, part: t.update_many(_STEP_PARTS[part], _PARTS[part]),
        observe=lambda t: {
            "window": t.window,
            "min_periods": t.min_periods,
            "count": t.count,
            "slope": t.slope(),
            "fit": t.fit(),
        },
    ),
    "DriftDetector": Example(
        make=lambda: stats.DriftDetector(500, 200, min_window=50, alpha=0.05),
        feed=_feed_values,
        observe=lambda d: {
            "ready": d.ready,
            "reference_len": d.reference_len,
            "window_len": d.window_len,
            "nonfinite": d.nonfinite,
            "alpha": d.alpha,
            "ks": d.ks(),
            "kl": d.histogram_kl(),
            "kl7": d.histogram_kl(bins=7),
            "drifted": d.drifted(),
        },
    ),
    "ControllerAnalyzer": Example(
        make=lambda: stats.ControllerAnalyzer(0.1, 0.01, deadband=0.005, settle_hold=3, max_lag=4),
        feed=lambda a, part: a.update_many(_KL_PARTS[part], _COEF_PARTS[part], _STEP_PARTS[part]),
        observe=lambda a: a.report(),
    ),
    "TrainerSignalsTracker": Example(
        make=lambda: forensics.TrainerSignalsTracker("token_mean", baseline_rows=10),
        feed=lambda t, part: t.update_many(
            _STEP_PARTS[part], kl=np.abs(_KL_PARTS[part]), entropy=np.abs(_PARTS[part]) + 1.0,
            reward_mean=_PARTS[part], grad_norm=np.abs(_PARTS[part]) + 0.1,
            frac_reward_zero_std=np.clip(np.abs(_PARTS[part]) / 10, 0, 1),
            reward_components={"a": _PARTS[part], "b": -_PARTS[part]},
        ),
        observe=lambda t: {
            "updates": t.updates,
            "scores": t.scores(),
            "anomalies": t.get_anomalies(),
            "components": t.reward_components,
            "kl_scale": t.kl_scale,
        },
    ),
    "GradientNormsAnalyzer": Example(
        make=lambda: forensics.GradientNormsAnalyzer(window_size=30),
        feed=lambda a, part: a.update_many(
            _STEP_PARTS[part], np.abs(_PARTS[part]), np.abs(_PARTS[part]) * 3 + 0.1
        ),
        observe=lambda a: {
            "metrics": a.current_metrics.to_dict(),
            "anomalies": a.get_anomalies(),
            "policy": a.policy_grad_history,
            "history": [m.to_dict() for m in a.metrics_history[-3:]],
        },
    ),
    "KLScheduleTracker": Example(
        make=lambda: forensics.KLScheduleTracker(reference_period=200, drift_window_size=50),
        feed=lambda t, part: t.update_many(_STEP_PARTS[part], _KL_PARTS[part], _COEF_PARTS[part]),
        observe=lambda t: {
            "metrics": t.current_metrics.to_dict(),
            "anomalies": t.get_anomalies(),
            "kl_history": t.kl_history,
            "history": [m.to_dict() for m in t.metrics_history[-3:]],
            "drift": t.detect_kl_drift(),
        },
    ),
    "AdvantageStatisticsTracker": Example(
        make=lambda: forensics.AdvantageStatisticsTracker(window_size=40, distribution_window=30),
        feed=_feed_advantage,
        observe=lambda t: {
            "metrics": t.current_metrics.to_dict(),
            "anomalies": t.get_anomalies(),
            "means": t.advantage_mean_history,
            "samples": t.advantage_samples,
            "history": [m.to_dict() for m in t.metrics_history[-3:]],
            "summary": t.get_summary(),
        },
    ),
}

CLASSES = {
    name: getattr(stats, name) for name in stats.__all__ if inspect.isclass(getattr(stats, name))
}
CLASSES.update(
    (name, getattr(forensics, name))
    for name in forensics.__all__
    if inspect.isclass(getattr(forensics, name)) and hasattr(getattr(forensics, name), "to_bytes")
)
NAMES = sorted(CLASSES)


def test_every_class_has_an_example():
    assert CLASSES, "no classes discovered in rlforensics.stats.__all__"
    missing = sorted(set(CLASSES) - set(EXAMPLES))
    assert not missing, f"add pickling examples for: {missing}"
    stale = sorted(set(EXAMPLES) - set(CLASSES))
    assert not stale, f"examples for classes that no longer exist: {stale}"


def fed(name: str, parts=(0,)):
    ex = EXAMPLES[name]
    obj = ex.make()
    assert type(obj) is CLASSES[name]
    for p in parts:
        ex.feed(obj, p)
    return obj


def check_restored(name: str, restored) -> None:
    """``restored`` (of a fed-with-part-0 object) behaves exactly like the original, now and
    after both are fed the rest of the data."""
    ex = EXAMPLES[name]
    original = fed(name)
    assert type(restored) is type(original)
    assert _canon(ex.observe(restored)) == _canon(ex.observe(original))
    ex.feed(original, 1)
    ex.feed(restored, 1)
    assert _canon(ex.observe(restored)) == _canon(ex.observe(original))
    # ... and the same as an object fed everything in one go.
    assert _canon(ex.observe(restored)) == _canon(ex.observe(fed(name, (0, 1))))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(name, protocol):
    obj = fed(name)
    check_restored(name, pickle.loads(pickle.dumps(obj, protocol=protocol)))


@pytest.mark.parametrize("name", NAMES)
def test_pickle_of_fresh_object(name):
    ex = EXAMPLES[name]
    fresh = ex.make()
    back = pickle.loads(pickle.dumps(fresh))
    assert _canon(ex.observe(back)) == _canon(ex.observe(fresh))
    ex.feed(back, 0)
    assert _canon(ex.observe(back)) == _canon(ex.observe(fed(name)))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("how", ["copy", "deepcopy"])
def test_copies_are_independent(name, how):
    ex = EXAMPLES[name]
    obj = fed(name)
    dup = copy.copy(obj) if how == "copy" else copy.deepcopy(obj)
    assert dup is not obj
    before = _canon(ex.observe(obj))
    check_restored(name, dup)  # feeds dup ...
    assert _canon(ex.observe(obj)) == before  # ... and the original did not move
    if how == "deepcopy":
        holder = {"a": obj, "b": [obj]}
        deep = copy.deepcopy(holder)
        assert deep["a"] is deep["b"][0]  # the memo keeps shared references shared


@pytest.mark.parametrize("name", NAMES)
def test_to_bytes_from_bytes(name):
    cls = CLASSES[name]
    obj = fed(name)
    data = obj.to_bytes()
    assert isinstance(data, bytes) and data[:4] == b"RLF3"
    assert fed(name).to_bytes() == data  # deterministic
    back = cls.from_bytes(data)
    assert back.to_bytes() == data
    check_restored(name, back)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("other", NAMES)
def test_from_bytes_of_another_class_raises(name, other):
    if name == other:
        return
    data = fed(other).to_bytes()
    with pytest.raises(ValueError):
        CLASSES[name].from_bytes(data)
    obj = fed(name)
    with pytest.raises(ValueError):
        obj.__setstate__(data)
    # A refused state leaves the object as it was.
    assert _canon(EXAMPLES[name].observe(obj)) == _canon(EXAMPLES[name].observe(fed(name)))


GARBAGE = [
    b"",
    b"\x00",
    b"garbage",
    b"RLF3",
    b"RLF0\x07Moments",
    b"RLF3\xff",
    b"RLF3\x07Mom",
    bytes(range(256)),
    b"\xff" * 64,
]


@pytest.mark.parametrize("name", NAMES)
def test_a_state_of_another_format_is_refused_by_name(name):
    data = bytearray(fed(name).to_bytes())
    data[3:4] = b"2"  # as an earlier build, whose layouts differ, wrote it
    with pytest.raises(ValueError, match="format 2.*reads format 3"):
        CLASSES[name].from_bytes(bytes(data))


@pytest.mark.parametrize("name", NAMES)
def test_garbage_bytes_raise(name):
    cls = CLASSES[name]
    for blob in GARBAGE:
        with pytest.raises(ValueError):
            cls.from_bytes(blob)
    # Every strict prefix of a valid snapshot is refused (never a panic, never accepted).
    data = fed(name).to_bytes()
    step = max(1, len(data) // 200)
    for cut in list(range(0, len(data), step)) + [len(data) - 1]:
        with pytest.raises(ValueError):
            cls.from_bytes(data[:cut])
    # A valid header with an undecodable payload (over-long varints) is refused as well.
    header = data[: 5 + data[4]]
    for size in (1, 7, 33, 400):
        with pytest.raises(ValueError):
            cls.from_bytes(header + b"\xff" * size)


@pytest.mark.parametrize("name", NAMES)
def test_pickled_state_is_validated(name):
    """Unpickling goes through the constructor and ``__setstate__``: a tampered state raises
    ValueError instead of producing a broken object."""
    obj = fed(name)
    cls, args, state = obj.__reduce__()
    assert cls is CLASSES[name]
    assert isinstance(state, bytes)
    fresh = cls(*args)
    fresh.__setstate__(state)
    assert _canon(EXAMPLES[name].observe(fresh)) == _canon(EXAMPLES[name].observe(obj))
    with pytest.raises(ValueError):
        fresh.__setstate__(state[: len(state) // 2])


def test_observers_see_real_state():
    """Sanity check of the examples themselves: feeding changes what they observe, so the
    round-trip comparisons above are not comparing empty objects."""
    for name in NAMES:
        ex = EXAMPLES[name]
        assert _canon(ex.observe(ex.make())) != _canon(ex.observe(fed(name))), name
        assert _canon(ex.observe(fed(name))) != _canon(ex.observe(fed(name, (0, 1)))), name


def test_nan_state_round_trips():
    m = stats.Moments()
    m.update(float("nan"))
    back = pickle.loads(pickle.dumps(m))
    assert back.nonfinite == 1 and back.count == 0 and back.mean() is None
    e = stats.EWMoments(alpha=1.0)
    e.update(-0.0)
    back = stats.EWMoments.from_bytes(e.to_bytes())
    assert math.copysign(1.0, back.mean()) == -1.0


def _payload_offset(data: bytes) -> int:
    return 5 + data[4]


def _rolling_moments_window_zero() -> bytes:
    """A RollingMoments(1) snapshot with the ring capacity (the window) set to 0."""
    data = stats.RollingMoments(1).to_bytes()
    at = _payload_offset(data)
    # Ring { buf: [] (len 0), head: 0, capacity: 1 } leads the payload.
    assert data[at : at + 3] == b"\x00\x00\x01", "snapshot layout changed; update this test"
    return data[:at] + b"\x00\x00\x00" + data[at + 3 :]


def _sketch_without_levels() -> bytes:
    """A QuantileSketch(8) snapshot whose list of compactor levels is empty."""
    data = stats.QuantileSketch(8).to_bytes()
    at = _payload_offset(data)
    # k = 8, levels = [[]], odd = [false], n = 0, then three f64 and nonfinite.
    assert data[at : at + 6] == b"\x08\x01\x00\x01\x00\x00", "snapshot layout changed"
    return data[:at] + b"\x08\x00\x00\x00" + data[at + 6 :]


TAMPERED = {
    "RollingMoments(window=0)": (stats.RollingMoments, _rolling_moments_window_zero),
    "QuantileSketch(no levels)": (stats.QuantileSketch, _sketch_without_levels),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_structurally_valid_but_invalid_state_is_refused(case):
    """Snapshots are for shipping state between processes; the binding promises that "a
    foreign state blob never surfaces as a panic". A blob that decodes but breaks an
    invariant the constructor enforces (a window of 0, no compactor level) must be refused
    with ValueError, not accepted and left to panic on the next update."""
    cls, make = TAMPERED[case]
    data = make()
    try:
        obj = cls.from_bytes(data)
    except ValueError:
        return
    try:
        obj.update(1.0)
    except BaseException as exc:  # PanicException derives from BaseException
        if type(exc).__name__ != "PanicException":
            raise
        pytest.fail(f"from_bytes accepted {case}; update(1.0) then panicked: {exc}")
    pytest.fail(f"from_bytes accepted the invalid state {case}")
