"""The NumPy surface under tracing: each supported function, operator, method
and builtin, called inside a small jitted function (interpret backend), gives
the plain function's values, dtypes and shapes on random data; unsupported
NumPy functions raise UnsupportedError naming the function and the user's line.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import looptrace

from ._compare import RTOL, assert_same, check  # noqa: F401

SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# --- helpers ---------------------------------------------------------------------------------------


def randn(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def rand_int(rng, shape, low=-5, high=6, dtype=np.int64):
    return rng.integers(low, high, shape).astype(dtype)


small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
matrix_shapes = hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4)


# --- arithmetic operators -------------------------------------------------------------------------
def op_add(a, b):
    return a + b


def op_sub(a, b):
    return a - b


def op_mul(a, b):
    return a * b


def op_truediv(a, b):
    return a / b


def op_floordiv(a, b):
    return a // b


def op_mod(a, b):
    return a % b


def op_pow(a, b):
    return a**b


def op_lt(a, b):
    return a < b


def op_le(a, b):
    return a <= b


def op_gt(a, b):
    return a > b


def op_ge(a, b):
    return a >= b


def op_eq(a, b):
    return a == b


def op_ne(a, b):
    return a != b


def op_chain(a, b):
    return -a + 2 * b - a / 3.0 + (a * b) ** 2 - abs(b) + (+a)


BINARY_OPS = [op_add, op_sub, op_mul, op_truediv, op_floordiv, op_mod, op_pow, op_lt, op_le, op_gt,
              op_ge, op_eq, op_ne, op_chain]


def _operands(rng, shapes, kind):
    if kind == "float":
        a, b = randn(rng, shapes[0]), randn(rng, shapes[1])
        return np.abs(a) + 0.5, b + np.where(b >= 0, 0.5, -0.5)
    a, b = rand_int(rng, shapes[0], 1, 5), rand_int(rng, shapes[1], 1, 4)
    return a, b


@pytest.mark.parametrize("kind", ["float", "int"])
@pytest.mark.parametrize("op", BINARY_OPS, ids=lambda f: f.__name__)
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
def test_binary_operators(op, kind, shapes, rng):
    a, b = _operands(rng, shapes.input_shapes, kind)
    check(op, a, b)


@pytest.mark.parametrize("op", BINARY_OPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("scalar", [2, 1.5, -3])
def test_binary_operators_with_python_scalars(op, scalar, rng):
    a = np.abs(randn(rng, (3, 4))) + 0.5

    def left(x):
        return op(x, scalar)

    def right(x):
        return op(scalar, x)

    check(left, a)
    check(right, a)


def unary_neg(x):
    return -x


def unary_pos(x):
    return +x


def unary_abs(x):
    return abs(x)


def unary_invert(x):
    return ~x


@pytest.mark.parametrize("fn", [unary_neg, unary_pos, unary_abs], ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_unary_operators(fn, dtype, rng):
    check(fn, randn(rng, (3, 4)).astype(dtype) * 5)


def test_invert_and_bitwise_operators(rng):
    def f(a, b, m):
        return ~a, a & b, a | b, a ^ b, a << 2, b >> 1, ~m, m & (a > 0), m | m, m ^ (b > 0)

    check(f, rand_int(rng, (5,)), rand_int(rng, (5,), 0, 9), rng.random(5) > 0.5)


# --- ufuncs ---------------------------------------------------------------------------------------------
UNARY_UFUNCS = {
    "exp": np.exp, "log": np.log, "tanh": np.tanh, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "abs": np.abs, "absolute": np.absolute, "negative": np.negative, "square": np.square,
    "log1p": np.log1p, "expm1": np.expm1, "log2": np.log2, "log10": np.log10, "sign": np.sign,
    "floor": np.floor, "ceil": np.ceil, "arctan": np.arctan, "sinh": np.sinh, "cosh": np.cosh,
    "reciprocal": np.reciprocal, "isnan": np.isnan, "isfinite": np.isfinite, "round": np.round,
    "rint": np.rint, "trunc": np.trunc, "cbrt": np.cbrt,
}
POSITIVE_DOMAIN = {"log", "sqrt", "log2", "log10", "reciprocal"}


def make_unary(fn):
    def f(x):
        return fn(x)

    return f


@pytest.mark.parametrize("name", sorted(UNARY_UFUNCS))
@SETTINGS
@given(shape=small_shapes)
def test_unary_ufuncs(name, shape, rng):
    x = randn(rng, shape)
    if name in POSITIVE_DOMAIN:
        x = np.abs(x) + 0.1
    check(make_unary(UNARY_UFUNCS[name]), x)


@pytest.mark.parametrize("name", ["exp", "tanh", "sqrt", "sin", "abs", "square", "floor"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32, np.bool_])
def test_unary_ufuncs_dtypes(name, dtype, rng):
    x = (np.abs(randn(rng, (4,))) * 3).astype(dtype)
    check(make_unary(UNARY_UFUNCS[name]), x)


BINARY_UFUNCS = {
    "maximum": np.maximum, "minimum": np.minimum, "add": np.add, "subtract": np.subtract,
    "multiply": np.multiply, "divide": np.divide, "true_divide": np.true_divide, "power": np.power,
    "arctan2": np.arctan2, "hypot": np.hypot, "fmax": np.fmax, "fmin": np.fmin,
    "logaddexp": np.logaddexp, "floor_divide": np.floor_divide, "mod": np.mod, "remainder": np.remainder,
    "greater": np.greater, "less_equal": np.less_equal, "equal": np.equal, "logical_and": np.logical_and,
    "logical_or": np.logical_or, "copysign": np.copysign,
}


def make_binary(fn):
    def f(a, b):
        return fn(a, b)

    return f


@pytest.mark.parametrize("name", sorted(BINARY_UFUNCS))
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
def test_binary_ufuncs(name, shapes, rng):
    a, b = _operands(rng, shapes.input_shapes, "float")
    check(make_binary(BINARY_UFUNCS[name]), a, b)


def test_ufunc_keywords_and_method_reduce(rng):
    def f(x, y):
        return np.add(x, y, dtype=np.float32), np.add.reduce(x), np.maximum.reduce(x, axis=1), \
            np.multiply.reduce(y, axis=0)

    check(f, randn(rng, (3, 4)), randn(rng, (3, 4)))


# --- reductions ----------------------------------------------------------------------------------------
REDUCTIONS = ["sum", "mean", "prod", "max", "min", "argmax", "argmin", "amax", "amin", "all", "any",
              "var", "std"]
AXES = [None, 0, 1, -1, -2, (0, 1), (-1, 0)]


def make_reduction(name, axis, keepdims, method):
    fn = getattr(np, name)
    if name in ("argmax", "argmin") and isinstance(axis, tuple):
        axis = axis[0]

    def as_function(x):
        return fn(x, axis=axis, keepdims=keepdims)

    def as_method(x):
        return getattr(x, name)(axis=axis, keepdims=keepdims)

    return as_method if method else as_function


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name, method", [(n, m) for n in REDUCTIONS for m in (False, True)
                                          if not (m and n in ("amax", "amin"))])
def test_reductions(name, axis, keepdims, method, rng):
    x = randn(rng, (3, 4, 2) if axis == -2 else (3, 4))
    check(make_reduction(name, axis, keepdims, method), x)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "argmax", "argmin", "var"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32, np.uint8, np.bool_])
def test_reduction_dtypes(name, dtype, rng):
    x = rand_int(rng, (3, 4), 0, 3).astype(dtype)
    check(make_reduction(name, 0, False, False), x)
    check(make_reduction(name, None, False, True), x)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "argmin"])
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_reductions_generated_axes(name, shape, data, rng):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    check(make_reduction(name, axis, data.draw(st.booleans()), False), randn(rng, shape))


def test_reductions_positional_arguments(rng):
    def f(a, b):
        return (a.sum(0), a.max(1), a.min(-1), a.mean(0), a.prod(1), a.argmax(1), a.std(0), a.var(1, None, None, 1),
                np.std(a, ddof=1), np.sum(a, 0, np.float32), np.max(a, 0, None, True), b.all(0), np.any(b, 1),
                np.sum([a[0], a[1]]), np.sum((a[0], a[1]), axis=0), np.max([a[0, 0], a[1, 1]]))

    check(f, randn(rng, (3, 4)), rng.random((3, 4)) > 0.5)


def test_reductions_initial_and_where(rng):
    def f(a, e):
        m = a > 0
        return (np.sum(a, initial=1.5), np.max(a, initial=0.5), np.max(a, axis=0, initial=10.0),
                np.min(a, axis=1, initial=-0.1), a.prod(initial=2.0), np.sum(a, where=m), np.sum(a, axis=0, where=m),
                np.max(a, where=m, initial=-5.0), np.min(a, axis=1, where=m, initial=3.0), a.mean(where=m),
                np.mean(a, axis=0, where=m[0]), np.var(a, where=m), np.std(a, axis=1, where=m, keepdims=True),
                np.all(m, where=m), np.any(m, axis=0, where=~m), np.max(e, axis=0, initial=1.0),
                np.sum(e, axis=0, initial=2.0), np.sum(np.arange(3), initial=1))

    check(f, randn(rng, (3, 4)), np.zeros((0, 2)) + 1.0)


def test_reduction_where_without_initial_raises_like_numpy(rng):
    def f(a):
        return np.max(a, where=a > 0)

    with pytest.raises(ValueError, match="initial"):
        f(randn(rng, 4))
    with pytest.raises(ValueError, match="initial"):
        looptrace.jit(f, backend="interpret")(randn(rng, 4))


def test_ufunc_dtype_argument_fixes_the_loop(rng):
    def f(a, i):
        return (np.tanh(a, dtype=np.float32), np.add(a, 1, dtype=np.float32), np.add(i, i, dtype=np.float64),
                np.multiply(i, 2.5, dtype=np.float32), np.less(a, 0.5, dtype=bool), np.exp(i, dtype=np.float32))

    check(f, randn(rng, (3, 4)), rand_int(rng, (3, 4)))


def test_ufunc_dtype_argument_refuses_unsafe_casts(rng):
    def f(a):
        return np.add(a, 1, dtype=np.int32)

    with pytest.raises(TypeError):
        f(randn(rng, 3))
    with pytest.raises((looptrace.TraceError, TypeError), match="cast"):
        looptrace.jit(f, backend="interpret")(randn(rng, 3))


def test_sum_with_dtype_and_size_zero(rng):
    def f(x, e):
        return x.sum(dtype=np.float32), np.sum(x, axis=0, dtype=np.int64), e.sum(), e.sum(axis=0), \
            np.prod(e, axis=1), e.mean(axis=1)

    check(f, randn(rng, (3, 4)) * 10, np.zeros((0, 3)) + 1.0)


# --- products -----------------------------------------------------------------------------------------
def prod_matmul_op(a, b):
    return a @ b


def prod_matmul(a, b):
    return np.matmul(a, b)


def prod_dot(a, b):
    return np.dot(a, b)


def prod_dot_method(a, b):
    return a.dot(b)


PRODUCTS = [prod_matmul_op, prod_matmul, prod_dot, prod_dot_method]
PRODUCT_SHAPES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
                  ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (4,)), ((4,), (2, 4, 5)),
                  ((0, 4), (4, 3)), ((3, 0), (0, 2)), ((1, 3, 4), (2, 4, 5))]


@pytest.mark.parametrize("shapes", PRODUCT_SHAPES, ids=str)
@pytest.mark.parametrize("fn", PRODUCTS, ids=lambda f: f.__name__)
def test_products(fn, shapes, rng):
    a, b = randn(rng, shapes[0]), randn(rng, shapes[1])
    if fn in (prod_dot, prod_dot_method) and len(shapes[1]) == 3 and len(shapes[0]) == 3:
        b = randn(rng, (3, 4, 5))  # np.dot contracts a's last axis with b's second to last
    check(fn, a, b)


@pytest.mark.parametrize("dtypes", [(np.float32, np.float32), (np.float32, np.float64),
                                    (np.int64, np.int64), (np.int64, np.float32), (np.bool_, np.bool_)])
def test_product_dtypes(dtypes, rng):
    a = rand_int(rng, (3, 4), 0, 3).astype(dtypes[0])
    b = rand_int(rng, (4, 2), 0, 3).astype(dtypes[1])
    check(prod_matmul_op, a, b)
    check(prod_dot, a[0], b[:, 0])


def test_products_mixed_with_constants(rng):
    w = randn(rng, (4, 3))

    def f(x):
        return x @ w, w.T @ x[0], np.dot(x, w), np.outer(x[0], w[0])

    check(f, randn(rng, (2, 4)))


@SETTINGS
@given(n=st.integers(1, 4), k=st.integers(0, 4), m=st.integers(1, 4), b=st.integers(1, 3))
def test_matmul_generated_shapes(n, k, m, b, rng):
    check(prod_matmul_op, randn(rng, (b, n, k)), randn(rng, (k, m)))
    check(prod_dot, randn(rng, (n, k)), randn(rng, (k, m)))


EINSUM_SPECS = ["ij,jk->ik", "ij,jk", "ij,j->i", "i,i->", "i,i", "i,j->ij", "bij,bjk->bik", "ij->ji",
                "ii->", "ii->i", "ij->", "ij,ij->ij", "ij,ij", "i j, j k -> i k", "ijk->kji", "ij,kj->ik"]


def make_einsum(spec, n_ops):
    def one(a):
        return np.einsum(spec, a)

    def two(a, b):
        return np.einsum(spec, a, b)

    return one if n_ops == 1 else two


@pytest.mark.parametrize("spec", EINSUM_SPECS)
def test_einsum(spec, rng):
    ins = spec.replace(" ", "").split("->")[0].split(",")
    sizes = {"i": 3, "j": 3, "k": 2, "b": 2}
    ops = [randn(rng, tuple(sizes[c] for c in letters)) for letters in ins]
    check(make_einsum(spec, len(ops)), *ops)


ELLIPSIS_CASES = [("...ij,...jk->...ik", (2, 3, 4), (2, 4, 5)), ("...ij,jk->...ik", (2, 3, 4), (4, 5)),
                  ("...ij,...jk", (1, 3, 4), (2, 4, 5)), ("...i,...i", (2, 3), (2, 3)),
                  ("i...->...", (2, 3, 4), None), ("...", (2, 3), None), ("ij...,jk...->ik...", (4, 3, 2), (3, 5, 2)),
                  ("...ii->...i", (2, 3, 3), None), ("bij,bjk", (2, 3, 4), (2, 4, 5))]


@pytest.mark.parametrize("spec, sa, sb", ELLIPSIS_CASES, ids=[c[0] for c in ELLIPSIS_CASES])
def test_einsum_ellipsis(spec, sa, sb, rng):
    ops = [randn(rng, sa)] + ([randn(rng, sb)] if sb else [])
    check(make_einsum(spec, len(ops)), *ops)


def test_einsum_dtype_and_mixed_operands(rng):
    def f(a, b):
        return (np.einsum("ij,jk", a, b, dtype=np.float32, casting="same_kind"), np.einsum("ij,kj->ik", a, a.astype(np.float32)),
                np.einsum("i,i", a[0], np.arange(4)))

    check(f, randn(rng, (3, 4)), randn(rng, (4, 2)))


def test_einsum_unsafe_dtype_raises_like_numpy(rng):
    def f(a):
        return np.einsum("ij->i", a, dtype=np.float32)

    with pytest.raises(TypeError):
        f(randn(rng, (2, 2)))
    with pytest.raises(TypeError):
        looptrace.jit(f, backend="interpret")(randn(rng, (2, 2)))


def test_outer_inner_tensordot_vdot(rng):
    def f(a, b, c, t):
        return (np.outer(a, b), np.outer(c, c), np.inner(a, b), np.inner(c, c[:, :4]), np.inner(2.0, a),
                np.tensordot(c, c.T, axes=1), np.tensordot(t, c, axes=([1, 2], [0, 1])),
                np.tensordot(t, c, axes=2), np.tensordot(a, b, axes=0), np.tensordot(c, c, axes=([0], [0])),
                np.vdot(a, b), np.trace(c[:, :3]), np.diag(c[:, :3]))

    check(f, randn(rng, 4), randn(rng, 4), randn(rng, (3, 4)), randn(rng, (2, 3, 4)))


# --- shapes --------------------------------------------------------------------------------------------
def test_reshape(rng):
    def f(x):
        return (x.reshape(-1), x.reshape(4, 6), x.reshape((2, -1)), x.reshape(-1, 3), np.reshape(x, (24,)),
                np.reshape(x, -1), x.reshape(2, 3, 4), x.reshape((1, 24)), np.ravel(x), x.ravel(),
                x.flatten(), x.reshape(2, 12).reshape(-1, 2))

    check(f, randn(rng, (4, 6)))


@SETTINGS
@given(shape=small_shapes, data=st.data())
def test_reshape_generated(shape, data, rng):
    n = int(np.prod(shape))
    options = [(-1,), (1, -1), (-1, 1)] + [(d, -1) for d in range(2, n + 1) if n % d == 0]
    new = data.draw(st.sampled_from(options))

    def f(x):
        return x.reshape(new), np.reshape(x, new)

    check(f, randn(rng, shape))


def test_transpose(rng):
    def f(x, m):
        return (m.T, np.transpose(m), m.transpose(), x.transpose(2, 0, 1), x.transpose((1, 2, 0)),
                np.transpose(x, (0, 2, 1)), x.T, np.swapaxes(x, 0, 2), np.moveaxis(x, 0, -1), m.T.T,
                np.transpose(x, (-1, 0, 1)))

    check(f, randn(rng, (2, 3, 4)), randn(rng, (3, 5)))


def test_views_see_later_writes(rng):
    def f(x):
        y = x.copy()
        t = y.T
        r = y.reshape(-1)
        y[0, 0] = 100.0
        return t, r

    check(f, randn(rng, (2, 3)))


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_concatenate_and_stack(axis, rng):
    def f(a, b):
        return (np.concatenate([a, b], axis=axis), np.concatenate((a, b, a), axis), np.stack([a, b], axis=axis),
                np.stack((a, b, a), axis=axis), np.concatenate([a, 2.0 * b], axis=axis))

    check(f, randn(rng, (2, 3)), randn(rng, (2, 3)))


def test_concatenate_stack_variants(rng):
    def f(a, b, v):
        return (np.concatenate([a, b]), np.concatenate([a, b], axis=None), np.stack([v, v, v]),
                np.stack([v, v], axis=1), np.vstack([a, b]), np.hstack([a, a]), np.hstack([v, v]),
                np.concatenate([a.astype(np.float32), b]), np.stack([a[0], v[:3]]),
                np.array([v, v]), np.array([a[0, 0], v[1]]), np.expand_dims(v, 0), np.squeeze(a[:1]),
                np.atleast_2d(v), np.flip(a, 0), np.broadcast_to(v, (2, 4)), np.column_stack([a[0], b[0]]),
                np.column_stack([a.T, v[:3]]))

    check(f, randn(rng, (2, 3)), randn(rng, (4, 3)), randn(rng, 4))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3), data=st.data())
def test_concatenate_generated(shape, data, rng):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    other = list(shape)
    other[axis] = data.draw(st.integers(0, 3))

    def f(a, b):
        return np.concatenate([a, b], axis=axis), np.stack([a, a], axis=axis)

    check(f, randn(rng, shape), randn(rng, tuple(other)))


# --- where, clip, norm --------------------------------------------------------------------------------
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4))
def test_where(shapes, rng):
    c, a, b = shapes.input_shapes

    def f(cond, x, y):
        return np.where(cond > 0, x, y), np.where(cond > 0, x, 0.0), np.where(cond > 0, 1.0, y), \
            np.where(cond > 0, 1, 2)

    check(f, randn(rng, c), randn(rng, a), randn(rng, b))


def test_where_dtypes(rng):
    def f(c, x32, i):
        return (np.where(c, x32, 0.0), np.where(c, x32, i), np.where(c, i, 1.5), np.where(c, i, 1),
                np.where(c, True, False), np.where(i, x32, x32))

    check(f, rng.random(4) > 0.5, randn(rng, 4, np.float32), rand_int(rng, 4))


def test_clip(rng):
    def f(x, lo, i, u):
        return (np.clip(x, -0.5, 0.5), x.clip(-0.1, 0.2), np.clip(x, None, 0.3), np.clip(x, lo, 1.0),
                x.clip(min=0.0), x.clip(max=0.0), np.clip(i, -2, 2), np.clip(i, 0.5, 2.5), np.clip(u, -1, 1),
                np.clip(u, 0, 300))

    check(f, randn(rng, (3, 4)), randn(rng, 4) - 0.5, rand_int(rng, (3, 4)), rand_int(rng, 5, 0, 9, np.uint8))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int16])
def test_round(dtype, rng):
    def f(a):
        return np.round(a, 2), np.round(a, -1), np.round(a), a.round(1), np.around(a, 3), np.round(a, decimals=-2)

    check(f, (randn(rng, (3, 4)) * 300).astype(dtype))


def test_linspace_array_ndmin_clip_keywords(rng):
    def f(a):
        return (np.linspace(0, 1, 5, retstep=True)[1] * a, np.linspace(0, 1, 3, endpoint=False) + a[0, :3],
                np.array(a[0], ndmin=3), np.array([a[0, 0], 1.0], ndmin=2), np.array(2.0, ndmin=1),
                np.clip(a, min=-1, max=1), np.clip(a, max=0.5))

    check(f, randn(rng, (3, 4)))


def test_expand_dims_arange_keywords_real_imag(rng):
    def f(a):
        return (np.expand_dims(a, (0, 2)), np.expand_dims(a, -1), np.expand_dims(a, (-1, 0)),
                np.arange(start=1, stop=4) * a[0, :3], np.arange(stop=3), a.real, a.imag, np.real(a), np.imag(a),
                np.conj(a), a.conj(), np.conjugate(a))

    check(f, randn(rng, (3, 4)))


def test_isclose_allclose_nan_to_num(rng):
    def f(a, b, i):
        return (np.isclose(a, b), np.isclose(a, a + 1e-9), np.isclose(a, b, rtol=0.5, atol=0.1),
                np.isclose(b, b, equal_nan=True), np.isclose(i, i + 1, atol=1), np.allclose(a, a),
                np.nan_to_num(b), np.nan_to_num(b, nan=-1.0, posinf=9.0), np.nan_to_num(i))

    b = randn(rng, (3, 4))
    b[0, 0], b[1, 1], b[2, 2] = np.nan, np.inf, -np.inf
    check(f, randn(rng, (3, 4)), b, rand_int(rng, (3, 4)))


def test_linalg_norm(rng):
    def f(v, m, t):
        return (np.linalg.norm(v), np.linalg.norm(m), np.linalg.norm(m, "fro"), np.linalg.norm(m, axis=0),
                np.linalg.norm(m, axis=1), np.linalg.norm(m, axis=-1, keepdims=True), np.linalg.norm(v, 2),
                np.linalg.norm(v, 1), np.linalg.norm(v, np.inf), np.linalg.norm(v, -np.inf),
                np.linalg.norm(v, 0), np.linalg.norm(v, 3), np.linalg.norm(m, 1), np.linalg.norm(m, np.inf),
                np.linalg.norm(m, -1), np.linalg.norm(m, ord="fro", axis=(1, 0)), np.linalg.norm(t),
                np.linalg.norm(t, axis=(0, 2)), np.linalg.norm(t, keepdims=True), np.linalg.norm(m, 1, axis=1))

    check(f, randn(rng, 5), randn(rng, (3, 4)), randn(rng, (2, 3, 4)))
    check(f, randn(rng, 5, np.float32), randn(rng, (3, 4), np.float32), randn(rng, (2, 3, 4), np.float32))


def test_norm_from_the_linalg_import(rng):
    from numpy.linalg import norm

    def f(x):
        return norm(x), norm(x, axis=1)

    check(f, randn(rng, (3, 4)))


# --- constructors ----------------------------------------------------------------------------------------
def test_constructors(rng):
    def f(x):
        n = x.shape[0]
        return (np.zeros(3), np.zeros((2, n)), np.zeros((2, 3), dtype=np.float32), np.ones(n, dtype=int),
                np.ones((n, 2), np.int32), np.empty((2,)).shape, np.empty(n, dtype=np.float32).dtype,
                np.full((2, 2), 3.0), np.full(3, 2), np.full((2,), 1.5, dtype=np.float32), np.full(n, True),
                np.eye(3), np.eye(n), np.eye(3, 4, k=1, dtype=np.int32), np.identity(2), np.arange(5),
                np.arange(1, 7, 2), np.arange(0.0, 1.0, 0.25), np.arange(n, dtype=np.float32),
                np.arange(-3, 3), np.linspace(0, 1, 5), np.zeros(0))

    check(f, randn(rng, 4))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_])
def test_like_constructors(dtype, rng):
    def f(a):
        return (np.zeros_like(a), np.ones_like(a), np.full_like(a, 7), np.full_like(a, 2.5), np.full_like(a, True),
                np.empty_like(a).shape, np.empty_like(a).dtype, np.zeros_like(a, dtype=np.float32),
                np.ones_like(a, shape=(2,)), np.full_like(a, 1, dtype=np.int64), np.zeros_like(a[0]) + a[1])

    check(f, (np.abs(randn(rng, (3, 4))) * 3).astype(dtype))


def test_constructors_are_writable_and_filled_in_loops(rng):
    def f(x):
        out = np.zeros_like(x)
        acc = np.zeros(x.shape[1])
        buf = np.empty((x.shape[0], 2))
        for i in range(x.shape[0]):
            out[i] = x[i] * 2
            acc += x[i]
            buf[i] = np.full(2, float(i))
        return out, acc, buf

    check(f, randn(rng, (4, 3)))


def test_full_with_traced_fill(rng):
    def f(x, s):
        return np.full((2, 3), x[0]), np.full(3, s), np.full_like(x, x.sum()), np.full((2,), s, dtype=np.float32)

    check(f, randn(rng, 4), 2.5)


def test_shape_from_array_data_is_an_error(rng):
    def f(x, n):
        return np.zeros(n)

    with pytest.raises(looptrace.TraceError, match="static"):  # an int argument would be specialized on
        looptrace.jit(f, backend="interpret")(randn(rng, 3), np.array(4))


# --- methods and attributes ---------------------------------------------------------------------------
def test_copy_astype_and_attributes(rng):
    def f(a):
        c = a.copy()
        c[0, 0] = 5.0
        d = np.copy(a)
        d *= 2
        return (a, c, d, a.astype(np.float32), a.astype(int), a.astype(np.int8), a.astype(bool),
                a.astype("float32"), a.shape, a.ndim, a.size, a.dtype, a.T.shape, len(a), a.dtype == np.float64,
                np.shape(a), np.ndim(a), np.size(a), a.astype(a.dtype), np.array(a), np.asarray(a, np.float32))

    check(f, randn(rng, (3, 4)) * 10)


def test_astype_casts_like_numpy(rng):
    def f(x, i):
        return x.astype(np.int32), x.astype(np.uint8), i.astype(np.float32), i.astype(bool), (x > 0).astype(float)

    check(f, randn(rng, 6) * 20, rand_int(rng, 6))


def test_shape_attributes_are_python_values(rng):
    def f(a):
        m, n = a.shape
        return np.zeros((n, m)) + a.T, a.ndim + 1, a.shape[-1] * 2, a.size

    check(f, randn(rng, (2, 5)))


# --- Python builtins on traced scalars -------------------------------------------------------------------
def test_builtins_on_traced_scalars(rng):
    def f(a):
        s = a.sum()
        t = a[0, 0]
        return (min(s, t), max(s, t), abs(s), abs(t - 100.0), float(s), int(s), max(t, a[0, 1], a[0, 2]),
                min(a[1, 0], a[1, 1]), min([t, s]), int(t * 10), float(a.shape[0]), int(-2.5 * abs(t)))

    check(f, randn(rng, (3, 4)))


def test_round_builtin_on_traced_scalars(rng):
    def f(a, i):
        return round(a[0]), round(a.sum(), 2), round(a[1] * 10, -1), round(i[0]), round(a[2], 0)

    check(f, randn(rng, 4) * 10, rand_int(rng, 3))


def test_builtins_in_expressions(rng):
    def f(a, n):
        k = int(a.argmax())
        return a[k], float(a.max()) * 2, abs(n), max(n, 3), float(n) + a[0]

    check(f, randn(rng, 5), -4)


def test_int_of_traced_scalar_indexes(rng):
    def f(a):
        i = int(a.argmin())
        return a[i] + a[int(a.argmax())]

    check(f, randn(rng, 6))


def test_python_sum_over_array_and_max_over_rows_rejected(rng):
    """sum() of an array adds its rows (tests/tracer/test_python_idioms_s32.py);
    max() of a 2-d array compares rows: refused, as Python's truth value is."""
    def f(a):
        return sum(a)

    def g(a):
        return max(a)

    check(f, randn(rng, 4))
    with pytest.raises(looptrace.TraceError, match="np.max"):  # plain Python: ambiguous truth value
        looptrace.jit(g, backend="interpret")(randn(rng, (4, 3)))


