"""Statistics under tracing: np.average, median, percentile, quantile and the
np.nan* reductions (nansum ... nanquantile).

Invariant: compositions only (reductions with a fill for NaN, the `sort`
primitive for order statistics). Quantiles follow NumPy's own algorithm:
for a static `q` the virtual indices, neighbours and interpolation weights
are computed by NumPy's helpers at trace time, so only the sort and two
gathers run; dtypes and NaN propagation are NumPy's.

Where NumPy raises on data (np.average with weights summing to zero,
np.nanargmax of an all-NaN lane, np.histogram of non-finite data), a run-time
check (tracer/checks.py) raises NumPy's exception.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib import _function_base_impl as _fb

from looptrace.errors import UnsupportedError
from looptrace.ops import get as prim

from . import context as ctx
from . import semantics as sem
from . import numpy_api as nx
from .array import Tracer, is_tracer
from .external import concrete_if_outside
from .np_arrays import gather_lanes

_tr, _any_traced, _NO = nx._tr, nx._any_traced, np._NoValue


def _isnan(a: Tracer) -> Tracer:
    return sem.ufunc("isnan", a)


def _fill_nan(a: Tracer, fill) -> Tracer:
    return sem.select(_isnan(a), sem.astype(sem.full((), fill, a.dtype), a.dtype), a)


def _inexact(a: Tracer) -> bool:
    return a.dtype.kind in "fc"


# --- np.average ---------------------------------------------------------------------------------------
def average(a, axis=None, weights=None, returned=False, *, keepdims=_NO):
    if not _any_traced(a, weights):
        kw = {} if keepdims is _NO else {"keepdims": keepdims}
        return np.average(a, axis=axis, weights=weights, returned=returned, **kw)
    a = _tr(a)
    keep = bool(keepdims) if keepdims is not _NO else False
    if weights is None:
        avg = nx.mean(a, axis, keepdims=keep)
        scl = sem.full((), a.size // max(avg.size, 1), avg.dtype)
    else:
        w = _weights_like(a, _tr(weights), axis)
        dt = np.result_type(a.dtype, w.dtype, np.float64) if a.dtype.kind in "biu" else \
            np.result_type(a.dtype, w.dtype)
        scl = nx._reduce("reduce_sum", sem.astype(w, dt), axis, keep, None, _NO, True)
        total = nx._reduce("reduce_sum", sem.ufunc("multiply", a, w, dtype=dt), axis, keep, None, _NO, True)
        from .checks import emit_check

        emit_check(sem.ufunc("equal", scl, 0.0), ZeroDivisionError("Weights sum to zero, can't be normalized"))
        avg = sem.ufunc("divide", total, scl)
    if not returned:
        return avg
    return avg, sem.wrap(sem.broadcast_to(scl, avg.shape).value)


def _weights_like(a: Tracer, w: Tracer, axis) -> Tracer:
    """NumPy's _weights_are_valid: the same shape as `a`, or 1-D along `axis`."""
    if w.shape == a.shape:
        return w
    if axis is None:
        raise TypeError("Axis must be specified when shapes of a and weights differ.")
    axes = sem.norm_axes(axis, a.ndim)
    if w.ndim != len(axes) or tuple(a.shape[i] for i in axes) != w.shape:
        raise ValueError("Shape of weights must be consistent with shape of a along specified axis.")
    shape = tuple(a.shape[i] if i in axes else 1 for i in range(a.ndim))
    return sem.reshape(w, shape)


# --- nan reductions -------------------------------------------------------------------------------------
def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NO, where=True):
    return _nan_fold("reduce_sum", 0, a, axis, dtype, out, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NO, where=True):
    return _nan_fold("reduce_prod", 1, a, axis, dtype, out, keepdims, initial, where)


def _nan_fold(name: str, fill, a, axis, dtype, out, keepdims, initial, where):
    nx._no_out(out)
    if not _any_traced(a, where, initial):
        return getattr(np, "nan" + name[7:])(a, axis=axis, dtype=dtype, keepdims=keepdims, initial=initial,
                                             where=where)
    a = _tr(a)
    a = _fill_nan(a, fill) if _inexact(a) else a
    return nx._reduce(name, a, axis, keepdims, dtype, initial, where)


def nanmax(a, axis=None, out=None, keepdims=False, initial=_NO, where=True):
    return _nan_extremum("reduce_max", -np.inf, a, axis, out, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=_NO, where=True):
    return _nan_extremum("reduce_min", np.inf, a, axis, out, keepdims, initial, where)


