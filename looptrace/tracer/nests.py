"""Iteration over index spaces, captured once: `np.ndindex`, `np.ndenumerate`,
`itertools.product`, `.flat`, `np.nditer`, and `enumerate`/`zip` of them.

    for i, j in np.ndindex(n, m):          a nest of two for_loop ops, each traced
        out[i, j] = f(x[i, j])       ->    once: trace time does not grow with n*m

A `Nest` is a list of levels (each a `LoopIter`: a range or an array's first
axis) and a function from the levels' indices to the loop target's item.
`nested_for` traces it as nested loops carrying the same names (a `break`
leaves every level, since each level's exit test reads the break flag).
Outside a `for` statement (`list(np.ndindex(2, 3))`) a Nest iterates as the
real object does, concretely.

Invariant: `FACTORIES` maps `id(np.ndindex)`, `id(np.ndenumerate)`,
`id(np.nditer)` and `id(itertools.product)` to functions that return a Nest when the iteration
can be traced, and the real object otherwise (a product over a Python list
runs as Python: unrolled, reported and warned about past a threshold).
"""
from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from looptrace.errors import UnsupportedError

from . import context as ctx
from . import semantics as sem
from .array import Tracer, is_tracer
from .carries import (
    LoopIter,
    TracedEnumerate,
    TracedRange,
    TracedReversed,
    TracedZip,
    _length_and_item,
    _range_iter,
    _trip_count,
)


class Nest:
    """Nested iteration: `levels` (outermost first) and `item(indices)`."""

    def __init__(self, levels: list[LoopIter], item: Callable[[tuple], Any], concrete: Callable[[], Any]):
        self.levels, self.item, self._concrete = levels, item, concrete

    def __iter__(self):
        return iter(self._concrete())

    def enumerate(self, start: int = 0) -> Nest:
        def item(idx: tuple) -> tuple:
            count = _flat_counter(self.levels, idx)
            return (sem.ufunc("add", count, start) if start else count), self.item(idx)

        return Nest(self.levels, item, lambda: enumerate(self._concrete(), start))


def _flat_counter(levels: list[LoopIter], idx: tuple) -> Any:
    """The position of `idx` (the levels' loop indices) in the nest's iteration
    order: what enumerate counts."""
    acc: Any = None
    for level, i in zip(levels, idx):
        pos = i
        if not (isinstance(level.start, numbers.Integral) and level.start == 0 and
                isinstance(level.step, numbers.Integral) and level.step == 1):
            pos = sem.ufunc("floor_divide", sem.ufunc("subtract", i, level.start), level.step)
        if acc is None:
            acc = pos
        else:
            n = _trip_count(level.start, level.stop, level.step)
            acc = sem.ufunc("add", sem.ufunc("multiply", acc, n), pos)
    return 0 if acc is None else acc


def zip_nests(nests: list[Nest]) -> Nest | None:
    """zip of nests over the same static index space; None if they differ."""
    shapes = [tuple(level.static_len for level in n.levels) for n in nests]
    if len(set(shapes)) != 1 or any(d is None for d in shapes[0]):
        return None
    first = nests[0]
    return Nest(first.levels, lambda idx: tuple(n.item(idx) for n in nests),
                lambda: zip(*(n._concrete() for n in nests)))


# --- the factories -------------------------------------------------------------------------------
def _shape_levels(shape: tuple) -> list[LoopIter]:
    return [LoopIter(0, d, 1, _identity, d) for d in shape]


def ndindex(*shape):
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = tuple(shape[0])
    real = np.ndindex(*shape)  # checks the shape as NumPy does (a traced size fails here)
    shape = tuple(int(d) for d in shape)
    return Nest(_shape_levels(shape), lambda idx: tuple(idx), lambda: real)


