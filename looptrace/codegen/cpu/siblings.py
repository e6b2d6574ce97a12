"""Sibling folds: reductions over one index domain that can share one pass.

`x.min(), x.max()`, a masked mean's sum and count (`data[mask].mean()`), the
`lo`/`hi` of one loop over `X.flat`: two folds over the same elements,
emitted one after the other, read memory twice (and compute a shared term,
the mask, twice). The loop-nest writer (nest.py `Fuser._reduce`) runs such
folds in one set of loops instead, each with its own accumulators updated
exactly as its own loops would update them: the same terms in the same
order per accumulator, so every result is the same, bit for bit (NaN and
signed zeros included). What this module decides, writing no text:

- which folds are computed at one index of a nest (`co_indexed`): those
  reached from it through elementwise ops of its own shape only;
- how a fold would run alone (`FoldShape`): its loops and accumulators;
- which of them can share one pass (`shares_with`): the same loops, or an
  integer (or bool) fold, exact in any order, which takes the others' loops;
- which later roots of a block, 0-d folds, may be computed at an earlier
  one's position (`later_fold_roots`): their inputs are all made already
  and nothing of theirs may raise.

LOOPTRACE_NO_SIBLING_FOLDS=1 at compile time emits each fold alone, as
before (A/B timings; tests compare the two emissions bit for bit).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from looptrace.codegen.planning.fusion import BlockPlan, is_fold, nest_ops
from looptrace.ir.core import Op
from looptrace.ir.primitive import folded_axes

# positions per block of a group's pass (nest.py GROUP_ROWS rows of 8): a multiple of every
# width of arrays of accumulators of a long max or min (`FoldShape.wide`)
GROUP_POSITIONS = 4096
# roots scanned past a 0-d fold root for siblings (each one's check is a walk of its nest)
ROOT_SCAN = 64


@dataclass(frozen=True)
class FoldShape:
    """How a fold's loops run when it runs alone (nest.py `Fuser._reduce`):
    `kind` "1d" (8 lanes over a vector), "last" (8 lanes along the last axis),
    "flat" (8 lanes over the flattened elements) or "plain" (nested loops, one
    accumulator); `wide`: a float max or min in an array of `wide`
    accumulators (`_extreme_in_array`) instead of 8; the input's shape and
    the folded axes."""

    kind: str
    shape: tuple
    axes: tuple
    wide: int = 0


def order_free(op: Op) -> bool:
    """An integer or bool fold: exact in any order, so it may take any sibling's loops."""
    return np.dtype(op.prim.reduction.acc_dtype(op.inputs[0].dtype)).kind in "iub"


def shares_with(lead: FoldShape, op: Op, shape: FoldShape | None) -> bool:
    """May fold `op` (running alone as `shape`) be computed in `lead`'s loops?"""
    if shape is None:
        return False
    if (shape.kind, shape.shape, shape.axes) == (lead.kind, lead.shape, lead.axes):
        return GROUP_POSITIONS % shape.wide == 0 if shape.wide else True  # (blocks of whole arrays)
    return order_free(op) and shape.kind == "plain" and (shape.shape, shape.axes) == (lead.shape, lead.axes)


def co_indexed(plan: BlockPlan, ops: list[Op]) -> list[Op]:
    """The folds computed at the same index as `ops`' outputs (each of one
    shape, ops computed in a nest or folds themselves): `ops` that are folds,
    and the folds their elementwise inputs of that shape reach through
    elementwise ops of that shape (an input of another shape is read at a
    broadcast index, a fold's input at the fold's own inner index)."""
    found, seen, stack = [], set(), list(ops)
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if is_fold(o):
            found.append(o)
            continue
        if not o.prim.elementwise:
            continue
        shape = tuple(o.out.shape)
        stack.extend(plan.producer[u.id] for u in o.inputs
                     if u.id in plan.inlined and tuple(u.shape) == shape)
    return found


def fold_inputs_pool(plan: BlockPlan, ops: list[Op]) -> list[Op]:
    """The folds computed at the index of the terms of the folds `ops`
    (one input shape): those their inputs reach (`co_indexed`)."""
    inner = [plan.producer[u.id] for o in ops for u in o.inputs if u.ndim and u.id in plan.inlined]
    return co_indexed(plan, inner)


