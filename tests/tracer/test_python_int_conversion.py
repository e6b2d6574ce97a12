"""int(), round() and math.floor/ceil/trunc of a traced float make a Python
int: NaN raises ValueError and an infinity OverflowError with Python's own
messages; a float past 2**63 (a big int in Python) raises OverflowError, as
looptrace's ints are int64 (ops/elementwise.py `pyint`). Values that fit
convert as in Python. Each program runs plain and compiled on fresh random
data, then with one special value at a random place."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace


def histogram(x, nb):
    h = np.zeros(nb)
    for i in range(x.shape[0]):
        h[int(x[i] * nb)] += 1
    return h


def rounded_sum(x):
    s = 0
    for i in range(x.shape[0]):
        s += math.floor(x[i]) + round(x[i]) + int(x[i]) - math.ceil(x[i]) + math.trunc(x[i])
    return s


def table_lookup(x, t):
    y = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        y[i] = t[int(x[i]) % t.shape[0]]
    return y


def unused_int(x):
    s = 0.0
    for i in range(x.shape[0]):
        k = int(x[i])  # noqa: F841 - read by no one, and still raises on NaN
        s += x[i]
    return s


def int_in_branch(x):
    s = 0
    for i in range(x.shape[0]):
        if x[i] > 0:  # False for NaN: the plain function never converts it
            s += int(x[i] * 10)
    return s


def of_a_sum(x):
    return int(x.sum()) + round(float(x[0]))


def float32_floor(x):
    s = 0
    for i in range(x.shape[0]):
        s += math.floor(x[i] * np.float32(3))
    return s


def _outcome(fn, *args):
    try:
        return "value", fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    except Exception as e:  # noqa: BLE001 - the outcome is what is compared
        return "raised", e


def assert_same_outcome(fn, jitted, *args, big: bool = False):
    """The compiled call returns what the plain one returns, or raises the same
    exception naming the user's line. With `big` (the data hold a finite float
    past 2**63, whose int the plain call makes as a big int) the compiled call
    raises OverflowError saying so."""
    want, got = _outcome(fn, *args), _outcome(jitted, *args)
    if big:
        assert got[0] == "raised" and isinstance(got[1], OverflowError) and "64 bits" in str(got[1]), got
        return
    assert got[0] == want[0], (fn.__name__, got, want)
    if want[0] == "value":
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)  # a float sum may be reassociated
        assert type(got[1]) is type(want[1])
        return
    assert type(got[1]) is type(want[1]) and got[1].args == want[1].args, (got[1], want[1])
    notes = "\n".join(getattr(got[1], "__notes__", []))
    assert __file__ in notes and "line" in notes, notes


SPECIAL = [np.nan, np.inf, -np.inf, 1e19, -1e19, 2.0**63]  # -2.0**63 fits (the hypothesis test has it)
PROGRAMS = [
    (histogram, lambda rng: (rng.random(40), 7), {"static_argnames": ("nb",)}),
    (rounded_sum, lambda rng: (rng.uniform(-50, 50, 40),), {}),
    (table_lookup, lambda rng: (rng.uniform(0, 100, 40), rng.standard_normal(9)), {}),
    (unused_int, lambda rng: (rng.uniform(-5, 5, 40),), {}),
    (int_in_branch, lambda rng: (rng.uniform(-5, 5, 40),), {}),
    (of_a_sum, lambda rng: (rng.uniform(-5, 5, 40),), {}),
    (float32_floor, lambda rng: (rng.uniform(-5, 5, 40).astype(np.float32),), {}),
]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,make,kw", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_int_of_a_float_is_pythons(backend, fn, make, kw, rng):
    jitted = looptrace.jit(fn, backend=backend, **kw)
    args = make(rng)
    assert_same_outcome(fn, jitted, *args)
    for special in SPECIAL if backend == "interpret" else SPECIAL[:4]:
        bad = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        bad[0][rng.integers(bad[0].shape[0])] = special
        converted = fn is not int_in_branch or special > 0  # (a branch taken for positive values only)
        big = bool(np.isfinite(special) and abs(special) >= 2.0**63 and converted)
        assert_same_outcome(fn, jitted, *bad, big=big)


def test_the_first_bad_value_in_loop_order_decides(rng):
    x = rng.uniform(-5, 5, 30)
    x[4], x[20] = np.inf, np.nan
    jitted = looptrace.jit(rounded_sum, backend="cpu")
    with pytest.raises(OverflowError, match="infinity"):
        jitted(x)
    x[4], x[20] = np.nan, np.inf
    with pytest.raises(ValueError, match="NaN"):
        jitted(x)


def floor_sum_through_index(x, idx):
    acc = 0.0
    for i in range(x.shape[0] - 1, -1, -1):
        acc = acc + math.floor(abs(x[idx[i]]))  # a sum whose nest also checks an index
    return acc


def test_a_fold_with_a_checked_index_and_an_int(rng):
    """The fold's nest holds a checked index, so it is emitted again with
    raising int() tests; the sum is the second emission's (nest.py
    `counting_int_failures`; the first one's name was read: a NameError
    from Numba, found by the generated-program fuzz)."""
    x, idx = rng.uniform(-9, 9, 7), rng.integers(0, 7, 7)
    jitted = looptrace.jit(floor_sum_through_index, backend="cpu")
    assert jitted(x, idx) == floor_sum_through_index(x, idx)
    x[3] = np.nan
    assert_same_outcome(floor_sum_through_index, jitted, x, idx)


def scaled_ints(x):
    out = np.empty(x.shape[0], dtype=np.int64)
    for i in range(x.shape[0]):
        out[i] = int(x[i] * 3.0)
    return out


def test_a_threaded_map_counts_failures_then_finds_the_first(rng):
    """A map large enough for threads counts failed tests branch-free (SIMD,
    prange); only then does it run again, one element at a time, raising the
    first failure in loop order (nest.py `counting_int_failures`)."""
    jitted = looptrace.jit(scaled_ints, backend="cpu")
    x = rng.uniform(-1e3, 1e3, 1 << 20)
    np.testing.assert_array_equal(jitted(x), scaled_ints(x))
    src = jitted.explain(x).kernel_source
    assert "prange" in src and "nbad" in src and src.count("check_int(") == 1, src
    for first, second, exc in [(np.inf, np.nan, OverflowError), (np.nan, 1e300, ValueError),
                               (-1e300, np.inf, OverflowError)]:
        bad = x.copy()
        bad[1000], bad[900_000] = first, second
        assert_same_outcome(scaled_ints, jitted, bad, big=first == -1e300)
        with pytest.raises(exc):
            jitted(bad)
    edge = x.copy() / 3.0
    edge[77] = -(2.0**63) / 3.0  # int() of -2**63 fits: the one value the kernel's test sends the slow way
    assert edge[77] * 3.0 == -(2.0**63)
    np.testing.assert_array_equal(jitted(edge), scaled_ints(edge))


def test_the_test_is_made_where_the_int_is_read(rng):
    """No separate check over the floats (histogram2d_loop: the floats were
    stored, two passes): check_int inside the scatter's loop."""
    jitted = looptrace.jit(histogram, static_argnames=("nb",), backend="cpu")
    x = rng.random(200)
    np.testing.assert_array_equal(jitted(x, 9), histogram(x, 9))
    src = jitted.explain(x, 9).kernel_source
    assert src.count("check_int(") == 1 and "CheckFailed" not in src, src  # no check op's loop


