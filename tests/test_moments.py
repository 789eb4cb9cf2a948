"""Whole-run ``Moments`` against NumPy / SciPy / pandas references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import examples, float_arrays
from rlforensics.stats import Moments


def feed(values) -> Moments:
    m = Moments()
    m.update_many(np.asarray(values, dtype=np.float64))
    return m


def finite(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[np.isfinite(x)]


def well_conditioned(f: np.ndarray) -> bool:
    """Spread not tiny relative to the magnitude: higher moments are meaningful."""
    if f.size < 2:
        return False
    var = float(np.var(f))
    return var > 1e-6 * float(np.mean(f)) ** 2 and var > 0.0


@settings(max_examples=examples(80))
@given(float_arrays(min_size=0, max_size=300))
def test_against_numpy_scipy_pandas(x):
    m = feed(x)
    f = finite(x)
    n = f.size
    assert m.count == n
    assert m.nonfinite == x.size - n
    if n == 0:
        assert m.mean() is None and m.min() is None and m.max() is None
        return
    scale = float(np.max(np.abs(f))) or 1.0
    assert m.mean() == pytest.approx(np.mean(f), rel=1e-12, abs=1e-13 * scale)
    assert m.min() == np.min(f)
    assert m.max() == np.max(f)
    var0 = float(np.var(f))
    assert m.variance(0) == pytest.approx(var0, rel=1e-9, abs=1e-13 * scale**2)
    assert m.variance(ddof=0) == m.variance(0)
    assert m.std(0) == pytest.approx(np.sqrt(m.variance(0)), rel=1e-15)
    if n >= 2:
        assert m.variance() == pytest.approx(np.var(f, ddof=1), rel=1e-9, abs=1e-13 * scale**2)
        assert m.variance(1) == m.variance()
        assert m.std() == pytest.approx(np.std(f, ddof=1), rel=1e-9, abs=1e-7 * scale)
    else:
        assert m.variance() is None and m.std() is None
        # ddof = n: no degrees of freedom left.
    assert m.variance(ddof=n) is None
    if well_conditioned(f):
        assert m.skewness() == pytest.approx(scipy.stats.skew(f), rel=1e-7, abs=1e-8)
        assert m.skewness(bias=True) == m.skewness()
        assert m.kurtosis() == pytest.approx(scipy.stats.kurtosis(f), rel=1e-7, abs=1e-8)
        s = pd.Series(f)
        if n >= 3:
            assert m.skewness(bias=False) == pytest.approx(s.skew(), rel=1e-7, abs=1e-8)
        else:
            assert m.skewness(bias=False) is None
        if n >= 4:
            assert m.kurtosis(bias=False) == pytest.approx(s.kurt(), rel=1e-7, abs=1e-8)
        else:
            assert m.kurtosis(bias=False) is None


def test_known_small_values():
    m = feed([1.0, 2.0, 3.0, 4.0])
    assert m.mean() == 2.5
    assert m.variance() == pytest.approx(5.0 / 3.0, rel=1e-15)
    assert m.variance(0) == 1.25
    assert m.skewness() == 0.0
    assert m.kurtosis() == pytest.approx(-1.36, rel=1e-14)  # scipy g2 of 1..4
    assert m.kurtosis(bias=False) == pytest.approx(-1.2, rel=1e-13)  # pandas G2 of 1..4


def test_skew_kurt_bias_flag_matches_scipy_bias_false():
    """bias=False is also scipy's bias=False (they are the same G1/G2 estimators as pandas)."""
    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, size=500)
    m = feed(x)
    assert m.skewness(bias=False) == pytest.approx(scipy.stats.skew(x, bias=False), rel=1e-10)
    assert m.kurtosis(bias=False) == pytest.approx(
        scipy.stats.kurtosis(x, bias=False), rel=1e-10
    )


@settings(max_examples=examples(50))
@given(float_arrays(min_size=0, max_size=120))
def test_update_equals_update_many(x):
    a = Moments()
    for v in x:
        a.update(float(v))
    b = feed(x)
    assert a.count == b.count and a.nonfinite == b.nonfinite
    for get in (
        lambda m: m.mean(),
        lambda m: m.variance(0),
        lambda m: m.variance(1),
        lambda m: m.skewness(),
        lambda m: m.kurtosis(bias=False),
        lambda m: m.min(),
        lambda m: m.max(),
    ):
        assert get(a) == get(b)


