"""Arrays the traced function makes from Python values (`np.array([0, 0])`)
and then writes inside a traced loop or branch.

np.array of Python numbers is a concrete array while tracing: its values are
constants of the program (a static kernel, an index list), which is what
most uses need. A write into it runs once, while tracing; that is right where
the plain function writes it once too (at the top of the function, outside
any traced loop or branch), and wrong inside a loop body or a branch, which
the plain function runs any number of times: `counts = np.array([0, 0])`,
then `counts[0] += 1` in a loop, counted one iteration (a probe found it,
session 33).

So each such array is an `OwnArray` (an ndarray subclass, so everything that
reads it sees a NumPy array) that knows where it was made: the number of its
creation site in the trace and the traced control frame around it. A write
under another frame, or of a traced value, raises `PromoteArray`, and the
function is traced again with that site making a traced array (a constant
the program writes into, as np.zeros(2) is): trace.trace_function.

Invariant: a write into an own array is either one the plain function also
makes exactly once per call, or it never happens (the trace restarts).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.errors import LooptraceError

from . import context as ctx
from .array import is_tracer


class PromoteArray(LooptraceError):
    """Trace again, with creation site `site` making a traced array."""

    def __init__(self, site: int):
        super().__init__(f"internal: an array made while tracing (site {site}) is written under traced control")
        self.site = site


class OwnArray(np.ndarray):
    def __array_finalize__(self, obj: Any) -> None:
        self._lt_where = getattr(obj, "_lt_where", None)  # (trace state, frame, site)

    def _written(self, *values: Any) -> None:
        where = self._lt_where
        if where is None or not ctx.tracing():
            return
        st, frame, site = where
        now = ctx.state()
        if now is not st:  # an array of another trace (kept by the user): not this trace's business
            return
        if now.frame is not frame or any(is_tracer(v) or isinstance(v, (tuple, list)) and any(map(is_tracer, v))
                                         for v in values):  # (a key of traced values too)
            raise PromoteArray(site)

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        # a reduction to one element (d.max(), np.mean(d)) is NumPy's scalar, as of an ndarray
        if return_scalar:
            return arr[()]
        return super().__array_wrap__(arr, context, return_scalar)

    def __getitem__(self, key):
        # a traced index reaching here (`c[t] *= v`: Python reads c[t] itself, not the converted read)
        where = self._lt_where
        if where is not None and ctx.tracing() and ctx.state() is where[0] and \
                any(is_tracer(k) for k in (key if isinstance(key, tuple) else (key,))):
            raise PromoteArray(where[2])
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        self._written(key, value)
        super().__setitem__(key, value)

    def fill(self, value):
        self._written(value)
        super().fill(value)

    def sort(self, *args, **kwargs):
        self._written()
        super().sort(*args, **kwargs)


def _in_place(name: str):
    def op(self, other):
        self._written(other)
        return getattr(super(OwnArray, self), name)(other)

    op.__name__ = name
    return op


for _name in ("__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__", "__ipow__",
              "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__", "__imatmul__"):
    setattr(OwnArray, _name, _in_place(_name))


def made(arr: Any) -> Any:
    """`arr`, a concrete array the traced function just made: an OwnArray, or
    (where an earlier trace found it written under traced control) a traced
    array of its values."""
    if not isinstance(arr, np.ndarray) or not ctx.tracing() or arr.dtype.kind not in "biufc":
        return arr
    st = ctx.state()
    st.own_sites += 1
    site = st.own_sites
    if site in st.promoted:
        from . import semantics as sem

        return sem.wrap(sem.as_value(np.array(arr)))
    own = arr.view(OwnArray)
    own._lt_where = (st, st.frame, site)
    return own
