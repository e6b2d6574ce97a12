"""Statistics of tracer/np_stats.py against NumPy: np.average, var/std with
ddof, median, percentile/quantile (static and traced q, NumPy's methods) and
the np.nan* reductions; values, dtypes, axis/keepdims, NaN propagation and
gradients against central finite differences (interpret backend).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

from ._compare import check

SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)


def sample(rng, shape, dtype="float64", nans=False):
    dtype = np.dtype(dtype)
    x = rng.integers(-5, 6, shape).astype(dtype) if dtype.kind in "iub" else rng.standard_normal(shape).astype(dtype)
    if nans and dtype.kind == "f" and x.size:
        x.flat[rng.integers(0, x.size, max(1, x.size // 3))] = np.nan
    return x


def axes_of(data, ndim):
    return data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                               st.sets(st.integers(0, ndim - 1), min_size=1).map(tuple)))


# NumPy warns on all-NaN lanes and empty means; looptrace computes silently
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# --- average, var, std --------------------------------------------------------------------------------
@SETTINGS
@given(data=st.data(), shape=shapes, dtype=st.sampled_from(["float64", "float32", "int64", "bool"]),
       seed=st.integers(0, 2**32 - 1))
def test_average(data, shape, dtype, seed):
    r = np.random.default_rng(seed)
    x = sample(r, shape, dtype)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keep = data.draw(st.booleans())
    check(lambda a: np.average(a, axis=axis, keepdims=keep), x, rtol=1e-5 if dtype == "float32" else None)
    w = r.uniform(0.5, 2, shape)
    check(lambda a, b: np.average(a, axis=axis, weights=b, returned=True), x, w,
          rtol=1e-5 if dtype == "float32" else None)
    if axis is not None:
        w1 = r.uniform(0.5, 2, shape[axis])
        check(lambda a, b: np.average(a, axis=axis, weights=b, keepdims=keep), x, w1,
              rtol=1e-5 if dtype == "float32" else None)


@SETTINGS
@given(data=st.data(), shape=shapes, ddof=st.integers(0, 2), seed=st.integers(0, 2**32 - 1))
def test_var_std_ddof(data, shape, ddof, seed):
    x = sample(np.random.default_rng(seed), shape)
    axis = axes_of(data, len(shape))
    keep = data.draw(st.booleans())
    check(lambda a: (np.var(a, axis=axis, ddof=ddof, keepdims=keep), a.std(axis, ddof=ddof),
                           a.var(ddof=ddof), np.std(a.astype(np.float32), axis=axis, ddof=ddof)), x, rtol=1e-5)


# --- order statistics --------------------------------------------------------------------------------------
@SETTINGS
@given(data=st.data(), shape=shapes, dtype=st.sampled_from(["float64", "float32", "int32"]),
       nans=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_median(data, shape, dtype, nans, seed):
    x = sample(np.random.default_rng(seed), shape, dtype, nans)
    axis = axes_of(data, len(shape))
    keep = data.draw(st.booleans())
    check(lambda a: np.median(a, axis=axis, keepdims=keep), x)


METHODS = ["linear", "lower", "higher", "midpoint", "nearest", "hazen", "weibull", "median_unbiased",
           "inverted_cdf", "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf"]


@SETTINGS
@given(data=st.data(), shape=shapes, dtype=st.sampled_from(["float64", "float32", "int64"]),
       method=st.sampled_from(METHODS), nans=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_percentile_and_quantile(data, shape, dtype, method, nans, seed):
    # (float32 only without NaN: NumPy returns a NaN lane's float32 NaN as is when the result is 0-d,
    # a float64 otherwise; looptrace gives the formula's float64 in both cases)
    x = sample(np.random.default_rng(seed), shape, dtype, nans and dtype != "float32")
    axis = axes_of(data, len(shape))
    keep = data.draw(st.booleans())
    q = data.draw(st.one_of(st.floats(0, 100), st.lists(st.floats(0, 100), min_size=1, max_size=3)))
    check(lambda a: np.percentile(a, q, axis=axis, method=method, keepdims=keep), x)
    qs = np.asarray(q) / 100
    check(lambda a: np.quantile(a, qs, axis=axis, method=method), x)


def test_quantile_with_a_traced_q(rng):
    x = rng.standard_normal((4, 9))
    check(lambda a, q: (np.quantile(a, q, axis=1), np.percentile(a, q * 100)), x, 0.37)
    check(lambda a, q: np.quantile(a, q, axis=0, keepdims=True), x, np.array([0.1, 0.5, 1.0]))
    with pytest.raises(looptrace.UnsupportedError, match="method='linear'"):
        looptrace.jit(lambda a, q: np.quantile(a, q, method="lower"), backend="interpret")(x, 0.3)


def test_percentile_out_of_range_is_a_value_error(rng):
    with pytest.raises(ValueError, match="range"):
        looptrace.jit(lambda a: np.percentile(a, 120), backend="interpret")(rng.standard_normal(4))


# --- nan reductions -------------------------------------------------------------------------------------------
@SETTINGS
@given(data=st.data(), shape=shapes, dtype=st.sampled_from(["float64", "float32", "int64"]),
       seed=st.integers(0, 2**32 - 1))
def test_nan_reductions(data, shape, dtype, seed):
    x = sample(np.random.default_rng(seed), shape, dtype, nans=True)
    axis = axes_of(data, len(shape))
    keep = data.draw(st.booleans())
    rtol = 1e-4 if dtype == "float32" else None
    check(lambda a: (np.nansum(a, axis=axis, keepdims=keep), np.nanprod(a, axis=axis),
                           np.nanmax(a, axis=axis, keepdims=keep), np.nanmin(a, axis=axis),
                           np.nanmean(a, axis=axis, keepdims=keep)), x, rtol=rtol)
    ddof = data.draw(st.integers(0, 2))
    check(lambda a: (np.nanvar(a, axis=axis, ddof=ddof), np.nanstd(a, axis=axis, keepdims=keep)), x,
          rtol=rtol)
    check(lambda a: (np.nanmedian(a, axis=axis, keepdims=keep), np.nanquantile(a, 0.5, axis=axis),
                     np.nanpercentile(a, 70, axis=axis, keepdims=keep)), x, rtol=rtol)
    if dtype != "float32":  # NumPy: float32 for an all-NaN 1-d lane with an array q, float64 otherwise
        check(lambda a: np.nanpercentile(a, [20, 90], axis=axis), x)


def test_nanargmax_and_nanargmin(rng):
    x = rng.standard_normal((4, 5))
    x[0, 1] = x[2, 3] = np.nan
    check(lambda a: (np.nanargmax(a), np.nanargmin(a, axis=1), np.nanargmax(a, axis=0, keepdims=True)), x)


def test_nan_reductions_with_initial_and_where(rng):
    x = rng.standard_normal((3, 4))
    x[1, 1] = np.nan
    m = rng.random((3, 4)) > 0.3
    check(lambda a, w: (np.nansum(a, where=w), np.nanmax(a, axis=1, initial=-5.0, where=w),
                        np.nanmean(a, axis=0, where=w)), x, m)


# --- gradients -----------------------------------------------------------------------------------------------
def _grad_check(fn, args, argnum, rng):
    jitted = looptrace.jit(fn, backend="interpret")
    g = rng.standard_normal(np.shape(fn(*args)))
    got = looptrace.grad(lambda *xs: (g * jitted(*xs)).sum(), argnums=argnum, backend="interpret")(*args)
    want = numerical_grad(lambda *xs: float(np.sum(g * fn(*xs))), list(args), argnum)
    assert_close(got, want, 1e-5, fn.__name__)


def g_stats(x, w):
    return np.stack([np.average(x, axis=1, weights=w), np.var(x, axis=1, ddof=1), np.std(x, axis=1, ddof=2),
                     np.median(x, axis=1), np.percentile(x, 30, axis=1), np.quantile(x, 0.9, axis=1)])


def g_nan(x):
    y = np.where(x > 1.2, np.nan, x)
    return np.stack([np.nansum(y, 0), np.nanmean(y, 0), np.nanvar(y, 0, ddof=1), np.nanmax(y, 0),
                     np.nanmedian(y, 0)])


@pytest.mark.parametrize("fn, make, argnum", [
    (g_stats, lambda r: (r.permutation(20).reshape(4, 5) + r.random((4, 5)) * 0.5, r.uniform(0.5, 2, 5)), 0),
    (g_stats, lambda r: (r.permutation(20).reshape(4, 5) + r.random((4, 5)) * 0.5, r.uniform(0.5, 2, 5)), 1),
    (g_nan, lambda r: (r.permutation(12).reshape(4, 3) * 0.2 + r.random((4, 3)) * 0.05,), 0),
], ids=lambda v: getattr(v, "__name__", ""))
def test_gradients_match_finite_differences(fn, make, argnum, rng):
    _grad_check(fn, make(rng), argnum, rng)


# --- histograms ----------------------------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(0, 40), bins=st.integers(1, 12), dtype=st.sampled_from(["float64", "float32", "int64"]),
       ranged=st.booleans(), density=st.booleans(), weighted=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_histogram(n, bins, dtype, ranged, density, weighted, seed):
    r = np.random.default_rng(seed)
    x = (r.standard_normal(n) * 3).astype(dtype)
    rng_ = (-2.0, 2.5) if ranged else None
    if weighted:
        check(lambda a, w: np.histogram(a, bins, range=rng_, density=density, weights=w), x, r.random(n))
    else:
        check(lambda a: np.histogram(a, bins, range=rng_, density=density), x)


_EDGE_CASES = [(7, -2.0, 2.5), (32, -4.0, 4.0), (3, 0.1, 0.7), (1, -1.0, 1.0)]


# cpu: slow for the edges that are exact binary fractions ((32, -4, 4), (1, -1, 1)): the same kernel with other
# constants, two compiles each (1.6 s of the suite); (7, -2, 2.5) and (3, 0.1, 0.7) keep the inexact steps on cpu
@pytest.mark.parametrize("bins, lo, hi, backend", [
    pytest.param(*case, backend, marks=pytest.mark.slow if backend == "cpu" and k in (1, 3) else ())
    for backend in ("interpret", "cpu") for k, case in enumerate(_EDGE_CASES)])
def test_histogram_at_the_edges_and_one_ulp_beside_them(backend, bins, lo, hi):
    """Values on every edge and one ulp either side, out of range, NaN and
    infinities: each counted in NumPy's bin (the index steps of np_stats'
    histogram are written so that no bounds check is needed; a wrong step
    would miscount exactly here)."""
    edges = np.linspace(lo, hi, bins + 1)
    x = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf),
                        [np.nan, np.inf, -np.inf, lo - 1.0, hi + 1.0],
                        np.random.default_rng(bins).uniform(lo - 0.5, hi + 0.5, 50)])
    f = looptrace.jit(lambda a: np.histogram(a, bins, range=(lo, hi)), backend=backend)
    got, want = f(x), np.histogram(x, bins, range=(lo, hi))
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    got32 = f(x.astype(np.float32))
    np.testing.assert_array_equal(got32[0], np.histogram(x.astype(np.float32), bins, range=(lo, hi))[0])
    if backend == "cpu":  # the ranges show every index in bounds: no check left in the kernel
        assert "check_elem" not in f.explain(x).kernel_source


def test_histogram_of_a_constant_range_and_edges(rng):
    check(lambda a: np.histogram(a * 0 + 1.5, 4), rng.standard_normal(6))  # all equal: widened by 0.5
    check(lambda a: np.histogram(a, bins=np.array([0.0, 1.0, 3.0])), rng.standard_normal(5))  # tracer/np_numeric.py
    with pytest.raises(looptrace.UnsupportedError, match="integer number of bins"):
        looptrace.jit(lambda a: np.histogram(a, bins="auto"), backend="interpret")(rng.standard_normal(5))


def ring_histograms(data, radius, npt):
    """npbench's azimint_hist: the number of bins is an int argument."""
    return np.histogram(radius, npt)[0], np.histogram(radius, npt, weights=data)[0]


