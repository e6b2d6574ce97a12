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

LOOPTRACE_NO_POINTWISE=1 in the environment when a kernel is generated keeps
every scan step by step (for measuring: bench/pointwise_scan.py).
"""
from __future__ import annotations

import os
from typing import Callable

from looptrace.ir.core import RNG, Op
from looptrace.ir.primitive import is_fusible
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
