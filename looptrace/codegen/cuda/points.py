"""A pointwise scan on the GPU: one thread per point runs every step, in one launch.

A loop whose body updates each point of its state from that point only
(planning/pointwise.py: per-particle ODEs, Monte Carlo paths, Mandelbrot's
`z = z*z + c`) needs no barrier at all: thread g takes the points g, g + G,
g + 2G, ... (G = all threads of the grid; consecutive threads, consecutive
points: coalesced), holds each point's carries in registers, and runs every
step of the loop for it. The step's own values (0-d ops, views such as
`noise[t]`) are computed by every thread alike, as registers; the body's
element work is the Fuser's code at the thread's point; stacked rows are
written as each step ends; the last carries are stored once. A stacked
output read only by folds over the steps (`n += live`: planning/pointwise.py
`folded_rows`) is accumulated in a register of each point instead. Against the
other strategies (strategy.py) it launches once and never synchronizes:
host-driven steps launch the body's kernels every step (~10 us each), a
cooperative kernel syncs the grid between the body's ops.

A dynamic start out of bounds sets the call's error flag and is clamped
(rules/indexing.py `checked_start`), as in any persistent kernel. Carried
scalars (`t += dt`) are registers every thread computes alike; one thread
stores their last values.

Simulator-safe: no shared memory, no barrier, no warp operation.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from looptrace.codegen.planning.fusion import BlockPlan, broadcast_index
from looptrace.codegen.planning.pointwise import compute_at_points, folded_rows, pointwise_ops, take_folds
from looptrace.ir.core import Dim, Op
from looptrace.ops.control import split_for_results

from .device import DeviceCode, launch_args
from .fuse import FOLD_UPDATE, Fuser, fold_init, fold_update
from .rules.scalar import element_expr
from .team import TeamCtx
from .values import Reg, cast_to, index_range

if TYPE_CHECKING:
    from .emitter import CudaEmitter


def points_ops(em: CudaEmitter, op: Op) -> list[Op] | None:
    """The body's ops computed at each point, when this loop may run as a points kernel."""
    return pointwise_ops(op, em.plan_of(op.blocks[0]), _cheap_view)


def _cheap_view(op: Op, plan: BlockPlan) -> bool:
    """Views the cuda rules write as an Access, with no code and no copy."""
    if op.prim.name in ("dynamic_slice", "slice"):
        return True
    return op.prim.name == "reshape" and id(op) in plan.slice_into


class PointsCtx(TeamCtx):
    """The team of a points kernel: each thread alone. The body's step values are
    registers (`scalar`); nothing inside may loop over threads or take storage."""

    def parallel(self, n: str):
        raise NotImplementedError("a points kernel runs no parallel loop inside its steps")

    def storage(self, shape: tuple, dtype, staged: bool = False):
        raise NotImplementedError("a points kernel takes no storage inside its steps")

    def reduce_scalar(self, op: Op) -> None:
        raise NotImplementedError("a points kernel folds nothing across its points")


