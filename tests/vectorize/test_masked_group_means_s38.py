"""A reduction of a broadcast reduces what was broadcast (vectorize/narrow.py).

The k-means centroid update `C[j] = X[lab == j].mean(axis=0)` over k groups
batches to a (k, n, 1) mask spread to (k, n, d): its count was summed once
per column, d times over. Reduced before the spread, it is summed once per
group. The plain function is the oracle (interpreter and CPU backend, fresh
random data, empty groups giving NaN as NumPy's mean of nothing does).
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


def update(X, lab, k):
    C = np.zeros((k, X.shape[1]))
    for j in range(k):
        C[j] = X[lab == j].mean(axis=0)
    return C


def group_max(X, lab, k):
    """A max over the rows of a broadcast row vector: the same rule for max."""
    M = np.zeros((k, X.shape[1]))
    for j in range(k):
        M[j] = np.max(np.where((lab == j)[:, None], X, -1e300) + 0 * X[0], axis=0)
    return M


def counts_spread(lab, k, d):
    out = np.zeros((k, d), dtype=np.int64)
    for j in range(k):
        out[j] = np.broadcast_to((lab == j)[:, None], (lab.shape[0], d)).sum(axis=0)
    return out


def both(fn, *args, rtol=1e-9):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty group's mean
        check(fn, *args, rtol=rtol)
        return check(fn, *args, rtol=rtol, jitted=looptrace.jit(fn, backend="cpu"))


def reductions_over(f, *args):
    """(input shape, output shape) of each reduce_sum of the program."""
    return [(tuple(op.inputs[0].shape), tuple(op.out.shape))
            for op in walk(f.explain(*args).program.body) if op.prim.name == "reduce_sum"]


@pytest.mark.parametrize("n,d,k", [(500, 8, 16), (37, 3, 5), (1, 4, 2), (64, 1, 3)])
def test_centroid_update(rng, n, d, k):
    X, lab = rng.standard_normal((n, d)), rng.integers(0, k, n)
    f = both(update, X, lab, k)
    assert [loop.kind for loop in f.explain(X, lab, k).loops] == ["vectorized"]
    # the sums and the count are each one scatter-add over the rows (vectorize/group_sums.py), no
    # (k, n, d) masked sum (tests/vectorize/test_group_scatter_s38.py checks the structure)
    assert not any(shape[:2] == (k, n) for shape, _ in reductions_over(f, X, lab, k))


def test_empty_groups_are_nan_as_plain(rng):
    X, lab = rng.standard_normal((40, 3)), rng.integers(0, 3, 40)  # groups 3..5 empty
    both(update, X, lab, 6)


def test_float32_rows(rng):
    X, lab = rng.standard_normal((300, 4)).astype(np.float32), rng.integers(0, 7, 300)
    both(update, X, lab, 7, rtol=1e-5)  # float32 sums, added in another order than NumPy's


@pytest.mark.parametrize("fn", [group_max, counts_spread])
def test_other_reductions_of_broadcasts(rng, fn):
    lab = rng.integers(0, 4, 90)
    args = (rng.standard_normal((90, 5)), lab, 4) if fn is group_max else (lab, 4, 6)
    both(fn, *args)
