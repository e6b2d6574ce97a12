"""Carried values and control flow inside a persistent kernel (team.py).

Carries: a carried array whose new value the body computes into fresh storage
is double-buffered (ping-pong halves chosen by the step's parity `par`: the
step reads one half and writes the other, so the carry needs no copy and no
extra barrier); one the body updates in place has a single buffer, and a step
whose result lives elsewhere copies it back (the barrier machinery of
device.py orders that copy after the step's reads). Scalar carries are
registers every thread updates alike.

Nested loops, `while` (with `break`) and conditionals are plain control flow
of the kernel: their predicates are registers every thread computes alike,
so every thread takes the same path and the barriers inside stay uniform. A
barrier closes every iteration that touched memory and follows every nested
region (a zero-trip loop runs none of its own).
"""
from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

import numpy as np

from looptrace.ir.core import RNG, Block, Op, Value, free_values
from looptrace.ops.control import split_for_results

from ..cpu.text import dtype_text
from . import access as A
from .values import Reg, index_range
from .values import cast_to as _cast

if TYPE_CHECKING:
    from .emitter import CudaEmitter
    from .team import TeamCtx



def carry_storage(em: CudaEmitter, team: TeamCtx, args: list[Value], results: list[Value],
                   block: Block) -> dict[int, tuple]:
    """Each carried array's storage: (current Access, next Access or None for one buffer)."""
    code = team.code
    fresh = fresh_results(block)
    counts: dict[int, int] = {}
    for r in results:
        counts[r.id] = counts.get(r.id, 0) + 1
    out = {}
    for a, r in zip(args, results):
        if a.dtype == RNG or a.ndim == 0:
            continue
        size = prod(a.shape)
        if r.id in fresh and counts[r.id] == 1 and r.id != a.id:
            both = team.storage((2 * size,), a.dtype)
            par = A.Sym("reg", "par")
            cur = A.Access(both.buf, tuple(a.shape), A.c_strides(tuple(a.shape)), both.off.plus(0, par, size))
            nxt = A.Access(both.buf, tuple(a.shape), A.c_strides(tuple(a.shape)), both.off.plus(size, par, -size))
            team.pingpong[r.id] = nxt
            out[a.id] = (cur, nxt)
        else:
            out[a.id] = (team.storage(tuple(a.shape), a.dtype), None)
    code.pingpong = code.pingpong or any(n is not None for _, n in out.values())
    return out


def fresh_results(block: Block) -> set[int]:
    """Results of the block made by ops of the block that allocate their output."""
    made = {}
    for op in block.ops:
        if len(op.outputs) == 1 and not op.prim.view and op.prim.name not in (
                "dynamic_update_slice", "update_slice", "scatter", "reshape", "transpose", "broadcast_to"):
            made[op.out.id] = op
    return {r.id for r in block.results if r.id in made}


def init_carries(em: CudaEmitter, team: TeamCtx, args: list[Value], inits: list[Value], storage: dict) -> None:
    code = team.code
    for a, x in zip(args, inits):
        if a.dtype == RNG:
            raise NotImplementedError("a generator cannot be carried by a persistent kernel")
        if a.ndim == 0:
            name = em.fresh("c")
            code.line(f"{name} = {_cast(em.device_scalar(code, x), a.dtype)}")
            em.locs[a.id] = Reg(name, np.dtype(a.dtype))
            continue
        cur, _ = storage[a.id]
        em.copy(_at_parity0(cur), x)
        em.locs[a.id] = cur


def _at_parity0(acc: A.Access) -> A.Access:
    terms = tuple((s, m) for s, m in acc.off.terms if s.name != "par")
    return A.Access(acc.buf, acc.shape, acc.strides, A.Off(acc.off.const, terms))


