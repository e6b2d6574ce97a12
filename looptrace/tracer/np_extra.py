"""More of the NumPy surface under tracing: compositions of `semantics`
operations for functions kernels use that the other np_* modules do not
cover: take, pad, diag/diagflat, trapezoid, gradient, cross, polyval, vander,
kron, select, heaviside, sinc, float_power, ldexp, modf, divmod, rot90,
fliplr/flipud, the split family, dstack, block, append, insert, delete,
cumulative_sum/prod, linalg.matrix_power, unravel_index, ravel_multi_index,
isin, searchsorted, digitize and interp; np.pad's modes but 'empty'.

Invariant: compositions only (no primitives of their own); results, dtypes,
shapes and errors are NumPy's for the arguments looptrace supports, and
anything else raises UnsupportedError naming the argument. Counts, widths and
positions that decide a shape go through `_static_int`, so an int argument
they come from is specialized on. Without a traced argument each function is
NumPy's own.
"""
from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from looptrace.errors import UnsupportedError
from looptrace.ops import get as prim

from . import context as ctx
from . import np_arrays as na
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, is_tracer

_tr, _any_traced = nx._tr, nx._any_traced
_static_int, _moveaxis, _along, iota = na._static_int, na._moveaxis, na._along, na.iota


# --- helpers ------------------------------------------------------------------------------------------
def _unsupported(what: str, hint: str = "") -> UnsupportedError:
    return UnsupportedError(what, ctx.current_loc(), hint)


def _strong(x: Any) -> Tracer:
    """np.asarray(x) of a traced or concrete value: Python scalars lose their weak type."""
    t = _tr(x)
    return sem.wrap(t.value) if t.weak else t


def _axis_of(axis: Any, ndim: int, name: str) -> int:
    a = _static_int(axis, f"{name}'s axis")
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim


def _static_ints(x: Any, what: str) -> Any:
    """Nested lists/tuples of ints (traced ints specialized on) as plain ints."""
    if isinstance(x, (list, tuple)):
        return [_static_ints(e, what) for e in x]
    return _static_int(x, what) if is_tracer(x) else x


def _gather(a: Tracer, idx: Any, axis: int) -> Tracer:
    """a[..., idx, ...] on `axis`; idx a traced or a NumPy integer array (negatives count from the end)."""
    if np.ndim(idx) == 0 if not is_tracer(idx) else idx.ndim == 0:
        # one position: a 1-element index, then the axis dropped (the form the cpu backend fuses)
        one = _gather(a, sem.reshape(idx, (1,)) if is_tracer(idx) else np.reshape(idx, (1,)), axis)
        return sem.reshape(one, a.shape[:axis] + a.shape[axis + 1:])
    v = sem.as_value(idx, np.int64) if is_tracer(idx) else ctx.own_const(idx, np.int64)
    return sem.wrap(ctx.emit1(prim("gather"), [a.value, v], axis=axis))


def _shape_with(shape: tuple, axis: int, n: int) -> tuple:
    return tuple(shape[:axis]) + (n,) + tuple(shape[axis + 1:])


def _resolve(uf: np.ufunc, *args: Any) -> tuple:
    """The loop dtypes NumPy picks for ufunc `uf` on these operands (NEP 50)."""
    types = tuple(sem.dtype_for_promotion(x) for x in args)
    if all(isinstance(t, type) for t in types):
        types = tuple(np.dtype(t) for t in types)
    return uf.resolve_dtypes(types + (None,) * uf.nout)


def _u(name: str, *args: Any) -> Tracer:
    return sem.ufunc(name, *args)


# --- take -------------------------------------------------------------------------------------------
def take(a, indices, axis=None, out=None, mode="raise"):
    nx._no_out(out)
    if not _any_traced(a, indices, axis):
        return np.take(a, indices, axis=axis, mode=mode)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    a = _strong(a)
    if axis is None:
        a, axis = sem.reshape(a, (-1,)), 0
    axis = _axis_of(axis, a.ndim, "np.take")
    n = a.shape[axis]
    idx = _tr(indices) if _any_traced(indices) else np.asarray(indices)
    if idx.dtype.kind not in "biu":  # (uint64 is cast as NumPy does, same_kind: past 2**63 it wraps negative)
        raise TypeError(f"Cannot cast array data from {idx.dtype!r} to dtype('int64') according to the rule "
                        "'same_kind'")
    size = int(np.prod(idx.shape))
    if n == 0 and size:
        raise IndexError("cannot do a non-empty take from an empty axes.")
    if not is_tracer(idx):
        idx = idx.astype(np.int64)
        if mode == "raise" and size and (idx.min() < -n or idx.max() >= n):
            bad = idx[(idx < -n) | (idx >= n)].flat[0]
            raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {n}")
        idx = idx % max(n, 1) if mode == "wrap" else np.clip(idx, 0, n - 1) if mode == "clip" else idx
    elif mode == "wrap":
        idx = _u("remainder", sem.astype(idx, np.int64), n)
    elif mode == "clip":
        idx = _u("minimum", _u("maximum", sem.astype(idx, np.int64), 0), n - 1)
    return _gather(a, idx, axis)


# --- pad --------------------------------------------------------------------------------------------
_PAD_KEYWORDS = {"constant": {"constant_values"}, "edge": set(), "wrap": set(),
                 "reflect": {"reflect_type"}, "symmetric": {"reflect_type"}, "linear_ramp": {"end_values"},
                 "maximum": {"stat_length"}, "mean": {"stat_length"}, "median": {"stat_length"},
                 "minimum": {"stat_length"}}
_PAD_OTHER = ("empty",)  # its values are whatever memory held: nothing to match


def pad(array, pad_width, mode="constant", **kwargs):
    if not _any_traced(array, pad_width, *kwargs.values()):
        return np.pad(array, pad_width, mode, **kwargs)
    if callable(mode) or mode in _PAD_OTHER:
        raise _unsupported(f"np.pad with mode={getattr(mode, '__name__', mode)!r} is not supported on traced "
                           "values", "the modes supported are " + ", ".join(map(repr, _PAD_KEYWORDS)))
    if mode not in _PAD_KEYWORDS:
        raise ValueError(f"mode '{mode}' is not supported")
    unknown = set(kwargs) - _PAD_KEYWORDS[mode]
    if unknown:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': {unknown}")
    if kwargs.get("reflect_type", "even") != "even":
        raise _unsupported("np.pad with reflect_type='odd' is not supported on traced values")
    a = _strong(array)
    widths = _pad_pairs(pad_width, a.ndim)
    if mode == "constant":  # each stored as NumPy's `padded[...] = value` stores it, width 0 too
        values = [tuple(na.assigned(v, a.dtype) for v in p)
                  for p in _value_pairs(kwargs.get("constant_values", 0), a.ndim)]
    elif mode == "linear_ramp":
        values = [tuple(_strong(v) for v in p) for p in _value_pairs(kwargs.get("end_values", 0), a.ndim)]
    elif mode in _PAD_STATS:
        length = kwargs.get("stat_length")
        lengths = [(None, None)] * a.ndim if length is None else _pad_pairs(length, a.ndim)
    for axis, (before, after) in enumerate(widths):
        if before == after == 0:
            continue
        if mode == "constant":
            a = _pad_constant(a, axis, before, after, values[axis])
            continue
        n = a.shape[axis]
        if n == 0:
            raise ValueError(f"can't extend empty axis {axis} using modes other than 'constant' or 'empty'")
        if mode == "linear_ramp":
            a = _pad_ramps(a, axis, before, after, values[axis])
        elif mode in _PAD_STATS:
            a = _pad_stats(a, axis, before, after, lengths[axis], mode)
        else:
            a = _gather(a, _pad_index(mode, n, before, after), axis)
    return a if any(w != (0, 0) for w in widths) else sem.wrap(a.value)


