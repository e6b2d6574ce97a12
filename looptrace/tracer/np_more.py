"""More NumPy under tracing, found missing by tools/numpy_survey.py:
np.diagonal and np.trace with offset and axes (and their method forms),
the array-API names (np.matrix_transpose, np.vecdot, np.linalg.outer/
cross/matmul/trace/diagonal/vecdot/vector_norm/matrix_norm/
matrix_transpose), np.atleast_3d, the ufuncs np.logaddexp2, np.fabs and
np.signbit, np.ediff1d, np.polyder, np.polyint, np.i0 and
np.lib.stride_tricks.sliding_window_view.

Invariant: compositions only (no primitives of their own), so each is
batched and differentiated through its parts; results, dtypes, shapes and
errors are NumPy's for the arguments looptrace supports, counts and axes
are static (an int argument they come from is specialized on), and without
a traced argument each function is NumPy's own.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from . import np_extra as nxe
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer

_tr, _any_traced = nx._tr, nx._any_traced
_strong, _static_int, _axis_of, _u, _resolve = nxe._strong, nxe._static_int, nxe._axis_of, nxe._u, nxe._resolve


# --- diagonals and traces -------------------------------------------------------------------------------
def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal `offset` of the matrices on (axis1, axis2), last: NumPy's
    read-only view (it sees later writes to `a`; a write into it raises)."""
    if not _any_traced(a, offset, axis1, axis2):
        return np.diagonal(a, offset, axis1, axis2)
    a = _strong(a)
    if a.ndim < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    return nx.read_only(a, lambda b: _diagonal(b, offset, axis1, axis2))


def _diagonal(a, offset, axis1, axis2):
    if a.ndim < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    k = _static_int(offset, "np.diagonal's offset")
    ax1, ax2 = _axis_of(axis1, a.ndim, "np.diagonal"), _axis_of(axis2, a.ndim, "np.diagonal")
    if ax1 == ax2:
        raise ValueError("axis1 and axis2 cannot be the same")
    rest = [i for i in range(a.ndim) if i not in (ax1, ax2)]
    m = sem.transpose(a, rest + [ax1, ax2])
    r, c = m.shape[-2:]
    n = max(0, min(r, c - k)) if k >= 0 else max(0, min(r + k, c))
    row0, col0 = (0, k) if k >= 0 else (-k, 0)
    # a gather of the flattened matrices at (row0 + i) c + col0 + i (differentiable, unlike einsum 'ii->i')
    flat = sem.reshape(m, tuple(m.shape[:-2]) + (r * c,))
    return nxe._gather(flat, (np.arange(n) + row0) * c + col0 + np.arange(n), flat.ndim - 1)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    nx._no_out(out)
    if not _any_traced(a, offset, axis1, axis2):
        return np.trace(a, offset, axis1, axis2, dtype)
    return nx.sum_(_diagonal(_strong(a), offset, axis1, axis2), axis=-1, dtype=dtype)


def diagonal_method(self, offset=0, axis1=0, axis2=1):
    return diagonal(self, offset, axis1, axis2)


def trace_method(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return trace(self, offset, axis1, axis2, dtype, out)


# --- array-API names ----------------------------------------------------------------------------------
def matrix_transpose(x, /):
    if not _any_traced(x):
        return np.matrix_transpose(x)
    x = _tr(x)
    if x.ndim < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return nx.swapaxes(x, -1, -2)


def vecdot(x1, x2, /, *, axis=-1, out=None):
    """sum(conj(x1) * x2) over `axis` after broadcasting, as NumPy's gufunc."""
    nx._no_out(out)
    if not _any_traced(x1, x2, axis):
        return np.vecdot(x1, x2, axis=axis)
    a, b = _strong(x1), _strong(x2)
    nd = max(a.ndim, b.ndim)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("vecdot: Input operand does not have enough dimensions")
    ax = _axis_of(axis, nd, "np.vecdot")
    if a.dtype.kind == "c":
        a = nx.conjugate(a)
    prod = _u("multiply", a, b)
    return nx.sum_(prod, axis=ax)


def linalg_vecdot(x1, x2, /, *, axis=-1):
    return vecdot(x1, x2, axis=axis)


def linalg_outer(x1, x2, /):
    if not _any_traced(x1, x2):
        return np.linalg.outer(x1, x2)
    a, b = _tr(x1), _tr(x2)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"Input arrays must be one-dimensional, but they are x1.ndim={a.ndim} and x2.ndim={b.ndim}.")
    return nx.outer(a, b)


def linalg_cross(x1, x2, /, *, axis=-1):
    if not _any_traced(x1, x2, axis):
        return np.linalg.cross(x1, x2, axis=axis)
    a, b = _tr(x1), _tr(x2)
    if a.shape[axis] != 3 or b.shape[axis] != 3:
        raise ValueError(f"Both input arrays must be (arrays of) 3-dimensional vectors, but they are "
                         f"{a.shape[axis]} and {b.shape[axis]} dimensional instead.")
    return nxe.cross(a, b, axis=axis)


def linalg_matmul(x1, x2, /):
    return nx.matmul(x1, x2)


