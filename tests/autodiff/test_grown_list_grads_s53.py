"""Gradients through lists that a loop grows while reading them (s53).

The way most people write an RNN keeps its states in a list:
`hs.append(np.tanh(W @ hs[-1] + X[t]))`. A for loop over a range of a
static trip count that appends to such a list is a preallocated array
(`H[t + 1] = np.tanh(W @ H[t] + X[t])`): the tracer gives it that array's
static rows, reads and writes at the list's count (carries.py
ListSpec._fixed_rows), and the gradient follows it as it follows the
array. Before, it was a buffer the run grows (`reserve`), which has no
gradient: every program below was refused. A while loop's list keeps
that buffer, and the refusal. Each gradient is checked against central
finite differences of the undecorated function in float64, on the
interpreter for the breadth, on cpu for one program holding the
representative kinds (a compile is seconds of CPU).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.api import _Differentiated
from looptrace.autodiff.check import assert_close, numerical_grad
from looptrace.ir.core import walk


def _fd_check(f, args, argnums=(0, 1), backend="interpret"):
    plain = f(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    value, grads = looptrace.value_and_grad(f, argnums=argnums, backend=backend)(*args)
    np.testing.assert_allclose(value, plain, rtol=1e-10)
    for g, i in zip(grads, argnums):
        assert_close(g, numerical_grad(f, list(args), i), 1e-6, f"{f.__name__} argument {i}")


# --- lists of arrays ------------------------------------------------------------------------------
def rnn_loss(W, X):
    hs = [np.zeros(3)]
    for t in range(X.shape[0]):
        hs.append(np.tanh(W @ hs[-1] + X[t]))
    return np.sum(hs[-1]) + np.sum(np.stack(hs) ** 2)


def at_the_index(W, X):  # hs[t] is the last item
    hs = [X[0]]
    for t in range(X.shape[0]):
        hs.append(np.sin(W @ hs[t]) + X[t])
    return np.sum(np.array(hs) ** 2)


def by_len(W, X):  # hs[len(hs) - k], and a slice of the list afterwards
    hs = [X[0], X[1]]
    for t in range(2, X.shape[0]):
        hs.append(np.tanh(W @ hs[len(hs) - 1] + 0.3 * hs[len(hs) - 2]))
    return np.sum(np.stack(hs[2:]) * X[2:])


def two_lists(W, X):
    hs, cs = [np.zeros(3)], [np.ones(3)]
    for t in range(X.shape[0]):
        c = cs[-1] * 0.9 + np.tanh(W @ hs[-1])
        cs.append(c)
        hs.append(np.tanh(c) * X[t])
    return np.sum(np.array(hs) * np.array(cs))


def summed_and_indexed(W, X):  # sum(hs), hs[k] and hs[-2] afterwards
    hs = [np.zeros(3)]
    for t in range(X.shape[0]):
        hs.append(np.tanh(W @ hs[-1] + X[t]))
    return np.sum(sum(hs) ** 2) + np.sum(hs[2] * hs[-2])


def after_an_earlier_loop(W, X):  # the items an earlier loop appended come first
    hs = []
    for t in range(2):
        hs.append(X[t] * 0.5)
    for t in range(X.shape[0]):
        hs.append(np.tanh(W @ hs[-1] + hs[-2]))
    return np.sum(np.stack(hs) ** 2)


def inner_steps(W, X):  # a loop nested in the one that appends
    hs = [X[0]]
    for t in range(X.shape[0]):
        h = hs[-1]
        for k in range(2):
            h = np.tanh(W @ h + X[t])
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def read_in_an_inner_loop(W, X):  # hs[s] for every earlier s, in a loop of a run-time trip count
    hs = [X[0]]
    for t in range(X.shape[0]):
        acc = np.zeros(3)
        for s in range(t + 1):
            acc = acc + 0.5 ** (t - s) * hs[s]
        hs.append(np.tanh(W @ acc + X[t]))
    return np.sum(np.stack(hs) ** 2)


def per_sequence(W, X):  # the list made anew in each iteration of an outer loop
    total = 0.0
    for b in range(X.shape[0]):
        hs = [np.zeros(3)]
        for t in range(X.shape[1]):
            hs.append(np.tanh(W @ hs[-1] + X[b, t]))
        total = total + np.sum(hs[-1] ** 2) + np.sum(hs[1])
    return total


def matrices(W, X):
    Ms = [np.eye(3)]
    for t in range(X.shape[0]):
        Ms.append(np.tanh(Ms[-1] @ W + X[t]))
    return np.sum(np.array(Ms) ** 2)


@pytest.mark.parametrize("f", [rnn_loss, at_the_index, by_len, two_lists, summed_and_indexed,
                               after_an_earlier_loop, inner_steps, read_in_an_inner_loop])
def test_lists_of_arrays(f, rng):
    _fd_check(f, [0.5 * rng.standard_normal((3, 3)), rng.standard_normal((6, 3))])


def test_list_made_in_each_iteration_of_an_outer_loop(rng):
    _fd_check(per_sequence, [0.5 * rng.standard_normal((3, 3)), rng.standard_normal((3, 4, 3))])


def test_list_of_matrices(rng):
    _fd_check(matrices, [0.5 * rng.standard_normal((3, 3)), rng.standard_normal((4, 3, 3))])


# --- lists of numbers -----------------------------------------------------------------------------
def second_order(w, x):  # hs[-1] and hs[-2]
    hs = [0.3, 0.5]
    for t in range(x.shape[0]):
        hs.append(np.tanh(w * hs[-1] - 0.5 * hs[-2] + x[t]))
    return sum(hs) + hs[3] * hs[-1]


def two_per_iteration(w, x):
    ys = [0.5]
    for t in range(x.shape[0]):
        ys.append(np.tanh(ys[-1] * w + x[t]))
        ys.append(ys[-1] * ys[-2])
    return np.sum(np.array(ys) ** 2)


def under_a_condition(w, x):  # a run-time count: the interpreter's gradient (cpu refuses, below)
    ys = [0.5]
    for t in range(x.shape[0]):
        if x[t] > 0:
            ys.append(np.tanh(ys[-1] * w + x[t]))
    return sum(ys) * ys[-1]


def with_a_break(w, x):
    ys = [0.5]
    for t in range(x.shape[0]):
        ys.append(np.tanh(ys[-1] * w + x[t]))
        if ys[-1] > 0.9:
            break
    return sum(ys)


@pytest.mark.parametrize("f", [second_order, two_per_iteration, under_a_condition, with_a_break])
def test_lists_of_numbers(f, rng):
    x = rng.standard_normal(7)
    x[:3] = [0.4, -0.3, 1.5]  # (appends under the condition, and the break taken)
    _fd_check(f, [0.7, x])


@settings(max_examples=8, deadline=None)
@given(lag=st.integers(1, 3), start=st.integers(3, 4), trips=st.integers(0, 5), always=st.booleans(),
       twice=st.booleans(), seed=st.integers(0, 2**16))
def test_recurrence_at_any_lag(lag, start, trips, always, twice, seed):
    """ys[-lag] of a list that holds `start` items before the loop, for
    `trips` iterations, each appending once or twice, always or under a
    condition (a run-time count)."""
    def f(w, x):
        ys = [0.1 * (k + 1) for k in range(start)]
        for t in range(x.shape[0]):
            if always or x[t] > 0:
                ys.append(np.sin(w * ys[-lag]) + x[t] * ys[-1])
            if twice:
                ys.append(ys[-1] * w)
        return np.sum(np.array(ys) ** 2)

    r = np.random.default_rng(seed)
    _fd_check(f, [0.5 + r.random(), r.standard_normal(trips)])


# --- the IR: the preallocated array's ---------------------------------------------------------------
def test_the_list_is_the_preallocated_array(rng):
    """Static rows (no `reserve`, a buffer the run grows), written at t + 1
    and read at t: the traced loop carries the rows alone, no count (which
    the reverse loop read back from a tape, its cotangent updated at a
    position it could not see: 26x the preallocated array's time,
    bench/grown_list_reads.py), and checks nothing (hs[-1] surely exists)."""
    W, X = 0.5 * rng.standard_normal((3, 3)), rng.standard_normal((6, 3))
    c, _, _ = _Differentiated(rnn_loss, None, "interpret").compiled([W, X], (0, 1), "grad")
    loops = [op for op in walk(c.traced.body) if op.prim.name == "for_loop"]
    assert len(loops) == 1 and [(v.dtype, v.shape) for v in loops[0].outputs] == [(np.float64, (7, 3))]
    assert not [op for op in walk(c.traced.body) if op.prim.name in ("reserve", "check")]
    e = looptrace.explain(rnn_loss, W, X)
    assert [r.kind for r in e.loops] == ["scan"] and "recurrence with taps" in e.loops[0].reason


def test_read_before_any_append_is_an_index_error(rng):
    def f(x):
        ys = []
        for t in range(x.shape[0]):
            ys.append(ys[-1] + x[t])
        return sum(ys)

    with pytest.raises(IndexError, match="list index out of range"):
        looptrace.jit(f, backend="interpret")(rng.standard_normal(3))


def test_iterating_the_list_in_its_loop_is_refused_not_endless(rng):
    """sum(hs) in the loop that appends to hs iterated it by __getitem__ until
    an IndexError that tracing never raised: the trace never ended."""
    def f(W, X):
        hs = [X[0]]
        for t in range(X.shape[0]):
            hs.append(np.tanh(W @ sum(hs) + X[t]))
        return np.sum(hs[-1])

    with pytest.raises(looptrace.UnsupportedError, match="iterating a list that a traced loop appends to") as info:
        looptrace.jit(f, backend="interpret")(np.eye(3), rng.standard_normal((4, 3)))
    assert "hs.append(np.tanh(W @ sum(hs) + X[t]))" in str(info.value)


# --- while loops and cpu: refused clearly -----------------------------------------------------------
def in_a_while_loop(w, x):
    ys = [0.5]
    t = 0
    while t < x.shape[0]:
        ys.append(np.tanh(ys[-1] * w + x[t]))
        t += 1
    return sum(ys)


def test_while_loop_refused_naming_the_line(rng):
    with pytest.raises(looptrace.UnsupportedError, match="while loop") as info:
        looptrace.grad(in_a_while_loop, argnums=(0, 1), backend="interpret")(0.7, rng.standard_normal(4))
    text = str(info.value)
    assert "ys.append(np.tanh(ys[-1] * w + x[t]))" in text and "for loop over a range" in text


def test_under_a_condition_refused_on_cpu_before_compiling(rng):
    with pytest.raises(looptrace.UnsupportedError, match="grown under a condition"):
        looptrace.grad(under_a_condition, argnums=(0, 1), backend="cpu")(0.7, np.array([0.5, -1.0, 2.0]))


# --- cpu: the representative kinds in one program (one compile: ~6 s of CPU) -----------------------
def rnn_and_second_order(W, X):
    """A list of arrays read at -1 and one of numbers read at -1 and -2, both
    stacked afterwards (a list made in an outer loop's iterations: on the
    interpreter above; its cpu compile doubles this test's cost)."""
    hs, zs = [np.zeros(3)], [0.2, 0.1]
    for t in range(X.shape[0]):
        hs.append(np.tanh(W @ hs[-1] + X[t]))
        zs.append(np.tanh(0.8 * zs[-1] - 0.3 * zs[-2] + np.sum(hs[-1])))
    return np.sum(np.stack(hs) ** 2) + zs[-1] + np.sum(np.array(zs) ** 2)


def test_on_cpu(rng):
    _fd_check(rnn_and_second_order, [0.5 * rng.standard_normal((3, 3)), rng.standard_normal((6, 3))],
              backend="cpu")
