"""Found by this session's probe: an annotated assignment in a loop body or
branch (`s: float = x[i]`) was Python's SyntaxError (a loop body made into a
function declares its names nonlocal); `L += [v]` of a list a traced loop
appends to leaked an internal class in a TypeError. Each against the plain
function on interpret."""
import numpy as np
import pytest

import looptrace as lt


def annotated(x):
    acc: float = 0.0
    n: int  # noqa: F842  (a bare annotation: nothing at run time)  # pyflakes: ignore
    for i in range(x.shape[0]):
        s: float = x[i] * 2
        if s > 0:
            t: float = s
            acc += t
    return acc


def appended_by_plus(x):
    Ls = [[0.0], [1.0]]
    L = Ls[0]
    for i in range(3):
        L += [x[i]]
    return np.array(Ls[0]), np.array(L), np.array(Ls[1])


def pairs_by_plus(x):
    L = []
    for i in range(x.shape[0]):
        L += [x[i], x[i] * 2]
        L += (x[i] - 1,)
    return np.array(L)


def generated_by_plus(x):
    L = []
    for i in range(x.shape[0]):
        L += (x[j] * i for j in range(2))
    return np.array(L)


@pytest.mark.parametrize("fn", [annotated, appended_by_plus, pairs_by_plus, generated_by_plus])
def test_matches_plain(fn, rng):
    x = rng.standard_normal(5)
    want, got = fn(x.copy()), lt.jit(fn, backend="interpret")(x.copy())
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        np.testing.assert_array_equal(g, w)


# In-place ops through a view of run-time bounds that is not a bare name bound by `s = x[...]` (probe X:
# each left x unchanged): a helper's parameter, chained and tuple assignment, a walrus, a loop target.
def _scale(seg):
    seg *= 2.0


def through_a_helper(x, p):
    _scale(x[p[0]:p[1]])
    return x


def chained(x, a, b):
    s = t = x[a:b:2]
    s *= 2.0
    return x, t.sum()


def unpacked(x, ptr):
    for i in range(ptr.shape[0] - 1):
        s, n = x[ptr[i]:ptr[i + 1]], 0
        s *= 2.0
    return x


def walrus(x, ptr):
    for i in range(ptr.shape[0] - 1):
        if (s := x[ptr[i]:ptr[i + 1]]) is not None:
            s -= 1.0
    return x


def loop_target(x, ptr):
    for i in range(ptr.shape[0] - 1):
        for s in (x[ptr[i]:ptr[i + 1]],):
            s += 1.0
    return x


def accumulated(x, acc):
    for i in range(x.shape[0]):
        acc += x[i]  # a parameter that is a number: Python's +=
    return acc


@pytest.mark.parametrize("fn, extra", [
    (through_a_helper, lambda r: (np.array([1, 4]),)),
    (chained, lambda r: (np.int64(1), np.int64(7))),
    (unpacked, lambda r: (np.array([0, 2, 5, 8]),)),
    (walrus, lambda r: (np.array([0, 3, 3, 8]),)),
    (loop_target, lambda r: (np.array([1, 2, 6]),)),
    (accumulated, lambda r: (1.5,)),
])
def test_in_place_ops_through_views_write_the_array(fn, extra, rng):
    x, args = rng.standard_normal(8), extra(rng)
    xw, xg = x.copy(), x.copy()
    want, got = fn(xw, *args), lt.jit(fn, backend="interpret")(xg, *args)
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    np.testing.assert_array_equal(xg, xw)