# --- unsupported functions ---------------------------------------------------------------------------------
def un_roots(x):
    return np.roots(x[0])  # (np.fft.hfft is supported: tracer/np_fft.py)


def un_svd(x):
    return np.linalg.eigvals(x)  # (np.linalg.tensorinv is supported: tracer/np_numeric.py)


def un_poly(x):
    return np.poly(x)  # a matrix (np.poly of roots, np.partition are supported)


def un_histogram_bin_edges(x):
    return np.histogram_bin_edges(x[0], "auto")  # (an int bins, np.argpartition, sliding_window_view are supported)


def un_compress_method(x):
    return x[0].compress(x[1][:2] > 0)  # a shorter condition (a full one is a selection: masked.py)


def un_setdiff1d(x):
    return np.setdiff1d(x[0], x[1])  # (np.polyfit, np.resize are supported: tracer/np_breadth.py, np_surface.py)


def un_unique(x):
    return np.unique(x, axis=0)  # (the values, first positions, inverse and counts are selections: masked.py)


def un_tensorsolve(x):
    return np.union1d(x[0], x[1])  # (np.linalg.tensorsolve, np.polyder, np.linalg.multi_dot are supported)


def un_byteswap_method(x):
    y = x.copy()
    y.byteswap()  # (y.partition, y.put are supported)
    return y


