"""vectorize/gathered.py on empty sources: a gather through a reshape of an
array with a zero-length axis (a cross-entropy of 0 rows: a keepdims
reduction, then X[np.arange(n), y]) divided by the zero axis while placing
the elements and raised Python's ZeroDivisionError from the pass (probe_s54,
corpus label_nll with 0 rows). The rewrite now gives up there: NumPy's NaN
mean of nothing, and the same values as before for other row counts."""
import warnings

import numpy as np
import pytest

import looptrace


def label_nll(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(logits.shape[0]), y].mean()


def picked_rows(X, y):
    z = (X - X.max(axis=1, keepdims=True)).reshape(X.shape[0], 2, 2)
    return z[np.arange(X.shape[0]), 1, y], z.sum()


@pytest.mark.parametrize("rows", [0, 1, 3])
@pytest.mark.parametrize("fn", [label_nll, picked_rows])
def test_gather_through_a_reshape_of_zero_or_more_rows(fn, rows):
    r = np.random.default_rng(rows)
    X, y = r.standard_normal((rows, 4)), r.integers(0, 2, rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = fn(X, y)
        got = looptrace.jit(fn, backend="interpret")(X, y)
    for g, w in zip(np.atleast_1d(got) if not isinstance(got, tuple) else got,
                    np.atleast_1d(want) if not isinstance(want, tuple) else want):
        assert np.asarray(g).dtype == np.asarray(w).dtype and np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=1e-12, equal_nan=True)
