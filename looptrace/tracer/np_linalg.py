"""np.linalg.solve, inv, det and cholesky under tracing, over the primitives of
ops/decomp.py.

Invariant: shapes and dtypes are NumPy 2's: integer and boolean operands
compute in float64, float16 is refused; solve broadcasts the batch axes of
its operands, and its right-hand side is a vector exactly when it is 1-d
(it becomes one column and back). Without a traced argument each function
is NumPy's own.
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
        raise ShapeError(f"np.linalg.{name}: {a.ndim}-dimensional array given. Array must be at least "
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


TABLE: dict[str, Any] = {"solve": solve, "inv": inv, "det": det, "cholesky": cholesky}
