"""Lists grown in loops, session 38 (probe R): an append no branch holds, in
a loop that runs at least once, makes a list of run-time length that is
never empty, so np.array of it has the elements' dtype (it was refused as
"the array's type would depend on the data"); a view of an argument's row
appended (`rows.append(X[i])`) is read at its append, refused only where
the loop writes that array (a misleading "escaped through a Python object"
error before)."""
import numpy as np
import pytest

import looptrace

BACKENDS = ["interpret", "cpu"]


def nucleus_keep(p, top_p):
    keep = []
    cum = 0.0
    for i in range(p.shape[0]):
        keep.append(i)
        cum += p[i]
        if cum >= top_p:
            break
    return np.array(keep)


def while_history(x, tol):
    hist = []
    err = 1.0
    k = 0
    while True:
        hist.append(k)
        err = err * x[k % x.shape[0]]
        k += 1
        if err < tol or k > 50:
            break
    return np.array(hist)


def maybe_empty(p, top_p):
    keep = []
    for i in range(p.shape[0]):
        if p[i] > top_p:
            keep.append(i)
    return np.array(keep)


def stacked_rows(X):
    rows = []
    for i in range(X.shape[0]):
        rows.append(X[i])
    return np.stack(rows)


def chosen_rows(X):
    rows = []
    for i in range(X.shape[0]):
        if X[i, 0] > 0.5:
            rows.append(X[i, :2])
    return np.array(rows, dtype=float).sum() if rows else 0.0


def rows_then_written(X):
    rows = []
    for i in range(X.shape[0]):
        rows.append(X[i])
        X[i] += 1.0
    return np.stack(rows)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_list_every_iteration_appends_to_is_never_empty(backend, rng):
    for fn, args in ((nucleus_keep, (rng.dirichlet(np.ones(8)), 0.5)), (nucleus_keep, (rng.dirichlet(np.ones(8)), 2.0)),
                     (while_history, (rng.random(7) * 0.9, 1e-3))):
        want, got = fn(*args), looptrace.jit(fn, backend=backend)(*args)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    # (refused before; returned, its dtype is picked after the run: NumPy's float64 where empty)
    for t in (0.5, 2.0):
        p = rng.random(5)
        want, got = maybe_empty(p, t), looptrace.jit(maybe_empty, backend=backend)(p, t)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_appending_views_of_rows(backend, rng):
    for fn in (stacked_rows, chosen_rows):
        X = rng.random((6, 3))
        a, b = X.copy(), X.copy()
        np.testing.assert_allclose(looptrace.jit(fn, backend=backend)(b), fn(a), rtol=1e-12)
        np.testing.assert_array_equal(a, b)
    with pytest.raises(looptrace.UnsupportedError, match="appends a view of an array that this loop writes") as e:
        looptrace.jit(rows_then_written, backend=backend)(rng.random((4, 2)))
    assert "rows.append(X[i])" in str(e.value)