def _pad_pairs(width: Any, ndim: int) -> list[tuple[int, int]]:
    """NumPy's spellings of pad_width (n, (before, after), per-axis pairs) as one pair per axis."""
    w = np.asarray(_static_ints(width, "np.pad's pad_width"))
    if w.dtype.kind != "i":
        raise TypeError("`pad_width` must be of integral type.")
    if w.ndim < 3 and w.size == 1:
        pairs = [(int(w.ravel()[0]),) * 2] * ndim
    elif w.ndim < 3 and w.size == 2 and w.shape != (2, 1):
        pairs = [tuple(int(v) for v in w.ravel())] * ndim
    else:
        pairs = [tuple(p) for p in np.broadcast_to(w, (ndim, 2)).tolist()]
    if any(v < 0 for p in pairs for v in p):
        raise ValueError("index can't contain negative values")
    return pairs


def _value_pairs(values: Any, ndim: int) -> list[tuple[Tracer, Tracer]]:
    """constant_values (a scalar, a pair, or per-axis pairs; traced or not) as one pair per axis."""
    c = _strong(values)  # (NumPy scalars: np.asarray(values)'s elements)
    if c.ndim < 3 and c.size == 1:
        v = sem.reshape(c, ())
        return [(v, v)] * ndim
    if c.ndim < 3 and c.size == 2 and c.shape != (2, 1):
        f = sem.reshape(c, (2,))
        return [(f[0], f[1])] * ndim
    np.broadcast_shapes(c.shape, (ndim, 2))  # NumPy's ValueError when they do not fit
    c = sem.broadcast_to(c, (ndim, 2))
    weak = c.dtype in (np.int64, np.float64, np.complex128)  # NumPy's .tolist() here: Python numbers, not NumPy scalars
    return [tuple(sem.wrap(c[i, k].value, weak=weak) for k in (0, 1)) for i in range(ndim)]


def _pad_constant(a: Tracer, axis: int, before: int, after: int, pair) -> Tracer:
    """Blocks of the constant around `a` on `axis` (later axes' blocks cover the corners, as NumPy's)."""
    parts = [sem.broadcast_to(sem.astype(pair[0], a.dtype), _shape_with(a.shape, axis, before))] if before else []
    parts.append(a)
    if after:
        parts.append(sem.broadcast_to(sem.astype(pair[1], a.dtype), _shape_with(a.shape, axis, after)))
    return sem.concatenate(parts, axis)


def _pad_ramps(a: Tracer, axis: int, before: int, after: int, ends) -> Tracer:
    """NumPy's linear_ramp: linspace(end value, edge, width, endpoint=False) in
    a's dtype on each side (floored for integers), the right one reversed."""
    def ramp(end: Tracer, edge_at: int, width: int) -> Tracer:
        edge = _gather(a, edge_at, axis)
        return na.linspace(end, edge, width, endpoint=False, dtype=a.dtype, axis=axis)

    parts = [ramp(ends[0], 0, before)] if before else []
    parts.append(a)
    if after:
        parts.append(nx.flip(ramp(ends[1], a.shape[axis] - 1, after), axis))
    return sem.concatenate(parts, axis)


_PAD_STATS = {"maximum": "max", "minimum": "min", "mean": "mean", "median": "median"}


def _pad_stats(a: Tracer, axis: int, before: int, after: int, lengths, mode: str) -> Tracer:
    """A statistic of the first (last) stat_length values on `axis`, rounded to
    an integer dtype, repeated over the pad on each side (NumPy's _get_stats)."""
    n = a.shape[axis]
    left, right = (n if k is None or k > n else k for k in lengths)
    if (left == 0 or right == 0) and mode in ("maximum", "minimum"):
        raise ValueError("stat_length of 0 yields no value for padding")

    def stat(lo: int, hi: int) -> Tracer:
        key = [slice(None)] * a.ndim
        key[axis] = slice(lo, hi)
        with warnings.catch_warnings():  # an empty mean is NaN, as NumPy's (with its warning)
            warnings.simplefilter("ignore", RuntimeWarning)
            v = nx.NAMESPACE[_PAD_STATS[mode]](a[tuple(key)], axis=axis, keepdims=True)
        if a.dtype.kind in "iu":
            v = _u("rint", v) if v.dtype.kind == "f" else v
        return sem.astype(v, a.dtype)

    first = stat(0, left)
    last = first if left == right == n else stat(n - right, n)
    parts = [sem.broadcast_to(first, _shape_with(a.shape, axis, before))] if before else []
    parts.append(a)
    if after:
        parts.append(sem.broadcast_to(last, _shape_with(a.shape, axis, after)))
    return sem.concatenate(parts, axis)


def _pad_index(mode: str, n: int, before: int, after: int) -> np.ndarray:
    """The source position of each padded position: edge clamps, wrap is periodic, reflect and
    symmetric mirror periodically (period 2(n-1) without the edge repeated, 2n with it)."""
    j = np.arange(-before, n + after)
    if mode == "edge":
        return np.clip(j, 0, n - 1)
    if mode == "wrap":
        return j % n
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(j)
        m = j % (2 * (n - 1))
        return np.where(m < n, m, 2 * (n - 1) - m)
    m = j % (2 * n)
    return np.where(m < n, m, 2 * n - 1 - m)


# --- diagonals ---------------------------------------------------------------------------------------
def diag(v, k=0):
    if not _any_traced(v, k):
        return np.diag(v, k)
    v = _strong(v)
    k = _static_int(k, "np.diag's k")
    if v.ndim == 1:
        return _diag_matrix(v, k)
    if v.ndim == 2:
        return _diagonal(v, k)
    raise ValueError("Input must be 1- or 2-d.")


def diagflat(v, k=0):
    if not _any_traced(v, k):
        return np.diagflat(v, k)
    return _diag_matrix(sem.reshape(_strong(v), (-1,)), _static_int(k, "np.diagflat's k"))


def _diag_matrix(v: Tracer, k: int) -> Tracer:
    """The (n + |k|)-square matrix with v on diagonal k: a select on column - row == k."""
    m = v.shape[0] + abs(k)
    if k:
        v = sem.concatenate([v, sem.full((abs(k),), 0, v.dtype)], 0)
    rows, cols = sem.reshape(iota(m), (m, 1)), sem.reshape(iota(m), (1, m))
    on = _u("equal", _u("subtract", cols, rows), k)
    return sem.select(on, sem.reshape(v, (m, 1) if k >= 0 else (1, m)), sem.full((), 0, v.dtype))