def next_step(em: CudaEmitter, team: TeamCtx, args: list[Value], results: list[Value], storage: dict) -> None:
    """The step's results become the carries: ping-pong halves need nothing, one buffer may need a copy."""
    code = team.code
    scalars, moves = [], []
    for a, r in zip(args, results):
        if a.ndim == 0:
            scalars.append((em.locs[a.id].name, _cast(em.device_scalar(code, r), a.dtype)))
            continue
        cur, nxt = storage[a.id]
        target = nxt if nxt is not None else cur
        src = em.acc(r)
        if src != target:
            moves.append((target, src))
    for target, src in parallel_moves(team, moves):
        em.copy_access(target, src)
    if scalars:
        code.line(", ".join(n for n, _ in scalars) + ", = " + ", ".join(x for _, x in scalars) + ",")


def parallel_moves(team: TeamCtx, moves: list[tuple[A.Access, A.Access]]) -> list[tuple[A.Access, A.Access]]:
    """The copies (target, source) of one step's carries, all reading the step's values,
    as a sequence: a copy that writes a buffer no other one reads goes first, and a
    cycle (`a, b = b, a` with one of them updated in place, each carry reading the
    other's storage) or a copy overlapping itself (a reversed view of its own carry)
    goes through fresh storage. One after the other in the order given, a later copy
    read what an earlier one had already overwritten (found by the generated-program
    fuzz under the simulator: `b[1:] = ...; a, b = b, a`)."""
    out, todo = [], list(moves)
    while todo:
        for k, (target, src) in enumerate(todo):
            if not any(s.buf == target.buf for j, (_, s) in enumerate(todo) if j != k):
                if src.buf == target.buf:  # the same region, not the same elements in the same order
                    tmp = team.storage(tuple(src.shape), src.dtype)
                    out.append((tmp, src))
                    src = tmp
                out.append((target, src))
                del todo[k]
                break
        else:  # every remaining copy reads what another writes: stage one's source
            target, src = todo[0]
            tmp = team.storage(tuple(src.shape), src.dtype)
            out.append((tmp, src))
            todo[0] = (target, tmp)
    return out


def copy_out(em: CudaEmitter, team: TeamCtx, carries: list[Value], finals: tuple, outs: list, storage) -> None:
    """After the loop: the carries into the host-visible output buffers."""
    code = team.code
    code.sync()
    for a, v, acc in zip(carries, finals, outs):
        if a.ndim == 0:
            code.line("if tid == 0:")
            with code.indented():
                code.store(acc, [], _cast(em.locs[a.id].name, v.dtype))
        else:
            em.copy_access(acc, storage[a.id][0])


def while_step(em: CudaEmitter, team: TeamCtx, cond: Block, body: Block, storage: dict, top: bool) -> None:
    """One step of a while loop; `top`: the kernel's own loop, whose ping-pong
    carries flip halves each step (a nested loop's carries have one buffer,
    and its steps must leave the outer loop's parity alone)."""
    code = team.code
    for ca, ba in zip(cond.args, body.args):
        em.locs[ca.id] = em.locs[ba.id]
    checks = len(em.error_sites)
    em.emit_block(cond, finish=lambda: code.line(f"if not {em.device_scalar(code, cond.results[0])}:"))
    code.line("    break")

    def finish() -> None:
        next_step(em, team, body.args, body.results, storage)
        code.sync()
        if top and code.pingpong:
            code.line("par = 1 - par")
        if len(em.error_sites) > checks:  # a bad index stops the loop (the call then raises)
            code.line(f"if {code.err()}[0] != 0:")
            code.line("    break")

    em.emit_block(body, {a.id for a in body.args if a.ndim}, finish=finish)


