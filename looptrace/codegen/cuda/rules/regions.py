"""cuda rules of the region ops: for_loop, while_loop, cond.

A loop at the top level of the program gets a strategy (strategy.py, and
`explain` reports it): a persistent kernel running every step in one launch
(team.py: one block, or a cooperative grid), or host-driven steps, written
here: a Python loop in the host function launching the body's kernels each
step. Inside a persistent kernel, loops and conditionals are plain control
flow of the kernel (team.py).

Host-driven loops: a carried array lives in a host variable naming a
contiguous buffer the loop owns (the body may update it in place); a step's
new carry takes the buffer of its result when that is ours and unshared,
else a copy. Everything else a step allocates goes back to the pool when the
step ends (`rt.mark`/`rt.release_since`), and a replaced carry when its
successor exists (`rt.rotate`), so a loop allocates on its first steps only.
Scalars the host must branch on (a trip count, a predicate) are fetched
when they live on the device: one synchronization per step, the price of
this fallback.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from looptrace.codegen.target import RegionRule
from looptrace.ir.core import RNG, Block, Dim, Op, Value, free_values
from looptrace.ops.control import split_for_results

from ...cpu.text import dtype_text
from .. import access as A
from ..access import Access
from ..values import HostScalar, RngLoc, index_range, is_array

if TYPE_CHECKING:
    from ..emitter import CudaEmitter
from ..target import TARGET


def _carry_loc(em: CudaEmitter, v: Value, var: str):
    if v.dtype == RNG:
        return RngLoc(var)
    if v.ndim == 0:
        return HostScalar(var, v.dtype)
    return A.whole(A.Buf("host", var, v.dtype), tuple(v.shape))


def _init_carries(em: CudaEmitter, op: Op, args: list[Value], inits: list[Value]) -> list[str]:
    """Host variables of the carries, bound to their initial values; arrays owned."""
    captured = {v.id for b in op.blocks for v in free_values(b)}
    names, taken = [], set()
    for a, x in zip(args, inits):
        var = em.fresh("c")
        names.append(var)
        if x.dtype == RNG:
            em.hline(f"{var} = {em.loc(x).name}")
        elif x.ndim == 0:
            em.hline(f"{var} = {em.host_scalar(x)}")
        else:
            loc = em.loc(x)
            if (x.const is None and loc.plain() and em.scope.can_consume(x) and x.id not in captured
                    and x.id not in taken):
                em.hline(f"{var} = {loc.buf.name}")
            else:
                dst = em.alloc_temp(tuple(x.shape), x.dtype)
                em.copy(dst, x)
                em.hline(f"{var} = {dst.buf.name}")
        taken.add(x.id)
        em.locs[a.id] = _carry_loc(em, a, var)
    return names


def _next_carries(em: CudaEmitter, args: list[Value], results: list[Value], names: list[str]) -> None:
    """Assign the step's results to the carries (a copy where the result is not ours alone)."""
    news, used = [], set()
    for a, r, var in zip(args, results, names):
        if r.dtype == RNG:
            news.append(em.loc(r).name)
        elif r.ndim == 0:
            news.append(em.host_scalar(r))
        else:
            news.append(_own_buffer(em, r, used))
    arrays = [(var, new) for a, var, new in zip(args, names, news) if is_array(a)]
    if arrays:
        em.hline(f"rt.rotate(({''.join(v + ', ' for v, _ in arrays)}), ({''.join(n + ', ' for _, n in arrays)}))")
    if names:
        em.hline(f"{', '.join(names)}, = {', '.join(news)},")


def _own_buffer(em: CudaEmitter, r: Value, used: set) -> str:
    loc = em.loc(r)
    root = em.scope.root.get(r.id)
    if (r.const is None and isinstance(loc, Access) and loc.plain() and root is not None
            and root in em.scope.owned and root not in used):
        used.add(root)
        return loc.buf.name
    dst = em.alloc_temp(tuple(r.shape), r.dtype)
    em.copy(dst, r)
    return dst.buf.name


def emit_for(em: CudaEmitter, op: Op) -> None:
    if em.team is not None:
        if getattr(em.team, "alone", False) and split_for_results(op)[1]:  # rows inside a thread's iteration
            from ..iterations import emit_thread_for

            return emit_thread_for(em, op)
        from ..team_loops import emit_team_for

        return emit_team_for(em, op)
    from ..strategy import choose

    plan = choose(em, op)
    if plan.kind == "points":
        from ..points import emit_points, points_ops

        return emit_points(em, op, points_ops(em, op), plan)
    if plan.kind == "iterations":
        from ..iterations import emit_iterations, iteration_levels

        return emit_iterations(em, op, iteration_levels(em, op), plan)
    if plan.kind != "host":
        from ..persistent import emit_persistent

        return emit_persistent(em, op, plan)
    _host_for(em, op, plan)