def ndenumerate(arr):
    if not is_tracer(arr):
        return np.ndenumerate(arr)
    return Nest(_shape_levels(arr.shape), lambda idx: (tuple(idx), arr[tuple(idx)] if idx else arr[()]),
                lambda: _concrete_ndenumerate(arr))


def _concrete_ndenumerate(arr: Tracer):
    for idx in np.ndindex(arr.shape):
        yield idx, arr[idx]


def product(*iterables, repeat: int = 1):
    iterables = iterables * repeat
    parts = [_level_of(x) for x in iterables]
    if not any(_traceable(x) for x in iterables) or any(p is None for p in parts):
        return itertools.product(*iterables)
    levels = [lvl for lvl, _ in parts]
    items = [fn for _, fn in parts]
    return Nest(levels, lambda idx: tuple(f(i) for f, i in zip(items, idx)),
                lambda: itertools.product(*iterables))


def _traceable(x: Any) -> bool:
    return isinstance(x, (range, TracedRange, TracedReversed, TracedEnumerate, TracedZip, np.ndarray)) \
        or is_tracer(x)


def _level_of(x: Any) -> tuple[LoopIter, Callable] | None:
    """A product's factor as one level: (its loop, loop index -> element). A
    range's loop index is its element; anything else is counted 0..n-1."""
    if not _traceable(x):
        return None
    if isinstance(x, (range, TracedRange, TracedReversed)):
        it = _range_iter(x)
        return LoopIter(it.start, it.stop, it.step, _identity, it.static_len), _identity
    n, element = _length_and_item(x)
    return LoopIter(0, n, 1, _identity, n if isinstance(n, numbers.Integral) else None), element


def _identity(i: Any) -> Any:
    return i


# --- .flat -------------------------------------------------------------------------------------------
class FlatIter:
    """`a.flat` of a traced array: iteration in C order, and a[k] by flat index."""

    def __init__(self, base: Tracer):
        self.base = base

    def nest(self) -> Nest:
        a = self.base
        return Nest(_shape_levels(a.shape), lambda idx: a[tuple(idx)] if idx else a[()],
                    lambda: (a[idx] for idx in np.ndindex(a.shape)))

    def __iter__(self):
        return iter(self.nest())

    def __len__(self) -> int:
        return self.base.size

    def _unravel(self, k: Any) -> tuple:
        shape = self.base.shape
        if isinstance(k, numbers.Integral):
            return np.unravel_index(int(k) % max(self.base.size, 1), shape) if shape else ()
        idx = []
        for d in reversed(shape[1:]):
            idx.append(sem.ufunc("remainder", k, d))
            k = sem.ufunc("floor_divide", k, d)
        idx.append(k)
        return tuple(reversed(idx))

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice) or (is_tracer(k) and k.ndim) or isinstance(k, (list, np.ndarray)):
            return sem.reshape(self.base, (-1,))[k]
        return self.base[self._unravel(k)]

    def __setitem__(self, k: Any, value: Any) -> None:
        if not (isinstance(k, numbers.Integral) or is_tracer(k) and k.ndim == 0):
            raise UnsupportedError("assigning through .flat is supported for one flat index", ctx.current_loc(),
                                   "write through an index of the array itself, or a.reshape(-1) of a copy")
        self.base[self._unravel(k)] = value


def flat(self: Tracer) -> FlatIter:
    return FlatIter(self)


# --- np.nditer -------------------------------------------------------------------------------------
# nditer's default order 'K' is the operands' memory order, which NumPy decides from their strides
# (nditer_constr.c: npyiter_flip_negative_strides, npyiter_find_best_axis_ordering). looptrace's
# signatures hold dtypes and shapes, not strides, so an operand's layout is known here only for
#   - an array argument (its strides at the call, guarded: another layout traces again),
#   - a concrete NumPy array (a constant), and
#   - a value whose layout cannot change the order: at most one element, or a fresh (not a view)
#     result with at most one axis longer than 1 (NumPy allocates it with a positive stride).
# Any other operand under order 'K' or 'A' raises UnsupportedError; 'C' and 'F' need no layout.
_NDITER_FLAGS_IGNORED = {"refs_ok", "zerosize_ok"}
_NDITER_OP_FLAGS = {"readonly", "readwrite", "writeonly"}
_NDITER_DEFAULTS = {"op_dtypes": None, "casting": "safe", "op_axes": None, "itershape": None, "buffersize": 0}
_LAYOUT_HINT = ("pass order='C' (row-major) or order='F' to np.nditer, whose order then does not depend on "
                "memory layout, or iterate an array the function was passed")


