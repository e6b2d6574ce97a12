"""Order statistics of a selection: np.median, np.percentile, np.quantile
(and their nan forms) of `x[mask]` and of a slice of varying length
`x[lo:hi]` (masked.MaskedSelection).

NumPy sorts the selected elements and reads the middle ones. Here the data
keeps its static shape: the unselected elements become +inf, so that after a
sort the `count` selected ones come first in each lane (a selected +inf ties
with the fill and has its value), and the middle ones are gathered at
positions computed from the traced count (np_stats' `_interpolate`, as the
nan forms already do for a count that differs per lane). What the fill hides
is restored: a selected NaN makes the result NaN (np.median's check of the
last sorted element), and an empty selection gives NaN (np.median, the nan
forms) or NumPy's IndexError (np.percentile, np.quantile).

A slice whose length has a static bound (`x[max(0, i - k):i + 1]` for a
static k: at most k + 1, varying.py `most`) is first narrowed to a window of
that many elements starting at its start (`narrowed`), so a moving median
sorts k + 1 elements per iteration, as NumPy does, not the whole axis. Such a
bound holds only where the stop is never negative (varying._wraps: NumPy
reads x[0:i - 3] at i = 0 as all but the last 3); where that is not seen,
the slice's error is raised while tracing, saying so (a short loop is then
unrolled, each slice NumPy's). An integer or bool selection is sorted as
float64 (NumPy's median and percentile of integers are float64; the
conversion is monotone, so the order and the values read are NumPy's).
"""
from __future__ import annotations

import numpy as np

from looptrace.errors import ConcreteIndexError, UnsupportedError

from . import context as ctx
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, is_tracer
from .masked import SELECTION_FUNCTIONS, MaskedSelection


_WRAPS_HINT = ("where the stop is not meant to count from the end, keep it from going negative: "
               "x[max(0, i - k):max(0, i - 3)]; else loop over the elements the slice holds")


def narrowed(sel: MaskedSelection) -> MaskedSelection:
    """sel as a selection of a window of `sel.most` elements from the
    slice's start (a run-time check that the slice is no longer), where the
    slice is one axis of a 1-d array with a static bound; else sel."""
    most = sel.most
    if sel.bounds and (most is None or not sel.span or sel.data.ndim != 1 or sel.mask.ndim != 1):
        # the whole axis sorted at every iteration where NumPy sorts the slice: the slice's
        # error as before, asking to specialize on the int arguments its length comes from
        # (x[max(0, i - k):i + 1]: k), or a short loop unrolled
        wraps = getattr(sel, "wraps", "")  # (varying._wraps: a stop that may count from the end)
        try:
            if wraps and most is None:
                raise ConcreteIndexError("an order statistic (np.median, np.percentile, ...) of this slice needs a "
                                         f"bound on its length: {wraps}", sel.loc, _WRAPS_HINT)
            sel.fail("an order statistic (np.median, np.percentile, ...) of it")
        except ConcreteIndexError as e:
            e.arg_positions = getattr(e, "arg_positions", None) or sel.length_sources
            raise
    if most is None:
        return sel
    n = sel.data.shape[0]
    if n == 0 or most >= n:
        return sel
    from .checks import emit_check

    lo, hi = (sem.wrap(sem.as_value(b, np.int64)) for b in sel.span)
    length = sem.ufunc("subtract", hi, lo)
    emit_check(sem.ufunc("greater", length, most),
               UnsupportedError("a slice of varying length was longer than the bound found for it at trace time",
                                sel.loc, "report this; slicing a copy (x[lo:hi].copy()) does not help"), sel.loc)
    pos = nx.NAMESPACE["arange"](most)
    at = sem.ufunc("minimum", sem.ufunc("add", pos, lo), n - 1)
    window = nx.NAMESPACE["take"](sel.data, at)
    out = MaskedSelection(window, sem.ufunc("less", pos, length), sel.loc, sel.bounds)
    out.made = sel.made
    return out


def _lanes(sel: MaskedSelection, axis, name: str, skip_nan: bool) -> tuple:
    """(s, count, nans, lanes): the selected values of each lane sorted
    first (a float dtype), how many there are (int64, shape lanes + (1,)), and
    whether a lane selects a NaN (None where that does not matter)."""
    over, data_axes = sel._axes(axis)
    if not over:
        sel.fail(f"{name} over an axis other than the selection's")
    data = sel.data
    if data.dtype.kind == "c":
        raise TypeError("a must be an array of real numbers")
    if data.dtype.kind not in "fiub":
        sel.fail(f"{name} of {data.dtype} values")
    if data.dtype.kind != "f":
        data = sem.astype(data, np.float64)
    where = sel.where()
    keep = [a for a in range(data.ndim) if a not in data_axes]
    order = keep + list(data_axes)
    lanes = tuple(data.shape[a] for a in keep)
    m = int(np.prod([data.shape[a] for a in data_axes], dtype=np.int64))
    if m == 0:
        sel.fail(f"{name} of a selection from an empty axis")
    data = sem.reshape(sem.transpose(data, order), lanes + (m,))
    where = sem.reshape(sem.transpose(where, order), lanes + (m,))
    isnan = sem.ufunc("isnan", data)
    nans = None
    if skip_nan:
        where = sem.ufunc("logical_and", where, sem.ufunc("logical_not", isnan))
    elif sel.data.dtype.kind == "f":
        nans = nx.NAMESPACE["any"](sem.ufunc("logical_and", where, isnan), axis=-1)
    from .np_stats import _sorted_last

    s = _sorted_last(sem.select(where, data, np.inf))
    count = nx.NAMESPACE["sum"](sem.astype(where, np.int64), axis=-1, keepdims=True)
    return s, count, nans, lanes