def _nan_extremum(name: str, fill, a, axis, out, keepdims, initial, where):
    """np.fmax/fmin.reduce: NaNs are skipped; an all-NaN lane gives NaN."""
    nx._no_out(out)
    if not _any_traced(a, where, initial):
        kw = {} if initial is _NO else {"initial": initial}
        return getattr(np, "nan" + name[7:])(a, axis=axis, keepdims=keepdims, where=where, **kw)
    a = _tr(a)
    if not _inexact(a):
        return nx._reduce(name, a, axis, keepdims, None, initial, where)
    res = nx._reduce(name, _fill_nan(a, fill), axis, keepdims, None, initial, where)
    if initial is not _NO and initial is not None:
        return res
    valid = sem.ufunc("logical_not", _isnan(a))
    if where is not True:
        valid = sem.ufunc("logical_and", valid, where)
    seen = sem.reduce("reduce_any", valid, axis, keepdims)
    return sem.select(seen, res, sem.astype(sem.full((), np.nan, res.dtype), res.dtype))


def nanargmax(a, axis=None, out=None, *, keepdims=False):
    return _nan_arg("argmax", -np.inf, a, axis, out, keepdims)


def nanargmin(a, axis=None, out=None, *, keepdims=False):
    return _nan_arg("argmin", np.inf, a, axis, out, keepdims)


def _nan_arg(name: str, fill, a, axis, out, keepdims):
    if not _any_traced(a):
        return getattr(np, "nan" + name)(a, axis=axis, keepdims=keepdims)
    a = _tr(a)
    if _inexact(a):  # NumPy's error for a lane of NaNs only, at run time
        from .checks import emit_check

        emit_check(sem.reduce("reduce_all", _isnan(a), axis), ValueError("All-NaN slice encountered"))
    return nx._arg_reduce(name, _fill_nan(a, fill) if _inexact(a) else a, axis, out, keepdims)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    nx._no_out(out)
    if not _any_traced(a, where):
        return np.nanmean(a, axis=axis, dtype=dtype, keepdims=keepdims, where=where)
    a = _tr(a)
    if not _inexact(a):
        return nx.mean(a, axis, dtype, keepdims=keepdims, where=where)
    total, count = _nan_total(a, axis, dtype, keepdims, where)
    return nx._divide_keeping_dtype(total, count)


def _nan_total(a: Tracer, axis, dtype, keepdims: bool, where):
    valid = sem.ufunc("logical_not", _isnan(a))
    total = nx._reduce("reduce_sum", _fill_nan(a, 0), axis, keepdims, dtype, _NO, where)
    count = nx._reduce("reduce_sum", sem.astype(valid, np.intp), axis, keepdims, None, _NO, where)
    return total, count


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=_NO,
           correction=_NO):
    nx._no_out(out)
    if not _any_traced(a, where, mean):
        kw = {k: v for k, v in (("mean", mean), ("correction", correction)) if v is not _NO}
        return np.nanvar(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where, **kw)
    if correction is not _NO:
        ddof = correction
    a = _tr(a)
    if not _inexact(a):
        return nx.var(a, axis, dtype, None, ddof, keepdims, where=where)
    total, count = _nan_total(a, axis, dtype, True, where)
    avg = _tr(mean) if mean is not _NO else nx._divide_keeping_dtype(total, count)
    sq = nx._reduce("reduce_sum", _nan_squares(a, avg), axis, keepdims, dtype, _NO, where)
    if not keepdims:
        count = sem.reshape(count, sq.shape)
    dof = sem.ufunc("subtract", count, ddof)
    res = nx._divide_keeping_dtype(sq, dof)
    return sem.select(sem.ufunc("less_equal", dof, 0), sem.astype(sem.full((), np.nan, res.dtype), res.dtype),
                      res)


def _nan_squares(a: Tracer, avg: Tracer) -> Tracer:
    """|a - avg|**2 of the deviations zeroed where `a` itself is NaN (NumPy's
    copyto(arr, 0, mask)): an inf - inf deviation stays NaN, as in NumPy. (Zeroed
    before squaring, so no NaN reaches the gradient through the product.)"""
    dev = sem.ufunc("subtract", a, avg)
    dev = sem.select(_isnan(a), sem.astype(sem.full((), 0, dev.dtype), dev.dtype), dev)
    return sem.ufunc("multiply", dev, dev) if dev.dtype.kind != "c" else \
        sem.ufunc("square", sem.ufunc("absolute", dev))


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=_NO,
           correction=_NO):
    if not _any_traced(a, where, mean):
        kw = {k: v for k, v in (("mean", mean), ("correction", correction)) if v is not _NO}
        return np.nanstd(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where, **kw)
    return sem.ufunc("sqrt", nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
                                    correction=correction))


# --- order statistics ---------------------------------------------------------------------------------------
def _lanes_last(a: Tracer, axis) -> tuple[Tracer, tuple[int, ...]]:
    """a with the reduced axes moved to the end and merged into one; the
    normalized axes (NumPy's _ureduce)."""
    axes = sem.norm_axes(axis, a.ndim)
    rest = [i for i in range(a.ndim) if i not in axes]
    moved = sem.transpose(a, rest + list(axes)) if rest + list(axes) != list(range(a.ndim)) else a
    lanes = tuple(a.shape[i] for i in rest)
    merged = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    return sem.reshape(moved, lanes + (merged,)), axes


