"""Dtypes follow NumPy 2's promotion rules (NEP 50) under tracing: Python
scalars are weak, NumPy scalars are not, float32 programs stay float32 end
to end, and in-place operators cast (or refuse to cast) as NumPy does.
Every result dtype is compared exactly with the plain function's.
"""

from __future__ import annotations

import numpy as np
import pytest

import looptrace

from ._compare import RTOL, assert_same, check  # noqa: F401
from looptrace.ops.elementwise import BINARY as BINARY_UFUNCS

DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int8, np.uint8, np.uint16, np.bool_]




def sample(rng, dtype, shape=(3, 4)):
    """Fresh nonzero values that fit `dtype`."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        return rng.integers(1, 7, shape).astype(dtype)
    return (rng.standard_normal(shape) + 3.0).astype(dtype)


# --- weak Python scalars --------------------------------------------------------------------------
def with_python_scalars(a):
    return a * 2.0, 2.0 * a, a + 1, a - 1.5, a / 2, a * True, 1 - a, a ** 2, a > 1.5, a == 1, 3 * a + 0.5


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_python_scalars_are_weak(dtype, rng):
    check(with_python_scalars, sample(rng, dtype))


def test_weak_promotion_examples(rng):
    def f(x32, i, u):
        return x32 * 2.0, i + 1.5, u + 1, u * 2, i * 2, x32 + 1, x32 / 3

    got = check(f, sample(rng, np.float32), sample(rng, np.int64), sample(rng, np.uint8))
    assert [r.dtype for r in got] == [np.float32, np.float64, np.uint8, np.uint8, np.int64, np.float32,
                                      np.float32]


def with_numpy_scalars(a):
    return a * np.float32(2), a + np.float64(1.0), a * np.int64(2), a - np.int8(1), np.float32(3) * a, \
        a + np.uint8(1), a * np.bool_(True)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_numpy_scalars_are_strong(dtype, rng):
    check(with_numpy_scalars, sample(rng, dtype))


def scalar_args(a, s):
    return a * s, s * a, a + s, s + 1, s * 2.5, a / s, np.maximum(a, s)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8], ids=str)
@pytest.mark.parametrize("s", [2, 2.5, True], ids=repr)
def test_python_scalar_arguments_are_weak(dtype, s, rng):
    check(scalar_args, sample(rng, dtype), s)


def test_python_scalar_results_stay_python(rng):
    def f(a, n, x):
        return n + 1, x * 2.0, n * x, float(n), int(x), a.shape[0] + n

    check(f, sample(rng, np.float32), 3, 1.5)


def test_python_int_out_of_range_raises_as_numpy_does(rng):
    def f(u):
        return u + 300

    u = sample(rng, np.uint8)
    with pytest.raises(OverflowError):
        f(u)
    with pytest.raises(OverflowError):
        looptrace.jit(f, backend="interpret")(u)


# --- mixed array dtypes ---------------------------------------------------------------------------
def mixed(a, b):
    return a + b, a * b, b - a, np.maximum(a, b), np.where(a > b, a, b), np.concatenate([a, b]), \
        np.stack([a, b]), a @ b.T


PAIRS = [(np.float32, np.float64), (np.float32, np.int64), (np.float32, np.int8), (np.float16, np.float32),
         (np.int32, np.int64), (np.uint8, np.int8), (np.uint8, np.uint16), (np.int64, np.uint8),
         (np.bool_, np.int32), (np.bool_, np.float32), (np.float64, np.float64), (np.int16, np.float16)]


@pytest.mark.parametrize("pair", PAIRS, ids=str)
def test_mixed_array_dtypes(pair, rng):
    a, b = sample(rng, pair[0]), sample(rng, pair[1])
    check(mixed, a, b)
    check(mixed, b, a)


def true_divide_and_friends(a, b):
    return a / b, a // b, a % b, np.sqrt(a), np.exp(b * 0), a.mean(), b.sum(), a.prod(axis=0), b.var()


@pytest.mark.parametrize("pair", [(np.int32, np.int32), (np.uint8, np.uint8), (np.int8, np.int64),
                                  (np.float32, np.int32), (np.bool_, np.bool_)], ids=str)
def test_integer_and_bool_arithmetic(pair, rng):
    a, b = sample(rng, pair[0]), sample(rng, pair[1])
    if pair[0] is np.bool_:
        a, b = a.astype(np.int8), b.astype(np.int8)
    check(true_divide_and_friends, a, b)


def test_bool_arrays(rng):
    def f(m, n, x):
        return m & n, m | n, ~m, m ^ n, m + n, m * 1.5, m.sum(), m.any(), m.all(axis=0), x[m].shape if False \
            else np.where(m, x, 0), m.astype(np.float32), np.logical_and(m, x > 3), m.mean()

    check(f, sample(rng, np.bool_), sample(rng, np.bool_), sample(rng, np.float32))


def test_reductions_and_constructors_keep_dtype(rng):
    def f(x):
        return (x.sum(), x.mean(axis=0), x.max(), x.var(), x.std(axis=1), np.linalg.norm(x), np.zeros_like(x),
                np.ones(3, dtype=x.dtype), np.full_like(x, 2.5), np.eye(4, dtype=x.dtype) @ x.T, np.clip(x, 0, 1),
                x.astype(np.float64).dtype == np.float64, np.dot(x[0], x[1]), np.einsum("ij,ij->i", x, x))

    check(f, sample(rng, np.float32))


# --- float32 stays float32 ------------------------------------------------------------------------
def rnn32(X, y0, W1, W2, W3):
    T = X.shape[0]
    Y = np.empty((T - 1, y0.shape[0]), dtype=X.dtype)
    y = y0
    for t in range(1, T):
        y = np.tanh(W1 @ y + W2 @ X[t] + W3 @ X[t - 1] * 0.5)
        Y[t - 1] = y
    return Y, y.sum() / T


def test_float32_rnn_stays_float32(rng):
    T, nx, ny = 40, 3, 5
    args = [(2 * rng.random((T, nx)) - 1), np.zeros(ny) - 1, (2 * rng.random((ny, ny)) - 1) / ny,
            2 * rng.random((ny, nx)) - 1, 2 * rng.random((ny, nx)) - 1]
    args32 = [a.astype(np.float32) for a in args]
    Y, m = check(rnn32, *args32, rtol=1e-4)
    assert Y.dtype == np.float32 and m.dtype == np.float32
    program = looptrace.jit(rnn32, backend="interpret").trace(args32)
    from looptrace.ir.core import walk

    assert all(v.dtype in (np.float32, np.int64, np.bool_) for op in walk(program.body) for v in op.outputs
               if hasattr(v.dtype, "kind")), "a float32 program computed something in float64"


def test_float32_accumulator_loop(rng):
    def f(x):
        acc = np.zeros(x.shape[1], dtype=np.float32)
        for i in range(x.shape[0]):
            acc += x[i] * 0.5
        return acc, acc.sum()

    acc, total = check(f, sample(rng, np.float32, (6, 3)), rtol=1e-5)
    assert acc.dtype == np.float32 and total.dtype == np.float32


def test_python_float_accumulator_of_float32_stays_float32(rng):
    def f(x):
        total = 0.0
        for i in range(x.shape[0]):
            total += x[i].sum()
        return total

    total = check(f, sample(rng, np.float32, (6, 3)), rtol=1e-5)
    assert total.dtype == np.float32


def merge_python_float_in_if(x):
    y = 1.0
    if x.sum() > 0:
        y = x[0]
    return y * x


def merge_python_float_in_ifexp(x):
    return (x[0] if x.sum() > 0 else 2.0) * x


@pytest.mark.parametrize("fn", [merge_python_float_in_if, merge_python_float_in_ifexp], ids=lambda f: f.__name__)
def test_branch_merging_a_python_float_keeps_float32(fn, rng):
    x = sample(rng, np.float32, (3,))
    assert check(fn, x).dtype == np.float32
    assert check(fn, -x).dtype == np.float32


def test_mixed_float32_float64_program(rng):
    def f(x32, w64):
        h = np.tanh(w64 @ x32)
        g = x32 * 2.0
        return h, g, (g @ x32).dtype, np.float32(1.0) * h

    check(f, sample(rng, np.float32, (4,)), sample(rng, np.float64, (3, 4)))


# --- in-place operators ---------------------------------------------------------------------------
def iadd_float(a):
    a += 1.5
    return a


def iadd_int(a):
    a += 1
    return a


def itruediv(a):
    a /= 2
    return a


def imul_array(a, b):
    a *= b
    return a


def ipow_two(a):
    a **= 2
    return a


def local_iadd(a, b):
    c = a.copy()
    c += b
    return c


@pytest.mark.parametrize("fn", [iadd_float, iadd_int, itruediv, ipow_two], ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_inplace_scalar_casting(fn, dtype, rng):
    x = sample(rng, dtype)
    try:
        with np.errstate(all="ignore"):
            fn(x.copy())
    except TypeError:  # NumPy refuses the same_kind cast: looptrace must refuse too
        with pytest.raises((looptrace.TraceError, TypeError), match="cast"):
            looptrace.jit(fn, backend="interpret")(x.copy())
        return
    check(fn, x)


@pytest.mark.parametrize("pair", PAIRS, ids=str)
@pytest.mark.parametrize("fn", [imul_array, local_iadd], ids=lambda f: f.__name__)
def test_inplace_array_casting(fn, pair, rng):
    a, b = sample(rng, pair[0]), sample(rng, pair[1])
    try:
        fn(a.copy(), b.copy())
    except TypeError:
        with pytest.raises((looptrace.TraceError, TypeError), match="cast"):
            looptrace.jit(fn, backend="interpret")(a.copy(), b.copy())
        return
    check(fn, a, b)


def test_int_iadd_float_raises(rng):
    x = sample(rng, np.int64)
    with pytest.raises(TypeError):
        iadd_float(x.copy())
    with pytest.raises(looptrace.TraceError) as info:
        looptrace.jit(iadd_float, backend="interpret")(x.copy())
    assert "a += 1.5" in str(info.value)


def test_inplace_write_into_int_array_in_a_loop_raises(rng):
    def f(a, x):
        for i in range(x.shape[0]):
            a += x[i]
        return a

    with pytest.raises((looptrace.TraceError, TypeError)):
        looptrace.jit(f, backend="interpret")(sample(rng, np.int32, (4,)), sample(rng, np.float32))


def test_setitem_casts_unsafely_as_numpy(rng):
    def f(a, x):
        a[0] = x[0]
        a[1, 1] = 2.7
        a[2] = -1
        return a

    check(f, sample(rng, np.int32), sample(rng, np.float64))
    check(f, sample(rng, np.float32), sample(rng, np.float64))


# --- every binary ufunc: result dtype (or refusal) as NumPy's ------------------------------------
def make_ufunc_call(uf, scalar, scalar_first):
    def with_scalar(x):
        return uf(scalar, x) if scalar_first else uf(x, scalar)

    def with_array(x, y):
        return uf(x, y)

    return with_array if scalar is None else with_scalar


def _outcome(fn, *args):
    """The result's dtype, or the kind of refusal (a type error)."""
    try:
        with np.errstate(all="ignore"):
            res = fn(*args)
    except (TypeError, looptrace.TraceError):
        return "refused"
    except (OverflowError, ValueError) as e:
        return type(e).__name__
    return np.dtype(res.dtype)


UFUNC_DTYPES = [np.float32, np.int8, np.uint8, np.bool_]


@pytest.mark.parametrize("name", BINARY_UFUNCS)
def test_binary_ufunc_result_dtypes(name):
    uf = getattr(np, name)
    for dtype in UFUNC_DTYPES:
        x = np.ones(2, dtype)
        for scalar in (2, 2.5, True, np.float64(2), np.int16(3)):
            fn = make_ufunc_call(uf, scalar, scalar_first=dtype is np.int8)
            assert _outcome(looptrace.eval_shape, fn, x) == _outcome(fn, x), (name, dtype, scalar)
        for other in UFUNC_DTYPES:
            fn, y = make_ufunc_call(uf, None, False), np.ones(2, other)
            assert _outcome(looptrace.eval_shape, fn, x, y) == _outcome(fn, x, y), (name, dtype, other)
