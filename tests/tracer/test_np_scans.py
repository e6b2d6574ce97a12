"""ufunc.accumulate of the running ufuncs (tracer/np_scans.py): np.maximum,
minimum, fmax, fmin, logical_and and logical_or, as NumPy computes them
(NaNs carried or skipped, dtypes), captured as one scan whatever the length."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace

UFUNCS = ["maximum", "minimum", "fmax", "fmin", "logical_and", "logical_or"]


def _exact(got, want):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


def drawdown(prices):
    peak = np.maximum.accumulate(prices)
    return (prices - peak) / peak, np.minimum.accumulate(prices)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_drawdown(backend, rng):
    prices = np.cumprod(1.0 + 0.01 * rng.standard_normal(5000))
    f = looptrace.jit(drawdown, backend=backend)
    _exact(f(prices), drawdown(prices))
    kinds = [l.kind for l in looptrace.explain(f, prices).loops]
    assert kinds == ["scan"]  # one loop statement (np_scans.py `_running`), traced once per call


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(UFUNCS), shape=st.lists(st.integers(1, 6), min_size=1, max_size=3),
       kind=st.sampled_from(["f8", "f4", "i8", "b"]), nans=st.booleans(), seed=st.integers(0, 2**31 - 1),
       data=st.data())
def test_generated_arrays_match_numpy(name, shape, kind, nans, seed, data):
    r = np.random.default_rng(seed)
    x = (r.standard_normal(shape) * 3).astype(kind) if kind != "b" else r.random(shape) > 0.5
    if nans and kind[0] == "f":
        x[r.random(shape) < 0.2] = np.nan
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    ufunc = getattr(np, name)

    def fn(a):
        return ufunc.accumulate(a, axis=axis)

    _exact(looptrace.jit(fn, backend="interpret")(x), fn(x))


def test_dtype_and_errors(rng):
    x = rng.integers(-5, 5, 7)
    _exact(looptrace.jit(lambda a: np.maximum.accumulate(a, dtype=np.float32), backend="interpret")(x),
           np.maximum.accumulate(x, dtype=np.float32))
    with pytest.raises(looptrace.UnsupportedError, match="axis=None"):
        looptrace.jit(lambda a: np.maximum.accumulate(a, axis=None), backend="interpret")(x)
    with pytest.raises(looptrace.UnsupportedError, match="accumulate"):
        looptrace.jit(lambda a: np.subtract.accumulate(a), backend="interpret")(x)
