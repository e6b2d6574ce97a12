"""A function that returns one of its argument arrays returns, in plain
Python, the caller's array itself (or a view of it): which one may be
decided at run time, by a traced condition (`r = x if s > 0 else y`) or by
the parity of a loop that swaps two buffers (`u, v = v, u`). The jitted
call returns that same object (tracer/trace.py `_result_choices`, api.py
`plain_results`), so `r is u` and a later write by the caller into the
argument, seen through the result, are as in Python. Each case compares
the identities (`is`, np.shares_memory), the values, the arguments after
the call and the results after the caller overwrites each argument."""
import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt
from bench.corpus.stencils import jacobi_1d_buffers
from tests.reliability.test_api_edges_s45 import _leaves  # the results' arrays, nested tuples/dicts flattened


def _identities(out, args):
    """For each result: the argument it is ("is", k), the arguments it shares memory with, or a number."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    ids = []
    for o in _leaves(out):
        if not isinstance(o, np.ndarray):
            ids.append("number")
        else:
            same = [k for k, a in enumerate(arrays) if o is a]
            ids.append(("is", same[0]) if same else ("shares", [np.shares_memory(o, a) for a in arrays]))
    return ids


def _after_caller_writes(out, args):
    """The results as they read after the caller overwrites each argument in turn."""
    seen = []
    for k, a in enumerate(args):
        if isinstance(a, np.ndarray):
            a[...] = 100.0 * (k + 1) + np.arange(a.size).reshape(a.shape)
            seen.append([np.array(o) for o in _leaves(out)])
    return seen


def _same_as_python(fn, jf, args):
    plain, mine = copy.deepcopy(args), copy.deepcopy(args)
    want, got = fn(*plain), jf(*mine)
    assert _identities(got, mine) == _identities(want, plain)
    for w, g in zip(_leaves(want), _leaves(got)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    for p, m in zip(plain, mine):
        if isinstance(p, np.ndarray):
            np.testing.assert_array_equal(m, p)
    for ws, gs in zip(_after_caller_writes(want, plain), _after_caller_writes(got, mine)):
        for w, g in zip(ws, gs):
            np.testing.assert_array_equal(g, w)


# --- buffers swapped by a loop of a run-time trip count ------------------------------------------
def swap_last(u, v, steps):
    for _ in range(steps):
        v[1:-1] = 0.5 * (u[:-2] + u[2:])
        u, v = v, u
    return u


def swap_both_in_dict(u, v, steps):
    for _ in range(steps):
        v[1:-1] = 0.5 * (u[:-2] + u[2:])
        u, v = v, u
    return {"last": u, "prev": v, "n": steps}


def swap_views(u, v, steps):
    for _ in range(steps):
        v[1:-1] = 0.5 * (u[:-2] + u[2:])
        u, v = v, u
    return u, u[2:], v[::2], u.reshape(2, -1).T


def swap_unwritten(u, v, steps):
    for _ in range(steps):
        u, v = v, u
    return v


def swap_then_write(u, v, steps):
    for _ in range(steps):
        v[1:-1] = 0.5 * (u[:-2] + u[2:])
        u, v = v, u
    u[0] = 7.0  # the caller's array the parity picks (was: the first argument's write lost on odd counts)
    return v


def swap_unwritten_then_write(u, v, steps):
    for _ in range(steps):
        u, v = v, u
    u[0] = 7.0  # (was written into a value the loop carried: neither argument changed)
    return u


SWAPPING = [swap_last, swap_both_in_dict, swap_views, swap_unwritten, swap_then_write, swap_unwritten_then_write]


@settings(max_examples=16, deadline=None)
@given(k=st.integers(0, len(SWAPPING) - 1), steps=st.integers(0, 7), seed=st.integers(0, 2**16))
def test_swapped_buffers_returned_are_the_callers(k, steps, seed):
    fn = SWAPPING[k]
    jf = _JITTED.setdefault(fn, lt.jit(fn, backend="interpret"))
    rng = np.random.default_rng(seed)
    _same_as_python(fn, jf, (rng.standard_normal(12), rng.standard_normal(12), steps))


_JITTED: dict = {}  # one jitted function per form across the examples (warm calls included)


# --- an argument a traced condition picks ---------------------------------------------------------
def picked(x, y):
    r = x if x.sum() > 0 else y
    return r


def picked_by_return(x, y):
    if x.sum() > 0:
        return x
    return y


def picked_views(x, y):
    r = x if x.sum() > 0 else y
    return r[1:], r.T, r


def picked_or_made(x, y):
    r = x if x.sum() > 0 else x * 2.0  # the argument on one side, a new array on the other
    return r


def picked_then_written(x, y):
    r = x if x[0, 0] > 0 else y
    r[0] = 3.0
    return r


def crosswise_then_written(x, y):
    if x[0, 0] > 0:
        a, b = x, y
    else:
        a, b = y, x
    a[1] = 7.0  # reaches y where not x[0, 0] > 0 (tracer/array.py `_write_linked` took the chain a-x-b-y)
    b[2] += 1.0
    return a, b


def crosswise_pair_then_written(x, y):
    a, b = (x, y) if x[0, 0] > 0 else (y, x)  # (arrays in a tuple a traced `if` binds were not linked)
    a[1] = 7.0
    return b, (a, b)


@pytest.mark.parametrize("fn", [picked, picked_by_return, picked_views, picked_or_made, picked_then_written,
                                crosswise_then_written, crosswise_pair_then_written],
                         ids=lambda f: f.__name__)
def test_argument_picked_by_a_condition(fn, rng):
    jf = lt.jit(fn, backend="interpret")
    for sign in (1.0, -1.0, 1.0):  # both sides, then a warm call of the first again
        x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
        x = sign * np.abs(x)
        _same_as_python(fn, jf, (x, y))


def test_swapped_buffers_cpu(rng):
    """The corpus kernel compiled: both parities, a first call and warm ones."""
    jf = lt.jit(jacobi_1d_buffers, backend="cpu")
    for steps in (5, 6, 0, 3):
        _same_as_python(jacobi_1d_buffers, jf, (rng.standard_normal(40), rng.standard_normal(40), steps))


def test_gradient_through_swapped_buffers(rng):
    """The loss of a swapping loop differentiates as before (the choice is not a result of a transform)."""
    def loss(u, v, steps):
        return (swap_last(u, v, steps) ** 2).sum()

    u, v = rng.standard_normal(10), rng.standard_normal(10)
    for steps in (3, 4):
        g = lt.grad(loss, backend="interpret")(u.copy(), v.copy(), steps)
        eps, fd = 1e-6, np.empty_like(u)
        for i in range(u.size):
            up, dn = u.copy(), u.copy()
            up[i] += eps
            dn[i] -= eps
            fd[i] = (loss(up, v.copy(), steps) - loss(dn, v.copy(), steps)) / (2 * eps)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


def test_a_new_empty_array_is_not_the_argument():
    """np.cumsum of an empty argument is a new array in NumPy; the kernel gave the argument's own object
    (no memory to share, so api.py's copy of a fresh result that shares memory did not see it: corpus
    zero_and_one_trip, found by the corpus judge's sharing check)."""
    def cumsum_of(e):
        return np.cumsum(e), e.sum()

    e = np.empty(0)
    jf = lt.jit(cumsum_of, backend="interpret")
    for _ in range(2):
        r, _s = jf(e)
        assert r is not e and r.shape == (0,)


def _swap_copies(u, steps):
    cur = u.copy()
    nxt = u.copy()
    for _ in range(steps):
        cur, nxt = nxt, cur
    return cur


def _while_doubles(x, n):
    y = x.copy()
    i = 0
    while i < n:
        y = y * 2
        i += 1
    return y, y[1:]


@pytest.mark.parametrize("fn, extra", [(_swap_copies, (0,)), (_swap_copies, (3,)),
                                       (_while_doubles, (0,)), (_while_doubles, (2,))])
def test_a_copy_carried_by_a_loop_is_not_the_argument(rng, fn, extra):
    """In SSA `u.copy()` is u's value, and a loop's output may be its input object: two copies only
    swapped by a loop, a while loop of zero trips. The interpreter returned the caller's u itself
    (probe R2: a later write into u showed through the result); the plain function's are new arrays
    (codegen/reference.py `_unshared_undeclared`)."""
    for backend in ("interpret",):
        u = rng.standard_normal(5)
        want = _leaves(fn(u.copy(), *extra))
        got = _leaves(lt.jit(fn, backend=backend)(u, *extra))
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
            assert not np.shares_memory(g, u)
        u[:] = 7.0
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
