"""Helpers shared by the test modules (strategies, NaN-aware comparisons, references)."""

from __future__ import annotations

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

_CI_EXAMPLES = 50  # max_examples of the "ci" profile (conftest.py)


def examples(n: int) -> int:
    """``n`` examples under the ``ci`` profile, scaled down under smaller profiles."""
    return max(3, round(n * settings.default.max_examples / _CI_EXAMPLES))


def load_bench(name: str):
    """The module ``benches/<name>.py`` (benches are scripts, not a package)."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benches" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def as_nan(values) -> np.ndarray:
    """Getter results (floats or None) as a float64 array with NaN for None."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def assert_bitwise_equal(a, b, what: str = "") -> None:
    """Same NaN positions and identical bit patterns everywhere else (so -0.0 != 0.0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    na, nb = np.isnan(a), np.isnan(b)
    bad = np.flatnonzero(na != nb)
    assert bad.size == 0, f"{what}: NaN mismatch at {bad[:10]}: {a[bad[:10]]} vs {b[bad[:10]]}"
    ok = ~na
    diff = np.flatnonzero(a[ok].view(np.uint64) != b[ok].view(np.uint64))
    if diff.size:
        idx = np.flatnonzero(ok)[diff[:10]]
        raise AssertionError(f"{what}: bits differ at {idx}: {a[idx]!r} vs {b[idx]!r}")


def assert_close_nan(got, want, *, rtol: float, atol: float, what: str = "") -> None:
    """NaN positions must agree; elsewhere |got - want| <= atol + rtol * |want|."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    ng, nw = np.isnan(got), np.isnan(want)
    bad = np.flatnonzero(ng != nw)
    assert bad.size == 0, (
        f"{what}: NaN mismatch at {bad[:10]}: got {got[bad[:10]]} want {want[bad[:10]]}"
    )
    ok = ~nw
    err = np.abs(got[ok] - want[ok])
    lim = atol + rtol * np.abs(want[ok])
    worst = np.flatnonzero(err > lim)
    if worst.size:
        idx = np.flatnonzero(ok)[worst[:10]]
        raise AssertionError(
            f"{what}: {worst.size} values out of tolerance (rtol={rtol}, atol={atol}) at "
            f"{idx}: got {got[idx]!r} want {want[idx]!r}"
        )


def missing_to_nan(x) -> np.ndarray:
    """Our library treats ±inf like NaN; pandas treats inf as a value. Reference input."""
    x = np.array(x, dtype=np.float64, copy=True)
    x[~np.isfinite(x)] = np.nan
    return x


def finite_scale(x) -> float:
    """Largest finite magnitude in ``x`` (1.0 if none), to scale absolute tolerances."""
    x = np.asarray(x, dtype=np.float64)
    f = np.abs(x[np.isfinite(x)])
    return float(f.max()) if f.size and f.max() > 0 else 1.0


@st.composite
def float_arrays(
    draw,
    min_size: int = 0,
    max_size: int = 200,
    missing: bool = True,
    magnitudes=(1e-3, 1.0, 1e3),
):
    """1-D float64 arrays that exercise the estimators without being pathological.

    Values are either smooth (uniform on [-1, 1]) or integer-valued (ties, constant runs),
    times one magnitude, plus an optional offset; NaN and ±inf are sprinkled in when
    ``missing``.
    """
    n = draw(st.integers(min_size, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["uniform", "integers", "normal"]))
    scale = draw(st.sampled_from(magnitudes))
    if kind == "uniform":
        x = rng.uniform(-1.0, 1.0, n)
    elif kind == "integers":
        x = rng.integers(-3, 4, n).astype(np.float64)
    else:
        x = rng.standard_normal(n)
    offset = draw(st.sampled_from([0.0, 0.0, 5.0, -100.0]))
    x = (x + offset) * scale
    if missing and n:
        frac = draw(st.sampled_from([0.0, 0.05, 0.2, 0.6]))
        holes = rng.random(n) < frac
        x[holes] = rng.choice([np.nan, np.inf, -np.inf], size=int(holes.sum()), p=[0.8, 0.1, 0.1])
    return x
