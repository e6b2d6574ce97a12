"""A read or write at a position out of range raises IndexError after
vectorization, as the loop does; it never reads or writes a neighbouring row.
Valid negative positions still count from the end, as in NumPy."""

import numpy as np
import pytest

import looptrace


def gather_rows(x, idx):
    out = np.zeros(idx.shape[0])
    for t in range(idx.shape[0]):
        out[t] = x[idx[t]] * 2
    return out


def gather_blocks(x, idx):
    out = np.zeros((idx.shape[0], 2))
    for t in range(idx.shape[0]):
        out[t] = x[idx[t], 1:3]
    return out


def windows(x):
    s = 0.0
    for t in range(1, x.shape[0]):
        s += x[t - 2:t].sum()
    return s


X1 = np.linspace(1.0, 2.0, 6)
X2 = np.linspace(1.0, 2.0, 18).reshape(6, 3)


@pytest.mark.parametrize("fn, x", [(gather_rows, X1), (gather_blocks, X2)])
def test_valid_negative_positions_count_from_the_end(fn, x):
    idx = np.array([0, -1, 5, -6])
    np.testing.assert_array_equal(looptrace.jit(fn, backend="interpret")(x, idx), fn(x, idx))
    assert looptrace.explain(fn, x, idx).loops[0].kind == "vectorized"


@pytest.mark.parametrize("fn, x", [(gather_rows, X1), (gather_blocks, X2)])
@pytest.mark.parametrize("bad", [6, -7])
def test_out_of_range_positions_raise(fn, x, bad):
    idx = np.array([0, bad, 1])
    with pytest.raises(IndexError):
        fn(x, idx)
    with pytest.raises(IndexError):
        looptrace.jit(fn, backend="interpret")(x, idx)


def test_a_window_starting_before_zero_counts_from_the_end_as_numpy():
    x = np.arange(1.0, 7.0)
    assert looptrace.jit(windows, backend="interpret")(x) == windows(x)  # x[-2:0] is empty, x[-1:1] is too


def test_the_index_error_names_the_user_line():
    with pytest.raises(IndexError) as info:
        looptrace.jit(gather_rows, backend="interpret")(X1, np.array([0, 9]))
    message = str(info.value)
    assert "test_out_of_range_reads.py" in message and "x[idx[t]]" in message


def _while_reads(x, k, j):
    s = 0.0
    i = 0
    while i < k:
        s += x[j]
        i += 1
    return s


def _for_reads(x, k, j):
    s = 0.0
    for i in range(k):
        s += x[j]
    return s


@pytest.mark.parametrize("fn", [_while_reads, _for_reads])
def test_a_loop_that_runs_zero_times_does_not_raise_for_an_invariant_read(fn):
    x = np.linspace(1.0, 2.0, 3)
    assert looptrace.jit(fn, backend="interpret")(x, 0, 10) == fn(x, 0, 10) == 0.0
    assert looptrace.jit(fn, backend="interpret")(x, 4, 1) == fn(x, 4, 1)
    with pytest.raises(IndexError):
        looptrace.jit(fn, backend="interpret")(x, 2, 10)