def _diagonal(a: Tracer, k: int) -> Tracer:
    """Diagonal k of a matrix: np.diagonal's gather (differentiable; an einsum
    'ii->i' is not)."""
    from .np_more import diagonal

    return diagonal(a, k)


# --- calculus: trapezoid, gradient ---------------------------------------------------------------------
def trapezoid(y, x=None, dx=1.0, axis=-1):
    if not _any_traced(y, x, dx, axis):
        return np.trapezoid(y, x, dx, axis)
    y = _strong(y)
    axis = _axis_of(axis, y.ndim, "np.trapezoid")
    if x is None:
        d = dx
    else:
        x = _strong(x)
        if x.ndim == 1:
            d = na.diff(x)
            d = sem.reshape(d, _shape_with((1,) * y.ndim, axis, d.shape[0]))
        else:
            d = na.diff(x, axis=axis)
    n = y.shape[axis]
    pairs = _u("add", _along(y, axis, 1, n), _along(y, axis, 0, max(n - 1, 0)))
    return sem.reduce("reduce_sum", _u("divide", _u("multiply", d, pairs), 2.0), axis)


def gradient(f, *varargs, axis=None, edge_order=1):
    if not _any_traced(f, *varargs, axis):
        return np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    f = _strong(f)
    axes = tuple(range(f.ndim)) if axis is None else tuple(
        _axis_of(ax, f.ndim, "np.gradient") for ax in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if len(set(axes)) != len(axes):
        raise ValueError("repeated axis")
    spacings = _spacings(f, axes, varargs)
    edge_order = _static_int(edge_order, "np.gradient's edge_order")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    if f.dtype.kind not in "fc":
        if f.dtype.kind == "b":
            raise _unsupported("np.gradient of a boolean array is not supported (NumPy cannot subtract booleans)")
        f = sem.astype(f, np.float64)
    outs = []
    for ax, (uniform, step, steps) in zip(axes, spacings):
        if f.shape[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at least "
                             "(edge_order + 1) elements are required.")
        if uniform is True:
            out = _gradient_axis(f, ax, step, True, edge_order)
        elif uniform is False:
            out = _gradient_axis(f, ax, steps, False, edge_order)
        else:  # traced coordinates: NumPy's own test, whether their steps are all equal, made at run time
            out = sem.select(uniform, _gradient_axis(f, ax, step, True, edge_order),
                             _gradient_axis(f, ax, steps, False, edge_order))
        outs.append(out)
    return outs[0] if len(axes) == 1 else tuple(outs)


def _spacings(f: Tracer, axes: tuple, varargs: tuple) -> list[tuple]:
    """(uniform, scalar step, steps) per axis, as NumPy reads *varargs; uniform is True, False,
    or a traced bool (traced coordinates whose steps may all be equal)."""
    n = len(varargs)
    if n == 0:
        return [(True, 1.0, None)] * len(axes)
    if n == 1 and np.ndim(varargs[0]) == 0:
        return [(True, varargs[0], None)] * len(axes)
    if n != len(axes):
        raise TypeError("invalid number of arguments")
    out = []
    for ax, dist in zip(axes, varargs):
        if np.ndim(dist) == 0:
            out.append((True, dist, None))
            continue
        if np.ndim(dist) != 1:
            raise ValueError("distances must be either scalars or 1d")
        if len(dist) != f.shape[ax]:
            raise ValueError("when 1d, distances must match the length of the corresponding dimension")
        if not _any_traced(dist):
            d = np.asanyarray(dist)
            d = np.diff(d.astype(np.float64) if np.issubdtype(d.dtype, np.integer) else d)
            out.append((True, d[0], None) if (d == d[0]).all() else (False, None, sem.wrap(ctx.own_const(d))))
            continue
        d = _strong(dist)
        d = na.diff(sem.astype(d, np.float64) if d.dtype.kind in "biu" else d)
        if d.shape[0] == 0:
            raise IndexError("index 0 is out of bounds for axis 0 with size 0")
        out.append((sem.reduce("reduce_all", _u("equal", d, d[0])), d[0], d))
    return out


def _gradient_axis(f: Tracer, axis: int, dx: Any, uniform: bool, edge_order: int) -> Tracer:
    """NumPy's second-order central differences inside and one-sided differences of `edge_order`
    at the ends, with NumPy's formulas term for term (so its rounding)."""
    n = f.shape[axis]

    def at(start, stop):
        return _along(f, axis, start, stop)

    f_lo, f_mid, f_hi = at(0, n - 2), at(1, n - 1), at(2, n)
    if uniform:
        inner = (f_hi - f_lo) / (2. * dx)
    else:
        dx1, dx2 = dx[0:-1], dx[1:]
        shape = _shape_with((1,) * f.ndim, axis, dx1.shape[0])
        a = sem.reshape(-dx2 / (dx1 * (dx1 + dx2)), shape)
        b = sem.reshape((dx2 - dx1) / (dx1 * dx2), shape)
        c = sem.reshape(dx1 / (dx2 * (dx1 + dx2)), shape)
        inner = a * f_lo + b * f_mid + c * f_hi
    if edge_order == 1:
        first = (at(1, 2) - at(0, 1)) / (dx if uniform else dx[0])
        last = (at(n - 1, n) - at(n - 2, n - 1)) / (dx if uniform else dx[-1])
    else:
        if uniform:
            a, b, c = -1.5 / dx, 2. / dx, -0.5 / dx
        else:
            dx1, dx2 = dx[0], dx[1]
            a = -(2. * dx1 + dx2) / (dx1 * (dx1 + dx2))
            b = (dx1 + dx2) / (dx1 * dx2)
            c = - dx1 / (dx2 * (dx1 + dx2))
        first = a * at(0, 1) + b * at(1, 2) + c * at(2, 3)
        if uniform:
            a, b, c = 0.5 / dx, -2. / dx, 1.5 / dx
        else:
            dx1, dx2 = dx[-2], dx[-1]
            a = dx2 / (dx1 * (dx1 + dx2))
            b = - (dx2 + dx1) / (dx1 * dx2)
            c = (2. * dx2 + dx1) / (dx2 * (dx1 + dx2))
        last = a * at(n - 3, n - 2) + b * at(n - 2, n - 1) + c * at(n - 1, n)
    return sem.concatenate([sem.astype(p, f.dtype) for p in (first, inner, last)], axis)


# --- products: cross, polyval, vander, kron ------------------------------------------------------------
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if not _any_traced(a, b):
        return np.cross(a, b, axisa, axisb, axisc, axis)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _strong(a), _strong(b)
    if a.ndim < 1 or b.ndim < 1:
        raise ValueError("At least one array has zero dimension")
    a = _moveaxis(a, _axis_of(axisa, a.ndim, "np.cross"), a.ndim - 1)
    b = _moveaxis(b, _axis_of(axisb, b.ndim, "np.cross"), b.ndim - 1)
    la, lb = a.shape[-1], b.shape[-1]
    if la not in (2, 3) or lb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")
    if la == 2 or lb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of 3-dimensional vectors "
                      "instead. (deprecated in NumPy 2.0)", DeprecationWarning, stacklevel=2)
    dtype = np.promote_types(a.dtype, b.dtype)
    if dtype.kind == "b":
        raise _unsupported("np.cross of boolean arrays is not supported (NumPy cannot subtract booleans)")
    a, b = sem.astype(a, dtype), sem.astype(b, dtype)
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    shape = np.broadcast_shapes(a0.shape, b0.shape)
    z = a0 * b1 - a1 * b0
    if la == 2 and lb == 2:
        return sem.broadcast_to(z, shape)
    if la == 2:
        b2 = b[..., 2]
        parts = [a1 * b2, -(a0 * b2), z]
    elif lb == 2:
        a2 = a[..., 2]
        parts = [-(a2 * b1), a2 * b0, z]
    else:
        a2, b2 = a[..., 2], b[..., 2]
        parts = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, z]
    cp = sem.stack([sem.broadcast_to(p, shape) for p in parts], len(shape))
    return _moveaxis(cp, len(shape), _axis_of(axisc, len(shape) + 1, "np.cross"))