def _host_for(em: CudaEmitter, op: Op, plan) -> None:
    start, stop, step, *init = op.inputs
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    index, carries = body.args[0], body.args[1:]
    names = _init_carries(em, op, carries, init)
    bounds = f"{em.host_scalar(start)}, {em.host_scalar(stop)}, {em.host_scalar(step)}"
    stacked = op.outputs[n_carry:]
    count, k = em.fresh("n"), em.fresh("k")
    em.hline(f"{count} = len(range({bounds}))")
    ys = []
    for y in stacked:
        if isinstance(y.shape[0], Dim):  # a trip count read at run time
            em.dims.setdefault(y.shape[0].id, count)
        buf = em.fresh("b")
        em.hline(f"{buf} = rt.empty({count} * {_row_size(y)}, {dtype_text(y.dtype)})")
        ys.append(buf)
    em.hline(f"{k} = 0")
    idx, mark = em.fresh("i"), em.fresh("mark")
    em.locs[index.id] = HostScalar(idx, index.dtype)
    known = index_range(start, stop, step)
    if known is not None:
        em.ranges[index.id] = known

    def finish() -> None:
        for buf, y, r in zip(ys, stacked, body.results[n_carry:]):
            row = A.Access(A.Buf("host", buf, y.dtype), tuple(y.shape[1:]), A.c_strides(tuple(y.shape[1:])),
                           A.Off(0, ((A.Sym("host", k), _row_size(y)),)))
            em.copy(row, r)
        _next_carries(em, carries, body.results[:n_carry], names)
        em.hline(f"{k} += 1")
        em.hline(f"rt.release_since({mark}, ({''.join(n + ', ' for n in names)}))")

    em.hline(f"for {idx} in range({bounds}):")
    with em.hindented():
        em.hline(f"{mark} = rt.mark()")
        em.emit_block(body, {a.id for a in carries if is_array(a)}, finish=finish)
    for out, a in zip(op.outputs[:n_carry], carries):
        em.bind(out, em.locs[a.id], owned=is_array(out))
    for out, buf in zip(stacked, ys):
        em.bind(out, A.whole(A.Buf("host", buf, out.dtype), tuple(out.shape)), owned=True)
    em.note_loop(op, plan.reason)


def _row_size(y: Value) -> int:
    n = 1
    for d in y.shape[1:]:
        n *= d
    return n


def emit_while(em: CudaEmitter, op: Op) -> None:
    if em.team is not None:
        from ..team_loops import emit_team_while

        return emit_team_while(em, op)
    from ..strategy import choose

    plan = choose(em, op)
    if plan.kind != "host":
        from ..persistent import emit_persistent

        return emit_persistent(em, op, plan)
    cond, body = op.blocks
    names = _init_carries(em, op, body.args, list(op.inputs))
    mark = em.fresh("mark")
    em.hline("while True:")
    sites = len(em.error_sites)
    with em.hindented():
        em.hline(f"{mark} = rt.mark()")
        for ca, ba in zip(cond.args, body.args):
            em.locs[ca.id] = em.locs[ba.id]
        em.emit_block(cond, finish=lambda: em.hline(f"if not {em.host_scalar(cond.results[0])}:"))
        with em.hindented():
            em.hline("break")

        def finish() -> None:
            _next_carries(em, body.args, body.results, names)
            em.hline(f"rt.release_since({mark}, ({''.join(n + ', ' for n in names)}))")
            if len(em.error_sites) > sites:  # a failed check or bad index stops the loop (the call raises)
                em.hline("if rt.failed():")
                em.hline("    break")

        em.emit_block(body, {a.id for a in body.args if is_array(a)}, finish=finish)
    for out, a in zip(op.outputs, body.args):
        em.bind(out, em.locs[a.id], owned=is_array(out))
    em.note_loop(op, plan.reason)


def emit_cond(em: CudaEmitter, op: Op) -> None:
    if em.team is not None:
        from ..team_loops import emit_team_cond

        return emit_team_cond(em, op)
    (pred,) = op.inputs
    names = [em.fresh("o") for _ in op.outputs]
    em.hline(f"if {em.host_scalar(pred)}:")
    for k, block in enumerate(op.blocks):
        if k:
            em.hline("else:")
        with em.hindented():
            _emit_branch(em, op, block, names)
    for out, var in zip(op.outputs, names):
        em.bind(out, _carry_loc(em, out, var), owned=is_array(out))


def _emit_branch(em: CudaEmitter, op: Op, block: Block, names: list[str]) -> None:
    free = list(free_values(block))
    consumable = {v.id for v in free if v.ndim and isinstance(em.loc(v), Access) and em.scope.can_consume(v)}

    def finish() -> None:
        used: set = set()
        for out, r, var in zip(op.outputs, block.results, names):
            if r.dtype == RNG:
                em.hline(f"{var} = {em.loc(r).name}")
            elif r.ndim == 0:
                em.hline(f"{var} = {em.host_scalar(r)}")
            else:
                em.hline(f"{var} = {_own_buffer(em, r, used)}")

    em.emit_block(block, consumable, free=free, finish=finish)


TARGET.register("for_loop", RegionRule(emit_for))
TARGET.register("while_loop", RegionRule(emit_while))
TARGET.register("cond", RegionRule(emit_cond))

__all__ = ["dtype_text"]
