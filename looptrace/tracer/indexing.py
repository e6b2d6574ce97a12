"""NumPy indexing on tracers: `x[key]` and `x[key] = v` as slice, dynamic
slice, gather and update primitives.

Supported keys: ints, slices (static bounds, or traced bounds whose length is
static, like `X[t - 3:t]`), traced integer scalars, None, Ellipsis, integer
arrays (with slices and integers: advanced.py takes two or more), and
boolean masks for writes.
"""
from __future__ import annotations

import numbers
import sys
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from looptrace.errors import ShapeError, TraceError, TraceIndexError, UnsupportedError
from looptrace.ir.core import Dim, Value
from looptrace.ops import get as prim
from looptrace.ops.shape_arith import fmt

from . import context as ctx
from . import semantics as sem
from .array import Tracer, is_tracer


@dataclass
class Item:
    kind: str  # "int", "dyn", "slice", "dslice", "new", "array"
    axis: int = -1
    start: Any = 0  # int, or Tracer for dyn/dslice
    stop: int = 0
    step: int = 1
    size: int = 1
    array: Any = None


class TooManyIndices(ShapeError, IndexError):
    """More indices than axes: a ShapeError, and an IndexError as NumPy's
    own error is (`x[0]` of a 0-d array or a NumPy scalar)."""


def parse_key(shape: tuple, key: Any) -> list[Item]:
    key = key if isinstance(key, tuple) else (key,)
    n_axes = sum(1 for k in key if k is not None and k is not Ellipsis and not _is_bool_array(k))
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise TraceError("an index can only have a single ellipsis ('...')", ctx.current_loc())
    if n_axes > len(shape):
        raise TooManyIndices(f"too many indices for an array of shape {fmt(shape)}", ctx.current_loc())
    items: list[Item] = []
    axis = 0
    for k in key:
        if k is Ellipsis:
            for _ in range(len(shape) - n_axes):
                items.append(_full(shape, axis))
                axis += 1
        elif k is None:
            items.append(Item("new"))
        else:
            items.append(_parse_one(shape, axis, k))
            axis += 1
    while axis < len(shape):
        items.append(_full(shape, axis))
        axis += 1
    return items


def _full(shape: tuple, axis: int) -> Item:
    return Item("slice", axis, 0, shape[axis], 1, shape[axis])


def _whole_axis(k: Any) -> bool:
    """Is k a slice of every element in order (`:`, `0:`, `::1`), whatever the
    axis's length? (On an axis of a run-time length: a Python TypeError
    before, slice.indices of a Dim.)"""
    return isinstance(k, slice) and k.start in (None, 0) and k.stop is None and k.step in (None, 1) and \
        not any(is_tracer(p) for p in (k.start, k.step))


def _is_bool_array(k: Any) -> bool:
    return (is_tracer(k) or isinstance(k, np.ndarray)) and np.dtype(k.dtype) == np.bool_


def _parse_one(shape: tuple, axis: int, k: Any) -> Item:
    n = shape[axis]
    if isinstance(n, Dim) and _whole_axis(k):  # `R[:, :1]` of rows grown under a condition: all of that axis
        return _full(shape, axis)
    if isinstance(n, Dim):
        from .array import runtime_length_error

        raise runtime_length_error("indexing an axis")
    if isinstance(k, (bool, np.bool_)):
        raise UnsupportedError("indexing with a Python bool is not supported", ctx.current_loc())
    if isinstance(k, numbers.Integral):
        i = int(k)
        if not -n <= i < n:
            # NumPy's IndexError: raised here at the top level, and at run time where the code runs
            # under a traced condition or in a loop that may not run (checks.deferring)
            e = IndexError(f"index {i} is out of bounds for axis {axis} with size {n}")
            loc = ctx.current_loc() if ctx.tracing() else None
            if loc is not None and loc.line > 0:
                e.add_note(f'  File "{loc.file}", line {loc.line}\n    {loc.text.strip()}')
            raise e
        return Item("int", axis, i % n)
    if isinstance(k, slice):
        return _parse_slice(n, axis, k)
    if is_tracer(k) and k.ndim == 0:
        if k.dtype.kind not in "iu":
            raise TraceIndexError(f"arrays used as indices must be of integer (or boolean) type, not {k.dtype}",
                                  ctx.current_loc())
        return Item("dyn", axis, k)
    if is_tracer(k) or isinstance(k, (np.ndarray, list)):
        if isinstance(k, list):  # x[[i, i + 1]]: a list of ints, traced ones among them
            arr = sem.array_from_sequence(k) if any(is_tracer(e) for e in k) else np.asarray(k)
        else:
            arr = k
        if arr.dtype.kind == "b":
            raise UnsupportedError("reading through a boolean mask gives an array whose shape depends "
                                   "on the data; it is not supported", ctx.current_loc(),
                                   "use np.where(mask, x, 0), or assign through the mask: x[mask] = v")
        if arr.dtype.kind not in "iu":
            raise UnsupportedError(f"indexing with an array of dtype {arr.dtype} is not supported",
                                   ctx.current_loc(), "index with integer arrays")
        return Item("array", axis, array=arr)
    from .masked import is_selection

    if is_selection(k):  # x[idx[a:b]]: the positions' count is needed
        k.fail("indexing with it")
    raise TraceIndexError(f"cannot index with a {type(k).__name__}: only integers, slices, `...`, `None` and integer "
                          "or boolean arrays are valid indices", ctx.current_loc())


