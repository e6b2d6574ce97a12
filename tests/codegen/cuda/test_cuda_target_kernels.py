"""The cuda target's kernels beyond one thread per element, under the simulator, against NumPy.

- a fold to one value over many elements: the block tree reduction; the same
  input gives the same bits on every call;
- two-operand products: the tiled shared-memory kernel (forced below its
  size threshold with LOOPTRACE_CUDA_TILED_MIN), batched, transposed and
  integer operands;
- a linear recurrence over many steps: the chunked parallel scan (forced
  with LOOPTRACE_CUDA_CHUNKED_SCAN_MIN);
- scatter-adds: one thread per column visiting indices in order, or atomics
  for a histogram;
- repeated squaring of a product chain;
- the pool: a second call allocates nothing, and a host-driven loop allocates
  on its first steps only.
"""
import numpy as np
import pytest

import looptrace as lt
from looptrace.codegen.cuda import host

from _cuda_support import assert_like_plain, cuda_backend
from bench.corpus.stochastic import random_walk_msd as lagged_sums


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def total(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * x[i]
    return s


def test_tree_reduction_is_deterministic(rng, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CUDA_TREE_MIN", "64")
    x = rng.standard_normal(700)  # 11 chunks of the simulator's 4 x 16 elements: two passes
    f = lt.jit(total, backend="cuda")
    first = f(x)
    assert first == pytest.approx(total(x), rel=1e-12)
    assert all(f(x) == first for _ in range(2))  # bit for bit
    assert any("tree reduction" in n for n in f.explain(x).notes)


def column_stats(x):
    return np.exp(x.sum(axis=0) / 100.0), x.max(axis=0), np.sqrt((x * x).sum(axis=0)).astype(np.float32)


def test_tree_reductions_of_few_long_rows(rng, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CUDA_TREE_MIN", "64")
    x = rng.standard_normal((300, 3))
    jitted = lt.jit(column_stats, backend="cuda")
    got = assert_like_plain(column_stats, (x,), jitted)
    assert all(np.array_equal(a, b) for a, b in zip(jitted(x), got))
    assert sum("deterministic block tree reductions" in n for n in jitted.explain(x).notes) == 3


def products(a, b, c, d):
    return a @ b, np.einsum("bij,bkj->bki", c, d), a.T @ a, (a.astype(np.int64) @ b.astype(np.int64))


def test_tiled_products(rng, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CUDA_TILED_MIN", "1")
    args = (rng.standard_normal((5, 6)), rng.standard_normal((6, 7)), rng.standard_normal((2, 3, 5)),
            rng.standard_normal((2, 4, 5)))
    jitted = lt.jit(products, backend="cuda")
    assert_like_plain(products, args, jitted)
    e = jitted.explain(*args)
    assert e.kernel_source.count("def gemm") == 4
    assert any("own tiled shared-memory kernel (CuPy is not importable here" in n for n in e.notes)


def decay(a, b, h0):
    H = np.empty_like(b)
    h = h0
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        H[t] = h
    return H


@pytest.mark.parametrize("chunked", [False, True])
def test_linear_scan(chunked, rng, monkeypatch):
    if chunked:
        monkeypatch.setenv("LOOPTRACE_CUDA_CHUNKED_SCAN_MIN", "8")
    args = (rng.uniform(-0.9, 0.9, (37, 3)), rng.standard_normal((37, 3)), rng.standard_normal(3))
    jitted = lt.jit(decay, backend="cuda")
    assert_like_plain(decay, args, jitted, rtol=1e-9)
    notes = " ".join(jitted.explain(*args).notes)
    assert ("chunked parallel prefix scan" in notes) == chunked


def histogram(idx, w, counts):
    for i in range(idx.shape[0]):
        counts[idx[i]] += w[i]
    return counts


def scatter_rows(idx, rows, out):
    for i in range(idx.shape[0]):
        out[idx[i]] += rows[i]
    return out


def test_scatter_add_with_atomics_and_by_columns(rng):
    idx = rng.integers(-4, 4, 40)
    args = (idx, rng.standard_normal(40), rng.standard_normal(4))
    jitted = lt.jit(histogram, backend="cuda")
    assert_like_plain(histogram, args, jitted)  # the caller's counts are updated in place
    assert "cuda.atomic.add" in jitted.explain(*args).kernel_source
    args = (rng.integers(0, 3, 7), rng.standard_normal((7, 70)), rng.standard_normal((3, 70)))
    jitted = lt.jit(scatter_rows, backend="cuda")
    assert_like_plain(scatter_rows, args, jitted)
    assert "cuda.atomic.add" not in jitted.explain(*args).kernel_source


def chain(A, k):
    P = np.eye(A.shape[0])
    for _ in range(k):
        P = P @ A
    return P


@pytest.mark.parametrize("k", [0, 1, 13])
def test_repeated_squaring(k, rng):
    A = rng.standard_normal((3, 3)) / 2
    assert_like_plain(chain, (A, k), lt.jit(chain, backend="cuda"))


def test_the_pool_serves_repeated_calls_without_allocating(rng, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", "host")
    x, W = rng.standard_normal((12, 3)), 0.4 * rng.standard_normal((3, 3))

    def rnn(x, W):
        h = np.zeros(x.shape[1])
        for t in range(x.shape[0]):
            h = np.tanh(W @ h + x[t])
        return h

    f = lt.jit(rnn, backend="cuda")
    pool = host.pool_for("sim")
    made = []
    for T, d in ((4, 5), (30, 7)):
        pool.trim()  # empty: every buffer the call needs is allocated once
        before = pool.stats.allocations
        f(rng.standard_normal((T, d)), rng.standard_normal((d, d)))
        made.append(pool.stats.allocations - before)
    assert made[0] == made[1]  # allocations do not grow with the number of steps
    f(x, W)
    before = pool.stats.allocations
    np.testing.assert_allclose(f(x, W), rnn(x, W), rtol=1e-9)
    assert pool.stats.allocations == before  # a second call: nothing new


def permuted_map(a, b, c):
    return np.transpose(np.exp(a) * b + 1.0, (1, 0, 2)) * c


def test_values_read_transposed_are_computed_in_their_reader(rng):
    """A value whose one reader reads it transposed is computed in the
    reader's kernel at the permuted index (planning/fusion.py
    `_fits_through_transpose`): a gather of every lag's slices, an
    elementwise product."""
    steps = rng.standard_normal((3, 10, 2))
    assert_like_plain(lagged_sums, (steps,), lt.jit(lagged_sums, backend="cuda"))
    a, b, c = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 2, 4))
    assert_like_plain(permuted_map, (a, b, c), lt.jit(permuted_map, backend="cuda"))