def linalg_trace(x, /, *, offset=0, dtype=None):
    if not _any_traced(x, offset):
        return np.linalg.trace(x, offset=offset, dtype=dtype)
    return trace(x, offset, -2, -1, dtype)


def linalg_diagonal(x, /, *, offset=0):
    if not _any_traced(x, offset):
        return np.linalg.diagonal(x, offset=offset)
    return diagonal(x, offset, -2, -1)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    if not _any_traced(x, axis):
        return np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    x = _tr(x)
    if axis is None:
        res = nx.norm(nx.ravel(x), ord)
        return sem.reshape(res, (1,) * x.ndim) if keepdims else res
    if isinstance(axis, tuple) and len(axis) > 1:  # NumPy: the axes moved last and flattened
        axes = tuple(_axis_of(a, x.ndim, "np.linalg.vector_norm") for a in axis)
        rest = [i for i in range(x.ndim) if i not in axes]
        flat = sem.reshape(sem.transpose(x, rest + list(axes)), tuple(x.shape[i] for i in rest) + (-1,))
        res = nx.norm(flat, ord, axis=-1)
        if keepdims:
            res = sem.reshape(res, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
        return res
    return nx.norm(x, ord, axis=axis, keepdims=keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    if not _any_traced(x):
        return np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)
    return nx.norm(x, ord, axis=(-2, -1), keepdims=keepdims)


def atleast_3d(*arys):
    if not _any_traced(*arys):
        return np.atleast_3d(*arys)
    res = []
    for a in arys:
        a = _tr(a)
        shape = {0: (1, 1, 1), 1: (1,) + tuple(a.shape) + (1,), 2: tuple(a.shape) + (1,)}.get(a.ndim, a.shape)
        res.append(nx.reshape(a, shape) if shape != a.shape else a)  # a view, as NumPy's
    return res[0] if len(res) == 1 else tuple(res)


# --- ufuncs as compositions -------------------------------------------------------------------------
LOG2E = 1.0 / np.log(2.0)


@nxe._ufunc_form(np.logaddexp2)
def logaddexp2(x1, x2):
    """NumPy's npy_logaddexp2: x + 1 where x == y, else max + log2(1 + 2**-|x - y|)
    (NaNs propagate); written with -|x - y| so no branch overflows (nor its gradient)."""
    t1, t2, to = _resolve(np.logaddexp2, x1, x2)
    x, y = sem.astype(x1, t1), sem.astype(x2, t2)
    d = _u("subtract", x, y)
    big = sem.select(_u("greater", d, 0), x, y)
    tail = _u("multiply", _u("log1p", _u("exp2", _u("negative", _u("absolute", d)))), LOG2E)
    # at a tie x + 1 written 0.5 x + 0.5 y + 1 (the same value: +1 absorbs a halved subnormal), so
    # the gradient splits (1/2, 1/2) as it does on either side of the tie (it gave (1, 0))
    even = _u("add", _u("add", _u("multiply", x, 0.5), _u("multiply", y, 0.5)), 1)
    res = sem.select(_u("equal", x, y), even, _u("add", big, tail))
    return sem.astype(res, to)


@nxe._ufunc_form(np.fabs)
def fabs(x):
    (t, to) = _resolve(np.fabs, x)
    return sem.astype(_u("absolute", sem.astype(x, t)), to)


@nxe._ufunc_form(np.signbit)
def signbit(x):
    """The sign bit (of -0.0 and of -nan too): copysign(1, x) < 0."""
    (t, _) = _resolve(np.signbit, x)
    x = sem.astype(x, t)
    return _u("less", _u("copysign", sem.full((), 1, t), x), 0)


# --- differences and polynomials -----------------------------------------------------------------
def ediff1d(ary, to_end=None, to_begin=None):
    if not _any_traced(ary, to_end, to_begin):
        return np.ediff1d(ary, to_end, to_begin)
    a = nx.ravel(_strong(ary))
    dtype = a.dtype
    d = _u("subtract", a[1:], a[:-1]) if a.shape[0] > 1 else sem.full((0,), 0, dtype)
    parts = []
    for extra, which in ((to_begin, "to_begin"), (to_end, "to_end")):
        if extra is None:
            parts.append(None)
            continue
        e = _strong(extra if _any_traced(extra) else np.asanyarray(extra))
        if not np.can_cast(e.dtype, dtype, casting="same_kind"):
            raise TypeError(f"dtype of `{which}` must be compatible with input `ary` under the `same_kind` rule.")
        parts.append(sem.astype(nx.ravel(e), dtype))
    begin, end = parts
    pieces = [p for p in (begin, sem.astype(d, dtype), end) if p is not None]
    return pieces[0] if len(pieces) == 1 else sem.concatenate(pieces, 0)


def polyder(p, m=1):
    if not _any_traced(p, m):
        return np.polyder(p, m)
    m = operator.index(_static_int(m, "np.polyder's m"))
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    p = _strong(p)
    for _ in range(m):
        n = p.shape[0] - 1
        p = _u("multiply", p[:-1], np.arange(n, 0, -1))
    return p


def polyint(p, m=1, k=None):
    if not _any_traced(p, m, k):
        return np.polyint(p, m, k)
    m = operator.index(_static_int(m, "np.polyint's m"))
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    if k is None:
        k = np.zeros(m, float)
    k = _tr(k) if _any_traced(k) else np.atleast_1d(k)
    if k.ndim == 0:
        k = sem.reshape(k, (1,))
    if k.shape[0] == 1 and m > 1:
        k = _u("multiply", k[0], np.ones(m, float))
    if k.shape[0] < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    p = _strong(p)
    for j in range(m):  # NumPy's: concatenate((p / arange(len(p), 0, -1), [k[j]])), promoting
        q = _u("divide", p, np.arange(p.shape[0], 0, -1))
        kj = sem.reshape(_strong(k[j] if _any_traced(k) else np.asarray(k[j:j + 1])), (1,))
        p = nx.concatenate([q, kj], 0)
    return p


# --- the modified Bessel function i0: NumPy's Chebyshev series (Cephes) -------------------------------
def i0(x):
    if not _any_traced(x):
        return np.i0(x)
    x = _strong(x)
    if x.dtype.kind == "c":
        raise TypeError("i0 not supported for complex values")
    if x.dtype.kind != "f":
        x = sem.astype(x, np.float64)
    from numpy.lib import _function_base_impl as fb

    x = _u("absolute", x)
    small = _u("less_equal", x, 8.0)
    # each series on inputs inside its own range, so the other branch (and its gradient) stays finite
    x1 = sem.select(small, x, sem.full((), 0, x.dtype))
    x2 = sem.select(small, sem.full((), 8, x.dtype), x)
    y1 = _u("exp", x1) * _chbevl(x1 / 2.0 - 2, fb._i0A)
    y2 = _u("exp", x2) * _chbevl(32.0 / x2 - 2.0, fb._i0B) / _u("sqrt", x2)
    return sem.select(small, y1, y2)


def _chbevl(x: Tracer, vals) -> Tracer:
    b0, b1, b2 = vals[0], 0.0, 0.0
    for v in vals[1:]:
        b2, b1 = b1, b0
        b0 = x * b1 - b2 + v
    return 0.5 * (b0 - b2)


# --- sliding windows ------------------------------------------------------------------------------
def sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    """Every window of `window_shape` along `axis` (a copy of NumPy's strided
    view: a gather of positions start + offset)."""
    if not _any_traced(x, window_shape, axis):
        return np.lib.stride_tricks.sliding_window_view(x, window_shape, axis, subok=subok, writeable=writeable)
    if writeable:
        from looptrace.errors import UnsupportedError
        from . import context as ctx

        raise UnsupportedError("sliding_window_view(..., writeable=True) is not supported", ctx.current_loc(),
                               "write into the array itself")
    x = _strong(x)
    shape = tuple(nxe._static_ints(list(window_shape), "sliding_window_view's window_shape")) \
        if np.iterable(window_shape) else (_static_int(window_shape, "sliding_window_view's window_shape"),)
    if any(w < 0 for w in shape):
        raise ValueError("`window_shape` cannot contain negative values")
    if axis is None:
        axes = tuple(range(x.ndim))
        if len(shape) != len(axes):
            raise ValueError(f"Since axis is `None`, must provide window_shape for all dimensions of `x`; "
                             f"got {len(shape)} window_shape elements and `x.ndim` is {x.ndim}.")
    else:
        axes = tuple(_axis_of(a, x.ndim, "sliding_window_view") for a in (axis if np.iterable(axis) else (axis,)))
        if len(shape) != len(axes):
            raise ValueError(f"Must provide matching length window_shape and axis; got {len(shape)} "
                             f"window_shape elements and {len(axes)} axes elements.")
    sizes = list(x.shape)
    for ax, w in zip(axes, shape):
        if sizes[ax] < w:
            raise ValueError("window shape cannot be larger than input array shape")
        sizes[ax] -= w - 1
    out = x
    for ax, w in zip(axes, shape):
        n = out.shape[ax] - w + 1
        idx = np.arange(n)[:, None] + np.arange(w)[None, :]
        out = nxe._gather(out, idx, ax)  # (..., n, w, ...): the window axis moves last
        out = nx.moveaxis(out, ax + 1, -1)
    return out


TABLE: dict[str, Any] = {
    "diagonal": diagonal, "trace": trace, "matrix_transpose": matrix_transpose, "vecdot": vecdot,
    "atleast_3d": atleast_3d, "logaddexp2": logaddexp2, "fabs": fabs, "signbit": signbit,
    "ediff1d": ediff1d, "polyder": polyder, "polyint": polyint, "i0": i0,
}
LINALG_TABLE: dict[str, Any] = {
    "outer": linalg_outer, "cross": linalg_cross, "matmul": linalg_matmul, "trace": linalg_trace,
    "diagonal": linalg_diagonal, "vecdot": linalg_vecdot, "vector_norm": vector_norm,
    "matrix_norm": matrix_norm, "matrix_transpose": matrix_transpose,
}
LIB_TABLE: dict[str, Any] = {"sliding_window_view": sliding_window_view}
