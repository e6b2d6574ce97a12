"""Batched LAPACK calls for the decomposition rules (codegen/cpu/decomp.py):
Numba's np.linalg.solve/inv/det/cholesky (LAPACK through scipy) applied
matrix by matrix to C-contiguous (batch, n, n) operands. Real Python
compiled by Numba, `@njit(cache=True)` (`helper.kernel_helper` for the small
LU, which only kernels call), no global state (the invariant of
templates.py, which re-exports them), so a kernel compiles Numba's linalg
wrappers once per dtype on a machine, not once per kernel.

A singular matrix (solve, inv) or one that is not positive definite
(cholesky) raises np.linalg.LinAlgError, as NumPy does. Results are copied
out by explicit loops (Numba's slice assignment costs compile time).
"""
from __future__ import annotations

import numba
import numpy as np

from looptrace.codegen.cpu.helper import empty, kernel_helper, short_loops, unliteral_typing


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


# --- small float64 matrices: LU by loops, no LAPACK call --------------------------------------------
# A batch of 2x2 to 4x4 systems (a Kalman filter's innovation covariance over 5000 steps, batched
# by the vectorizer) went to NumPy's gufunc in object mode (numpy_linalg.py), which cost the
# kernel ~0.3 s of compile time (kalman_filter: 3.1-3.4 s cold); per matrix, Numba's wrappers
# allocate and check more than these orders take to factor. These loops do LAPACK's dgetf2
# (the first largest |pivot| of the column, the column below it scaled by the pivot's
# reciprocal, the trailing block updated) and dgetrs's two triangular solves, in float64.
# An exactly zero pivot raises LinAlgError (solve, inv) or gives det 0, as NumPy does. A matrix
# with an inf or a NaN raises Numba's LinAlgError for them, as the larger orders' wrappers do:
# the jitted function's caller then runs the plain function (kernel.py `_failed`, api.py).
SMALL_ORDER = 4


# One helper, one compile: solve, inv and det (`mode`) take the same argument types (a det's
# output seen as (batch, 1, 1)), so a kernel that uses all three (kalman_filter) compiles the LU
# once per machine, not three times with the LU inlined into each (2.7 s of its first cold call).
# One function, not three inlined pieces: Numba's inlining of them cost 0.15 s of that compile.
SOLVE, INV, DET = 0, 1, 2


@kernel_helper
def lu_small_batch(a, b, out, mode):
    """For float64 matrices of order <= SMALL_ORDER: out[m] = np.linalg.solve(a[m], b[m])
    (mode SOLVE), np.linalg.inv(a[m]) (INV; b is not read) or out[m, 0, 0] =
    np.linalg.det(a[m]) (DET). A singular matrix raises LinAlgError (SOLVE, INV), one with an
    inf or a NaN LinAlgError (all modes)."""
    short_loops()
    n, k = a.shape[1], out.shape[2]
    lu = empty((n, n), np.float64)
    piv = empty(n, np.int64)
    for m in range(a.shape[0]):
        # the LU of a[m] with partial pivoting (dgetf2), the row swapped in at step j in piv[j]
        nonfinite = 0.0  # NaN where a[m] has an inf or a NaN
        for i in range(n):
            for j in range(n):
                lu[i, j] = a[m, i, j]
                nonfinite += a[m, i, j] * 0.0
        if nonfinite != 0.0:  # OpenBLAS's NaN pattern is its own: the caller runs NumPy (kernel.py)
            raise np.linalg.LinAlgError("Array must not contain infs or NaNs.")
        sign = 1.0  # the permutation's sign; 0.0 once a pivot is exactly zero
        for j in range(n):
            p, big = j, abs(lu[j, j])
            for i in range(j + 1, n):
                if abs(lu[i, j]) > big:
                    p, big = i, abs(lu[i, j])
            piv[j] = p
            if p != j:
                sign = -sign
                for c in range(n):
                    lu[j, c], lu[p, c] = lu[p, c], lu[j, c]
            d = lu[j, j]
            if d == 0.0:
                sign = 0.0
                break
            if abs(d) >= 2.2250738585072014e-308:  # dgetf2: by the reciprocal, unless it would overflow
                r = 1.0 / d
                for i in range(j + 1, n):
                    lu[i, j] *= r
            else:
                for i in range(j + 1, n):
                    lu[i, j] /= d
            for i in range(j + 1, n):
                for c in range(j + 1, n):
                    lu[i, c] -= lu[i, j] * lu[j, c]
        if mode == DET:
            if sign != 0.0:  # (a singular matrix's det is +0.0, NumPy's sign * exp(logdet) = 0.0 * 0.0)
                for i in range(n):
                    sign *= lu[i, i]
            out[m, 0, 0] = sign
            continue
        if sign == 0.0:
            raise np.linalg.LinAlgError("singular matrix")
        # out[m] <- the solution of lu x = P rhs (dgetrs: the row swaps, then L, then U)
        for i in range(n):
            for c in range(k):
                out[m, i, c] = (1.0 if i == c else 0.0) if mode == INV else b[m, i, c]
        for j in range(n):
            p = piv[j]
            if p != j:
                for c in range(k):
                    out[m, j, c], out[m, p, c] = out[m, p, c], out[m, j, c]
        for i in range(n):
            for t in range(i):
                for c in range(k):
                    out[m, i, c] -= lu[i, t] * out[m, t, c]
        for i in range(n - 1, -1, -1):
            for c in range(k):
                out[m, i, c] /= lu[i, i]
            for t in range(i):
                for c in range(k):
                    out[m, t, c] -= lu[t, i] * out[m, i, c]


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


# typed on a plain bool (helper.unliteral_typing): a kernel's literal full=True and full=False were two
# versions, 0.9 s of Numba's compile each; Numba's svd takes the flag at run time (qr_batch's complete alike)
@unliteral_typing
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


@unliteral_typing
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


from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
