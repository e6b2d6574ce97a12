"""The storage of a work list of tuples: one growable buffer per field.

A list a traced loop pops from (or reads at a run-time position, or keeps
as a heap) is a work list (carries.ListSpec): its items from before the
loop, then those appended, in buffers the run grows (`reserve`: a new buffer
and a copy when full, amortized doubling) and a count. A list of numbers or
arrays has one buffer of its items; a list of tuples of numbers has one
buffer per field, each of its field's type, so `(0.0, v)` pops a float and
an int, as Python's list gives them back (one array of their common type
turned the int into a float, which then failed as an index).

Invariant: `spec.columns` holds `spec.fields` traced buffers of equal run-time
length (rows), each row k < count one item's field; a field's dtype is the
NumPy promotion of what was stored there (a Python number as one), and
`spec.field_weak[j]` says it reads back as a Python number.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.errors import UnsupportedError
from looptrace.ops import get as prim

from . import context as ctx
from . import semantics as sem
from .array import Tracer
from .values import Segment


def field_types(items: list, fields: int, appended: list | None) -> tuple[list, list]:
    """(dtype, weak) of each field: what the items before the loop hold there
    and what was appended (`appended`: per field, the types seen)."""
    types: list[list] = [list(t) for t in appended] if appended else [[] for _ in range(fields)]
    weak = [all(w for _, w in t) if t else None for t in types]
    for e in items:
        if isinstance(e, Segment):
            cols = getattr(e, "columns", None)
            for j in range(fields):
                dt = cols[j][0].dtype if cols else e.value.dtype
                w = cols[j][1] if cols else e.weak
                types[j].append((_kind_type(dt) if w else dt, w))
                weak[j] = w if weak[j] is None else weak[j] and w
            continue
        for j, x in enumerate(e):
            w = sem.is_weak(x)
            types[j].append((_kind_type(sem.dtype_of(x)) if w else sem.dtype_of(x), w))
            weak[j] = w if weak[j] is None else weak[j] and w
    dtypes = [np.result_type(*[t for t, _ in ts]) if ts else np.dtype(np.int64) for ts in types]
    return dtypes, [bool(w) for w in weak]


def _kind_type(dt: np.dtype) -> Any:
    """A Python number of dt's kind: NumPy promotes it as Python's (weakly)."""
    return sem.WEAK_TYPES[np.dtype(dt).kind](0)


def observe(seen: list | None, v: tuple) -> list:
    """Record the type of each field of an appended tuple in `seen`."""
    seen = seen if seen is not None else [[] for _ in v]
    for j, x in enumerate(v):
        w = sem.is_weak(x) and np.ndim(x) == 0
        t = (_kind_type(sem.dtype_of(x)) if w else sem.dtype_of(x), w)
        if t not in seen[j]:
            seen[j].append(t)
    return seen


def widens(spec, v: tuple) -> bool:
    """Would an appended tuple widen a column (the next round's types)?"""
    return any(np.result_type(c.dtype, _kind_type(sem.dtype_of(x)) if sem.is_weak(x) else sem.dtype_of(x))
               != c.dtype for c, x in zip(spec.columns, v))


def make_columns(dtypes: list, rows: int) -> list[Tracer]:
    """Empty growable buffers of `rows` rows, one per field."""
    return columns_of([sem.full((rows,), 0, dtypes[0]).value] * len(dtypes), dtypes)


def columns_of(parts: list, dtypes: list) -> list[Tracer]:
    """Growable buffers holding `parts` (one per field), all of one run-time
    length (one Dim: `reserve` keeps it, so they stack after the loop)."""
    zero = sem.as_value(0, np.int64)
    first = ctx.emit1(prim("reserve"), [sem.as_value(parts[0], dtypes[0]), zero, zero])
    out = [sem.wrap(first)]
    for p, dt in zip(parts[1:], dtypes[1:]):
        p = sem.as_value(p, dt)
        if tuple(p.shape) != tuple(first.shape):  # (a copy into one of the first's length)
            p = ctx.emit1(prim("dynamic_update_slice"), [sem.as_value(sem.wrap(first), dt), p, zero])
        out.append(sem.wrap(p))
    return out


def reserve(spec, extra: int) -> None:
    """Room for `extra` more rows past the count in every column."""
    for c in spec.columns:
        c.assign(ctx.emit1(prim("reserve"), [c.value, spec.count.value, sem.as_value(extra, np.int64)]))


def write(spec, pos: Any, item: tuple) -> None:
    """Row `pos` of the columns := the item's fields (each cast to its column's type)."""
    at = sem.as_value(pos, np.int64)
    for c, x in zip(spec.columns, item):
        row = ctx.emit1(prim("reshape"), [sem.as_value(x, c.dtype)], shape=(1,))
        c.assign(ctx.emit1(prim("dynamic_update_slice"), [c.value, row, at]))


def read(spec, pos: Any) -> tuple:
    """The item at row `pos` (the caller checked it is one of the list's)."""
    at = sem.as_value(pos, np.int64)
    out = []
    for c, weak in zip(spec.columns, spec.field_weak):
        row = ctx.emit1(prim("dynamic_slice"), [c.value, at], sizes=(1,))
        out.append(Tracer(ctx.emit1(prim("reshape"), [row], shape=()), weak=weak))
    return tuple(out)


def growable(v: Any, dtype: Any) -> Tracer:  # (a list of numbers or arrays: one buffer)
    """v (a buffer of rows) as a growable buffer of `dtype`: its leading axis a run-time length."""
    zero = sem.as_value(0, np.int64)
    return sem.wrap(ctx.emit1(prim("reserve"), [sem.as_value(v, dtype), zero, zero]))


def segment_parts(seg: Segment, fields: int | None) -> list:
    """The buffers a segment (what an earlier loop appended) holds: one per
    field for tuples (exact where that loop kept columns), else its stack."""
    cols = getattr(seg, "columns", None)
    if fields is None:
        return [seg.value]
    if cols is None and seg.mixed:
        raise UnsupportedError("a list of tuples of numbers of different types, appended in an earlier loop, "
                               "popped in a later one: looptrace stacked them in one array, so their types "
                               "would change", seg.loc or ctx.current_loc(), "use one list per field")
    return [v for v, _ in cols] if cols else [sem.as_value(sem.wrap(seg.value)[:, j]) for j in range(fields)]


def segment_count(seg: Segment) -> Any:
    n = seg.value.shape[0]
    return seg.count if seg.count is not None else sem.wrap(sem.as_value(n, np.int64))


def stacked(spec) -> tuple[Any, list, bool]:
    """(the columns stacked as one array of their common type, [(column,
    weak)], whether the fields differ in type) for the list after the loop."""
    dtype = np.result_type(*[c.dtype for c in spec.columns])
    rows = [ctx.emit1(prim("reshape"), [sem.as_value(c, dtype)], shape=(c.shape[0], 1)) for c in spec.columns]
    value = ctx.emit1(prim("concatenate"), rows, axis=1)
    mixed = len({(str(c.dtype), w) for c, w in zip(spec.columns, spec.field_weak)}) > 1
    return value, [(c.value, w) for c, w in zip(spec.columns, spec.field_weak)], mixed