def test_histogram_bins_from_an_int_argument_are_specialized(rng):
    data, radius = rng.random(200), rng.random(200)
    f = looptrace.jit(ring_histograms, backend="interpret")
    for npt in (10, 7, 10):
        for got, want in zip(f(data, radius, npt), ring_histograms(data, radius, npt)):
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-12)
    assert set(f._auto_static) == {"npt"} and len(f._cache) == 2


@SETTINGS
@given(rows=st.integers(1, 4), cols=st.integers(2, 6), rowvar=st.booleans(), bias=st.booleans(),
       dtype=st.sampled_from(["float64", "float32", "int64"]), seed=st.integers(0, 2**32 - 1))
def test_cov_and_corrcoef(rows, cols, rowvar, bias, dtype, seed):
    r = np.random.default_rng(seed)
    m = (r.standard_normal((rows, cols)) * 3).astype(dtype)
    check(lambda a: (np.cov(a, rowvar=rowvar, bias=bias), np.cov(a[0], a[-1]), np.cov(a, ddof=0)), m)
    if dtype != "int64":
        check(lambda a: np.corrcoef(a, rowvar=rowvar), m + r.standard_normal(m.shape).astype(dtype))


def g_cov(m):
    return np.cov(m) ** 2 + np.corrcoef(m.T)[:3, :3]