def un_eig(x):
    return np.linalg.eig(x)


def un_ufunc_accumulate(x):
    return np.subtract.accumulate(x)  # (maximum's is a scan now: tracer/np_scans.py)


@pytest.mark.parametrize("fn, name", [
    (un_roots, "np.roots"), (un_svd, "np.linalg.eigvals"), (un_poly, "np.poly"),
    (un_histogram_bin_edges, "np.histogram_bin_edges"), (un_compress_method, "compress"),
    (un_setdiff1d, "np.setdiff1d"), (un_unique, "np.unique"), (un_tensorsolve, "np.union1d"), (un_byteswap_method, ".byteswap"),
    (un_eig, "np.linalg.eig"),
    (un_ufunc_accumulate, "np.subtract.accumulate"),
], ids=lambda v: getattr(v, "__name__", v))
def test_unsupported_functions_name_function_and_line(fn, name, rng):
    import inspect

    lines, first = inspect.getsourcelines(fn)
    with pytest.raises(looptrace.UnsupportedError) as info:
        looptrace.jit(fn, backend="interpret")(randn(rng, (3, 3)))
    err = info.value
    assert name in err.problem
    assert err.loc is not None and err.loc.file == __file__
    assert first < err.loc.line < first + len(lines)
    assert f"line {err.loc.line}" in str(err)