def _keep(res: Tracer, a: Tracer, axes: tuple, lead: int = 0) -> Tracer:
    """keepdims: the reduced axes come back as 1s (after `lead` axes of q)."""
    shape = tuple(res.shape[:lead]) + tuple(1 if i in axes else d for i, d in enumerate(a.shape))
    return sem.reshape(res, shape)


def _sorted_last(x: Tracer) -> Tracer:
    return sem.wrap(ctx.emit1(prim("sort"), [x.value], axis=x.ndim - 1))


def _at(x: Tracer, k: int) -> Tracer:
    return x[..., k]


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    nx._no_out(out)
    if not _any_traced(a):
        return np.median(a, axis=axis, keepdims=keepdims)
    a = _real(a, "np.median")
    x, axes = _lanes_last(a, axis)
    n = x.shape[-1]
    if n == 0:
        res = nx.mean(x, -1)
    else:
        s = _sorted_last(x)
        mid = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
        res = nx.mean(nx.stack([_at(s, k) for k in mid], -1), -1)
        if _inexact(a):
            res = sem.select(_isnan(_at(s, n - 1)), sem.astype(_at(s, n - 1), res.dtype), res)
    return _keep(res, a, axes) if keepdims else res


def _real(a, name: str) -> Tracer:
    a = _tr(a)
    if a.dtype.kind == "c":
        raise TypeError("a must be an array of real numbers")
    return a


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
               weights=None, interpolation=None):
    if not _any_traced(a, q, weights) or _selection(a):
        return _plain(np.percentile, a, q, axis, out, method, keepdims, weights, interpolation,
                      overwrite_input=overwrite_input)
    return _quantile(a, _scaled(q, 100), axis, out, method, keepdims, weights, interpolation, sem.is_weak(q),
                     "np.percentile")


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
             weights=None, interpolation=None):
    if not _any_traced(a, q, weights) or _selection(a):
        return _plain(np.quantile, a, q, axis, out, method, keepdims, weights, interpolation,
                      overwrite_input=overwrite_input)
    return _quantile(a, _scaled(q, 1), axis, out, method, keepdims, weights, interpolation, sem.is_weak(q),
                     "np.quantile")


def _selection(a) -> bool:
    """x[mask] or a slice of varying length: its order statistics are
    selected_order.py's, reached through NumPy's dispatch (a traced q too)."""
    from .masked import is_selection

    return is_selection(a)


def _plain(fn, a, q, axis, out, method, keepdims, weights, interpolation, **more):
    """NumPy's own quantile function `fn` where nothing is traced (or `a` is a
    selection: its __array_function__); interpolation= only where given, as
    NumPy 2.4 no longer takes it (plain raises its TypeError)."""
    kw = {} if interpolation is None else {"interpolation": interpolation}
    if out is not None:
        kw["out"] = out
    return fn(a, q, axis=axis, method=method, keepdims=keepdims, weights=weights, **more, **kw)


def _scaled(q, by: int):
    q = concrete_if_outside(q)  # q read from outside picks the method's path: baked in, guarded
    if is_tracer(q):  # NumPy's check, at run time (a NaN q fails it, as in NumPy 2)
        from .checks import emit_check

        q = sem.ufunc("divide", q, by)
        outside = sem.ufunc("logical_not", sem.ufunc("logical_and", sem.ufunc("greater_equal", q, 0),
                                                     sem.ufunc("less_equal", q, 1)))
        emit_check(nx.NAMESPACE["any"](outside), ValueError("Percentiles must be in the range [0, 100]" if by == 100
                                                            else "Quantiles must be in the range [0, 1]"))
        return q
    q = np.true_divide(q, by)
    if not (np.all(q >= 0) and np.all(q <= 1)):
        raise ValueError("Percentiles must be in the range [0, 100]" if by == 100 else
                         "Quantiles must be in the range [0, 1]")
    return q


def _quantile(a, q, axis, out, method, keepdims, weights, interpolation, weak, name):
    nx._no_out(out)
    q = concrete_if_outside(q)  # q read from outside picks the method's path: baked in, guarded
    if weights is not None or interpolation is not None:
        raise UnsupportedError(f"{name} with weights= or interpolation= is not supported", ctx.current_loc())
    a = _real(a, name)
    x, axes = _lanes_last(a, axis)
    if x.shape[-1] == 0:  # NumPy reads the last of no elements: its IndexError, where the call runs
        from .checks import emit_check

        emit_check(True, IndexError("index -1 is out of bounds for axis 0 with size 0"))
        x = sem.full(tuple(x.shape[:-1]) + (1,), 0, x.dtype)  # (the shapes and dtypes that follow)
    s = _sorted_last(x)
    res = _traced_q(s, q, method, name, weak) if is_tracer(q) else _static_q(s, np.asarray(q), method, weak)
    q_nd = np.ndim(q) if not is_tracer(q) else q.ndim
    if q_nd:  # NumPy puts the axes of q first
        res = sem.transpose(res, list(range(res.ndim - q_nd, res.ndim)) + list(range(res.ndim - q_nd)))
    return _keep(res, a, axes, q_nd) if keepdims else res


