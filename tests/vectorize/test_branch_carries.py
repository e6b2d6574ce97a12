"""A scan's scalars updated under a condition are updated in a branch
(vectorize/branches.py): one `cond` per condition holds the carries' new
values, the pure scalar ops only they read move into it, and the values are
the plain function's (NaN, ties and a never-taken branch included)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import looptrace
from bench.corpus.algorithms import peak_with_index  # the running maximum with its index and time
from looptrace.ir.core import walk


def lowest_unless(x):
    """The update in the `else`: select(c, carry, new)."""
    low = np.inf
    where = 0
    for i in range(x.shape[0]):
        if x[i] >= low:
            pass
        else:
            low = x[i]
            where = i * 2 + 1
    return low, where


def two_conditions(x, y):
    hi, lo, n = -np.inf, np.inf, 0
    for i in range(x.shape[0]):
        if x[i] > hi:
            hi = x[i]
        if y[i] < lo:
            lo = y[i]
            n = n + i
    return hi, lo, n


def conds_of(f, *args):
    f(*args)
    program = next(iter(f._fast.values()))[0].program
    return [op for op in walk(program.body) if op.prim.name == "cond"]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_running_extreme_with_payload_is_a_branch(backend, rng):
    x, t = rng.standard_normal(200), rng.random(200)
    f = looptrace.jit(peak_with_index, backend=backend)
    (cond,) = conds_of(f, x, t)
    assert len(cond.outputs) == 5  # best, at, when and the Python types of best and when
    for data in (x, -np.abs(x) - 1e300, np.full(200, -np.inf), np.where(x > 1, np.nan, x)):
        got, want = f(data, t), peak_with_index(data, t)
        assert [type(v) for v in got] == [type(v) for v in want]
        np.testing.assert_equal(got, want)


@pytest.mark.parametrize("fn,n_conds", [(lowest_unless, 1), (two_conditions, 2)])
def test_updates_in_else_and_under_two_conditions(fn, n_conds, rng):
    args = (rng.standard_normal(50),) if fn is lowest_unless else (rng.standard_normal(50), rng.standard_normal(50))
    f = looptrace.jit(fn, backend="interpret")
    assert len(conds_of(f, *args)) == n_conds
    assert f(*args) == fn(*args)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.floats(-5, 5), st.just(np.nan), st.just(np.inf), st.just(-np.inf)),
                min_size=0, max_size=30))
def test_generated_data(values):
    x = np.array(values, dtype=float)
    t = np.arange(x.shape[0], dtype=float) * 0.5
    got = looptrace.jit(peak_with_index, backend="interpret")(x, t)
    np.testing.assert_equal(got, peak_with_index(x, t))
    assert [type(v) for v in got] == [type(v) for v in peak_with_index(x, t)]


def gathered_rows(X, Y, ia, idx, out):
    n, m = X.shape
    acc = 0.0
    for i in range(n):
        for j, xv in enumerate(X[i]):
            acc = acc * 0.5 + min((Y[i, j] * Y[i, j]), min(float(ia[i] % 3), X[idx[i], j]))
            out[i, j] = acc
        out[i, 0:2] += np.tanh((X[n - 1 - i] - Y[i]))[1:3]
    return out, acc


@pytest.mark.parametrize("n", [1, 4])
def test_a_loop_whose_invariant_reads_follow_a_check(n, rng):
    """An op that may raise kept in the loop behind a check broke the
    vectorizer's rewrite ('value read before it is defined': generated
    program 2d seed 203); invariant checks now move out in order instead."""
    X, Y = rng.standard_normal((n, 3)), rng.standard_normal((n, 3))
    ia, idx = rng.integers(0, 9, n), rng.integers(0, n, n)
    want = gathered_rows(X, Y, ia, idx, np.zeros((n, 3)))
    got = looptrace.jit(gathered_rows, backend="interpret")(X, Y, ia, idx, np.zeros((n, 3)))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    assert got[1] == pytest.approx(want[1], rel=1e-12)
