"""Values whose Python type is chosen at run time (`v = x[i] if c else 0`:
np.float64 or int, tracer/kinds.py) met by a conversion or by np.array
(probe J F15)."""
import numpy as np
import pytest

import looptrace


def conversions(x, c):
    v = x[0] if c[0] > 0 else 0
    return bool(v), 0.0 + bool(v), float(v), int(v), abs(v), -v, v * 2, 1.5 + float(v)


def counted_truths(x, c):
    out = 0.0
    for i in range(x.shape[0]):
        v = x[i] if c[i] > 0 else 0
        out += bool(v)
    return out


@pytest.mark.parametrize("fn", [conversions, counted_truths])
def test_a_conversion_s_result_is_a_python_number(fn, rng):
    """bool(v) is a Python bool whatever v's type: `0.0 + bool(v)` a Python
    float (np.float64 where v was the NumPy float before)."""
    x = rng.standard_normal(5)
    x[1] = 0.0
    f = looptrace.jit(fn, backend="interpret")
    for c in (np.ones(5), -np.ones(5), rng.standard_normal(5)):
        want, got = fn(x, c), f(x, c)
        want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
        assert [type(v) for v in got] == [type(v) for v in want]
        assert got == pytest.approx(want)


def array_of(x, c):
    v = x[0] if c[0] > 0 else 3
    return np.array(v)


def same_dtype_either_way(x, c):
    v = x[0] if c[0] > 0 else 3.0
    return np.asarray(v)


def test_np_array_of_a_value_of_two_dtypes_is_refused(rng):
    """Its dtype would depend on the data (float64 or int64): the join's
    float64 was returned for both before, array(3.) where NumPy gives array(3)."""
    x = rng.standard_normal(3)
    with pytest.raises(looptrace.UnsupportedError, match="float64, int64"):
        looptrace.jit(array_of, backend="interpret")(x, np.ones(3))
    f = looptrace.jit(same_dtype_either_way, backend="interpret")
    for c in (np.ones(3), -np.ones(3)):
        want, got = same_dtype_either_way(x, c), f(x, c)
        assert got.dtype == want.dtype and got == want


def larger(x, y):
    return max(x, y), min(x, y)


@pytest.mark.parametrize("y", [2**40, -2**40, 3])
def test_max_of_an_int32_and_a_python_int_argument(y):
    """max() returns one of its arguments unchanged: a Python int past int32
    beside an np.int32 was converted into int32 (an OverflowError, probe M)."""
    x = np.int32(5)
    got, want = looptrace.jit(larger, backend="interpret")(x, y), larger(x, y)
    assert got == want and [type(v) for v in got] == [type(v) for v in want]


def scalar_types(a, b):
    i = a.shape[0] - 1
    return (a[i].is_integer(), np.round(float(a[i])), np.clip(float(a[i]), -1.0, 1.0), int(b[i]) > 2 ** 70,
            int(b[i]).imag, np.float32(a[i]).is_integer())


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_scalar_result_types(backend):
    """np.float64.is_integer() is a Python bool, np.round / np.clip of a
    Python float a NumPy float, a Python int compared with 2**70 a Python
    bool, a Python int's .imag a Python int (each the other way before: probe M)."""
    a, b = np.array([2.0, 0.3]), np.array([3, 4])
    got, want = looptrace.jit(scalar_types, backend=backend)(a, b), scalar_types(a, b)
    assert [type(v) for v in got] == [type(v) for v in want]
    assert got == want


def int_of_python_float(a):
    r = np.int64(0)
    for i in range(a.shape[0]):
        r = np.int64(float(a[i]))
    return r, np.int8(float(a[0])), np.int64(a[0])


@pytest.mark.parametrize("value", [1e308, np.nan, np.inf, 2.7, -3.5, -300.0])
def test_numpy_int_of_a_python_float_is_python_s_int_first(value):
    """np.int64(1e308) raises OverflowError (NumPy converts a Python float
    with int()); it wrapped to -2**63 before (probe M). np.int64 of a NumPy
    float is a cast, as before."""
    a = np.array([value])
    f = looptrace.jit(int_of_python_float, backend="interpret")
    try:
        want = int_of_python_float(a)
    except (OverflowError, ValueError) as e:
        with pytest.raises(type(e)):
            f(a)
        return
    assert f(a) == want


def sorted_items(a):
    s = [float(a[0]), -1.0, float(a[1]), 2.5]
    return sorted(s)


def test_sorted_with_a_nan_is_refused_at_run_time():
    """Python's order around a NaN depends on timsort's comparisons; the
    bubble network gave another (probe M): refused where a NaN is present."""
    f = looptrace.jit(sorted_items, backend="interpret")
    assert f(np.array([3.0, -2.0])) == sorted_items(np.array([3.0, -2.0]))
    with pytest.raises(looptrace.UnsupportedError, match="NaN"):
        f(np.array([np.nan, 1.0]))


