"""np.linalg.solve, inv, det, cholesky (primitives of ops/decomp.py) and
slogdet, eigh, eigvalsh, svd, qr, pinv, lstsq, matrix_rank (ops/factorizations.py)
under tracing.

Invariant: shapes and dtypes are NumPy 2's: integer and boolean operands
compute in float64, float16 is refused; solve broadcasts the batch axes of
its operands, and its right-hand side is a vector exactly when it is 1-d
(it becomes one column and back). Without a traced argument each function
is NumPy's own. Where NumPy returns several arrays, one packed primitive
output is sliced apart here (ops/factorizations.py). The factorizations take
real operands only: complex ones raise UnsupportedError. lstsq's solution is
pinv(a, rcond) @ b, the minimum-norm least-squares solution NumPy's gelsd
computes (so its gradient is the pseudo-inverse's); its residuals are
|b - a x|^2 per column when m > n, and a run-time check raises where NumPy
would return none because a is rank-deficient. eig and eigvals (complex
results for real input) are refused. svd(hermitian=True) computes the general
SVD (the same singular values; the vectors may differ in sign from NumPy's
eigh-based ones); pinv(hermitian=True) is the general pinv (it is unique).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.errors import ShapeError, UnsupportedError
from looptrace.ops import get as prim
from looptrace.ops.shape_arith import fmt

from . import context as ctx
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer
from .numpy_errors import LinAlgError

_tr, _any_traced = nx._tr, nx._any_traced


def _linalg_dtype(*xs: Tracer) -> np.dtype:
    """NumPy's linalg type: ints and bools compute in float64."""
    kinds = [np.dtype(np.float64) if x.dtype.kind in "biu" else x.dtype for x in xs]
    dtype = np.result_type(*kinds)
    if dtype.kind not in "fc" or dtype == np.float16:
        raise UnsupportedError(f"array type {dtype} is unsupported in linalg", ctx.current_loc(),
                               "convert to float32 or float64 first")
    return dtype


def _square(a: Any, name: str) -> Tracer:
    a = _tr(a)
    a = sem.astype(a, _linalg_dtype(a))
    if a.ndim < 2:
        raise LinAlgError(f"np.linalg.{name}: {a.ndim}-dimensional array given. Array must be at least "
                         "two-dimensional", ctx.current_loc())
    return a


def _emit(name: str, *xs: Tracer) -> Tracer:
    return sem.wrap(ctx.emit1(prim(name), [x.value for x in xs]))


def solve(a, b):
    if not _any_traced(a, b):
        return np.linalg.solve(a, b)
    a, b = _tr(a), _tr(b)
    dtype = _linalg_dtype(a, b)
    a, b = _square(sem.astype(a, dtype), "solve"), sem.astype(b, dtype)
    n = a.shape[-1]
    if a.shape[-2] != n:
        raise LinAlgError("np.linalg.solve: Last 2 dimensions of the array must be square (the array has "
                          f"shape {fmt(a.shape)})", ctx.current_loc())
    vector = b.ndim == 1
    if vector:
        b = sem.reshape(b, (b.shape[0], 1))
    if b.ndim < 2 or b.shape[-2] != n:
        raise ShapeError(f"np.linalg.solve: the right-hand side of shape {fmt(b.shape)} does not fit the "
                         f"matrix of shape {fmt(a.shape)}: its {'length' if vector else 'second-to-last axis'} "
                         f"must be {n}", ctx.current_loc())
    try:
        lead = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    except ValueError:
        raise ShapeError(f"np.linalg.solve: the batch axes of shapes {fmt(a.shape)} and {fmt(b.shape)} do not "
                         "broadcast", ctx.current_loc()) from None
    a = sem.broadcast_to(a, lead + (n, n))
    b = sem.broadcast_to(b, lead + tuple(b.shape[-2:]))
    x = _emit("solve", a, b)
    return sem.reshape(x, lead + (n,)) if vector else x


def inv(a):
    if not _any_traced(a):
        return np.linalg.inv(a)
    return _emit("inv", _square(a, "inv"))


def det(a):
    if not _any_traced(a):
        return np.linalg.det(a)
    return _emit("det", _square(a, "det"))


def cholesky(a, /, *, upper=False):
    if not _any_traced(a):
        return np.linalg.cholesky(a, upper=upper)
    a = _square(a, "cholesky")
    if not upper:
        return _emit("cholesky", a)
    if a.dtype.kind == "c":
        raise UnsupportedError("np.linalg.cholesky(..., upper=True) of complex arrays is not supported",
                               ctx.current_loc(), "take the conjugate transpose of the lower factor")
    # U = L(a^T)^T: the upper factor of a is read from a's upper triangle
    return _swap_last(_emit("cholesky", _swap_last(a)))


def _swap_last(x: Tracer) -> Tracer:
    return sem.transpose(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))


# --- factorizations (ops/factorizations.py) ---
try:
    from numpy.linalg._linalg import EighResult, QRResult, SlogdetResult, SVDResult
