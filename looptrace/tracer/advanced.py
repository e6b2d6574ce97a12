"""Several integer arrays in one index: `A[rows, cols]`, `P[np.arange(n), y]`,
`A[np.triu_indices(n, 1)]`, `T[i, :, idx]`, reads and writes.

NumPy's rule: the integer arrays (and, beside them, the integers) are
broadcast together to one shape S; the result has S where the indexed axes
were when they stand next to each other in the key, else S first, followed
by the axes the slices keep. Here that is one gather from the array seen as
(rows, *kept axes): the indexed axes moved to the front and flattened, each
index checked against its own axis (IndexError naming it, as NumPy raises,
never a neighbour's element) and wrapped when negative, then combined into
one row number. A write is the same row number fed to a scatter.

Invariant: the result's shape is NumPy's (`indexing._numpy_shape`), checked
on every read.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from looptrace.errors import InternalError
from looptrace.ops import get as prim
from looptrace.ops.check import Failure

from . import context as ctx
from . import semantics as sem
from .array import Tracer, is_tracer

_ADVANCED = ("array", "int", "dyn")


def wanted(items: list) -> bool:
    """Two integer arrays or more, or one array with integers where taking
    the integers first would put the array's axes elsewhere than NumPy does."""
    return sum(1 for i in items if i.kind == "array") >= 2


def getitem(x: Tracer, items: list, key: Any) -> Tracer:
    from .indexing import _numpy_shape

    sub, positions, adjacent = _basic(x, items, key)
    rows, rest = _rows(sub, positions)
    flat, s_shape = _flat_index(items, [sub.shape[p] for p in positions])
    out = sem.wrap(ctx.emit1(prim("gather"), [rows.value, flat.value], axis=0))
    out = _place(out, len(s_shape), positions[0] if adjacent else 0)
    if tuple(out.shape) != _numpy_shape(x.shape, key):
        raise InternalError(f"advanced index gave shape {out.shape}, NumPy {_numpy_shape(x.shape, key)}")
    return out


def setitem(x: Tracer, items: list, key: Any, value: Any) -> None:
    from . import indexing

    sub, positions, adjacent = _basic(x, items, key)
    if sub is not x:  # x[i, 1:3, j] = v: the write goes through the view x[:, 1:3, :]
        rest = [slice(None)] * sub.ndim
        adv = [it for it in items if it.kind in _ADVANCED]
        for p, it in zip(positions, adv):
            rest[p] = it.array if it.kind == "array" else it.start
        if not adjacent and positions == list(range(positions[0], positions[0] + len(positions))):
            value = _index_axes_in_place(x, sub, key, positions, value)
        indexing.setitem(sub, tuple(rest), value)
        return
    rows, rest_shape = _rows(sub, positions)
    flat, s_shape = _flat_index(items, [sub.shape[p] for p in positions])
    # the value as x[key] is shaped (S placed as NumPy places it), then S first: the scatter's layout
    read_shape = list(rest_shape)
    at = positions[0] if adjacent else 0
    read_shape[at:at] = s_shape
    upd = sem.wrap(indexing._fit(value, x.dtype, tuple(read_shape)))
    k = len(s_shape)
    upd = sem.transpose(upd, list(range(at, at + k)) + [a for a in range(len(read_shape))
                                                         if not at <= a < at + k])
    new_rows = ctx.emit1(prim("scatter"), [rows.value, flat.value, sem.as_value(upd)], axis=0, mode="set")
    moved_shape = tuple(sub.shape[p] for p in positions) + tuple(rest_shape)
    moved = sem.reshape(sem.wrap(new_rows), moved_shape)
    perm = positions + [a for a in range(sub.ndim) if a not in positions]
    inverse = [perm.index(a) for a in range(sub.ndim)]
    x.assign(sem.transpose(moved, inverse).value)


def _basic(x: Tracer, items: list, key: Any) -> tuple[Tracer, list[int], bool]:
    """(x with the slices and new axes applied and full slices on the indexed
    axes, the positions of the indexed axes in it, whether they stand next to
    each other in the key)."""
    from .indexing import _item_key

    basic, positions, full = [], [], True
    for p, it in enumerate(items):
        if it.kind in _ADVANCED:
            positions.append(p)
            basic.append(slice(None))
        elif it.kind == "slice" and it.start == 0 and it.step == 1 and it.size == x.shape[it.axis]:
            basic.append(slice(None))
        else:
            basic.append(_item_key(it))
            full = False
    order = [k for k, it in enumerate(items) if it.kind in _ADVANCED]
    adjacent = order == list(range(order[0], order[-1] + 1)) and adjacent_in_key(key)
    sub = x if full else x[tuple(basic)]
    return sub, positions, adjacent


def adjacent_in_key(key: Any) -> bool:
    """No slice, Ellipsis or None between the first and the last advanced
    entry of the key itself: NumPy puts the indexed axes first when one
    stands between them, even an Ellipsis of no axes (x[:, 0, ..., [0, 0]]
    of a (1, 1, 1) array is (2, 1), where x[:, 0, [0, 0]] is (1, 2))."""
    entries = key if isinstance(key, tuple) else (key,)
    advanced = [k for k, e in enumerate(entries) if not (isinstance(e, slice) or e is Ellipsis or e is None)]
    return all(k in advanced for k in range(advanced[0], advanced[-1] + 1)) if advanced else True


def _rows(sub: Tracer, positions: list[int]) -> tuple[Tracer, tuple]:
    """`sub` with the indexed axes moved to the front and flattened into one."""
    perm = positions + [a for a in range(sub.ndim) if a not in positions]
    moved = sem.transpose(sub, perm) if perm != list(range(sub.ndim)) else sub
    lead = math.prod(sub.shape[p] for p in positions)
    rest = tuple(moved.shape[len(positions):])
    return sem.reshape(moved, (lead,) + rest), rest