def _nan_where(res: Tracer, flag: Tracer | None, shape: tuple) -> Tracer:
    if flag is None:
        return res
    return sem.select(sem.reshape(flag, shape), sem.astype(sem.full((), np.nan, res.dtype), res.dtype), res)


def _median(sel: MaskedSelection, axis, keepdims: bool, name: str, skip_nan: bool) -> Tracer:
    from .np_arrays import gather_lanes

    sel = narrowed(sel)
    s, count, nans, lanes = _lanes(sel, axis, name, skip_nan)
    lo = sem.ufunc("maximum", sem.ufunc("floor_divide", sem.ufunc("subtract", count, 1), 2), 0)
    hi = sem.ufunc("floor_divide", count, 2)
    a, b = (sem.reshape(gather_lanes(s, i, s.ndim - 1), lanes) for i in (lo, hi))
    pair = nx.mean(nx.stack([a, b], -1), -1)  # NumPy: the mean of the two middle ones, or of the one
    odd = sem.reshape(sem.ufunc("equal", sem.ufunc("remainder", count, 2), 1), lanes)
    res = sem.select(odd, sem.astype(b, pair.dtype), pair)
    empty = sem.reshape(sem.ufunc("equal", count, 0), lanes)
    res = _nan_where(res, empty if nans is None else sem.ufunc("logical_or", empty, nans), lanes)
    from .masked import _keepdims

    return _keepdims(res, sel, axis) if keepdims else res


def _quantile(sel: MaskedSelection, q, axis, method: str, keepdims: bool, weights, interpolation, by: int,
              name: str, skip_nan: bool) -> Tracer:
    from . import np_stats
    from .checks import emit_check

    if weights is not None or interpolation is not None:
        raise UnsupportedError(f"{name} with weights= or interpolation= is not supported", ctx.current_loc())
    if method != "linear":
        sel.fail(f"{name} with method={method!r} (of a selection, only 'linear')")
    if keepdims:
        sel.fail(f"{name} with keepdims=True")
    weak = sem.is_weak(q)
    q = np_stats._scaled(q, by)
    if not is_tracer(q):
        q = sem.wrap(ctx.const_value(np.asarray(q)))  # (its dtype: an np.float32 q keeps a float32 result)
    sel = narrowed(sel)
    s, count, nans, lanes = _lanes(sel, axis, name, skip_nan)
    if not skip_nan:
        emit_check(nx.NAMESPACE["any"](sem.ufunc("equal", count, 0)),
                   IndexError("index -1 is out of bounds for axis 0 with size 0"), sel.loc)
    cnt = sem.reshape(count, lanes + (1,) * q.ndim)
    res = np_stats._interpolate(s, sem.astype(q, sem.result_type(q, 1.0)), cnt, weak)
    shape = lanes + (1,) * q.ndim
    if skip_nan:
        res = _nan_where(res, sem.broadcast_to(sem.ufunc("equal", cnt, 0), tuple(res.shape)), tuple(res.shape))
    else:
        res = _nan_where(res, sem.broadcast_to(sem.reshape(nans, shape), tuple(res.shape))
                         if nans is not None else None, tuple(res.shape))
    if q.ndim:  # NumPy puts the axes of q first
        res = sem.transpose(res, list(range(res.ndim - q.ndim, res.ndim)) + list(range(res.ndim - q.ndim)))
    return res


def _median_fn(skip_nan: bool):
    name = "np.nanmedian" if skip_nan else "np.median"

    def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
        nx._no_out(out)
        return _median(a, axis, keepdims, name, skip_nan)

    return median


def _quantile_fn(by: int, skip_nan: bool):
    name = ("np.nan" if skip_nan else "np.") + ("percentile" if by == 100 else "quantile")

    def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                 weights=None, interpolation=None):
        nx._no_out(out)
        return _quantile(a, q, axis, method, keepdims, weights, interpolation, by, name, skip_nan)

    return quantile


SELECTION_FUNCTIONS.update({
    "median": _median_fn(False), "nanmedian": _median_fn(True),
    "percentile": _quantile_fn(100, False), "nanpercentile": _quantile_fn(100, True),
    "quantile": _quantile_fn(1, False), "nanquantile": _quantile_fn(1, True),
})