def polyval(p, x):
    if not _any_traced(p, x):
        return np.polyval(p, x)
    p = _strong(p if _any_traced(p) else np.asarray(p))
    x = _strong(x)
    if p.ndim == 0:
        raise TypeError("iteration over a 0-d array")
    y = sem.full(x.shape, 0, x.dtype)
    for i in range(p.shape[0]):  # Horner's rule, NumPy's order of operations
        y = y * x + p[i]
    return y


VANDER_UNROLL = 32  # powers up to this many are a chain of products; beyond, one cumulative product


def vander(x, N=None, increasing=False):
    if not _any_traced(x, N):
        return np.vander(x, N, increasing)
    x = _strong(x)
    if x.ndim != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    n = x.shape[0]
    N = n if N is None else _static_int(N, "np.vander's N")
    if N < 0:
        raise ValueError("negative dimensions are not allowed")
    dtype = np.promote_types(x.dtype, np.int_)
    x = sem.astype(x, dtype)
    if N == 0:
        return sem.full((n, 0), 0, dtype)
    ones = sem.full((n, 1), 1, dtype)
    if N == 1:
        return ones
    if N - 1 > VANDER_UNROLL:
        powers = na.cumprod(sem.broadcast_to(sem.reshape(x, (n, 1)), (n, N - 1)), axis=1)
    else:
        cols, p = [x], x
        for _ in range(N - 2):
            p = p * x
            cols.append(p)
        powers = sem.stack(cols, 1)
    res = sem.concatenate([ones, powers], 1)
    return res if increasing else nx.flip(res, 1)


def kron(a, b):
    if not _any_traced(a, b):
        return np.kron(a, b)
    a, b = _strong(a), _strong(b)
    if a.ndim < b.ndim:
        a = sem.reshape(a, (1,) * (b.ndim - a.ndim) + a.shape)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    nd = max(a.ndim, b.ndim)
    sa, sb = (1,) * (nd - a.ndim) + a.shape, (1,) * (nd - b.ndim) + b.shape
    spread_a = sem.reshape(a, tuple(x for d in sa for x in (d, 1)))
    spread_b = sem.reshape(b, tuple(x for d in sb for x in (1, d)))
    return sem.reshape(spread_a * spread_b, tuple(p * q for p, q in zip(sa, sb)))


# --- elementwise: select, heaviside, sinc, float_power, ldexp, modf, divmod ------------------------------
def select(condlist, choicelist, default=0):
    if not _any_traced(condlist, choicelist, default):
        return np.select(condlist, choicelist, default)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ValueError("select with an empty condition list is not possible")

    def operand(c):  # NumPy keeps Python int/float/complex weak and makes arrays of the rest
        return c if is_tracer(c) or type(c) in (int, float, complex) else _strong(c)

    choices = [operand(c) for c in list(choicelist) + [default]]
    dtype = sem.result_type(*choices)
    conds = [_tr(c) for c in condlist]
    for i, c in enumerate(conds):
        if c.dtype != np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    shape = np.broadcast_shapes(np.broadcast_shapes(*(c.shape for c in conds)),
                                np.broadcast_shapes(*(c.shape if is_tracer(c) else () for c in choices)))
    res = sem.broadcast_to(sem.astype(choices[-1], dtype), shape)
    for cond, choice in zip(conds[::-1], choices[-2::-1]):
        res = sem.select(cond, sem.astype(choice, dtype), res)
    return res


def _ufunc_form(real: np.ufunc):
    """np.<ufunc>(x..., out=None, **kwargs) around a traced composition `impl(*x)`:
    NumPy's own call without a traced operand; out= and other keywords refused."""
    def wrap(impl):
        def call(*args, out=None, **kwargs):
            xs, rest = args[:real.nin], args[real.nin:]
            nx._no_out(rest[0] if rest else out)  # out may be given by position, as NumPy allows
            if not _any_traced(*xs):
                return real(*xs, **kwargs)
            if kwargs:
                raise _unsupported(f"np.{real.__name__} with {sorted(kwargs)} is not supported on traced values")
            return impl(*xs)

        call.__name__ = impl.__name__
        return call

    return wrap


@_ufunc_form(np.heaviside)
def heaviside(x1, x2):
    t1, t2, to = _resolve(np.heaviside, x1, x2)
    x, h = sem.astype(x1, t1), sem.astype(x2, t2)
    step = sem.select(_u("less", x, 0), sem.full((), 0, to), sem.full((), 1, to))
    res = sem.select(_u("equal", x, 0), sem.astype(h, to), step)
    return sem.select(_u("isnan", x), sem.astype(x, to), res)


def sinc(x):
    if not _any_traced(x):
        return np.sinc(x)
    x = np.pi * _strong(x)
    eps = np.finfo(x.dtype).eps if x.dtype.kind == "f" else 1e-20
    y = sem.select(_u("not_equal", x, 0), x, eps)
    return _u("sin", y) / y


@_ufunc_form(np.float_power)
def float_power(x1, x2):
    t1, t2, _ = _resolve(np.float_power, x1, x2)
    return _u("power", sem.astype(x1, t1), sem.astype(x2, t2))


@_ufunc_form(np.ldexp)
def ldexp(x1, x2):
    """x1 * 2**x2 rounded once: powers of two that stay exact, the last (the one that may leave the
    normal range downwards) applied last."""
    _, _, to = _resolve(np.ldexp, x1, x2)
    if to.itemsize > 8:
        raise _unsupported(f"np.ldexp of {to} values is not supported on traced values")
    x = sem.astype(x1, np.float64)
    e = sem.astype(x2, np.int64)
    if to != np.float64:  # float16/float32: exact in float64, then one rounding
        e = _u("minimum", _u("maximum", e, -400), 400)
        return sem.astype(x * _u("exp2", sem.astype(e, np.float64)), to)
    e = _u("minimum", _u("maximum", e, -2200), 2200)
    last = _u("minimum", _u("maximum", e, -60), 0)
    rest = e - last
    for _ in range(3):
        part = _u("minimum", _u("maximum", rest, -1000), 1000)
        x = x * _u("exp2", sem.astype(part, np.float64))
        rest = rest - part
    return x * _u("exp2", sem.astype(last, np.float64))


