"""Loops whose first iteration is special, and loops over selections (session 44, helper A2).

1. A loop of zero trips known while tracing runs none of its body: the names keep their entry
   values, types and shapes (`acc = 0.0`, then `acc = acc + A[i]` over no rows stays 0.0); with
   a traced trip count a zero-trip run of a loop that grows a name's shape is a clear error.
2. `P = None`, then `if k == 0: P = M[0] else: P = P @ M[k]`: the first iteration on its own.
3. `for i in np.nonzero(c)[0]`, `for v in x[c]` (also np.flatnonzero, np.where(c)[0], enumerate
   of them): a traced loop over every position whose body runs where the mask selects.
4. `hs = [f(hs[0]), g(hs[0], hs[1])]`, a list of the same length reassigned each iteration: carried
   as a tuple is.
"""

import numpy as np
import pytest

import looptrace as lt
from looptrace.errors import LooptraceError, UnsupportedError


def _jit(f, backend="interpret"):
    return lt.jit(f, backend=backend)


def _same(got, want):
    assert type(got) is type(want), (type(got), type(want))
    assert np.shape(got) == np.shape(want)
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _fd(f, args, k, eps=1e-6):
    """Central finite differences of scalar f in args[k] (float64)."""
    g = np.zeros_like(args[k])
    for j in range(args[k].size):
        up = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        down = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        up[k].flat[j] += eps
        down[k].flat[j] -= eps
        g.flat[j] = (f(*up) - f(*down)) / (2 * eps)
    return g


# --- 1. zero trips --------------------------------------------------------------------------------
def _sum_rows(A):
    acc = 0.0
    for i in range(A.shape[0]):
        acc = acc + A[i]
    return acc


def _sum_rows_iter(A):
    acc = 0
    for row in A:
        acc = acc + row
    else:
        acc = acc * 2
    return acc


def _sum_rows_n(A, n):
    acc = 0.0
    for i in range(n):
        acc = acc + A[i]
    return acc


def _writes_rows(A, out):
    for i in range(A.shape[0]):
        out[i % 2] = A[i, 0]
    return out


@pytest.mark.parametrize("f", [_sum_rows, _sum_rows_iter])
@pytest.mark.parametrize("rows", [0, 3])
def test_static_zero_trips_keep_entry(rng, f, rows):
    A = rng.standard_normal((rows, 3))
    _same(_jit(f)(A), f(A))


def test_static_zero_trips_no_effects(rng):
    A, out = rng.standard_normal((0, 2)), rng.standard_normal(2)
    want_out = out.copy()
    got = _jit(_writes_rows)(A, out)
    _same(got, _writes_rows(A, want_out.copy()))
    np.testing.assert_array_equal(out, want_out)


def test_static_zero_trips_unbound_after():
    def f(A):
        for row in A:
            last = row
        return last  # noqa: F821

    with pytest.raises(UnboundLocalError):
        _jit(f)(np.ones((0, 2)))


def test_traced_trips_shape_grown_zero_is_an_error(rng):
    A = rng.standard_normal((4, 3))
    g = _jit(_sum_rows_n)
    _same(g(A, 2), _sum_rows_n(A, 2))
    with pytest.raises(UnsupportedError, match="no iteration"):
        g(A, 0)


def test_zero_trips_cpu(rng):
    A = rng.standard_normal((0, 3))
    _same(_jit(_sum_rows, "cpu")(A), _sum_rows(A))


# --- 2. None before the loop, assigned in its first iteration --------------------------------------
def _product(M):
    P = None
    for k in range(M.shape[0]):
        if k == 0:
            P = M[0]
        else:
            P = P @ M[k]
    return P


def _flagged(M):
    first = True
    P = None
    for m in M:
        if first:
            P = m
            first = False
        else:
            P = np.dot(P, m) + np.sin(P)
    return P


def _first_sum(x, n):
    s = None
    for k in range(n):
        if k == 0:
            s = x[k]
        else:
            s = s * x[k]
    return s


def _long(x):
    s = None
    for k in range(200):
        if k == 0:
            s = x[0]
        else:
            s = s + np.tanh(x[k % x.shape[0]] * s)
    return s


@pytest.mark.parametrize("f", [_product, _flagged])
def test_first_iteration_initializes(rng, f):
    M = rng.standard_normal((4, 2, 2))
    _same(_jit(f)(M), f(M))


def test_first_iteration_long_loop_and_grad(rng):
    x = rng.standard_normal(5)
    _same(_jit(_long)(x), _long(x))
    np.testing.assert_allclose(lt.grad(_long, backend="interpret")(x), _fd(_long, [x], 0), rtol=1e-5, atol=1e-7)