def _parse_slice(n: int, axis: int, k: slice) -> Item:
    parts = (k.start, k.stop, k.step)
    if not any(is_tracer(p) for p in parts):
        start, stop, step = k.indices(n)
        size = len(range(start, stop, step))
        if size == 0:  # normalized: an empty slice's bounds (like -1 for step -1) mean nothing
            return Item("slice", axis, 0, 0, 1, 0)
        return Item("slice", axis, start, stop, step, size)
    if k.step not in (None, 1):
        raise UnsupportedError("a slice with traced bounds needs step 1", ctx.current_loc())
    if k.start is None or k.stop is None:  # x[i:] is x[i:n], x[:i] is x[0:i]
        k = slice(0 if k.start is None else k.start, n if k.stop is None else k.stop)
    size = _static_difference(k.stop, k.start)
    if size is None:
        from .static import concrete_error
        from .varying import reads_array_data

        if reads_array_data(k):
            raise concrete_error([k.start, k.stop], "the bounds of this slice are read from an array, so its "
                                 "length is known only at run time", _DATA_BOUNDS_HINT)
        # int arguments that decide the length are specialized on (looptrace/specialize.py)
        raise concrete_error([k.start, k.stop], "the length of this slice (stop - start) depends on traced "
                             "values; a slice's length must be known when tracing", _DYNAMIC_SLICE_HINT)
    start = k.start if is_tracer(k.start) else int(k.start)
    if size > n and is_tracer(start):  # a batch or a window longer than the whole axis: each iteration's
        from .windows import last_iterations  # slice is NumPy's shorter one, the loop's (few) iterations peeled

        last_iterations(start, n, size, ctx.current_loc())
    if size < 0 and is_tracer(start):  # x[i:i - 2]: empty in NumPy (but where the stop counts from the end)
        _check_backwards(start, size, n)
        return Item("slice", axis, 0, 0, 1, 0)
    if size < 0 or size > n:
        raise ShapeError(f"slice of length {size} does not fit axis {axis} of size {n}", ctx.current_loc())
    return Item("dslice", axis, start, size=size)


def _check_backwards(start: Tracer, size: int, n: int) -> None:
    """x[s:s + size], size < 0, is empty in NumPy, except from s >= 0 with
    s + size < 0: that stop counts from the end (x[1:-1]), n + size elements.
    SliceOverrunError there (an IndexError), at run time; by the ranges of
    loop indices and constants (varying._interval), only where it may be."""
    from looptrace.errors import SliceOverrunError

    from .checks import emit_check
    from .varying import _interval

    found = _interval(start.value)
    if n + size <= 0 or found is not None and (found[1] < 0 or found[0] + size >= 0):
        return
    loc = ctx.current_loc()
    emit_check(sem.ufunc("logical_and", start >= 0, start + size < 0), SliceOverrunError(
        f"a slice [start:start - {-size}] from a start in [0, {-size}): its stop is negative, which NumPy "
        f"counts from the end (x[1:-1] is x[1:n - 1]), where looptrace's slice of a negative length is "
        "empty", loc, "write the stop as it is meant: max(start - k, 0), or n + start - k"), loc)


_DYNAMIC_SLICE_HINT = (
    "if the length is a constant k, write the stop as start + k (x[s:s + k]); to reduce over a varying "
    "range, mask the whole axis instead: k = np.arange(x.shape[0]); "
    "np.sum(np.where((k >= start) & (k < stop), x, 0)); or loop: for j in range(start, stop): acc += x[j]")