@_ufunc_form(np.modf)
def modf(x):
    t, _, _ = _resolve(np.modf, x)
    x = sem.astype(x, t)
    whole = _u("trunc", x)
    frac = sem.select(_u("isinf", x), sem.full((), 0, t), x - whole)
    return _u("copysign", frac, x), whole


@_ufunc_form(np.divmod)
def divmod_(x1, x2):
    return _u("floor_divide", x1, x2), _u("remainder", x1, x2)


# --- rearranging: rot90, flips, splits, stacks, block, append/insert/delete ---------------------------
def rot90(m, k=1, axes=(0, 1)):
    if not _any_traced(m, k):
        return np.rot90(m, k, axes)
    axes = tuple(_static_int(ax, "np.rot90's axes") for ax in axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    m = _strong(m)
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == m.ndim:
        raise ValueError("Axes must be different.")
    if not all(-m.ndim <= ax < m.ndim for ax in axes):
        raise ValueError(f"Axes={axes} out of range for array of ndim={m.ndim}.")
    k = _static_int(k, "np.rot90's k") % 4
    # views of m, as NumPy's: a write through a flip reaches m; one through a transpose is refused
    if k == 0:
        return nx.flip(m, ())
    if k == 2:
        return nx.flip(m, axes)
    perm = list(range(m.ndim))
    perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
    if k == 1:
        return nx.transpose(nx.flip(m, axes[1]), perm)
    return nx.flip(nx.transpose(m, perm), axes[1])


def fliplr(m):
    return _flip_one(m, 1, np.fliplr)


def flipud(m):
    return _flip_one(m, 0, np.flipud)


def _flip_one(m, axis: int, real):
    """m flipped on `axis`, which it must have (NumPy's error otherwise)."""
    if not _any_traced(m):
        return real(m)
    m = _strong(m)
    if m.ndim <= axis:
        raise ValueError(f"Input must be >= {axis + 1}-d.")
    return nx.flip(m, axis)


def split(ary, indices_or_sections, axis=0):
    if not _any_traced(ary, indices_or_sections, axis):
        return np.split(ary, indices_or_sections, axis)
    return _split(ary, indices_or_sections, axis, "np.split", equal=True)


def array_split(ary, indices_or_sections, axis=0):
    if not _any_traced(ary, indices_or_sections, axis):
        return np.array_split(ary, indices_or_sections, axis)
    return _split(ary, indices_or_sections, axis, "np.array_split", equal=False)


def hsplit(ary, indices_or_sections):
    if not _any_traced(ary, indices_or_sections):
        return np.hsplit(ary, indices_or_sections)
    if _tr(ary).ndim == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return _split(ary, indices_or_sections, 1 if _tr(ary).ndim > 1 else 0, "np.hsplit", equal=True)


def vsplit(ary, indices_or_sections):
    if not _any_traced(ary, indices_or_sections):
        return np.vsplit(ary, indices_or_sections)
    if _tr(ary).ndim < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return _split(ary, indices_or_sections, 0, "np.vsplit", equal=True)


def dsplit(ary, indices_or_sections):
    if not _any_traced(ary, indices_or_sections):
        return np.dsplit(ary, indices_or_sections)
    if _tr(ary).ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return _split(ary, indices_or_sections, 2, "np.dsplit", equal=True)


def _split(ary, sections, axis, name: str, equal: bool) -> list:
    """Pieces along `axis` between static split points (NumPy's slicing of each [start:stop])."""
    a = _tr(ary)
    axis = _axis_of(axis, a.ndim, name)
    n = a.shape[axis]
    if isinstance(sections, (list, tuple, np.ndarray)) or (is_tracer(sections) and sections.ndim):
        points = [_static_int(i, f"{name}'s split indices") for i in
                  (sections if not is_tracer(sections) else [sections])]
        bounds = [0] + points + [n]
    else:
        count = _static_int(sections, f"{name}'s number of sections")
        if count <= 0:
            raise ValueError("number sections must be larger than 0.")
        if equal and n % count:
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(n, count)
        bounds = np.cumsum([0] + extra * [each + 1] + (count - extra) * [each]).tolist()
    return [a[(slice(None),) * axis + (slice(bounds[i], bounds[i + 1]),)] for i in range(len(bounds) - 1)]


def dstack(tup):
    return nx._lifted_join(tup, "dstack")


def block(arrays):
    if not _any_traced(arrays):
        return np.block(arrays)
    depth = _block_depth(arrays, [])
    leaves = []
    _block_leaves(arrays, leaves)
    ndim = max([depth] + [x.ndim for x in leaves])
    # NumPy concatenates level by level (promoting at each); beyond its size threshold it
    # fills one array of the overall result type
    dtype = sem.result_type(*leaves) if depth * sum(x.size for x in leaves) > 2 * 512 * 512 else None

    def build(x, level):
        if isinstance(x, list):
            return sem.concatenate([build(e, level + 1) for e in x], level - depth)
        x = _strong(x) if dtype is None else sem.astype(x, dtype)
        return sem.reshape(x, (1,) * (ndim - x.ndim) + x.shape)

    res = build(arrays, 0)
    return res if depth else sem.wrap(res.value)


def _block_depth(x, index: list) -> int:
    if isinstance(x, tuple):
        raise TypeError(f"{'arrays' + ''.join(f'[{i}]' for i in index)} is a tuple. Only lists can be used "
                        "to arrange blocks, and np.block does not allow implicit conversion from tuple to "
                        "ndarray.")
    if not isinstance(x, list):
        return 0
    if not x:
        raise ValueError(f"List at {'arrays' + ''.join(f'[{i}]' for i in index)} cannot be empty")
    depths = [_block_depth(e, index + [i]) for i, e in enumerate(x)]
    if len(set(depths)) > 1:
        raise ValueError("List depths are mismatched. First element was at depth "
                         f"{depths[0] + len(index) + 1}, but there is an element at depth "
                         f"{next(d for d in depths if d != depths[0]) + len(index) + 1}")
    return depths[0] + 1


def _block_leaves(x, out: list) -> None:
    if isinstance(x, list):
        for e in x:
            _block_leaves(e, out)
    else:
        out.append(_strong(x))


def append(arr, values, axis=None):
    if not _any_traced(arr, values, axis):
        return np.append(arr, values, axis)
    arr, values = _strong(arr), _strong(values)
    if axis is None:
        return sem.concatenate([sem.reshape(arr, (-1,)), sem.reshape(values, (-1,))], 0)
    return sem.concatenate([arr, values], _static_int(axis, "np.append's axis"))


def _positions(obj: Any, name: str) -> Any:
    """insert/delete positions as static values: an int, a slice, or a NumPy array."""
    if isinstance(obj, slice):
        return slice(*(None if p is None else _static_int(p, f"{name}'s slice") for p in
                       (obj.start, obj.stop, obj.step)))
    if is_tracer(obj) and obj.ndim == 0:
        return _static_int(obj, f"{name}'s obj")
    if _any_traced(obj):
        return np.asarray(_static_ints(obj if not is_tracer(obj) else [obj], f"{name}'s obj"))
    return obj


def _flat_axis(arr: Tracer, axis: Any, name: str) -> tuple[Tracer, int]:
    if axis is None:
        return (arr if arr.ndim == 1 else sem.reshape(arr, (-1,))), 0
    return arr, _axis_of(axis, arr.ndim, name)


def _probe(n: int, axis: int, ndim: int) -> np.ndarray:
    """0..n-1 laid along `axis` of an ndim array: NumPy's insert/delete on it give the positions
    (and NumPy's errors, naming the right axis)."""
    return np.arange(n).reshape(_shape_with((1,) * ndim, axis, n))


def delete(arr, obj, axis=None):
    if not _any_traced(arr, obj, axis):
        return np.delete(arr, obj, axis)
    arr, axis = _flat_axis(_strong(arr), axis, "np.delete")
    obj = _positions(obj, "np.delete")
    keep = np.delete(_probe(arr.shape[axis], axis, arr.ndim), obj, axis).ravel()
    return _gather(arr, keep, axis)


def insert(arr, obj, values, axis=None):
    if not _any_traced(arr, obj, values, axis):
        return np.insert(arr, obj, values, axis)
    arr, axis = _flat_axis(_strong(arr), axis, "np.insert")
    obj = _positions(obj, "np.insert")
    n, nd = arr.shape[axis], arr.ndim
    values = na.converted(values, arr.dtype)
    if isinstance(obj, slice):
        where = np.arange(*obj.indices(n))
    else:
        where = np.asarray(obj)
        where = np.flatnonzero(where) if where.dtype == bool and where.ndim == 1 else where
    if where.size == 1:  # NumPy's one-position path: the values keep their own length on the axis
        index = int(where.item())
        if index < -n or index > n:
            raise IndexError(f"index {obj} is out of bounds for axis {axis} with size {n}")
        values = sem.reshape(values, (1,) * (nd - values.ndim) + values.shape)
        if where.ndim == 0:
            values = _moveaxis(values, 0, axis)
        count, obj = values.shape[axis], [index]
    else:
        count = where.size
    slot = _shape_with(arr.shape, axis, count)
    try:
        fits = np.broadcast_shapes(values.shape, slot) == slot
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"could not broadcast input array from shape {values.shape} into shape {slot}")
    marks = np.arange(n, n + count).reshape(_shape_with((1,) * nd, axis, count))
    order = np.insert(_probe(n, axis, nd), obj, marks, axis).ravel()  # NumPy's placement, and its errors
    return _gather(sem.concatenate([arr, sem.broadcast_to(values, slot)], axis), order, axis)


