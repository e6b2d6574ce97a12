"""tracer/np_more.py: NumPy functions the survey (tools/numpy_survey.py)
found missing: np.diagonal/np.trace with offset and axes (and methods), the
array-API names, atleast_3d, logaddexp2, fabs, signbit, ediff1d, polyder,
polyint, i0 and sliding_window_view. Each against the undecorated function
on fresh random data (interpret, and a representative case on cpu),
gradients against central differences where differentiable, hypothesis over
shapes, and NumPy's exceptions for bad arguments."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad

from ._compare import assert_same


def same(fn, *args, backend="interpret"):
    with np.errstate(all="ignore"):
        want = fn(*args)
        got = lt.jit(fn, backend=backend)(*args)
    assert_same(got, want)


def grad_check(fn, args, argnums=(0,), backend="interpret"):
    grads = lt.grad(lt.jit(fn, backend=backend), argnums=argnums)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for g, i in zip(grads, argnums):
        assert_close(g, numerical_grad(fn, list(args), i), 1e-6, f"{fn.__name__} argument {i}")


R = np.random.default_rng(7)


def cases(rng):
    a3 = rng.standard_normal((3, 4, 5))
    m = rng.standard_normal((4, 6))
    v, w = rng.standard_normal(7), rng.standard_normal(7)
    ints = rng.integers(-5, 6, (4, 4))
    return {
        "diagonal": (lambda a: (np.diagonal(a), np.diagonal(a, 2), np.diagonal(a, -1, 2, 0),
                                np.diagonal(a, 1, axis1=-1, axis2=1), a.diagonal(-2)), a3),
        "trace": (lambda a, i: (np.trace(a), np.trace(a, 1, 1, 2), np.trace(i, -1), i.trace(1),
                                np.trace(a, dtype=np.float32), np.trace(i > 0)), a3, ints),
        "array_api": (lambda a, m, v, w: (np.matrix_transpose(a), np.vecdot(a, a[0]), np.vecdot(m, m, axis=0),
                                          np.linalg.outer(v, w), np.linalg.matmul(m.T, m),
                                          np.linalg.trace(a, offset=1), np.linalg.diagonal(a),
                                          np.linalg.vecdot(v, w), np.linalg.matrix_transpose(m)), a3, m, v, w),
        "cross": (lambda m: np.linalg.cross(m[:, :3], m[:, 3:]), m),
        "norms": (lambda a: (np.linalg.vector_norm(a), np.linalg.vector_norm(a, axis=1, ord=1),
                             np.linalg.vector_norm(a, axis=(0, 2), keepdims=True),
                             np.linalg.vector_norm(a, keepdims=True, ord=np.inf),
                             np.linalg.matrix_norm(a), np.linalg.matrix_norm(a, ord=1, keepdims=True)), a3),
        "atleast_3d": (lambda v, m: (np.atleast_3d(v), np.atleast_3d(m), np.atleast_3d(v[0] * 1.0),
                                     np.atleast_3d(v, m)[1]), v, m),
        "ufuncs": (lambda a, m: (np.logaddexp2(a, a[0, 0]), np.logaddexp2(m, 3), np.fabs(m),
                                 np.fabs(np.arange(3) * m[:3, :3].astype(np.int8)), np.signbit(m),
                                 np.signbit(-m * 0.0), np.signbit(np.int32(2) * m.astype(np.int32))), a3, m),
        "ediff1d": (lambda m, i: (np.ediff1d(m), np.ediff1d(i, to_begin=-1), np.ediff1d(m[0], to_end=[1.5, 2.0],
                                                                                     to_begin=m[1, :2])), m, ints),
        "poly": (lambda v, i: (np.polyder(v), np.polyder(v, 3), np.polyder(i[0], 2), np.polyint(v),
                               np.polyint(v, 2, k=[1.0, v[0]]), np.polyint(i[0], 3, 2.5), np.polyder(v, 0),
                               np.polyval(np.polyder(np.polyint(v)), 0.3)), v, ints),
        "i0": (lambda v, m: (np.i0(v * 4), np.i0(m * 9), np.i0(np.arange(12) * v[0]),
                             np.i0((v * 5).astype(np.float32))), v, m),
        "windows": (lambda v, m, a: (sliding_window_view(v, 3), sliding_window_view(m, (2, 3)),
                                     sliding_window_view(a, 2, axis=1), sliding_window_view(a, (2, 2), axis=(2, 0)),
                                     sliding_window_view(v, 3).mean(axis=-1)), v, m, a3),
    }


@pytest.mark.parametrize("name", sorted(cases(R)))
def test_against_numpy_interpret(name, rng):
    fn, *args = cases(rng)[name]
    same(fn, *args)


# diagonal, trace, ediff1d, poly: slow, traced into views, sums and elementwise arithmetic whose cpu lowering
# "windows" (strided views) and "ufuncs" compile here and tests/codegen everywhere; all run on the interpreter above
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in ("diagonal", "trace", "ediff1d", "poly")
                                  else n for n in ["diagonal", "trace", "ufuncs", "ediff1d", "poly", "i0", "windows"]])
def test_against_numpy_cpu(name, rng):
    fn, *args = cases(rng)[name]
    same(fn, *args, backend="cpu")


def test_special_values(rng):
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1.0, -2.5])
    y = np.array([0.0, 3.0, np.inf, -np.inf, 1.0, 2.0, 1.0, 40.0])
    for backend in ("interpret", "cpu"):
        same(lambda x, y: (np.logaddexp2(x, y), np.signbit(x), np.fabs(x), np.i0(x)), x, y, backend=backend)


def test_windows_in_a_loop(rng):
    def f(x):
        out = np.empty((x.shape[0], x.shape[1] - 2))
        for i in range(x.shape[0]):
            out[i] = sliding_window_view(x[i], 3).max(axis=1)
        return out

    x = rng.standard_normal((6, 10))
    for backend in ("interpret", "cpu"):
        same(f, x, backend=backend)


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=2, max_size=4), offset=st.integers(-6, 6),
       a1=st.integers(-4, 3), a2=st.integers(-4, 3), seed=st.integers(0, 2**31))
def test_diagonal_and_trace_random(shape, offset, a1, a2, seed):
    nd = len(shape)
    a1, a2 = a1 % nd, a2 % nd
    if a1 == a2:
        a2 = (a1 + 1) % nd
    x = np.random.default_rng(seed).standard_normal(tuple(shape))
    same(lambda x: (np.diagonal(x, offset, a1, a2), np.trace(x, offset, a1, a2)), x)


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3), data=st.data(), seed=st.integers(0, 2**31))
def test_sliding_windows_random(shape, data, seed):
    axis = data.draw(st.integers(0, len(shape) - 1))
    w = data.draw(st.integers(1, shape[axis]))
    x = np.random.default_rng(seed).standard_normal(tuple(shape))
    same(lambda x: sliding_window_view(x, w, axis=axis) * 2, x)


# --- gradients --------------------------------------------------------------------------------------
def loss_diag(a, w):
    return np.sum(np.diagonal(a, 1, 0, 2) * w[:, :1]) + np.trace(a[0], -1) ** 2 + np.linalg.trace(a).sum()


def loss_np_diag(a, w):
    """np.diag of a matrix reads its diagonal through np.diagonal's gather
    (its einsum 'ii->i' had no gradient)."""
    return np.sum(np.diag(a) ** 2 * w[:4]) + np.sum(np.diag(a, 1) * w[1:5]) + np.diag(a, -2).sum() ** 2


def loss_ufuncs(a, b):
    return np.sum(np.logaddexp2(a, b) * b) + np.sum(np.fabs(a) * b) + np.sum(np.i0(a * 5) / 100)


def loss_poly(p, x):
    return np.sum(np.polyval(np.polyder(p, 2), x)) + np.sum(np.polyint(p, 2, k=[p[0], 1.0]) ** 2) \
        + np.sum(np.ediff1d(x, to_end=p[:1]) ** 2)


def loss_windows(x, w):
    return np.sum(sliding_window_view(x, 3, axis=1) @ w[:3]) + np.sum(sliding_window_view(x, (2, 2)) ** 2)


def loss_array_api(a, w):
    return np.sum(np.vecdot(a, w) ** 2) + np.sum(np.linalg.vector_norm(a, axis=0)) + np.linalg.matrix_norm(a)


@pytest.mark.parametrize("loss, shapes", [
    (loss_diag, [(3, 4, 5), (4, 4)]), (loss_np_diag, [(4, 5), (5,)]), (loss_ufuncs, [(4, 5), (4, 5)]), (loss_poly, [(6,), (5,)]),
    (loss_windows, [(4, 6), (4,)]), (loss_array_api, [(4, 3), (3,)]),
], ids=lambda v: getattr(v, "__name__", None))
def test_gradients(loss, shapes, rng):
    args = [rng.standard_normal(s) for s in shapes]
    grad_check(loss, args, (0, 1))


@pytest.mark.slow  # the interpreter's test_gradients checks the same losses
def test_gradient_on_cpu(rng):
    grad_check(loss_ufuncs, [rng.standard_normal((4, 5)), rng.standard_normal((4, 5))], (0, 1), backend="cpu")


# --- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, exc, match", [
    (lambda x: np.diagonal(x, 0, 1, 1), ValueError, "axis1 and axis2 cannot be the same"),
    (lambda x: np.diagonal(x[0]), ValueError, "at least two dimensions"),
    (lambda x: np.trace(x, 0, 0, 3), np.exceptions.AxisError, None),
    (lambda x: np.polyder(x[0], -1), ValueError, "Order of derivative must be positive"),
    (lambda x: np.polyint(x[0], 3, k=[1.0, 2.0]), ValueError, "k must be a scalar or a rank-1 array"),
    (lambda x: np.ediff1d(x.astype(np.int64), to_end=0.5), TypeError, "same_kind"),
    (lambda x: sliding_window_view(x, 5), ValueError, "must provide window_shape for all dimensions"),
    (lambda x: sliding_window_view(x, 6, axis=0), ValueError, "window shape cannot be larger"),
    (lambda x: sliding_window_view(x, -1, axis=0), ValueError, "cannot contain negative values"),
    (lambda x: np.linalg.outer(x, x[0]), ValueError, "one-dimensional"),
    (lambda x: np.linalg.cross(x, x), ValueError, "3-dimensional vectors"),
    (lambda x: np.i0(x * 1j), TypeError, "i0 not supported for complex values"),
])
def test_numpy_errors(call, exc, match, rng):
    x = rng.standard_normal((4, 5))
    with pytest.raises(exc, match=match):
        call(x)
    with pytest.raises(exc, match=match):
        lt.jit(call, backend="interpret")(x)


def traced_offset(x, k):
    return np.diagonal(x, k[0])


def test_a_traced_offset_names_the_line(rng):
    with pytest.raises(lt.LooptraceError, match="offset must be a static integer") as e:
        lt.jit(traced_offset, backend="interpret")(rng.standard_normal((4, 4)), np.array([1]))
    assert "return np.diagonal(x, k[0])" in str(e.value)


def test_where_without_out_of_ufuncs_is_refused(rng):
    """(out= of ufuncs is supported: tracer/np_writes.py)"""
    with pytest.raises(lt.UnsupportedError, match="out="):
        lt.jit(lambda x: np.fabs(x, where=x > 0), backend="interpret")(rng.standard_normal(3))
