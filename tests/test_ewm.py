"""Exponentially weighted mean / variance against pandas ``ewm(adjust=False, ignore_na=True)``.

Tolerances: ``rtol=1e-10`` and an absolute part scaled by the data (``1e-12 * scale`` for the
mean, ``1e-10 * scale**2`` for the variance). pandas normalises its two weights at every
step while the library uses the algebraically equal recursion
``v = (1 - a) * (v + a * d**2)``; the two round differently in the last bits.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import (
    as_nan,
    assert_bitwise_equal,
    assert_close_nan,
    examples,
    finite_scale,
    float_arrays,
    missing_to_nan,
)
from rlforensics.stats import EWMoments, ewm_mean, ewm_var

alphas = st.one_of(
    st.sampled_from([1.0, 0.5, 0.1, 0.01, 1e-3]),
    st.floats(1e-4, 1.0, exclude_min=False),
)


def pandas_ewm(x, **spec):
    return pd.Series(missing_to_nan(x)).ewm(adjust=False, ignore_na=True, **spec)


def check_against_pandas(x, got_mean, got_var, **spec):
    e = pandas_ewm(x, **spec)
    scale = finite_scale(x)
    assert_close_nan(got_mean, e.mean().to_numpy(), rtol=1e-10, atol=1e-12 * scale, what="mean")
    assert_close_nan(
        got_var, e.var(bias=True).to_numpy(), rtol=1e-10, atol=1e-10 * scale**2, what="var"
    )


@settings(max_examples=examples(80))
@given(float_arrays(max_size=300), alphas)
def test_ewm_matches_pandas(x, alpha):
    check_against_pandas(x, ewm_mean(x, alpha), ewm_var(x, alpha), alpha=alpha)


@settings(max_examples=examples(40))
@given(
    float_arrays(max_size=200),
    st.sampled_from(["span", "com", "halflife"]),
    st.floats(0.0, 200.0),
)
def test_ewm_other_specs_match_pandas(x, name, value):
    # pandas' domains: span >= 1, com >= 0, halflife > 0.
    value = {"span": 1.0 + value, "com": value, "halflife": 0.05 + value}[name]
    spec = {name: value}
    check_against_pandas(x, ewm_mean(x, **spec), ewm_var(x, **spec), **spec)


@settings(max_examples=examples(40))
@given(float_arrays(max_size=200), alphas)
def test_streaming_equals_batch_bitwise(x, alpha):
    e = EWMoments(alpha)
    means, variances, stds = [], [], []
    for v in x:
        e.update(float(v))
        means.append(e.mean())
        variances.append(e.variance())
        stds.append(e.std())
    assert_bitwise_equal(as_nan(means), ewm_mean(x, alpha), "mean")
    assert_bitwise_equal(as_nan(variances), ewm_var(x, alpha), "var")
    assert_bitwise_equal(as_nan(stds), np.sqrt(ewm_var(x, alpha)), "std")
    finite = np.isfinite(x)
    assert e.count == int(finite.sum())
    assert e.nonfinite == int((~finite).sum())
    b = EWMoments(alpha=alpha)
    b.update_many(x[: len(x) // 3])
    b.update_many(x[len(x) // 3 :])
    assert (b.mean(), b.variance(), b.count, b.nonfinite) == (
        e.mean(),
        e.variance(),
        e.count,
        e.nonfinite,
    )


@pytest.mark.parametrize(
    "spec,alpha",
    [
        ({"span": 3.0}, 0.5),
        ({"span": 1.0}, 1.0),
        ({"span": 19.0}, 0.1),
        ({"com": 1.0}, 0.5),
        ({"com": 0.0}, 1.0),
        ({"com": 9.0}, 0.1),
        ({"halflife": 1.0}, 0.5),
        ({"halflife": 10.0}, 1.0 - math.exp(-math.log(2.0) / 10.0)),
        ({"alpha": 0.25}, 0.25),
    ],
)
def test_spec_resolves_to_alpha(spec, alpha):
    e = EWMoments(**spec)
    assert e.alpha == pytest.approx(alpha, rel=1e-15)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(300)
    x[::17] = np.nan
    # Same internal alpha (to the last bit) -> the same outputs, bit for bit.
    a = EWMoments(e.alpha).alpha
    assert a == e.alpha
    assert_bitwise_equal(ewm_mean(x, **spec), ewm_mean(x, a), str(spec))
    assert_bitwise_equal(ewm_var(x, **spec), ewm_var(x, alpha=a), str(spec))
    # And the same as pandas given the same spec.
    check_against_pandas(x, ewm_mean(x, **spec), ewm_var(x, **spec), **spec)


def test_equivalent_specs_agree():
    """alpha = 2/(span+1) = 1/(1+com) = 1 - exp(-ln2/halflife): the same smoother."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal(500) * 3.0 + 1.0
    span = 9.0
    alpha = 2.0 / (span + 1.0)  # 0.2
    com = 1.0 / alpha - 1.0  # 4
    halflife = -math.log(2.0) / math.log(1.0 - alpha)
    ref_m, ref_v = ewm_mean(x, alpha), ewm_var(x, alpha)
    for spec in ({"span": span}, {"com": com}, {"halflife": halflife}):
        np.testing.assert_allclose(ewm_mean(x, **spec), ref_m, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ewm_var(x, **spec), ref_v, rtol=1e-12, atol=1e-14)
        assert EWMoments(**spec).alpha == pytest.approx(alpha, rel=1e-14)


