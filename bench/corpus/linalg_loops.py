"""Dense linear algebra the way a numerical-methods course writes it: LU
(without and with partial pivoting), Cholesky, modified Gram-Schmidt QR and
triangular solves by explicit index loops; conjugate gradient with a
`while res > tol` loop and an iteration cap; Gauss-Seidel / SOR sweeps."""
import numpy as np

from . import Kernel


def lu_nopivot(A):
    """Doolittle LU in place on a copy: unit-lower L below the diagonal, U on and above it."""
    LU = A.copy()
    n = LU.shape[0]
    for k in range(n - 1):
        for i in range(k + 1, n):
            LU[i, k] = LU[i, k] / LU[k, k]
            for j in range(k + 1, n):
                LU[i, j] -= LU[i, k] * LU[k, j]
    return LU


def lu_partial_pivot(A):
    """LU with row exchanges: the pivot is the largest magnitude in the column below the diagonal."""
    U = A.copy()
    n = U.shape[0]
    perm = np.arange(n)
    for k in range(n - 1):
        p = k + np.argmax(np.abs(U[k:, k]))
        if p != k:
            tmp = U[k].copy()
            U[k] = U[p]
            U[p] = tmp
            t = perm[k]
            perm[k] = perm[p]
            perm[p] = t
        for i in range(k + 1, n):
            U[i, k] /= U[k, k]
            U[i, k + 1:] -= U[i, k] * U[k, k + 1:]
    return U, perm


def cholesky_loops(A):
    """Cholesky-Banachiewicz: L row by row, math on scalars."""
    n = A.shape[0]
    L = np.zeros_like(A)
    for i in range(n):
        for j in range(i + 1):
            s = 0.0
            for k in range(j):
                s += L[i, k] * L[j, k]
            if i == j:
                L[i, j] = np.sqrt(A[i, i] - s)
            else:
                L[i, j] = (A[i, j] - s) / L[j, j]
    return L


def mgs_qr(A):
    """Modified Gram-Schmidt: each new column is orthogonalized against the finished ones in turn."""
    m, n = A.shape
    Q = A.copy()
    R = np.zeros((n, n))
    for k in range(n):
        R[k, k] = np.linalg.norm(Q[:, k])
        Q[:, k] = Q[:, k] / R[k, k]
        for j in range(k + 1, n):
            R[k, j] = Q[:, k] @ Q[:, j]
            Q[:, j] = Q[:, j] - R[k, j] * Q[:, k]
    return Q, R


def triangular_solves(L, U, b):
    """Forward substitution with L, then back substitution with U (solves L U x = b)."""
    n = b.shape[0]
    y = np.zeros(n)
    for i in range(n):
        s = b[i]
        for j in range(i):
            s -= L[i, j] * y[j]
        y[i] = s / L[i, i]
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        x[i] = (y[i] - U[i, i + 1:] @ x[i + 1:]) / U[i, i]
    return x


def conjugate_gradient(A, b, tol, max_iter):
    """CG for a symmetric positive definite A, until the residual norm is below tol."""
    x = np.zeros_like(b)
    r = b - A @ x
    p = r.copy()
    rs = r @ r
    it = 0
    while np.sqrt(rs) > tol and it < max_iter:
        Ap = A @ p
        alpha = rs / (p @ Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        rs_new = r @ r
        p = r + (rs_new / rs) * p
        rs = rs_new
        it += 1
    return x, it


def sor_sweeps(A, b, omega, n_sweeps):
    """Successive over-relaxation (omega=1 is Gauss-Seidel), element by element."""
    n = b.shape[0]
    x = np.zeros(n)
    for sweep in range(n_sweeps):
        for i in range(n):
            sigma = 0.0
            for j in range(n):
                if j != i:
                    sigma += A[i, j] * x[j]
            x[i] = (1.0 - omega) * x[i] + omega * (b[i] - sigma) / A[i, i]
    return x


def gauss_seidel_residual(A, b, tol, max_sweeps):
    """Gauss-Seidel with row dot products, stopping on the relative residual."""
    n = b.shape[0]
    x = np.zeros(n)
    res = 1.0
    k = 0
    bnorm = np.linalg.norm(b)
    while res > tol and k < max_sweeps:
        for i in range(n):
            x[i] = (b[i] - A[i, :i] @ x[:i] - A[i, i + 1:] @ x[i + 1:]) / A[i, i]
        res = np.linalg.norm(b - A @ x) / bnorm
        k += 1
    return x, res, k


def _square(r, m, n_bench=120):
    n = 6 if m == "test" else n_bench
    return (r.standard_normal((n, n)) + n * np.eye(n),)


def _spd(r, m, n_bench=120):
    n = 6 if m == "test" else n_bench
    M = r.standard_normal((n, n))
    return (M @ M.T + n * np.eye(n),)


def _tall(r, m):
    mm, n = (8, 5) if m == "test" else (400, 60)
    return (r.standard_normal((mm, n)),)


def _triangles(r, m):
    n = 7 if m == "test" else 400
    L = np.tril(r.standard_normal((n, n))) + n * np.eye(n)
    U = np.triu(r.standard_normal((n, n))) + n * np.eye(n)
    return L, U, r.standard_normal(n)


def _cg(r, m):
    n = 10 if m == "test" else 400
    M = r.standard_normal((n, n))
    return M @ M.T / n + np.eye(n), r.standard_normal(n), 1e-10, 10 * n


def _dominant(r, m, n_bench=150):
    n = 8 if m == "test" else n_bench
    A = r.standard_normal((n, n))
    A += np.diag(np.abs(A).sum(axis=1) + 1.0)
    return A, r.standard_normal(n)


KERNELS = [
    Kernel("lu_nopivot", lu_nopivot, _square, "loop", "linear algebra"),
    Kernel("lu_partial_pivot", lu_partial_pivot, lambda r, m: (r.standard_normal((70 if m == "test" else 200,) * 2),),
           "mixed", "linear algebra"),
    Kernel("cholesky_loops", cholesky_loops, _spd, "loop", "linear algebra"),
    Kernel("mgs_qr", mgs_qr, _tall, "mixed", "linear algebra"),
    Kernel("triangular_solves", triangular_solves, _triangles, "mixed", "linear algebra"),
    Kernel("conjugate_gradient", conjugate_gradient, _cg, "array", "iterative solver"),
    Kernel("sor_sweeps", sor_sweeps, lambda r, m: (*_dominant(r, m, 100), 1.3, 3 if m == "test" else 10),
           "loop", "iterative solver"),
    Kernel("gauss_seidel_residual", gauss_seidel_residual,
           lambda r, m: (*_dominant(r, m, 300), 1e-10, 200), "mixed", "iterative solver"),
]