class Nditer(Nest):
    """`np.nditer(...)` of traced operands: a Nest in NumPy's iteration order,
    usable as a context manager; its other attributes are not supported."""

    def __enter__(self) -> Nditer:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def close(self) -> None:
        return None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        raise UnsupportedError(f"np.nditer(...).{name} is not supported: looptrace traces `for x in np.nditer(...)` "
                               "as a loop nest", ctx.current_loc(), "iterate it in a `for` statement")


def nditer(op, flags=None, op_flags=None, order="K", **kwargs):
    """np.nditer as a loop nest: one level per axis of the broadcast shape, in
    the order NumPy iterates (memory order for 'K'); each item is the element
    of every operand as a 0-d view (written through by `x[...] = v` for a
    'readwrite' or 'writeonly' operand; a 'readonly' one refuses writes)."""
    many = isinstance(op, (tuple, list))
    ops = list(op) if many else [op]
    if not any(is_tracer(x) for x in ops):
        return np.nditer(op, flags, op_flags, order=order, **kwargs)
    _nditer_refuse(flags, kwargs, ops)
    writable = _nditer_op_flags(op_flags, len(ops))
    originals = ops
    ops = [_operand(x, w) for x, w in zip(ops, writable)]
    shape = tuple(np.broadcast_shapes(*(t.shape for t in ops)))
    for t, w in zip(ops, writable):
        if w and t.shape != shape:
            axis = max(a for a in range(len(shape)) if a < len(shape) - t.ndim or
                       t.shape[a - len(shape) + t.ndim] != shape[a])
            raise ValueError(f"output operand requires a reduction along dimension {len(shape) - 1 - axis}, but the "
                             "reduction is not enabled. The dimension size of 1 does not match the expected "
                             "output shape.")
    if math.prod(shape) == 0 and "zerosize_ok" not in (flags or ()):
        raise ValueError("Iteration of zero-sized operands is not enabled")
    written_boxes = [_root_box(t) for t, w in zip(ops, writable) if w]
    aliased = [any(_root_box(t) is b for b in written_boxes) for t in ops]
    axes = _nditer_axes(order, shape, ops, [_known_strides(t, x) for t, x in zip(ops, originals)])
    levels = [LoopIter(shape[a] - 1, -1, -1, _identity, shape[a]) if flip else LoopIter(0, shape[a], 1, _identity,
                                                                                         shape[a])
              for a, flip in axes]

    def item(idx: tuple) -> Any:
        at = [0] * len(shape)
        for (a, _), i in zip(axes, idx):
            at[a] = i
        elems = [_element(t, at, w, a) for t, w, a in zip(ops, writable, aliased)]
        return tuple(elems) if len(ops) > 1 else elems[0]

    def concrete():
        for idx in itertools.product(*(range(lv.start, lv.stop, lv.step) for lv in levels)):
            yield item(idx)

    return Nditer(levels, item, concrete)


