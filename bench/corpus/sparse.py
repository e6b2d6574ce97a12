"""Sparse rows, segments, picks and resampling: CSR products written with
slices of the row pointers, per-segment statistics, np.add.at histograms,
label picks through two index arrays, np.interp, a tridiagonal (Thomas)
sweep along the last axis, and grids from np.mgrid sized by an argument."""
import numpy as np

from . import Kernel


def csr_matvec_slices(ptr, cols, vals, x):
    """npbench's spmv: a row's nonzeros as slices bounded by the row pointers."""
    y = np.empty(ptr.size - 1)
    for i in range(ptr.size - 1):
        y[i] = vals[ptr[i]:ptr[i + 1]] @ x[cols[ptr[i]:ptr[i + 1]]]
    return y


def segment_stats(ptr, vals):
    """Sum, mean and spread of each segment of a ragged array."""
    n = ptr.size - 1
    out = np.zeros((n, 3))
    for i in range(n):
        seg = vals[ptr[i]:ptr[i + 1]]
        if ptr[i + 1] > ptr[i]:
            out[i, 0] = seg.sum()
            out[i, 1] = seg.mean()
            out[i, 2] = seg.max(initial=-np.inf) - seg.min(initial=np.inf)
    return out


def histogram_add_at(idx, w, n_bins):
    """Weights summed per bin with np.add.at (repeated bins accumulate)."""
    out = np.zeros(n_bins)
    np.add.at(out, idx, w)
    return out


def label_nll(logits, y):
    """Cross-entropy: each row's log-probability of its label, picked with two index arrays."""
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(logits.shape[0]), y].mean()


def resample_interp(t_new, t, v):
    """A signal resampled onto a new time grid."""
    return np.interp(t_new, t, v, left=0.0, right=0.0)


def thomas_columns(a, b, c, d):
    """A tridiagonal solve along the last axis of a (rows, K) field, per row,
    with the forward sweep written column by column (as weather codes write it)."""
    n, K = a.shape
    cp = np.empty((n, K))
    dp = np.empty((n, K))
    x = np.empty((n, K))
    cp[:, 0] = c[:, 0] / b[:, 0]
    dp[:, 0] = d[:, 0] / b[:, 0]
    for k in range(1, K):
        cp[:, k] = c[:, k]
        m = 1.0 / (b[:, k] - a[:, k] * cp[:, k - 1])
        cp[:, k] = cp[:, k] * m
        dp[:, k] = (d[:, k] - a[:, k] * dp[:, k - 1]) * m
    x[:, K - 1] = dp[:, K - 1]
    for k in range(K - 2, -1, -1):
        x[:, k] = dp[:, k] - cp[:, k] * x[:, k + 1]
    return x


def mgrid_gaussian(n, width):
    """A 2-d Gaussian on an n x n grid built with np.mgrid (n decides the shape)."""
    i, j = np.mgrid[0:n, 0:n]
    c = (n - 1) / 2.0
    return np.exp(-((i - c) ** 2 + (j - c) ** 2) / (2.0 * width ** 2))


def _csr(r, m):
    n, per = (12, 3) if m == "test" else (20_000, 20)
    ptr = np.concatenate([[0], np.cumsum(r.integers(0, 2 * per + 1, n))])
    return ptr, r.integers(0, n, ptr[-1]), r.standard_normal(ptr[-1]), r.standard_normal(n)


def _tridiagonal(r, m):
    n, K = (5, 7) if m == "test" else (4096, 80)
    return r.random((n, K)), r.random((n, K)) + 3.0, r.random((n, K)), r.standard_normal((n, K))


def _interp(r, m):
    n, k = (40, 9) if m == "test" else (1_000_000, 1000)
    t = np.sort(r.random(k))
    return r.random(n) * 1.2 - 0.1, t, r.standard_normal(k)


KERNELS = [
    Kernel("csr_matvec_slices", csr_matvec_slices, _csr, "mixed", "sparse"),
    Kernel("segment_stats", segment_stats, lambda r, m: _csr(r, m)[::2], "mixed", "sparse"),
    Kernel("histogram_add_at", histogram_add_at,
           lambda r, m: (r.integers(0, 64, 50 if m == "test" else 1_000_000),
                         r.random(50 if m == "test" else 1_000_000), 64), "array", "sparse"),
    Kernel("label_nll", label_nll,
           lambda r, m: (r.standard_normal((6, 4) if m == "test" else (100_000, 32)),
                         r.integers(0, 4 if m == "test" else 32, 6 if m == "test" else 100_000)),
           "array", "sparse"),
    Kernel("resample_interp", resample_interp, _interp, "array", "sparse"),
    Kernel("thomas_columns", thomas_columns, _tridiagonal, "mixed", "sparse"),
    Kernel("mgrid_gaussian", mgrid_gaussian, lambda r, m: (9 if m == "test" else 1500, 2.5), "array", "grid"),
]