def _static_q(s: Tracer, q: np.ndarray, method: str, weak: bool) -> Tracer:
    """Indices and weights from NumPy's own helpers; the lanes of s are sorted."""
    n = s.shape[-1]
    props = _fb._QuantileMethods.get(method)
    if props is None:
        raise ValueError(f"{method!r} is not a valid method. Use one of: {_fb._QuantileMethods.keys()}")
    virtual = np.asanyarray(props["get_virtual_index"](n, q))
    if props["fix_gamma"] is None or (method == "linear" and virtual.dtype.kind in "iu"):
        res = _take(s, virtual)
    else:
        probe = np.empty(0, s.dtype)
        prev, nxt = _fb._get_indexes(probe, virtual, n)
        gamma = _fb._get_gamma(virtual, prev, props)
        res = _lerp(_take(s, prev), _take(s, nxt), gamma if not weak else float(gamma))
    if _inexact(s):
        last = _at(s, n - 1)
        last = sem.reshape(last, last.shape + (1,) * q.ndim)
        res = sem.select(_isnan(last), sem.astype(last, res.dtype), res)
    return res


def _take(s: Tracer, idx: np.ndarray) -> Tracer:
    """s[..., idx] for static integer positions (q's shape last)."""
    return sem.wrap(ctx.emit1(prim("gather"), [s.value, ctx.own_const(idx, np.int64)],
                              axis=s.ndim - 1))


def _lerp(lo: Tracer, hi: Tracer, t) -> Tracer:
    """NumPy's _lerp: lo + (hi - lo) * t, and hi - (hi - lo) * (1 - t) where t >= 0.5."""
    diff = sem.ufunc("subtract", hi, lo)
    t_val = t if isinstance(t, float) else sem.wrap(ctx.own_const(t))  # (made here: no call checks it)
    low = sem.ufunc("add", lo, sem.ufunc("multiply", diff, t_val))
    high = sem.ufunc("subtract", hi, sem.ufunc("multiply", diff, sem.ufunc("subtract", 1, t_val)))
    high = sem.astype(high, low.dtype)
    if isinstance(t, float):
        return high if t >= 0.5 else low
    return sem.select(sem.wrap(ctx.own_const(np.asarray(t) >= 0.5)), high, low)


def _traced_q(s: Tracer, q: Tracer, method: str, name: str, weak: bool) -> Tracer:
    """method="linear" with q known only at run time: the neighbours are gathered."""
    if method != "linear":
        raise UnsupportedError(f"{name} with a traced q supports only method='linear'", ctx.current_loc(),
                               "pass q as a constant, or use method='linear'")
    n = s.shape[-1]
    count = sem.full(s.shape[:-1] + (1,) * q.ndim, n, np.int64)
    return _interpolate(s, sem.astype(q, sem.result_type(q, 1.0)), count, weak)


def _interpolate(s: Tracer, q: Tracer, count: Tracer, weak: bool) -> Tracer:
    """Linear quantiles of the first `count` elements of each sorted lane of s
    (q traced, or a count that differs per lane: the nan forms). A weak q (a
    Python number) interpolates in s's dtype, as NumPy does."""
    lanes = s.shape[:-1]
    qb = sem.reshape(q, (1,) * len(lanes) + q.shape)
    cnt = sem.astype(count, qb.dtype)
    virtual = sem.ufunc("multiply", sem.ufunc("subtract", cnt, 1), qb)
    prev = sem.ufunc("floor", virtual)
    top = sem.ufunc("subtract", cnt, 1)
    prev_i = sem.ufunc("maximum", sem.ufunc("minimum", prev, top), 0)
    above = sem.ufunc("greater_equal", virtual, top)
    prev_i = sem.select(above, top, prev_i)
    next_i = sem.select(above, top, sem.ufunc("minimum", sem.ufunc("add", prev_i, 1), top))
    gamma = sem.ufunc("subtract", virtual, prev)
    if weak and _inexact(s):
        gamma = sem.astype(gamma, s.dtype)
    flat = lanes + (int(np.prod(q.shape, dtype=np.int64)),)
    idx_lo = sem.reshape(sem.astype(sem.broadcast_to(prev_i, lanes + q.shape), np.int64), flat)
    idx_hi = sem.reshape(sem.astype(sem.broadcast_to(next_i, lanes + q.shape), np.int64), flat)
    lo = sem.reshape(gather_lanes(s, idx_lo, s.ndim - 1), lanes + q.shape)
    hi = sem.reshape(gather_lanes(s, idx_hi, s.ndim - 1), lanes + q.shape)
    diff = sem.ufunc("subtract", hi, lo)
    low = sem.ufunc("add", lo, sem.ufunc("multiply", diff, gamma))
    high = sem.ufunc("subtract", hi, sem.ufunc("multiply", diff, sem.ufunc("subtract", 1, gamma)))
    res = sem.select(sem.ufunc("greater_equal", gamma, 0.5), high, low)
    if _inexact(s):
        last = sem.reshape(gather_lanes(s, sem.reshape(sem.astype(sem.ufunc("maximum", top, 0), np.int64),
                                                       lanes + (1,)), s.ndim - 1),
                           lanes + (1,) * q.ndim)
        res = sem.select(_isnan(last), sem.astype(last, res.dtype), res)
    return res