_DATA_BOUNDS_HINT = (
    "slices whose bounds come from an array (row pointers, segment offsets) split an axis into pieces; "
    "loop over each piece's elements instead, which looptrace keeps as a loop of that length: "
    "for j in range(ptr[i], ptr[i + 1]): acc += vals[j] * x[cols[j]]")


def _static_difference(b: Any, a: Any) -> int | None:
    from .static import static_difference

    def value(x: Any):
        return x.value if is_tracer(x) else ctx.const_value(int(x), np.int64)

    return static_difference(value(b), value(a))


# --- reads ----------------------------------------------------------------------------
def getitem(x: Tracer, key: Any) -> Tracer:
    from . import advanced, masked, varying

    split = masked.after_integers(key)
    if split is not None:  # x[i, mask] is x[i][mask]
        return getitem(getitem(x, split[0]), split[1])
    mask = masked.mask_of(key)
    if mask is not None:  # x[mask]: a length known only at run time (masked.py)
        return masked.read(x, mask)
    if masked.is_selection(key):  # y[idx[a:b]]: a gather at the selected indices (varying.py)
        return varying.gather(x, key)
    if isinstance(key, tuple) and key and all(masked.is_selection(k) for k in key):
        # x[np.nonzero(m)]: one selection's positions per axis
        return varying.gather(x, key[0]) if len(key) == 1 else varying.gather_at(x, key)
    sliced = varying.varying_slice(x.shape, key)
    if sliced is not None:  # x[i, a:b] of a length known only at run time: varying.py
        sel = sliced.read(getitem(x, sliced.whole))
        sel.view_of = (x, key)  # a view of x: `s = x[a:b]; s *= 2` writes into x (MaskedSelection.inplace)
        return sel
    items = parse_key(x.shape, key)
    if advanced.wanted(items):
        return advanced.getitem(x, items, key)
    if _mixed_advanced(items):
        split = _split_advanced(x, items, key)
        return getitem(*split) if split is not None else advanced.getitem(x, items, key)
    if any(i.kind == "array" for i in items) or _is_bool_array(key) or _scalar_index(items, key):
        return sem.wrap(getitem_value(x.value, items))
    if x.ndim == 0 and (x.weak or x.base is None and not x.array0d):
        # `s[...]` of a number: NumPy makes a new 0-d array, which writes to it do not pass on
        res = sem.wrap(getitem_value(x.value, items))
        return _ndarray0(res) if res.ndim == 0 else res
    parent = x

    def derive(base_val: Value) -> Value:
        return getitem_value(base_val, parse_key(tuple(base_val.shape), key))

    from . import windows

    view = windows.view(parent, derive, key, items)
    if any(i.kind == "dyn" for i in items):
        # a traced integer index raises IndexError now in NumPy, even for a view
        # nothing reads: read it now (the view keeps this value while its base is
        # unchanged; an unused read keeps its bounds check, vectorize/dead_reads.py)
        view.value
    return _ndarray0(view) if view.ndim == 0 else view


def _ndarray0(t: Tracer) -> Tracer:
    """A 0-d view (`x[...]`, `x[0, ...]`), a 0-d array in NumPy, not a scalar."""
    t.array0d = True
    return t


def getitem_value(v: Value, items: list[Item]) -> Value:
    if sum(1 for i in items if i.kind == "array") > 1:  # getitem sends these to advanced.py
        raise UnsupportedError("indexing with more than one integer array is not supported here",
                               ctx.current_loc(), "index one axis at a time")
    has_array = any(i.kind == "array" for i in items)
    if has_array and any(i.kind in ("int", "dyn") for i in items):
        raise UnsupportedError("mixing an integer array index with integer indices is not supported",
                               ctx.current_loc(), "index in two steps: x[i][idx]")
    v = _runtime_axes_last(v, items, lambda w, its: _dynamic_part(_static_part(w, its), its))
    for it in items:
        if it.kind == "array":
            idx = sem.as_value(it.array)
            v = ctx.emit1(prim("gather"), [v, idx], axis=it.axis)
    return _final_reshape(v, items)


