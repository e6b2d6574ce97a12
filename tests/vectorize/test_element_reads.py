"""Element reads x[s0, s1] at batched positions are one gather from x seen
as rows (ops/indexing.py `_element_gather`), each start checked and wrapped
on its own axis as NumPy's index is; the checks go where the ranges decide
them (a floor modulo by n lies in [0, n)). A conditional element write is a
select of scalars (vectorize/select.py). Values are compared with the plain
function, out-of-range reads still raise."""

import warnings

import numpy as np
import pytest

import looptrace
from looptrace.ir.core import walk


def torus_neighbours(x):
    n, m = x.shape
    out = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            out[i, j] = x[(i + 1) % n, j] + x[i, (j - 1) % m] + x[i - 1, j - 1]
    return out


def below(x):
    n, m = x.shape
    out = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            out[i, j] = x[i + 1, j]  # past the end at the last row
    return out


def flips(s, r):
    s = s.copy()
    for i in range(s.shape[0]):
        for j in range(s.shape[1]):
            if r[i, j] < 0.5:
                s[i, j] = -s[i, j]
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_periodic_and_negative_positions(backend, rng):
    x = rng.standard_normal((7, 5))
    f = looptrace.jit(torus_neighbours, backend=backend)
    np.testing.assert_allclose(f(x), torus_neighbours(x), rtol=1e-12)
    checks = [op for op in walk(f.explain(x).program.body) if op.prim.name == "check"]
    assert not checks, checks


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_row_past_the_end_raises(backend, rng):
    x = rng.standard_normal((4, 3))
    with pytest.raises(IndexError):
        below(x)
    with pytest.raises(IndexError):
        looptrace.jit(below, backend=backend)(x)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_conditional_element_writes(backend, rng):
    s, r = rng.standard_normal((6, 4)), rng.random((6, 4))
    f = looptrace.jit(flips, backend=backend)
    np.testing.assert_array_equal(f(s, r), flips(s, r))
    if backend == "cpu":
        assert "filled((1, 1" not in f.explain(s, r).kernel_source


def test_a_reshaped_scalar_stays_an_array(rng):
    """reshape(f(scalars)) to (1,) is not pushed into f (f of scalars is a
    scalar): np.nanquantile of one element traces such a reshape."""
    for x in (np.array([np.nan]), rng.standard_normal(1)):
        got = looptrace.jit(lambda a: np.nanquantile(a, 0.5, axis=0), backend="interpret")(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN slice
            want = np.nanquantile(x, 0.5, axis=0)
        np.testing.assert_array_equal(got, want)