# --- order statistics ignoring NaN ----------------------------------------------------------------------
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    nx._no_out(out)
    if not _any_traced(a):
        return np.nanmedian(a, axis=axis, keepdims=keepdims)
    a = _real(a, "np.nanmedian")
    if not _inexact(a):
        return median(a, axis, keepdims=keepdims)
    x, axes = _nan_padded(*_lanes_last(a, axis))
    s = _sorted_last(x)  # NaNs last: the first `count` elements of a lane are its numbers
    count = sem.reduce("reduce_sum", sem.astype(sem.ufunc("logical_not", _isnan(x)), np.int64), -1, True)
    lo = sem.ufunc("floor_divide", sem.ufunc("subtract", count, 1), 2)
    hi = sem.ufunc("floor_divide", count, 2)
    pick = [sem.reshape(gather_lanes(s, sem.ufunc("maximum", i, 0), s.ndim - 1), s.shape[:-1]) for i in (lo, hi)]
    res = nx.mean(nx.stack(pick, -1), -1)
    empty = sem.ufunc("equal", sem.reshape(count, s.shape[:-1]), 0)
    res = sem.select(empty, sem.astype(sem.full((), np.nan, res.dtype), res.dtype), res)
    return _keep(res, a, axes) if keepdims else res


def _nan_padded(x: Tracer, axes: tuple) -> tuple[Tracer, tuple]:
    """x (lanes last) with one NaN in each lane where the lanes are empty: the
    nan forms count no numbers there and give NaN, as NumPy's (and its
    RuntimeWarning, which a compiled call does not give)."""
    if x.shape[-1]:
        return x, axes
    return sem.full(tuple(x.shape[:-1]) + (1,), np.nan, x.dtype), axes


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                  weights=None, interpolation=None):
    if not _any_traced(a, q, weights) or _selection(a):
        return _plain(np.nanpercentile, a, q, axis, out, method, keepdims, weights, interpolation)
    return _nanquantile(a, _scaled(q, 100), axis, out, method, keepdims, weights, sem.is_weak(q),
                        "np.nanpercentile")


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                weights=None, interpolation=None):
    if not _any_traced(a, q, weights) or _selection(a):
        return _plain(np.nanquantile, a, q, axis, out, method, keepdims, weights, interpolation)
    return _nanquantile(a, _scaled(q, 1), axis, out, method, keepdims, weights, sem.is_weak(q),
                        "np.nanquantile")


def _nanquantile(a, q, axis, out, method, keepdims, weights, weak: bool, name: str):
    nx._no_out(out)
    from .np_reductions import NAN_METHODS, nan_quantile_by_method

    if weights is not None or method != "linear" and method not in NAN_METHODS:
        raise UnsupportedError(f"{name} supports the methods without weights only", ctx.current_loc())
    a = _real(a, name)
    if a.size == 0:  # NumPy: np.nanmean(a, axis, keepdims=keepdims), whatever q's shape
        x, axes = _lanes_last(a, axis)
        res = sem.full(tuple(x.shape[:-1]), np.nan, a.dtype if _inexact(a) else np.float64)
        return _keep(res, a, axes) if keepdims else res
    if not _inexact(a):
        return _quantile(a, q, axis, out, method, keepdims, weights, None, weak, name)
    x, axes = _lanes_last(a, axis)
    s = _sorted_last(x)
    q = _tr(q) if is_tracer(q) else sem.wrap(ctx.const_value(np.asarray(q, np.float64)))
    count = sem.reduce("reduce_sum", sem.astype(sem.ufunc("logical_not", _isnan(x)), np.int64), -1)
    count = sem.reshape(count, count.shape + (1,) * q.ndim)
    res = _interpolate(s, q, count, weak) if method == "linear" else nan_quantile_by_method(s, q, count, method, weak)
    res = sem.select(sem.ufunc("equal", count, 0), sem.astype(sem.full((), np.nan, res.dtype), res.dtype), res)
    if q.ndim:
        res = sem.transpose(res, list(range(res.ndim - q.ndim, res.ndim)) + list(range(res.ndim - q.ndim)))
    return _keep(res, a, axes, q.ndim) if keepdims else res