def _nditer_refuse(flags, kwargs: dict, ops: list) -> None:
    for name, value in kwargs.items():
        if name not in _NDITER_DEFAULTS:
            raise TypeError(f"nditer() got an unexpected keyword argument '{name}'")
        if value is not _NDITER_DEFAULTS[name] and value != _NDITER_DEFAULTS[name]:
            raise UnsupportedError(f"np.nditer(..., {name}=...) is not supported", ctx.current_loc(),
                                   "convert and broadcast the operands before iterating them")
    for flag in [flags] if isinstance(flags, str) else (flags or ()):
        if flag not in _NDITER_FLAGS_IGNORED:
            raise UnsupportedError(f"np.nditer's flag {flag!r} is not supported: looptrace iterates one element "
                                   "at a time, as a loop nest", ctx.current_loc(),
                                   "iterate without it (np.ndindex(a.shape) gives the multi-index)")
    if any(x is None for x in ops):
        raise UnsupportedError("np.nditer with a None operand (an output it allocates) is not supported",
                               ctx.current_loc(), "allocate the output with np.empty and make it 'readwrite'")


def _nditer_op_flags(op_flags, n: int) -> list[bool]:
    """Per operand: is it written ('readwrite'/'writeonly')? A flat list applies to every operand."""
    if op_flags is None:
        return [False] * n
    per_op = [op_flags] * n if all(isinstance(f, str) for f in op_flags) else list(op_flags)
    if len(per_op) != n:
        raise ValueError("op_flags must be a tuple or array of per-op flag-tuples")
    out = []
    for fl in per_op:
        fl = [fl] if isinstance(fl, str) else list(fl)
        for f in fl:
            if f not in _NDITER_OP_FLAGS:
                raise UnsupportedError(f"np.nditer's op_flag {f!r} is not supported", ctx.current_loc(),
                                       "use 'readonly' or 'readwrite'")
        out.append("readwrite" in fl or "writeonly" in fl)
    return out


def _operand(x: Any, written: bool) -> Tracer:
    if is_tracer(x):
        return sem.wrap(x.value) if x.weak else x  # NumPy makes a Python number a (strong) 0-d array
    if written:
        raise UnsupportedError("np.nditer writes into an operand that is not an array looptrace traces",
                               ctx.current_loc(), "write into an array argument or one made with np.empty")
    return sem.wrap(ctx.own_const(np.asarray(x)))


class _ReadOnlyElement(Tracer):
    """A 'readonly' operand's element: writing it raises, as NumPy's read-only view does."""

    __slots__ = ()

    def assign(self, value) -> None:
        raise ValueError("assignment destination is read-only")


def _element(t: Tracer, at: list, written: bool, aliased: bool) -> Tracer:
    """The operand's element at iteration position `at` (a broadcast axis
    reads position 0): a 0-d view where it is written, or where another
    operand writes the same array (a read then sees the write, as NumPy's
    view does); else the element's value, which refuses writes."""
    skip = len(at) - t.ndim
    key = tuple(0 if d == 1 else at[skip + k] for k, d in enumerate(t.shape))
    if written or aliased:
        elem = t[key + (Ellipsis,)]
    else:
        elem = Tracer(t[key].value if key else t.value)
    if not written:
        elem.__class__ = _ReadOnlyElement
    return elem


def _root_box(t: Tracer) -> Any:
    while t.base is not None:
        t = t.base
    return t._box


def _broadcast_strides(t: Tracer, strides: tuple, shape: tuple) -> tuple:
    """The operand's strides as NumPy's iterator holds them, broadcast to
    `shape`: 0 for a broadcast axis and for an axis of length 1."""
    skip = len(shape) - t.ndim
    return (0,) * skip + tuple(0 if d == 1 else s for d, s in zip(t.shape, strides))


def _known_strides(t: Tracer, original: Any) -> tuple | None:
    """The operand's own strides, or None when its layout is not known (the comment above)."""
    if not is_tracer(original):
        return np.asarray(original).strides
    c_order = _c_strides(t.shape, t.dtype.itemsize)
    if t.size <= 1:
        return c_order
    st = ctx.state()
    pos = st.arg_boxes.get(id(t._box)) if t.base is None else None
    if pos is not None:
        from looptrace.guards import Source

        strides = tuple(int(s) for s in st.externals.values[pos].strides)
        st.externals.read(strides, Source("arg", pos, f"argument {pos}").attr("strides"))  # guarded
        return strides
    long_axes = sum(d > 1 for d in t.shape)
    producer = st.producers.get(t.value.id)
    if long_axes <= 1 and t.base is None and (producer is None or not producer.prim.view):
        return c_order
    return None


