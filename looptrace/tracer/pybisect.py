"""bisect.bisect_left / bisect_right (and bisect.bisect) of traced values.

The search is CPython's own loop, written below in plain Python and traced
like the user's code (runtime.call_converted, as np_scans.py does): a while
loop on `lo < hi` that halves the range by `mid = (lo + hi) // 2` and asks
`a[mid] < x` (left) or `x < a[mid]` (right). So the answer is the plain
function's for every input, not only for a sorted one: an unsorted list,
NaNs (every comparison with one is false), a key= that is not monotonic,
lo/hi inside or past the ends (a read past the end is the IndexError Python
raises) all come out as bisect's C code gives them. np.searchsorted would
agree only on sorted, NaN-free rows.

The sequence is searched as an array: a traced array as it is, a list (of
traced numbers, of Python numbers, grown in a loop, of tuples for a key=)
through np.array first, so that `a[mid]` may read at a run-time position.
`key` is called on `a[mid]` inside the loop, as bisect calls it. insort
changes the list and stays refused (containers.py).

Invariant: the result is an integer of the search's range [lo, hi]; lo < 0
raises ValueError("lo must be non-negative"), hi=None or hi=-1 means len(a)
(CPython's sentinel), and lo/hi that are not integers raise TypeError, as
bisect does.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from . import context as ctx
from . import numpy_api as nx
from .array import is_tracer

SEARCHES = {"bisect_left": "left", "bisect_right": "right"}


def handles(fn: Any) -> bool:
    """Is fn one of bisect's searches (not insort, which changes its list)?"""
    return getattr(fn, "__module__", None) in ("bisect", "_bisect") and getattr(fn, "__name__", "") in SEARCHES


def search(fn: Any, a: Any, x: Any, lo: Any = 0, hi: Any = None, *, key: Any = None) -> Any:
    """bisect.bisect_left/right(a, x, lo, hi, key=key) with traced values: the loop below, traced once."""
    from .runtime import call_converted  # (runtime imports this module)

    seq = _as_array(a)
    lo, hi = _bound(lo, "lo"), _bound(hi, "hi") if hi is not None else None
    if not is_tracer(lo) and lo < 0:
        raise ValueError("lo must be non-negative")
    n = seq.shape[0] if seq.ndim else len(a)  # (a 0-d array has no len(): TypeError below, as Python gives)
    if hi is None:
        hi = n
    elif is_tracer(hi):
        hi = nx.NAMESPACE["where"](hi == -1, n, hi)
    elif hi == -1:
        hi = n
    if is_tracer(lo):
        _refuse_negative(lo)
    loop = _left if SEARCHES[fn.__name__] == "left" else _right
    with ctx.at(ctx.current_loc()):  # (its ops, errors and `explain` line are the user's call's)
        return call_converted(loop, (seq, x, lo, hi, _identity if key is None else key), {})


def _as_array(a: Any) -> Any:
    """The sequence as an array that a run-time position can index."""
    if is_tracer(a):
        if a.ndim == 0:
            raise TypeError("object of type 'numpy.ndarray' has no len()")
        return a
    if isinstance(a, np.ndarray):
        return a
    return nx.NAMESPACE["array"](a)


def _bound(v: Any, name: str) -> Any:
    """lo or hi as an integer (a float or a traced float is Python's TypeError)."""
    if is_tracer(v):
        if np.dtype(v.dtype).kind not in "biu" or v.ndim:
            raise TypeError(f"'{v.dtype}' object cannot be interpreted as an integer ({name})")
        return v
    return operator.index(v)


def _refuse_negative(lo: Any) -> None:
    """A traced lo below 0: bisect's ValueError, raised at run time."""
    from .checks import emit_check

    emit_check(lo < 0, ValueError("lo must be non-negative"), ctx.current_loc())


def _identity(v):
    return v


# --- the loops (traced as user code: keep them plain, as bisect's C code is) ------------------------
def _left(a, x, lo, hi, key):
    while lo < hi:
        mid = (lo + hi) // 2
        if key(a[mid]) < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _right(a, x, lo, hi, key):
    while lo < hi:
        mid = (lo + hi) // 2
        if x < key(a[mid]):
            hi = mid
        else:
            lo = mid + 1
    return lo