# --- histograms ---------------------------------------------------------------------------------------------
def histogram(a, bins=10, range=None, density=None, weights=None):
    """NumPy's equal-bins algorithm (the index from the scaled offset, then the
    one-ulp corrections against the edges), counted by one scatter-add."""
    if not _any_traced(a, range, weights):
        return np.histogram(a, bins=bins, range=range, density=density, weights=weights)
    bins = concrete_if_outside(bins)
    if is_tracer(bins) and bins.ndim == 0 and bins.dtype.kind in "iu":
        from .np_arrays import _static_int

        bins = _static_int(bins, "np.histogram's number of bins")  # an int argument: specialized on
    if is_tracer(bins) or np.ndim(bins) != 0 or isinstance(bins, str):
        raise UnsupportedError("np.histogram of traced data supports an integer number of bins", ctx.current_loc(),
                               "pass bins=<int> (with range=(lo, hi) for fixed edges)")
    nb = int(bins)
    if nb < 1:
        raise ValueError("`bins` must be positive, when an integer")
    a = sem.reshape(_tr(a), (-1,))
    if a.dtype.kind == "c":
        raise UnsupportedError("np.histogram of complex data is not supported", ctx.current_loc())
    first, last = _outer_edges(a, range)
    edges = nx.NAMESPACE["linspace"](first, last, nb + 1, dtype=_bin_type(first, last, a))
    x = sem.astype(a, edges.dtype)
    keep = sem.ufunc("logical_and", sem.ufunc("greater_equal", x, first), sem.ufunc("less_equal", x, last))
    scaled = sem.ufunc("multiply", sem.ufunc("divide", sem.ufunc("subtract", x, first),
                                             sem.ufunc("subtract", last, first)), nb)
    # NumPy's steps, each written so that integer ranges (ir/ranges.py) show the index stays in
    # bounds, which the reads of the edges and the counts' scatter then need no check for: for
    # a kept x the scaled offset is in [0, nb] (x - first <= last - first, rounding is monotone),
    # so the clip to it changes nothing and min(idx, nb - 1) is NumPy's `idx[idx == nb] -= 1`;
    # a kept x is never below edges[0] = first, so the decrement leaves idx >= 0; and the
    # increment is 0 at nb - 1.
    # With the checks, 10^6 values took 2.8 ms; numba.njit's np.histogram 0.6.
    idx = sem.astype(sem.select(keep, scaled, 0.0), _bin_dtype(nb))
    idx = sem.ufunc("minimum", sem.ufunc("maximum", idx, 0), nb - 1)
    idx = sem.ufunc("maximum", sem.ufunc("subtract", idx, sem.ufunc("less", x, _edge_at(edges, first, last, idx))), 0)
    inc = sem.ufunc("logical_and", sem.ufunc("greater_equal", x, _edge_at(edges, first, last, sem.ufunc("add", idx, 1))),
                    sem.ufunc("not_equal", idx, nb - 1))
    # An element not kept is counted in a bin past the last, cut off after: the scatter's loop
    # then reads only the index (and the weights), not the data again for the mask.
    idx = sem.select(keep, sem.ufunc("minimum", sem.ufunc("add", idx, inc), nb - 1), nb)
    w = sem.full(a.shape, 1, np.intp) if weights is None else sem.reshape(_tr(weights), (-1,))
    counts = sem.wrap(ctx.emit1(prim("scatter"), [sem.full((nb + 1,), 0, w.dtype).value, idx.value, w.value],
                                axis=0, mode="add"))[:nb]
    if density:
        widths = sem.astype(nx.NAMESPACE["diff"](edges), np.float64)
        counts = sem.ufunc("divide", sem.ufunc("divide", counts, widths), sem.reduce("reduce_sum", counts))
    return counts, edges


def _bin_dtype(nb: int) -> np.dtype:
    """int32 for np.histogram's bin indices 0..nb (nb: the cut-off bin past
    the last) where they fit, else int64. On AVX2 (no AVX-512) LLVM converts
    between float64 and int64 one element at a time, between float64 and
    int32 four at once, and the index array the scatter reads is half the
    size (10^6 values, 32 bins, process CPU: 3.9 -> 2.9 ms; int16 3.3, int8
    3.6: their packing costs more than their smaller arrays save)."""
    return np.dtype(np.int32) if nb < np.iinfo(np.int32).max else np.dtype(np.int64)


def _edge_at(edges: Tracer, first, last, at: Tracer) -> Tracer:
    """edges[at] of np.histogram's equal bins, computed as np.linspace computes
    each edge rather than read at data-dependent positions (a gather keeps the
    loop of the bin index scalar: 10^6 values, 2.5 ms for that pass alone)."""
    from .np_arrays import linspace_at

    edge = linspace_at(first, last, edges.shape[0], at, edges.dtype)
    return edges[at] if edge is None else edge