def _runtime_axes_last(v: Value, items: list[Item], index) -> Value:
    """index(v, items), where v's axes of a run-time length (taken whole:
    `R[:, :1]`, `R[:, j]` of rows grown under a condition) are moved last
    first and back after: the slice primitives' bounds and sizes are ints,
    and they cover the leading axes they name."""
    whole = [i.axis for i in items if i.kind == "slice" and isinstance(i.stop, Dim)]
    if not whole or _has_no_effect(v, items):
        return index(v, items)
    rest = [a for a in range(len(v.shape)) if a not in whole]
    perm = rest + whole
    where = {a: k for k, a in enumerate(perm)}
    moved = sorted((replace(i, axis=where[i.axis]) for i in items if i.kind != "new"), key=lambda i: i.axis)
    out = index(ctx.emit1(prim("transpose"), [v], perm=tuple(perm)), moved)
    return ctx.emit1(prim("transpose"), [out], perm=tuple(int(k) for k in np.argsort(perm)))


def _has_no_effect(v: Value, items: list[Item]) -> bool:
    """Does every item take its whole axis (`x[:]`, `x[...]`)?"""
    return all(i.kind == "slice" and (i.start, i.stop, i.step) == (0, v.shape[i.axis], 1)
               for i in items if i.kind != "new")


def _joins_dynamic(it: Item, items: list[Item]) -> bool:
    """An integer index, or a slice of step 1, beside traced ones is one more
    start of the dynamic_slice (`pos[j, 0]` is one element read, not a column
    view then a read of it; `B[i, :-1]` is the part of row i read, which the
    vectorizer compares with the part `B[i, 1:]` written)."""
    return any(i.kind in ("dyn", "dslice") for i in items) and (
        it.kind == "int" or it.kind == "slice" and it.step == 1 and isinstance(it.stop, int) and it.stop >= it.start)


def _static_part(v: Value, items: list[Item]) -> Value:
    axes = [i for i in items if i.kind not in ("new",)]
    starts, stops, steps = [], [], []
    for it in axes:
        if it.kind == "slice" and not _joins_dynamic(it, items):
            starts.append(it.start), stops.append(it.stop), steps.append(it.step)
        elif it.kind == "int" and not _joins_dynamic(it, items):
            starts.append(it.start), stops.append(it.start + 1), steps.append(1)
        else:
            n = v.shape[it.axis]
            starts.append(0), stops.append(n), steps.append(1)
    trivial = all(a == 0 and b == n and s == 1 for a, b, s, n in zip(starts, stops, steps, v.shape))
    if trivial:
        return v
    while stops and isinstance(stops[-1], Dim):  # (trailing axes of a run-time length, taken whole: _runtime_axes_last)
        starts.pop(), stops.pop(), steps.pop()
    return ctx.emit1(prim("slice"), [v], starts=tuple(starts), stops=tuple(stops), steps=tuple(steps))


def _dynamic_part(v: Value, items: list[Item]) -> Value:
    dyn = [i for i in items if i.kind in ("dyn", "dslice") or _joins_dynamic(i, items)]
    if not dyn:
        return v
    last = max(i.axis for i in dyn if i.kind != "slice" or (i.start, i.stop) != (0, v.shape[i.axis]))
    starts: list[Value] = []
    sizes: list[int] = []
    pairs: list[int] = []  # axes of x[s:s + 1] read as two elements (`_pair_start`)
    by_axis = {i.axis: i for i in items if i.kind != "new"}
    for axis in range(last + 1):
        it = by_axis[axis]
        if it.kind in ("dyn", "dslice"):
            if it.kind == "dslice" and it.size > 1 and is_tracer(it.start) and isinstance(v.shape[axis], int):
                from .windows import last_iterations

                last_iterations(it.start, v.shape[axis], it.size, ctx.current_loc())
            starts.append(sem.as_value(it.start, np.int64))
            sizes.append(it.size)
            if _may_start_at_minus_one(it, v.shape[axis]):
                pairs.append(axis)
        elif _joins_dynamic(it, items) and it.kind == "slice":
            starts.append(ctx.const_value(it.start, np.int64))
            sizes.append(it.stop - it.start)
        elif _joins_dynamic(it, items):
            starts.append(ctx.const_value(it.start, np.int64))
            sizes.append(1)
        else:
            starts.append(ctx.const_value(0, np.int64))
            sizes.append(v.shape[axis])
    picks = [_pair_start(starts, sizes, axis, v.shape[axis]) for axis in pairs]
    v = ctx.emit1(prim("dynamic_slice"), [v, *starts], sizes=tuple(sizes))
    for axis, second in zip(pairs, picks):
        v = _one_of_pair(v, axis, second)
    return v


