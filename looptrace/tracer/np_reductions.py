"""Reductions the s25 survey (tools/numpy_survey.py) found missing:
np.quantile/np.percentile with weights= (NumPy's weighted inverted_cdf),
.reduce of the ufuncs without a reduction primitive (np.logaddexp,
np.logaddexp2, np.fmax, np.fmin, the bitwise ones, np.logical_xor) and
np.<ufunc>.reduceat.

Invariant: compositions only (no primitives of their own), so each is
batched, lowered on every target and differentiated through its parts;
results, dtypes and errors are NumPy's (a log-sum-exp equals NumPy's fold
to rounding; the integer folds are exact); axes and constant indices are
static, traced indices give the same static output length.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import np_stats as ns
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, is_tracer
from .np_extra import _strong, _tr, _u


def _np(name: str):
    return nx.NAMESPACE[name]


_any_traced = nx._any_traced


# --- weighted quantiles --------------------------------------------------------------------------------------
def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None,
             interpolation=None):
    if weights is None or not _any_traced(a, q, weights):
        return ns.quantile(a, q, axis, out, overwrite_input, method, keepdims, weights=weights,
                           interpolation=interpolation)
    return _weighted_quantile(a, ns._scaled(q, 1), axis, out, method, keepdims, weights)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
               weights=None, interpolation=None):
    if weights is None or not _any_traced(a, q, weights):
        return ns.percentile(a, q, axis, out, overwrite_input, method, keepdims, weights=weights,
                             interpolation=interpolation)
    return _weighted_quantile(a, ns._scaled(q, 100), axis, out, method, keepdims, weights)


def _weighted_quantile(a, q, axis, out, method: str, keepdims: bool, weights) -> Tracer:
    """NumPy's weighted inverted_cdf: the data sorted along the axis with its
    weights, their normalized cumulative sums (the empirical cdf), for each q
    the first element whose cdf reaches it; a NaN in a slice makes it NaN."""
    from .checks import emit_check

    nx._no_out(out)
    if method != "inverted_cdf":
        raise ValueError(f"Only method 'inverted_cdf' supports weights. Got: {method}.")
    arr, w = _strong(a), _strong(weights)
    axes = tuple(range(arr.ndim)) if axis is None else np._core.numeric.normalize_axis_tuple(axis, arr.ndim)
    if tuple(w.shape) != tuple(arr.shape):
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        if tuple(w.shape) != tuple(arr.shape[ax] for ax in axes):
            raise ValueError("Shape of weights must be consistent with shape of a along specified axis.")
        w = sem.reshape(nx.transpose(w, tuple(np.argsort(axes))),
                        tuple(s if ax in axes else 1 for ax, s in enumerate(arr.shape)))
    emit_check(sem.reduce("reduce_any", _u("less", w, 0)), ValueError("Weights must be non-negative."))
    rest = [i for i in range(arr.ndim) if i not in axes]
    lead = tuple(arr.shape[i] for i in rest)
    n = int(np.prod([arr.shape[i] for i in axes]))
    cols = sem.reshape(nx.transpose(arr, list(axes) + rest), (n,) + lead)
    wcols = sem.reshape(nx.transpose(sem.broadcast_to(w, tuple(arr.shape)), list(axes) + rest), (n,) + lead)
    order = _np("argsort")(cols, axis=0)
    cols = _np("take_along_axis")(cols, order, axis=0)
    cdf = _np("cumsum")(_np("take_along_axis")(wcols, order, axis=0), axis=0, dtype=np.float64)
    cdf = _u("divide", cdf, cdf[-1])
    emit_check(sem.reduce("reduce_any", _u("isnan", cdf[-1])),
               ValueError("Weights included NaN, inf or were all zero."))
    qs = _tr(q)
    if qs.dtype.kind == "f":
        cdf = sem.astype(cdf, qs.dtype)
    cdf = sem.select(_u("equal", cdf, 0), sem.full((), -1, cdf.dtype), cdf)
    q_col = sem.reshape(qs, tuple(qs.shape) + (1,) * (1 + len(lead)))
    below = sem.astype(_u("less", sem.reshape(cdf, (1,) * qs.ndim + tuple(cdf.shape)), q_col), np.int64)
    idx = _u("minimum", sem.reduce("reduce_sum", below, qs.ndim), n - 1)  # searchsorted(cdf, q, "left")
    flat_idx = sem.reshape(idx, (int(np.prod(qs.shape)),) + lead) if qs.ndim else sem.reshape(idx, (1,) + lead)
    res = _np("take_along_axis")(cols, flat_idx, axis=0)
    if cols.dtype.kind in "fc":
        res = sem.select(_u("isnan", cols[-1]), sem.full((), np.nan, cols.dtype), res)
    res = sem.reshape(res, tuple(qs.shape) + lead)
    if keepdims:
        res = sem.reshape(res, tuple(qs.shape) + tuple(1 if i in axes else d for i, d in enumerate(arr.shape)))
    return res


# --- ufunc.reduce of the ufuncs without a reduction primitive --------------------------------------------------
def ufunc_reduce(name: str, a, axis=0, dtype=None, keepdims=False) -> Tracer:
    """np.logaddexp(2).reduce as max + log(sum(exp(x - max))) (NumPy folds pairwise:
    the same value to rounding, infinities and NaN as NumPy's); np.fmax/fmin.reduce
    as max/min ignoring NaN (NaN only where all are); the bitwise and logical_xor
    reductions as a halving tree of the ufunc (exact: associative on integers)."""
    x = _strong(a)
    if dtype is not None:
        x = sem.astype(x, dtype)
    axes = sem.norm_axes(axis, x.ndim)
    if name in ("logaddexp", "logaddexp2"):
        return _log_add_exp(name, x, axes, keepdims)
    if any(x.shape[i] == 0 for i in axes) and name in ("fmax", "fmin"):
        raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
    if name in ("fmax", "fmin"):
        prim = "reduce_max" if name == "fmax" else "reduce_min"
        if x.dtype.kind not in "fc":
            return sem.reduce(prim, x, axes, keepdims)
        nan = _u("isnan", x)
        fill = sem.full((), -np.inf if name == "fmax" else np.inf, x.dtype)
        res = sem.reduce(prim, sem.select(nan, fill, x), axes, keepdims)
        return sem.select(sem.reduce("reduce_all", nan, axes, keepdims), sem.full((), np.nan, x.dtype), res)
    res = _tree_fold(name, nx.moveaxis(x, axes, tuple(range(-len(axes), 0))) if axes else x, len(axes))
    if keepdims:
        res = sem.reshape(res, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
    return res


def _log_add_exp(name: str, x: Tracer, axes: tuple, keepdims: bool) -> Tracer:
    exp, log = ("exp", "log") if name == "logaddexp" else ("exp2", "log2")
    if x.dtype.kind not in "fc":
        x = sem.astype(x, np.float64)
    m = nx.NAMESPACE["max"](x, axis=axes, keepdims=True, initial=-np.inf)
    finite = _u("isfinite", m)
    shift = sem.select(finite, m, sem.full((), 0, m.dtype))  # -inf (all -inf, or nothing) and inf: no shift
    total = sem.reduce("reduce_sum", _u(exp, _u("subtract", x, shift)), axes, True)
    res = sem.select(finite, _u("add", m, _u(log, total)), m)
    return res if keepdims else sem.reshape(res, tuple(d for i, d in enumerate(res.shape) if i not in axes))


_FOLD_IDENTITY = {"bitwise_or": 0, "bitwise_xor": 0, "bitwise_and": -1, "logical_xor": False}
FOLDED = ("logaddexp", "logaddexp2", "fmax", "fmin") + tuple(_FOLD_IDENTITY)


def _tree_fold(name: str, x: Tracer, k: int) -> Tracer:
    """The ufunc folded over x's last k axes: flattened, then halved (odd lengths
    padded with the identity) until one element is left."""
    lead = tuple(x.shape[:x.ndim - k])
    flat = sem.reshape(x, lead + (-1,))
    if flat.dtype.kind == "b" and name != "logical_xor":
        flat = sem.astype(flat, np.bool_)
    if name.startswith("bitwise") and flat.dtype.kind not in "biu":
        raise TypeError(f"ufunc '{name}' not supported for the input types")
    ident = sem.full((), _FOLD_IDENTITY[name], flat.dtype)
    n = flat.shape[-1]
    if n == 0:
        return sem.broadcast_to(ident, lead)
    while n > 1:
        if n % 2:
            flat = sem.concatenate([flat, sem.broadcast_to(ident, lead + (1,))], -1)
            n += 1
        flat = _u(name, flat[..., :n // 2], flat[..., n // 2:])
        n //= 2
    return flat[..., 0]


# --- ufunc.reduceat ------------------------------------------------------------------------------------------
def reduceat(prim: str, name: str, array, indices, axis=0, dtype=None) -> Tracer:
    """np.<ufunc>.reduceat: for each index i, the reduction of array[idx[i]:idx[i+1]]
    along the axis (to the end for the last), or array[idx[i]] where idx[i] >= idx[i+1].
    Constant indices are slices; traced ones a masked reduction per segment (the
    output's length is len(indices) either way), bounds checked at run time."""
    a = _strong(array)
    if a.ndim == 0:
        raise TypeError("reduceat does not allow 0-dimensional arrays")
    from .np_extra import _axis_of

    axis = _axis_of(axis, a.ndim, f"np.{name}.reduceat")
    if dtype is not None:
        a = sem.astype(a, dtype)
    n = a.shape[axis]
    moved = nx.moveaxis(a, axis, -1)
    if is_tracer(indices):
        res = _segments_traced(prim, name, moved, _strong(indices), n)
    else:
        idx = np.asarray(indices)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError("index must be a 1-d array of integers")
        bad = idx[(idx < 0) | (idx >= n)]
        if bad.size:
            raise IndexError(f"index {bad[0]} out-of-bounds in {name}.reduceat [0, {n})")
        ends = list(idx[1:]) + [n]
        pieces = [sem.reduce(prim, moved[..., lo:hi], -1, True) if lo < hi else moved[..., lo:lo + 1]
                  for lo, hi in zip(idx.tolist(), ends)]
        res = sem.concatenate(pieces, -1) if pieces else moved[..., :0]
    target = getattr(np, name).reduce(np.zeros(1, moved.dtype)).dtype  # NumPy's: add of small ints is int64
    return nx.moveaxis(sem.astype(res, target), -1, axis)


_REDUCE_IDENTITY = {"reduce_sum": 0, "reduce_prod": 1, "reduce_all": True, "reduce_any": False}


def _segments_traced(prim: str, name: str, moved: Tracer, idx: Tracer, n: int) -> Tracer:
    from .checks import emit_check
    from .np_arrays import iota

    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        raise TypeError("index must be a 1-d array of integers")
    idx = sem.astype(idx, np.int64)
    emit_check(sem.reduce("reduce_any", _u("logical_or", _u("less", idx, 0), _u("greater_equal", idx, n))),
               IndexError(f"index out-of-bounds in {name}.reduceat [0, {n})"))
    hi = sem.concatenate([idx[1:], sem.full((1,), n, np.int64)], 0)
    pos = sem.reshape(iota(n), (1, n))
    inside = _u("logical_and", _u("greater_equal", pos, sem.reshape(idx, (-1, 1))),
                _u("less", pos, sem.reshape(hi, (-1, 1))))  # (segments, n)
    if prim in _REDUCE_IDENTITY:
        fill = _REDUCE_IDENTITY[prim]
    else:
        info = np.finfo(moved.dtype) if moved.dtype.kind in "fc" else np.iinfo(moved.dtype)
        fill = (-np.inf if moved.dtype.kind == "f" else info.min) if prim == "reduce_max" else \
            (np.inf if moved.dtype.kind == "f" else info.max)
    vals = sem.reshape(moved, tuple(moved.shape[:-1]) + (1, n))
    masked = sem.select(inside, vals, sem.full((), fill, moved.dtype))
    seg = sem.reduce(prim, masked, -1)
    single = _np("take")(moved, _u("minimum", idx, n - 1), axis=-1)
    return sem.select(_u("less", idx, hi), seg, single)


TABLE: dict[str, Any] = {"quantile": quantile, "percentile": percentile}
