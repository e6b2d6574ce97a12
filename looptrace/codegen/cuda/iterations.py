"""A loop of independent iterations on the GPU: one thread per iteration.

A top-level for_loop that carries nothing from one iteration to the next
(the vectorizer's scan whose iterations are independent: ops it cannot batch,
such as a `while` per pixel, stay in the body) and whose body one thread can
run alone is one grid-stride kernel: thread g runs the iterations g, g + G,
g + 2G, ... (G = all threads of the grid). Inside an iteration everything is
a register of that thread: scalar ops, element reads of arrays defined before
the loop, nested `for`/`while` loops with scalar carries (and `break`) and
conditionals, run serially by the thread (team_loops.py's control flow, with a
team of one thread: points.PointsCtx). Each iteration's results are its own
rows of the stacked outputs, stored at the iteration's position.

A perfectly nested pair (or deeper nest) of such loops, the outer body only
views, scalar ops and the inner loop whose stacked outputs are the outer
loop's rows, is one flat range of iterations (py * W + px): the thread's flat
index is split into the levels' indices, each level's body is emitted inside
the one above it, and the innermost results are stored at the flat position.
Inner levels need a constant, positive trip count.

Refused (the loop falls back to the other strategies, strategy.py): carried
values, array-valued ops inside the body (an op over a whole array, an
allocation, a fold), nested loops with array carries or stacked outputs.
Index checks and failed checks set the call's error flag and clamp, as in
every kernel (the thread goes on, a nested `while` stops; the call raises). A
check reports at once (rules/check.py `_check_alone`): where several iterations
fail, the first report in time wins, not necessarily the first iteration's, as
for a bad index in any grid kernel.

Simulator-safe: no shared memory, no barrier, no warp operation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from looptrace.ir.core import RNG, Block, Dim, Op, Value
from looptrace.ops.control import split_for_results

from . import access as A
from .device import DeviceCode, launch_args
from .points import PointsCtx
from .values import Reg, cast_to, index_range

if TYPE_CHECKING:
    from .emitter import CudaEmitter

VIEWS = ("dynamic_slice", "slice", "reshape")
SCALAR_REGIONS = ("for_loop", "while_loop", "cond")


@dataclass
class Level:
    """One loop of the nest: its op, its trip count, the ops of its body emitted by the
    level itself (the inner loop and the reshapes of its outputs into this level's rows)
    and the body results that are the nest's rows (`picks`, in the order of the outputs)."""

    op: Op
    trips: int
    own: set  # id(op) of body ops this module emits (skipped by the walk)
    picks: list  # indices into the body's results


def iteration_levels(em: CudaEmitter, op: Op) -> list[Level] | None:
    """The loop nest run as one flat range of iterations, when this loop may (module docstring)."""
    if op.prim.name != "for_loop":
        return None
    n_carry, n_stacked = split_for_results(op)
    if n_carry or not n_stacked or any(y.dtype == RNG for y in op.outputs):
        return None
    if not isinstance(op.outputs[0].shape[0], int):  # a run-time trip count (strategy.py sends it to the host)
        return None
    levels = []
    current, picks = op, list(range(n_stacked))
    while True:
        (body,) = current.blocks
        trips = current.outputs[0].shape[0]
        inner, chains, inner_picks = _perfect_inner(body, picks)
        if inner is not None and _one_thread(em, body, skip={id(o) for o in [inner, *chains]}):
            levels.append(Level(current, trips, {id(o) for o in [inner, *chains]}, picks))
            current, picks = inner, inner_picks
            continue
        own = _result_reshapes(body, picks)
        if own is None or not _one_thread(em, body, skip={id(o) for o in own}):
            return None
        levels.append(Level(current, trips, {id(o) for o in own}, picks))
        return levels


def _perfect_inner(body: Block, picks: list) -> tuple[Op | None, list[Op], list]:
    """The inner for_loop whose stacked outputs (through reshapes) are this body's picked
    results; its other outputs unused. Returns (loop, the reshapes, the loop's picked results)."""
    none = None, [], []
    loops = [o for o in body.ops if o.prim.region]
    if len(loops) != 1 or loops[0].prim.name != "for_loop":
        return none
    inner = loops[0]
    n_carry, n_stacked = split_for_results(inner)
    if n_carry or not n_stacked or any(v.const is None for v in inner.inputs[:3]):
        return none
    trips = inner.outputs[0].shape[0]
    if not isinstance(trips, int) or trips <= 0:  # a zero-trip level would skip the outer body's checks
        return none
    producer = {v.id: o for o in body.ops for v in o.outputs}
    position = {y.id: k for k, y in enumerate(inner.outputs)}
    chains, inner_picks = [], []
    for r in (body.results[k] for k in picks):
        v = r
        while v.id not in position:
            o = producer.get(v.id)
            if o is None or o.prim.name != "reshape":
                return none
            chains.append(o)
            v = o.inputs[0]
        inner_picks.append(position[v.id])
    if len(set(inner_picks)) != len(inner_picks):
        return none
    made = {id(o) for o in chains}
    inner_ids = set(position)
    for o in body.ops:  # the loop's outputs are read by the chains only
        if id(o) not in made and any(v.id in inner_ids for v in o.inputs):
            return none
    if any(r.id in inner_ids for k, r in enumerate(body.results) if k not in picks):
        return none
    return inner, chains, inner_picks


def _result_reshapes(body: Block, picks: list) -> list[Op] | None:
    """The reshapes that make one-element rows of the innermost body's scalar results; None
    when a picked result is not one element."""
    producer = {v.id: o for o in body.ops for v in o.outputs}
    own = []
    for r in (body.results[k] for k in picks):
        if any(isinstance(d, Dim) or d != 1 for d in r.shape):
            return None
        v = r
        while v.ndim:
            o = producer.get(v.id)
            if o is None or o.prim.name != "reshape":
                return None
            own.append(o)
            v = o.inputs[0]
    return own


def _scalar_source(body: Block, r: Value) -> Value:
    producer = {v.id: o for o in body.ops for v in o.outputs}
    while r.ndim:
        r = producer[r.id].inputs[0]
    return r


def _one_thread(em: CudaEmitter, block: Block, skip: set = frozenset()) -> bool:
    """Can one thread run this block alone: registers only, no op over a whole array?"""
    plan = em.plan_of(block)
    for o in block.ops:
        if id(o) in skip:
            continue
        if any(v.dtype == RNG for v in [*o.inputs, *o.outputs]):
            return False
        if o.prim.name in VIEWS:
            if o.prim.name == "reshape" and not (id(o) in plan.slice_into or id(o) in plan.element_reads
                                                 or o.inputs[0].ndim == 0 and o.out.ndim == 0):
                return False
            if any(isinstance(d, Dim) for d in o.out.shape):
                return False
            continue
        if any(v.ndim for v in o.outputs) or not o.outputs and o.prim.name != "check":
            return False  # an array made in the body; or an effect (a print) one thread cannot order
        if o.prim.region:
            if o.prim.name not in SCALAR_REGIONS or any(v.ndim for v in o.inputs):
                return False
            if o.prim.name == "for_loop" and split_for_results(o)[1]:
                return False
            if not all(_one_thread(em, b) for b in o.blocks):
                return False
            continue
        if any(v.ndim for v in o.inputs) and id(o) not in plan.element_reads:
            return False  # an op over a whole array (a fold, a product)
    return True


class AloneCode(DeviceCode):
    """The kernel of threads that each run their own iterations: nothing to synchronize
    (team_loops.py closes a nested loop's steps with `sync`)."""

    def sync(self) -> None:
        self.end_phase()


class IterationsCtx(PointsCtx):
    """The team of an iterations kernel: each thread alone, registers only; a check
    reports at once (rules/check.py `_check_alone`)."""

    alone = True


def emit_iterations(em: CudaEmitter, op: Op, levels: list[Level], plan) -> None:
    """The loop nest as one grid-stride kernel over its iterations (module docstring)."""
    top = levels[0].op
    outs = [em.alloc_temp(tuple(y.shape), y.dtype) for y in top.outputs]
    shape = tuple(lv.trips for lv in levels)
    n = em.count(shape)
    code = AloneCode(em.fresh("its"), em)
    bounds = [[em.device_scalar(code, v) for v in lv.op.inputs[:3]] for lv in levels]
    code.line(f"for e in range(cuda.grid(1), {code.size(n)}, cuda.gridsize(1)):")
    em.team = IterationsCtx(em, False, code)
    try:
        with code.indented():
            idx = em.index_of(code, "e", shape)
            for lv, k, (start, _, step) in zip(levels, idx, bounds):
                t = em.fresh("t")
                code.line(f"{t} = {cast_to(f'{start} + {k} * {step}', lv.op.blocks[0].args[0].dtype)}")
                index = lv.op.blocks[0].args[0]
                em.locs[index.id] = Reg(t, np.dtype(index.dtype))
                known = index_range(*lv.op.inputs[:3])
                if known is not None:
                    em.ranges[index.id] = known
            _emit_level(em, code, levels, 0, outs)
    finally:
        em.team = None
    em.add_kernel(code, "grid")
    em.hline(f"rt.launch({code.name}, {n}, {launch_args(code)})")
    for y, acc in zip(top.outputs, outs):
        em.bind(y, acc, owned=True)
    em.note_loop(op, plan.reason)


def _emit_level(em: CudaEmitter, code: DeviceCode, levels: list[Level], k: int, outs: list) -> None:
    lv = levels[k]
    (body,) = lv.op.blocks

    def finish() -> None:
        if k + 1 < len(levels):
            _emit_level(em, code, levels, k + 1, outs)
            return
        for acc, r in zip(outs, (body.results[j] for j in lv.picks)):
            flat = A.Access(acc.buf, (acc.shape[0],), (1,), acc.off)  # one element per iteration, in C order
            value = em.device_scalar(code, _scalar_source(body, r))
            code.store(flat, ["e"], cast_to(value, r.dtype))

    em.emit_block(body, set(), finish=finish, adjust=lambda plan: plan.skip.update(lv.own))