def _may_start_at_minus_one(it: Item, n: Any, least: int = 2) -> bool:
    """x[s:s + 1] of a traced s that may be -1: NumPy's x[-1:0] is empty, where
    a read of one element at s counts it from the end (x[-1]); by the ranges
    of loop indices and constants (varying._interval: x[i - 1:i] for i in
    range(n) may be, x[i:i + 1] is not)."""
    if it.kind != "dslice" or it.size != 1 or not is_tracer(it.start) or not isinstance(n, int) or n < least:
        return False
    from .varying import _interval

    found = _interval(it.start.value)
    return found is None or found[0] <= -1 <= found[1]


def _check_empty_writes(shape: tuple, items: list[Item]) -> None:
    """x[s:s + 1, ...] = v at s = -1 writes nothing in NumPy (x[-1:0] is
    empty), where a write of one element at s would write x[-1]: raises
    SliceOverrunError there (a window over axis 0 alone: windows.write)."""
    from looptrace.errors import SliceOverrunError

    from .checks import emit_check

    for it in items:
        if _may_start_at_minus_one(it, shape[it.axis] if it.kind == "dslice" else 0, least=1):
            loc = ctx.current_loc()
            emit_check(sem.ufunc("equal", it.start, -1), SliceOverrunError(
                "a slice [start:start + 1] written at start = -1: NumPy's slice x[-1:0] is empty and writes "
                "nothing, looptrace's keeps its length 1", loc,
                "guard the write with `if start >= 0:` (or write with max(start, 0))"), loc)


def _pair_start(starts: list, sizes: list, axis: int, n: int) -> Tracer:
    """x[s:s + 1] read as the two elements from t = min(s', n - 2) (s' = s
    counted from the end where negative), then the one at s' (`_one_of_pair`):
    a read of two elements raises IndexError at a start outside [0, n - 2],
    which t is where NumPy's slice is not the element x[s] (s = -1, and
    s < -n or s >= n: empty). No check of its own: a window nothing reads
    (one a masked reduction took, windows.py) raises nothing. Sets the
    axis's start and size; gives whether the element is the second one."""
    s = sem.wrap(starts[axis])
    at = sem.select(s < 0, s + n, s)
    fits = sem.ufunc("logical_and", sem.ufunc("logical_and", s >= -n, s < n), sem.ufunc("not_equal", s, -1))
    starts[axis] = sem.as_value(sem.select(fits, sem.ufunc("minimum", at, n - 2), s), np.int64)
    sizes[axis] = 2
    return sem.ufunc("equal", at, n - 1)


def _one_of_pair(v: Value, axis: int, second: Tracer) -> Value:
    lead = tuple(v.shape[:axis])
    halves = [ctx.emit1(prim("slice"), [v], starts=(0,) * axis + (k,), stops=lead + (k + 1,),
                        steps=(1,) * (axis + 1)) for k in (0, 1)]
    return sem.as_value(sem.select(second, sem.wrap(halves[1]), sem.wrap(halves[0])))


def _final_reshape(v: Value, items: list[Item]) -> Value:
    shape: list = []
    for it in items:
        if it.kind == "new":
            shape.append(1)
        elif it.kind in ("slice", "dslice"):
            shape.append(it.size)
        elif it.kind == "array":
            shape.extend(np.shape(it.array) if not is_tracer(it.array) else it.array.shape)
    shape_t = tuple(shape)
    if shape_t == v.shape:
        return v
    return ctx.emit1(prim("reshape"), [v], shape=shape_t)


def _scalar_index(items: list[Item], key: Any) -> bool:
    """An integer on every axis (and no Ellipsis): NumPy returns a scalar, a
    copy, so later writes to either side do not reach the other."""
    keys = key if isinstance(key, tuple) else (key,)
    return all(i.kind in ("int", "dyn") for i in items) and not any(k is Ellipsis for k in keys)


def _mixed_advanced(items: list[Item]) -> bool:
    """One integer array together with integer indices (`A[idx, 1]`)."""
    return sum(1 for i in items if i.kind == "array") == 1 and any(i.kind in ("int", "dyn") for i in items)


