"""NumPy and Python semantics left by probe X3 (session 43, helper N2): axis
arguments out of range raise NumPy's AxisError (never wrapped modulo ndim);
max()/min()/sorted() with a Python int past 64 bits give plain's value or a
BigIntError naming the line; comparisons with big Python ints are exact for
every int dtype and raise NumPy's OverflowError for a bool; a power's Python
int exponent out of its dtype's range is NumPy's OverflowError; the truth of
an array of other than one element is NumPy's ValueError; matrix_rank's type."""
import warnings

import numpy as np
import pytest

import looptrace
from looptrace.errors import BigIntError, LooptraceError


def _outcome(fn, *args):
    """(value, type) of fn(*args), or the exception's class and message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    except Exception as e:
        return ("raised", e)
    return ("value", r)


def _check(fn, *args, backend="interpret"):
    """The jitted function gives plain's value and type, or raises an instance of plain's class."""
    plain, jit = _outcome(fn, *args), _outcome(looptrace.jit(fn, backend=backend), *args)
    if plain[0] == "raised":
        assert jit[0] == "raised", f"plain raised {plain[1]!r}, jit returned {jit[1]!r}"
        assert isinstance(jit[1], type(plain[1])), f"plain {plain[1]!r}, jit {jit[1]!r}"
        return jit[1]
    assert jit[0] == "value", f"plain returned {plain[1]!r}, jit raised {jit[1]!r}"
    assert type(jit[1]) is type(plain[1]), (plain[1], jit[1])
    assert np.asarray(jit[1]).shape == np.asarray(plain[1]).shape
    assert np.array_equal(np.asarray(jit[1]), np.asarray(plain[1]))
    return jit[1]


# --- 1. axis arguments -------------------------------------------------------------------------------
def stack_axis_3(x):
    return np.stack([x, x], axis=3)


def stack_axis_minus_4(x):
    return np.stack([x, x], axis=-4)


def stack_rows_axis_2(x):
    return np.stack([x[0], x[1]], axis=2)


def transpose_0_2(x):
    return x.transpose(0, 2)


def transpose_0_minus_3(x):
    return np.transpose(x, (0, -3))


def expand_dims_3(x):
    return np.expand_dims(x, 3)


def stack_axis_minus_3(x):
    return np.stack([x, x], axis=-3)


def transpose_minus_1_0(x):
    return x.transpose(-1, 0)


@pytest.mark.parametrize("fn", [stack_axis_3, stack_axis_minus_4, stack_rows_axis_2, transpose_0_2,
                                transpose_0_minus_3, expand_dims_3])
def test_axis_out_of_range_is_numpys_axis_error(rng, fn):
    x = rng.standard_normal((3, 4))
    e = _check(fn, x)
    assert isinstance(e, np.exceptions.AxisError) and isinstance(e, LooptraceError)
    assert "out of bounds for array of dimension" in str(e) and "test_numeric_leftovers_2.py" in str(e)


@pytest.mark.parametrize("fn", [stack_axis_3, transpose_0_2])
def test_axis_out_of_range_on_cpu(rng, fn):
    _check(fn, rng.standard_normal((3, 4)), backend="cpu")


@pytest.mark.parametrize("fn", [stack_axis_minus_3, transpose_minus_1_0])
def test_negative_axes_in_range_still_work(rng, fn):
    _check(fn, rng.standard_normal((3, 4)))


def transpose_repeated(x):
    return x.transpose(1, 1)


def transpose_too_few(x):
    return x.transpose((0,))


@pytest.mark.parametrize("fn, message", [(transpose_repeated, "repeated axis in transpose"),
                                         (transpose_too_few, "axes don't match array")])
def test_transpose_axes_errors_are_numpys(rng, fn, message):
    e = _check(fn, rng.standard_normal((3, 4)))
    assert isinstance(e, ValueError) and message in str(e)


# --- 2. max / min / sorted with a Python int past 64 bits -------------------------------------------------
def max_big(x):
    return max(x[0], 2**70)


def max_float_big(x):
    return max(float(x[0]), 2**70)


def min_big(x):
    return min(x[0], 2**70)


def max_minus_big(x):
    return max(x[0], -2**70)


def min_of_three(x):
    return min(-2**70, x[0], x[1])


def min_in_loop(x):
    m = x[0]
    for i in range(x.shape[0]):
        m = min(m, 2**70, x[i])
    return m


def max_big_key(x):
    return max(x[0], 2**70, key=lambda v: -v)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.uint64])
@pytest.mark.parametrize("fn", [min_big, max_minus_big, min_in_loop, max_big_key])
def test_int_against_big_int_is_the_int(rng, dtype, fn):
    x = rng.integers(1, 100, 4).astype(dtype)
    r = _check(fn, x)
    assert isinstance(r, np.generic)


@pytest.mark.parametrize("fn", [max_big, max_float_big, min_of_three])
def test_float_against_big_int_refused_where_the_big_int_wins(rng, fn):
    x = rng.standard_normal(3)
    jf = looptrace.jit(fn, backend="interpret")
    with pytest.raises(BigIntError, match="returns the Python int") as e:
        jf(x)
    assert "test_numeric_leftovers_2.py" in str(e.value) and isinstance(e.value, OverflowError)


def test_float_against_big_int_where_the_float_wins(rng):
    for backend in ("interpret", "cpu"):
        _check(max_minus_big, rng.standard_normal(3), backend=backend)
        _check(min_big, rng.standard_normal(3), backend=backend)


def max_float_inexact(x):
    return max(float(x[0]), 2**53 + 1)


def test_int_a_float_cannot_hold_is_refused_not_rounded():
    jf = looptrace.jit(max_float_inexact, backend="interpret")
    with pytest.raises(LooptraceError, match="does not hold exactly"):
        jf(np.array([2.0**53, 1.0]))
    assert jf(np.array([2.0**60, 1.0])) == max_float_inexact(np.array([2.0**60, 1.0]))


def sorted_big(x):
    return sorted([x[0], 2**70, x[1]])[0]


def sorted_big_ints(x):
    return sorted([x[0], 2**70, x[1]])


def test_sorted_with_big_int():
    with pytest.raises(BigIntError, match="sorted"):
        looptrace.jit(sorted_big, backend="interpret")(np.array([0.5, -1.0]))
    _check(sorted_big_ints, np.array([5, -3], dtype=np.int64))  # (every comparison with it is known)


def test_max_big_int_on_cpu(rng):
    _check(min_in_loop, rng.integers(-50, 50, 5), backend="cpu")
    with pytest.raises(BigIntError):
        looptrace.jit(max_big, backend="cpu")(rng.standard_normal(3))


# --- 3, 4. comparisons with big Python ints ---------------------------------------------------------------
_BIG = [2**70, -2**70, 2**64, 2**63, 2**64 - 1, -2**63 - 1]


def less_big(x, big):
    return x[1] < big


def big_greater(x, big):
    return big > x


def equal_big(x, big):
    return x[0] == big


def count_below(x, big):
    c = 0
    for i in range(x.shape[0]):
        if x[i] < big:
            c += 1
    return c


def _static_big(fn):
    return looptrace.jit(fn, backend="interpret", static_argnames=("big",))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
                                   np.uint64, np.bool_])
def test_comparisons_with_big_ints_are_exact(rng, dtype):
    x = rng.integers(0, 120, 5).astype(dtype)
    for big in _BIG:
        for fn in (less_big, big_greater, equal_big, count_below):
            plain, jit = _outcome(fn, x, big), _outcome(_static_big(fn), x, big)
            assert plain[0] == jit[0], (fn.__name__, big, plain, jit)
            if plain[0] == "raised":  # a NumPy bool: OverflowError (NumPy converts the int to a C long)
                assert isinstance(jit[1], type(plain[1])) and isinstance(jit[1], OverflowError)
            else:
                assert type(jit[1]) is type(plain[1]) and np.array_equal(jit[1], plain[1]), (fn.__name__, big)


def bool_equal_big(x):
    return x[0] == 2**70


def uint8_above_minus_big(x):
    return x[1] > -2**70


def uint32_below_2_63(x):
    return x[0] < 2**63


def test_bool_against_big_int_is_numpys_overflow_error():
    for backend in ("interpret", "cpu"):
        e = _check(bool_equal_big, np.array([True, False]), backend=backend)
        assert isinstance(e, OverflowError) and "test_numeric_leftovers_2.py" in str(e)


def test_unsigned_against_big_ints_on_cpu(rng):
    _check(uint8_above_minus_big, rng.integers(0, 200, 3).astype(np.uint8), backend="cpu")
    _check(uint32_below_2_63, rng.integers(0, 200, 3).astype(np.uint32), backend="cpu")
    _check(count_below_2_70, rng.integers(0, 200, 6).astype(np.uint64), backend="cpu")


def count_below_2_70(x):
    c = 0
    for i in range(x.shape[0]):
        if x[i] > -2**70 and x[i] < 2**70:
            c += 1
    return c


def py_float_less(x):
    return float(x[0]) < 2**53 + 1


def py_float_equal(x):
    return float(x[0]) == 2**53 + 1


def py_int_greater(x):
    return 2**53 + 1 > float(x[0])


def py_float_huge(x):
    return float(x[0]) < 10**400, float(x[0]) > -10**400


@pytest.mark.parametrize("fn", [py_float_less, py_float_equal, py_int_greater, py_float_huge])
def test_python_float_against_int_compares_exactly(fn):
    for x in (np.array([2.0**53, 1.0]), np.array([2.0**53 + 2, 1.0]), np.array([np.nan, 1.0]),
              np.array([np.inf, 1.0])):
        _check(fn, x)


# --- 5. integer powers ----------------------------------------------------------------------------------
def power_minus_2(x):
    return x ** -2


def power_scalar_minus_300(x):
    return x[1] ** -300


def np_power_minus_1(x):
    return np.power(x, -1)


def power_python_int(x, e):
    return x[0] ** int(e[0])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32,
                                   np.int64])
@pytest.mark.parametrize("fn", [power_minus_2, power_scalar_minus_300, np_power_minus_1])
def test_negative_exponent_out_of_the_dtype_is_overflow_error(dtype, fn):
    e = _check(fn, np.array([1, 2, 3], dtype=dtype))
    assert isinstance(e, (OverflowError, ValueError))


def test_uint8_negative_power_on_cpu():
    e = _check(power_minus_2, np.array([1, 2, 3], dtype=np.uint8), backend="cpu")
    assert isinstance(e, OverflowError) and "Python integer -2 out of bounds for uint8" in str(e)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint64, np.int64])
def test_traced_python_int_exponent(dtype):
    x = np.array([2, 3], dtype=dtype)
    for e in ([-2, 1], [-300, 1], [3, 1]):
        _check(power_python_int, x, np.array(e))


# --- 6. truth values ------------------------------------------------------------------------------------
def if_array(x):
    if x:
        return 1.0
    return 2.0


def while_array(x):
    n = 0
    while x:
        n += 1
        break
    return n


def not_array(x):
    return not x


def and_array(x):
    return x and 1.0


def assert_array(x):
    assert x
    return 1.0


def slice_in_loop(x):
    s = 0.0
    for i in range(3):
        if x[i:i] > 0:
            s += 1.0
    return s


def any_rows(x):
    return any(x > 0)


def all_rows(x):
    return all(x > 0)


@pytest.mark.parametrize("fn", [if_array, while_array, not_array, and_array, assert_array, slice_in_loop])
@pytest.mark.parametrize("shape", [(4,), (0,), (2, 2)])
def test_truth_of_arrays_is_numpys_value_error(rng, fn, shape):
    e = _check(fn, rng.standard_normal(shape))
    assert isinstance(e, ValueError) and isinstance(e, LooptraceError)
    empty = shape == (0,) or fn is slice_in_loop
    assert ("empty array" in str(e)) == empty
    assert "test_numeric_leftovers_2.py" in str(e)


def test_truth_of_one_element_arrays_works():
    for fn in (if_array, while_array, not_array):
        _check(fn, np.array([0.5]))
        _check(fn, np.array([[0.0]]))


@pytest.mark.parametrize("shape", [(3, 1), (3, 1, 1), (0, 4), (3, 2), (2, 0)])
def test_any_all_over_rows(rng, shape):
    x = rng.standard_normal(shape)
    _check(any_rows, x)
    _check(all_rows, x)


def sum_and_array(x):
    return np.sum(x) > 0 and x > 0


def test_and_of_scalar_and_array_is_not_broadcast(rng):
    """`c and arr` is c itself where c is false: never c broadcast to arr's shape."""
    x = rng.standard_normal(4)
    x = x if x.sum() < 0 else -x
    jf = looptrace.jit(sum_and_array, backend="interpret")
    try:
        r = jf(x)
    except LooptraceError:
        return  # (its type depends on the run: refused)
    assert type(r) is type(sum_and_array(x)) and np.shape(r) == ()


# --- 7. matrix_rank ------------------------------------------------------------------------------------
def rank(x):
    return np.linalg.matrix_rank(x)


def rank_of_row(x):
    return np.linalg.matrix_rank(x[0])


def rank_of_zero_row(x):
    return np.linalg.matrix_rank(x[0] * 0.0)


@pytest.mark.parametrize("fn", [rank, rank_of_row, rank_of_zero_row])
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_matrix_rank_type_is_numpys(rng, fn, backend):
    _check(fn, rng.standard_normal((3, 3)), backend=backend)
    _check(fn, rng.standard_normal((2, 3, 3)), backend=backend)