def independent(plan: BlockPlan, op: Op, others: list[Op]) -> bool:
    """Does no fold of `others` read op's result, nor op theirs, in the nest?"""
    return not any(_reads(plan, op, o) or _reads(plan, o, op) for o in others)


def _reads(plan: BlockPlan, op: Op, target: Op) -> bool:
    """Is target's result computed inside op's nest?"""
    stack, seen = [op], set()
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        for u in o.inputs:
            if u.id == target.out.id:
                return True
            if u.id in plan.inlined:
                stack.append(plan.producer[u.id])
    return False


def extremes_beside(em, arg: Op) -> list[Op]:
    """The max (of an argmax; min of an argmin) folds of the block over the
    argmax's own input and axis, each of its own input alone, whose loops run
    the terms in order when alone (an integer fold, or a float one in plain
    nested loops: not the 8 lanes of a long last axis or a vector), so that
    the argmax's loop (reductions.py `_arg_lower`) may update their
    accumulators with the same terms in the same order: the same values, bit
    for bit."""
    import os

    plan, x, axis = em.plan, arg.inputs[0], arg.attrs["axis"]
    if os.environ.get("LOOPTRACE_NO_SIBLING_FOLDS") or plan is None or x.dtype.kind not in "fiu" \
            or not all(isinstance(d, int) for d in x.shape):
        return []
    if x.dtype.kind == "f" and (x.ndim == 1 or axis == x.ndim - 1 and x.shape[axis] >= 64):
        return []
    combine = "maximum" if arg.prim.name == "argmax" else "minimum"
    kept = tuple(d for k, d in enumerate(x.shape) if k != axis)
    return [o for o in {id(o): o for o in plan.producer.values()}.values()
            if o.prim.reduction is not None and o.prim.reduction.combine == combine and len(o.inputs) == 1
            and o.inputs[0].id == x.id and tuple(folded_axes(o) or ()) == (axis,) and tuple(o.out.shape) == kept
            and o.out.id not in em.made_folds]


def later_fold_roots(em, op: Op) -> list[Op]:
    """The 0-d fold roots after `op` in its block that may be computed at
    op's position: the roots between are nests too (no statement, no
    region), and each one taken reads only values made by then (or outside
    the block) and nothing that may raise (a checked gather, a float made
    an int), so computing it earlier changes nothing the caller sees."""
    block = getattr(em.scope, "block", None)
    plan = em.plan
    if block is None or em.scope.pos >= len(block.ops) or block.ops[em.scope.pos] is not op:
        return []
    taken: list[Op] = []
    later = {id(o): o for o in block.ops[em.scope.pos + 1:em.scope.pos + 1 + ROOT_SCAN]}
    for nxt in later.values():
        if id(nxt) in plan.skip:
            continue
        if id(nxt) not in plan.fused_roots or id(nxt) in plan.lazy or len(nxt.outputs) != 1:
            break
        if (nxt.out.ndim == 0 and is_fold(nxt) and nxt.inputs[0].ndim and _ready(em, nxt, later)
                and not _may_raise(plan, nxt)):
            taken.append(nxt)
    return taken


def _ready(em, op: Op, later: dict[int, Op]) -> bool:
    """Is every value op's nest reads (not computed in it) made before `later`?"""
    plan = em.plan
    for o in nest_ops(op, plan):
        for u in o.inputs:
            if u.id in plan.inlined or u.const is not None:
                continue
            made = plan.producer.get(u.id)
            if made is not None and id(made) in later:
                return False
    return True


def _may_raise(plan: BlockPlan, op: Op) -> bool:
    """Can op's nest raise (an index checked, a float converted to an int)?"""
    for o in nest_ops(op, plan):
        if o.prim.name == "gather" or o.prim.effectful:
            return True
        if o.prim.name == "convert" and o.inputs[0].dtype.kind in "fc" and o.out.dtype.kind in "iub":
            return True
    return False
