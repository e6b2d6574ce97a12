"""Cheap elementwise values read only inside one branch of a cond are
computed in that branch.

A varying slice's mask `(p >= lo) & (p < hi)` over a whole axis, read only
inside `if ptr[i + 1] > ptr[i]:` (a cond's branch), was computed before the
branch as an array of the whole axis at every iteration of the loop around
it: the folds that read it run over their window alone
(codegen/planning/fold_window.py), but making the mask cost the axis each
time. Moved into the branch, the mask is fused into each fold that reads it,
and computed over the window only.

Invariant: only pure, cheap elementwise ops move (comparisons, logic,
arithmetic), each read by nothing but ops of one branch of one cond of its
block (never into a loop body, where it would run at every step); an op
moves to the front of that branch, so every value
it reads is still visible there (an outer value, read across the region's
boundary as any body reads it). Values are the same; the op runs where (and
when) its readers run, which for a branch not taken is never.

Cost: linear in the ops (times the depth of nesting). Each block's readers
are indexed once (value -> the ops, bodies and results that read it) and
kept up to date as ops move; the ops are visited once, last first. One
sweep decides what the old fixpoint loop (restart after each move) did:
moving an op changes the readers of the values it reads only, which are
made before it, and an op landing in a branch can move on only itself (what
it reads is made outside that branch). An unrolled loop of 48 iterations
(3000 ops in one block) spent 44 s in that loop's scans.
"""
from __future__ import annotations

from looptrace.ir.core import Block, Op, Program, free_values
from looptrace.ir.dce import is_pure

_RESULT = ("result", 0)


def sink_into_bodies(program: Program) -> Program:
    _sink(program.body, {})
    return program


def _movable(op: Op) -> bool:
    return (len(op.outputs) == 1 and not op.blocks and op.prim.elementwise and op.prim.cheap and is_pure(op)
            and not op.prim.may_raise and op.out.ndim > 0)  # in a branch, it would not raise when not taken


class _Readers:
    """Who reads each value in one block: ("op", id) for an op of the block,
    ("body", id) for a body of one of its region ops (the value free in it),
    _RESULT for the block's results."""

    def __init__(self, block: Block):
        self.by_value: dict[int, set[tuple]] = {}
        self.bodies: dict[int, tuple[Op, Block]] = {}
        for op in block.ops:
            self.add_op(op)
            for sub in op.blocks:
                self.bodies[id(sub)] = (op, sub)
                for v in free_values(sub):
                    self._add(v.id, ("body", id(sub)))
        for v in block.results:
            self._add(v.id, _RESULT)

    def _add(self, vid: int, reader: tuple) -> None:
        self.by_value.setdefault(vid, set()).add(reader)

    def add_op(self, op: Op) -> None:
        for u in op.inputs:
            self._add(u.id, ("op", id(op)))

    def moved(self, op: Op, sub: Block) -> None:
        """`op` left this block for the front of `sub` (a body of one of its ops)."""
        self.by_value.pop(op.out.id, None)
        for u in op.inputs:
            readers = self.by_value.get(u.id)
            if readers is not None:
                readers.discard(("op", id(op)))
            if not u.is_const:  # (free_values leaves constants out)
                self._add(u.id, ("body", id(sub)))

    def only_body(self, op: Op) -> Block | None:
        """The one body (of one cond of the block) that reads op's output, when
        nothing else in the block reads it; None otherwise (into a loop body it
        would run at every step)."""
        readers = self.by_value.get(op.out.id, ())
        if len(readers) != 1:
            return None
        (kind, key), = readers
        if kind != "body":
            return None
        region, sub = self.bodies[key]
        return sub if region.prim.name == "cond" else None


def _sink(block: Block, index: dict[int, _Readers]) -> None:
    for op in block.ops:
        for sub in op.blocks:
            _sink(sub, index)
    readers = index[id(block)] = _Readers(block)
    moved: set[int] = set()
    for op in reversed(block.ops):
        if _movable(op):
            target = readers.only_body(op)
            if target is not None:
                moved.add(id(op))
                _place(block, op, target, index)
    if moved:
        block.ops[:] = [op for op in block.ops if id(op) not in moved]


def _place(block: Block, op: Op, target: Block, index: dict[int, _Readers]) -> None:
    """`op` (leaving `block`) to the front of `target`, or on into the one
    branch of it that reads it, as far down as it goes."""
    index[id(block)].moved(op, target)
    inner = index[id(target)]
    inner.add_op(op)
    deeper = inner.only_body(op)
    if deeper is not None:
        _place(target, op, deeper, index)
    else:
        target.ops.insert(0, op)
