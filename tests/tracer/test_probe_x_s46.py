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
