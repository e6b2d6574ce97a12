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

This module is the team and its storage; persistent.py writes the kernel of a
top-level loop, team_loops.py the carries and the control flow inside it.

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
from looptrace.ir.core import Op, Value
from looptrace.ir.primitive import folded_axes
from looptrace.ir.uses import use_map

from . import access as A
from .device import DeviceCode
from .fuse import Fuser, fold_acc_dtype, fold_init, fold_update
from .tree import combine
from .values import Reg
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
    lanes: int = 1  # lanes per element of a split product (splitk.py): the simulator needs that many threads

    def launch(self, mode: str) -> tuple[int, int, int]:
        if mode == "sim":
            return 1, min(self.threads, max(SIM_THREADS, self.lanes)), self.shared_bytes
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
    lanes: int = 1  # the most lanes a split product of the body uses (splitk.py)

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
            buf = A.Buf("shared", shared_name(dtype), dtype, tag=start + 1)
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


def shared_name(dtype: np.dtype) -> str:
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


__all__ = ["TeamCtx", "TeamLaunch"]