def un_imported_roots(x):
    from numpy import roots

    return roots(x)


def un_foreign_ufunc(x):
    return np.frompyfunc(abs, 1, 1)(x)


def un_matvec(x):
    return np.isnat(x)  # (np.matvec, np.nextafter are supported: tracer/np_numeric.py, np_breadth.py)


@pytest.mark.parametrize("fn, name", [(un_imported_roots, "np.roots"), (un_foreign_ufunc, "the ufunc"),
                                      (un_matvec, "np.isnat")], ids=lambda v: getattr(v, "__name__", v))
def test_unsupported_reached_other_ways(fn, name, rng):
    with pytest.raises(looptrace.UnsupportedError, match=name) as info:
        looptrace.jit(fn, backend="interpret")(randn(rng, 3))
    assert info.value.loc.file == __file__


def test_unsupported_functions_on_plain_arrays_still_work(rng):
    def f(x):
        return x + np.sort(np.array([3.0, 1.0, 2.0])), np.cumsum(np.array([1.0, 2.0]))

    check(f, randn(rng, 3))


def test_hasattr_on_a_tracer_is_false_for_unsupported_methods(rng):
    def f(x):
        return x * 2 if hasattr(x, "byteswap") else x

    assert looptrace.jit(f, backend="interpret")(np.ones(2)).tolist() == [1.0, 1.0]


def test_conjugate_of_real_and_bool_arrays(rng):
    """np.conjugate of bool computes in int8 (NumPy's first loop taking a
    bool); the method gives the array itself unless it is complex."""
    def conj(a, b, c):
        return np.conjugate(a), a.conj(), np.conj(b), b.conjugate(), c.conj(), np.conjugate(c)

    args = rng.random(5) > 0.5, rng.standard_normal(4), rng.standard_normal(3) + 1j * rng.standard_normal(3)
    for backend in ("interpret", "cpu"):
        got, want = looptrace.jit(conj, backend=backend)(*args), conj(*args)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w)


def test_round_of_bools_with_decimals_raises_as_numpy(rng):
    b = rng.random(4) > 0.5
    check(lambda a: np.round(a), b)  # float16, as NumPy
    for d in (2, -1):
        with pytest.raises(TypeError):
            np.round(b, d)
        with pytest.raises(TypeError, match="Cannot cast ufunc"):
            looptrace.jit(lambda a: np.round(a, d), backend="interpret")(b)