@settings(max_examples=60, deadline=None)
@given(v=st.floats(allow_nan=True, allow_infinity=True, width=64),
       how=st.sampled_from(["int", "floor", "ceil", "trunc", "round"]))
def test_each_conversion_of_any_float(v, how):
    def convert(x):
        out = np.zeros(2, dtype=np.int64)
        for i in range(x.shape[0]):
            y = x[i]
            if how == "int":
                k = int(y)
            elif how == "floor":
                k = math.floor(y)
            elif how == "ceil":
                k = math.ceil(y)
            elif how == "trunc":
                k = math.trunc(y)
            else:
                k = round(y)
            out[i] = k % 1000003
        return out

    x = np.array([0.25, -(2.0**63) if v == 1.0 else v])
    big = bool(np.isfinite(x[1]) and not -2.0**63 <= round(x[1]) < 2.0**63)
    assert_same_outcome(convert, looptrace.jit(convert, backend="interpret"), x, big=big)


def _store_constant(x, c):
    out = np.zeros(x.shape[0], dtype=np.int32)
    for i in range(x.shape[0]):
        out[i] = np.sqrt(abs(c)) / -4
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_non_finite_constant_stored_into_an_int_array_raises_where_it_runs(backend):
    """A NaN or infinity known while tracing, stored into an int array: the
    store cast it (-2**31; probe Q), where NumPy raises. A loop of no trips
    stores nothing and raises nothing."""
    for c, err in ((-np.inf, OverflowError), (np.nan, ValueError)):
        f = looptrace.jit(lambda x: _store_constant(x, c), backend=backend)
        with pytest.raises(err, match="cannot convert float"):
            _store_constant(np.ones(2), c)
        with pytest.raises(err, match="cannot convert float"):
            f(np.ones(2))
        assert f(np.ones(0)).shape == (0,)
    np.testing.assert_array_equal(looptrace.jit(lambda x: _store_constant(x, 64.0), backend=backend)(np.ones(3)),
                                  _store_constant(np.ones(3), 64.0))
