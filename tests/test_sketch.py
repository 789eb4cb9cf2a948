"""``QuantileSketch``: exact below k, a guaranteed rank-error bound above, mergeable.

Rank error of a returned value v for a query q over n values: the distance from ``q * n`` to
the interval ``[#{x < v}, #{x <= v}]`` (so ties are not counted against the sketch), as a
fraction of n. The library promises it is at most ``rank_error_bound()``.
"""

from __future__ import annotations

import math
import zlib
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import examples, float_arrays
from rlforensics.stats import QuantileSketch

QS = np.arange(1, 100) / 100.0


def rank_errors(sketch: QuantileSketch, sorted_x: np.ndarray, qs=QS) -> np.ndarray:
    n = sorted_x.size
    out = []
    for q in qs:
        v = sketch.quantile(float(q))
        lo = np.searchsorted(sorted_x, v, side="left")
        hi = np.searchsorted(sorted_x, v, side="right")
        t = q * n
        out.append(max(0.0, lo - t, t - hi) / n)
    return np.array(out)


def feed(values, k=None) -> QuantileSketch:
    s = QuantileSketch() if k is None else QuantileSketch(k)
    s.update_many(np.asarray(values, dtype=np.float64))
    return s


def test_default_k_and_empty():
    s = QuantileSketch()
    assert s.k == 2048
    assert s.count == 0 and s.nonfinite == 0 and s.retained == 0
    assert s.quantile(0.5) is None
    assert s.cdf(0.0) is None
    assert s.min() is None and s.max() is None
    assert s.rank_error_bound() == 0.0


