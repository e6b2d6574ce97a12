"""Batched LAPACK calls for the decomposition rules (codegen/cpu/decomp.py):
Numba's np.linalg.solve/inv/det/cholesky (LAPACK through scipy) applied
matrix by matrix to C-contiguous (batch, n, n) operands. Real Python
compiled by Numba, `@njit(cache=True)`, no global state (the invariant of
templates.py, which re-exports them), so a kernel compiles Numba's linalg
wrappers once per dtype on a machine, not once per kernel.

A singular matrix (solve, inv) or one that is not positive definite
(cholesky) raises np.linalg.LinAlgError, as NumPy does. Results are copied
out by explicit loops (Numba's slice assignment costs compile time).
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _put(out, m, x):
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[m, i, j] = x[i, j]


@numba.njit(cache=True)
def solve_batch(a, b, out):
    """out[m] = np.linalg.solve(a[m], b[m])."""
    for m in range(a.shape[0]):
        _put(out, m, np.linalg.solve(a[m], b[m]))


@numba.njit(cache=True)
def inv_batch(a, out):
    """out[m] = np.linalg.inv(a[m])."""
    for m in range(a.shape[0]):
        _put(out, m, np.linalg.inv(a[m]))


@numba.njit(cache=True)
def det_batch(a, out):
    """out[m] = np.linalg.det(a[m])."""
    for m in range(a.shape[0]):
        out[m] = np.linalg.det(a[m])


@numba.njit(cache=True)
def cholesky_batch(a, out):
    """out[m] = np.linalg.cholesky(a[m]) (its lower triangle read only)."""
    for m in range(a.shape[0]):
        _put(out, m, np.linalg.cholesky(a[m]))


# --- factorizations (ops/factorizations.py; rules in codegen/cpu/factorizations.py) ---
# Packed outputs as the primitives define them; a float32 matrix factors in
# float32 (Numba's LAPACK wrappers keep the dtype). Non-convergence raises
# np.linalg.LinAlgError.
@numba.njit(cache=True)
def slogdet_batch(a, out):
    """out[m] = [sign, log|det|] of a[m]."""
    for m in range(a.shape[0]):
        sign, logabs = np.linalg.slogdet(a[m])
        out[m, 0] = sign
        out[m, 1] = logabs


@numba.njit(cache=True)
def eigh_batch(a, out):
    """out[m, 0] = the eigenvalues, out[m, 1:] = the eigenvectors of a[m]'s lower triangle."""
    for m in range(a.shape[0]):
        w, v = np.linalg.eigh(a[m])
        for j in range(w.shape[0]):
            out[m, 0, j] = w[j]
        for i in range(v.shape[0]):
            for j in range(v.shape[1]):
                out[m, i + 1, j] = v[i, j]


@numba.njit(cache=True)
def eigvalsh_batch(a, out):
    """out[m] = the eigenvalues of a[m]'s lower triangle."""
    for m in range(a.shape[0]):
        w = np.linalg.eigvalsh(a[m])
        for j in range(w.shape[0]):
            out[m, j] = w[j]


@numba.njit(cache=True)
def svd_batch(a, full, out):
    """out[m] = u (rows [0, rows of a)), s (the next row), vh (the rest), zero-padded."""
    rows = a.shape[1]
    for m in range(a.shape[0]):
        out[m] = 0
        if a.shape[1] == 0 or a.shape[2] == 0:  # LAPACK refuses empty matrices: identities as NumPy's
            for i in range(min(rows, out.shape[2])):
                out[m, i, i] = 1
            for i in range(min(out.shape[1] - rows - 1, out.shape[2])):
                out[m, rows + 1 + i, i] = 1
            continue
        u, s, vh = np.linalg.svd(a[m], full_matrices=full)
        for i in range(u.shape[0]):
            for j in range(u.shape[1]):
                out[m, i, j] = u[i, j]
        for j in range(s.shape[0]):
            out[m, rows, j] = s[j]
        for i in range(vh.shape[0]):
            for j in range(vh.shape[1]):
                out[m, rows + 1 + i, j] = vh[i, j]


@numba.njit(cache=True)
def svdvals_batch(a, out):
    """out[m] = the singular values of a[m], descending."""
    for m in range(a.shape[0]):
        s = np.linalg.svd(a[m], full_matrices=False)[1]
        for j in range(s.shape[0]):
            out[m, j] = s[j]


@numba.njit(cache=True)
def qr_batch(a, complete, out):
    """out[m] = q (rows [0, rows of a)) over r (the rest), zero-padded; complete
    with more rows than columns: q and r from the factorization of [a | I]."""
    rows, cols = a.shape[1], a.shape[2]
    for m in range(a.shape[0]):
        out[m] = 0
        if complete and rows > cols:
            aug = np.zeros((rows, cols + rows), dtype=a.dtype)
            for i in range(rows):
                for j in range(cols):
                    aug[i, j] = a[m, i, j]
                aug[i, cols + i] = 1
            q, r = np.linalg.qr(aug)
        else:
            q, r = np.linalg.qr(a[m])
        for i in range(q.shape[0]):
            for j in range(q.shape[1]):
                out[m, i, j] = q[i, j]
        for i in range(r.shape[0]):
            for j in range(i, cols):
                out[m, rows + i, j] = r[i, j]


@numba.njit(cache=True)
def pinv_batch(a, rcond, out):
    """out[m] = np.linalg.pinv(a[m], rcond)."""
    for m in range(a.shape[0]):
        _put(out, m, np.linalg.pinv(a[m], rcond))
