"""Python ints at the edges of looptrace's int64 model (probe I): an int past
64 bits that meets a float is converted as NumPy converts it (float(), then a
cast: `x[i] * 10**20` works; past float64 plain's own OverflowError); where it
must stay an int, BigIntError, an OverflowError as plain NumPy's; a traced
Python int to a negative literal power is Python's float power; an index of
the wrong type is a TraceIndexError, an IndexError as NumPy's. Each against the
plain function on random data."""
import numpy as np
import pytest

import looptrace as lt


def scaled_sum(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * 10**20
    return s


def plus_big(x):
    return x[0] + 2**70


def python_float_sum(x):
    s = 0.5
    for i in range(x.shape[0]):
        s = s + float(x[i]) * 2**70
    return s


def past_float64(x):
    return x[0] + 10**400


def hashed(a):
    s = 0
    for i in range(a.shape[0]):
        s += a[i] * 0xff51afd7ed558ccd
    return s


def inverse_squares(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += int(a[i]) ** -2
    return s


def reciprocal_and_square(a):
    k = int(a[0])
    return k ** -3, (k - 1) ** 2


def half_index(x):
    s = 0.0
    for i in range(2):
        s += x[i / 2]
    return s


def _outcome(fn, args, backend=None):
    run = fn if backend is None else lt.jit(fn, backend=backend)
    try:
        return "value", run(*args)
    except Exception as e:  # noqa: BLE001: the class is compared
        return "raise", e


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_big_ints_meeting_floats(backend):
    x = np.random.default_rng(3).standard_normal(6)
    for fn, arg in [(scaled_sum, x), (plus_big, x), (plus_big, x.astype(np.float32)),
                    (plus_big, x.astype(np.complex128)), (python_float_sum, x)]:
        want = fn(arg)
        got = lt.jit(fn, backend=backend)(arg)
        assert type(got) is type(want), fn.__name__
        assert got == want, fn.__name__


def test_big_int_errors_are_overflow_errors():
    rng = np.random.default_rng(4)
    for fn, arg in [(past_float64, rng.standard_normal(3)), (hashed, rng.integers(1, 9, 4))]:
        kind, want = _outcome(fn, (arg,))
        assert kind == "raise" and isinstance(want, OverflowError)
        with pytest.raises(OverflowError):
            lt.jit(fn, backend="interpret")(arg)
    with pytest.raises(lt.BigIntError, match="past 64 bits"):
        lt.jit(hashed, backend="interpret")(rng.integers(1, 9, 4))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_negative_literal_powers_of_python_ints(backend):
    rng = np.random.default_rng(5)
    a = rng.integers(1, 20, 7) * rng.choice([-1, 1], 7)
    assert lt.jit(inverse_squares, backend=backend)(a) == inverse_squares(a)
    for k in (-2, 3, 1):
        want = reciprocal_and_square(np.array([k]))
        got = lt.jit(reciprocal_and_square, backend=backend)(np.array([k]))
        assert got == want and [type(g) for g in got] == [float, int]
    with pytest.raises(ZeroDivisionError):  # Python's 0.0 ** -2
        lt.jit(inverse_squares, backend=backend)(np.array([3, 0, 1]))


def test_a_float_index_is_an_index_error():
    x = np.random.default_rng(6).standard_normal(3)
    with pytest.raises(IndexError):
        half_index(x)
    with pytest.raises(lt.TraceIndexError, match=r"s \+= x\[i / 2\]"):
        lt.jit(half_index, backend="interpret")(x)
