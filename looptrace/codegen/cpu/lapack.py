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
