"""Arguments written back one after another: a value written into one
argument may be a view of another (on the interpreter, `out[i] = X[i, 1]`
over a loop is the view X[:, 1] of the caller's X). It must hold what it
held when computed, not what the write-back of the other argument puts
there (`out` got X's new column: api.py `_written_values`). The plain
function is the oracle: results and arguments, on random data."""
import pytest

import looptrace
from tests.tracer._loopcheck import check


def column_then_write(X, out):
    for i in range(out.shape[0]):
        out[i] = X[i, 1]
    X[:, 1] = 7.0
    return out


def column_then_update(X, out):
    for i in range(out.shape[0]):
        out[i] = X[i, 1]
    X[1:, :2] -= X[:-1, :2]
    return out


def column_then_reshaped_write(X, out):
    for i in range(out.shape[0]):
        out[i] = X[i, 1]
    v = X.reshape(-1)
    for i in range(out.shape[0]):
        v[i] = 100.0 + i
    return out.sum()


def column_copies(X, out):
    """The copies are elided in the IR: the results are the written values."""
    for i in range(out.shape[0]):
        out[i] = X[i, 1]
    X[1:, :2] -= X[:-1, :2]
    return out.copy(), X.copy()


def rows_both_ways(X, Y):
    Y[0] = X[1]
    X[1] = Y[1] * 2.0


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", [column_then_write, column_then_update, column_then_reshaped_write, column_copies,
                                rows_both_ways])
def test_a_value_written_back_is_read_before_another_argument_is_written(fn, backend, rng):
    X = rng.standard_normal((3, 4))
    other = rng.standard_normal((2, 4)) if fn is rows_both_ways else rng.standard_normal(3)
    check(fn, X, other, jitted=looptrace.jit(fn, backend=backend))
