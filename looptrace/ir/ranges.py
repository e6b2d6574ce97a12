"""Integer ranges: the smallest and largest value an integer array (or
scalar) can hold, by interval arithmetic over constants, iota, broadcasts,
reshapes, integer converts, +, -, *, minimum and maximum, and floor division
and modulo by a positive constant.

Users: the vectorizer decides clamps, comparisons and checks with the ranges
a loop's static bounds give (vectorize/bounds.py) and converts conditionals
whose reads stay in bounds (vectorize/select.py); a target skips the bounds
check of a gather whose index range lies inside the axis
(codegen/cpu/indexing.py).

Invariant: a range is exact or wider, never narrower: every element of the
value lies in [lo, hi] whenever the ranges of the leaves hold. An op whose
result could wrap around its dtype has no range.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .affine import affine_form, value_range
from .core import Block, Op, Value, walk

Interval = tuple[int, int]

ARITHMETIC = ("add", "subtract", "multiply", "minimum", "maximum")
PASS_THROUGH = ("broadcast_to", "reshape", "convert")


def is_integer(v: Value) -> bool:
    return isinstance(v.dtype, np.dtype) and v.dtype.kind in "iu"


def const_range(v: Value) -> Interval | None:
    """[min, max] of an integer constant (None for anything else, or an empty one)."""
    if not v.is_const or not is_integer(v):
        return None
    c = np.asarray(v.const)
    return (int(c.min()), int(c.max())) if c.size else None


def progression(v: Value) -> tuple[int, int] | None:
    """(start, step) of a 1-d integer constant that is start + step * k, else None."""
    if not v.is_const or not is_integer(v) or v.ndim != 1:
        return None
    c = np.asarray(v.const).astype(np.int64)
    if c.size < 2:
        return None
    start, step = int(c[0]), int(c[1] - c[0])
    return (start, step) if np.array_equal(c, start + step * np.arange(c.size, dtype=np.int64)) else None


def op_range(op: Op, of: Callable[[Value], Interval | None]) -> Interval | None:
    """The range of op's integer output from its inputs' ranges (`of`)."""
    if len(op.outputs) != 1 or not is_integer(op.out):
        return None
    name = op.prim.name
    if name == "iota":
        return (0, max(int(op.attrs["shape"][op.attrs["axis"]]) - 1, 0))
    if name in PASS_THROUGH:
        return _fitting(of(op.inputs[0]), op.out.dtype)
    if name == "floor_divide" and len(op.inputs) == 2:  # by a positive constant: monotone
        a, d = of(op.inputs[0]), const_range(op.inputs[1])
        if a is None or d is None or d[0] != d[1] or d[0] <= 0:
            return None
        return (a[0] // d[0], a[1] // d[0])
    if name == "right_shift" and len(op.inputs) == 2:  # by a non-negative constant: monotone
        a, k = of(op.inputs[0]), const_range(op.inputs[1])
        if a is None or k is None or k[0] != k[1] or k[0] < 0:
            return None
        return (a[0] >> k[0], a[1] >> k[0])
    if name == "select" and len(op.inputs) == 3:  # either operand
        a, b = of(op.inputs[1]), of(op.inputs[2])
        return None if a is None or b is None else (min(a[0], b[0]), max(a[1], b[1]))
    if name == "remainder" and len(op.inputs) == 2:  # floor modulo by a positive constant
        d = const_range(op.inputs[1])
        return (0, d[0] - 1) if d is not None and d[0] == d[1] and d[0] > 0 else None
    if name not in ARITHMETIC or len(op.inputs) != 2:
        return None
    a, b = (of(v) for v in op.inputs)
    if name in ("minimum", "maximum") and (a is None) != (b is None) and op.out.dtype.kind in "iu":
        whole = np.iinfo(op.out.dtype)  # a clip by a bound: the other side may be anything
        a, b = (r if r is not None else (int(whole.min), int(whole.max)) for r in (a, b))
    if a is None or b is None:
        return None
    if name == "add":
        r = (a[0] + b[0], a[1] + b[1])
    elif name == "subtract":
        r = (a[0] - b[1], a[1] - b[0])
    elif name == "multiply":
        ps = [x * y for x in a for y in b]
        r = (min(ps), max(ps))
    elif name == "minimum":
        r = (min(a[0], b[0]), min(a[1], b[1]))
    else:
        r = (max(a[0], b[0]), max(a[1], b[1]))
    return _fitting(r, op.out.dtype)


def _fitting(r: Interval | None, dtype) -> Interval | None:
    if r is None:
        return None
    info = np.iinfo(dtype)
    return r if info.min <= r[0] and r[1] <= info.max else None


def range_in_block(v: Value, producer: dict[int, Op], depth: int = 256, memo: dict | None = None) -> Interval | None:
    """The range of v from the ops of one block (`producer`: value id -> op);
    arguments and values made elsewhere have none. Each value is looked at
    once (`memo`: a binary search's bounds are read by both halves of every
    step); bounded depth: a long chain only costs a check."""
    r = const_range(v)
    if r is not None or depth == 0:
        return r
    memo = {} if memo is None else memo
    if v.id in memo:
        return memo[v.id]
    op = producer.get(v.id)

    def of(u: Value) -> Interval | None:
        return range_in_block(u, producer, depth - 1, memo) if is_integer(u) else None

    if op is None:
        found = None
    elif op.prim.name == "select" and len(op.outputs) == 1:
        found = select_range(op, of, producer.get)
    else:
        found = op_range(op, of)
    memo[v.id] = found
    return found


Leaf = Callable[[Value], Interval | None]


class Ranges:
    """Ranges of a block's integer values, learned op by op in program order
    (no recursion, however long the body): `leaf` gives the values the block
    does not compute (a loop index, an enclosing loop's index)."""

    def __init__(self, leaf: Leaf = lambda v: None):
        self.leaf = leaf
        self.known: dict[int, Interval] = {}
        self.made: dict[int, Op] = {}

    def of(self, v: Value) -> Interval | None:
        if not is_integer(v):
            return None
        if v.is_const:
            return const_range(v)
        r = self.leaf(v)
        return r if r is not None else self.known.get(v.id)

    def learn(self, op: Op) -> None:
        if len(op.outputs) != 1:
            return
        self.made[op.out.id] = op
        r = select_range(op, self.of, self.made.get) if op.prim.name == "select" else op_range(op, self.of)
        if r is not None:
            self.known[op.out.id] = r

    def learn_all(self, block: Block) -> Ranges:
        for op in walk(block):
            self.learn(op)
        return self


def select_range(op: Op, of: Callable[[Value], Interval | None], made: Callable[[int], Op | None]) -> Interval | None:
    """select(u < k, u + n, u) and the like: each branch's range with u
    restricted to where that branch is taken (NumPy's negative-index wrap is
    in range although u + n and u are not, each alone). `made`: value id ->
    the op computing it, where known."""
    if not is_integer(op.out):
        return None
    c, *branches = op.inputs
    test = made(c.id)
    parts = []
    for x, taken in zip(branches, (True, False)):
        r = _restricted(x, test, taken, of, made)
        if r is None:
            return None
        if r[0] <= r[1]:  # an empty range: the branch is never taken
            parts.append(r)
    if not parts:
        return None
    return min(p[0] for p in parts), max(p[1] for p in parts)


def _restricted(x: Value, test: Op | None, taken: bool, of: Callable, made: Callable) -> Interval | None:
    own = of(x)
    cut = _comparison_cut(test, of, taken) if test is not None else None
    if cut is None:
        return own
    u, (lo, hi) = cut
    if x.id == u.id:
        return own if own is None else (max(own[0], lo), min(own[1], hi))
    shifted = made(x.id)
    if shifted is None or shifted.prim.name not in ("add", "subtract") or own is None:
        return own
    a, b = shifted.inputs
    shift = None
    if a.id == u.id and b.is_const and np.ndim(b.const) == 0:
        shift = int(b.const) if shifted.prim.name == "add" else -int(b.const)
    elif shifted.prim.name == "add" and b.id == u.id and a.is_const and np.ndim(a.const) == 0:
        shift = int(a.const)
    ru = of(u)
    if shift is None or ru is None:
        return own
    lo, hi = max(ru[0], lo), min(ru[1], hi)
    return (lo + shift, hi + shift) if lo <= hi else (1, 0)


_CUTS = {  # u OP k taken (True) or not: the range of u, as (lo, hi) offsets from k
    "less": ((None, -1), (0, None)),
    "less_equal": ((None, 0), (1, None)),
    "greater": ((1, None), (None, 0)),
    "greater_equal": ((0, None), (None, -1)),
}


def _comparison_cut(test: Op, of: Callable, taken: bool):
    """(u, [lo, hi]) that u lies in when `test` (u OP k, k an integer constant
    scalar) is `taken`; None for any other test."""
    if test.prim.name not in _CUTS or len(test.inputs) != 2:
        return None
    u, k = test.inputs
    if not (k.is_const and np.ndim(k.const) == 0 and is_integer(k)) or not is_integer(u):
        return None
    lo, hi = _CUTS[test.prim.name][0 if taken else 1]
    big = 1 << 126
    k = int(k.const)
    return u, (-big if lo is None else k + lo, big if hi is None else k + hi)


def loop_leaf(aff: dict, trips: int, outer: dict[int, Interval]) -> Leaf:
    """The leaves of a loop body: scalars affine in its index (exact over its
    `trips` iterations) and the indices of the loops around it (`outer`)."""
    def leaf(v: Value) -> Interval | None:
        if v.shape == () and trips > 0:
            form = affine_form(v, aff)
            if form is not None:
                return value_range(form, trips)
        return outer.get(v.id)

    return leaf
