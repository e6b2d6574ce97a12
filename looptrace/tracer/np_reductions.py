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


# --- nan quantiles by the other methods --------------------------------------------------------------------
# NumPy's _QuantileMethods: the virtual index from the count n and q, (alpha, beta) for the continuous ones
_CONTINUOUS = {"interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5), "weibull": (0.0, 0.0),
               "median_unbiased": (1 / 3.0, 1 / 3.0), "normal_unbiased": (3 / 8.0, 3 / 8.0)}
NAN_METHODS = ("inverted_cdf", "averaged_inverted_cdf", "closest_observation", "lower", "higher", "nearest",
               "midpoint") + tuple(_CONTINUOUS)


def nan_quantile_by_method(s: Tracer, q: Tracer, count: Tracer, method: str, weak: bool) -> Tracer:
    """np.nanquantile's method (other than linear) on sorted lanes s whose first
    `count` elements are the non-NaN ones: NumPy's virtual index of each method
    from the count, then a take (the discrete methods) or NumPy's neighbours,
    gamma and _lerp, step for step."""
    from .np_arrays import gather_lanes

    lanes = tuple(s.shape[:-1])
    qb = sem.reshape(sem.astype(q, np.float64), (1,) * len(lanes) + tuple(q.shape))
    n = sem.astype(count, np.float64)
    flat = lanes + (int(np.prod(q.shape, dtype=np.int64)),)

    def gather(idx: Tracer) -> Tracer:
        idx = sem.reshape(sem.astype(sem.broadcast_to(idx, lanes + tuple(q.shape)), np.int64), flat)
        return sem.reshape(gather_lanes(s, idx, s.ndim - 1), lanes + tuple(q.shape))

    v = _virtual_index(method, n, qb)
    if method in ("inverted_cdf", "closest_observation", "lower", "higher", "nearest"):
        return gather(_u("maximum", v, 0.0))
    top = _u("subtract", n, 1.0)
    prev = _u("floor", v)
    above, below = _u("greater_equal", v, top), _u("less", v, 0.0)
    prev_mod = sem.select(above, sem.full((), -1.0, np.float64), sem.select(below, sem.full((), 0.0, np.float64), prev))
    lo_i = sem.select(above, top, prev_mod)  # NumPy's index -1: the last valid element
    hi_i = sem.select(above, top, sem.select(below, sem.full((), 0.0, np.float64), _u("add", prev, 1.0)))
    gamma = _u("subtract", v, prev_mod)
    if method == "averaged_inverted_cdf":
        gamma = sem.select(_u("equal", gamma, 0.0), sem.full((), 0.5, np.float64), sem.full((), 1.0, np.float64))
    elif method == "midpoint":
        gamma = sem.select(_u("equal", _u("remainder", v, 1.0), 0.0), sem.full((), 0.0, np.float64),
                           sem.full((), 0.5, np.float64))
    if weak and s.dtype.kind in "fc":
        gamma = sem.astype(gamma, s.dtype)
    lo, hi = gather(lo_i), gather(hi_i)
    diff = _u("subtract", hi, lo)
    low = _u("add", lo, _u("multiply", diff, gamma))
    high = sem.astype(_u("subtract", hi, _u("multiply", diff, _u("subtract", 1, gamma))), low.dtype)
    return sem.select(_u("greater_equal", gamma, 0.5), high, low)


def _virtual_index(method: str, n: Tracer, q: Tracer) -> Tracer:
    """NumPy's get_virtual_index for `method` (the discrete ones already rounded to their index)."""
    if method in _CONTINUOUS:
        alpha, beta = _CONTINUOUS[method]
        return _u("subtract", _u("add", _u("multiply", n, q), _u("add", alpha, _u("multiply", q, 1 - alpha - beta))),
                  1)
    if method == "averaged_inverted_cdf":
        return _u("subtract", _u("multiply", n, q), 1)
    base = _u("multiply", _u("subtract", n, 1), q)
    if method in ("lower", "higher", "nearest", "midpoint"):
        floor, ceil = _u("floor", base), _u("ceil", base)
        return {"lower": floor, "higher": ceil, "nearest": _u("rint", base),
                "midpoint": _u("multiply", 0.5, _u("add", floor, ceil))}[method]
    index = _u("subtract", _u("multiply", n, q), 1)
    if method == "closest_observation":
        index = _u("subtract", index, 0.5)
    prev = _u("floor", index)
    at_boundary = _u("equal", _u("subtract", index, prev), 0.0)
    if method == "closest_observation":
        at_boundary = _u("logical_and", at_boundary, _u("equal", _u("remainder", prev, 2.0), 1.0))
    return sem.select(at_boundary, prev, _u("add", prev, 1.0))


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
    return flat[0] if flat.ndim == 1 else flat[..., 0]  # (a full reduction: a scalar, as NumPy's)


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
