"""Scatter-adds of many updates into a small target run on threads, each
thread into a private copy of the target, the copies added in thread order
(codegen/cpu/indexing.py `_private_adds`). Integer adds are exact; float
adds are summed in another order than NumPy's, to rounding. An index that
may fall outside the axis is checked before any add, and IndexError names
the user's line as the serial loop's does."""
import numpy as np
import pytest

import looptrace

N = 1 << 20  # past the work where a kernel starts threads (emitter.PARALLEL_MIN_WORK)


def add_at(idx, w, n_bins):
    out = np.zeros(n_bins)
    np.add.at(out, idx, w)
    return out


def loop_hist(b, w, counts):
    h = np.zeros((counts.shape[0], 2), dtype=w.dtype)
    for i in range(b.shape[0]):
        h[b[i]] += w[i]
        counts[b[i]] += 1
    return h


def unchecked(idx, w):
    out = np.zeros(64)
    for i in range(idx.shape[0]):
        out[idx[i]] += w[i]
    return out


def _jit(f, *args):
    jf = looptrace.jit(f, backend="cpu")
    return jf, looptrace.explain(jf, *args).kernel_source


def test_add_at_into_64_bins_runs_on_private_copies():
    r = np.random.default_rng(7)
    idx, w = r.integers(-64, 64, N), r.standard_normal(N)
    jf, src = _jit(add_at, idx, w, 64)
    assert "numba.prange" in src and "get_num_threads" in src
    np.testing.assert_allclose(jf(idx, w, 64), add_at(idx, w, 64), rtol=1e-9, atol=1e-9)


def test_integer_rows_and_counts_are_exact():
    r = np.random.default_rng(8)
    b, w = r.integers(0, 100, N), r.integers(-1000, 1000, (N, 2))
    counts, plain_counts = np.zeros(100, np.int64), np.zeros(100, np.int64)
    jf, src = _jit(loop_hist, b, w, counts.copy())
    want = loop_hist(b, w, plain_counts)
    np.testing.assert_array_equal(jf(b, w, counts), want)
    np.testing.assert_array_equal(counts, plain_counts)
    assert "get_num_threads" in src


def test_an_index_out_of_range_raises_as_before():
    r = np.random.default_rng(9)
    idx, w = r.integers(-64, 64, N), r.standard_normal(N)
    idx[N // 2] = 64
    jf, src = _jit(unchecked, idx, w)
    assert "get_num_threads" in src
    with pytest.raises(IndexError, match="out of bounds") as e:
        jf(idx, w)
    assert "out[idx[i]] += w[i]" in str(e.value)
    idx[N // 2] = -3
    np.testing.assert_allclose(jf(idx, w), unchecked(idx, w), rtol=1e-9, atol=1e-9)
