"""A write through a unit-step slice whose length is known only at run time,
of a value read through another such slice shifted against it
(`shifted[w:] = best[:n - w] + v`, `x[k:] = x[:n - k] * 0.5`), is a loop
over the written positions reading the value's window at the same offset
(tracer/stepped.py `_unit_write`), after NumPy's check that both select as
many elements. So is a write whose bounds are read from an array (a select
over the whole axis would cost the axis per write). Before, both raised
ConcreteIndexError. Plain function against compiled, values and effects on
arguments, on the interpret and cpu backends."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.discrete import knapsack_01_rows
from tests.marks import INTERPRET_AND_SLOW_CPU

BACKENDS = ["interpret", "cpu"]


def shift_in_place(x, lags):
    for t in range(lags.shape[0]):
        k = lags[t]
        x[k:] = x[:x.shape[0] - k] * 0.5 + 1.0  # the value is computed before the write: old x
    return x


def shift_rows(a, offs):
    out = np.full_like(a, -1.0)
    for i in range(a.shape[0]):
        o = offs[i]
        out[i, o:] = a[i, :a.shape[1] - o] * 2.0
    return out


def too_short(x, lags):
    y = np.zeros_like(x)
    for t in range(lags.shape[0]):
        k = lags[t]
        y[k:] = x[:x.shape[0] - k - 1]
    return y


def fill_windows(x, ptr):
    for i in range(ptr.shape[0] - 1):
        x[ptr[i]:ptr[i + 1]] = i  # bounds read from an array: a loop over each window
    return x


@pytest.mark.parametrize("backend", BACKENDS)
def test_knapsack_by_rows_runs(backend, rng):
    w, v = rng.integers(1, 30, 40), rng.random(40)
    f = looptrace.jit(knapsack_01_rows, backend=backend)
    np.testing.assert_array_equal(f(w, v, 120), knapsack_01_rows(w, v, 120))


@pytest.mark.parametrize("backend", INTERPRET_AND_SLOW_CPU)
def test_a_shifted_copy_of_the_array_written_reads_it_as_it_was(backend, rng):
    x, lags = rng.random(50), rng.integers(0, 12, 6)
    want = shift_in_place(x.copy(), lags)
    got_x = x.copy()
    got = looptrace.jit(shift_in_place, backend=backend)(got_x, lags)
    np.testing.assert_allclose(got, want, rtol=1e-15)
    np.testing.assert_allclose(got_x, want, rtol=1e-15)  # the argument is written as by the plain function


@pytest.mark.parametrize("backend", BACKENDS)
def test_shifted_rows(backend, rng):
    a, offs = rng.random((7, 9)), rng.integers(0, 10, 7)
    np.testing.assert_array_equal(looptrace.jit(shift_rows, backend=backend)(a, offs), shift_rows(a, offs))


@pytest.mark.parametrize("backend", BACKENDS)
def test_windows_of_different_lengths_raise_numpys_error(backend, rng):
    x, lags = rng.random(20), np.array([3, 5])
    with pytest.raises(ValueError, match="could not broadcast"):
        too_short(x, lags)
    with pytest.raises(ValueError, match="could not broadcast") as e:
        looptrace.jit(too_short, backend=backend)(x, lags)
    assert any("y[k:] = x[:x.shape[0] - k - 1]" in n for n in getattr(e.value, "__notes__", []))


@pytest.mark.parametrize("backend", BACKENDS)
def test_windows_from_row_pointers_are_written_by_loops(backend, rng):
    ptr = np.sort(rng.integers(0, 30, 6))
    x = rng.random(30)
    want = fill_windows(x.copy(), ptr)
    np.testing.assert_array_equal(looptrace.jit(fill_windows, backend=backend)(x.copy(), ptr), want)
    ops = looptrace.jit(fill_windows, backend=backend).explain(x, ptr).program
    from looptrace.ir.core import walk
    assert not any(op.prim.name == "select" and op.out.shape == (30,) for op in walk(ops.body))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 15), lags=st.lists(st.integers(-18, 18), min_size=1, max_size=4),
       seed=st.integers(0, 2 ** 31))
def test_shifts_of_any_sign_match_the_plain_loop(n, lags, seed):
    """x[a:] = y[:b] with a and b from the data, negative, past the end or
    making the lengths differ: the values, or NumPy's ValueError."""
    x = np.random.default_rng(seed).random(n)
    pairs = np.array([(a, n - a) for a in lags], dtype=np.int64)

    def shifts(x, pairs):
        y = np.zeros_like(x)
        for t in range(pairs.shape[0]):
            y[pairs[t, 0]:] = x[:pairs[t, 1]] + t
        return y

    try:
        want = shifts(x, pairs)
    except ValueError:
        with pytest.raises(ValueError):
            looptrace.jit(shifts, backend="interpret")(x, pairs)
        return
    np.testing.assert_array_equal(looptrace.jit(shifts, backend="interpret")(x, pairs), want)


