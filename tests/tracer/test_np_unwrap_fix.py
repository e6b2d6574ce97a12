"""np.unwrap and np.fix under tracing (tracer/np_extra.py): NumPy's results
and dtypes on fresh random phases, along either axis, with period and
discont, for floats and ints; lengths 0 and 1 included."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace


def _close(got, want, rtol):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=0)


def phases(p):
    return np.unwrap(p), np.unwrap(p, discont=4.0), np.unwrap(p * 2.0, period=4.0)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_phases_along_the_last_axis(backend, rng):
    p = np.cumsum(rng.uniform(-1.0, 4.0, 300)) % (2 * np.pi)
    _close(looptrace.jit(phases, backend=backend)(p), phases(p), 1e-12)
    q = np.array([0.0, np.pi, 0.0, -np.pi, np.pi, 2 * np.pi])  # jumps of exactly half a period
    _close(looptrace.jit(phases, backend=backend)(q), phases(q), 1e-12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.lists(st.integers(0, 6), min_size=1, max_size=3), dtype=st.sampled_from(["f8", "f4", "i8"]),
       seed=st.integers(0, 2**31 - 1), data=st.data())
def test_generated(shape, dtype, seed, data):
    r = np.random.default_rng(seed)
    p = (r.uniform(-10, 10, shape)).astype(dtype)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    period = data.draw(st.sampled_from([2 * np.pi, 6, 5, 1.5]))

    def fn(a):
        return np.unwrap(a, axis=axis, period=period), np.fix(a * 1.5)

    _close(looptrace.jit(fn, backend="interpret")(p), fn(p), 1e-5 if dtype == "f4" else 1e-12)


def test_fix_dtypes(rng):
    x = rng.standard_normal(9) * 5
    fn = lambda a: (np.fix(a), np.fix(a.astype(np.int32)), np.fix(a.astype(np.float32)))  # noqa: E731
    _close(looptrace.jit(fn, backend="interpret")(x), fn(x), 0)
    with pytest.raises(looptrace.UnsupportedError, match="traced period"):
        looptrace.jit(lambda a, t: np.unwrap(a, period=t), backend="interpret")(x, 3.0)