def histogramdd(sample, bins=10, range=None, density=None, weights=None):
    """NumPy's algorithm: per axis the edges (equal bins between the range or
    the data's min and max, or given edges), the bin of each point by
    searchsorted (the last edge counted in the last bin), one flat index over
    bins with an outlier bin at each end, one scatter-add of the weights in
    the points' order (np.bincount's sums), the outliers cut off. Counts are
    float64, as NumPy gives them."""
    if not _any_traced(sample, range, weights):
        return np.histogramdd(sample, bins=bins, range=range, density=density, weights=weights)
    from .np_extra import _searchsorted

    if is_tracer(sample):
        if sample.ndim != 2:
            sample = sem.transpose(sem.reshape(sample, (1, -1)) if sample.ndim < 2 else sample)
    else:  # a sequence of 1-d arrays: NumPy stacks them (one dtype for all)
        sample = sem.transpose(sem.stack([sem.reshape(_tr(x), (-1,)) if np.ndim(x) == 0 else _tr(x)
                                          for x in sample]))
    if sample.dtype.kind == "c":
        raise UnsupportedError("np.histogramdd of complex data is not supported", ctx.current_loc())
    n, dims = sample.shape
    try:
        if len(bins) != dims:
            raise ValueError("The dimension of bins must be equal to the dimension of the sample x.")
    except TypeError:
        bins = dims * [bins]
    if range is None:
        range = (None,) * dims
    elif len(range) != dims:
        raise ValueError("range argument must have one entry per dimension")
    edges, counts = [], []
    for i, (b, r) in enumerate(zip(bins, range)):
        x = sample[:, i]
        b = concrete_if_outside(b)
        if is_tracer(b) and b.ndim == 0 and b.dtype.kind in "iu":
            from .np_arrays import _static_int

            b = _static_int(b, "np.histogramdd's number of bins")
        if is_tracer(b):
            raise UnsupportedError("np.histogramdd of traced data supports integer bins or fixed edges",
                                   ctx.current_loc(), "pass bins=<int> or concrete edge arrays")
        if np.ndim(b) == 0:
            if b < 1:
                raise ValueError(f"`bins[{i}]` must be positive, when an integer")
            first, last = _outer_edges(x, r)
            e = nx.NAMESPACE["linspace"](first, last, _bins_index(b, i) + 1)
        elif np.ndim(b) == 1:
            b = np.asarray(b)
            if np.any(b[:-1] > b[1:]):
                raise ValueError(f"`bins[{i}]` must be monotonically increasing, when an array")
            e = sem.wrap(ctx.own_const(b))
        else:
            raise ValueError(f"`bins[{i}]` must be a scalar or 1d array")
        at = _searchsorted(e, x, "right")
        at = sem.ufunc("subtract", at, sem.astype(sem.ufunc("equal", x, e[-1]), at.dtype))
        edges.append(e)
        counts.append(at)
    sizes = [e.shape[0] + 1 for e in edges]  # an outlier bin at each end
    flat = counts[0]
    for at, size in zip(counts[1:], sizes[1:]):
        flat = sem.ufunc("add", sem.ufunc("multiply", flat, size), at)
    w = sem.full((n,), 1.0, np.float64) if weights is None else sem.astype(sem.reshape(_tr(weights), (-1,)),
                                                                           np.float64)
    if w.shape[0] != n:
        raise ValueError("The weights and list don't have the same length.")
    total = 1
    for size in sizes:
        total *= size
    hist = sem.wrap(ctx.emit1(prim("scatter"), [sem.full((total,), 0.0, np.float64).value,
                                                sem.astype(flat, np.int64).value, w.value], axis=0, mode="add"))
    hist = sem.reshape(hist, tuple(sizes))[(slice(1, -1),) * dims]
    if density:
        s = sem.reduce("reduce_sum", hist)
        for i, e in enumerate(edges):
            shape = [1] * dims
            shape[i] = sizes[i] - 2
            hist = sem.ufunc("divide", hist, sem.reshape(nx.NAMESPACE["diff"](e), tuple(shape)))
        hist = sem.ufunc("divide", hist, s)
    return hist, edges


def _bins_index(b, i: int) -> int:
    import operator

    try:
        return operator.index(b)
    except TypeError as e:
        raise TypeError(f"`bins[{i}]` must be an integer, when a scalar") from e


def histogram2d(x, y, bins=10, range=None, density=None, weights=None):
    if not _any_traced(x, y, range, weights):
        return np.histogram2d(x, y, bins=bins, range=range, density=density, weights=weights)
    try:
        count = len(bins)
    except TypeError:
        count = 1
    if count != 1 and count != 2:  # one array of edges for both axes
        bins = [bins, bins]
    hist, edges = histogramdd([x, y], bins, range, density, weights)
    return hist, edges[0], edges[1]


