"""Persistent kernels: a whole top-level loop runs inside ONE launch.

The threads of one block ("single") or of a cooperative grid ("coop") form a
team that runs every step of the loop. Inside, each op of the loop body is
written by its ordinary cuda rule: a `parallel(n)` block becomes a loop over
the team's threads (`for e in range(tid, n, nth)`), a scalar is a register
every thread computes alike (so a predicate or a trip count is uniform and
nested loops, conditionals, `while` and `break` are plain control flow of the
kernel), and a fold to one value is a block tree reduction in shared memory
(for a grid: one partial per block, then every thread folds the partials in
block order: deterministic). Barriers are inserted by device.py where a
phase reads what another thread wrote (or overwrites what it read) since
the last one, and one closes every step.

Storage: values of the body live in the block's dynamic shared memory while
they fit SHARED_VALUES (a single block), else in global scratch buffers the
host allocates before the launch. A carried array whose new value the body
computes into fresh storage is double-buffered (ping-pong halves selected by
the step's parity: the step reads one half and writes the other, so no copy
and no extra barrier); a carry the body updates in place has one buffer.
Stacked outputs are global; a root whose value is stacked also writes its
row as it computes it. A matrix product read by one elementwise consumer of
its shape is computed inside that consumer's element (a matvec per step is
then one loop: `h[i] = tanh(sum_j W[i, j] h[j] + u[t, i])`), and a
loop-invariant operand of such a product is staged in shared memory before
the loop when the budget allows, laid out so the team's threads read
consecutive words.

The simulator runs a cooperative grid as one block, so it checks this code's
indexing and its single-block behaviour, not the grid sync between blocks:
that needs a GPU (tests marked `gpu`).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from math import prod
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from looptrace.codegen.planning.ownership import last_uses
from looptrace.ir.core import RNG, Block, Op, Value, free_values, walk
from looptrace.ir.primitive import folded_axes
from looptrace.ir.uses import use_map
from looptrace.ops.control import split_for_results
from looptrace.ops.linalg import parse_spec

from ..cpu.text import dtype_text
from . import access as A
from .device import DeviceCode, launch_args
from .fuse import Fuser, fold_acc_dtype, fold_init, fold_update
from .limits import HOPPER
from .tree import combine
from .values import Reg, index_range
from .values import cast_to as _cast

if TYPE_CHECKING:
    from .emitter import CudaEmitter

SHARED_VALUES = 96 * 1024  # bytes of dynamic shared memory for the body's values (single block)
# all dynamic shared memory of a block: the sm_90 opt-in limit (232,448 B) less the static
# reduction arrays (8 KiB per dtype) and a margin
SHARED_TOTAL = 216 * 1024
MAX_THREADS = 1024
COOP_THREADS = 256
SIM_THREADS = 4  # the simulator runs an OS thread per CUDA thread


@dataclass
class TeamLaunch:
    """How a persistent kernel is launched (kept in its KernelRecord, read by host.py)."""

    cooperative: bool
    threads: int
    blocks: int
    shared_bytes: int
    reason: str = ""

    def launch(self, mode: str) -> tuple[int, int, int]:
        if mode == "sim":
            return 1, min(self.threads, SIM_THREADS), self.shared_bytes
        return self.blocks, self.threads, self.shared_bytes


@dataclass
class TeamCtx:
    em: CudaEmitter
    cooperative: bool
    code: DeviceCode
    shared_bytes: int = 0
    value_bytes: int = 0
    shared_dtypes: set = field(default_factory=set)
    scratch: list = field(default_factory=list)  # (host name, count, dtype) allocated before the launch
    extent: int = 1  # the widest parallel loop of the loop body: threads wanted
    counting: bool = False  # inside the loop body (prologue copies do not size the team)
    pingpong: dict = field(default_factory=dict)  # value id -> storage for a carry's next value
    rows: dict = field(default_factory=dict)  # value id -> stacked rows it is also written to
    reductions: int = 0
    staged: dict = field(default_factory=dict)  # id(op) -> {input index: Access in shared memory}
    written_rows: set = field(default_factory=set)  # values whose stacked rows their root wrote

    # --- storage --------------------------------------------------------------------------------
    def alloc(self, v: Value, shape: tuple) -> A.Access:
        if v.id in self.pingpong:
            return self.pingpong[v.id]
        return self.storage(shape, v.dtype)

    def fits_shared(self, nbytes: int, staged: bool = False) -> bool:
        if self.cooperative or _align(self.shared_bytes) + nbytes > SHARED_TOTAL:
            return False
        return staged or self.value_bytes + nbytes <= SHARED_VALUES

    def storage(self, shape: tuple, dtype: Any, staged: bool = False) -> A.Access:
        """Shared memory while the budget lasts (a single block), else a global scratch buffer."""
        dtype = np.dtype(dtype)
        n = max(prod(shape), 1)
        nbytes = n * dtype.itemsize
        if self.fits_shared(nbytes, staged):
            start = _align(self.shared_bytes)
            self.shared_bytes = start + nbytes
            if not staged:
                self.value_bytes += nbytes
            self.shared_dtypes.add(dtype)
            buf = A.Buf("shared", _shared_name(dtype), dtype, tag=start + 1)
            return A.Access(buf, tuple(shape), A.c_strides(tuple(shape)), A.Off(start // dtype.itemsize))
        name = self.em.fresh("scr")
        self.scratch.append((name, n, dtype))
        return A.whole(A.Buf("host", name, dtype), tuple(shape))

    def destinations(self, v: Value) -> list[A.Access]:
        return self.rows.get(v.id, [])

    # --- code -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def parallel(self, n: str) -> Iterator[tuple[DeviceCode, str]]:
        code = self.code
        if n.isdigit() and self.counting:
            self.extent = max(self.extent, int(n))
        code.begin_phase()
        e = self.em.fresh("e")
        code.line(f"for {e} in range(tid, {code.size(n)}, nth):")
        with code.indented():
            yield code, e
        code.begin_phase()

    def scalar(self, v: Value, expr_of) -> None:
        expr = expr_of(self.code)
        name = self.em.fresh("r")
        self.code.line(f"{name} = {_cast(expr, v.dtype)}")
        self.em.bind(v, Reg(name, np.dtype(v.dtype)))

    def block_started(self) -> int:
        _fuse_products(self.em)
        self.code.begin_phase()
        return len(self.code.lines)

    def block_ended(self, mark: int) -> None:
        if len(self.code.lines) == mark:
            self.code.line("pass")

    def reduce_scalar(self, op: Op) -> None:
        """A fold to one value: each thread folds its share, then a tree in shared memory."""

        em, code, v, x = self.em, self.code, op.out, op.inputs[0]
        sizes = tuple(x.shape[k] for k in folded_axes(op))
        acc_dt = fold_acc_dtype(op)
        code.begin_phase()
        acc, f = em.fresh("acc"), em.fresh("f")
        code.line(f"{acc} = {fold_init(op)}")
        code.line(f"for {f} in range(tid, {prod(sizes)}, nth):")
        with code.indented():
            inner = em.index_of(code, f, sizes)
            code.line(fold_update(op, acc, Fuser(em, code).term(op, [], inner)))
        if self.counting:
            self.extent = max(self.extent, prod(sizes))
        red = f"red_{'bool' if acc_dt.kind == 'b' else acc_dt.name}"
        if red not in code.preamble_names:
            sdt = "boolean" if acc_dt.kind == "b" else acc_dt.name
            code.preamble.append(f"{red} = cuda.shared.array({MAX_THREADS}, {sdt})")
            code.preamble_names.add(red)
        code.begin_phase()
        code.touch(A.Buf("shared", red, acc_dt), write=True)
        code.line(f"{red}[ltid] = {acc}")
        code.line("cuda.syncthreads()")
        code.line("s_ = half")
        code.line("while s_ > 0:")
        code.line("    if ltid < s_ and ltid + s_ < lnth:")
        code.line(f"        {red}[ltid] = {combine(op, f'{red}[ltid]', f'{red}[ltid + s_]')}")
        code.line("    cuda.syncthreads()")
        code.line("    s_ //= 2")
        out = em.fresh("r")
        if self.cooperative:
            part = self.storage((self.em_blocks_bound(),), acc_dt)
            code.line("if ltid == 0:")
            code.line(f"    {code.address(part, ['cuda.blockIdx.x'])} = {red}[0]")
            code.line("grid.sync()")
            code.line(f"{out} = {fold_init(op)}")
            code.line("for b_ in range(cuda.gridDim.x):")
            code.line(f"    {out} = {combine(op, out, code.address(part, ['b_']))}")
            code.begin_phase()
            code.touch(part.buf, write=False)
        else:
            code.line(f"{out} = {red}[0]")
        code.begin_phase()
        code.touch(A.Buf("shared", red, acc_dt), write=False)
        code.line(f"{out} = {_cast(out, v.dtype)}")
        em.bind(v, Reg(out, np.dtype(v.dtype)))

    def em_blocks_bound(self) -> int:
        return 4 * 132 * 8  # partials of up to this many blocks (max_cooperative_grid_blocks on sm_90 is less)


def _align(n: int) -> int:
    return -(-n // 8) * 8


def _shared_name(dtype: np.dtype) -> str:
    return f"sh_{'bool' if dtype.kind == 'b' else dtype.name}"


# --- products computed inside their consumer --------------------------------------------------------
def _fuse_products(em: CudaEmitter) -> None:
    """A product read only by one elementwise op of its own shape is computed in that op's element."""
    block, plan = em.scope.block, em.plan
    uses = use_map(block)
    changed = False
    for op in block.ops:
        if op.prim.name != "einsum" or op.out.id in plan.inlined or id(op) in plan.skip or op.out.ndim == 0:
            continue
        if op.prim.reduction is not None and op.prim.reduction.axes(op) is not None:
            continue  # a fold: already fused by the plan
        us = uses.get(op.out.id, [])
        if len(us) != 1 or us[0].op is None or us[0].nested:
            continue
        consumer = us[0].op
        if not consumer.prim.elementwise or tuple(consumer.out.shape) != tuple(op.out.shape):
            continue
        plan.inlined.add(op.out.id)
        plan.skip.add(id(op))
        plan.position[id(op)] = plan.position.get(id(consumer), block.ops.index(consumer))
        changed = True
    if changed:
        em.scope.last_use = last_uses(block, plan.position)


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
        for x, _ in _staging_plan(op):
            em.overrides.pop(x.id, None)
    _finish_kernel(em, team, op, plan)
    for v, acc in zip(op.outputs, outs):
        em.bind(v, acc, owned=v.ndim > 0)


