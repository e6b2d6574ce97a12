"""np.histogram2d/histogramdd, np.lexsort, np.interp(period=) under tracing
(tracer/np_stats.py, tracer/np_extra.py), and np.histogram's run-time
errors: NumPy's results, dtypes and errors on fresh random data."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace

from ._compare import assert_same, check
from tests.marks import INTERPRET_AND_SLOW_CPU

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- histogram2d / histogramdd -----------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(0, 60), bx=st.integers(1, 7), by=st.integers(1, 5),
       dtype=st.sampled_from(["float64", "float32", "int64"]), ranged=st.booleans(), density=st.booleans(),
       weighted=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_histogram2d(n, bx, by, dtype, ranged, density, weighted, seed):
    r = np.random.default_rng(seed)
    x, y = (r.standard_normal(n) * 3).astype(dtype), (r.standard_normal(n) * 2).astype(dtype)
    if n > 2:
        x[1], y[2] = x.max(), y.min()  # points on the outer edges: in the last and first bins
    rng_ = [[-2.0, 2.5], [-1, 1]] if ranged else None
    if weighted:
        check(lambda a, b, w: np.histogram2d(a, b, (bx, by), range=rng_, density=density, weights=w),
              x, y, r.random(n))
    else:
        check(lambda a, b: np.histogram2d(a, b, (bx, by), range=rng_, density=density), x, y)


def test_histogram2d_edges_and_one_bin_count(rng):
    x, y = rng.standard_normal(80), rng.standard_normal(80)
    x[[3, 9]] = np.nan  # NaN falls outside every bin, as in NumPy
    check(lambda a, b: np.histogram2d(a, b, bins=[np.array([-1.0, 0.0, 0.5, 2.0]), np.array([-3.0, 0.0, 3.0])]),
          x, y)
    check(lambda a, b: np.histogram2d(a, b, bins=np.array([-2.0, -0.5, 0.0, 1.0, 4.0])), x, y)
    check(lambda a, b: np.histogram2d(a, b, bins=3, range=[[-1, 1], [-1, 1]]), x, y)
    check(lambda a, b: np.histogram2d(a, b.astype(np.int32), bins=4), rng.standard_normal(30),
          rng.integers(-5, 5, 30))  # one dtype for both, as NumPy stacks them


def test_histogramdd_of_an_array_and_of_a_sequence(rng):
    s = rng.random((50, 3)).astype(np.float32)
    check(lambda a: np.histogramdd(a, bins=(2, 3, 4)), s)
    check(lambda a: np.histogramdd(a, bins=3, density=True), s)
    check(lambda a, b, c: np.histogramdd((a, b, c), bins=2, weights=a * b), *rng.standard_normal((3, 20)))


@pytest.mark.parametrize("backend", INTERPRET_AND_SLOW_CPU)
def test_histogram2d_in_a_loop_and_compiled(backend, rng):
    def per_frame(x, y):
        out = np.empty((x.shape[0], 4, 3))
        for t in range(x.shape[0]):
            out[t] = np.histogram2d(x[t], y[t], bins=(4, 3), range=[[-2, 2], [-2, 2]])[0]
        return out

    x, y = rng.standard_normal((5, 40)), rng.standard_normal((5, 40))
    assert_same(looptrace.jit(per_frame, backend=backend)(x, y), per_frame(x, y))
    g = lambda a, b, w: np.histogram2d(a, b, bins=5, weights=w, density=True)  # noqa: E731
    args = rng.standard_normal(300), rng.standard_normal(300), rng.random(300)
    assert_same(looptrace.jit(g, backend=backend)(*args), g(*args))


def test_histogram2d_errors(rng):
    x = rng.standard_normal(10)
    for bins, err in [((0, 3), ValueError), ((2.5, 3), TypeError), (np.array([1.0, 0.0, 2.0]), ValueError)]:
        with pytest.raises(err):
            np.histogram2d(x, x, bins=bins)
        with pytest.raises(err):
            looptrace.jit(lambda a, b: np.histogram2d(a, b, bins=bins), backend="interpret")(x, x)
    with pytest.raises(looptrace.UnsupportedError):
        looptrace.jit(lambda a, b, e: np.histogram2d(a, b, bins=[e, e]), backend="interpret")(x, x, np.sort(x))


# --- np.histogram: NumPy's errors on data, at run time ---------------------------------------------------------
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_histogram_of_non_finite_data_raises_as_numpy(backend, rng):
    def h(a):
        return np.histogram(a, bins=4)

    def h2(a, lo, hi):
        return np.histogram2d(a, a, bins=3, range=[(lo, hi), (lo, hi)])

    a = rng.standard_normal(10)
    assert_same(looptrace.jit(h, backend=backend)(a), h(a))
    for bad in (np.nan, np.inf):
        a[4] = bad
        with pytest.raises(ValueError, match="not finite"):
            h(a)
        with pytest.raises(ValueError, match="not finite"):
            looptrace.jit(h, backend=backend)(a)
    a[4] = 0.5
    for lo, hi, match in [(2.0, 1.0, "max must be larger"), (0.0, np.inf, "not finite")]:
        with pytest.raises(ValueError, match=match):
            h2(a, lo, hi)
        with pytest.raises(ValueError, match=match):
            looptrace.jit(h2, backend=backend)(a, lo, hi)


# --- np.lexsort ---------------------------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(1, 40), k=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_lexsort_of_keys_with_ties(n, k, seed):
    r = np.random.default_rng(seed)
    keys = tuple(r.integers(0, 3, n).astype(d) for d, _ in zip(["int64", "float64", "int32", "float32"], range(k)))
    check(lambda *ks: np.lexsort(ks), *keys)
    check(lambda m: np.lexsort(m), np.stack([x.astype(np.float64) for x in keys]))


def test_lexsort_along_an_axis_and_with_nan(rng):
    a, b = rng.integers(0, 3, (6, 5)), rng.integers(0, 3, (6, 5)).astype(float)
    b[1, 2] = b[4, 0] = np.nan
    check(lambda x, y: np.lexsort((x, y), axis=0), a, b)
    check(lambda x, y: np.lexsort((x, y)), a, b)
    with pytest.raises(ValueError):
        looptrace.jit(lambda x, y: np.lexsort((x, y)), backend="interpret")(a, b[:3])


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_lexsort_compiled(backend, rng):
    def order(last, first):
        return np.lexsort((first, last))

    x, y = rng.integers(0, 5, 300), rng.standard_normal(300)
    np.testing.assert_array_equal(looptrace.jit(order, backend=backend)(x, y), order(x, y))


# --- np.interp(period=) -----------------------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(1, 12), m=st.integers(0, 30), period=st.sampled_from([360, -2.5, 7.0]),
       seed=st.integers(0, 2**32 - 1))
def test_periodic_interp(n, m, period, seed):
    r = np.random.default_rng(seed)
    span = abs(period)
    xp, fp, x = r.uniform(-span, 2 * span, n), r.standard_normal(n), r.uniform(-2 * span, 3 * span, m)
    check(lambda a, b, c: np.interp(a, b, c, period=period), x, xp, fp, rtol=1e-12)
    check(lambda a, b, c: np.interp(a, b, c, left=5.0, right=6.0, period=period), x, xp, fp, rtol=1e-12)


# slow: np.interp is traced into sorts, a remainder and searches (tracer/np_numeric.py), whose cpu lowering
# tests/codegen/test_interp_sorted_s48.py compiles; test_periodic_interp_errors runs by default
@pytest.mark.slow
def test_periodic_interp_compiled(rng):
    f = lambda a, b, c: np.interp(a, b, c, period=2 * np.pi)  # noqa: E731
    args = rng.uniform(-10, 10, 200), rng.uniform(0, 2 * np.pi, 12), rng.standard_normal(12)
    np.testing.assert_allclose(looptrace.jit(f, backend="cpu")(*args), f(*args), rtol=1e-12)


def test_periodic_interp_errors(rng):
    x = rng.standard_normal(4)
    with pytest.raises(ValueError, match="non-zero"):
        looptrace.jit(lambda a: np.interp(a, a, a, period=0), backend="interpret")(x)
    with pytest.raises(ValueError, match="same length"):
        looptrace.jit(lambda a: np.interp(a, a, a[:2], period=1.0), backend="interpret")(x)
    with pytest.raises(looptrace.UnsupportedError, match="period"):
        looptrace.jit(lambda a, p: np.interp(a, a, a, period=p), backend="interpret")(x, 2.0)