def top_two(x):
    best = 0.0
    second = 0.0
    for i in range(x.shape[0]):
        h = x[i]
        if h > best:
            second = best
            best = h
    return best, second


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_name_bound_to_a_carry_of_two_types_keeps_its_tag(backend, rng):
    """`second = best` in a branch: best is the Python float 0.0 or an
    np.float64, chosen at run time; second took the then-branch's type as
    np.float64 always (probe N W8: the branch's exit was read afresh,
    control._read_now, dropping the carry's type tag)."""
    f = looptrace.jit(top_two, backend=backend)
    x = rng.standard_normal(8)
    for data in (np.sort(np.abs(x))[::-1].copy(), x, -np.abs(x), np.abs(x[:1]) + 1):
        want, got = top_two(data), f(data)
        assert [type(v) for v in got] == [type(v) for v in want]
        assert got == pytest.approx(want)


def membership(k):
    flag = False
    for i in range(k.shape[0]):
        flag = k[i] in (0, 1, 2)
    return flag, k[0] in (0, 1, 2), k[1] not in [1, 7], 3 in k


def rounded_flags(b):
    s = 0.0
    for i in range(b.shape[0]):
        s += round(b[i])
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_membership_is_a_python_bool(backend):
    """`v in (0, 1, 2)` of a traced v gave np.True_ (probe Q); Python's `in` is a bool."""
    f = looptrace.jit(membership, backend=backend)
    for k in (np.array([5, 1]), np.array([1, 3])):
        want, got = membership(k), f(k)
        assert got == want and [type(v) for v in got] == [bool] * 4


def test_round_of_a_numpy_bool_raises_as_python_does():
    """round(np.True_) is a TypeError in Python; it gave 1.0 (probe Q)."""
    b = np.array([True, False])
    with pytest.raises(TypeError, match="numpy.bool doesn't define __round__"):
        rounded_flags(b)
    with pytest.raises(TypeError, match="numpy.bool doesn't define __round__"):
        looptrace.jit(rounded_flags, backend="interpret")(b)


def chosen_against_int8(x, ki, k8):
    c = int(ki[0])
    s = 0.0
    last = 0
    for i in range(x.shape[0]):
        v = k8[i] if x[i] > 1.0 else c
        s += v
        last = v
    return s, last


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_traced_python_int_chosen_against_int8_is_not_converted(backend, rng):
    """`k8[i] if c else int(n)`: the Python int 1000 is chosen, not converted
    to int8 (an OverflowError before, probe Q); its type stays Python's."""
    f = looptrace.jit(chosen_against_int8, backend=backend)
    k8 = rng.integers(-100, 100, 6).astype(np.int8)
    for x in (rng.standard_normal(6) + 1.0, np.array([0.5, 2.0, 0.1, 3.0, 0.0, 0.2])):
        want, got = chosen_against_int8(x, np.array([1000, 0]), k8), f(x, np.array([1000, 0]), k8)
        assert got == want and [type(v) for v in got] == [type(v) for v in want]


def sum_after_a_loop_that_may_return(u8, out, M):
    s = 0.0
    c = 1
    for i, r0 in enumerate(M):
        if c > 4:
            return s
    for i in range(2, u8.shape[0] - 1, 2):
        if u8[i] > 100:
            continue
        s += np.abs(out[i])
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_return_after_a_loop_that_may_return_keeps_its_type(backend):
    """The function's result slot merged with 'no return yet' dropped the
    value's type tag: np.float64 where plain gives the Python float 0.0 or
    an np.float32 (probe Q, seeds 1576 and 3015)."""
    f = looptrace.jit(sum_after_a_loop_that_may_return, backend=backend)
    out, M = np.ones(6, np.float32), np.ones((3, 2))
    for u8 in (np.full(6, 200, np.uint8), np.ones(6, np.uint8)):
        want, got = sum_after_a_loop_that_may_return(u8, out, M), f(u8, out, M)
        assert type(got) is type(want) and got == want


def best_local_score(a, b, start):
    H = np.zeros((a.shape[0] + 1, b.shape[0] + 1))
    best = start
    bi = 0
    for i in range(1, a.shape[0] + 1):
        for j in range(1, b.shape[0] + 1):
            s = 2.0 if a[i - 1] == b[j - 1] else -1.0
            h = max(0.0, H[i - 1, j - 1] + s, H[i - 1, j] - 1.0)
            H[i, j] = h
            if h > best:
                best = h
                bi = i
    return best, bi


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_running_best_of_a_max_with_a_python_float(backend, rng):
    """`best = h` where h = max(0.0, ...) is the Python float 0.0 or an
    np.float64: best's type follows h's (a start of -1.0 takes the Python
    0.0). Its tag is computed on the branch only, in the carry's key order
    (smith_waterman ran 2.2x slower when the tag was remapped on every step)."""
    f = looptrace.jit(best_local_score, backend=backend)
    a, b = rng.integers(0, 4, 9), rng.integers(0, 4, 7)
    for start, x, y in ((0.0, a, b), (-1.0, a, b), (-1.0, np.zeros(3, np.int64), np.ones(3, np.int64))):
        want, got = best_local_score(x, y, start), f(x, y, start)
        assert got == want and [type(v) for v in got] == [type(v) for v in want]
