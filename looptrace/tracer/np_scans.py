"""`ufunc.accumulate` for the ufuncs whose running value is no linear
recurrence: np.maximum/minimum/fmax/fmin and np.logical_and/logical_or
(running maxima for a drawdown, running minima, "has it happened yet").

np.add/multiply.accumulate are one `linear_scan` (np_arrays.py `_prefix`).
These are written as the loop a user would write, `acc = f(acc, x[i]);
out[i] = acc`, below in plain Python, and traced like the user's own code
(runtime.call_converted): the loop is captured once and becomes a scan over
the moved axis, whose carry is one row (`explain` lists the loop of
`_running` under this file, once however many accumulations use it).
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

RUNNING = ("maximum", "minimum", "fmax", "fmin", "logical_and", "logical_or", "bitwise_and", "bitwise_or",
           "bitwise_xor")


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
    if ufunc.startswith("bitwise_") and a.dtype.kind not in "biu":  # (NumPy's TypeError, not the loop's)
        raise TypeError(f"ufunc '{ufunc}' not supported for the input types, and the inputs could not be "
                        "safely coerced to any supported types according to the casting rule ''safe''")
    x = _moveaxis(a, axis, 0)
    if x.shape[0] == 0:
        return a
    out = call_converted(_running, (x, getattr(np, ufunc)), {})
    return _moveaxis(out, 0, axis)


# --- the loop (traced as user code: keep it plain) ------------------------------------------------
def _running(x, step):
    """`step` is the NumPy ufunc itself: called on traced values it is traced."""
    out = np.empty_like(x)
    acc = x[0]
    out[0] = acc
    for i in range(1, x.shape[0]):
        acc = step(acc, x[i])
        out[i] = acc
    return out