def test_first_iteration_traced_length(rng):
    x = rng.standard_normal(6)
    g = _jit(_first_sum)
    for n in (3, 1, 0):
        want = _first_sum(x, n)
        got = g(x, n)
        if want is None:
            assert got is None
        else:
            _same(got, want)


# --- 3. loops over selections ---------------------------------------------------------------------
def _over_nonzero(x, w):
    s = 0.0
    for i in np.nonzero(x > 0)[0]:
        s = s + w[i] * x[i]
    return s


def _over_values(x, h=0.0):
    for v in x[x > 0]:
        h = np.tanh(h + v)
    return h


def _enumerated(x, w):
    s = 0.0
    for k, i in enumerate(np.flatnonzero(x > 0), 1):
        if w[i] > 0.8:
            continue
        if s > 2:
            break
        s = s + k * w[i] * x[i]
    return s


def _first_big(x):
    for i in np.where(x > 0.5)[0]:
        if x[i] > 1.0:
            return i
    return -1


def _rows(A, out):
    for row in A[A[:, 0] > 0]:
        out += row
    return out


def _count(x):
    n = 0
    for k, v in enumerate(x[x < 0]):
        n = k + 1
    return n


@pytest.mark.parametrize("f", [_over_nonzero, _enumerated])
def test_loop_over_positions(rng, f):
    for _ in range(3):
        x, w = rng.standard_normal(9), rng.random(9)
        _same(_jit(f)(x, w), f(x, w))
    x = -np.abs(x)  # nothing selected
    _same(_jit(f)(x, w), f(x, w))


def test_loop_over_values_and_return(rng):
    for x in (rng.standard_normal(8), rng.standard_normal(8), -np.abs(rng.standard_normal(8))):
        _same(_jit(_over_values)(x), _over_values(x))
        _same(_jit(_first_big)(x), _first_big(x))
        _same(_jit(_count)(x), _count(x))


def test_loop_over_selected_rows_writes_argument(rng):
    A, out = rng.standard_normal((7, 3)), rng.standard_normal(3)
    want = out.copy()
    _rows(A, want)
    got = _jit(_rows)(A, out)
    np.testing.assert_allclose(out, want)
    np.testing.assert_allclose(got, want)


def test_selection_loops_grad(rng):
    x, w = np.array([0.5, -1.0, 0.7, 1.2, -0.3]), rng.random(5)
    np.testing.assert_allclose(lt.grad(_over_nonzero, backend="interpret")(x, w), _fd(_over_nonzero, [x, w], 0),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(lt.grad(_over_values, backend="interpret")(x), _fd(_over_values, [x], 0),
                               rtol=1e-6, atol=1e-8)


def test_selection_loop_cpu(rng):
    x, w = rng.standard_normal(11), rng.random(11)
    _same(_jit(_enumerated, "cpu")(x, w), _enumerated(x, w))


# --- 4. a list reassigned each iteration ----------------------------------------------------------
def _stacked_rnn(X):
    hs = [np.zeros(2), np.zeros(2)]
    for t in range(X.shape[0]):
        hs = [np.tanh(hs[0] + X[t]), hs[0] * 0.5 + hs[1]]
    return np.sum(hs[0] * hs[1])


def _returns_list(X, n):
    hs = [X[0], 0.0]
    for t in range(n):
        hs = [hs[0] * 0.9 + X[t], hs[1] + np.sum(hs[0])]
    return hs


def _appends_still(X):
    hs = [np.zeros(2)]
    for t in range(X.shape[0]):
        hs.append(np.tanh(hs[-1] + X[t]))
    return hs[-1]


def test_list_carry_value_and_grad(rng):
    X = rng.normal(size=(4, 2))
    _same(_jit(_stacked_rnn)(X), _stacked_rnn(X))
    np.testing.assert_allclose(lt.grad(_stacked_rnn, backend="interpret")(X), _fd(_stacked_rnn, [X], 0),
                               rtol=1e-6, atol=1e-8)


def test_list_carry_returned(rng):
    X = rng.normal(size=(5, 3))
    g = _jit(_returns_list)
    for n in (5, 2):
        got, want = g(X, n), _returns_list(X, n)
        assert type(got) is list and len(got) == 2
        for a, b in zip(got, want):
            _same(a, b)


def test_list_append_unchanged(rng):
    X = rng.normal(size=(4, 2))
    _same(_jit(_appends_still)(X), _appends_still(X))


def test_list_changing_length_refused():
    def f(X):
        hs = [X[0], X[1]]
        for t in range(X.shape[0]):
            hs = [hs[0] + X[t]]
        return hs[0]

    with pytest.raises(LooptraceError):
        _jit(f)(np.ones((70, 2)))
