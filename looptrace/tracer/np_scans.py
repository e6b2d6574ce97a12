"""`ufunc.accumulate` for the ufuncs whose running value is no linear
recurrence: np.maximum/minimum/fmax/fmin and np.logical_and/logical_or
(running maxima for a drawdown, running minima, "has it happened yet").

np.add/multiply.accumulate are one `linear_scan` (np_arrays.py `_prefix`).
These are written as the loop a user would write, `acc = f(acc, x[i]);
out[i] = acc`, below in plain Python, and traced like the user's own code
(runtime.call_converted): the loop is captured once and becomes a scan over
the moved axis, whose carry is one row (`explain` lists it under this file).
A log-step (Hillis-Steele) form would vectorize but do log2(n) passes over
the array, slower than NumPy's one pass from 2**10 elements on.

Invariant: the result is NumPy's, NaNs included (maximum/minimum carry a NaN
forward, fmax/fmin skip it), with the dtype NumPy gives (`dtype=` casts the
input first, as NumPy computes in it).
"""
from __future__ import annotations

import numpy as np

from looptrace.errors import UnsupportedError

from . import context as ctx
from . import semantics as sem
from .array import Tracer

RUNNING = ("maximum", "minimum", "fmax", "fmin", "logical_and", "logical_or")


def accumulate(ufunc: str, a: Tracer, axis, dtype) -> Tracer:
    from .np_arrays import _axis, _moveaxis
    from .runtime import call_converted

    if a.ndim == 0:
        raise TypeError("cannot accumulate on a scalar")  # NumPy's message
    if axis is None:
        raise UnsupportedError(f"np.{ufunc}.accumulate with axis=None is not supported", ctx.current_loc(),
                               "flatten first: x.ravel()")
    axis = _axis(axis, a.ndim)
    if dtype is not None:
        a = sem.astype(a, np.dtype(dtype))
    elif ufunc.startswith("logical_"):
        a = sem.astype(a, np.dtype(np.bool_))
    x = _moveaxis(a, axis, 0)
    if x.shape[0] == 0:
        return a
    out = call_converted(_SCANS[ufunc], (x,), {})
    return _moveaxis(out, 0, axis)


# --- the loops (traced as user code: keep them plain) ----------------------------------------------
def _running_maximum(x):
    out = np.empty_like(x)
    acc = x[0]
    out[0] = acc
    for i in range(1, x.shape[0]):
        acc = np.maximum(acc, x[i])
        out[i] = acc
    return out


def _running_minimum(x):
    out = np.empty_like(x)
    acc = x[0]
    out[0] = acc
    for i in range(1, x.shape[0]):
        acc = np.minimum(acc, x[i])
        out[i] = acc
    return out


def _running_fmax(x):
    out = np.empty_like(x)
    acc = x[0]
    out[0] = acc
    for i in range(1, x.shape[0]):
        acc = np.fmax(acc, x[i])
        out[i] = acc
    return out


def _running_fmin(x):
    out = np.empty_like(x)
    acc = x[0]
    out[0] = acc
    for i in range(1, x.shape[0]):
        acc = np.fmin(acc, x[i])
        out[i] = acc
    return out


def _running_and(x):
    out = np.empty_like(x)
    acc = x[0]
    out[0] = acc
    for i in range(1, x.shape[0]):
        acc = np.logical_and(acc, x[i])
        out[i] = acc
    return out


def _running_or(x):
    out = np.empty_like(x)
    acc = x[0]
    out[0] = acc
    for i in range(1, x.shape[0]):
        acc = np.logical_or(acc, x[i])
        out[i] = acc
    return out


_SCANS = {"maximum": _running_maximum, "minimum": _running_minimum, "fmax": _running_fmax,
          "fmin": _running_fmin, "logical_and": _running_and, "logical_or": _running_or}
