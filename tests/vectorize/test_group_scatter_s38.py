"""A batched masked sum over groups is one scatter-add pass (vectorize/group_sums.py).

`for j in range(k): C[j] = X[lab == j].mean(axis=0)` batched to a (k, n)
mask and k passes over X; the sum and the count of each group are now one
scatter-add of each row into its label's group, labels outside 0..k-1
matching no group as in the plain function. The plain function is the
oracle (interpreter and CPU backend, fresh random data; empty groups give
NaN as NumPy's mean of nothing does).
"""
import warnings

import numpy as np
import pytest

import looptrace
from looptrace.ir.core import walk
from tests.tracer._loopcheck import check


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def means(X, lab, k):
    C = np.zeros((k, X.shape[1]))
    for j in range(k):
        C[j] = X[lab == j].mean(axis=0)
    return C


def sums(X, lab, k):
    C = np.zeros((k, X.shape[1]), dtype=X.dtype)
    for j in range(k):
        C[j] = X[lab == j].sum(axis=0)
    return C


def counts(lab, k):
    c = np.zeros(k, dtype=np.int64)
    for j in range(k):
        c[j] = np.sum(lab == j)
    return c


def both(fn, *args, rtol=1e-9):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty group's mean
        check(fn, *args, rtol=rtol)
        return check(fn, *args, rtol=rtol, jitted=looptrace.jit(fn, backend="cpu"))


def prims(f, *args):
    return [op.prim.name for op in walk(f.explain(*args).program.body)]


@pytest.mark.parametrize("n,d,k", [(500, 8, 16), (37, 3, 5), (1, 4, 2), (64, 1, 3)])
def test_centroids_are_one_scatter_pass(rng, n, d, k):
    X, lab = rng.standard_normal((n, d)), rng.integers(0, k, n)
    f = both(means, X, lab, k)
    assert [loop.kind for loop in f.explain(X, lab, k).loops] == ["vectorized"]
    names = prims(f, X, lab, k)
    assert names.count("scatter") == 2 and "reduce_sum" not in names  # the sums and the counts


def test_labels_outside_the_groups_match_none(rng):
    X, lab = rng.standard_normal((200, 3)), rng.integers(-4, 9, 200)
    X[lab < 0] = np.nan  # rows of no group: their NaN reaches no mean
    X[lab >= 6] = np.inf
    both(means, X, lab, 6)
    both(sums, X, lab, 6)
    both(counts, lab, 6)


def test_empty_groups_are_nan_as_plain(rng):
    X, lab = rng.standard_normal((40, 3)), rng.integers(0, 3, 40)  # groups 3..5 empty
    both(means, X, lab, 6)


def test_float32_rows_and_int32_labels(rng):
    X, lab = rng.standard_normal((300, 4)).astype(np.float32), rng.integers(0, 7, 300).astype(np.int32)
    both(means, X, lab, 7, rtol=1e-4)  # float32 sums, added in another order than NumPy's
    both(sums, X, lab, 7, rtol=1e-4)


def test_integer_sums_are_exact(rng):
    X, lab = rng.integers(-2**40, 2**40, (120, 3)), rng.integers(-1, 5, 120)
    f = both(sums, X, lab, 5)
    assert "scatter" in prims(f, X, lab, 5)


def test_counts_alone(rng):
    lab = rng.integers(0, 9, 1000)
    f = both(counts, lab, 9)
    assert "scatter" in prims(f, lab, 9)
