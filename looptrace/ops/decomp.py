"""Dense decompositions of square matrices: `solve`, `inv`, `det`, `cholesky`.

solve(a, b) -> x with a @ x == b    a (..., n, n), b (..., n, k), same leading dims
inv(a)      -> a^-1                 a (..., n, n)
det(a)      -> det(a)               (...)
cholesky(a) -> the lower factor L of a = L L^H, reading only a's lower triangle

Invariant: every axis before the last two is a batch axis the operands share
exactly (the tracer broadcasts them and turns a vector right-hand side into
one column, tracer/np_linalg.py); operands have one dtype among float32,
float64, complex64, complex128 (the tracer promotes ints and bools to
float64, as NumPy does). A singular matrix (solve, inv) or one that is not
positive definite (cholesky) raises np.linalg.LinAlgError on every target
(cuda: through the call's error flag, codegen/cuda/rules/decomp.py).
A vector right-hand side and cholesky(upper=True) are compositions in the
tracer (tracer/np_linalg.py).
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.primitive import Primitive, ShapeMismatch, register

from .batching_helpers import axis_size, bcast
from .shape_arith import LinAlgMismatch, fmt
from .vjp_helpers import gradient_backend

DTYPES = tuple(np.dtype(d) for d in ("float32", "float64", "complex64", "complex128"))


def check_square(a, what: str) -> None:
    if len(a.shape) < 2:
        raise LinAlgMismatch(f"{what}: {len(a.shape)}-dimensional array given. "
                            "Array must be at least two-dimensional")
    if a.shape[-1] != a.shape[-2]:
        raise LinAlgMismatch(f"{what}: Last 2 dimensions of the array must be square "
                            f"(the array has shape {fmt(a.shape)})")
    if np.dtype(a.dtype) not in DTYPES:
        raise ShapeMismatch(f"{what}: array type {a.dtype} is unsupported in linalg")


def _solve_abstract(a, b):
    check_square(a, "np.linalg.solve")
    if len(b.shape) != len(a.shape) or tuple(b.shape[:-1]) != tuple(a.shape[:-1]):
        raise ShapeMismatch(f"np.linalg.solve: the right-hand side of shape {fmt(b.shape)} does not fit "
                            f"the matrix of shape {fmt(a.shape)} (it needs shape {fmt(a.shape[:-1])} + (k,))")
    if a.dtype != b.dtype:
        raise ShapeMismatch(f"np.linalg.solve: operands of dtypes {a.dtype} and {b.dtype} (the tracer promotes)")
    return [(a.dtype, tuple(b.shape))]


def _square_abstract(what: str, drop: int):
    def abstract(a):
        check_square(a, what)
        return [(a.dtype, tuple(a.shape[: len(a.shape) - drop]))]

    return abstract


def _det_impl(a):
    return np.asarray(np.linalg.det(a), dtype=a.dtype)


solve = register(Primitive("solve", "decomp", _solve_abstract, np.linalg.solve, fresh=True, may_raise=True,
                           doc="x with a @ x == b, matrix by matrix (LinAlgError when a is singular)"))
inv = register(Primitive("inv", "decomp", _square_abstract("np.linalg.inv", 0), np.linalg.inv, fresh=True,
                         may_raise=True, doc="the inverse, matrix by matrix (LinAlgError when singular)"))
det = register(Primitive("det", "decomp", _square_abstract("np.linalg.det", 2), _det_impl, fresh=True,
                         doc="the determinant of each matrix"))
cholesky = register(Primitive("cholesky", "decomp", _square_abstract("np.linalg.cholesky", 0), np.linalg.cholesky,
                              fresh=True, may_raise=True,
                              doc="the lower Cholesky factor of each matrix, from its lower triangle"))


# --- batching rules ---
# The leading batch axis is one more batch axis; an unbatched operand is broadcast.
def _solve_batch(b, args, dims):
    n = axis_size(b, args, dims)
    return [b.op("solve", *(bcast(b, x, d, n) for x, d in zip(args, dims)))], [0]


def _unary_batch(name: str):
    def rule(b, args, dims):
        return [b.op(name, args[0])], [0]

    return rule


solve.batch = _solve_batch
inv.batch = _unary_batch("inv")
det.batch = _unary_batch("det")
cholesky.batch = _unary_batch("cholesky")


# --- VJP rules (real dtypes) ---
# With x = a^-1 b: gb = a^-T g and ga = -gb x^T. With y = a^-1: ga = -y^T g y^T.
# With d = det(a): ga = g cof(a) (= g d a^-T where a is invertible; below). With L = cholesky(a) and its cotangent G:
# P = phi(L^T G), phi keeping the lower triangle with the diagonal halved,
# S = L^-T P L^-1; as the function reads only a's lower triangle, ga =
# phi(S + S^T) (an entry below the diagonal moves both a[i, j] and a[j, i]
# of the symmetric matrix the factor is of). Complex operands would need
# conjugates: they raise instead.
_LETTERS = "zyxwvutsrqpo"


def _mm(b, x, y, spec: str):
    """The matrix product `spec` ("ij,jk->ik") over the shared batch axes."""
    lead = _LETTERS[: x.ndim - 2]
    ins, out = spec.split("->")
    sx, sy = ins.split(",")
    return b.emit("einsum", x, y, spec=f"{lead}{sx},{lead}{sy}->{lead}{out}")


def _mT(b, x):
    """x with its last two axes swapped."""
    nd = x.ndim
    return b.emit("transpose", x, perm=(*range(nd - 2), nd - 1, nd - 2))


def _real_only(op) -> None:
    if op.out.dtype.kind == "c":
        from looptrace.errors import UnsupportedError

        raise UnsupportedError(f"cannot differentiate np.linalg.{op.prim.name} of complex arrays", op.loc,
                               "differentiate a function of real arrays")


def _solve_b_vjp(b, g, op):
    _real_only(op)
    return b.emit("solve", _mT(b, op.inputs[0]), g)


def _solve_a_vjp(b, g, op):
    gb = _solve_b_vjp(b, g, op)
    return b.neg(_mm(b, gb, op.out, "ik,jk->ij"))


def _inv_vjp(b, g, op):
    _real_only(op)
    y = op.out
    return b.neg(_mm(b, _mm(b, y, g, "ji,jk->ik"), y, "ik,lk->il"))


def _det_vjp(b, g, op):
    _real_only(op)
    (a,) = op.inputs
    scale = b.reshape(g, tuple(g.shape) + (1, 1))
    return b.mul(b.emit("broadcast_to", scale, shape=tuple(a.shape)), _cofactors(b, a, op.out))


# d det(a) / d a = the cofactor matrix, adj(a)^T, which is det(a) a^-T where a is invertible and
# finite where it is not: adj([[1, 2], [2, 4]]) = [[4, -2], [-2, 1]], and 0 at rank n - 2 or less.
# Up to _MINORS_UP_TO rows, each cofactor is the signed determinant of its minor (exact at every
# rank, n**2 determinants of (n-1) x (n-1)). Larger, from the SVD a = U S V^T: adj(a)^T =
# det(U) det(V^T) U diag(p) V^T with p_i the product of every singular value but the i-th, no
# division, so right at every rank. det(a) a^-T, as it was (and still is on cuda, which has no
# SVD), is wrong near any singular matrix of rank n - 2 or less: the LU's det is rounding noise
# there, ~1e-14, times an inverse of ~1e16 (5x5 of rank 3, 60 draws: 12 gradients with entries
# up to ~300 where the finite differences give ~1e-15, 3 raised LinAlgError).
_MINORS_UP_TO = 4  # (n**2 determinants: 4x4 is 16 of 3x3; an 8x8 would be 64 of 7x7, ~40x the work of one inverse)


def _cofactors(b, a, d):
    n = a.shape[-1]
    if n == 1:
        return b.emit("broadcast_to", b.lit(np.ones((1, 1)), a), shape=tuple(a.shape))
    if n <= _MINORS_UP_TO:
        return _cofactors_by_minors(b, a)
    if gradient_backend() == "cuda":  # (no SVD there: codegen/cuda/rules/factorizations.py)
        return _mT(b, _adjugate_by_update(b, a, d))
    return _cofactors_by_svd(b, a)


def _cofactors_by_minors(b, a):
    n, lead = a.shape[-1], _LETTERS[: a.ndim - 2]
    drop = np.zeros((n, n - 1, n))  # drop[i] @ x: x without its row i
    for i in range(n):
        drop[i, np.arange(n - 1), np.delete(np.arange(n), i)] = 1.0
    sel = b.lit(drop, a)
    rows = b.emit("einsum", sel, a, spec=f"iab,{lead}bc->{lead}iac")
    minors = b.emit("einsum", rows, sel, spec=f"{lead}iac,jdc->{lead}ijad")
    signs = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return b.mul(b.emit("det", minors), b.emit("broadcast_to", b.lit(signs, a), shape=tuple(a.shape)))


def _adjugate_by_update(b, a, d):
    """adj(a) on the cuda backend: det(b) b^-1 with b = a wherever det(a) != 0; where det(a) == 0
    (the LU met a zero pivot, where inv raises), b = a + c u v^T (u, v fixed generic vectors, c the
    largest |a_ij|) and adj(a) = det(b) ((1 - c v^T b^-1 u) b^-1 + c b^-1 u v^T b^-1),
    Sherman-Morrison without its division: right at rank n - 1; near rank n - 2 or less it is
    rounding noise (see above) or raises."""
    n, lead = a.shape[-1], _LETTERS[: a.ndim - 2]
    k = np.arange(n)
    u, v = 1.0 + np.modf(k * 0.6180339887498949 + 0.3)[0], 1.0 + np.modf(k * 0.4142135623730951 + 0.7)[0]
    batch = tuple(d.shape)
    big = b.emit("reduce_max", b.emit("absolute", a), axes=(a.ndim - 2, a.ndim - 1))
    singular = b.emit("equal", d, b.lit(0.0, d))
    c = b.emit("select", singular, b.emit("select", b.emit("equal", big, b.lit(0.0, big)), b.lit(1.0, big), big),
               b.lit(0.0, big))
    cm = b.emit("broadcast_to", b.reshape(c, batch + (1, 1)), shape=tuple(a.shape))
    m = b.add(a, b.mul(cm, b.emit("broadcast_to", b.lit(np.outer(u, v), a), shape=tuple(a.shape))))
    mi = b.emit("inv", m)
    p = b.emit("einsum", mi, b.lit(u, a), spec=f"{lead}ab,b->{lead}a")
    q = b.emit("einsum", b.lit(v, a), mi, spec=f"a,{lead}ab->{lead}b")
    w = b.emit("einsum", q, b.lit(u, a), spec=f"{lead}b,b->{lead}")
    first = b.sub(b.lit(1.0, w), b.mul(c, w))
    outer = b.emit("einsum", p, q, spec=f"{lead}a,{lead}b->{lead}ab")
    adj = b.add(b.mul(b.emit("broadcast_to", b.reshape(first, batch + (1, 1)), shape=tuple(a.shape)), mi),
                b.mul(cm, outer))
    return b.mul(b.emit("broadcast_to", b.reshape(b.emit("det", m), batch + (1, 1)), shape=tuple(a.shape)), adj)


def _cofactors_by_svd(b, a):
    from .factorizations import _rows

    n, batch, shape = a.shape[-1], tuple(a.shape[:-2]), tuple(a.shape)
    packed = b.emit("svd", a, full=False)
    u, vh = _rows(b, packed, 0, n, n), _rows(b, packed, n + 1, 2 * n + 1, n)
    s = b.reshape(_rows(b, packed, n, n + 1, n), batch + (1, n))
    eye = np.eye(n)
    others = b.add(b.mul(b.emit("broadcast_to", s, shape=shape), b.lit(1.0 - eye, a)), b.lit(eye, a))
    p = b.reshape(b.emit("reduce_prod", others, axes=(a.ndim - 1,)), batch + (1, n))  # p_i in column i
    sign = b.reshape(b.mul(b.emit("det", u), b.emit("det", vh)), batch + (1, 1))
    scaled = b.mul(u, b.emit("broadcast_to", p, shape=shape))
    return b.mul(_mm(b, scaled, vh, "ik,kj->ij"), b.emit("broadcast_to", sign, shape=shape))


def _phi(b, x):
    """The lower triangle of x's matrices with their diagonal halved."""
    n = x.shape[-1]
    mask = np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)
    return b.mul(x, b.emit("broadcast_to", b.lit(mask, x), shape=tuple(x.shape)))


def _cholesky_vjp(b, g, op):
    _real_only(op)
    low = op.out
    p = _phi(b, _mm(b, low, g, "ki,kj->ij"))
    upper = _mT(b, low)
    s = _mT(b, b.emit("solve", upper, _mT(b, b.emit("solve", upper, p))))
    return _phi(b, b.add(s, _mT(b, s)))


def _attach_vjp_rules() -> None:
    from .vjp_helpers import defvjp

    defvjp(solve, _solve_a_vjp, _solve_b_vjp)
    defvjp(inv, _inv_vjp)
    defvjp(det, _det_vjp)
    defvjp(cholesky, _cholesky_vjp)


_attach_vjp_rules()