def test_cov_gradient(rng):
    _grad_check(g_cov, (rng.standard_normal((3, 5)),), 0, rng)


def test_cov_with_weights(rng):
    """(tracer/np_numeric.py; they were refused)"""
    check(lambda a, w: np.cov(a, aweights=w), rng.standard_normal((2, 4)), rng.random(4))


# --- NumPy's errors on data, at run time (tracer/checks.py) -----------------------------------------------------
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_errors_numpy_raises_on_data(backend, rng):
    def weighted(a, w):
        return np.average(a, axis=0, weights=w)

    def nan_positions(a):
        return np.nanargmax(a, axis=1), np.nanargmin(a)

    a = rng.standard_normal((4, 3))
    w = rng.random(4)
    b = a.copy()
    b[1, 2] = np.nan
    np.testing.assert_allclose(looptrace.jit(weighted, backend=backend)(a, w), weighted(a, w), rtol=1e-12)
    for got, want in zip(looptrace.jit(nan_positions, backend=backend)(b), nan_positions(b)):
        np.testing.assert_array_equal(got, want)
    w[:] = [1.0, -1.0, 0.5, -0.5]
    b[2] = np.nan
    for fn, args, err in [(weighted, (a, w), ZeroDivisionError), (nan_positions, (b,), ValueError)]:
        with pytest.raises(err) as plain:
            fn(*args)
        with pytest.raises(err, match=str(plain.value)):
            looptrace.jit(fn, backend=backend)(*args)
