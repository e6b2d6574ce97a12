"""The positions a sum can skip: the window of a range-masked fold.

A slice whose length is known only at run time (`L[i, :i] @ x[:i]`, CSR rows
`A_val[ptr[i]:ptr[i + 1]] @ x[A_col[ptr[i]:ptr[i + 1]]]`) reaches codegen
as a sum over the whole axis of `select(lo <= p & p < hi, term, 0)`, with p
the position on the summed axis and lo, hi the same all along it (or as a
count of that mask, or a max/min of `select(mask, term, -inf/+inf)`). Every
term outside [lo, hi) is then +0 (or the max's -inf, the min's +inf), which
changes nothing in a fold whose accumulators start at that value (x + +0.0
== x bit for bit, and a sum started at +0.0 is never -0.0), so a target may
run the fold's loop over any range that covers [lo, hi) clipped to the
axis, and keep the mask for the positions of that range outside the window.
The result is the same bits as the whole-axis loop; the work is the
window's length instead of the axis': a CSR product costs the nonzeros once
instead of rows times nonzeros.

`window(op, axis, producer)` gives the bounds as values to read at the
fold's kept index (each independent of the summed axis), or None.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from looptrace.ir.core import Op, Value
from looptrace.ir.ranges import progression

# a fold -> the value its terms take outside the window that leaves it unchanged
_FOLDS = {"reduce_sum": 0.0, "reduce_max": -np.inf, "reduce_min": np.inf}
# comparison name -> (position on the left: the bound is lower or upper and inclusive or not)
_LEFT = {"greater_equal": ("lo", 0), "greater": ("lo", 1), "less": ("hi", 0), "less_equal": ("hi", 1)}
_RIGHT = {"less_equal": ("lo", 0), "less": ("lo", 1), "greater": ("hi", 0), "greater_equal": ("hi", 1)}


@dataclass(frozen=True)
class Bound:
    """A bound of the window: `value + shift` (lo: first position in; hi: first position out)."""
    value: Value
    shift: int


@dataclass(frozen=True)
class Window:
    masked: Value  # the fold's input, select(mask, term, 0)
    lows: tuple[Bound, ...]
    highs: tuple[Bound, ...]


def window(op: Op, axis: int, producer: dict[int, Op]) -> Window | None:
    """The window of a sum over `axis` (of its input) whose terms are zero
    outside a range of positions, or None."""
    if op.prim.name not in _FOLDS or len(op.inputs) != 1:
        return None
    u = op.inputs[0]
    mask = _mask_of(u, producer, _FOLDS[op.prim.name])
    return _bounds(u, mask, axis, producer) if mask is not None else None


def exact_window(op: Op, axis: int, producer: dict[int, Op]) -> Value | None:
    """The fold's masked input `select(mask, term, neutral)` when the mask is
    the window's bounds and nothing else, so that inside the window every
    term is the select's own; None where the mask tests more (`x[p] > 0`
    as well: the window then only bounds where the mask may hold)."""
    w = window(op, axis, producer)
    if w is None:
        return None
    sel = producer.get(w.masked.id)
    if sel is None or sel.prim.name != "select":
        return None
    u = w.masked
    for test in _conjuncts(sel.inputs[0], producer):
        found = _compare(test, u, axis, producer)
        if found is None and u.ndim == 1:
            found = _row_compare(test, producer)
        if found is None:
            return None
    return u


def select_window(v: Value, axis: int, producer: dict[int, Op]) -> Window | None:
    """The window on `axis` of v = select(mask, x, 0): outside it v is 0 (the
    indices of a gather through a varying slice, `x[cols[ptr[i]:ptr[i + 1]]]`,
    which need checking only inside it)."""
    sel = producer.get(v.id)
    if sel is None or sel.prim.name != "select" or not _is(sel.inputs[2], 0.0):
        return None
    return _bounds(v, sel.inputs[0], axis, producer)


def _bounds(u: Value, mask: Value, axis: int, producer: dict[int, Op]) -> Window | None:
    lows, highs = [], []
    for test in _conjuncts(mask, producer):
        found = _compare(test, u, axis, producer)
        if found is None and u.ndim == 1:
            found = _row_compare(test, producer)
        if found is not None:
            side, bound = found
            (lows if side == "lo" else highs).append(bound)
    if not lows and not highs:
        return None
    return Window(u, tuple(lows), tuple(highs))


def _row_compare(row: Op, producer: dict[int, Op]) -> tuple[str, Bound] | None:
    """Row s of a mask batched out of a loop (`reshape(dynamic_slice(M, s))`,
    M[t, p] = p < t + c, the vectorizer's hoist of `L[i, :i]`'s mask): the
    comparison of the row's positions with s + c."""
    if row.prim.name != "reshape" or row.out.ndim != 1:
        return None
    ds = producer.get(row.inputs[0].id)
    if ds is None or ds.prim.name != "dynamic_slice" or len(ds.inputs) != 2 or ds.inputs[0].ndim != 2 \
            or tuple(ds.attrs.get("sizes", ())) != (1,):
        return None
    m, start = ds.inputs
    test = producer.get(m.id)
    if test is None or len(test.inputs) != 2:
        return None
    a, b = test.inputs
    for table, pos, other in ((_LEFT, a, b), (_RIGHT, b, a)):
        if test.prim.name in table and _is_position(pos, m, 1, producer):
            offset = _row_offset(other, m, producer)
            if offset is not None:
                side, shift = table[test.prim.name]
                return side, Bound(start, shift + offset)
    return None