def _c_strides(shape: tuple, itemsize: int) -> tuple:
    out, step = [], itemsize
    for d in reversed(shape):
        out.append(step)
        step *= max(d, 1)
    return tuple(reversed(out))


def _nditer_axes(order: str, shape: tuple, ops: list[Tracer], strides: list) -> list[tuple[int, bool]]:
    """(axis, reversed) per loop level, outermost first."""
    nd = len(shape)
    if order == "C":
        return [(a, False) for a in range(nd)]
    if order == "F":
        return [(a, False) for a in reversed(range(nd))]
    if order not in ("K", "A"):
        raise ValueError("order must be one of 'C', 'F', 'A', or 'K'")
    if any(s is None for s in strides):
        raise UnsupportedError(f"np.nditer(..., order={order!r}) iterates in memory order, and the memory layout of "
                               "an operand computed inside the function is not known to looptrace", ctx.current_loc(),
                               _LAYOUT_HINT)
    if order == "A":
        fortran = all(_f_contiguous(t.shape, s, t.dtype.itemsize) for t, s in zip(ops, strides))
        return [(a, False) for a in (reversed(range(nd)) if fortran else range(nd))]
    return k_order(shape, [_broadcast_strides(t, s, shape) for t, s in zip(ops, strides)])


def _f_contiguous(shape: tuple, strides: tuple, itemsize: int) -> bool:
    """NumPy's F_CONTIGUOUS flag of an array with these strides (axes of length 1 do not count)."""
    if 0 in shape:
        return True
    step = itemsize
    for d, s in zip(shape, strides):
        if d == 1:
            continue
        if s != step:
            return False
        step *= d
    return True


def k_order(shape: tuple, layouts: list[tuple]) -> list[tuple[int, bool]]:
    """NumPy's order 'K' for operands with these (broadcast) strides, as
    (axis, reversed) per loop level, outermost first: an axis on which no
    operand steps forward and one steps backward is reversed; then axes are
    sorted innermost-first by stride, a stable insertion sort in which the
    first operand that has a nonzero stride on both axes decides, and any
    operand that wants C order overrides it (nditer_constr.c)."""
    nd = len(shape)
    flip = [any(s[a] < 0 for s in layouts) and not any(s[a] > 0 for s in layouts) for a in range(nd)]
    perm = list(reversed(range(nd)))  # innermost first, as NumPy's axisdata
    for i0 in range(1, nd):
        j0, ipos = perm[i0], i0
        for i1 in range(i0 - 1, -1, -1):
            j1, ambiguous, swap = perm[i1], True, False
            for s in layouts:
                if s[j0] != 0 and s[j1] != 0:
                    if abs(s[j1]) <= abs(s[j0]):
                        swap = False
                    elif ambiguous:
                        swap = True
                    ambiguous = False
            if not ambiguous:
                if not swap:
                    break
                ipos = i1
        perm.insert(ipos, perm.pop(i0))
    return [(a, flip[a]) for a in reversed(perm)]


def as_nest(obj: Any) -> Nest | None:
    """The Nest a `for` statement iterates, if it is one."""
    if isinstance(obj, Nest):
        return obj
    if isinstance(obj, FlatIter):
        return obj.nest()
    if isinstance(obj, np.flatiter):
        return FlatIter(sem.wrap(sem.as_value(obj.base))).nest()
    return None


FACTORIES: dict[int, Callable] = {id(np.ndindex): ndindex, id(np.ndenumerate): ndenumerate,
                                  id(itertools.product): product, id(np.nditer): nditer}
