"""Folds over a window (codegen/planning/fold_window.py): a sum, max or min
whose terms are masked to lo <= p < hi on the summed axis runs only over the
rows of 8 that meet [lo, hi) (the mask stays inside them), in a batched
nest, in a loop kept as a loop and for the mask's own count. Values against
the plain function; the kernel source shows the window."""

import re

import numpy as np

import looptrace
from looptrace.codegen.planning.fold_window import exact_window, window
from looptrace.ir.builder import IRBuilder
from looptrace.ir.core import Value

from .kernel_text import loop_body


def lower_products(L, b):
    y = np.zeros(b.shape[0])
    for i in range(b.shape[0]):
        y[i] = L[i, :i + 1] @ b[:i + 1] - L[i, i:].sum()
    return y


def row_stats(A):
    n = A.shape[0]
    out = np.zeros((n, 3))
    for i in range(n):
        out[i, 0] = A[i, i:].sum()
        out[i, 1] = A[i, :i + 1].max(initial=-np.inf)
        out[i, 2] = A[i, i:].mean()
    return out


def csr_matvec(ptr, cols, vals, x):
    y = np.empty(ptr.size - 1)
    for i in range(ptr.size - 1):
        y[i] = vals[ptr[i]:ptr[i + 1]] @ x[cols[ptr[i]:ptr[i + 1]]]
    return y


def _windows(src: str) -> int:
    return len(re.findall(r"lo\d+_ = ", src))


def forward_substitution(L, b):
    x = np.zeros(b.shape[0])
    for i in range(b.shape[0]):
        x[i] = (b[i] - L[i, :i] @ x[:i]) / L[i, i]
    return x


def test_triangular_rows_fold_over_their_window(rng):
    n = 200
    L = rng.standard_normal((n, n))
    b = rng.standard_normal(n)
    f = looptrace.jit(lower_products, backend="cpu")
    np.testing.assert_allclose(f(L, b), lower_products(L, b), rtol=1e-12)
    assert _windows(looptrace.explain(f, L, b).kernel_source) == 2


def test_a_triangular_solve_reads_its_row_of_the_batched_mask(rng):
    """The solve's rows read the solution so far: the loop stays a loop, and
    the vectorizer batches the rows' masks out of it (M[t, p] = p < t); each
    row's fold reads row i of M, whose window is p < i (fold_window.py
    `_row_compare`)."""
    n = 200
    L = np.tril(rng.standard_normal((n, n))) + n * np.eye(n)
    b = rng.standard_normal(n)
    f = looptrace.jit(forward_substitution, backend="cpu")
    np.testing.assert_allclose(f(L, b), forward_substitution(L, b), rtol=1e-12)
    e = looptrace.explain(f, L, b)
    assert e.loops[0].kind == "scan" and _windows(e.kernel_source) == 1


def test_sums_maxima_and_means_of_varying_rows(rng):
    A = rng.standard_normal((150, 150))
    f = looptrace.jit(row_stats, backend="cpu")
    np.testing.assert_allclose(f(A), row_stats(A), rtol=1e-12)
    assert _windows(looptrace.explain(f, A).kernel_source) == 3


def test_csr_rows_in_a_loop_kept_as_a_loop(rng):
    """20000 rows of 200000 nonzeros: batching the rows' masks would take 4 GB,
    so the loop stays a loop, and each row's fold runs over its own nonzeros
    (rows x nonzeros would be 4*10^9 terms)."""
    n, nnz = 20000, 200000
    ptr = np.concatenate([[0], np.sort(rng.integers(0, nnz, n - 1)), [nnz]])
    cols, vals, x = rng.integers(0, n, nnz), rng.standard_normal(nnz), rng.standard_normal(n)
    f = looptrace.jit(csr_matvec, backend="cpu")
    np.testing.assert_allclose(f(ptr, cols, vals, x), csr_matvec(ptr, cols, vals, x), rtol=1e-10, atol=1e-12)
    e = looptrace.explain(f, ptr, cols, vals, x)
    assert e.loops[0].kind in ("scan", "map")
    assert _windows(e.kernel_source) == 1


def test_the_window_is_found_only_where_terms_outside_are_neutral():
    b = IRBuilder()
    x = Value(np.dtype(np.float64), (4, 16))
    lo = Value(np.dtype(np.int64), (4, 1))
    pos = b.op("iota", shape=(1, 16), dtype=np.dtype(np.int64), axis=1)
    mask = b.op("greater_equal", pos, lo)
    for name, fill, found in (("reduce_sum", 0.0, True), ("reduce_sum", -0.0, False), ("reduce_sum", 1.0, False),
                              ("reduce_max", -np.inf, True), ("reduce_max", 0.0, False),
                              ("reduce_min", np.inf, True), ("reduce_prod", 1.0, False)):
        sel = b.op("select", mask, x, b.const(np.float64(fill)))
        b.op(name, sel, axes=(1,))
        producer = {v.id: op for op in b.ops for v in op.outputs}
        w = window(b.ops[-1], 1, producer)
        assert (w is not None) == found, (name, fill)
        if found:
            assert [bd.value for bd in w.lows] == [lo] and not w.highs
    count = b.op("reduce_sum", b.op("convert", mask, dtype=np.dtype(np.int64)), axes=(1,))
    producer = {v.id: op for op in b.ops for v in op.outputs}
    assert window(b.ops[-1], 1, producer) is not None and count.shape == (4,)
    b.op("reduce_sum", b.op("select", b.op("greater_equal", lo, pos), x, b.const(np.float64(0.0))), axes=(1,))
    producer = {v.id: op for op in b.ops for v in op.outputs}
    w = window(b.ops[-1], 1, producer)  # lo >= p: p < lo + 1
    assert w is not None and not w.lows and [(bd.value, bd.shift) for bd in w.highs] == [(lo, 1)]
    assert window(b.ops[-1], 0, producer) is None  # not along axis 0


