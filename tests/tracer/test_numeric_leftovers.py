"""Numeric leftovers that differed from NumPy (session 43, helper N): a complex
product chain with real factors keeps its signed zeros (no regrouping), complex
division is NumPy's algorithm on the CPU, conversions of arrays to Python
scalars raise NumPy's classes, and axis / linalg shape errors are NumPy's
AxisError / LinAlgError."""
import operator

import numpy as np
import pytest

import looptrace


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)

    def signs(v):
        return np.where(np.isnan(v), False, np.signbit(v))

    return (a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
            and np.array_equal(signs(a.real), signs(b.real)) and np.array_equal(signs(a.imag), signs(b.imag)))


def complex_times_reals(x):
    h = 1 + 0j
    for t in range(x.shape[0]):
        h = h * x[t]
    return h


def complex_array_times_reals(x, h):
    for t in range(x.shape[0]):
        h = x[t] * h
    return h


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_complex_product_chain_keeps_signed_zeros(rng, backend):
    jf = looptrace.jit(complex_times_reals, backend=backend)
    x = np.array([-0.5, -2.0, -0.5, -0.0])
    assert _same(jf(x), complex_times_reals(x))  # -0j in order, 0j when regrouped
    x = np.array([-0.5, -2.0, -0.5])
    assert np.angle(jf(x)) == np.angle(complex_times_reals(x)) == np.pi
    for _ in range(30):
        x = rng.choice([-2.0, -0.5, -0.0, 0.0, 0.5, 3.0], int(rng.integers(1, 6)))
        assert _same(jf(x), complex_times_reals(x)), x


def test_complex64_array_product_chain_keeps_signed_zeros(rng):
    jf = looptrace.jit(complex_array_times_reals, backend="interpret")
    for _ in range(30):
        x = rng.choice([-2.0, -0.5, -0.0, 0.0, 0.5, 3.0], int(rng.integers(1, 6))).astype(np.float32)
        h = np.array([1 + 0j, -1 - 0j, complex(0.0, -0.0)], np.complex64)
        assert _same(jf(x, h.copy()), complex_array_times_reals(x, h.copy())), x


def _divide(z, w):
    return z / w


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_cpu_complex_division_is_numpy_s(rng, dtype):
    jf = looptrace.jit(_divide, backend="cpu")
    special = [0.0, -0.0, 1.5, -2.0, np.inf, np.nan, 1e-310]
    parts = np.concatenate([rng.standard_normal(200), rng.choice(special, 200)])
    z, w = np.empty(400, dtype), np.empty(400, dtype)
    for c in (z, w):
        c.real, c.imag = rng.choice(parts, 400), rng.choice(parts, 400)
    with np.errstate(all="ignore"):
        assert _same(jf(z, w), z / w)
        r = rng.standard_normal(400).astype(z.real.dtype)
        r[::7] = -0.0
        assert _same(jf(z, r), z / r)  # 1/-0.0 as a complex: inf+nanj, by |0|


@pytest.mark.parametrize("conv", [float, int, complex])
@pytest.mark.parametrize("shape", [(1,), (1, 1), (2,)])
def test_converting_an_array_of_ndim_above_0_is_numpy_s_type_error(conv, shape):
    jf = looptrace.jit(lambda a: conv(a), backend="interpret")
    with pytest.raises(TypeError, match="only 0-dimensional arrays"):
        jf(np.full(shape, 1.5))


def test_bool_of_an_array_is_numpy_s():
    jf = looptrace.jit(lambda a: bool(a), backend="interpret")
    for a in (np.array([1.5]), np.array([[0.0]]), np.array([0])):
        assert jf(a) is bool(a) or jf(a) == bool(a)
    with pytest.raises(ValueError, match="more than one element"):
        jf(np.ones(2))
    with pytest.raises(ValueError, match="empty"):
        jf(np.ones(0))


@pytest.mark.parametrize("a", [np.array(1.0), np.array(True), np.array([3]), np.array([[3]]), np.array(2j)])
def test_operator_index_of_a_non_integer_or_an_array_is_numpy_s_type_error(a):
    jf = looptrace.jit(lambda a: operator.index(a), backend="interpret")
    with pytest.raises(TypeError, match="only integer scalar arrays"):
        jf(a)


def test_broadcast_to_an_impossible_shape_is_numpy_s_value_error():
    jf = looptrace.jit(lambda x: np.broadcast_to(x, (3, 5)), backend="interpret")
    with pytest.raises(ValueError, match=r"could not be broadcast together with remapped shapes") as e:
        jf(np.ones((2, 3)))
    assert "(2,3)" in str(e.value) and "(3,5)" in str(e.value)


@pytest.mark.parametrize("fn", [lambda x: x.sum(axis=3), lambda x: np.expand_dims(x, 4),
                                lambda x: np.diff(x, axis=2), lambda x: np.linalg.norm(x, axis=3),
                                lambda x: np.concatenate([x, x], axis=2)])
def test_axis_out_of_bounds_is_numpy_s_axis_error(fn):
    x = np.ones((2, 3))
    with pytest.raises(np.exceptions.AxisError):
        fn(x)
    with pytest.raises(np.exceptions.AxisError, match="out of bounds for array of dimension"):
        looptrace.jit(fn, backend="interpret")(x)


@pytest.mark.parametrize("fn", [lambda x, b: np.linalg.solve(x, b), lambda x, b: np.linalg.inv(x),
                                lambda x, b: np.linalg.det(x), lambda x, b: np.linalg.cholesky(x),
                                lambda x, b: np.linalg.svd(x[0]), lambda x, b: np.linalg.qr(x[0]),
                                lambda x, b: np.linalg.slogdet(x)])
def test_linalg_non_square_is_numpy_s_linalg_error(fn):
    x, b = np.ones((2, 3)), np.ones(2)
    with pytest.raises(np.linalg.LinAlgError):
        fn(x, b)
    with pytest.raises(np.linalg.LinAlgError):
        looptrace.jit(fn, backend="interpret")(x, b)
