"""Iteration over index spaces, captured once: `np.ndindex`, `np.ndenumerate`,
`itertools.product`, `.flat`, and `enumerate`/`zip` of them.

    for i, j in np.ndindex(n, m):          a nest of two for_loop ops, each traced
        out[i, j] = f(x[i, j])       ->    once: trace time does not grow with n*m

A `Nest` is a list of levels (each a `LoopIter`: a range or an array's first
axis) and a function from the levels' indices to the loop target's item.
`nested_for` traces it as nested loops carrying the same names (a `break`
leaves every level, since each level's exit test reads the break flag).
Outside a `for` statement (`list(np.ndindex(2, 3))`) a Nest iterates as the
real object does, concretely.

Invariant: `FACTORIES` maps `id(np.ndindex)`, `id(np.ndenumerate)` and
`id(itertools.product)` to functions that return a Nest when the iteration
can be traced, and the real object otherwise (a product over a Python list
runs as Python: unrolled, reported and warned about past a threshold).
"""
from __future__ import annotations

import itertools
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
                                  id(itertools.product): product}
