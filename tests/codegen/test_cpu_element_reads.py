"""One-element reads of a carried array are values, not views kept alive.

`key = a[i]` is a dynamic_slice of one element (the tracer keeps the (1,)
array and writes it back with `a[j + 1] = key`); a swap reads two. Emitted
as views of `a`, they shared a's memory until their last reader, so a write
into `a` before then (insertion sort's while loop shifting `a`, the swap's
first store) could not be done in place: the whole array was copied once
per outer step (insertion sort) or per swap (bubble sort), 30x slower than
numba.njit of the same function. They are now read as scalars where they
stand (planning/fusion.py `_element_reads`). Likewise a scalar reshaped to a
one-element array and read only by loop nests (LCS's `L[i, j] = L[i - 1,
j - 1] + 1` in one branch of a select) is read as the scalar, no longer a
`filled` array allocated twice per step (`_skip_unit_reshapes`). And a
while loop's condition reads a carried array under the carry's own name:
a variable bound to it at the top of every step cost a reference count per
step that Numba does not prune across the branches (insertion sort 10 ms
against numba.njit's 0.33 ms for 2000 floats; regions.py `emit_while`).

Values against the plain function on random data (interpret and cpu), and
the kernels keep only the copies and allocations the program asks for.
"""
import re

import numpy as np
import pytest

import looptrace
from bench.corpus.discrete import bubble_sort, insertion_sort, lcs_length


def rotate_pairs(x):
    a = x.copy()
    for i in range(a.shape[0] - 1):
        v = a[i]
        a[i] = a[i + 1]
        a[i + 1] = v * 2.0 if v > 0 else v
    return a


def transpose_in_place(M):
    n = M.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            M[i, j], M[j, i] = M[j, i], M[i, j]
    return M


def write_then_read_old(x, idx):
    """The element read before a write at the same place keeps its old value."""
    a = x.copy()
    out = np.zeros(idx.shape[0])
    for k in range(idx.shape[0]):
        old = a[idx[k]]
        a[idx[k]] = old + 1.0
        a[(idx[k] + 1) % a.shape[0]] = old
        out[k] = old
    return a, out


def pick_into_table(a, b):
    T = np.zeros((a.shape[0] + 1, b.shape[0] + 1))
    for i in range(1, a.shape[0] + 1):
        for j in range(1, b.shape[0] + 1):
            if a[i - 1] > b[j - 1]:
                T[i, j] = T[i - 1, j - 1] + a[i - 1]
            else:
                T[i, j] = min(T[i - 1, j], T[i, j - 1]) - b[j - 1]
    return T


CASES = [
    (insertion_sort, lambda r: (r.standard_normal(200),)),
    (insertion_sort, lambda r: (r.integers(0, 7, 150),)),
    (bubble_sort, lambda r: (r.standard_normal(120),)),
    (bubble_sort, lambda r: (np.sort(r.standard_normal(120)),)),  # the early exit (the length of the case above: one kernel)
    (lcs_length, lambda r: (r.integers(0, 4, 40), r.integers(0, 4, 47))),
    (rotate_pairs, lambda r: (r.standard_normal(60),)),
    (transpose_in_place, lambda r: (r.standard_normal((13, 13)),)),
    (write_then_read_old, lambda r: (r.standard_normal(30), r.integers(0, 30, 80))),
    (pick_into_table, lambda r: (r.standard_normal(25), r.standard_normal(31))),
]


def _copies(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def _same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
    else:
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=0)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,make", CASES, ids=[f"{c[0].__name__}{k}" for k, c in enumerate(CASES)])
def test_element_reads_match_plain(fn, make, backend, rng, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    args = make(rng)
    plain, jit_args = _copies(args), _copies(args)
    _same(looptrace.jit(fn, backend=backend)(*jit_args), fn(*plain))
    for g, w in zip(jit_args, plain):  # writes into arguments are seen as the plain call's
        if isinstance(w, np.ndarray):
            np.testing.assert_array_equal(g, w)


def _kernel(fn, args, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    return looptrace.explain(looptrace.jit(fn, backend="cpu"), *args).kernel_source


@pytest.mark.parametrize("fn,make", [
    (insertion_sort, lambda r: (r.standard_normal(50),)),
    (bubble_sort, lambda r: (r.standard_normal(50),)),
    (rotate_pairs, lambda r: (r.standard_normal(50),)),
])
def test_sorts_copy_the_array_once(fn, make, rng, tmp_path, monkeypatch):
    source = _kernel(fn, make(rng), tmp_path, monkeypatch)
    # x.copy() only: none per outer step (insertion sort) or per swap (bubble sort); 2 before
    assert source.count("copied(") == 1, source


def test_transpose_in_place_copies_nothing(rng, tmp_path, monkeypatch):
    source = _kernel(transpose_in_place, (rng.standard_normal((9, 9)),), tmp_path, monkeypatch)
    # none per swap as before; not even the argument's working copy (written back at the end),
    # since no read can fail: j in range(i + 1, n) lies inside the axis (ir/ranges.py index_range)
    assert source.count("copied(") == 0, source
    assert "check_start" not in source


@pytest.mark.parametrize("fn,make", [
    (lcs_length, lambda r: (r.integers(0, 4, 12), r.integers(0, 4, 15))),
    (pick_into_table, lambda r: (r.standard_normal(12), r.standard_normal(15))),
])
def test_dp_table_step_allocates_nothing(fn, make, rng, tmp_path, monkeypatch):
    source = _kernel(fn, make(rng), tmp_path, monkeypatch)
    # both branches' scalars were `filled((1, 1), ...)` arrays, two allocations per cell
    assert "filled(" not in source and "alloc(" not in source, source


def _arrays_rebound_in_while_heads(source: str) -> list[str]:
    """Lines `vA = vB` between `while True:` and its `break` where vB is an array."""
    arrays = set(re.findall(r"\b(v\d+)\[", source))
    found, head = [], False
    for line in source.splitlines():
        s = line.strip()
        if s == "while True:":
            head = True
        elif s == "break":
            head = False
        elif head and (m := re.fullmatch(r"(v\d+) = (v\d+)", s)) and m.group(2) in arrays:
            found.append(s)
    return found


@pytest.mark.parametrize("fn,make", [
    (insertion_sort, lambda r: (r.standard_normal(50),)),
    (bubble_sort, lambda r: (r.standard_normal(50),)),
])
def test_while_condition_reads_the_carried_array_in_place(fn, make, rng, tmp_path, monkeypatch):
    source = _kernel(fn, make(rng), tmp_path, monkeypatch)
    assert "while " in source  # (`while True:` or, its test scalar code that cannot raise, `while test:`)
    assert _arrays_rebound_in_while_heads(source) == [], source