def _split_advanced(x: Tracer, items: list[Item], key: Any) -> tuple[Tracer, tuple] | None:
    """`x[key]` as `x[basic][rest]`: a view without the integer array, then
    the array on the axis it lands on. None where NumPy's placement of the
    advanced axes (integers and the array together) differs from that
    (advanced.py takes those)."""
    basic, rest_axis = [], 0
    for k, it in enumerate(items):
        if it.kind == "array":
            rest_axis = sum(1 for i in items[:k] if i.kind in ("slice", "dslice", "new"))
            basic.append(slice(None))
        else:
            basic.append(_item_key(it))
    from . import advanced

    arr = next(i.array for i in items if i.kind == "array")
    order = [k for k, it in enumerate(items) if it.kind in ("array", "int", "dyn")]
    if (order != list(range(order[0], order[-1] + 1)) or not advanced.adjacent_in_key(key)) and np.ndim(arr) > 0:
        # the integers stand apart from the array (x[0, :, idx], or x[:, 0, ..., idx] even where the
        # Ellipsis stands for no axis): NumPy puts the array's axes first, which the shapes alone may
        # not tell apart (a (3, 3) either way when both lengths are 3)
        return None
    sub = getitem(x, tuple(basic))
    rest = (slice(None),) * rest_axis + (arr,)
    expected = _numpy_shape(x.shape, key)
    got = tuple(sub.shape[:rest_axis]) + tuple(np.shape(arr) if not is_tracer(arr) else arr.shape) \
        + tuple(sub.shape[rest_axis + 1:])
    if got != expected:
        return None
    return sub, rest


def _item_key(it: Item) -> Any:
    if it.kind == "new":
        return None
    if it.kind in ("int", "dyn"):
        return it.start
    if it.kind == "dslice":
        return slice(it.start, it.start + it.size)
    return slice(it.start, it.stop if it.stop >= 0 else None, it.step)


def _numpy_shape(shape: tuple, key: Any) -> tuple:
    """The shape NumPy gives `x[key]` (traced positions replaced by 0)."""
    concrete = []
    for k in key if isinstance(key, tuple) else (key,):
        if is_tracer(k) and k.ndim == 0:
            concrete.append(0)
        elif is_tracer(k):
            concrete.append(np.zeros(k.shape, np.int64))
        elif isinstance(k, slice) and any(is_tracer(p) for p in (k.start, k.stop, k.step)):
            concrete.append(slice(0, _static_difference(k.stop, k.start)))
        else:
            concrete.append(k)
    return np.broadcast_to(np.empty((), np.bool_), shape)[tuple(concrete)].shape


# --- writes ---------------------------------------------------------------------------
def setitem(x: Tracer, key: Any, value: Any) -> None:
    from . import advanced, masked, varying

    if isinstance(value, Tracer) and value.base is x and value.index is key:
        return  # `x[k] += v` already wrote through the view x[k]
    if isinstance(value, masked.MaskedSelection) and value.view_of is not None and value.view_of[0] is x \
            and value.view_of[1] is key:
        return  # x[k] = x[k], a view of run-time length (`x[p[i]:p[i + 1]] *= 2`: its in-place operator wrote it)
    if x.ndim == 0 and id(sys._getframe(1).f_code) in ctx.USER_CODE:
        from .methods import check_number_subscript

        check_number_subscript(x, written=True)  # `x[0] = v` of a number: Python's TypeError
    value = _stored_scalar(x, key, value)
    if isinstance(value, Tracer) and value.ndim == 0 and value.dtype.kind == "f" and (
            x.dtype.kind == "i" or x.dtype.kind == "u" and value.weak):
        # a float scalar stored into a signed integer array goes through Python's int(), as in
        # NumPy: a NaN raises ValueError, an infinity or a value past 64 bits OverflowError, then
        # one past the array's type OverflowError; so does a Python float stored into an unsigned
        # one (a NumPy float there is cast in C: 340.0 into uint8 gives 84)
        from .pymath import int_of_whole

        value = int_of_whole(value)
    elif isinstance(value, float) and x.dtype.kind == "u":  # a Python float known while tracing: as above
        from .pymath import int_of_whole

        value = int_of_whole(sem.wrap(sem.as_value(np.float64(value))))
    elif isinstance(value, (float, np.floating)) and x.dtype.kind == "i" and not abs(value) < 2.0 ** 63:
        # a NaN, an infinity or a float past int64 known while tracing (`np.sqrt(abs(-np.inf)) / -4`):
        # raises where the store runs, as the plain function does (a loop of no trips never stores)
        from .pymath import int_of_whole

        value = int_of_whole(sem.wrap(sem.as_value(np.float64(value))))
    split = masked.after_integers(key)
    if split is not None:  # x[i, mask] = v is x[i][mask] = v
        setitem(getitem(x, split[0]), split[1], value)
        return
    mask = masked.mask_of(key)
    if mask is not None:  # x[mask] = v: a select
        masked.write(x, mask, value)
        return
    from . import stepped

    if stepped.write(x, key, value):  # x[a:b:s] = v, s != 1, traced bounds: a loop over the positions
        return
    sliced = varying.varying_slice(x.shape, key)
    if sliced is not None and sliced.windowed:  # a select over the whole axis at every write
        sliced.read(x).fail("a write through it")
    if sliced is not None:  # x[i, a:b] = v of a length known only at run time: a select in x[i, :]
        masked.write(getitem(x, sliced.whole), sliced.mask, value, sliced.bounds, sliced.axis)
        return
    sem.check_array_like(value, "value to assign")
    from . import windows

    if windows.write(x, key, value):  # x[s:s+k] = v, shortened as NumPy does where it runs past the end
        return
    items = parse_key(x.shape, key)
    if advanced.wanted(items):
        advanced.setitem(x, items, key, value)
        return
    if _mixed_advanced(items) or _partial_with_array(x.shape, items):
        split = _split_advanced(x, items, key)
        if split is None:
            advanced.setitem(x, items, key, value)
        else:
            setitem(*split, value)
        return
    old = x.value
    if any(i.kind == "array" for i in items):
        new = _scatter_set(old, items, value)
    elif all(i.kind != "slice" or i.step == 1 for i in items):
        _check_empty_writes(tuple(x.shape), items)
        new = _block_update(old, items, value)
    elif any(i.kind in ("dyn", "dslice") for i in items):
        first, rest = _split_dynamic(items)  # x[::2, i] = v as (view x[:, i])[::2] = v
        setitem(getitem(x, first), rest, value)
        return
    else:
        new = _strided_update(old, items, value)
    x.assign(new)


