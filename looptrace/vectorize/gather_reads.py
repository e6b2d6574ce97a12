"""A gather read only by the scan stays in the scan when stacking it would
leave the cache.

`xb = X[order[s:s + 32]]` in a minibatch loop around a recurrence (`z = xb @
w`, `w -= lr * (xb.T @ g)`) reads no carried value, so the plan batched it
before the scan: one gather of every minibatch of every epoch (5 x 20000 x
20 float64, 16 MB, and as much again for `xb.T`), written to memory once
and read back a row per iteration. Nothing in it is computed: batching a
gather buys no arithmetic, only the stacked copy. In the scan each iteration
reads its 32 rows from X straight into the product that needs them, as the
plain loop does (logreg_sgd_minibatch, bench/corpus/domains.py: 2.0x slower
than numba.njit with the stack).

Rule (exact: the moved ops are pure and compute what they computed; a read
that may raise raises at its own iteration, as in the plain function):
a gather of the body whose results, with the views of them on the way
(transpose, reshape, slices), are read only by ops the scan keeps, moves
into the scan when stacked over the iterations they would take more than
HOISTED_GATHER_BYTES (about one core's L2). With it move the gathers that
read the same per-iteration index (`yb = y[idx]`: the index is read once
per iteration either way), the element moves read only by moved ops (the
index's slice `order[s:s + 32]`; index arithmetic stays batched, read a row
per iteration), and the checks on moved values. A gather whose result a batched op
reads (the seed rnn's `W2 @ X[t]`, one matrix product for all t) stays
batched: its reader is not in the scan.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.core import Op, Value
from looptrace.ir.uses import operands
from looptrace.ops.shape_arith import size_of

from .analysis import LoopFacts

# Stacked over the iterations, a gather read only by the scan stays in it above this many bytes.
HOISTED_GATHER_BYTES = 1 << 20

# ops that move elements and compute none: a gather's views and the ops that read its index
_VIEWS = frozenset({"transpose", "reshape", "slice", "dynamic_slice", "dynamic_prefix"})
_MOVES = _VIEWS | {"gather"}


def large_gathers(facts: LoopFacts, pre: list[Op], in_loop: set[int]) -> set[int]:
    """Ids of the pre ops that move into the scan (module docstring)."""
    if not facts.n:
        return set()
    moved: set[int] = set()
    for op in pre:
        if op.prim.name == "gather" and id(op) not in moved and _pure(op):
            group = _with_views(op, pre)
            if _stacked(facts, group) > HOISTED_GATHER_BYTES and _read_in(facts, group, in_loop, moved):
                moved |= {id(o) for o in group}
    if moved:
        _follow(facts, pre, in_loop, moved)
    return moved


def _with_views(gather: Op, pre: list[Op]) -> list[Op]:
    """The gather and the pre views that read it, or read such a view."""
    group, made = [gather], {v.id for v in gather.outputs}
    for op in pre:
        if op.prim.name in _VIEWS and _pure(op) and op.inputs and op.inputs[0].id in made:
            group.append(op)
            made.update(v.id for v in op.outputs)
    return group


def _follow(facts: LoopFacts, pre: list[Op], in_loop: set[int], moved: set[int]) -> None:
    """Add to `moved`, to a fixed point, the gathers reading a moved gather's
    per-iteration index and the element moves read only by moved ops (the
    slice of the index); then the checks reading a moved value."""
    changed = True
    while changed:
        changed = False
        for op in reversed(pre):
            if id(op) in moved or not _pure(op):
                continue
            sibling = op.prim.name == "gather" and _shares_index(facts, op, pre, moved)
            feeder = op.prim.name in _MOVES and _only_read_by(facts, op, moved)
            if (sibling or feeder) and _read_in(facts, [op], in_loop, moved):
                moved.add(id(op))
                changed = True
    made = {v.id for op in pre if id(op) in moved for v in op.outputs}
    moved.update(id(op) for op in pre if _is_check(op) and any(v.id in made for v in operands(op)))


def _shares_index(facts: LoopFacts, op: Op, pre: list[Op], moved: set[int]) -> bool:
    index = {v.id for v in op.inputs[1:] if not facts.invariant(v)}
    return any(o.prim.name == "gather" and id(o) in moved and index & {v.id for v in o.inputs[1:]} for o in pre)


def _only_read_by(facts: LoopFacts, op: Op, moved: set[int]) -> bool:
    readers = [u for v in op.outputs for u in facts.users.get(v.id, ()) if not _is_check(u)]
    return bool(readers) and all(id(u) in moved for u in readers)


def _read_in(facts: LoopFacts, group: list[Op], in_loop: set[int], moved: set[int]) -> bool:
    """Is every result of the group read only by the scan, the group or moved
    ops (a check follows what it checks), and none a result of the body?"""
    inside = in_loop | moved | {id(o) for o in group}
    for op in group:
        for v in op.outputs:
            readers = facts.users.get(v.id, ())
            if facts.n_uses(v) != len(readers):
                return False  # (a map's row, a stacked output: the user's own array)
            if not all(id(u) in inside or _is_check(u) for u in readers):
                return False
    return True


def _stacked(facts: LoopFacts, group: list[Op]) -> int:
    """Bytes the group's results take stacked over the iterations (a batched
    transpose of the stack is a copy of its own for the scan's rows)."""
    return sum(facts.n * _nbytes(v) for op in group for v in op.outputs if op.prim.name in ("gather", "transpose"))


def _nbytes(v: Value) -> int:
    if not isinstance(v.dtype, np.dtype) or not all(isinstance(d, int) for d in v.shape):
        return 0
    return size_of(v.shape) * v.dtype.itemsize


def _pure(op: Op) -> bool:
    return len(op.outputs) == 1 and not op.blocks and not op.prim.effectful and not op.prim.raises


def _is_check(op: Op) -> bool:
    return op.prim.name == "check" and not op.outputs
