"""np.partition, np.argpartition and ndarray.partition / .argpartition under
tracing: the `partition` / `argpartition` primitives of ops/sort.py, which
are NumPy's own (so the elements off `kth` come in NumPy's order).

`kth` is static: an int or a sequence of ints (negative counts from the end),
checked as NumPy checks it while tracing (TypeError for a non-integer,
ValueError for a bool or a position out of bounds, AxisError for a bad
axis). A traced kth that comes from int arguments is specialized on; any
other traced kth is an UnsupportedError naming the user's line. Complex
arrays and `order=` (structured arrays) are refused by name. Without a
traced array each function is NumPy's own.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from looptrace.errors import UnsupportedError
from looptrace.ops import get as prim

from . import context as ctx
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, is_tracer

_tr, _any_traced = nx._tr, nx._any_traced


def _static_kth(kth: Any, name: str) -> np.ndarray:
    """kth as NumPy reads it: a 0-d or 1-d array of integers."""
    if _any_traced(kth):
        from .static import UnsupportedConcrete, concrete_error

        leaves = [kth] if is_tracer(kth) else [k for k in kth if is_tracer(k)]
        raise concrete_error(leaves, f"{name} needs a static kth",
                             "pass kth as a Python int or a tuple of ints (or list it in static_argnames)",
                             cls=UnsupportedConcrete)
    if isinstance(kth, (bool, np.bool_)):
        raise ValueError("Booleans unacceptable as partition index")
    arr = np.asarray(kth)
    if arr.dtype == np.bool_:
        raise ValueError("Booleans unacceptable as partition index")
    if arr.dtype.kind not in "iu":
        raise TypeError("Partition index must be integer")
    if arr.ndim > 1:
        raise ValueError("kth must be an int or a 1-d sequence of ints")
    return arr.reshape(-1).astype(np.int64)


def _kth_tuple(kth: np.ndarray, n: int) -> tuple[int, ...]:
    """Normalized and sorted positions, as NumPy's own selection reads them
    (repeats kept: NumPy's result depends on them); NumPy's error for one out of range."""
    out = []
    for k in kth.tolist():
        pos = k + n if k < 0 else k
        if not 0 <= pos < n:
            raise ValueError(f"kth(={pos}) out of bounds ({n})")
        out.append(pos)
    return tuple(sorted(out))


def _prepare(a, kth, axis, kind, order, name: str) -> tuple[Tracer, int, tuple[int, ...]]:
    a = _tr(a)
    if kind != "introselect":
        raise ValueError(f"select kind must be 'introselect' (got {kind!r})")
    if order is not None:
        raise UnsupportedError(f"{name} with order= (structured arrays) is not supported", ctx.current_loc())
    if a.dtype.kind == "c":
        raise UnsupportedError(f"{name} of complex arrays is not supported", ctx.current_loc(),
                               "partition the real and imaginary parts' key yourself, or use np.sort")
    if is_tracer(axis):
        from .static import UnsupportedConcrete, concrete_error

        raise concrete_error([axis], f"{name} needs a static axis", "pass axis as a Python int",
                             cls=UnsupportedConcrete)
    if axis is None:
        a, axis = sem.reshape(a, (-1,)), 0
    else:
        if not isinstance(axis, numbers.Integral):
            raise TypeError(f"'{type(axis).__name__}' object cannot be interpreted as an integer")
        if not -a.ndim <= axis < max(a.ndim, 0) or a.ndim == 0:
            raise np.exceptions.AxisError(int(axis), a.ndim)
        axis = int(axis) % a.ndim
    k = _static_kth(kth, name)
    if k.size == 0:
        raise TypeError("Partition index must be integer")  # NumPy reads an empty list as float64
    return a, axis, _kth_tuple(k, a.shape[axis])


def _emit(which: str, a: Tracer, kth: tuple, axis: int) -> Tracer:
    return sem.wrap(ctx.emit1(prim(which), [a.value], kth=kth, axis=axis))


def partition(a, kth, axis=-1, kind="introselect", order=None):
    if not _any_traced(a, kth, axis):
        return np.partition(a, kth, axis=axis, kind=kind, order=order)
    a, axis, kth = _prepare(a, kth, axis, kind, order, "np.partition")
    return _emit("partition", a, kth, axis)


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    if not _any_traced(a, kth, axis):
        return np.argpartition(a, kth, axis=axis, kind=kind, order=order)
    a, axis, kth = _prepare(a, kth, axis, kind, order, "np.argpartition")
    return _emit("argpartition", a, kth, axis)


def partition_method(self, kth, axis=-1, kind="introselect", order=None):
    """x.partition(kth): in place, returns None (axis=None is NumPy's TypeError)."""
    if axis is None:
        raise TypeError("'NoneType' object cannot be interpreted as an integer")
    a, axis, kth = _prepare(self, kth, axis, kind, order, "ndarray.partition")
    self.assign(_emit("partition", a, kth, axis).value)


def argpartition_method(self, kth, axis=-1, kind="introselect", order=None):
    return argpartition(self, kth, axis, kind, order)


TABLE = {"partition": partition, "argpartition": argpartition}