def test_known_values_and_missing():
    x = np.array([np.nan, 1.0, np.inf, 3.0, -np.inf])
    m = ewm_mean(x, 0.5)
    v = ewm_var(x, 0.5)
    np.testing.assert_array_equal(m, [np.nan, 1.0, 1.0, 2.0, 2.0])
    np.testing.assert_array_equal(v, [np.nan, 0.0, 0.0, 1.0, 1.0])
    e = EWMoments(0.5)
    assert e.mean() is None and e.variance() is None and e.std() is None
    e.update(np.nan)
    assert e.mean() is None and e.nonfinite == 1 and e.count == 0
    e.update_many(x)
    assert e.mean() == 2.0 and e.variance() == 1.0 and e.std() == 1.0
    assert e.count == 2 and e.nonfinite == 4


def test_alpha_one_tracks_last_value():
    x = np.array([3.0, -1.0, np.nan, 7.5, 2.0])
    np.testing.assert_array_equal(ewm_mean(x, 1.0), [3.0, -1.0, -1.0, 7.5, 2.0])
    np.testing.assert_array_equal(ewm_var(x, 1.0), np.zeros(5))


@pytest.mark.parametrize("value", [0.1, 1e9 + 0.3, -2.5])
def test_constant_input_is_exact(value):
    x = np.full(1000, value)
    assert np.all(ewm_mean(x, 0.07) == value)
    assert np.all(ewm_var(x, 0.07) == 0.0)


def test_empty_input():
    assert ewm_mean(np.array([]), 0.5).shape == (0,)
    assert ewm_var([], span=3).shape == (0,)


BAD_SPECS = [
    {},
    {"alpha": 0.5, "span": 3.0},
    {"span": 3.0, "com": 1.0},
    {"alpha": 0.5, "halflife": 2.0},
    {"alpha": 0.1, "span": 2.0, "halflife": 1.0, "com": 1.0},
    {"alpha": 0.0},
    {"alpha": -0.1},
    {"alpha": 1.0000001},
    {"alpha": float("nan")},
    {"alpha": float("inf")},
    {"span": 0.5},
    {"span": -3.0},
    {"span": float("nan")},
    {"span": float("inf")},
    {"com": -0.5},
    {"com": float("nan")},
    {"com": float("inf")},
    {"halflife": 0.0},
    {"halflife": -1.0},
    {"halflife": float("nan")},
    {"halflife": float("inf")},
]


@pytest.mark.parametrize("spec", BAD_SPECS, ids=[repr(s) for s in BAD_SPECS])
def test_invalid_specs_raise_value_error(spec):
    x = np.arange(5.0)
    for make in (
        lambda: EWMoments(**spec),
        lambda: ewm_mean(x, **spec),
        lambda: ewm_var(x, **spec),
    ):
        with pytest.raises(ValueError) as info:
            make()
        msg = str(info.value)
        if len(spec) == 1:
            (name,) = spec
            assert name in msg, msg  # the message names the offending parameter
        else:
            assert "exactly one" in msg, msg