def _outer_edges(a: Tracer, range) -> tuple:
    """NumPy's _get_outer_edges; an empty range widens by 0.5 on each side."""
    if range is not None:
        first, last = range
        if not _any_traced(first, last):
            if first > last:
                raise ValueError("max must be larger than min in range parameter.")
            if not (np.isfinite(first) and np.isfinite(last)):
                raise ValueError(f"supplied range of [{first}, {last}] is not finite")
    elif a.size == 0:
        first, last = 0, 1
    else:
        first, last = sem.reduce("reduce_min", a), sem.reduce("reduce_max", a)
    if not _any_traced(first, last):
        return (first - 0.5, last + 0.5) if first == last else (first, last)
    first, last = _tr(first), _tr(last)
    from .checks import emit_check

    finite = sem.ufunc("logical_and", sem.ufunc("isfinite", first), sem.ufunc("isfinite", last))
    if range is None:  # NumPy's errors, at run time: NaN or inf in the data (it would give NaN edges)
        emit_check(sem.ufunc("logical_not", finite), ValueError("autodetected range of the data is not finite"))
    else:
        emit_check(sem.ufunc("greater", first, last), ValueError("max must be larger than min in range parameter."))
        emit_check(sem.ufunc("logical_not", finite), ValueError("supplied range is not finite"))
    same = sem.ufunc("equal", first, last)
    return (sem.select(same, sem.ufunc("subtract", first, 0.5), first),
            sem.select(same, sem.ufunc("add", last, 0.5), last))


def _bin_type(first, last, a: Tracer) -> np.dtype:
    dt = sem.result_type(first, last, a)
    return np.result_type(dt, float) if dt.kind in "biu" else dt


# --- covariance ---------------------------------------------------------------------------------------------
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    """np.cov as NumPy computes it without weights: the variables' rows less
    their means, X @ X.T.conj() / (N - ddof), squeezed."""
    if not _any_traced(m, y, ddof):
        return np.cov(m, y, rowvar, bias, ddof, fweights, aweights, dtype=dtype)
    if fweights is not None or aweights is not None:
        raise UnsupportedError("np.cov with fweights or aweights is not supported on traced values",
                               ctx.current_loc(), "weight the rows yourself: (w * X) @ X.T / w.sum()")
    X, fact = _centered(m, y, rowvar, bias, ddof, dtype)
    if X is None:
        return sem.full((0, 0), 0, fact)
    Xt = sem.transpose(X, [1, 0])
    if X.dtype.kind == "c":
        Xt = sem.ufunc("conjugate", Xt)
    return nx.NAMESPACE["squeeze"](sem.ufunc("divide", nx.NAMESPACE["matmul"](X, Xt), fact))


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """np.corrcoef: the covariance over the outer product of the variables'
    standard deviations (each row's own sum of squares), clipped to [-1, 1]
    (real data)."""
    if not _any_traced(x, y):
        return np.corrcoef(x, y, rowvar, dtype=dtype)
    c = _tr(cov(x, y, rowvar, dtype=dtype))
    if c.ndim == 0:
        return sem.ufunc("divide", c, c)
    if c.dtype.kind == "c":
        raise UnsupportedError("np.corrcoef of complex data is not supported on traced values", ctx.current_loc())
    X, fact = _centered(x, y, rowvar, False, None, dtype)
    root = sem.ufunc("sqrt", sem.ufunc("divide", nx.NAMESPACE["sum"](sem.ufunc("multiply", X, X), axis=1), fact))
    c = sem.ufunc("divide", c, sem.reshape(root, (-1, 1)))
    c = sem.ufunc("divide", c, sem.reshape(root, (1, -1)))
    return nx.NAMESPACE["clip"](c, -1, 1)


def _centered(m, y, rowvar: bool, bias, ddof, dtype) -> tuple:
    """np.cov's variables as rows less their means, and the divisor N - ddof
    (None and the dtype for no variables)."""
    if ddof is not None and not is_tracer(ddof) and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    m = _tr(m)
    if m.ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    if y is not None and np.ndim(y) > 2:
        raise ValueError("y has more than 2 dimensions")
    if dtype is None:
        dtype = np.result_type(m.dtype, np.float64) if y is None else \
            np.result_type(m.dtype, sem.dtype_of(y), np.float64)
    dtype = np.dtype(dtype)
    X = sem.astype(nx.NAMESPACE["atleast_2d"](m), dtype)
    if not rowvar and m.ndim != 1:
        X = sem.transpose(X, [1, 0])
    if X.shape[0] == 0:
        return None, dtype
    if y is not None:
        Y = sem.astype(nx.NAMESPACE["atleast_2d"](_tr(y)), dtype)
        if not rowvar and Y.shape[0] != 1:
            Y = sem.transpose(Y, [1, 0])
        X = nx.NAMESPACE["concatenate"]((X, Y), axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    X = sem.ufunc("subtract", X, nx.NAMESPACE["mean"](X, axis=1, keepdims=True))
    n = X.shape[1]
    return X, (sem.ufunc("subtract", n, ddof) if is_tracer(ddof) else float(n - ddof))


TABLE: dict[str, Any] = {name: globals()[name] for name in (
    "cov", "corrcoef", "average", "nansum", "nanprod", "nanmax", "nanmin", "nanargmax", "nanargmin", "nanmean", "nanvar",
    "nanstd", "median", "percentile", "quantile", "nanmedian", "nanpercentile", "nanquantile", "histogram", "histogramdd", "histogram2d")}