# --- two windows combined (tracer/masked.py `_shifted`) ----------------------------------------
def lagged_differences(pos):
    n_t = pos.shape[1]
    out = np.zeros(n_t // 2)
    for lag in range(1, n_t // 2):
        d = pos[:, lag:, :] - pos[:, :-lag, :]
        out[lag] = np.mean(np.sum(d * d, axis=2))
    return out


def differences_written(a):
    out = np.zeros_like(a)
    for i in range(a.shape[0]):
        o = i % 4
        out[i, o:] = a[i, :a.shape[1] - o] - a[i, o:] * 0.5
    return out


def unequal_windows(x):
    s = 0.0
    for k in range(1, 4):
        s += (x[k:] * x[:x.shape[0] - 2 * k]).sum()
    return s


def windows_from_data(a, offs):
    out = np.zeros_like(a)
    for i in range(a.shape[0]):
        o = offs[i]
        out[i, o:] = a[i, :a.shape[1] - o] - a[i, o:]
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_difference_of_lagged_windows(backend, rng):
    pos = rng.standard_normal((3, 30, 2))
    f = looptrace.jit(lagged_differences, backend=backend)
    np.testing.assert_allclose(f(pos), lagged_differences(pos), rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_combination_of_shifted_windows_written(backend, rng):
    a = rng.random((9, 11))
    f = looptrace.jit(differences_written, backend=backend)
    np.testing.assert_array_equal(f(a), differences_written(a))


@pytest.mark.parametrize("backend", BACKENDS)
def test_windows_of_different_lengths_cannot_be_combined(backend, rng):
    x = rng.random(12)
    with pytest.raises(ValueError, match="operands could not be broadcast together"):
        unequal_windows(x)
    with pytest.raises(ValueError, match="operands could not be broadcast together"):
        looptrace.jit(unequal_windows, backend=backend)(x)


def test_windows_bounded_by_data_are_still_not_combined(rng):
    """Realigned, the second window costs the whole axis at every iteration."""
    from looptrace.errors import ConcreteIndexError

    a, offs = rng.random((5, 8)), rng.integers(0, 8, 5)
    with pytest.raises(ConcreteIndexError, match="read from an array"):
        looptrace.jit(windows_from_data, backend="interpret")(a, offs)


def one_element_windows(x, k):
    y = np.zeros_like(x)
    s = 0.0
    for t in range(1, k.shape[0]):
        a = k[t]
        y[a:] = x[:x.shape[0] - a]  # an empty window takes a one-element value, as NumPy broadcasts
        s += (x[t:] * x[t:t + 1]).sum()  # the one element broadcasts over the other window
    return y, s


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_element_windows_broadcast(backend, rng):
    x = rng.random(6)
    k = np.array([0, 11, 5, 3])
    want = one_element_windows(x, k)
    got = looptrace.jit(one_element_windows, backend=backend)(x, k)
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1] == pytest.approx(want[1], rel=1e-13)
