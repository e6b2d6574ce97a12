"""The NumPy array functions of tracer/np_arrays.py against NumPy itself:
values, dtypes and shapes (interpret backend, hypothesis-generated shapes,
size 0 included), method forms, gradients against central finite differences,
and the batched forms when the call sits in a loop that vectorizes.
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
DTYPES = ["float64", "float32", "int64", "int32", "uint8", "bool"]
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5)


def data_of(draw_rng: np.random.Generator, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return draw_rng.random(shape) > 0.5
    if dtype.kind in "iu":
        return draw_rng.integers(0 if dtype.kind == "u" else -4, 5, shape).astype(dtype)
    return draw_rng.standard_normal(shape).astype(dtype)


def axis_of(data, ndim: int):
    return data.draw(st.sampled_from([None] + list(range(-ndim, ndim))))


# --- prefix sums and products --------------------------------------------------------------------------
@SETTINGS
@given(data=st.data(), shape=shapes, dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_cumsum_and_cumprod(data, shape, dtype, seed):
    x = data_of(np.random.default_rng(seed), shape, dtype)
    axis = axis_of(data, len(shape))
    rtol = 1e-4 if dtype == "float32" else None
    check(lambda a: (np.cumsum(a, axis=axis), a.cumprod(axis)), x, rtol=rtol)


@pytest.mark.parametrize("dtype", [None, "float32", "int8", "float64"])
def test_cumsum_dtype_argument(dtype, rng):
    check(lambda a: (np.cumsum(a, axis=1, dtype=dtype), np.cumprod(a, dtype=dtype)),
          rng.integers(-3, 4, (3, 4)).astype(np.int16))


def test_nan_prefix_sums(rng):
    x = rng.standard_normal((4, 5))
    x[1, 2] = x[3, 0] = np.nan
    check(lambda a: (np.nancumsum(a, 1), np.nancumprod(a), np.nancumsum(a > 0)), x)


# --- differences, rolls, tiles, repeats -----------------------------------------------------------------
@SETTINGS
@given(data=st.data(), shape=shapes, dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_diff(data, shape, dtype, seed):
    x = data_of(np.random.default_rng(seed), shape, dtype)
    n = data.draw(st.integers(0, 3))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    check(lambda a: np.diff(a, n, axis=axis), x)


def test_diff_prepend_append(rng):
    x = rng.standard_normal((3, 4))
    check(lambda a: (np.diff(a, prepend=0.0), np.diff(a, axis=0, append=a[-1:] * 2),
                     np.diff(a, 2, prepend=a[:, :1], append=1)), x)


@SETTINGS
@given(data=st.data(), shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_roll(data, shape, seed):
    x = data_of(np.random.default_rng(seed), shape, "float64")
    shift = data.draw(st.integers(-7, 7))
    axis = axis_of(data, len(shape))
    check(lambda a: np.roll(a, shift, axis=axis), x)
    check(lambda a, s: np.roll(a, s, axis=axis), x, shift)  # a traced shift: one gather


def test_roll_several_axes(rng):
    check(lambda a: (np.roll(a, (1, -2), axis=(0, 1)), np.roll(a, 2, axis=(0, 1))), rng.standard_normal((3, 4)))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
       reps=st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=1, max_size=4).map(tuple)),
       seed=st.integers(0, 2**32 - 1))
def test_tile(shape, reps, seed):
    check(lambda a: np.tile(a, reps), data_of(np.random.default_rng(seed), shape, "int32"))


@SETTINGS
@given(data=st.data(), shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_repeat(data, shape, seed):
    r = np.random.default_rng(seed)
    x = data_of(r, shape, "float32")
    axis = axis_of(data, len(shape))
    count = data.draw(st.integers(0, 3))
    check(lambda a: (np.repeat(a, count, axis=axis), a.repeat(count, axis)), x)
    n = x.size if axis is None else x.shape[axis]
    counts = r.integers(0, 3, n)
    check(lambda a: np.repeat(a, counts, axis=axis), x)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5), k=st.integers(-5, 5),
       dtype=st.sampled_from(["float64", "int32", "bool"]), seed=st.integers(0, 2**32 - 1))
def test_tril_triu(shape, k, dtype, seed):
    x = data_of(np.random.default_rng(seed), shape, dtype)
    check(lambda a: (np.tril(a, k), np.triu(a, k), np.triu(a)), x)


def test_tril_with_a_traced_diagonal(rng):
    check(lambda a, k: np.tril(a, k) - np.triu(a, k + 1), rng.standard_normal((4, 6)), 1)


def test_repeat_with_traced_counts_is_a_clear_error(rng):
    with pytest.raises(looptrace.UnsupportedError, match="depends on"):
        looptrace.jit(lambda a, k: np.repeat(a, k), backend="interpret")(rng.standard_normal(3), np.array([1, 2, 0]))


# --- grids ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid(indexing, sparse, rng):
    x, y, z = rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal((2,))
    check(lambda a, b: np.meshgrid(a, b, indexing=indexing, sparse=sparse), x, y)
    check(lambda a, b, c: np.meshgrid(a, b, c, indexing=indexing, sparse=sparse), x, y, z)
    check(lambda a, b: np.broadcast_arrays(a[:, None], b), x, y)


@SETTINGS
@given(num=st.integers(0, 9), endpoint=st.booleans(), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([None, "float32", "int64"]))
def test_linspace_with_traced_endpoints(num, endpoint, seed, dtype):
    r = np.random.default_rng(seed)
    lo, hi = float(r.standard_normal()), float(r.standard_normal() * 5)
    check(lambda a, b: np.linspace(a, b, num, endpoint=endpoint, dtype=dtype), lo, hi)
    check(lambda v: np.linspace(v[0], v[-1], num, endpoint=endpoint, retstep=True), r.standard_normal(3))


def test_linspace_of_arrays_and_axes(rng):
    a, b = rng.standard_normal(3), rng.standard_normal((2, 3))
    check(lambda x, y: (np.linspace(x, y, 4), np.linspace(x, y, 5, axis=-1), np.linspace(0.0, x, 3, axis=1)), a, b)
    check(lambda x: np.linspace(x, x, 4), 2.5)  # a zero step: NumPy's other formula
    check(lambda x: np.linspace(np.float32(0), x.max(), 6), rng.standard_normal(4).astype(np.float32))


def test_linspace_count_must_be_static(rng):
    # an int argument is specialized on (one version per value); a count computed from data is an error
    f = looptrace.jit(lambda a, n: np.linspace(0.0, a, n), backend="interpret")
    for n in (5, 7):
        np.testing.assert_array_equal(f(1.5, np.int64(n)), np.linspace(0.0, 1.5, n))
    with pytest.raises(looptrace.LooptraceError, match="static"):
        looptrace.jit(lambda x: np.linspace(0.0, 1.0, (x > 0).sum()), backend="interpret")(rng.standard_normal(4))


# --- convolution --------------------------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(1, 12), m=st.integers(1, 40), mode=st.sampled_from(["full", "same", "valid"]),
       dtype=st.sampled_from(["float64", "int64"]), seed=st.integers(0, 2**32 - 1))
def test_convolve_and_correlate(n, m, mode, dtype, seed):
    r = np.random.default_rng(seed)
    a, v = data_of(r, (n,), dtype), data_of(r, (m,), dtype)  # m > 32: the windowed product
    check(lambda x, k: (np.convolve(x, k, mode), np.correlate(x, k, mode)), a, v)
    check(lambda x: np.convolve(x, np.array([0.25, 0.5, 0.25]), mode), a)  # a constant kernel


def test_convolve_of_empty_is_an_error(rng):
    with pytest.raises(ValueError):
        looptrace.jit(lambda a, k: np.convolve(a, k), backend="interpret")(rng.standard_normal(3), np.zeros(0))


# --- sorting --------------------------------------------------------------------------------------------------
@SETTINGS
@given(data=st.data(), shape=shapes, dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_sort_argsort(data, shape, dtype, seed):
    x = data_of(np.random.default_rng(seed), shape, dtype)
    axis = axis_of(data, len(shape))
    check(lambda a: np.sort(a, axis=axis), x)
    # ties keep their original order (kind="stable"), one of the orders NumPy allows
    check(lambda a: np.argsort(a, axis=axis, kind="stable"), x)
    if axis is not None:
        def method(a):
            b = a.copy()
            b.sort(axis=axis)
            return b, a.argsort(axis=axis, kind="stable")

        check(method, x)
        idx = np.argsort(x, axis=axis, kind="stable")
        check(lambda a, i: np.take_along_axis(a, i, axis=axis), x, idx)


def test_sort_puts_nans_last(rng):
    x = rng.standard_normal((3, 6))
    x[0, 1] = x[2, 5] = x[2, 0] = np.nan
    check(lambda a: (np.sort(a), np.sort(a, 0), np.argsort(a, kind="stable")), x)


def test_count_nonzero_and_ptp(rng):
    x = rng.integers(-2, 3, (4, 5))
    check(lambda a: (np.count_nonzero(a), np.count_nonzero(a, axis=1), np.count_nonzero(a > 0, axis=0,
                                                                                         keepdims=True)), x)
    check(lambda a: (np.ptp(a), np.ptp(a, axis=0), np.ptp(a, 1, keepdims=True)), rng.standard_normal((3, 4)))


def test_fill_diagonal_in_place(rng):
    def f(a, v):
        b = a.copy()
        np.fill_diagonal(b, 0.0)
        np.fill_diagonal(a, v)  # into an argument: the caller sees it
        c = np.zeros((5, 3))
        np.fill_diagonal(c, 2.0, wrap=True)
        d = np.zeros((3, 3, 3))
        np.fill_diagonal(d, v[:2])
        return b, c, d

    check(f, rng.standard_normal((4, 6)), rng.standard_normal(3))
    check(f, rng.standard_normal((6, 4)), rng.standard_normal(3))


def test_scalar_types_cast_traced_values(rng):
    def f(x, lo):
        b = np.int64(np.floor((x[0] - lo) / 0.5))
        return (b, np.float32(x), np.zeros(2, dtype=np.float32), x.astype(np.int32), np.float64(2.5) * x[1],
                np.uint8(x > 0), x.dtype == np.float64, np.radians(x), np.degrees(x),
                isinstance(np.float64(1.5), np.float64), x.dtype.type == np.float64, np.dtype(np.int32).name)

    check(f, rng.standard_normal(4), -1.0)


# --- gradients ---------------------------------------------------------------------------------------------------
def _grad_check(fn, args, argnum, rng):
    jitted = looptrace.jit(fn, backend="interpret")
    g = rng.standard_normal(np.shape(fn(*args)))

    def loss(*xs):
        return float(np.sum(g * fn(*xs)))

    got = looptrace.grad(lambda *xs: (g * jitted(*xs)).sum(), argnums=argnum, backend="interpret")(*args)
    assert_close(got, numerical_grad(loss, list(args), argnum), 1e-5, fn.__name__)


def g_cumsum(x):
    return np.cumsum(x, axis=1) + np.cumprod(x, axis=0) + np.cumsum(x)[3]


def g_shifts(x, s):
    return np.diff(x, axis=0) * 2 + np.roll(x, 2, axis=1)[1:] + np.roll(x, s, axis=0)[1:]


def g_tiles(x):
    return (np.tile(x, (2, 1)) * np.repeat(x, 2, axis=0)).sum(axis=1) + np.repeat(x, [1, 0, 2], axis=0).sum()


def g_sort(x):
    return np.sort(x, axis=1) * np.arange(x.shape[1]) + np.sort(x, axis=None)[-1]


def g_conv(x, k):
    return np.convolve(x, k, "same") + np.correlate(x, k, "full")[:x.shape[0]]


def g_triangles(m):
    return (np.triu(-(m * m.T) / (np.abs(m) + 1.0), 1) ** 2).sum() + np.tril(m, -1).sum(axis=0)


def g_linspace(a, b):
    return np.linspace(a, b, 5) ** 2


def g_grid(x, y):
    gx, gy = np.meshgrid(x, y)
    order = np.argsort(x, kind="stable")
    return np.clip(gx * gy, -0.5, 0.5) + np.take_along_axis(gx, np.broadcast_to(order, gx.shape), axis=1) ** 2


@pytest.mark.parametrize("fn, make, argnum", [
    (g_cumsum, lambda r: (r.uniform(0.5, 1.5, (3, 4)),), 0),
    (g_shifts, lambda r: (r.standard_normal((3, 4)), 1), 0),
    (g_tiles, lambda r: (r.standard_normal((3, 2)),), 0),
    (g_triangles, lambda r: (r.standard_normal((4, 4)),), 0),
    (g_sort, lambda r: (r.permutation(12).reshape(3, 4) + r.random((3, 4)) * 0.5,), 0),
    (g_conv, lambda r: (r.standard_normal(7), r.standard_normal(3)), 0),
    (g_conv, lambda r: (r.standard_normal(7), r.standard_normal(3)), 1),
    (g_linspace, lambda r: (float(r.standard_normal()), float(r.standard_normal())), 1),
    (g_grid, lambda r: (r.standard_normal(4), r.standard_normal(3)), 0),
    (g_grid, lambda r: (r.standard_normal(4), r.standard_normal(3)), 1),
], ids=lambda v: getattr(v, "__name__", ""))
def test_gradients_match_finite_differences(fn, make, argnum, rng):
    _grad_check(fn, make(rng), argnum, rng)


# --- inside loops that vectorize: the batched forms -----------------------------------------------------------
def per_row(x, k):
    out = np.empty((x.shape[0], x.shape[1] - 1))
    stats = np.empty((x.shape[0], 3))
    for i in range(x.shape[0]):
        row = np.sort(x[i])
        out[i] = np.diff(np.cumsum(row)) + np.roll(x[i], 1)[1:] + np.convolve(x[i], k, "same")[1:]
        stats[i] = np.array([np.median(x[i]), np.percentile(x[i], 75),
                             np.argsort(x[i], kind="stable")[0] + np.linspace(0.0, x[i, 0], 3)[1]])
    return out, stats


def test_batched_inside_a_vectorized_loop(rng):
    x, k = rng.standard_normal((6, 7)), rng.standard_normal(3)
    check(per_row, x, k)
    e = looptrace.explain(looptrace.jit(per_row, backend="interpret"), x, k)
    assert [l.kind for l in e.loops] == ["vectorized"], str(e)


def per_row_more(x, w):
    n, m = x.shape
    out = np.empty((n, 2 * m))
    stats = np.empty((n, 5))
    for i in range(n):
        gx, gy = np.meshgrid(x[i, :2], w[:3])
        out[i] = np.tile(np.clip(x[i], -0.5, 0.5), 2) + np.repeat(np.cumprod(x[i])[::2], 4)[:2 * m]
        row = np.where(x[i] > 1.0, np.nan, x[i])
        stats[i] = np.array([np.nanmean(row), np.average(x[i], weights=w), x[i].var(ddof=1),
                             np.histogram(x[i], 4, range=(-2.0, 2.0))[0][1], (gx * gy).sum()])
    return out, stats


def test_more_batched_inside_a_vectorized_loop(rng):
    x, w = rng.standard_normal((5, 6)), rng.uniform(0.5, 1.5, 6)
    check(per_row_more, x, w)
    e = looptrace.explain(looptrace.jit(per_row_more, backend="interpret"), x, w)
    assert [l.kind for l in e.loops] == ["vectorized"], str(e)


def per_row_scans(x, k):
    out = np.empty((x.shape[0], x.shape[1] - 1))
    for i in range(x.shape[0]):
        out[i] = np.diff(np.cumsum(x[i])) + np.roll(x[i], 1)[1:] + np.convolve(x[i], k, "same")[1:] \
            + np.linspace(0.0, x[i, 0], x.shape[1] - 1)
    return out


def test_new_functions_on_the_cpu_backend(rng, tmp_path, monkeypatch):
    """One compiled kernel of batched compositions (sorting has its own: tests/codegen, tests/test_corpus.py)."""
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    x, k = rng.standard_normal((6, 7)), rng.standard_normal(3)
    np.testing.assert_allclose(looptrace.jit(per_row_scans, backend="cpu")(x, k), per_row_scans(x, k),
                               rtol=1e-9, atol=1e-12)


def test_linspace_ends_at_stop_without_a_concatenation(rng):
    """The last sample is stop exactly (NumPy's rule) by a select over the
    positions, which fuses where the samples are read: no concatenate."""
    from looptrace.ir.core import walk

    def samples(a, b):
        return np.exp(-np.linspace(a, b, 257) ** 2)

    f = looptrace.jit(samples, backend="interpret")
    a, b = float(rng.standard_normal()), float(rng.standard_normal() + 3.0)
    np.testing.assert_array_equal(f(a, b), samples(a, b))
    prims = [op.prim.name for op in walk(f.explain(a, b).program.body)]
    assert "concatenate" not in prims