# --- scans ----------------------------------------------------------------------------------------------
def cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    nx._no_out(out)
    if not _any_traced(x):
        return np.cumulative_sum(x, axis=axis, dtype=dtype, include_initial=include_initial)
    return _cumulative(x, axis, dtype, include_initial, na.cumsum, 0)


def cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    nx._no_out(out)
    if not _any_traced(x):
        return np.cumulative_prod(x, axis=axis, dtype=dtype, include_initial=include_initial)
    return _cumulative(x, axis, dtype, include_initial, na.cumprod, 1)


def _cumulative(x, axis, dtype, include_initial: bool, scan, identity) -> Tracer:
    x = _strong(x)
    if x.ndim == 0:
        x = sem.reshape(x, (1,))
    if axis is None:
        if x.ndim >= 2:
            raise ValueError("For arrays which have more than one dimension ``axis`` argument is required.")
        axis = 0
    axis = _axis_of(axis, x.ndim, "np.cumulative_sum" if identity == 0 else "np.cumulative_prod")
    res = scan(x, axis=axis, dtype=dtype)
    if include_initial:
        res = sem.concatenate([sem.full(_shape_with(res.shape, axis, 1), identity, res.dtype), res], axis)
    return res


def matrix_power(a, n):
    if not _any_traced(a, n):
        return np.linalg.matrix_power(a, n)
    a = _strong(a)
    if a.ndim < 2:
        raise np.linalg.LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least two-dimensional")
    if a.shape[-1] != a.shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    if not is_tracer(n) and not isinstance(n, numbers.Integral):
        raise TypeError("exponent must be an integer")
    n = _static_int(n, "np.linalg.matrix_power's n")
    if n == 0:
        return sem.broadcast_to(sem.wrap(ctx.own_const(np.eye(a.shape[-1], dtype=a.dtype))), a.shape)
    if n < 0:
        a, n = nx.LINALG["inv"](a), -n
    result = power = None
    while n > 0:  # binary powers, from the lowest bit up (NumPy's order of products)
        power = a if power is None else sem.matmul(power, power)
        n, bit = divmod(n, 2)
        if bit:
            result = power if result is None else sem.matmul(result, power)
    return result if result is not a else sem.wrap(a.value)


# --- integer index arithmetic -----------------------------------------------------------------------------
def unravel_index(indices, shape, order="C"):
    if not _any_traced(indices, shape):
        return np.unravel_index(indices, shape, order)
    dims = [_static_int(d, "np.unravel_index's shape") for d in
            (shape if isinstance(shape, (tuple, list)) else [shape])]
    if order not in ("C", "F"):
        raise ValueError("only 'C' or 'F' order is permitted")
    idx = _tr(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"Cannot cast array data from {idx.dtype!r} to dtype('int64') according to the rule 'safe'")
    size = int(np.prod(dims))
    from .checks import emit_check

    idx = sem.astype(idx, np.int64)
    emit_check(_u("logical_or", _u("less", idx, 0), _u("greater_equal", idx, size)),
               ValueError(f"an index is out of bounds for array with size {size}"))
    out = [None] * len(dims)
    walk = range(len(dims) - 1, -1, -1) if order == "C" else range(len(dims))
    for k in walk:
        d = max(dims[k], 1)
        out[k] = _u("remainder", idx, d)
        idx = _u("floor_divide", idx, d)
    return tuple(out)


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    if not _any_traced(multi_index, dims):
        return np.ravel_multi_index(multi_index, dims, mode, order)
    dims = [_static_int(d, "np.ravel_multi_index's dims") for d in
            (dims if isinstance(dims, (tuple, list)) else [dims])]
    coords = [_tr(c) for c in multi_index] if isinstance(multi_index, (tuple, list)) else \
        [_tr(multi_index)[i] for i in range(_tr(multi_index).shape[0])]
    if len(coords) != len(dims):
        raise ValueError(f"parameter multi_index must be a sequence of length {len(dims)}")
    modes = list(mode) if isinstance(mode, (tuple, list)) else [mode] * len(dims)
    if len(modes) != len(dims) or any(m not in ("raise", "wrap", "clip") for m in modes):
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    if order not in ("C", "F"):
        raise ValueError("only 'C' or 'F' order is permitted")
    from .checks import emit_check

    strides = np.cumprod([1] + dims[::-1])[-2::-1] if order == "C" else np.cumprod([1] + dims)[:-1]
    total = None
    for c, d, m, s in zip(coords, dims, modes, strides):
        if c.dtype.kind not in "iu":
            raise TypeError("only int indices permitted")
        c = sem.astype(c, np.int64)
        if m == "raise":
            emit_check(_u("logical_or", _u("less", c, 0), _u("greater_equal", c, d)),
                       ValueError("invalid entry in coordinates array"))
        elif m == "wrap":
            c = _u("remainder", c, max(d, 1))
        else:
            c = _u("minimum", _u("maximum", c, 0), d - 1)
        term = c * int(s)
        total = term if total is None else total + term
    return total