# --- loop-invariant operands of products: staged so the team's reads are consecutive ---------------
def _staging_plan(op: Op) -> list[tuple[Value, tuple[int, ...]]]:
    """(operand, axis order) for each loop-invariant matrix a product in the loop reads: the
    product's fastest output letter (consecutive threads) becomes the operand's last axis."""
    outer = {v.id for b in op.blocks for v in free_values(b)}
    seen: dict[int, tuple] = {}
    for inner in (o for b in op.blocks for o in walk(b)):
        if inner.prim.name != "einsum" or inner.prim.reduction.axes(inner) is not None:
            continue
        ins, out = parse_spec(inner.attrs["spec"])
        if not out:
            continue
        for letters, x in zip(ins, inner.inputs):
            if x.id in outer and x.ndim >= 2 and x.id not in seen and out[-1] in letters:
                k = letters.index(out[-1])
                seen[x.id] = (x, tuple(a for a in range(x.ndim) if a != k) + (k,))
    return list(seen.values())


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
    for x, perm in _staging_plan(op):
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
        head.append(f"{_shared_name(dt)} = cuda.shared.array(0, {sdt})")
    code.preamble = head + code.preamble
    for name, n, dt in team.scratch:
        em.hline(f"{name} = rt.empty({n}, {dtype_text(dt)})")
    threads = max(32, min(MAX_THREADS, -(-team.extent // 32) * 32))
    blocks = 1
    if team.cooperative:
        threads = COOP_THREADS
        blocks = max(1, min(-(-team.extent // COOP_THREADS), HOPPER.sm_count))
    launch = TeamLaunch(team.cooperative, threads, blocks, team.shared_bytes, plan.reason)
    rec = em.add_kernel(code, "coop" if team.cooperative else "single")
    rec.notes["plan"] = launch
    em.hline(f"rt.launch_team({code.name}, {launch_args(code)})")
    em.note_loop(op, plan.reason)


def _carry_storage(em: CudaEmitter, team: TeamCtx, args: list[Value], results: list[Value],
                   block: Block) -> dict[int, tuple]:
    """Each carried array's storage: (current Access, next Access or None for one buffer)."""
    code = team.code
    fresh = _fresh_results(block)
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


def _fresh_results(block: Block) -> set[int]:
    """Results of the block made by ops of the block that allocate their output."""
    made = {}
    for op in block.ops:
        if len(op.outputs) == 1 and not op.prim.view and op.prim.name not in (
                "dynamic_update_slice", "update_slice", "scatter", "reshape", "transpose", "broadcast_to"):
            made[op.out.id] = op
    return {r.id for r in block.results if r.id in made}


def _init_carries(em: CudaEmitter, team: TeamCtx, args: list[Value], inits: list[Value], storage: dict) -> None:
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


def _next_step(em: CudaEmitter, team: TeamCtx, args: list[Value], results: list[Value], storage: dict) -> None:
    """The step's results become the carries: ping-pong halves need nothing, one buffer may need a copy."""
    code = team.code
    scalars = []
    for a, r in zip(args, results):
        if a.ndim == 0:
            scalars.append((em.locs[a.id].name, _cast(em.device_scalar(code, r), a.dtype)))
            continue
        cur, nxt = storage[a.id]
        target = nxt if nxt is not None else cur
        if em.loc(r) != target:
            em.copy(target, r)
    if scalars:
        code.line(", ".join(n for n, _ in scalars) + ", = " + ", ".join(x for _, x in scalars) + ",")


def _persistent_for(em: CudaEmitter, team: TeamCtx, op: Op, bounds: list[str], outs: list) -> None:
    code = team.code
    start, stop, step, *init = op.inputs
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    index, carries = body.args[0], body.args[1:]
    storage = _carry_storage(em, team, carries, body.results[:n_carry], body)
    _init_carries(em, team, carries, init, storage)
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
        if r.ndim and r.id in _fresh_results(body):
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
            _next_step(em, team, carries, body.results[:n_carry], storage)
            code.sync()
            if stacked:
                code.line("k_ += 1")
            if code.pingpong:
                code.line("par = 1 - par")

        em.emit_block(body, {a.id for a in carries if a.ndim}, finish=finish)
    team.counting = False
    _copy_out(em, team, carries, op.outputs[:n_carry], outs[:n_carry], storage)


def _copy_out(em: CudaEmitter, team: TeamCtx, carries: list[Value], finals: tuple, outs: list, storage) -> None:
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


def _persistent_while(em: CudaEmitter, team: TeamCtx, op: Op, outs: list) -> None:
    code = team.code
    cond, body = op.blocks
    storage = _carry_storage(em, team, body.args, body.results, body)
    _init_carries(em, team, body.args, list(op.inputs), storage)
    if code.pingpong:
        code.line("par = 0")
    code.sync()
    code.begin_phase()
    code.line("while True:")
    team.counting = True
    with code.indented():
        _while_step(em, team, cond, body, storage)
    team.counting = False
    _copy_out(em, team, body.args, op.outputs, outs, storage)


def _while_step(em: CudaEmitter, team: TeamCtx, cond: Block, body: Block, storage: dict) -> None:
    code = team.code
    for ca, ba in zip(cond.args, body.args):
        em.locs[ca.id] = em.locs[ba.id]
    checks = len(em.error_sites)
    em.emit_block(cond, finish=lambda: code.line(f"if not {em.device_scalar(code, cond.results[0])}:"))
    code.line("    break")

    def finish() -> None:
        _next_step(em, team, body.args, body.results, storage)
        code.sync()
        if code.pingpong:
            code.line("par = 1 - par")
        if len(em.error_sites) > checks:  # a bad index stops the loop (the call then raises)
            code.line(f"if {code.err()}[0] != 0:")
            code.line("    break")

    em.emit_block(body, {a.id for a in body.args if a.ndim}, finish=finish)


# --- loops and conditionals nested inside a persistent kernel ------------------------------------------
def emit_team_for(em: CudaEmitter, op: Op) -> None:
    team, code = em.team, em.team.code
    start, stop, step, *init = op.inputs
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    index, carries = body.args[0], body.args[1:]
    storage = {a.id: (team.storage(tuple(a.shape), a.dtype), None) for a in carries if a.ndim}
    _init_carries(em, team, carries, init, storage)
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
            _next_step(em, team, carries, body.results[:n_carry], storage)
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
    _init_carries(em, team, body.args, list(op.inputs), storage)
    code.begin_phase()
    code.line("while True:")
    with code.indented():
        _while_step(em, team, cond, body, storage)
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
    for k, block in enumerate(op.blocks):
        if k:
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


__all__ = ["TeamLaunch", "emit_persistent", "emit_team_cond", "emit_team_for", "emit_team_while"]
