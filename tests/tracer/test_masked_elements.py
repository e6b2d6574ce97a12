"""One element of a boolean-mask selection, `cdf[cdf > 0][0]` (histogram
equalization's first non-empty bin), `x[x > t][-1]`, `np.nonzero(c)[0][0]`:
a static index into `x[mask]` is the k-th selected row (tracer/masked.py
`MaskedSelection._selected`), with NumPy's IndexError where fewer rows are
selected. Against the plain function on random data."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt


def picks(x, t):
    s = x[x > t]
    return s[0], s[-1], s[1], s[-2]


def rows(X):
    return X[X[:, 0] > 0][1], X[X[:, 0] > 0][0, 2]


def positions(c):
    return np.nonzero(c > 0.5)[0][0], np.nonzero(c > 0.5)[1][-1], np.flatnonzero(c > 0.5)[1]


def first_in_each_row(X):
    out = np.zeros(X.shape[0])
    for i in range(X.shape[0]):
        r = X[i]
        out[i] = r[r > 0.2][0]
    return out


def _outcome(fn, args, backend=None):
    try:
        return fn(*args) if backend is None else lt.jit(fn, backend=backend)(*args)
    except IndexError:
        return IndexError


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=0, max_size=8), st.floats(-1, 1))
def test_picks_as_plain(v, t):
    x = np.array(v, dtype=np.float64)
    want = _outcome(picks, (x, t))
    got = _outcome(picks, (x, t), "interpret")
    assert (got is IndexError) == (want is IndexError)
    if want is not IndexError:
        assert got == want


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_rows_positions_and_loops(backend):
    rng = np.random.default_rng(12)
    X = rng.standard_normal((9, 4))
    X[1, 0] = X[4, 0] = 1.0  # at least two rows selected
    for fn, args in [(rows, (X,)), (positions, (rng.random((5, 6)),)), (first_in_each_row, (rng.random((6, 50)),)),
                     (picks, (rng.standard_normal(30), 0.1))]:
        want = fn(*args)
        got = lt.jit(fn, backend=backend)(*args)
        for g, w in zip(got, want) if isinstance(want, tuple) else [(got, want)]:
            assert type(g) is type(w)
            np.testing.assert_array_equal(g, w)
    with pytest.raises(IndexError, match="index 0 is out of bounds"):
        lt.jit(picks, backend=backend)(-np.abs(rng.standard_normal(5)) - 1.0, 0.0)