def _row_offset(v: Value, m: Value, producer: dict[int, Op]) -> int | None:
    """c when v (broadcast to m, aligned right) is t + c at row t, else None."""
    if v.dtype.kind not in "iu" or v.ndim != 2 or v.shape != (m.shape[0], 1):
        return None
    op = producer.get(v.id)
    if op is None:
        return None
    if op.prim.name == "iota" and op.attrs.get("axis") == 0:
        return 0
    if op.prim.name in ("add", "subtract") and len(op.inputs) == 2:
        x, c = op.inputs
        if op.prim.name == "add" and _int_scalar(x) is not None:
            x, c = c, x
        k = _int_scalar(c)
        inner = _row_offset(x, m, producer) if k is not None else None
        if inner is not None:
            return inner + (k if op.prim.name == "add" else -k)
    return None


def _int_scalar(v: Value) -> int | None:
    if v.is_const and v.shape == () and np.asarray(v.const).dtype.kind in "iu":
        return int(v.const)
    return None


def _mask_of(u: Value, producer: dict[int, Op], neutral: float) -> Value | None:
    """The boolean c with u == select(c, term, neutral) (a masked term), or
    u == c counted (a sum of the mask itself, as a mean's count is)."""
    op = producer.get(u.id)
    if u.dtype.kind == "b" and neutral == 0.0:
        return u
    if op is None:
        return None
    if op.prim.name == "convert" and op.inputs[0].dtype.kind == "b" and neutral == 0.0:
        return op.inputs[0]
    if op.prim.name == "select" and _is(op.inputs[2], neutral):
        return op.inputs[0]
    return None


def _is(v: Value, neutral: float) -> bool:
    """Is v the scalar constant `neutral` (+0 for zero: -0.0 would change a sum's sign)?"""
    if not (v.is_const and v.shape == ()):
        return False
    c = np.asarray(v.const)
    if neutral == 0.0:
        return c.dtype.kind in "iufb" and float(c) == 0.0 and not np.signbit(c.astype(np.float64))
    return c.dtype.kind == "f" and float(c) == neutral


def _conjuncts(v: Value, producer: dict[int, Op], depth: int = 8) -> list[Op]:
    op = producer.get(v.id)
    if op is None:
        return []
    if op.prim.name == "logical_and" and depth:
        return [c for x in op.inputs for c in _conjuncts(x, producer, depth - 1)]
    return [op]


def _compare(test: Op, u: Value, axis: int, producer: dict[int, Op]) -> tuple[str, Bound] | None:
    if len(test.inputs) != 2:
        return None
    a, b = test.inputs
    if test.prim.name in _LEFT and _is_position(a, u, axis, producer) and _constant_along(b, u, axis):
        side, shift = _LEFT[test.prim.name]
        return side, Bound(b, shift)
    if test.prim.name in _RIGHT and _is_position(b, u, axis, producer) and _constant_along(a, u, axis):
        side, shift = _RIGHT[test.prim.name]
        return side, Bound(a, shift)
    return None


def _is_position(v: Value, u: Value, axis: int, producer: dict[int, Op]) -> bool:
    """Is v's element at u's index `idx` equal to idx[axis] (v broadcast to u, aligned right)?"""
    k = axis - (u.ndim - v.ndim)  # v's axis that lines up with `axis`
    if v.dtype.kind not in "iu" or k < 0 or v.shape[k] != u.shape[axis]:
        return False
    if v.ndim == 1 and progression(v) == (0, 1):
        return True
    op = producer.get(v.id)
    return op is not None and op.prim.name == "iota" and op.attrs.get("axis") == k


def _constant_along(v: Value, u: Value, axis: int) -> bool:
    """Is v (broadcast to u, aligned right) the same all along `axis`?"""
    if v.dtype.kind not in "iu":
        return False
    k = axis - (u.ndim - v.ndim)
    return k < 0 or v.shape[k] == 1


def window_masked(v: Value, producer: dict[int, Op]) -> bool:
    """Is v `select(lo <= p & p < hi, x, 0)` for positions p along one of
    its axes (the indices of a gather through a varying slice, `x[c]` with
    `c = cols[ptr[i]:ptr[i + 1]]`)? A gather at such indices is cheap to
    compute again in each fold that reads it over its window."""
    return any(select_window(v, axis, producer) is not None for axis in range(v.ndim))