def _stored_scalar(x: Tracer, key: Any, value: Any) -> Any:
    """`value` as NumPy stores it into x[key] where that is known while tracing:
    a traced Python complex into an int or float array raises int()'s / float()'s
    TypeError (a bool array takes its truth); a NumPy scalar known while tracing
    (`a[0] = np.int64(300)`) into an int array through a basic key is converted
    by NumPy itself (a signed target raises OverflowError where it does not fit,
    an unsigned one wraps, NaN raises ValueError); through an index array or a
    mask NumPy casts it unsafely, as the compiled code does."""
    dtype = np.dtype(x.dtype)
    if is_tracer(value) and value.ndim == 0 and value.weak and value.dtype.kind == "c" and dtype.kind in "iuf":
        what = "int() argument must be a string, a bytes-like object or a real number" if dtype.kind in "iu" \
            else "float() argument must be a string or a real number"
        raise TypeError(f"{what}, not 'complex'")
    if dtype.kind not in "iu" or not _basic_key(key):
        return value
    known = _known_numpy_scalar(value)
    if known is None or known.dtype == dtype:
        return value
    probe = np.empty((), dtype)
    probe[()] = known  # NumPy's own error, or its own value
    return probe[()]


def _known_numpy_scalar(value: Any) -> np.generic | None:
    if isinstance(value, np.generic):
        return value
    if not is_tracer(value) or value.ndim or value.weak or value.array0d or value.value.const is None:
        return None
    return np.asarray(value.value.const)[()]


def _basic_key(key: Any) -> bool:
    """Ints, slices, None and Ellipsis only: NumPy stores a scalar through such a
    key as one element (its setitem), through an array index by a cast."""
    parts = key if isinstance(key, tuple) else (key,)
    for k in parts:
        if k is None or k is Ellipsis or isinstance(k, slice):
            continue
        if isinstance(k, (bool, np.bool_)):
            return False
        if isinstance(k, (int, np.integer)):
            continue
        if (is_tracer(k) or isinstance(k, np.ndarray)) and k.ndim == 0 and np.dtype(k.dtype).kind in "iu":
            continue
        return False
    return True


def _target_shape(items: list[Item]) -> tuple:
    return tuple(i.size for i in items if i.kind in ("slice", "dslice"))


def _split_dynamic(items: list[Item]) -> tuple[tuple, tuple]:
    """(first, rest) keys with x[key] == x[first][rest]: `first` holds the
    integer and traced positions, `rest` the strided slices and new axes."""
    first, rest = [], []
    for it in items:
        if it.kind == "new":
            rest.append(None)
        elif it.kind in ("int", "dyn"):
            first.append(it.start)
        elif it.kind == "dslice":
            first.append(_item_key(it))
            rest.append(slice(None))
        else:
            first.append(slice(None))
            rest.append(_item_key(it))
    return tuple(first), tuple(rest)