@settings(max_examples=examples(60))
@given(st.sampled_from([8, 16, 64, 256]), st.data())
def test_exact_below_k(k, data):
    x = data.draw(float_arrays(min_size=1, max_size=k - 1))
    s = feed(x, k)
    f = x[np.isfinite(x)]
    assert s.count == f.size and s.nonfinite == x.size - f.size
    if f.size == 0:
        assert s.quantile(0.5) is None
        return
    assert s.rank_error_bound() == 0.0
    assert s.min() == f.min() and s.max() == f.max()
    sorted_f = np.sort(f)
    for q in [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0, data.draw(st.floats(0.0, 1.0))]:
        got = s.quantile(q)
        want = float(np.quantile(f, q))
        h = (f.size - 1) * q
        if h == math.floor(h):
            assert got == want  # an order statistic: exact
        else:
            # Linear interpolation; NumPy's lerp rounds differently in the last bit.
            assert got == pytest.approx(want, rel=4e-16, abs=4e-16 * np.abs(f).max())
        assert sorted_f[0] <= got <= sorted_f[-1]
    # cdf is exact too: the fraction of values <= x.
    for v in (sorted_f[0], sorted_f[len(f) // 2], sorted_f[-1] + 1.0, sorted_f[0] - 1.0):
        assert s.cdf(float(v)) == np.count_nonzero(f <= v) / f.size


@pytest.mark.parametrize("k", [8, 16, 256])
def test_exact_at_exactly_k_values(k):
    """The contract: exact (NumPy "linear") until the first compaction, i.e. while n <= k
    (core docs: "Until the first compaction (n <= k) quantiles are exact")."""
    x = np.random.default_rng(k).standard_normal(k)
    s = feed(x, k)
    assert s.count == k
    assert s.rank_error_bound() == 0.0, "compacted already at n == k"
    assert s.quantile(0.5) == pytest.approx(np.quantile(x, 0.5), rel=1e-15)
    assert s.quantile(0.37) == pytest.approx(np.quantile(x, 0.37), rel=1e-15)


@pytest.mark.parametrize("k", [256, None])
@pytest.mark.parametrize("dist", ["normal_cubed", "lognormal", "sorted", "reversed", "ties"])
def test_rank_error_within_bound_large_input(k, dist):
    n = 200_000
    rng = np.random.default_rng(zlib.crc32(f"{k}-{dist}".encode()))
    x = {
        "normal_cubed": lambda: rng.standard_normal(n) ** 3,
        "lognormal": lambda: rng.lognormal(0.0, 3.0, n),
        "sorted": lambda: np.arange(n, dtype=np.float64),
        "reversed": lambda: np.arange(n, dtype=np.float64)[::-1].copy(),
        "ties": lambda: rng.integers(0, 10, n).astype(np.float64),
    }[dist]()
    s = feed(x, k)
    kk = s.k
    assert s.count == n
    bound = s.rank_error_bound()
    assert 0.0 < bound < (0.05 if kk == 256 else 0.005)
    errors = rank_errors(s, np.sort(x))
    assert errors.max() <= bound, (errors.max(), bound)
    assert s.min() == x.min() and s.max() == x.max()
    assert s.quantile(0.0) == x.min() and s.quantile(1.0) == x.max()
    # Retained memory: at most about k * (log2(n / k) + 2) values.
    assert s.retained <= kk * (math.log2(n / kk) + 2)
    # cdf estimates are within the bound as well.
    sx = np.sort(x)
    for v in np.quantile(x, [0.05, 0.3, 0.5, 0.8, 0.99]):
        true = np.searchsorted(sx, v, side="right") / n
        assert abs(s.cdf(float(v)) - true) <= bound


def test_quantiles_are_monotone_in_q():
    x = np.random.default_rng(3).standard_normal(100_000)
    s = feed(x, 64)
    qs = np.linspace(0.0, 1.0, 501)
    vals = np.array([s.quantile(float(q)) for q in qs])
    assert np.all(np.diff(vals) >= 0.0)


@pytest.mark.parametrize("k", [64, 256])
@pytest.mark.parametrize("layout", ["sequential", "tree", "uneven"])
def test_merged_shards_honour_bound_and_counts(k, layout):
    n = 200_000
    rng = np.random.default_rng(k)
    x = rng.standard_normal(n) * rng.choice([1.0, 10.0], n)
    x[rng.random(n) < 0.01] = np.nan
    finite = x[np.isfinite(x)]
    if layout == "uneven":
        cuts = np.sort(rng.choice(np.arange(1, n), 40, replace=False))
        shards = np.split(x, cuts)
    else:
        shards = np.array_split(x, 64)
    sketches = [feed(part, k) for part in shards]
    if layout == "tree":
        while len(sketches) > 1:
            sketches = [
                sketches[i] + sketches[i + 1] if i + 1 < len(sketches) else sketches[i]
                for i in range(0, len(sketches), 2)
            ]
        merged = sketches[0]
    else:
        merged = QuantileSketch(k)
        for s in sketches:
            merged.merge(s)
    assert merged.count == finite.size
    assert merged.nonfinite == n - finite.size
    assert merged.min() == finite.min() and merged.max() == finite.max()
    bound = merged.rank_error_bound()
    errors = rank_errors(merged, np.sort(finite))
    assert errors.max() <= bound, (errors.max(), bound)
    assert merged.retained <= k * (math.log2(finite.size / k) + 2)


def test_merge_of_small_sketches_stays_exact_while_small():
    rng = np.random.default_rng(5)
    parts = [rng.standard_normal(10) for _ in range(5)]
    merged = QuantileSketch(64)
    for p in parts:
        merged += feed(p, 64)
    x = np.concatenate(parts)
    assert merged.count == 50 and merged.rank_error_bound() == 0.0
    assert merged.quantile(0.5) == pytest.approx(np.quantile(x, 0.5), rel=1e-15)


def test_merge_operators_and_k_mismatch():
    a = feed(np.arange(100.0), 16)
    b = feed(np.arange(100.0, 150.0), 16)
    c = a + b
    assert a.count == 100 and b.count == 50 and c.count == 150
    a += b
    assert a.count == 150
    with pytest.raises(ValueError, match="k"):
        a.merge(QuantileSketch(32))
    with pytest.raises(ValueError, match="k"):
        _ = a + QuantileSketch(32)
    with pytest.raises(ValueError, match="k"):
        a += QuantileSketch(32)
    assert a.count == 150  # a failed merge leaves the sketch alone


def test_nonfinite_counted_and_skipped():
    s = feed([1.0, np.nan, np.inf, -np.inf, 2.0, 3.0], 8)
    assert s.count == 3 and s.nonfinite == 3
    assert s.quantile(0.5) == 2.0
    assert s.cdf(np.nan) is None


@pytest.mark.parametrize("q", [-0.01, 1.01, float("nan"), float("inf")])
def test_bad_quantile_raises(q):
    s = feed([1.0, 2.0], 8)
    with pytest.raises(ValueError, match="q"):
        s.quantile(q)


def test_pickle_and_continue():
    rng = np.random.default_rng(7)
    x = rng.standard_normal(50_000)
    s = feed(x[:30_000], 128)
    t = pickle.loads(pickle.dumps(s))
    assert t.k == 128 and t.count == s.count and t.retained == s.retained
    assert t.rank_error_bound() == s.rank_error_bound()
    s.update_many(x[30_000:])
    t.update_many(x[30_000:])
    for q in QS:
        assert t.quantile(float(q)) == s.quantile(float(q))
    u = QuantileSketch.from_bytes(s.to_bytes())
    assert [u.quantile(float(q)) for q in QS] == [s.quantile(float(q)) for q in QS]
