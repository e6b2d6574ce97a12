"""A running extreme over nested loops (`for v in X.flat: if v < lo: lo = v`)
is one reduction (and a nested argmax's payloads are taken where it is
reached): the inner loop leaves `minimum(row extreme, lo)` and its
type tag `maximum(tag, select(row extreme < lo, 1, ...))`, which the outer
loop reads as a running extreme (analysis._nan_free_extreme) with a fold of
its comparison, once the tag's range [0, 1] (bounds.carry_ranges) drops the
clamp `maximum(tag, 0)`; `updated` of a strict extreme is `m < init` alone,
m the very reduction the extreme folds (loop_rewrite `_reduced`).
Each program against the plain function, values and Python types."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt


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


def _same(fn, *args, backend="interpret"):
    want = fn(*args)
    got = lt.jit(fn, backend=backend)(*args)
    if not isinstance(want, tuple):
        want, got = (want,), (got,)
    for g, w in zip(got, want):
        assert type(g) is type(w), (fn.__name__, type(g), type(w))
        np.testing.assert_array_equal(g, w)


def _kinds(fn, *args):
    return [r.kind for r in lt.explain(lt.jit(fn, backend="interpret"), *args).loops]


values = st.lists(st.sampled_from([np.nan, -np.inf, np.inf, 0.0, -0.0, 1.5, -2.0, 3.25, 3.25, 7.0]),
                  min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(values, st.integers(1, 4))
def test_same_as_the_loop(v, cols):
    X = np.array(v * cols).reshape(cols, -1)
    for fn in (flat_min_max, nested_min_from_zero, nested_max_weak, nested_argmax):
        _same(fn, X)
    _same(nested_integer_max, np.nan_to_num(X, posinf=9, neginf=-9).astype(np.int64))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
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
