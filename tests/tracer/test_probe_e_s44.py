"""Fixes from probe E (edge values and shapes, session 44), each against the
plain function: np.ravel of a non-contiguous array is a copy, reductions of
arrays made inside the function are NumPy scalars, builtin sum() adds in the
type of start + x[0], long double on the CPU backend is a clear error, an
in-place operand that does not broadcast is NumPy's ValueError."""
import numpy as np
import pytest

import looptrace as lt

LAYOUTS = {
    "c": lambda: np.arange(24.0).reshape(3, 8),
    "cols": lambda: np.arange(24.0).reshape(3, 8)[:, ::2],
    "reversed": lambda: np.arange(6.0)[::-1],
    "stepped": lambda: np.arange(8.0)[::2],
    "fortran": lambda: np.asfortranarray(np.arange(24.0).reshape(3, 8)),
    "transposed": lambda: np.arange(24.0).reshape(3, 8).T,
    "rows": lambda: np.arange(24.0).reshape(6, 4)[::2],
}


def ravel_c(x):
    v = np.ravel(x)
    v[1] = 99.0
    return v.sum()


def ravel_method_f(x):
    v = x.ravel(order="F")
    v[1] = -5.0
    return v.sum()


def ravel_a(x):
    v = x.ravel("A")
    v[2] = 7.0
    return v * 2


@pytest.mark.parametrize("fn", [ravel_c, ravel_method_f, ravel_a])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_ravel_writes_reach_the_argument_only_where_numpy_makes_a_view(fn, layout):
    x, y = LAYOUTS[layout](), LAYOUTS[layout]()
    expected = fn(x)
    got = lt.jit(fn, backend="interpret")(y)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(y, x)  # the argument changed exactly as plain changed it


def test_ravel_copy_on_cpu_and_a_new_layout_retraces():
    g = lt.jit(ravel_c, backend="cpu")
    for layout in ("c", "cols", "c", "stepped"):
        x, y = LAYOUTS[layout](), LAYOUTS[layout]()
        assert g(y) == ravel_c(x)
        np.testing.assert_array_equal(y, x)


def test_reductions_of_arrays_made_inside_are_numpy_scalars():
    def f(x):
        d = np.array([1.0, np.nan, 2.0])
        return d.max(), np.nanmin(d), np.mean(d), (x * d).sum(), d.std(), d + 1

    x = np.random.default_rng(0).standard_normal(3)
    expected = f(x)
    got = lt.jit(f, backend="interpret")(x)
    for e, g in zip(expected, got):
        assert type(e) is type(g)
        np.testing.assert_array_equal(e, g)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64,
                                   np.float32, np.bool_])
def test_builtin_sum_adds_in_the_type_of_start_plus_an_element(dtype):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 120, 9).astype(dtype)
    X = rng.integers(0, 120, (4, 3)).astype(dtype)

    def plain_sum(x):
        return sum(x)

    def float_start(x):
        return sum(x, 0.5)

    def strong_start(x):
        return sum(x, np.int16(3))

    for fn in (plain_sum, float_start, strong_start):
        for a in (x, X):
            expected, got = fn(a), lt.jit(fn, backend="interpret")(a)
            assert type(got) is type(expected)
            assert np.asarray(got).dtype == np.asarray(expected).dtype
            np.testing.assert_array_equal(got, expected)


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8, reason="long double is float64 here")
def test_long_double_on_cpu_is_a_clear_error_and_works_on_interpret():
    def f(x):
        s = 0.0
        for v in x:
            s += v
        return s

    x = np.random.default_rng(2).standard_normal(4).astype(np.longdouble)
    assert lt.jit(f, backend="interpret")(x) == f(x)
    with pytest.raises(lt.UnsupportedError, match="longdouble"):
        lt.jit(f, backend="cpu")(x)


def test_in_place_operand_that_does_not_broadcast_is_a_value_error():
    def f(A, b):
        for i in range(A.shape[0]):
            A[i] += b
        return A

    with pytest.raises(ValueError):
        f(np.ones((3, 1)), np.ones(4))
    with pytest.raises(ValueError, match="non-broadcastable output operand"):
        lt.jit(f, backend="interpret")(np.ones((3, 1)), np.ones(4))


def test_builtin_min_max_of_an_array_keep_the_first_of_equal_zeros():
    def f(x):
        return min(x), max(x)

    rng = np.random.default_rng(3)
    cases = [np.array([0.0, -0.0]), np.array([-0.0, 0.0])]
    cases += [rng.choice(np.array([-0.0, 0.0, 1.0, -1.0, np.nan]), size=7) for _ in range(30)]
    g = lt.jit(f, backend="interpret")
    for x in cases:
        for want, got in zip(f(x), g(x)):
            assert type(want) is type(got)
            np.testing.assert_array_equal(want, got)
            assert np.signbit(want) == np.signbit(got), x
