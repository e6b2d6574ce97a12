"""The cuda target's emitter: a Program becomes one host function plus kernels.

The walk over blocks is planning/walker.py's. Each value gets a location:
  HostScalar  a NumPy scalar in a host variable (arguments, loop indices of
              host-driven loops, constants folded on the host)
  Access      an array (or a 0-d scalar) in device memory: a strided view of
              a flat buffer (access.py)
  Reg         a scalar register of the persistent kernel being written
  RngLoc      a NumPy Generator (draws run on the host, see rules/random.py)
Rules write device code through `parallel(n)`: at the top level each such
block is one grid-stride kernel and one launch line in the host function;
inside a persistent kernel (team.py, `self.team`) it is a loop over the
block's (or the grid's) threads, and barriers are inserted where a later
phase reads what an earlier one wrote. The same rule therefore lowers its
op in both places.

Invariants:
- an array is written in place only when this code owns its buffer and no
  later use sees the old contents (planning/ownership.py); arguments of the
  user's function are never written;
- every host line and kernel line records the op it came from, so a compile
  error or a failed launch names the user's line;
- a traced index is checked on the device; a bad one sets the call's error
  flag (`rt.err`, read after the call: IndexError naming the line) and is
  clamped, so no kernel ever reads or writes outside a buffer.
"""
from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass, field
from math import prod
from typing import Any, Iterator

import numpy as np

from looptrace.codegen.planning.fusion import BlockPlan, plan_block
from looptrace.codegen.planning.walker import (FUSED_GATHERS, FUSED_SCAN_INPUTS, LAZY_SELECTS, SLICE_READS,
                                               UNIT_RESHAPE_READS, BlockWalker)
from looptrace.codegen.target import Target, loop_key
from looptrace.ir.core import Block, Dim, Op, Program, SourceLoc, Value

from ..cpu.text import dtype_text, literal
from .access import Access, Buf, Sym, whole
from .device import DeviceCode, launch_args
from .values import HostScalar, Lit, Reg, RngLoc, cast_to, is_array  # noqa: F401


@dataclass
class KernelRecord:
    code: DeviceCode
    op: Op | None
    kind: str  # "grid", "single", "coop", "tree", "gemm"
    notes: dict = field(default_factory=dict)


CUDA_GROUPS = ("updates", "overwritten_fills", "maps")  # planning/fusion.py GROUPS the cuda nests emit