def _close_opt(a, b, rel, abs_):
    if a is None or b is None:
        assert a is None and b is None
    else:
        assert a == pytest.approx(b, rel=rel, abs=abs_)


@settings(max_examples=examples(40))
@given(float_arrays(min_size=0, max_size=40))
def test_merge_at_every_split_point(x):
    whole = feed(x)
    f = finite(x)
    scale = float(np.max(np.abs(f))) if f.size else 1.0
    for split in range(x.size + 1):
        a = feed(x[:split])
        b = feed(x[split:])
        added = a + b
        a.merge(b)
        for m in (a, added):
            assert m.count == whole.count
            assert m.nonfinite == whole.nonfinite
            assert m.min() == whole.min() and m.max() == whole.max()
            _close_opt(m.mean(), whole.mean(), 1e-12, 1e-13 * scale)
            _close_opt(m.variance(0), whole.variance(0), 1e-9, 1e-13 * scale**2)
            _close_opt(m.variance(1), whole.variance(1), 1e-9, 1e-13 * scale**2)
            if well_conditioned(f):
                _close_opt(m.skewness(), whole.skewness(), 1e-7, 1e-8)
                _close_opt(m.kurtosis(), whole.kurtosis(), 1e-7, 1e-8)
                _close_opt(m.kurtosis(bias=False), whole.kurtosis(bias=False), 1e-7, 1e-8)


def test_merge_operators_do_not_alias():
    a = feed([1.0, 2.0, np.nan])
    b = feed([10.0, np.inf])
    c = a + b
    assert a.count == 2 and a.nonfinite == 1  # `+` leaves its operands alone
    assert b.count == 1 and b.nonfinite == 1
    assert c.count == 3 and c.nonfinite == 2
    assert c.mean() == pytest.approx(13.0 / 3.0)
    a += b
    assert a.count == 3 and a.nonfinite == 2 and a.mean() == c.mean()
    # Merging into an empty estimator keeps its own non-finite count.
    e = feed([np.nan, np.nan])
    e.merge(b)
    assert e.count == 1 and e.nonfinite == 3 and e.mean() == 10.0
    # Merging an empty one changes nothing but the non-finite count.
    before = (c.mean(), c.variance())
    c.merge(feed([np.nan]))
    assert (c.mean(), c.variance()) == before and c.nonfinite == 3


