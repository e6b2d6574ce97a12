"""A one-element write whose value is read from the same buffer (`a[j + 1] =
a[j]`, insertion sort's shift, a swap) is done in place: the element is
read before it is stored, so the view it is read through may share the
buffer (codegen/cpu/indexing.py `_dyn_update_lower` names it in the plan's
disjoint_views). Before, the whole buffer was copied for every element
moved: insertion sort of 2000 floats took 408 ms (0.5x plain Python), an
O(n^3) copy. Values and argument effects against the plain function on
random data; the kernel keeps only the copies the program asks for."""
import numpy as np
import pytest

import looptrace
from bench.corpus.discrete import insertion_sort


def shift_while(x, m):
    a = x.copy()
    j = m
    while j > 0:
        a[j] = a[j - 1]
        j -= 1
    return a


def swaps(x, idx):
    for k in range(idx.shape[0]):
        i, j = idx[k, 0], idx[k, 1]
        x[i], x[j] = x[j], x[i]


def rows_down(M, col):
    for i in range(M.shape[0] - 1):
        M[i + 1, col[i]] = M[i, col[i]] * 0.5 + M[i + 1, col[i]]
    return M


@pytest.mark.parametrize("fn,make", [
    (shift_while, lambda r: (r.standard_normal(300), 299)),
    (insertion_sort, lambda r: (r.standard_normal(300),)),
    (insertion_sort, lambda r: (r.integers(0, 5, 300),)),
    (swaps, lambda r: (r.standard_normal(50), r.integers(0, 50, (200, 2)))),
    (rows_down, lambda r: (r.standard_normal((40, 6)), r.integers(0, 6, 40))),
])
def test_element_moves_match_plain(fn, make, rng, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    args = make(rng)
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    jit_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    want, got = fn(*plain), looptrace.jit(fn, backend="cpu")(*jit_args)
    if want is None:
        assert got is None
    else:
        np.testing.assert_array_equal(got, want)
    for g, w in zip(jit_args, plain):
        if isinstance(w, np.ndarray):
            np.testing.assert_array_equal(g, w)


def test_a_moved_element_copies_no_buffer(rng, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    x = rng.standard_normal(300)
    source = looptrace.explain(looptrace.jit(shift_while, backend="cpu"), x, 299).kernel_source
    assert source.count("copied(") == 1, source  # x.copy() only, none per element moved