# --- searching: searchsorted, digitize, isin, interp -----------------------------------------------------
def searchsorted(a, v, side="left", sorter=None):
    if not _any_traced(a, v, sorter):
        return np.searchsorted(a, v, side, sorter)
    return _searchsorted(_strong(a), v, side, sorter)


def _searchsorted(a: Tracer, v: Any, side: str, sorter=None) -> Tracer:
    """Insertion points of v in sorted a: one `searchsorted` op (ops/sort.py),
    a binary search per value in the kernel, O(m log n); NaNs come last, as
    NumPy's sort and search order them. a and v are cast to their common
    type first, as NumPy does; `sorter` gathers a into sorted order."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right' (got {side!r})")
    if a.ndim != 1:
        raise ValueError("object too deep for desired array" if a.ndim > 1 else
                         "object of too small depth for desired array")
    if sorter is not None:
        a = _gather(a, _tr(sorter) if _any_traced(sorter) else np.asarray(sorter), 0)
    v = _strong(v)  # NumPy finds the common type of a and v as arrays (a Python float is float64)
    dtype = sem.result_type(a, v)
    if dtype.kind == "c":
        raise _unsupported("np.searchsorted of complex values is not supported on traced values")
    n = a.shape[0]
    if n == 0 or v.size == 0:
        return sem.full(v.shape, 0, np.int64)
    a, v = sem.astype(a, dtype), sem.astype(v, dtype)
    return sem.wrap(ctx.emit1(prim("searchsorted"), [a.value, v.value], side=side))


def digitize(x, bins, right=False):
    if not _any_traced(x, bins):
        return np.digitize(x, bins, right)
    x = _strong(x)
    if x.dtype.kind == "c":
        raise TypeError("x may not be complex")
    side = "left" if right else "right"
    if not _any_traced(bins):  # NumPy's own check that they are monotonic, and their direction
        b = np.asarray(bins)
        np.digitize(np.zeros(0, x.dtype), b, right)
        if b.ndim == 1 and b.size > 1 and b[0] > b[-1]:
            return b.size - _searchsorted(_strong(b[::-1]), x, side)
        return _searchsorted(_strong(b), x, side)
    bins = _strong(bins)
    up = _searchsorted(bins, x, side)
    if bins.ndim != 1 or bins.shape[0] < 2:
        return up
    down = bins.shape[0] - _searchsorted(bins[::-1], x, side)
    return sem.select(_u("greater", bins[0], bins[-1]), down, up)  # decreasing bins: NumPy reverses them


def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    if not _any_traced(element, test_elements):
        return np.isin(element, test_elements, assume_unique=assume_unique, invert=invert, kind=kind)
    e = _strong(element)
    t = sem.reshape(_strong(test_elements if _any_traced(test_elements) else np.asarray(test_elements)), (-1,))
    if t.shape[0] <= ISIN_UNROLL:  # a few test values: one comparison each
        found = sem.full(e.shape, False, np.bool_)
        for i in range(t.shape[0]):
            found = _u("logical_or", found, _u("equal", e, t[i]))
    else:  # many: a search in the sorted test values
        dtype = sem.result_type(e, t)
        st = na.sort(sem.astype(t, dtype))
        pos = _u("minimum", _searchsorted(st, sem.astype(e, dtype), "left"), t.shape[0] - 1)
        found = _u("equal", _gather(st, pos, 0), e)
    return _u("logical_not", found) if invert else found


ISIN_UNROLL = 16


def interp(x, xp, fp, left=None, right=None, period=None):
    if not _any_traced(x, xp, fp, left, right, period):
        return np.interp(x, xp, fp, left, right, period)
    if period is not None:
        return _interp_periodic(x, xp, fp, period)
    fp = _strong(fp)
    if fp.dtype.kind == "c":
        raise _unsupported("np.interp of complex fp is not supported on traced values")
    x, xp, fp = interp_operands(x, xp, fp, np.float64)
    n = xp.shape[0]
    lval = fp[0] if left is None else sem.astype(left, np.float64)
    rval = fp[n - 1] if right is None else sem.astype(right, np.float64)
    return interp_values(x, xp, fp, lval, rval)


def interp_operands(x, xp, fp, fp_dtype) -> tuple[Tracer, Tracer, Tracer]:
    """x and xp as float64 and fp as fp_dtype, with NumPy's errors for samples
    that are not two 1-d arrays of one non-zero length."""
    x, xp, fp = sem.astype(_strong(x), np.float64), sem.astype(_strong(xp), np.float64), \
        sem.astype(_strong(fp), fp_dtype)
    if xp.ndim != 1 or fp.ndim != 1:
        raise ValueError("object too deep for desired array" if max(xp.ndim, fp.ndim) > 1 else
                         "object of too small depth for desired array")
    n = xp.shape[0]
    if n == 0:
        raise ValueError("array of sample points is empty")
    if fp.shape[0] != n:
        raise ValueError("fp and xp are not of the same length.")
    return x, xp, fp


def interp_values(x, xp, fp, lval, rval, part: str | None = None) -> Tracer:
    """NumPy's np.interp of float64 points x in samples (xp, fp), left and
    right values lval and rval. part="real"/"imag": fp is that part of
    complex samples, interpolated as NumPy's complex loop does (the slope is
    the step of fp times the reciprocal of the step of xp, not a quotient; a
    NaN point gives NaN + 0j)."""
    n = xp.shape[0]
    if n == 1:  # NumPy's one-point rule (a NaN x gives fp[0] here)
        return sem.select(_u("less", x, xp[0]), lval, sem.select(_u("greater", x, xp[0]), rval, fp[0]))
    j = _u("minimum", _u("maximum", _searchsorted(xp, x, "right") - 1, 0), n - 2)  # xp[j] <= x < xp[j+1]
    x0, x1, y0, y1 = _gather(xp, j, 0), _gather(xp, j + 1, 0), _gather(fp, j, 0), _gather(fp, j + 1, 0)
    if isinstance(n, (int, np.integer)) and _elements(x) >= n:
        # NumPy's own rule (lenxp <= lenx): the n - 1 slopes made once, read per point (the same
        # division, the same bits; 10^6 sorted points in 1000, one thread: 5.2 -> 4.1 ms, NumPy 3.1)
        slope = _gather(_slope(fp[1:] - fp[:-1], xp[1:] - xp[:-1], part), j, 0)
    else:
        slope = _slope(y1 - y0, x1 - x0, part)
    res = slope * (x - x0) + y0
    other = slope * (x - x1) + y1  # NumPy's second try where the first gives NaN
    other = sem.select(_u("logical_and", _u("isnan", other), _u("equal", y0, y1)), y0, other)
    res = sem.select(_u("isnan", res), other, res)
    res = sem.select(_u("equal", x0, x), _at_knot(x, x0, y0, slope), res)
    res = sem.select(_u("equal", x, xp[n - 1]), fp[n - 1], res)
    res = sem.select(_u("greater", x, xp[n - 1]), rval, sem.select(_u("less", x, xp[0]), lval, res))
    return sem.select(_u("isnan", x), 0.0 if part == "imag" else x, res)


def _at_knot(x, x0, y0, slope):
    """y0, NumPy's value at a sample point x == x0, written so that its derivative in x is the
    slope to the right (a one-sided derivative, as JAX's; a bare y0 gave 0): y0 plus a zero that
    keeps y0's sign (+0.0 - (+0.0) and -0.0 + (-0.0)); a NaN or infinite slope counts as 0."""
    s = sem.select(_u("isfinite", slope), slope, 0.0)
    return sem.select(_u("greater_equal", s, 0.0), y0 - s * (x0 - x), y0 + s * (x - x0))


def _slope(dy, dx, part: str | None):
    """dy / dx, or for a part of complex samples dy * (1.0 / dx) (NumPy's complex rule)."""
    return dy / dx if part is None else dy * (1.0 / dx)


def _elements(x) -> int:
    """x's element count, 0 where a dimension is not a number."""
    return int(np.prod(x.shape)) if all(isinstance(d, (int, np.integer)) for d in x.shape) else 0


def _interp_periodic(x, xp, fp, period, part: str | None = None):
    """NumPy's periodic interpolation: x and xp taken modulo |period|, the
    points sorted by their positions in the period, one copy of the last
    point before the first and of the first after the last, then the plain
    rule (left and right do not apply). part: as `interp_values`, fp one part
    of complex samples."""
    if is_tracer(period):
        raise _unsupported("np.interp: a traced period is not supported", "pass the period as a number")
    if period == 0:
        raise ValueError("period must be a non-zero value")
    period = abs(period)
    fp = _strong(fp)
    if fp.dtype.kind == "c":
        raise _unsupported("np.interp of complex fp is not supported on traced values")
    x, xp, fp = (sem.astype(_strong(v), np.float64) for v in (x, xp, fp))
    if xp.ndim != 1 or fp.ndim != 1:
        raise ValueError("Data points must be 1-D sequences")
    if xp.shape[0] != fp.shape[0]:
        raise ValueError("fp and xp are not of the same length")
    x, xp = _u("remainder", x, period), _u("remainder", xp, period)
    order = na.argsort(xp)
    xp, fp = _gather(xp, order, 0), _gather(fp, order, 0)
    xp = sem.concatenate([xp[-1:] - period, xp, xp[0:1] + period])
    fp = sem.concatenate([fp[-1:], fp, fp[0:1]])
    x, xp, fp = interp_operands(x, xp, fp, np.float64)
    return interp_values(x, xp, fp, fp[0], fp[xp.shape[0] - 1], part)


def lexsort(keys, axis=-1):
    """Indices that sort by the last key, ties by the one before it, and so
    on: a stable argsort by the first key, then by each next key in the
    order found so far (stable sorts compose into exactly NumPy's order)."""
    if not _any_traced(keys, axis):
        return np.lexsort(keys, axis=axis)
    if is_tracer(keys):
        keys = [keys[k] for k in range(keys.shape[0])] if keys.ndim > 1 else [keys]
    elif not isinstance(keys, (list, tuple)):
        raise _unsupported("np.lexsort: keys must be a sequence of arrays or a 2-D array")
    if len(keys) == 0:
        raise TypeError("need sequence of keys with len > 0 in lexsort")
    keys = [_strong(k) for k in keys]
    if any(tuple(k.shape) != tuple(keys[0].shape) for k in keys):
        raise ValueError("all keys need to be the same shape")
    if keys[0].ndim == 0:
        raise np.exceptions.AxisError(_static_int(axis, "np.lexsort's axis"), 0)
    axis = _axis_of(axis, keys[0].ndim, "np.lexsort")
    order = na.argsort(keys[0], axis=axis, kind="stable")
    for k in keys[1:]:
        order = na.take_along_axis(order, na.argsort(na.take_along_axis(k, order, axis), axis=axis,
                                                     kind="stable"), axis)
    return order


# --- np.fix, np.unwrap -------------------------------------------------------------------------------
def fix(x, out=None):
    """Round toward zero, as NumPy does it: ceil, then floor where x >= 0."""
    if not _any_traced(x):
        return np.fix(x, out=out)
    if out is not None:
        raise UnsupportedError("np.fix(..., out=) is not supported on traced values", ctx.current_loc(),
                               "assign the result instead")
    x = _strong(x)
    return sem.select(_u("greater_equal", x, 0), _u("floor", x), _u("ceil", x))


def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """NumPy's algorithm (numpy/lib/_function_base_impl.py) over traced values:
    the differences folded into [-period/2, period/2), the correction where a
    jump is at least `discont`, summed along the axis and added back."""
    if not _any_traced(p, discont, period):
        return np.unwrap(p, discont=discont, axis=axis, period=period)
    if sem.is_tracer(period):
        raise UnsupportedError("np.unwrap with a traced period is not supported", ctx.current_loc(),
                               "pass the period as a Python number")
    p = _strong(p)
    axis = na._axis(axis, p.ndim) if p.ndim else axis
    dd = na.diff(p, axis=axis)
    if discont is None:
        discont = period / 2
    dtype = np.result_type(dd.dtype, period)
    if np.issubdtype(dtype, np.integer):
        high, rem = divmod(period, 2)
        ambiguous = rem == 0
    else:
        high, ambiguous = period / 2, True
    low = -high
    ddmod = _u("add", _u("remainder", _u("subtract", dd, low), period), low)
    if ambiguous:
        edge = _u("logical_and", _u("equal", ddmod, low), _u("greater", dd, 0))
        ddmod = sem.select(edge, sem.astype(sem.full((), high, ddmod.dtype), ddmod.dtype), ddmod)
    correct = _u("subtract", ddmod, dd)
    correct = sem.select(_u("less", _u("absolute", dd), discont), sem.full((), 0, correct.dtype), correct)
    head = [slice(None)] * p.ndim
    head[axis] = slice(0, 1)
    tail = [slice(None)] * p.ndim
    tail[axis] = slice(1, None)
    up = sem.astype(p, dtype)
    rest = _u("add", p[tuple(tail)], na.cumsum(correct, axis=axis))
    return sem.concatenate([up[tuple(head)], sem.astype(rest, dtype)], axis)


TABLE: dict[str, Any] = {name: globals()[name] for name in (
    "take", "pad", "diag", "diagflat", "trapezoid", "gradient", "cross", "polyval", "vander", "kron",
    "select", "heaviside", "sinc", "float_power", "ldexp", "modf", "rot90", "fliplr", "flipud",
    "split", "array_split", "hsplit", "vsplit", "dsplit", "dstack", "block", "append", "insert", "delete",
    "cumulative_sum", "cumulative_prod", "unravel_index", "ravel_multi_index", "searchsorted", "digitize",
    "isin", "interp", "fix", "unwrap", "lexsort")}  # np.<name>
TABLE["divmod"] = divmod_
LINALG_TABLE: dict[str, Any] = {"matrix_power": matrix_power}  # np.linalg.<name>