def emit_team_for(em: CudaEmitter, op: Op) -> None:
    team, code = em.team, em.team.code
    start, stop, step, *init = op.inputs
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    index, carries = body.args[0], body.args[1:]
    storage = {a.id: (team.storage(tuple(a.shape), a.dtype), None) for a in carries if a.ndim}
    init_carries(em, team, carries, init, storage)
    stacked = op.outputs[n_carry:]
    rows, k = [], em.fresh("k")
    for y in stacked:
        acc = team.storage(tuple(y.shape), y.dtype)
        rows.append((acc, A.Access(acc.buf, tuple(y.shape[1:]), A.c_strides(tuple(y.shape[1:])),
                                   acc.off.plus(0, A.Sym("reg", k), prod(y.shape[1:])))))
    code.line(f"{k} = 0")
    i = em.fresh("i")
    em.locs[index.id] = Reg(i, np.dtype(index.dtype))
    known = index_range(start, stop, step)
    if known is not None:
        em.ranges[index.id] = known
    bounds = ", ".join(em.device_scalar(code, v) for v in (start, stop, step))
    code.begin_phase()
    code.line(f"for {i} in range({bounds}):")
    with code.indented():
        def finish() -> None:
            for r, (_, row) in zip(body.results[n_carry:], rows):
                em.copy(row, r)
            next_step(em, team, carries, body.results[:n_carry], storage)
            code.sync()
            code.line(f"{k} += 1")

        em.emit_block(body, {a.id for a in carries if a.ndim}, finish=finish)
    code.sync()
    for v, a in zip(op.outputs[:n_carry], carries):
        em.bind(v, em.locs[a.id] if a.ndim == 0 else storage[a.id][0], owned=v.ndim > 0)
    for v, (acc, _) in zip(stacked, rows):
        em.bind(v, acc, owned=True)


def emit_team_while(em: CudaEmitter, op: Op) -> None:
    team, code = em.team, em.team.code
    cond, body = op.blocks
    storage = {a.id: (team.storage(tuple(a.shape), a.dtype), None) for a in body.args if a.ndim}
    init_carries(em, team, body.args, list(op.inputs), storage)
    code.begin_phase()
    code.line("while True:")
    with code.indented():
        while_step(em, team, cond, body, storage, top=False)
    code.sync()
    for v, a in zip(op.outputs, body.args):
        em.bind(v, em.locs[a.id] if a.ndim == 0 else storage[a.id][0], owned=v.ndim > 0)


def emit_team_cond(em: CudaEmitter, op: Op) -> None:
    team, code = em.team, em.team.code
    (pred,) = op.inputs
    targets = []
    for v in op.outputs:
        if v.ndim == 0:
            name = em.fresh("o")
            code.line(f"{name} = {dtype_text(v.dtype)}(0)")
            targets.append(Reg(name, np.dtype(v.dtype)))
        else:
            targets.append(team.storage(tuple(v.shape), v.dtype))
    code.begin_phase()
    code.line(f"if {em.device_scalar(code, pred)}:")
    # each branch starts from what was pending at the `if`: the barriers the then branch
    # placed do not run on the else path (a read there of a write before the `if` raced,
    # found by the generated-program fuzz under the simulator: 9-19 wrong runs of 30)
    code.end_phase()
    at_if = (set(code.pending_reads), set(code.pending_writes), code.wrote_since_barrier)
    for k, block in enumerate(op.blocks):
        if k:
            code.end_phase()
            code.pending_reads, code.pending_writes = set(at_if[0]), set(at_if[1])
            code.wrote_since_barrier = at_if[2]
            code.line("else:")
        with code.indented():
            free = list(free_values(block))

            def finish(block=block) -> None:
                for t, r, v in zip(targets, block.results, op.outputs):
                    if isinstance(t, Reg):
                        code.line(f"{t.name} = {_cast(em.device_scalar(code, r), v.dtype)}")
                    else:
                        em.copy(t, r)

            em.emit_block(block, set(), free=free, finish=finish)
    code.sync()
    for v, t in zip(op.outputs, targets):
        em.bind(v, t, owned=v.ndim > 0)


__all__ = ["emit_team_cond", "emit_team_for", "emit_team_while"]