class CudaEmitter(BlockWalker):
    """Host lines, kernels and value locations of one program."""

    def __init__(self, program: Program, target: Target, sim: bool = False):
        super().__init__(program, target)
        self.sim = sim
        self.hlines: list[tuple[int, str]] = []
        self.hline_ops: list[Op | None] = []
        self.hdepth = 1
        self.fetched: list[tuple[int, int, Any]] = []  # (host depth, value id, its loc before) of host_scalar
        self.kernels: list[KernelRecord] = []
        self.locs: dict[int, Any] = {}
        self.dims: dict[int, str] = {}  # Dim id -> host variable with its size
        self.consts: list[np.ndarray] = []
        self.host_ops: list[Op] = []  # scalar ops the host runs with the primitive's impl
        self._const_names: dict[int, str] = {}
        self.error_sites: list[tuple[SourceLoc | None, int]] = []
        self.notes: list[str] = []  # what the backend chose, for explain
        self.loop_notes: dict[tuple, str] = {}  # (file, line) of a source loop -> its GPU strategy
        self.team = None  # team.TeamCtx while a persistent kernel is written
        self.cublas = False  # products go to cuBLAS through CuPy (rules/contract.py)
        # integer scalars whose value range is known when emitting (loop indices with constant
        # bounds, plus or minus constants): their bound checks are dropped
        self.ranges: dict[int, tuple[int, int]] = {}
        self.overrides: dict[int, Any] = {}  # value id -> another location (staged copies in a kernel)
        self._ids = itertools.count()

    def plan_of(self, block: Block) -> BlockPlan:
        """The shared plan for the capabilities this target declares
        (target.py), with two of the groups and fills never made that the
        cpu's `fused_gathers` also brings (planning/fusion.py): maps over one
        shape in one kernel, slice writes into one buffer in one kernel
        (rules/indexing.py), and fills every element of which is written
        before it is read only allocated (nest.py); scatter groups and fills
        written beside writes are the cpu's only."""
        caps = self.target.capabilities
        return plan_block(block, unit_reshapes=UNIT_RESHAPE_READS in caps, gathers=FUSED_GATHERS in caps,
                          slices=SLICE_READS in caps, scans=FUSED_SCAN_INPUTS in caps, lazy=LAZY_SELECTS in caps,
                          producers=self.producers, groups=CUDA_GROUPS)

    # --- names and host text --------------------------------------------------------------
    def fresh(self, prefix: str = "t") -> str:
        return f"{prefix}{next(self._ids)}_"

    def hline(self, text: str) -> None:
        if self.team is not None:
            raise NotImplementedError(f"`{self.op.prim.name if self.op else '?'}` needs the host, "
                                      "which a persistent kernel cannot call")
        self.hlines.append((self.hdepth, text))
        self.hline_ops.append(self.op)

    @contextlib.contextmanager
    def hindented(self) -> Iterator[None]:
        self.hdepth += 1
        try:
            yield
        finally:
            # a scalar fetched in this block is a host variable only on this path: after it, it is fetched again
            while self.fetched and self.fetched[-1][0] >= self.hdepth:
                _, vid, before = self.fetched.pop()
                self.locs[vid] = before
            self.hdepth -= 1

    def op_at_line(self, lineno: int) -> Op | None:
        """The op a line of the host function was written for (module_source sets the offset)."""
        first = getattr(self, "host_first_line", None)
        k = lineno - first if first is not None else -1
        return self.hline_ops[k] if 0 <= k < len(self.hline_ops) else None

    def kernel_op_at_line(self, lineno: int) -> Op | None:
        """The op a line of a kernel was written for."""
        for rec in self.kernels:
            k = lineno - rec.notes.get("first_line", 1 << 60)
            if 0 <= k < len(rec.code.line_ops):
                return rec.code.line_ops[k]
        return None

    def note_loop(self, op: Op, text: str) -> None:
        """What became of a source loop on the GPU (a gradient has two loops on one line)."""
        key = loop_key(op)
        self.loop_notes[key] = f"{self.loop_notes[key]} | {text}" if key in self.loop_notes else text

    def error_code(self, axis: int) -> int:
        self.error_sites.append((self.op.loc if self.op else None, axis))
        return len(self.error_sites) - 1

    def check_code(self, failure: Any) -> int:
        """An error code whose site is a check's failure (rules/check.py): the runner
        raises the user's exception for it (host.CallRuntime.call_error)."""
        self.error_sites.append((failure.loc, failure))
        return len(self.error_sites) - 1

    # --- sizes ----------------------------------------------------------------------------------
    def size(self, v: Value | Access, axis: int) -> str:
        """Host text of a size: a number, or the host variable of a run-time size."""
        d = v.shape[axis]
        if isinstance(d, Dim):
            return self.dims[d.id]
        return str(d)

    def size_of(self, d: int | Dim) -> str:
        return self.dims[d.id] if isinstance(d, Dim) else str(d)

    def count(self, shape: tuple) -> str:
        """Host text of the number of elements of `shape`."""
        static = prod(d for d in shape if not isinstance(d, Dim))
        dyn = [self.dims[d.id] for d in shape if isinstance(d, Dim)]
        return " * ".join(dyn + ([str(static)] if static != 1 or not dyn else []))

    # --- locations ------------------------------------------------------------------------------
    def loc(self, v: Value) -> Any:
        if v.id in self.overrides:
            return self.overrides[v.id]
        if v.const is not None:
            if v.ndim == 0:
                return Lit(literal(v.const, v.dtype), v.dtype)
            return self._const_array(v)
        return self.locs[v.id]

    def acc(self, v: Value) -> Access:
        loc = self.loc(v)
        if not isinstance(loc, Access):
            raise TypeError(f"{v} is not in device memory ({type(loc).__name__})")
        return loc

    def bind(self, v: Value, loc: Any, owned: bool = False, alias_of: Value | None = None) -> None:
        self.locs[v.id] = loc
        self.define(v, owned, alias_of)

    def _const_array(self, v: Value) -> Access:
        if v.id not in self._const_names:
            self._const_names[v.id] = f"rt.consts[{len(self.consts)}]"
            self.consts.append(np.ascontiguousarray(v.const, dtype=v.dtype).reshape(-1))
        return whole(Buf("host", self._const_names[v.id], np.dtype(v.dtype)), tuple(v.shape))

    # --- scalars --------------------------------------------------------------------------------
    def device_scalar(self, code: DeviceCode, v: Value) -> str:
        """The expression reading scalar `v` inside `code`."""
        loc = self.loc(v)
        if isinstance(loc, Lit):
            return loc.text
        if isinstance(loc, HostScalar):
            return code.param(loc.name, "scalar", loc.dtype)
        if isinstance(loc, Reg):
            return loc.name
        if isinstance(loc, Access):
            return code.load(loc, [])
        raise TypeError(f"{v} is not a scalar")

    def on_host(self, v: Value) -> bool:
        return isinstance(self.loc(v), (Lit, HostScalar))

    def host_scalar(self, v: Value) -> str:
        """Host text of scalar `v`; a scalar in device memory is fetched (a sync)."""
        loc = self.loc(v)
        if isinstance(loc, (Lit, HostScalar)):
            return loc.text if isinstance(loc, Lit) else loc.name
        name = self.fresh("h")
        self.hline(f"{name} = rt.fetch({loc.buf.name}, {self.host_offset(loc)}, {dtype_text(v.dtype)})")
        self.fetched.append((self.hdepth, v.id, loc))
        self.locs[v.id] = HostScalar(name, np.dtype(v.dtype))
        return name

    def host_offset(self, a: Access) -> str:
        parts = [s.name if m == 1 else f"{s.name} * {m}" for s, m in a.off.terms]
        return " + ".join(parts + [str(a.off.const)])

    def scalar_result(self, v: Value, expr_of) -> None:
        """Define scalar `v` from device code `expr_of(code) -> expr`: a register
        inside a persistent kernel, else one thread writing a device scalar."""
        if self.team is not None:
            self.team.scalar(v, expr_of)
            return
        out = self.alloc(v)
        with self.parallel("1") as (code, _):
            code.store(out, [], cast_to(expr_of(code), v.dtype))

    # --- storage --------------------------------------------------------------------------------
    def alloc(self, v: Value, shape: tuple | None = None) -> Access:
        """Fresh storage for v (owned by this code), C-contiguous."""
        shape = tuple(v.shape) if shape is None else shape
        if self.team is not None:
            acc = self.team.alloc(v, shape)
        else:
            name = self.fresh("b")
            self.hline(f"{name} = rt.empty({self.count(shape)}, {dtype_text(v.dtype)})")
            acc = whole(Buf("host", name, np.dtype(v.dtype)), shape)
        self.bind(v, acc, owned=True)
        return acc

    def alloc_temp(self, shape: tuple, dtype: Any) -> Access:
        """A scratch buffer of the host code, bound to no value."""
        name = self.fresh("b")
        self.hline(f"{name} = rt.empty({self.count(shape)}, {dtype_text(dtype)})")
        return whole(Buf("host", name, np.dtype(dtype)), tuple(shape))

    def host_array(self, v: Value) -> str:
        """A host variable holding array v's elements in C order (a synchronization)."""
        src = self.acc(v)
        if not src.contiguous():
            tmp = self.alloc_temp(tuple(v.shape), v.dtype)
            self.copy_access(tmp, src)
            src = tmp
        name = self.fresh("ha")
        self.hline(f"{name} = rt.fetch_array({src.buf.name}, {self.host_offset(src)}, {self.count(v.shape)}, "
                   f"{tuple(self.size_of(d) for d in v.shape)!r})".replace("'", ""))
        return name

    def view(self, v: Value, acc: Access, of: Value) -> None:
        self.bind(v, acc, alias_of=of if of.const is None else None)

    def writable(self, out: Value, x: Value) -> Access:
        """Storage `out` may be written into holding x's contents: x's own when
        x may be consumed here, else a copy."""
        loc = self.loc(x)
        # (not through a broadcast, a stride of 0: its elements share storage, a write would
        # reach every row; `v * np.ones((2, 3))` then `out[0, 0] = 5` wrote both rows)
        if isinstance(loc, Access) and x.const is None and self.scope.can_consume(x) \
                and all(s != 0 or d == 1 for s, d in zip(loc.strides, loc.shape)):
            self.bind(out, loc, alias_of=x)
            return loc
        dst = self.alloc(out)
        self.copy(dst, x)
        return dst

    def copy(self, dst: Access, x: Value) -> None:
        """dst[...] = x (an array, or a scalar broadcast over dst)."""
        if x.ndim == 0:
            with self.parallel(self.count(dst.shape)) as (code, e):
                idx = self.index_of(code, e, dst.shape)
                code.store(dst, idx, cast_to(self.device_scalar(code, x), dst.dtype))
            return
        if x.id in self.plan.inlined:  # an update computed in the store's loop (planning/fusion.py `_fits`)
            from .fuse import Fuser

            with self.parallel(self.count(dst.shape)) as (code, e):
                idx = self.index_of(code, e, dst.shape)
                code.store(dst, idx, cast_to(Fuser(self, code).value_at(x, idx), dst.dtype))
            return
        self.copy_access(dst, self.acc(x))

    def copy_group(self, pairs: list[tuple[Access, Value]]) -> None:
        """dst[...] = x for each (dst, x), the dsts of one shape, in one parallel loop (a
        group of writes that read none of each other's, planning/fusion.py `_group_updates`)."""
        from .fuse import Fuser

        shape = pairs[0][0].shape
        with self.parallel(self.count(shape)) as (code, e):
            idx = self.index_of(code, e, shape)
            fz = Fuser(self, code)
            for dst, x in pairs:
                value = self.device_scalar(code, x) if x.ndim == 0 else fz.value_at(x, idx)
                code.store(dst, idx, cast_to(value, dst.dtype))

    def copy_access(self, dst: Access, src: Access) -> None:
        if not src.shape:
            with self.parallel("1") as (code, _):
                code.store(dst, [], cast_to(code.load(src, []), dst.dtype))
            return
        with self.parallel(self.count(dst.shape)) as (code, e):
            idx = self.index_of(code, e, dst.shape)
            code.store(dst, idx, cast_to(code.load(src, idx), dst.dtype))

    # --- parallel loops ------------------------------------------------------------------------
    @contextlib.contextmanager
    def parallel(self, n: str) -> Iterator[tuple[DeviceCode, str]]:
        """A loop over n elements split over threads; yields (code, flat index)."""
        if self.team is not None:
            with self.team.parallel(n) as got:
                yield got
            return
        code = DeviceCode(self.fresh("k"), self)
        count = code.size(n)
        code.line(f"for e in range(cuda.grid(1), {count}, cuda.gridsize(1)):")
        with code.indented():
            yield code, "e"
        self.add_kernel(code, "grid")
        self.hline(f"rt.launch({code.name}, {n}, {launch_args(code)})")

    def add_kernel(self, code: DeviceCode, kind: str) -> KernelRecord:
        rec = KernelRecord(code, self.op, kind)
        self.kernels.append(rec)
        return rec

    def index_of(self, code: DeviceCode, e: str, shape: tuple) -> list[str]:
        """The multi-index of flat (C-order) position e in `shape`, as lines of `code`."""
        if not shape:
            return []
        if len(shape) == 1:
            return [e]
        idx, inner = [], 1
        names = [self.fresh("i") for _ in shape]
        for k in range(len(shape) - 1, -1, -1):
            d = shape[k]
            q = e if inner == 1 else f"({e} // {inner})"
            if k == 0:
                code.line(f"{names[k]} = {q}")
            else:
                code.line(f"{names[k]} = {q} % {code.size(str(d))}")
            inner = inner * d if isinstance(d, int) else inner
            idx.append(names[k])
        return list(reversed(idx))

    # --- the walk's hooks -------------------------------------------------------------------------
    def emit_nest(self, op: Op) -> None:
        from .nest import emit_fused

        emit_fused(self, op)

    def block_started(self) -> Any:
        if self.team is not None:
            return self.team.block_started()
        return len(self.hlines)

    def block_ended(self, mark: Any) -> None:
        if self.team is not None:
            self.team.block_ended(mark)
        elif len(self.hlines) == mark:
            self.hline("pass")

    def symbol(self, v: Value) -> Sym | int:
        """An integer scalar as an offset term: a constant, a host variable or a register."""
        loc = self.loc(v)
        if isinstance(loc, Lit):
            return int(v.const)
        if isinstance(loc, Reg):
            return Sym("reg", loc.name)
        return Sym("host", self.host_scalar(v))


