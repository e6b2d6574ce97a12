"""Which scans are pointwise: each point of the state updated from that point only.

A for_loop is a pointwise scan when
  - its carried arrays have one shape S (the points) and each stacked output
    is a row of that shape; a carried scalar is computed from scalars only;
  - every op of its body that reads a point value (a carried array, or an op
    that does), or that gives an array, is element work (an elementwise
    primitive, broadcast_to, iota) whose shape broadcasts to S: its element
    at a point reads only elements at that point;
  - every other op (a step's own values) is a 0-d op or a view of values
    from outside the loop (`noise[t]`, `X[:, t]`) that the target writes
    without a copy (`cheap_view`);
  - nothing raises, has an effect or draws random numbers, except the bound
    checks of a view's dynamic start.
Each point's steps then depend on no other point, so a target may run the
loops the other way round: points outside, steps inside (CPU: blocks of
points through all the steps, codegen/cpu/pointwise.py; cuda: one thread per
point, every step in one launch, codegen/cuda/points.py).

A stacked output read only by folds over the steps (`n += live`, which the
vectorizer makes a masked count: rows stacked, summed after the loop) may
then be accumulated at each point instead (`folded_rows`): no rows of T x S.

LOOPTRACE_NO_POINTWISE=1 in the environment when a kernel is generated keeps
every scan step by step (for measuring: bench/pointwise_scan.py).
"""
from __future__ import annotations

import os
from typing import Callable

from looptrace.ir.core import RNG, Block, Op, Value, free_values
from looptrace.ir.primitive import folded_axes, is_fusible
from looptrace.ops.control import split_for_results

from .fusion import BlockPlan

# per-step views of values from outside the loop
STEP_VIEWS = frozenset(["dynamic_slice", "slice", "reshape", "transpose"])


def broadcasts_to(shape: tuple, points: tuple) -> bool:
    if len(shape) > len(points):
        return False
    lead = len(points) - len(shape)
    return all(d == 1 or d == points[lead + k] for k, d in enumerate(shape))


def element_op(op: Op) -> bool:
    """Element work: the element at a point reads its inputs at that point only."""
    if not is_fusible(op) or op.prim.reduction is not None or op.prim.may_raise:
        return False
    return op.prim.elementwise or op.prim.name in ("broadcast_to", "iota")


def pointwise_ops(op: Op, plan: BlockPlan, cheap_view: Callable[[Op, BlockPlan], bool]) -> list[Op] | None:
    """The body's ops computed at each point when this for_loop is a
    pointwise scan (module docstring), in body order; else None. `plan` is
    the body's fusion plan on the target; `cheap_view(op, plan)`: does the
    target write this view of an array without a copy?"""
    if op.prim.name != "for_loop" or os.environ.get("LOOPTRACE_NO_POINTWISE"):
        return None
    n_carry, _ = split_for_results(op)
    (body,) = op.blocks
    arrays = [c for c in body.args[1:] if c.ndim]
    if not arrays:
        return None
    points = tuple(arrays[0].shape)
    if any(c.dtype == RNG or tuple(c.shape) != points for c in arrays):
        return None
    scalars = [k for k, c in enumerate(body.args[1:]) if not c.ndim]
    if any(body.args[1 + k].dtype == RNG for k in scalars):
        return None
    if any(r.dtype == RNG or tuple(r.shape) != points for r in body.results[n_carry:]):
        return None
    at_point = {c.id for c in arrays}
    ops = []
    for o in body.ops:
        if o.blocks or o.prim.raises or o.prim.effectful or len(o.outputs) != 1:
            return None
        if any(v.dtype == RNG for v in (*o.inputs, o.out)):
            return None
        reads_point = any(u.id in at_point for u in o.inputs)
        if element_op(o) and (reads_point or o.out.ndim):
            if not broadcasts_to(tuple(o.out.shape), points):
                return None
            at_point.add(o.out.id)
            ops.append(o)
        elif reads_point:
            return None
        elif o.out.ndim and not (o.prim.name in STEP_VIEWS and cheap_view(o, plan)):
            return None
        elif not o.out.ndim and not (element_op(o) or o.prim.name in STEP_VIEWS):
            return None
    if any(body.results[k].id in at_point for k in scalars):
        return None
    return ops if any(o.out.ndim for o in ops) else None


