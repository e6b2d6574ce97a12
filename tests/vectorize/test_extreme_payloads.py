"""A running extreme with a payload, `if v > best: best = v; bi = i` (the
argmax loop, nearest-neighbour searches), is a reduction: the payload is
taken where the extreme is reached (vectorize/analysis.py `_extremes`,
loop_rewrite `_final_argext`), the first index for `>`, the last for `>=`;
the type tag of a Python-number start (`best = -np.inf`) from whether any,
and whether every, iteration set a new extreme (`_final_argany`). Each
program against the plain function, values and Python types, on values with
NaNs, ties, infinities and signed zeros, and with the loop fates explain gives.

The second half of this file: a running extreme over nested loops
(`for v in X.flat: if v < lo: lo = v`) is one reduction (and a nested
argmax's payloads are taken where it is reached): the inner loop leaves `minimum(row extreme, lo)` and its
type tag `maximum(tag, select(row extreme < lo, 1, ...))`, which the outer
loop reads as a running extreme (analysis._nan_free_extreme) with a fold of
its comparison, once the tag's range [0, 1] (bounds.carry_ranges) drops the
clamp `maximum(tag, 0)`; `updated` of a strict extreme is `m < init` alone,
m the very reduction the extreme folds (loop_rewrite `_reduced`)."""
import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt
from tests.marks import INTERPRET_AND_SLOW_CPU


def argmax_first(x):
    best = x[0]
    bi = 0
    for i in range(x.shape[0]):
        if x[i] > best:
            best = x[i]
            bi = i
    return best, bi


def argmax_last_from_python_float(x):
    best = -np.inf
    bi = -1
    for i in range(x.shape[0]):
        if x[i] >= best:
            best = x[i]
            bi = i
    return best, bi


def argmin_python_init(x, y):
    best = np.inf
    bi = -1
    at = 0.5
    for i in range(x.shape[0]):
        if x[i] < best:
            best = x[i]
            bi = i
            at = y[i]
    return best, bi, at


def argmin_reversed_comparison_from_zero(x):
    best = 0.0
    bi = 7
    for i in range(2, x.shape[0], 2):
        if best >= x[i]:
            best = x[i]
            bi = i
    return best, bi


def guarded_argmax(x, c):
    best = x[0]
    bi = -1
    for i in range(x.shape[0]):
        if c[i] > 0 and x[i] > best:
            best = x[i]
            bi = i
    return best, bi


def row_payload(x, Y):
    best = -np.inf
    row = np.zeros(Y.shape[1])
    for i in range(x.shape[0]):
        if x[i] > best:
            best = x[i]
            row = Y[i]
    return best, row


def integer_argmin(k):
    best = k[0]
    bi = 0
    for i in range(k.shape[0]):
        if k[i] <= best:
            best = k[i]
            bi = i
    return best, bi


def ever_stalls(x):
    """A fold of the comparison: its False side decides (`every` iteration rose?)."""
    best = x[0]
    stalled = False
    for i in range(1, x.shape[0]):
        up = x[i] > best
        if up:
            best = x[i]
        stalled = np.logical_or(stalled, np.logical_not(up))
    return best, stalled


def nearest_center_and_distance(X, C):
    """Nested: the inner argmin with two payloads is a reduction per point."""
    labels = np.empty(X.shape[0], dtype=np.int64)
    dist = np.empty(X.shape[0])
    for p in range(X.shape[0]):
        best = np.inf
        bj = -1
        at = 0.5
        for j in range(C.shape[0]):
            d = np.sum((X[p] - C[j]) ** 2)
            if d < best:
                best = d
                bj = j
                at = d * 2.0
        labels[p] = bj
        dist[p] = at
    return labels, dist


def rng_points(seed):
    r = np.random.default_rng(seed)
    return r.standard_normal((40, 3)), r.standard_normal((5, 3))


def nearest_center(X, C):
    """k-means assignment written as loops: the inner argmin is a reduction,
    the outer loop over points then batches."""
    labels = np.empty(X.shape[0], dtype=np.int64)
    for p in range(X.shape[0]):
        best = np.inf
        bj = -1
        for j in range(C.shape[0]):
            d = 0.0
            for k in range(X.shape[1]):
                d += (X[p, k] - C[j, k]) ** 2
            if d < best:
                best = d
                bj = j
        labels[p] = bj
    return labels


@functools.cache
def _jitted(fn, backend):
    """One jit per function and backend for every test and example here: each traces a
    signature (a length) once, where a new jit per hypothesis example traced every one
    (the two hypothesis tests were 10.7 s of CI until session 54)."""
    return lt.jit(fn, backend=backend)


