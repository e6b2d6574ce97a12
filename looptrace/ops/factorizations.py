"""Spectral and orthogonal factorizations: slogdet, eigh, eigvalsh, svd,
svdvals, qr and pinv, of real (float32/float64) matrices stacked in (..., m, n).

Every primitive has one output. Where NumPy returns several arrays, they are
packed into one array the tracer slices apart (tracer/np_linalg.py), so that
batching, VJP rules and lowerings stay those of one-output ops:

slogdet(a)              -> (..., 2): [sign, log|det|]
eigh(a)                 -> (..., n + 1, n): row 0 the eigenvalues (ascending),
                           rows 1.. the eigenvectors as columns; reads a's lower triangle
eigvalsh(a)             -> (..., n), from a's lower triangle
svd(a, full)            -> (..., m + 1 + r, w): rows [0, m) u (m x cu), row m the
                           singular values (k = min(m, n)), rows m+1.. vh (r x n);
                           full: cu = m, r = n; else cu = r = k; w = max(cu, k, n),
                           unused places hold zeros
svdvals(a)              -> (..., k)
qr(a, complete)         -> (..., m + r, w): rows [0, m) q (m x cq), rows m.. r (r x n);
                           reduced: cq = r = k; complete: cq = r = m; w = max(cq, n)
pinv(a, rcond)          -> (..., n, m), singular values below rcond * the largest dropped

Invariant: the operand is float32 or float64 (the tracer promotes ints and
bools to float64 and refuses complex); every axis before the last two is a
batch axis. eigh/svd/qr's vectors are LAPACK's (through NumPy here and
Numba's np.linalg on the cpu target), so their signs are those of the
library that runs them. qr(complete) with m > n takes its extra columns of q
from the factorization of [a | I] (Numba has no complete mode): an
orthonormal basis of the complement of a's columns, not NumPy's.
Non-convergence raises np.linalg.LinAlgError.

Gradients (real operands, reverse mode): rules at the bottom of this file.
eigh's and svd's vector gradients divide by differences of eigenvalues
(squared singular values): repeated ones give inf/nan, as in JAX and PyTorch;
svd's also divide by the singular values of a non-square matrix (rank-deficient:
inf/nan). svd's vectors are differentiable for the thin factorization (and the
full one of a square matrix), qr for the reduced one with m >= n; other cases
raise UnsupportedError. pinv's rule assumes the rank is locally constant.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.primitive import Primitive, ShapeMismatch, register

from .batching_helpers import move_axis
from .decomp import _mm, _mT, _phi
from .shape_arith import LinAlgMismatch, fmt

REAL = (np.dtype("float32"), np.dtype("float64"))


def _matrix(a, what: str, square: bool = False) -> tuple:
    if len(a.shape) < 2:
        raise LinAlgMismatch(f"{what}: {len(a.shape)}-dimensional array given. "
                            "Array must be at least two-dimensional")
    if square and a.shape[-1] != a.shape[-2]:
        raise LinAlgMismatch(f"{what}: Last 2 dimensions of the array must be square "
                            f"(the array has shape {fmt(a.shape)})")
    if np.dtype(a.dtype) not in REAL:
        raise ShapeMismatch(f"{what}: array type {a.dtype} is unsupported here (float32 or float64)")
    return tuple(a.shape[:-2]), a.shape[-2], a.shape[-1]


def svd_layout(m: int, n: int, full: bool) -> tuple[int, int, int]:
    """(columns of u, rows of vh, width of the packed array)."""
    k = min(m, n)
    cu, r = (m, n) if full else (k, k)
    return cu, r, max(cu, k, n)


def qr_layout(m: int, n: int, complete: bool) -> tuple[int, int]:
    """(columns of q = rows of r, width of the packed array)."""
    c = m if complete else min(m, n)
    return c, max(c, n)


# --- shape rules ---
def _slogdet_abstract(a):
    lead, _, _ = _matrix(a, "np.linalg.slogdet", True)
    return [(a.dtype, lead + (2,))]


def _eigh_abstract(a):
    lead, n, _ = _matrix(a, "np.linalg.eigh", True)
    return [(a.dtype, lead + (n + 1, n))]


def _eigvalsh_abstract(a):
    lead, n, _ = _matrix(a, "np.linalg.eigvalsh", True)
    return [(a.dtype, lead + (n,))]


def _svd_abstract(a, full):
    lead, m, n = _matrix(a, "np.linalg.svd")
    _, r, w = svd_layout(m, n, full)
    return [(a.dtype, lead + (m + 1 + r, w))]


def _svdvals_abstract(a):
    lead, m, n = _matrix(a, "np.linalg.svd")
    return [(a.dtype, lead + (min(m, n),))]


def _qr_abstract(a, complete):
    lead, m, n = _matrix(a, "np.linalg.qr")
    c, w = qr_layout(m, n, complete)
    return [(a.dtype, lead + (m + c, w))]


def _pinv_abstract(a, rcond):
    lead, m, n = _matrix(a, "np.linalg.pinv")
    return [(a.dtype, lead + (n, m))]


# --- NumPy implementations (the reference) ---
def _slogdet_impl(a):
    sign, logabs = np.linalg.slogdet(a)
    return np.stack([sign, logabs], axis=-1).astype(a.dtype)


def _eigh_impl(a):
    w, v = np.linalg.eigh(a, UPLO="L")
    return np.concatenate([w[..., None, :], v], axis=-2).astype(a.dtype)


def _eigvalsh_impl(a):
    return np.linalg.eigvalsh(a, UPLO="L").astype(a.dtype)


def _svd_impl(a, full):
    m, n = a.shape[-2:]
    cu, r, w = svd_layout(m, n, full)
    out = np.zeros(a.shape[:-2] + (m + 1 + r, w), dtype=a.dtype)
    if min(m, n) == 0:
        eye = np.broadcast_to(np.eye(w, dtype=a.dtype), a.shape[:-2] + (w, w))
        out[..., :m, :cu], out[..., m + 1:, :n] = eye[..., :m, :cu], eye[..., :r, :n]
        return out
    u, s, vh = np.linalg.svd(a, full_matrices=full)
    out[..., :m, :cu], out[..., m, :s.shape[-1]], out[..., m + 1:, :n] = u, s, vh
    return out


def _svdvals_impl(a):
    return np.linalg.svd(a, compute_uv=False).astype(a.dtype)


def complete_qr(a):
    """q (m x m) and r (m x n) of one matrix from the factorization of [a | I]
    (the cpu helper's way, lapack.py): q's first min(m, n) columns are the reduced q."""
    m, n = a.shape
    q, r = np.linalg.qr(np.concatenate([a, np.eye(m, dtype=a.dtype)], axis=1))
    return q, np.triu(r[:, :n])


def _qr_impl(a, complete):
    m, n = a.shape[-2:]
    c, w = qr_layout(m, n, complete)
    out = np.zeros(a.shape[:-2] + (m + c, w), dtype=a.dtype)
    if complete and m > n:
        for idx in np.ndindex(*a.shape[:-2]):
            q, r = complete_qr(a[idx])
            out[idx + (slice(0, m), slice(0, c))], out[idx + (slice(m, None), slice(0, n))] = q, r
        return out
    q, r = np.linalg.qr(a, mode="reduced")
    out[..., :m, :c], out[..., m:, :n] = q, r
    return out


def _pinv_impl(a, rcond):
    return np.linalg.pinv(a, rcond=rcond).astype(a.dtype)


def _prim(name, abstract, impl, doc, may_raise=True):
    return register(Primitive(name, "decomp", abstract, impl, fresh=True, may_raise=may_raise, doc=doc))


slogdet = _prim("slogdet", _slogdet_abstract, _slogdet_impl, "[sign, log|det|] of each matrix", False)
eigh = _prim("eigh", _eigh_abstract, _eigh_impl,
             "eigenvalues (row 0) and eigenvectors (rows 1..) of each symmetric matrix's lower triangle")
eigvalsh = _prim("eigvalsh", _eigvalsh_abstract, _eigvalsh_impl,
                 "the ascending eigenvalues of each symmetric matrix's lower triangle")
svd = _prim("svd", _svd_abstract, _svd_impl, "u, the singular values and vh of each matrix, packed")
svdvals = _prim("svdvals", _svdvals_abstract, _svdvals_impl, "the descending singular values of each matrix")
qr = _prim("qr", _qr_abstract, _qr_impl, "q and r of each matrix, packed")
pinv = _prim("pinv", _pinv_abstract, _pinv_impl, "the pseudo-inverse of each matrix")
NAMES = ("slogdet", "eigh", "eigvalsh", "svd", "svdvals", "qr", "pinv")


# --- batching: the batch axis becomes the leading batch axis of the stack ---
def _batch(name: str):
    def rule(b, args, dims, **attrs):
        return [b.op(name, move_axis(b, args[0], dims[0], 0), **attrs)], [0]

    return rule


for _p in (slogdet, eigh, eigvalsh, svd, svdvals, qr, pinv):
    _p.batch = _batch(_p.name)


# --- VJP rules (real operands) ---
def _slice(b, x, axis: int, start: int, stop: int):
    """x[..., start:stop, ...] along `axis` (negative: from the end)."""
    axis %= x.ndim
    starts = tuple(start if k == axis else 0 for k in range(x.ndim))
    stops = tuple(stop if k == axis else d for k, d in enumerate(x.shape))
    return b.emit("slice", x, starts=starts, stops=stops, steps=(1,) * x.ndim)


def _rows(b, x, start: int, stop: int, cols: int):
    """The rows [start, stop) and first `cols` columns of x's matrices."""
    return _slice(b, _slice(b, x, -2, start, stop), -1, 0, cols)


def _diag(b, x):
    """(..., n) -> (..., n, n) diagonal matrices."""
    n = x.shape[-1]
    eye = b.emit("broadcast_to", b.lit(np.eye(n), x), shape=tuple(x.shape) + (n,))
    return b.mul(b.emit("broadcast_to", b.reshape(x, tuple(x.shape) + (1,)), shape=tuple(x.shape) + (n,)), eye)


def _eye_like(b, x, n: int):
    return b.emit("broadcast_to", b.lit(np.eye(n), x), shape=tuple(x.shape[:-2]) + (n, n))


def _gapped(b, f, x):
    """F o X with 0 where X is 0: at a repeated eigenvalue (singular value) F is inf, and where
    the cotangent of the vectors does not mix that pair (X = 0: the vectors unused, or a simple
    eigenvector's) the term is 0, as JAX's symbolic zeros make it, not inf * 0 = NaN."""
    return b.emit("select", b.emit("equal", x, b.lit(0.0, x)), b.lit(0.0, x), b.mul(f, x))


def _gaps(b, w):
    """F with F[i, j] = 1 / (w[j] - w[i]) off the diagonal and 0 on it."""
    n = w.shape[-1]
    shape = tuple(w.shape) + (n,)
    wi = b.emit("broadcast_to", b.reshape(w, tuple(w.shape) + (1,)), shape=shape)
    wj = b.emit("broadcast_to", b.reshape(w, tuple(w.shape[:-1]) + (1, n)), shape=shape)
    off = b.emit("broadcast_to", b.lit(1 - np.eye(n), w), shape=shape)
    eye = b.emit("broadcast_to", b.lit(np.eye(n), w), shape=shape)
    return b.div(off, b.add(b.sub(wj, wi), eye))  # 1 on the diagonal keeps 0/0 away


def _real_only(op) -> None:
    from .decomp import _real_only as check

    check(op)


def _unsupported(op, why: str, hint: str):
    from looptrace.errors import UnsupportedError

    raise UnsupportedError(f"cannot differentiate np.linalg.{op.prim.name} {why}", op.loc, hint)


def _slogdet_vjp(b, g, op):
    # d log|det a| = tr(a^-1 da): ga = g a^-T; the sign is piecewise constant
    _real_only(op)
    (a,) = op.inputs
    glog = _slice(b, g, -1, 1, 2)
    scale = b.reshape(glog, tuple(glog.shape) + (1,))
    return b.mul(b.emit("broadcast_to", scale, shape=tuple(a.shape)), _mT(b, b.emit("inv", a)))


def _eigh_vjp(b, g, op):
    # a = V diag(w) V^T: ga = V (diag(gw) + F o (V^T gV)) V^T, then onto the lower triangle read
    _real_only(op)
    n = op.inputs[0].shape[-1]
    w, v = _rows(b, op.out, 0, 1, n), _rows(b, op.out, 1, n + 1, n)
    w = b.reshape(w, tuple(w.shape[:-2]) + (n,))
    gw, gv = _rows(b, g, 0, 1, n), _rows(b, g, 1, n + 1, n)
    gw = b.reshape(gw, tuple(gw.shape[:-2]) + (n,))
    inner = b.add(_diag(b, gw), _gapped(b, _gaps(b, w), _mm(b, v, gv, "ki,kj->ij")))
    s = _mm(b, _mm(b, v, inner, "ik,kl->il"), v, "il,jl->ij")
    return _phi(b, b.add(s, _mT(b, s)))


def _eigvalsh_vjp(b, g, op):
    _real_only(op)
    (a,) = op.inputs
    n = a.shape[-1]
    v = _rows(b, b.emit("eigh", a), 1, n + 1, n)
    s = _mm(b, _mm(b, v, _diag(b, g), "ik,kl->il"), v, "il,jl->ij")
    return _phi(b, b.add(s, s))


def _svdvals_vjp(b, g, op):
    # ds = diag(U^T da V): ga = U diag(gs) V^T (thin factors)
    _real_only(op)
    (a,) = op.inputs
    m, n = a.shape[-2:]
    k = min(m, n)
    packed = b.emit("svd", a, full=False)
    u, vh = _rows(b, packed, 0, m, k), _rows(b, packed, m + 1, m + 1 + k, n)
    return _mm(b, _mm(b, u, _diag(b, g), "ik,kl->il"), vh, "il,lj->ij")


def _svd_vjp(b, g, op):
    """The thin SVD a = U S V^T (Townsend, "Differentiating the singular value
    decomposition", 2016), with F[i, j] = 1 / (s_j^2 - s_i^2):
    ga = U [(F o (U^T gU - gU^T U)) S + diag(gs) + S (F o (V^T gV - gV^T V))] V^T
         + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T)."""
    _real_only(op)
    (a,) = op.inputs
    m, n = a.shape[-2:]
    k = min(m, n)
    if op.attrs["full"] and m != n:
        _unsupported(op, "with full_matrices=True of a non-square matrix (its extra singular vectors are "
                     "not unique)", "pass full_matrices=False")
    u, vh = _rows(b, op.out, 0, m, k), _rows(b, op.out, m + 1, m + 1 + k, n)
    s = b.reshape(_rows(b, op.out, m, m + 1, k), tuple(a.shape[:-2]) + (k,))
    gu, gvh = _rows(b, g, 0, m, k), _rows(b, g, m + 1, m + 1 + k, n)
    gs = b.reshape(_rows(b, g, m, m + 1, k), tuple(a.shape[:-2]) + (k,))
    v, gv = _mT(b, vh), _mT(b, gvh)
    f = _gaps(b, b.mul(s, s))
    j = _gapped(b, f, _mm(b, u, gu, "ki,kj->ij"))
    kk = _gapped(b, f, _mm(b, v, gv, "ki,kj->ij"))
    sm = _diag(b, s)
    # F o (X - X^T) = J + J^T with J = F o X, as F is antisymmetric
    inner = b.add(b.add(_mm(b, b.add(j, _mT(b, j)), sm, "ik,kj->ij"), _diag(b, gs)),
                  _mm(b, sm, b.add(kk, _mT(b, kk)), "ik,kj->ij"))
    ga = _mm(b, _mm(b, u, inner, "ik,kl->il"), vh, "il,lj->ij")
    inv_s = b.div(b.lit(1.0, s), s)  # (a zero singular value: inf, times a zero projection below: 0)
    if m > k:  # (I - U U^T) gU S^-1 V^T
        proj = b.sub(gu, _mm(b, u, _mm(b, u, gu, "ki,kj->ij"), "ik,kj->ij"))
        cols = b.emit("broadcast_to", b.reshape(inv_s, tuple(inv_s.shape[:-1]) + (1, k)), shape=tuple(proj.shape))
        ga = b.add(ga, _mm(b, _gapped(b, cols, proj), vh, "il,lj->ij"))
    if n > k:  # U S^-1 gV^T (I - V V^T)
        proj = b.sub(gvh, _mm(b, _mm(b, gvh, v, "ik,kj->ij"), vh, "ik,kj->ij"))
        rows = b.emit("broadcast_to", b.reshape(inv_s, tuple(inv_s.shape) + (1,)), shape=tuple(proj.shape))
        ga = b.add(ga, _mm(b, u, _gapped(b, rows, proj), "ik,kj->ij"))
    return ga


def _qr_vjp(b, g, op):
    """a = QR with m >= n (reduced): M = R gR^T - gQ^T Q,
    ga = (gQ + Q copyltu(M)) R^-T, copyltu(M) = tril(M) + tril(M, -1)^T."""
    _real_only(op)
    (a,) = op.inputs
    m, n = a.shape[-2:]
    if m < n or (op.attrs["complete"] and m != n):
        _unsupported(op, f"of a {m} x {n} matrix with mode={'complete' if op.attrs['complete'] else 'reduced'}"
                     " (only the reduced factorization of a matrix with m >= n is)",
                     "factor the transpose, or a matrix with at least as many rows as columns")
    q, r = _rows(b, op.out, 0, m, n), _rows(b, op.out, m, m + n, n)
    _refuse_dependent_columns(b, r, op)
    gq, gr = _rows(b, g, 0, m, n), _rows(b, g, m, m + n, n)
    mm = b.sub(_mm(b, r, gr, "ik,jk->ij"), _mm(b, gq, q, "ki,kj->ij"))
    low = b.mul(mm, b.emit("broadcast_to", b.lit(np.tril(np.ones((n, n))), mm), shape=tuple(mm.shape)))
    strict = b.mul(mm, b.emit("broadcast_to", b.lit(np.tril(np.ones((n, n)), -1), mm), shape=tuple(mm.shape)))
    copyltu = b.add(low, _mT(b, strict))
    rhs = b.add(gq, _mm(b, q, copyltu, "ik,kj->ij"))  # (m, n); ga = rhs R^-T = (R^-1 rhs^T)^T
    return _mT(b, b.emit("solve", r, _mT(b, rhs)))


def _refuse_dependent_columns(b, r, op) -> None:
    """A run-time LinAlgError naming the user's np.linalg.qr line where a column of a depends on
    the earlier ones and an independent column follows it (some |R_kk| <= n eps max|R| with a
    larger R_jj, j > k): the rule's solve by R then mixes rounding noise into the later columns,
    and the gradient of even a smooth function of Q and R (sum(R**2), Q @ R) came out finite and
    wrong (a duplicated middle column: 40 of 40 draws, errors up to ~15x the gradient). Dependent
    columns at the end only (a rank-r product U V, a duplicated last column) gave the right
    gradient (errors ~1e-14 over 80 draws) and are left alone."""
    from .check import Failure

    n = r.shape[-1]
    if n < 2:
        return
    eye = b.emit("broadcast_to", b.lit(np.eye(n), r), shape=tuple(r.shape))
    diag = b.emit("absolute", b.emit("reduce_sum", b.mul(r, eye), axes=(r.ndim - 1,)))  # (..., n)
    big = b.emit("reduce_max", b.emit("absolute", r), axes=(r.ndim - 2, r.ndim - 1))
    tol = b.mul(big, b.lit(n * float(np.finfo(r.dtype).eps), big))
    tol = b.emit("broadcast_to", b.reshape(tol, tuple(big.shape) + (1,)), shape=tuple(diag.shape))
    tiny = b.emit("less_equal", diag, tol)
    kept = b.convert(b.emit("logical_not", tiny), diag.dtype)
    lead = _LEAD[: diag.ndim - 1]
    later = b.emit("einsum", kept, b.lit(np.triu(np.ones((n, n)), 1), diag), spec=f"{lead}j,kj->{lead}k")
    exc = np.linalg.LinAlgError("cannot differentiate np.linalg.qr of a matrix with a column that depends on "
                                "earlier ones before an independent one (a diagonal entry of R is zero to "
                                "rounding): the gradient divides by it; reorder the columns so that dependent "
                                "ones come last")
    bad = b.emit("logical_and", tiny, b.emit("greater", later, b.lit(0.0, later)))
    b.op("check", bad, failures=(Failure(exc, op.loc),))


_LEAD = "zyxwvutsrqpo"  # batch axes' letters in the einsum specs above


def _pinv_vjp(b, g, op):
    """P = pinv(a) at constant rank (Golub & Pereyra 1973):
    ga = -P^T G P^T + (I - a P) G^T P P^T + P^T P G^T (I - P a)."""
    _real_only(op)
    (a,) = op.inputs
    p = op.out
    m, n = a.shape[-2:]
    pt, gt = _mT(b, p), _mT(b, g)
    first = b.neg(_mm(b, _mm(b, pt, g, "ik,kl->il"), pt, "il,lj->ij"))
    left = b.sub(_eye_like(b, a, m), _mm(b, a, p, "ik,kj->ij"))
    second = _mm(b, _mm(b, left, gt, "ik,kl->il"), _mm(b, p, pt, "ik,kj->ij"), "il,lj->ij")
    right = b.sub(_eye_like(b, a, n), _mm(b, p, a, "ik,kj->ij"))
    third = _mm(b, _mm(b, _mm(b, pt, p, "ik,kj->ij"), gt, "ik,kl->il"), right, "il,lj->ij")
    return b.add(first, b.add(second, third))


def _attach_vjp_rules() -> None:
    from .vjp_helpers import defvjp

    defvjp(slogdet, _slogdet_vjp)
    defvjp(eigh, _eigh_vjp)
    defvjp(eigvalsh, _eigvalsh_vjp)
    defvjp(svd, _svd_vjp)
    defvjp(svdvals, _svdvals_vjp)
    defvjp(qr, _qr_vjp)
    defvjp(pinv, _pinv_vjp)


_attach_vjp_rules()