except ImportError:  # pragma: no cover  (NumPy < 2: plain tuples)
    EighResult = QRResult = SlogdetResult = SVDResult = lambda *xs: tuple(xs)  # noqa: E731


def _real(a: Any, name: str, square: bool = False) -> Tracer:
    a = _tr(a)
    dtype = _linalg_dtype(a)
    if dtype.kind == "c":
        raise UnsupportedError(f"np.linalg.{name} of complex arrays is not supported", ctx.current_loc(),
                               "factor the real matrix [[re, -im], [im, re]] instead, or call it outside the "
                               "compiled function")
    a = sem.astype(a, dtype)
    if a.ndim < 2:
        raise LinAlgError(f"np.linalg.{name}: {a.ndim}-dimensional array given. Array must be at least "
                         "two-dimensional", ctx.current_loc())
    if square and a.shape[-1] != a.shape[-2]:
        raise LinAlgError(f"np.linalg.{name}: Last 2 dimensions of the array must be square (the array has "
                         f"shape {fmt(a.shape)})", ctx.current_loc())
    return a


def _emit_attrs(name: str, x: Tracer, **attrs) -> Tracer:
    return sem.wrap(ctx.emit1(prim(name), [x.value], **attrs))


def _block(x: Tracer, rows: tuple[int, int], cols: int | None) -> Tracer:
    """x[..., r0:r1, :cols]."""
    return x[(Ellipsis, slice(*rows), slice(0, cols))]


def _uplo(a: Tracer, UPLO: str) -> Tracer:
    """The matrix whose lower triangle holds the triangle UPLO names."""
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return a if UPLO == "L" else _swap_last(a)


def slogdet(a):
    if not _any_traced(a):
        return np.linalg.slogdet(a)
    packed = _emit("slogdet", _real(a, "slogdet", True))
    if packed.ndim == 1:  # one matrix: NumPy's sign and log are scalars (x[..., 0] would be a 0-d array)
        return SlogdetResult(packed[0], packed[1])
    return SlogdetResult(packed[..., 0], packed[..., 1])


def eigh(a, UPLO="L"):
    if not _any_traced(a):
        return np.linalg.eigh(a, UPLO)
    a = _uplo(_real(a, "eigh", True), UPLO)
    n = a.shape[-1]
    packed = _emit("eigh", a)
    return EighResult(packed[..., 0, :], _block(packed, (1, n + 1), None))


def eigvalsh(a, UPLO="L"):
    if not _any_traced(a):
        return np.linalg.eigvalsh(a, UPLO)
    return _emit("eigvalsh", _uplo(_real(a, "eigvalsh", True), UPLO))


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if not _any_traced(a):
        return np.linalg.svd(a, full_matrices, compute_uv, hermitian)
    a = _real(a, "svd")
    if not compute_uv:
        return _emit("svdvals", a)  # hermitian or not, the singular values are the same
    from looptrace.ops.factorizations import svd_layout

    m, n = a.shape[-2:]
    cu, r, _ = svd_layout(m, n, bool(full_matrices))
    packed = _emit_attrs("svd", a, full=bool(full_matrices))
    return SVDResult(_block(packed, (0, m), cu), packed[..., m, :min(m, n)], _block(packed, (m + 1, m + 1 + r), n))


def svdvals(x, /):
    if not _any_traced(x):
        return np.linalg.svdvals(x)
    return _emit("svdvals", _real(x, "svdvals"))


def qr(a, mode="reduced"):
    if not _any_traced(a):
        return np.linalg.qr(a, mode)
    if mode not in ("reduced", "complete", "r"):
        if mode not in ("raw", "full", "economic"):
            raise ValueError(f"Unrecognized mode '{mode}'")
        raise UnsupportedError(f"np.linalg.qr(mode={mode!r}) is not supported on traced arrays", ctx.current_loc(),
                               "LAPACK's packed reflectors have no traced form; use mode='reduced' or 'complete'")
    a = _real(a, "qr")
    from looptrace.ops.factorizations import qr_layout

    m, n = a.shape[-2:]
    c, _ = qr_layout(m, n, mode == "complete")
    packed = _emit_attrs("qr", a, complete=mode == "complete")
    r = _block(packed, (m, m + c), n)
    return r if mode == "r" else QRResult(_block(packed, (0, m), c), r)


def _rcond(value: Any, what: str) -> float:
    if isinstance(value, Tracer) or np.ndim(value) != 0:
        raise UnsupportedError(f"np.linalg.{what}: rcond must be one number known when compiling",
                               ctx.current_loc(), "pass a Python float")
    return float(value)


_UNSET = object()  # pinv's rtol not given (NumPy: rcond 1e-15), as against rtol=None (max(M, N) * eps)


