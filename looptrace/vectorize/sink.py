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
"""
from __future__ import annotations

from looptrace.ir.core import Block, Op, Program, free_values
from looptrace.ir.dce import is_pure


def sink_into_bodies(program: Program) -> Program:
    _sink(program.body)
    return program


def _movable(op: Op) -> bool:
    return (len(op.outputs) == 1 and not op.blocks and op.prim.elementwise and op.prim.cheap and is_pure(op)
            and not op.prim.may_raise and op.out.ndim > 0)  # in a branch, it would not raise when not taken


def _sink(block: Block) -> None:
    for op in block.ops:
        for sub in op.blocks:
            _sink(sub)
    changed = True
    while changed:
        changed = False
        for op in reversed(list(block.ops)):
            if not _movable(op):
                continue
            target = _only_body_reading(block, op)
            if target is not None:
                block.ops.remove(op)
                target.ops.insert(0, op)
                _sink(target)
                changed = True
                break


def _only_body_reading(block: Block, op: Op) -> Block | None:
    """The one body (of one region op of `block`) that reads op's output, when
    nothing else in `block` reads it; None otherwise."""
    v = op.out
    if any(r.id == v.id for r in block.results):
        return None
    found: Block | None = None
    for other in block.ops:
        if other is op:
            continue
        if any(u.id == v.id for u in other.inputs):
            return None
        for sub in other.blocks:
            if any(u.id == v.id for u in free_values(sub)):
                if found is not None or other.prim.name != "cond":
                    return None  # (into a loop body it would run at every step)
                found = sub
    return found
