"""A top-level loop as ONE persistent kernel (team.py's team running every step).

`emit_persistent` writes the kernel: the loop-invariant matrices staged
first (in shared memory when they fit, else as a transposed copy in global
memory made by the host before the launch, so the team's reads are
consecutive), the carries' first values, the loop over the steps with the
body written by the ordinary rules, the stacked rows written by the roots
that compute them, and the final carries copied to host-visible buffers.
The launch (threads sized by the body's widest op, dynamic shared memory,
cooperative or not) is recorded for host.py's `launch_team`.
"""
from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

import numpy as np

from looptrace.ir.core import RNG, Op, Value, free_values, walk
from looptrace.ops.control import split_for_results
from looptrace.ops.linalg import parse_spec

from ..cpu.text import dtype_text
from . import access as A
from .device import DeviceCode, launch_args
from .limits import HOPPER
from .splitk import product_lanes, summed_letter
from .values import Reg, index_range

if TYPE_CHECKING:
    from .emitter import CudaEmitter


from .team import (
    COOP_THREADS,
    MAX_THREADS,
    SHARED_TOTAL,
    SHARED_VALUES,
    TeamCtx,
    TeamLaunch,
    shared_name,
)
from .team_loops import (
    carry_storage,
    copy_out,
    fresh_results,
    init_carries,
    next_step,
    while_step,
)


# --- the top-level loop as one kernel ------------------------------------------------------------
def emit_persistent(em: CudaEmitter, op: Op, plan) -> None:
    """A top-level for_loop or while_loop as one persistent kernel."""
    code = DeviceCode(em.fresh("scan"), em, barrier="grid.sync()" if plan.kind == "coop" else "cuda.syncthreads()")
    team = TeamCtx(em, plan.kind == "coop", code)
    outs = [em.alloc_temp(tuple(v.shape), v.dtype) if v.dtype != RNG else None for v in op.outputs]
    bounds = [em.device_scalar(code, v) for v in op.inputs[:3]] if op.prim.name == "for_loop" else []
    in_shared = _stage_in_global(em, team, op)
    em.team = team
    try:
        _stage_in_shared(em, team, in_shared)
        if op.prim.name == "for_loop":
            _persistent_for(em, team, op, bounds, outs)
        else:
            _persistent_while(em, team, op, outs)
    finally:
        em.team = None
        for x, _ in _staging_plan(op, team.cooperative):
            em.overrides.pop(x.id, None)
    _finish_kernel(em, team, op, plan)
    for v, acc in zip(op.outputs, outs):
        em.bind(v, acc, owned=v.ndim > 0)


# --- loop-invariant operands of products: staged so the team's reads are consecutive ---------------
def _staging_plan(op: Op, cooperative: bool) -> list[tuple[Value, tuple[int, ...]]]:
    """(operand, axis order) for each loop-invariant matrix a product in the loop reads, so that
    consecutive threads read consecutive words: the product's fastest output letter becomes the
    operand's last axis, or, for a product split over lanes (splitk.py: consecutive lanes take
    consecutive terms), its summed letter."""
    outer = {v.id for b in op.blocks for v in free_values(b)}
    seen: dict[int, tuple] = {}
    for inner in (o for b in op.blocks for o in walk(b)):
        if inner.prim.name != "einsum" or inner.prim.reduction.axes(inner) is not None:
            continue
        ins, out = parse_spec(inner.attrs["spec"])
        if not out:
            continue
        fastest = summed_letter(inner) if product_lanes(inner, cooperative) > 1 else out[-1]
        for letters, x in zip(ins, inner.inputs):
            if x.id in outer and x.ndim >= 2 and x.id not in seen and fastest in letters:
                k = letters.index(fastest)
                seen[x.id] = (x, tuple(a for a in range(x.ndim) if a != k) + (k,))
    return list(seen.values())


def operands_outside_shared(op: Op) -> int:
    """Bytes of the loop-invariant operands of the loop's products that a single
    block could not stage in its shared memory (read from L2 every step instead):
    the same budget _stage_in_global applies."""
    room = SHARED_TOTAL - min(SHARED_VALUES, _values_bytes(op))
    budget, outside = 0, 0
    for x, _ in _staging_plan(op, False):
        nbytes = prod(x.shape) * np.dtype(x.dtype).itemsize
        if budget + nbytes <= room:
            budget += nbytes
        else:
            outside += nbytes
    return outside


def _values_bytes(op: Op) -> int:
    """An upper bound of the shared memory the loop's values take (carries twice: ping-pong)."""
    total = sum(2 * prod(a.shape) * np.dtype(a.dtype).itemsize for b in op.blocks for a in b.args
                if a.dtype != RNG and a.ndim)
    for inner in (o for b in op.blocks for o in walk(b)):
        for v in inner.outputs:
            if v.dtype != RNG and v.ndim and not inner.prim.view:
                total += prod(d for d in v.shape if isinstance(d, int)) * np.dtype(v.dtype).itemsize
    return total + 8 * 64  # alignment


def _inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(perm.index(a) for a in range(len(perm)))


