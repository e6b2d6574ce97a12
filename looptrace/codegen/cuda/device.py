"""The text of one device kernel: its lines, its parameters, and (inside a
persistent kernel) the barriers between the phases that need them.

A kernel reads host-side things through parameters: a device buffer held in
a host variable, a host scalar, a run-time size or offset. `DeviceCode`
registers each the first time the kernel's text names it and remembers the
host expression to pass at launch, so a rule only says what it reads.

Barriers (persistent kernels): the threads of a team write different
elements of a value than they later read, so a phase (one parallel loop, or
the code every thread runs alike) that reads a buffer written since the last
barrier, or writes one read or written since then, must start with a
barrier. Phases record the buffers they touch; `end_phase` inserts the
barrier at the phase's first line only when one of those hazards exists.
Loop back edges and branches are handled by the region rules (a barrier at
the end of every iteration that wrote anything).

Invariant: every line records the op it was written for (`line_ops`), so a
compile error in the kernel names the user's line.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from .access import Access, Buf, Off, Sym, element_offset


ERR_FLAG = Buf("host", "rt.err", np.dtype(np.int64))


# Element offsets are cast to this type where they index. Every offset the
# target writes is inside its buffer (access.py's invariant), so it is never
# negative, and a signed index only costs: numba wraps a negative index
# around (a compare and a select on 64-bit integers at every load), which also
# keeps LLVM from folding the constant part of neighbouring offsets into the
# load. In the PTX of the rnn_taps scan (sm_90, seed size, float32) the inner
# product's loop went from 17 instructions per multiply-add to 6
# (tests/codegen/cuda/test_cuda_ptx_loops.py). uint32 was tried: its zero
# extension (an `and` per load) blocks the folding again. Under the
# simulator a negative offset raises instead of wrapping (a bug shows up).
INDEX = "np.uint64"


@dataclass
class Param:
    name: str
    kind: str  # "array" (a flat device buffer) | "scalar"
    dtype: np.dtype
    host: str  # what the host passes at launch


@dataclass
class Phase:
    start: int
    depth: int
    reads: set = field(default_factory=set)
    writes: set = field(default_factory=set)


class DeviceCode:
    """One kernel being written. `barrier` is the text of a team barrier
    (None in a grid kernel, whose parallel loop is the whole kernel)."""

    def __init__(self, name: str, owner: Any, barrier: str | None = None):
        self.name = name
        self.owner = owner  # the emitter: its `op` is the op being written
        self.barrier = barrier
        self.lines: list[tuple[int, str]] = []
        self.line_ops: list[Any] = []
        self.depth = 1
        self.params: list[Param] = []
        self._by_host: dict[tuple[str, str], str] = {}
        self.preamble: list[str] = []  # lines before the body (shared arrays, thread ids)
        # barrier bookkeeping (persistent kernels)
        self.phase: Phase | None = None
        self.pending_reads: set = set()
        self.pending_writes: set = set()
        self.wrote_since_barrier = False
        self.preamble_names: set[str] = set()
        self.pingpong = False  # a persistent kernel with double-buffered carries (`par`)

    # --- text ---------------------------------------------------------------------------------
    def line(self, text: str) -> None:
        self.lines.append((self.depth, text))
        self.line_ops.append(self.owner.op)

    @contextlib.contextmanager
    def indented(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def source(self, decorator: str = "@jit") -> str:
        args = ", ".join(p.name for p in self.params)
        out = [decorator, f"def {self.name}({args}):"]
        out += ["    " + t for t in self.preamble]
        out += ["    " * d + t for d, t in self.lines]
        if not self.lines and not self.preamble:
            out.append("    pass")
        return "\n".join(out) + "\n"

    # --- parameters ----------------------------------------------------------------------------
    def param(self, host: str, kind: str, dtype: Any) -> str:
        key = (kind, host)
        if key not in self._by_host:
            name = f"p{len(self.params)}"
            self.params.append(Param(name, kind, np.dtype(dtype), host))
            self._by_host[key] = name
        return self._by_host[key]

    def buf(self, b: Buf) -> str:
        return b.name if b.kind == "shared" else self.param(b.name, "array", b.dtype)

    def sym(self, s: Sym) -> str:
        return s.name if s.kind == "reg" else self.param(s.name, "scalar", np.int64)

    def size(self, text: str) -> str:
        """A size or count: a number, or a host expression passed as a parameter."""
        return text if text.lstrip("-").isdigit() else self.param(text, "scalar", np.int64)

    def err(self) -> str:
        """The call's error flag. A bad index's report counts as a read (reports
        only race to be first in time); a check's phases write it
        (rules/check.py), so a persistent kernel puts a barrier between a check
        and the index checks around it, keeping program order."""
        self.touch(ERR_FLAG, write=False)
        return self.param("rt.err", "array", np.int64)

    # --- reading and writing elements ------------------------------------------------------
    def address(self, a: Access, idx: list[str]) -> str:
        const, parts = element_offset(a, idx)
        for s, m in a.off.terms:
            name = self.sym(s)
            parts.append(name if m == 1 else f"{name} * {m}")
        if const or not parts:
            parts.append(str(const))
        return f"{self.buf(a.buf)}[{INDEX}({' + '.join(parts)})]"

    def load(self, a: Access, idx: list[str]) -> str:
        self.touch(a.buf, write=False)
        return self.address(a, idx)

    def store(self, a: Access, idx: list[str], expr: str) -> None:
        self.touch(a.buf, write=True)
        self.line(f"{self.address(a, idx)} = {expr}")

    def touch(self, b: Buf, write: bool) -> None:
        if self.phase is None:
            return
        (self.phase.writes if write else self.phase.reads).add((b.kind, b.name, b.tag))

    # --- phases and barriers (persistent kernels) ------------------------------------------
    def begin_phase(self) -> None:
        if self.barrier is None:
            return
        self.end_phase()
        self.phase = Phase(len(self.lines), self.depth)

    def end_phase(self) -> None:
        ph, self.phase = self.phase, None
        if ph is None:
            return
        hazard = (ph.reads & self.pending_writes) or (ph.writes & (self.pending_reads | self.pending_writes))
        if hazard:
            self.lines.insert(ph.start, (ph.depth, self.barrier))
            self.line_ops.insert(ph.start, self.owner.op)
            self.pending_reads, self.pending_writes = set(ph.reads), set(ph.writes)
        else:
            self.pending_reads |= ph.reads
            self.pending_writes |= ph.writes
        self.wrote_since_barrier |= bool(ph.writes)

    def sync(self) -> None:
        """An unconditional barrier here (a loop's back edge)."""
        self.end_phase()
        self.line(self.barrier)
        self.pending_reads, self.pending_writes = set(), set()
        self.wrote_since_barrier = False

    def offset_text(self, off: Off) -> str:
        parts = [f"{self.sym(s)} * {m}" if m != 1 else self.sym(s) for s, m in off.terms]
        if off.const or not parts:
            parts.append(str(off.const))
        return " + ".join(parts)


def launch_args(code: DeviceCode) -> str:
    """The host expressions passed to `code`'s parameters, as a tuple's text."""
    parts = []
    for p in code.params:
        parts.append(p.host if p.kind == "array" else f"np.{p.dtype.name}({p.host})")
    return "(" + "".join(x + ", " for x in parts) + ")"