def test_batched_csr_rows_check_their_indices_inside_the_window(rng):
    """npbench's spmv at its S size (uint32 row pointers and columns): the
    rows batch into one threaded nest, whose gather indices are checked
    first (nest.py `_validate_first`), each row over its own window, not
    rows x nonzeros."""
    n, nnz = 4096, 8192
    ptr = np.concatenate([[0], np.sort(rng.integers(0, nnz, n - 1)), [nnz]]).astype(np.uint32)
    cols, vals, x = rng.integers(0, n, nnz).astype(np.uint32), rng.standard_normal(nnz), rng.standard_normal(n)
    f = looptrace.jit(csr_matvec, backend="cpu")
    np.testing.assert_allclose(f(ptr, cols, vals, x), csr_matvec(ptr, cols, vals, x), rtol=1e-10, atol=1e-12)
    src = looptrace.explain(f, ptr, cols, vals, x).kernel_source
    assert "check_elem" in src and f"range({nnz})" not in src, src
    bad = cols.copy()
    bad[ptr[7]] = n + 3  # a column out of range inside a row: NumPy's IndexError
    with np.testing.assert_raises(IndexError):
        f(ptr, bad, vals, x)
    outside = np.concatenate([cols, [n + 3]]).astype(np.uint32)  # past the last row: never read, as in NumPy
    np.testing.assert_allclose(f(ptr, outside, np.append(vals, 1.0), x), csr_matvec(ptr, cols, vals, x),
                               rtol=1e-10, atol=1e-12)


def window_dots(A, x, lo, hi):
    out = np.zeros(A.shape[0])
    for i in range(A.shape[0]):
        out[i] = A[i, lo[i]:hi[i]] @ x[lo[i]:hi[i]]
    return out


def window_sums(A, lo, hi):
    out = np.zeros(A.shape[0])
    for i in range(A.shape[0]):
        out[i] = A[i, lo[i]:hi[i]].sum()
    return out


def _eight_lanes(terms: np.ndarray) -> float:
    """NumPy's pairwise sum of up to 128 terms, the order of a fold over a
    window (nest.py `_fold_in_window`): lane j takes terms r * 8 + j in
    order, the lanes are added pairwise, then the rest in order."""
    rows = terms.size // 8
    lanes = [0.0] * 8
    for r in range(rows):
        for j in range(8):
            lanes[j] += terms[r * 8 + j]
    total = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
    for p in range(rows * 8, terms.size):
        total += terms[p]
    return total


def _windows_of(rng, n, m):
    lo = rng.integers(0, m, n)
    hi = np.minimum(m, lo + rng.integers(0, 40, n))
    lo[:6], hi[:6] = [0, 0, 8, 3, 16, 70], [0, 77, 16, 5, 64, 77]  # empty, whole, one row, in a row, rows, tail
    return lo, hi


def test_a_fold_over_a_window_sums_from_the_window_s_start(rng):
    """The 8 accumulators take the window's terms counted from its first
    position, and the terms are read without the mask where the mask is the
    window's bounds (a loop that vectorizes). A sum of up to 128 terms then
    has NumPy's own bits; every window position (empty, one row, inside a
    row, at the axis' tail) is checked."""
    n, m = 40, 77
    A, x = rng.standard_normal((n, m)), rng.standard_normal(m)
    lo, hi = _windows_of(rng, n, m)
    f = looptrace.jit(window_dots, backend="cpu")
    got = f(A, x, lo, hi)
    for i in range(n):
        assert got[i] == _eight_lanes(A[i, lo[i]:hi[i]] * x[lo[i]:hi[i]]), i  # bit for bit
    np.testing.assert_allclose(got, window_dots(A, x, lo, hi), rtol=1e-12, atol=1e-12)
    body = loop_body(looptrace.explain(f, A, x, lo, hi).kernel_source, r"in range\(nw\d+_\)")
    assert body and not any("pick(" in ln for ln in body), body  # the rows read without the mask
    g = looptrace.jit(window_sums, backend="cpu")
    np.testing.assert_array_equal(g(A, lo, hi), window_sums(A, lo, hi))  # NumPy's pairwise bits


def test_only_a_mask_of_bounds_alone_is_an_exact_window():
    """Inside the window only a mask that is the window's bounds and nothing
    else is left out (fold_window.py `exact_window`); `& (x > 0)` stays."""
    b = IRBuilder()
    x = Value(np.dtype(np.float64), (4, 16))
    lo, hi = Value(np.dtype(np.int64), (4, 1)), Value(np.dtype(np.int64), (4, 1))
    pos = b.op("iota", shape=(1, 16), dtype=np.dtype(np.int64), axis=1)
    bounds = b.op("logical_and", b.op("greater_equal", pos, lo), b.op("less", pos, hi))
    zero = b.const(np.float64(0.0))
    exact = b.op("reduce_sum", b.op("select", bounds, x, zero), axes=(1,))
    more = b.op("reduce_sum", b.op("select", b.op("logical_and", bounds, b.op("greater", x, zero)), x, zero),
                axes=(1,))
    producer = {v.id: op for op in b.ops for v in op.outputs}
    ops = {id(op.out): op for op in b.ops}
    assert exact_window(ops[id(exact)], 1, producer) is not None
    assert window(ops[id(more)], 1, producer) is not None and exact_window(ops[id(more)], 1, producer) is None