def _same(fn, *args, backend="interpret"):
    want = fn(*args)
    got = _jitted(fn, backend)(*args)
    if not isinstance(want, tuple):
        want, got = (want,), (got,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert type(g) is type(w), (fn.__name__, type(g), type(w))
        np.testing.assert_array_equal(g, w)


def _kinds(fn, *args):
    return [r.kind for r in lt.explain(lt.jit(fn, backend="interpret"), *args).loops]


values = st.lists(st.sampled_from([np.nan, -np.inf, np.inf, 0.0, -0.0, 1.5, -2.0, 3.25, 3.25, 7.0]),
                  min_size=1, max_size=12).map(lambda v: np.array(v))


@settings(max_examples=30, deadline=None)  # (60 cost 6 s of the suite's 15-minute budget)
@given(values, st.integers(0, 2**31))
def test_same_as_the_loop(x, seed):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(x.shape[0])
    for fn in (argmax_first, argmax_last_from_python_float, argmin_reversed_comparison_from_zero, ever_stalls):
        _same(fn, x)
    _same(ever_stalls, np.sort(x))
    _same(argmin_python_init, x, y)
    _same(guarded_argmax, x, y)
    _same(row_payload, x, rng.standard_normal((x.shape[0], 3)))
    _same(integer_argmin, rng.integers(-3, 3, x.shape[0]))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_reductions_on_random_data(backend):
    rng = np.random.default_rng(11)
    x = rng.standard_normal(400)
    x[[5, 90]] = np.nan
    y = rng.standard_normal(400)
    cases = [(argmax_first, (x,)), (argmax_last_from_python_float, (np.round(y, 1),)),
             (argmin_python_init, (x, y)), (argmin_reversed_comparison_from_zero, (y,)),
             (guarded_argmax, (y, x)), (row_payload, (y, rng.standard_normal((400, 3)))),
             (integer_argmin, (rng.integers(-50, 50, 400),)), (ever_stalls, (x,)), (ever_stalls, (np.sort(y),))]
    for fn, args in cases:
        _same(fn, *args, backend=backend)
        # on its own a loop with payloads stays a scan: the reduction, its comparison and its
        # argmax cost more passes than the scan's one (masked.mask_accumulations `payloads`)
        assert _kinds(fn, *args) == ["scan"], fn.__name__
    X, C = rng_points(7)
    text = str(lt.explain(lt.jit(nearest_center_and_distance, backend="interpret"), X, C))
    assert "`bj`, `at` taken where `best` reaches its minimum" in text


def test_no_iteration_sets_an_extreme():
    """The payload and the Python type keep their start: nothing beats +inf
    for a maximum, or a NaN start; a loop of no trips."""
    x = np.array([1.0, 2.0, np.nan])
    _same(argmax_last_from_python_float, np.full(4, np.nan))
    _same(argmin_reversed_comparison_from_zero, np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    _same(argmin_reversed_comparison_from_zero, x[:2])
    _same(argmax_first, np.array([np.nan, 1.0, 2.0]))
    _same(argmin_python_init, x, x)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_nearest_center_batches(backend):
    rng = np.random.default_rng(3)
    X, C = rng.standard_normal((60, 3)), rng.standard_normal((5, 3))
    _same(nearest_center, X, C, backend=backend)
    assert _kinds(nearest_center, X, C) == ["vectorized", "reduction", "reduction"]
    X, C = rng_points(4)
    _same(nearest_center_and_distance, X, C, backend=backend)
    assert _kinds(nearest_center_and_distance, X, C) == ["vectorized", "reduction"]


def test_a_payload_read_in_the_loop_keeps_the_scan():
    """bi read by the step (or the comparison read by another update) is
    not a payload: the loop stays a scan, and is right."""
    def read_back(x):
        best = x[0]
        bi = 0
        s = 0
        for i in range(x.shape[0]):
            if x[i] > best:
                best = x[i]
                bi = i
            s += bi
        return best, bi, s

    def counted(x):
        best = x[0]
        n = 0
        for i in range(x.shape[0]):
            if x[i] > best:
                best = x[i]
                n += 1
        return best, n

    x = np.random.default_rng(5).standard_normal(50)
    for fn in (read_back, counted):
        _same(fn, x)
        _same(fn, x, backend="cpu")
    assert _kinds(read_back, x) == ["scan"]


def test_on_the_cuda_backend():
    """The payload's ops after the loop (argmax, any, all, a gather) on the
    cuda backend (the simulator in CI)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal(30)
    x[3] = np.nan
    _same(argmin_python_init, x, rng.standard_normal(30), backend="cuda")
    _same(nearest_center, rng.standard_normal((12, 3)), rng.standard_normal((4, 3)), backend="cuda")


def python_max_from_minus_inf(x):
    m = -np.inf
    for i in range(x.shape[0]):
        m = max(m, x[i])
    return m


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_gradients_through_the_running_extreme(backend):
    """A gradient's forward loop stacks the comparison for the reverse loop:
    that comparison is no sink (the regression the cuda probe found: the
    stacked comparison was read before it was defined)."""
    x = np.random.default_rng(6).standard_normal(7)
    want = np.zeros(7)
    want[np.argmax(x)] = 1.0
    g = lt.grad(lt.jit(python_max_from_minus_inf, backend=backend))(x)
    np.testing.assert_array_equal(g, want)

    def loss(x, y):
        best, bi, at = argmin_python_init(x, y)
        return best * 2.0 + at * 3.0

    y = np.random.default_rng(7).standard_normal(7)
    gx, gy = lt.grad(lt.jit(loss, backend=backend), argnums=(0, 1))(x, y)
    k = int(np.argmin(x))
    wx, wy = np.zeros(7), np.zeros(7)
    wx[k], wy[k] = 2.0, 3.0
    np.testing.assert_allclose(gx, wx)
    np.testing.assert_allclose(gy, wy)


def sums_and_max_without_an_if(x):
    acc = np.zeros(2)
    m = -np.inf
    for i in range(x.shape[0]):
        acc += np.array([x[i], x[i] ** 2])
        m = max(m, x[i])
    return acc, m


def test_explain_does_not_call_a_max_a_conditional_accumulation():
    """The NaN mask of a running max and np.array of scalars are selects, not
    an `if` the rewrite masked (a probe of explain, session 33)."""
    x = np.random.default_rng(0).standard_normal(6)
    (loop,) = lt.explain(lt.jit(sums_and_max_without_an_if, backend="interpret"), x).loops
    assert "conditional" not in loop.reason, loop.reason


# Running extremes over nested loops
def flat_min_max(X):
    lo = np.inf
    hi = -np.inf
    for v in X.flat:
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    return lo, hi


def nested_min_from_zero(X):
    lo = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] < lo:
                lo = X[i, j]
    return lo


def nested_max_weak(X):
    hi = -np.inf
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] >= hi:
                hi = X[i, j]
    return hi


def nested_integer_max(K):
    hi = -1
    for i in range(K.shape[0]):
        for j in range(K.shape[1]):
            if K[i, j] > hi:
                hi = K[i, j]
    return hi


def nested_argmax(X):
    best = -np.inf
    bi = -1
    bj = -1
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] > best:
                best = X[i, j]
                bi = i
                bj = j
    return best, bi, bj


def tag_from_negative_start(x):
    t = -3
    for i in range(x.shape[0]):
        t = max(t, 1 if x[i] > 0 else 0)
    return t


grid_values = st.lists(st.sampled_from([np.nan, -np.inf, np.inf, 0.0, -0.0, 1.5, -2.0, 3.25, 3.25, 7.0]),
                  min_size=1, max_size=12)


@settings(max_examples=30, deadline=None)  # (60 cost 11 s)
@given(grid_values, st.integers(1, 4))
def test_nested_same_as_the_loop(v, cols):
    X = np.array(v * cols).reshape(cols, -1)
    for fn in (flat_min_max, nested_min_from_zero, nested_max_weak, nested_argmax):
        _same(fn, X)
    _same(nested_integer_max, np.nan_to_num(X, posinf=9, neginf=-9).astype(np.int64))


@pytest.mark.parametrize("backend", INTERPRET_AND_SLOW_CPU)
def test_nested_extremes_are_reductions(backend):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 17))
    X[rng.random(X.shape) < 0.05] = np.nan
    cases = [(flat_min_max, X), (nested_min_from_zero, X), (nested_max_weak, np.round(X, 1)),
             (nested_integer_max, rng.integers(-50, 50, (30, 7))), (nested_argmax, np.round(X, 1))]
    for fn, arg in cases:
        _same(fn, arg, backend=backend)
    for fn, arg in cases[:2] + cases[3:]:
        # no scan is left: the outer loop reads the row extremes as its terms
        assert "scan" not in _kinds(fn, arg), fn.__name__
    for X0 in (np.full((3, 4), np.nan), np.full((2, 2), np.inf), np.zeros((0, 3))):
        _same(flat_min_max, X0, backend=backend)  # nothing beats the start: Python floats


def test_a_negative_start_keeps_its_fold():
    """max(t, 0) is no clamp where t may start below 0 (no range [0, 1])."""
    x = np.array([-1.0, -2.0])
    _same(tag_from_negative_start, x)
    _same(tag_from_negative_start, np.array([-1.0, 2.0]))