def emit_points(em: CudaEmitter, op: Op, ops: list[Op], plan) -> None:
    """The loop as one grid-stride kernel over its points (module docstring)."""
    start, stop, step, *init = op.inputs
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    index = body.args[0]
    carried = list(zip(body.args[1:], init, body.results[:n_carry], op.outputs[:n_carry]))
    arrays = [t for t in carried if t[0].ndim]
    scalars = [t for t in carried if not t[0].ndim]
    points = tuple(arrays[0][0].shape)
    stacked = list(zip(op.outputs[n_carry:], body.results[n_carry:]))
    if stacked and isinstance(stacked[0][0].shape[0], Dim):  # a trip count read at run time
        count = em.fresh("n")
        em.hline(f"{count} = len(range({em.host_scalar(start)}, {em.host_scalar(stop)}, {em.host_scalar(step)}))")
        em.dims.setdefault(stacked[0][0].shape[0].id, count)
    finals = {out.id: em.alloc_temp(points, out.dtype) for _, _, _, out in arrays}
    finals.update({out.id: em.alloc_temp((), out.dtype) for _, _, _, out in scalars})
    folded = folded_rows(op, em.scope.block, em.plan, lambda red: red.prim.reduction.combine in FOLD_UPDATE)
    folds = [(k, chain, red, em.fresh("acc")) for k, found in folded.items() for chain, red in found]
    take_folds(em.plan, [(chain, red) for _, chain, red, _ in folds])  # those ops are this loop's now
    for _, chain, red, _ in folds:
        finals[red.out.id] = em.alloc_temp(points, red.out.dtype)
    rows = {y.id: em.alloc_temp(tuple(y.shape), y.dtype) for k, (y, _) in enumerate(stacked) if k not in folded}

    code = DeviceCode(em.fresh("pts"), em)
    team = PointsCtx(em, False, code)
    n = em.count(points)
    bounds = ", ".join(em.device_scalar(code, v) for v in (start, stop, step))
    code.line(f"for e in range(cuda.grid(1), {code.size(n)}, cuda.gridsize(1)):")
    with code.indented():
        idx = em.index_of(code, "e", points)
        for c, x, _, _ in arrays:  # each point's carries in registers
            name = em.fresh("c")
            code.line(f"{name} = {cast_to(code.load(em.acc(x), broadcast_index(x, c, idx)), c.dtype)}")
            em.locs[c.id] = Reg(name, np.dtype(c.dtype))
        for c, x, _, _ in scalars:
            name = em.fresh("c")
            code.line(f"{name} = {cast_to(em.device_scalar(code, x), c.dtype)}")
            em.locs[c.id] = Reg(name, np.dtype(c.dtype))
        for _, _, red, acc in folds:
            code.line(f"{acc} = {fold_init(red)}")
        k, t = em.fresh("k"), em.fresh("t")
        if rows:
            code.line(f"{k} = 0")
        em.locs[index.id] = Reg(t, np.dtype(index.dtype))
        known = index_range(start, stop, step)
        if known is not None:
            em.ranges[index.id] = known

        def finish() -> None:
            fz = Fuser(em, code)
            values = []
            for r in body.results:  # every result before any carry changes: a carry may read another
                text = fz.value_at(r, broadcast_index(r, arrays[0][0], idx)) if r.ndim else em.device_scalar(code, r)
                name = em.fresh("v")
                code.line(f"{name} = {cast_to(text, r.dtype)}")
                values.append(name)
            for (c, _, _, _), v in zip(carried, values):
                code.line(f"{em.locs[c.id].name} = {v}")
            for (y, _), v in zip(stacked, values[n_carry:]):
                if y.id in rows:
                    code.store(rows[y.id], [k, *idx], v)
            for j, chain, red, acc in folds:
                code.line(fold_update(red, acc, _chain_text(em, code, chain, stacked[j][0], values[n_carry + j])))
            if rows:
                code.line(f"{k} += 1")

        code.line(f"for {t} in range({bounds}):")
        em.team = team
        try:
            with code.indented():
                em.emit_block(body, set(), finish=finish, adjust=lambda plan: compute_at_points(plan, ops))
        finally:
            em.team = None
        for c, _, _, out in arrays:
            code.store(finals[out.id], idx, em.locs[c.id].name)
        for _, _, red, acc in folds:
            code.store(finals[red.out.id], idx, cast_to(acc, red.out.dtype))
        if scalars:
            code.line("if e == 0:")
            with code.indented():
                for c, _, _, out in scalars:
                    code.store(finals[out.id], [], em.locs[c.id].name)
    em.add_kernel(code, "grid")
    em.hline(f"rt.launch({code.name}, {n}, {launch_args(code)})")
    for _, _, _, out in carried:
        em.bind(out, finals[out.id], owned=out.ndim > 0)
    for y, _ in stacked:
        if y.id in rows:
            em.bind(y, rows[y.id], owned=True)
    for _, _, red, _ in folds:
        em.bind(red.out, finals[red.out.id], owned=True)
    em.note_loop(op, plan.reason)


def _chain_text(em: CudaEmitter, code: DeviceCode, chain: list[Op], row, value: str) -> str:
    """The element of the last op of `chain` (element ops, each reading the one
    before it, the first reading stacked output `row`) where that output's
    element is `value`: one temporary per op, as the Fuser writes them."""
    for o in chain:
        args = [value if w is row else em.device_scalar(code, w) for w in o.inputs]
        expr = element_expr(o, args)
        value, row = em.fresh(), o.out
        code.line(f"{value} = {cast_to(expr, o.out.dtype)}")
    return value