def test_many_way_merge_of_shards():
    rng = np.random.default_rng(11)
    x = rng.normal(5.0, 2.0, 100_000)
    total = Moments()
    for shard in np.array_split(x, 37):
        total += feed(shard)
    assert total.count == x.size
    assert total.mean() == pytest.approx(np.mean(x), rel=1e-13)
    assert total.variance() == pytest.approx(np.var(x, ddof=1), rel=1e-12)
    assert total.skewness() == pytest.approx(scipy.stats.skew(x), rel=1e-9, abs=1e-12)
    assert total.kurtosis() == pytest.approx(scipy.stats.kurtosis(x), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_large_offset_keeps_precision(seed):
    """1e9 + spread 1e-3: the variance of the float64 values themselves, relative 1e-9."""
    rng = np.random.default_rng(seed)
    x = 1e9 + rng.uniform(-1.0, 1.0, 20_000) * 1e-3
    m = feed(x)
    # Reference: NumPy's two-pass variance of the float64 values as stored (subtracting 1e9
    # is exact for these values, Sterbenz), so this is the variance of exactly our input.
    shifted = x - 1e9
    assert np.array_equal(shifted + 1e9, x)
    want0 = float(np.var(shifted))
    want1 = float(np.var(shifted, ddof=1))
    assert abs(m.variance(0) - want0) / want0 < 1e-9
    assert abs(m.variance() - want1) / want1 < 1e-9
    # The mean is near 1e9, so it is only representable to one ulp (1.2e-7): correctly rounded.
    assert abs(m.mean() - (1e9 + np.mean(shifted))) <= np.spacing(1e9)
    # Shards merged with the same offset keep it too.
    merged = Moments()
    for part in np.array_split(x, 7):
        merged.merge(feed(part))
    assert abs(merged.variance(0) - want0) / want0 < 1e-9
    # And the higher moments are still meaningful (uniform: skew 0, excess kurtosis -1.2).
    assert m.skewness() == pytest.approx(scipy.stats.skew(shifted), abs=1e-6)
    assert m.kurtosis() == pytest.approx(scipy.stats.kurtosis(shifted), abs=1e-6)


@pytest.mark.parametrize("value", [0.1, -3.7, 1e9 + 0.1, 1e-300, 0.0, 123456.789])
@pytest.mark.parametrize("n", [1, 2, 3, 1000])
def test_constant_input_has_exact_zero_variance(value, n):
    m = feed(np.full(n, value))
    assert m.mean() == value
    assert m.variance(0) == 0.0
    assert m.std(0) == 0.0
    if n >= 2:
        assert m.variance() == 0.0
        assert m.std() == 0.0
    # Zero variance: skewness and kurtosis are undefined (None), never 0 or NaN.
    assert m.skewness() is None and m.kurtosis() is None
    assert m.skewness(bias=False) is None and m.kurtosis(bias=False) is None
    # Merged constant shards are still exact.
    c = feed(np.full(n, value)) + feed(np.full(n, value))
    assert c.variance(0) == 0.0 and c.mean() == value


def test_nonfinite_counted_and_excluded():
    x = np.array([1.0, np.nan, 3.0, np.inf, -np.inf, 5.0, np.nan])
    m = feed(x)
    assert m.count == 3
    assert m.nonfinite == 4
    assert m.mean() == 3.0
    assert m.variance() == 4.0
    assert m.min() == 1.0 and m.max() == 5.0
    one = Moments()
    for v in x:
        one.update(v)
    assert one.count == 3 and one.nonfinite == 4 and one.variance() == 4.0


def test_empty_and_all_missing_give_none():
    for m in (Moments(), feed([]), feed([np.nan, np.inf, -np.inf])):
        assert m.count == 0
        for v in (
            m.mean(),
            m.variance(),
            m.variance(0),
            m.std(),
            m.std(0),
            m.skewness(),
            m.skewness(bias=False),
            m.kurtosis(),
            m.kurtosis(bias=False),
            m.min(),
            m.max(),
        ):
            assert v is None
    assert feed([np.nan, np.inf, -np.inf]).nonfinite == 3


def test_too_few_values_give_none_not_nan():
    one = feed([2.0])
    assert one.mean() == 2.0 and one.variance(0) == 0.0
    assert one.variance() is None and one.std() is None
    assert one.skewness() is None and one.kurtosis() is None
    two = feed([1.0, 2.0])
    assert two.skewness() == 0.0  # biased g1 needs 2 values
    assert two.kurtosis() == pytest.approx(-2.0)  # g2 of two points
    assert two.skewness(bias=False) is None  # G1 needs 3
    assert two.kurtosis(bias=False) is None  # G2 needs 4
    three = feed([1.0, 2.0, 4.0])
    assert three.skewness(bias=False) == pytest.approx(pd.Series([1.0, 2.0, 4.0]).skew())
    assert three.kurtosis(bias=False) is None


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=50), st.floats(-1e6, 1e6))
def test_shift_invariance_of_variance(values, shift):
    """Variance does not depend on the location (up to the rounding of the shifted input)."""
    x = np.array(values)
    y = x + shift
    a, b = feed(x), feed(y)
    scale = float(np.max(np.abs(np.concatenate([x, y])))) or 1.0
    # (+1e-300: variances of values below ~1e-154 are subnormal, with few significant bits.)
    atol = 1e-12 * scale**2 + 1e-300
    assert a.variance(0) == pytest.approx(np.var(x), rel=1e-9, abs=atol)
    assert b.variance(0) == pytest.approx(np.var(y), rel=1e-9, abs=atol)
