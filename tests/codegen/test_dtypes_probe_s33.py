"""What a probe of dtypes found (session 33), each against the plain
function: uint64 against signed integers (the cpu target compared through
float64), int() of a uint64 past 2**63, complex constants that are infinite
or NaN (the cpu kernel named `inf`), complex division by zero (Numba
raised), complex ordering (an internal error: now a clear refusal), np.take
with uint64 indices, and a uint64 array against a negative Python int."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt

BACKENDS = ["interpret", "cpu"]


def compare_all(a, b):
    return a == b, a != b, a < b, a <= b, a > b, a >= b, b < a, b >= a


@pytest.mark.parametrize("backend", BACKENDS)
def test_uint64_against_signed_integers_is_exact(backend):
    big = [2**63, 2**53, 0, 2**64 - 1, 7, 2**63 - 1]
    a = np.array(big, dtype=np.uint64)
    for b in (np.array([2**63 - 1, 2**53 + 1, -1, -(2**63), 7, 2**63 - 1], dtype=np.int64),
              np.array([5, -3, 0, 127, 7, -128], dtype=np.int8)):
        for got, want in zip(lt.jit(compare_all, backend=backend)(a, b), compare_all(a, b), strict=True):
            np.testing.assert_array_equal(got, want)


# one length (lengths 1-6 compiled several kernels: 3 and 5 are two, 1.8 s in e17f737's CI);
# the values are what this generates
@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=6, max_size=6), st.integers(-(2**63), 2**63 - 1))
def test_uint64_against_int64_generated(us, s):
    a = np.array(us, dtype=np.uint64)
    b = np.full(a.shape, s, dtype=np.int64)
    for got, want in zip(lt.jit(compare_all, backend="cpu")(a, b), compare_all(a, b), strict=True):
        np.testing.assert_array_equal(got, want)


def against_python_int(a, n):
    return a == n, a > n, a <= n


@pytest.mark.parametrize("backend", BACKENDS)
def test_uint64_against_a_negative_python_int(backend):
    """An OverflowError with no line before; NumPy 2 compares exactly."""
    a = np.array([1, 2**63 + 5], dtype=np.uint64)
    for n in (-1, 3, 2**63 - 1):
        for got, want in zip(lt.jit(against_python_int, backend=backend)(a, n), against_python_int(a, n)):
            np.testing.assert_array_equal(got, want)


def against_literals(u):
    c = 0
    for i in range(u.shape[0]):
        if u[i] > -5:
            c += 1
        if -3 >= u[i]:
            c += 10
        if u[i] != -1:
            c += 100
    return c


@pytest.mark.parametrize("backend", BACKENDS)
def test_uint64_elements_against_negative_literals(backend):
    """A raw OverflowError (session-35 probe I): the literal as int64, compared exactly."""
    u = np.array([0, 2**63 + 5, 7], np.uint64)
    assert lt.jit(against_literals, backend=backend)(u) == against_literals(u)


def against_huge_ints(a):
    c = 0
    for i in range(a.shape[0]):
        if 10**20 > a[i]:
            c += 1
    return c, a > 2**70, a[0] == 2**70, a[1] != -2**64, -10**20 <= a


@pytest.mark.parametrize("backend", BACKENDS)
def test_int_elements_against_python_ints_no_dtype_holds(backend):
    """A raw OverflowError ("Python int too large to convert to C long",
    session-35 probe J); NumPy 2 compares exactly."""
    a = np.array([5, -3, 7], np.int32)
    for got, want in zip(lt.jit(against_huge_ints, backend=backend)(a), against_huge_ints(a)):
        np.testing.assert_array_equal(got, want)
        assert np.asarray(got).dtype == np.asarray(want).dtype


def int_of_uint64(a):
    return int(a[0]) + 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_int_of_a_uint64_past_int64_raises(backend):
    """Python makes 2**64; looptrace's int64 gave 0."""
    with pytest.raises(OverflowError, match="past 64 bits"):
        lt.jit(int_of_uint64, backend=backend)(np.array([2**64 - 1], dtype=np.uint64))
    assert lt.jit(int_of_uint64, backend=backend)(np.array([5], dtype=np.uint64)) == 6


def complex_constants(c):
    return c + np.inf, c * np.nan, np.where(c.real > 1, c, np.nan), c * 1e300


def complex_division(c, d):
    return c / d


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("backend", BACKENDS)
def test_complex_infinities_and_division_by_zero(backend):
    for dt in (np.complex64, np.complex128):
        c = np.array([1 + 2j, 3 - 1j], dtype=dt)
        for got, want in zip(lt.jit(complex_constants, backend=backend)(c), complex_constants(c)):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    c = np.array([1 + 1j, 3 + 0j, 0j, -2 + 5j, 1 + 2j])
    d = np.array([0j, 0j, 0j, 0j, 1 - 1j])
    np.testing.assert_array_equal(lt.jit(complex_division, backend=backend)(c, d), complex_division(c, d))


def complex_max(z):
    return np.max(z)


def test_ordering_complex_values_is_a_clear_refusal_on_cpu():
    z = np.array([1 + 3j, 3 - 1j])
    assert lt.jit(complex_max, backend="interpret")(z) == complex_max(z)
    with pytest.raises(lt.UnsupportedError, match="ordering complex values"):
        lt.jit(complex_max, backend="cpu")(z)


def take_with(x, idx):
    return np.take(x, idx)


@pytest.mark.parametrize("backend", BACKENDS)
def test_take_with_uint64_indices(backend):
    x = np.arange(5.0)
    idx = np.array([0, 4, 2], dtype=np.uint64)
    np.testing.assert_array_equal(lt.jit(take_with, backend=backend)(x, idx), take_with(x, idx))


def dtype_by_branch(a, t):
    y = a
    if t[0] > 0:
        y = a.astype(np.uint8)
    return y - 1


def test_an_array_dtype_chosen_by_a_traced_branch_is_refused():
    """Both sides were promoted (int16): plain gives uint8 [255, 4] or int8 [-1, 4]."""
    with pytest.raises(lt.UnsupportedError, match="array of uint8 on one side of this `if`"):
        lt.jit(dtype_by_branch, backend="interpret")(np.array([0, 5], np.int8), np.array([1.0]))


def widened_in_a_loop(a, n):
    y = a
    for i in range(n):
        y = y * 1.5
    return y


def widened_in_a_while(a, x):
    y = a
    i = 0
    while x[i] > 0:
        y = y * 1.5
        i += 1
    return y


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_array_dtype_an_iteration_changes(backend):
    """After a loop of zero trips the array keeps its dtype (it was float64):
    the int trip count is made static; a while loop's is refused."""
    a = np.array([1, 2, 3], dtype=np.int8)
    f = lt.jit(widened_in_a_loop, backend=backend)
    for n in (0, 2):
        got, want = f(a, n), widened_in_a_loop(a, n)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    with pytest.raises(lt.UnsupportedError, match="after a loop of zero trips"):
        lt.jit(widened_in_a_while, backend=backend)(a, np.array([1.0, -1.0]))