def _flat_index(items: list, dims: list[int]) -> tuple[Tracer, tuple]:
    """The row of each indexed element in the flattened axes (int64, shape S)."""
    adv = [it for it in items if it.kind in _ADVANCED]
    indices = [it.array if it.kind == "array" else it.start for it in adv]
    shapes = [tuple(i.shape) if is_tracer(i) else np.shape(i) for i in indices]
    s_shape = tuple(np.broadcast_shapes(*shapes))
    if not any(is_tracer(i) for i in indices):
        concrete = [np.asarray(i, np.int64) for i in indices]
        if all(((c >= -n) & (c < n)).all() for c, n in zip(concrete, dims)):
            rows = np.ravel_multi_index(tuple(np.where(c < 0, c + n, c) for c, n in zip(concrete, dims)),
                                        tuple(dims)) if dims else np.zeros(s_shape, np.int64)
            return sem.wrap(ctx.own_const(np.broadcast_to(rows, s_shape), np.int64)), s_shape
    flat = None
    for a, (it, idx, n) in enumerate(zip(adv, indices, dims)):
        i = sem.astype(idx, np.int64) if is_tracer(idx) else sem.wrap(ctx.own_const(np.asarray(idx), np.int64))
        if it.kind != "int":  # an int was checked and wrapped when the key was read
            i = _checked(i, n, it.axis)
        stride = math.prod(dims[a + 1:])
        term = sem.ufunc("multiply", i, stride) if stride != 1 else i
        flat = term if flat is None else sem.ufunc("add", flat, term)
    return sem.broadcast_to(sem.astype(flat, np.int64), s_shape), s_shape


def _checked(i: Tracer, n: int, axis: int) -> Tracer:
    """i with negative indices counted from the end; out of [-n, n) raises
    IndexError at run time, as NumPy does, naming the index and the axis."""
    loc = ctx.current_loc()
    bad = sem.ufunc("logical_or", sem.ufunc("less", i, -n), sem.ufunc("greater_equal", i, n))
    failure = Failure(IndexError(), loc, f"index {{value}} is out of bounds for axis {axis} with size {n}")
    ctx.emit(prim("check"), [bad.value, i.value], loc, failures=(failure,))
    # past the check every index is in [-n, n): the clip changes nothing, and tells the
    # range analysis (ir/ranges.py) so, so the gather or scatter needs no check of its own
    i = sem.ufunc("minimum", sem.ufunc("maximum", i, -n), n - 1)
    return sem.select(sem.ufunc("less", i, 0), sem.ufunc("add", i, n), i)


def _place(out: Tracer, k: int, at: int) -> Tracer:
    """The gather's (S, *kept) with S moved to position `at` of the kept axes."""
    if at == 0 or k == 0:
        return out
    kept = list(range(k, out.ndim))
    perm = kept[:at] + list(range(k)) + kept[at:]
    return sem.transpose(out, perm)


def add_at(a: Tracer, key: Any, b: Any, name: str) -> None:
    """np.add.at(a, key, b) (np.subtract.at): a[key] += b with every
    repeated index adding its own term, as one scatter-add into `a` seen as
    (rows of the indexed leading axes, *the rest)."""
    from looptrace.errors import UnsupportedError

    from .indexing import _fit, parse_key

    items = parse_key(a.shape, key if isinstance(key, tuple) else (key,))
    adv = [it for it in items if it.kind in _ADVANCED]
    k = len(adv)
    rest_whole = all(it.kind == "slice" and it.start == 0 and it.step == 1 and it.size == a.shape[it.axis]
                     for it in items if it.kind not in _ADVANCED)
    if not adv or not rest_whole or [it.axis for it in adv] != list(range(k)) or \
            any(it.kind == "new" for it in items):
        raise UnsupportedError(f"np.{name}.at is supported with integer indices (arrays, ints) on the leading "
                               "axes and whole axes after them", ctx.current_loc(),
                               "move the indexed axes first, or index one axis at a time")
    res = sem.result_type(a, b)
    if not np.can_cast(res, a.dtype, "same_kind"):
        raise TypeError(f"Cannot cast ufunc '{name}' output from {res!r} to {a.dtype!r} with casting rule "
                        "'same_kind'")
    dims = [a.shape[i] for i in range(k)]
    flat, s_shape = _flat_index(items, dims)
    rest = tuple(a.shape[k:])
    rows = sem.reshape(a, (math.prod(dims),) + rest)
    upd = sem.wrap(_fit(b, a.dtype, tuple(s_shape) + rest))
    if name == "subtract":
        upd = sem.ufunc("negative", upd)
    new = ctx.emit1(prim("scatter"), [rows.value, flat.value, upd.value], axis=0, mode="add")
    a.assign(sem.reshape(sem.wrap(new), tuple(a.shape)).value)


def _index_axes_in_place(x: Tracer, sub: Tracer, key: Any, positions: list, value: Any) -> Tracer:
    """The value of `x[key] = value` laid out as `sub[rest]` reads it. An
    Ellipsis of no axes between two indices (`x[:0, [0], ..., 0]` of a 3-d x)
    makes NumPy put the index's axes first in x[key], while in sub[rest] they
    are adjacent and stay at their place: move them there."""
    from . import indexing

    full = tuple(indexing._numpy_shape(x.shape, key))
    upd = sem.wrap(indexing._fit(value, x.dtype, full))
    k, at = len(full) - (sub.ndim - len(positions)), positions[0]
    return sem.transpose(upd, list(range(k, k + at)) + list(range(k)) + list(range(k + at, len(full))))