def pinv(a, rcond=None, hermitian=False, *, rtol=_UNSET):
    if not _any_traced(a):
        kw = {} if rtol is _UNSET else {"rtol": rtol}
        return np.linalg.pinv(a, rcond, hermitian, **kw)
    a = _real(a, "pinv")
    if rcond is not None and rtol is not _UNSET:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    if rcond is not None:
        cut = rcond
    elif rtol is _UNSET:
        cut = 1e-15
    elif rtol is None:
        cut = max(a.shape[-2:]) * float(np.finfo(a.dtype).eps)
    else:
        cut = rtol
    return _emit_attrs("pinv", a, rcond=_rcond(cut, "pinv"))


def lstsq(a, b, rcond=None):
    if not _any_traced(a, b):
        return np.linalg.lstsq(a, b, rcond)
    a, b = _tr(a), _tr(b)
    dtype = _linalg_dtype(a, b)
    a, b = _real(sem.astype(a, dtype), "lstsq"), sem.astype(b, dtype)
    if a.ndim != 2 or b.ndim not in (1, 2):
        raise ShapeError(f"np.linalg.lstsq: a must be 2-dimensional and b 1- or 2-dimensional (shapes "
                         f"{fmt(a.shape)} and {fmt(b.shape)} given)", ctx.current_loc())
    m, n = a.shape
    if b.shape[0] != m:
        raise LinAlgError(f"np.linalg.lstsq: Incompatible dimensions: a has {m} rows, b {b.shape[0]}",
                         ctx.current_loc())
    cut = np.finfo(np.float64).eps * max(m, n) if rcond is None else _rcond(rcond, "lstsq")
    s = _emit("svdvals", a)
    x = sem.matmul(_emit_attrs("pinv", a, rcond=cut), b)
    k = min(m, n)
    if k:
        big = sem.ufunc("greater", s, sem.ufunc("multiply", s[0], cut))
        rank = sem.astype(sem.reduce("reduce_sum", sem.astype(big, np.int64)), np.int32)
    else:
        rank = sem.astype(sem.full((), 0, np.int64), np.int32)
    if m > n:
        r = sem.ufunc("subtract", b, sem.matmul(a, x))
        resid = sem.reduce("reduce_sum", sem.ufunc("multiply", r, r), 0)
        if b.ndim == 1:
            resid = sem.reshape(resid, (1,))
        from .checks import emit_check

        emit_check(sem.ufunc("less", rank, n), UnsupportedError(
            "np.linalg.lstsq of a rank-deficient matrix with more rows than columns: NumPy returns no "
            "residuals then, an array of a shape known only at run time", ctx.current_loc(),
            "compute the residuals as ((b - a @ x) ** 2).sum(axis=0) yourself"))
    else:
        resid = sem.full((0,), 0, dtype)
    return x, resid, rank, s


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    if not _any_traced(A, tol, rtol):
        return np.linalg.matrix_rank(A, tol, hermitian, rtol=rtol)
    A = _tr(A)
    if A.ndim < 2:
        nonzero = sem.reduce("reduce_any", sem.ufunc("not_equal", A, 0))
        return sem.wrap(sem.as_value(nonzero, np.int64), weak=True)  # NumPy's `int(not all(A == 0))`: a Python int
    A = _real(A, "matrix_rank", bool(hermitian))
    s = sem.ufunc("absolute", _emit("eigvalsh", A)) if hermitian else _emit("svdvals", A)
    if tol is None:
        if rtol is None:
            rtol = max(A.shape[-2:]) * np.finfo(s.dtype).eps
        else:
            rtol = sem.astype(_tr(rtol), s.dtype)
        top = sem.reduce("reduce_max", s, -1, keepdims=True) if s.shape[-1] else sem.full(s.shape[:-1] + (1,), 0,
                                                                                          s.dtype)
        tol = sem.ufunc("multiply", top, rtol)
    else:
        tol = sem.astype(_tr(tol), s.dtype)
        if tol.ndim:
            tol = sem.reshape(tol, tuple(tol.shape) + (1,))
    return sem.reduce("reduce_sum", sem.astype(sem.ufunc("greater", s, tol), np.int64), -1)


def _complex_results(name: str):
    def refuse(a, *args, **kwargs):
        if not _any_traced(a):
            return getattr(np.linalg, name)(a, *args, **kwargs)
        raise UnsupportedError(f"np.linalg.{name} is not supported: its results are complex for real input",
                               ctx.current_loc(), "for a symmetric matrix use np.linalg.eigh / eigvalsh; "
                               "else call it outside the compiled function")

    return refuse


def singular_values(x: Tracer) -> Tracer:
    """The singular values of x's matrices (the last two axes), for np.linalg.norm."""
    return _emit("svdvals", _real(x, "norm"))


TABLE: dict[str, Any] = {"solve": solve, "inv": inv, "det": det, "cholesky": cholesky, "slogdet": slogdet,
                         "eigh": eigh, "eigvalsh": eigvalsh, "svd": svd, "svdvals": svdvals, "qr": qr,
                         "pinv": pinv, "lstsq": lstsq, "matrix_rank": matrix_rank,
                         "eig": _complex_results("eig"), "eigvals": _complex_results("eigvals")}