def _stage_in_global(em: CudaEmitter, team: TeamCtx, op: Op) -> list:
    """Decide where each operand is staged; make the global (transposed) copies now, on the host.
    Returns the operands to stage in shared memory inside the kernel."""
    shared, budget = [], 0
    room = SHARED_TOTAL - min(SHARED_VALUES, _values_bytes(op))
    for x, perm in _staging_plan(op, team.cooperative):
        nbytes = prod(x.shape) * np.dtype(x.dtype).itemsize
        if not team.cooperative and budget + nbytes <= room:
            shared.append((x, perm))
            budget += nbytes
            em.notes.append(f"line {op.loc.line}: {tuple(x.shape)} operand staged in shared memory "
                            f"({nbytes} B) for the persistent kernel")
            continue
        src = em.acc(x)
        if src.strides[perm[-1]] in (0, 1):
            continue  # consecutive threads already read consecutive words
        tmp = em.alloc_temp(tuple(x.shape[p] for p in perm), x.dtype)
        em.copy_access(A.transpose(tmp, _inverse(perm)), src)
        em.overrides[x.id] = A.transpose(tmp, _inverse(perm))
        em.notes.append(f"line {op.loc.line}: {tuple(x.shape)} operand ({nbytes} B) read from global memory "
                        "(L2) in a transposed copy, so consecutive threads read consecutive words")
    return shared


def _stage_in_shared(em: CudaEmitter, team: TeamCtx, staged: list) -> None:
    for x, perm in staged:
        dst = team.storage(tuple(x.shape[p] for p in perm), x.dtype, staged=True)
        view = A.transpose(dst, _inverse(perm))
        em.copy_access(view, em.acc(x))
        em.overrides[x.id] = view


def _finish_kernel(em: CudaEmitter, team: TeamCtx, op: Op, plan) -> None:
    code = team.code
    code.end_phase()
    head = ["tid = cuda.grid(1)" if team.cooperative else "tid = cuda.threadIdx.x",
            "nth = cuda.gridsize(1)" if team.cooperative else "nth = cuda.blockDim.x",
            "ltid = cuda.threadIdx.x", "lnth = cuda.blockDim.x",
            "half = 1", "while half * 2 < lnth:", "    half *= 2"]
    if team.cooperative:
        head.append("grid = cuda.cg.this_grid()")
    for dt in sorted(team.shared_dtypes, key=str):
        sdt = "boolean" if dt.kind == "b" else dt.name
        head.append(f"{shared_name(dt)} = cuda.shared.array(0, {sdt})")
    code.preamble = head + code.preamble
    for name, n, dt in team.scratch:
        em.hline(f"{name} = rt.empty({n}, {dtype_text(dt)})")
    threads = max(32, min(MAX_THREADS, -(-team.extent // 32) * 32))
    blocks = 1
    if team.cooperative:
        threads = COOP_THREADS
        blocks = max(1, min(-(-team.extent // COOP_THREADS), HOPPER.sm_count))
    launch = TeamLaunch(team.cooperative, threads, blocks, team.shared_bytes, plan.reason, team.lanes)
    rec = em.add_kernel(code, "coop" if team.cooperative else "single")
    rec.notes["plan"] = launch
    em.hline(f"rt.launch_team({code.name}, {launch_args(code)})")
    em.note_loop(op, plan.reason)


def _persistent_for(em: CudaEmitter, team: TeamCtx, op: Op, bounds: list[str], outs: list) -> None:
    code = team.code
    start, stop, step, *init = op.inputs
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    index, carries = body.args[0], body.args[1:]
    storage = carry_storage(em, team, carries, body.results[:n_carry], body)
    init_carries(em, team, carries, init, storage)
    stacked = op.outputs[n_carry:]
    if stacked:
        code.line("k_ = 0")
    if code.pingpong:
        code.line("par = 0")
    rows = []
    for y, acc in zip(stacked, outs[n_carry:]):
        row = A.Access(acc.buf, tuple(y.shape[1:]), A.c_strides(tuple(y.shape[1:])),
                       A.Off(0, ((A.Sym("reg", "k_"), prod(y.shape[1:])),)))
        rows.append(row)
    for r, row in zip(body.results[n_carry:], rows):
        if r.ndim and r.id in fresh_results(body):
            team.rows.setdefault(r.id, []).append(row)
    em.locs[index.id] = Reg("i_", np.dtype(index.dtype))
    known = index_range(start, stop, step)
    if known is not None:
        em.ranges[index.id] = known
    code.sync()  # the carries' first values, written above, are read by every thread
    code.begin_phase()
    code.line(f"for i_ in range({', '.join(bounds)}):")
    team.counting = True
    with code.indented():
        def finish() -> None:
            for r, row in zip(body.results[n_carry:], rows):
                if r.id not in team.written_rows:
                    em.copy(row, r)
            next_step(em, team, carries, body.results[:n_carry], storage)
            code.sync()
            if stacked:
                code.line("k_ += 1")
            if code.pingpong:
                code.line("par = 1 - par")

        em.emit_block(body, {a.id for a in carries if a.ndim}, finish=finish)
    team.counting = False
    copy_out(em, team, carries, op.outputs[:n_carry], outs[:n_carry], storage)


def _persistent_while(em: CudaEmitter, team: TeamCtx, op: Op, outs: list) -> None:
    code = team.code
    cond, body = op.blocks
    storage = carry_storage(em, team, body.args, body.results, body)
    init_carries(em, team, body.args, list(op.inputs), storage)
    if code.pingpong:
        code.line("par = 0")
    code.sync()
    code.begin_phase()
    code.line("while True:")
    team.counting = True
    with code.indented():
        while_step(em, team, cond, body, storage, top=True)
    team.counting = False
    copy_out(em, team, body.args, op.outputs, outs, storage)


__all__ = ["emit_persistent"]