def _scalar_into_narrower(value: Any, dtype: np.dtype) -> bool:
    if not (is_tracer(value) and value.ndim == 0 and not value.weak and not value.array0d):
        return False
    src, dst = np.dtype(value.dtype), np.dtype(dtype)
    return src.kind in "iu" and src != np.uint64 and dst.kind == "i" and not np.can_cast(src, dst)


def _partial_with_array(shape: tuple, items: list[Item]) -> bool:
    """An integer array index next to new axes or partial/strided slices:
    written as a scatter into the view those other items select."""
    if sum(1 for i in items if i.kind == "array") != 1:
        return False
    return any(i.kind == "new" or i.kind == "dslice" or
               (i.kind == "slice" and (i.step != 1 or i.size != shape[i.axis])) for i in items)


def _fit_items(value: Any, dtype: np.dtype, items: list[Item]) -> Value:
    """`value` broadcast to the shape `x[key]` has (new axes included, as
    NumPy requires), then with those size-1 new axes dropped."""
    full = tuple(1 if i.kind == "new" else i.size for i in items if i.kind in ("slice", "dslice", "new"))
    v = _fit(value, dtype, full)
    target = _target_shape(items)
    if tuple(v.shape) != target:
        v = ctx.emit1(prim("reshape"), [v], shape=target)
    return v


def _fit(value: Any, dtype: np.dtype, shape: tuple) -> Value:
    v = sem.as_value(value, dtype)
    if _scalar_into_narrower(value, dtype) and v is not value.value:
        # a NumPy int scalar stored into a narrower signed int array (`out8[i] = a64[i] * 2`): NumPy 2
        # converts it as a Python int, which raises OverflowError where it does not fit (a 0-d array wraps)
        ctx.state().python_casts[v.id] = np.dtype(dtype)
    if v.shape == shape:
        return v
    shape_no_new = shape
    try:
        return sem.broadcast_to(sem.wrap(v), shape_no_new).value
    except ShapeError:
        raise ShapeError(f"could not broadcast input array from shape {fmt(v.shape)} into shape "
                         f"{fmt(shape)}", ctx.current_loc()) from None


def _block_update(old: Value, items: list[Item], value: Any) -> Value:
    axes = [i for i in items if i.kind != "new"]
    upd = _fit_items(value, old.dtype, items)
    block = tuple(1 if i.kind in ("int", "dyn") else i.size for i in axes)
    if upd.shape != block:
        upd = ctx.emit1(prim("reshape"), [upd], shape=block)
    starts = [sem.as_value(i.start, np.int64) if i.kind in ("dyn", "dslice")
              else ctx.const_value(i.start, np.int64) for i in axes]
    while len(starts) > 1 and starts[-1].is_const and int(starts[-1].const) == 0 \
            and block[len(starts) - 1] == old.shape[len(starts) - 1]:
        starts.pop()
    if not old.shape:  # `out[...] = v` or `out[()] = v` of a 0-d array: its new value is v (cast)
        return upd
    return ctx.emit1(prim("dynamic_update_slice"), [old, upd, *starts])


def _strided_update(old: Value, items: list[Item], value: Any) -> Value:
    axes = [i for i in items if i.kind != "new"]
    starts = tuple(i.start for i in axes)
    stops = tuple(i.stop if i.kind == "slice" else i.start + 1 for i in axes)
    steps = tuple(i.step if i.kind == "slice" else 1 for i in axes)
    block = tuple(len(range(a, b, s)) for a, b, s in zip(starts, stops, steps))
    upd = _fit_items(value, old.dtype, items)
    if upd.shape != block:
        upd = ctx.emit1(prim("reshape"), [upd], shape=block)
    return ctx.emit1(prim("update_slice"), [old, upd], starts=starts, stops=stops, steps=steps)


def _scatter_set(old: Value, items: list[Item], value: Any) -> Value:
    axes = [i for i in items if i.kind != "new"]
    arr_items = [i for i in axes if i.kind == "array"]
    if len(arr_items) != 1 or any(i.kind != "slice" or i.size != old.shape[i.axis] or i.step != 1
                                  for i in axes if i.kind != "array"):
        raise UnsupportedError("assigning through an integer array index is supported only with "
                               "full slices on the other axes", ctx.current_loc())
    it = arr_items[0]
    idx = sem.as_value(it.array)
    shape = old.shape[:it.axis] + idx.shape + old.shape[it.axis + 1:]
    upd = _fit(value, old.dtype, tuple(shape))
    return ctx.emit1(prim("scatter"), [old, idx, upd], axis=it.axis, mode="set")