def folded_rows(op: Op, block: Block, plan: BlockPlan,
                foldable: Callable[[Op], bool]) -> dict[int, list[tuple[list[Op], Op]]]:
    """Stacked outputs of pointwise scan `op` (by position among them) read
    only by folds over the steps, each through element work of its own:
    position -> [(the element ops, in order, and the fold)]. `block` holds
    `op`, `plan` is its fusion plan; `foldable(fold)`: may the target
    accumulate this fold at each point (over axis 0 only). The element ops'
    other inputs are 0-d values known before the loop. A target that takes
    these ops into the loop's code must mark them emitted in `plan`."""
    position = {id(o): i for i, o in enumerate(block.ops)}
    here = position[id(op)]
    uses: dict[int, list] = {}
    for o in block.ops:
        for v in o.inputs:
            uses.setdefault(v.id, []).append(o)
        for sub in o.blocks:
            for v in free_values(sub):
                uses.setdefault(v.id, []).append(None)
    for v in block.results:
        uses.setdefault(v.id, []).append(None)
    grouped = {id(o) for rest in plan.map_group.values() for o in rest} | set(plan.map_group)
    n_carry, _ = split_for_results(op)
    points = next(tuple(a.shape) for a in op.blocks[0].args[1:] if a.ndim)

    def known_before(w: Value) -> bool:
        p = plan.producer.get(w.id)
        return w.ndim == 0 and (w.const is not None or p is None or position[id(p)] < here)

    def fold_from(u: Op, v: Value) -> tuple[list[Op], Op] | None:
        """The element ops from u on, each read only by the next, and the fold they end in."""
        chain = []
        while True:
            if id(u) in grouped or sum(w is v for w in u.inputs) != 1:
                return None
            if (u.prim.reduction is not None and folded_axes(u) == (0,) and len(u.inputs) == 1
                    and foldable(u) and tuple(u.out.shape) == points):
                return chain, u
            if not (element_op(u) and u.prim.name not in ("broadcast_to", "iota")
                    and tuple(u.out.shape) == tuple(v.shape)
                    and all(w is v or known_before(w) for w in u.inputs)):
                return None
            chain.append(u)
            us = uses.get(u.out.id, [])
            if len(us) != 1 or us[0] is None:
                return None
            u, v = us[0], u.out

    found = {}
    for k, y in enumerate(op.outputs[n_carry:]):
        readers = list(dict.fromkeys(map(id, uses.get(y.id, []))))  # each reading op once
        ops = {id(u): u for u in uses.get(y.id, []) if u is not None}
        if not readers or any(r not in ops for r in readers):
            continue
        folds = [fold_from(ops[r], y) for r in readers]
        if all(f is not None for f in folds):
            found[k] = folds
    return found


def compute_at_points(plan: BlockPlan, ops: list[Op]) -> None:
    """Mark `ops` (the body's point ops) as computed at each point by the
    loop's own code: no nest of their own, their values inlined where read."""
    for o in ops:
        plan.fused_roots.discard(id(o))
        plan.map_group.pop(id(o), None)
        plan.skip.add(id(o))
        plan.inlined.add(o.out.id)


def take_folds(plan: BlockPlan, folds) -> None:
    """Mark the element ops and folds of `folded_rows` ((chain, fold) pairs)
    as written by the loop (not emitted where they stand); each fold's value
    is then a stored array the loop defines, read as such."""
    for chain, red in folds:
        for o in (*chain, red):
            plan.skip.add(id(o))
            plan.fused_roots.discard(id(o))
        plan.inlined.discard(red.out.id)


def skip_all_but(plan: BlockPlan, block: Block, keep: set[int]) -> None:
    """Emit only the ops of `block` whose id is in `keep`."""
    for o in block.ops:
        if id(o) not in keep:
            plan.skip.add(id(o))
            plan.fused_roots.discard(id(o))
