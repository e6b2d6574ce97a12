"""Where an array value lives on the device: a strided view of a flat buffer.

Every array value the cuda target handles is an `Access`: a flat buffer
(`Buf`), an element offset, and one element stride per axis (0 along a
broadcast axis, negative for a reversed slice). Views are therefore free:
slice, transpose, broadcast_to, a reshape of a contiguous value and a dynamic
slice only compute a new Access; a kernel reads element `idx` at
`buf[offset + sum(idx_k * stride_k)]`. Strides and static sizes are numbers
written into the kernel's source, so the compiler sees constant strides.

An offset has a constant part and symbolic terms: a host variable (a dynamic
start known to the host at run time, passed to kernels as a parameter) or a
register (a start computed inside a persistent kernel). Only the first axis
may have a size known at run time (`Dim`): strides never depend on it.

Invariant: an Access never reaches outside its buffer for indices inside its
shape; the ops that build one from traced starts check those starts first.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod

import numpy as np

from looptrace.ir.core import Dim


@dataclass(frozen=True)
class Buf:
    """A flat device buffer: a host variable holding a device array ("host"),
    or a shared-memory region of a persistent kernel ("shared")."""

    kind: str  # "host" | "shared"
    name: str
    dtype: np.dtype
    tag: int = 0  # tells apart the regions of one shared array (for barrier placement)


@dataclass(frozen=True)
class Sym:
    """A run-time integer: a host variable, or a register of the kernel being written."""

    kind: str  # "host" | "reg"
    name: str


@dataclass(frozen=True)
class Off:
    """An element offset: `const + sum(sym * mult)`."""

    const: int = 0
    terms: tuple[tuple[Sym, int], ...] = ()

    def plus(self, k: int = 0, sym: Sym | None = None, mult: int = 1) -> "Off":
        terms = self.terms if sym is None or mult == 0 else (*self.terms, (sym, mult))
        return Off(self.const + k, terms)

    @property
    def static(self) -> bool:
        return not self.terms


@dataclass(frozen=True)
class Access:
    buf: Buf
    shape: tuple  # ints; the first may be a Dim
    strides: tuple[int, ...]
    off: Off = Off()

    @property
    def dtype(self) -> np.dtype:
        return self.buf.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def contiguous(self) -> bool:
        """C order with no gaps (offset aside): a reshape of it is a view."""
        want = c_strides(self.shape)
        return all(s == w or d == 1 for s, w, d in zip(self.strides, want, self.shape))

    def plain(self) -> bool:
        """The whole buffer from its start, in C order (what a result or a carry is)."""
        return self.contiguous() and self.off == Off()


def c_strides(shape: tuple) -> tuple[int, ...]:
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= d if isinstance(d, int) else 1  # only axis 0 may be a Dim: it scales nothing
    return tuple(reversed(strides))


def static_size(shape: tuple) -> int | None:
    return None if any(isinstance(d, Dim) for d in shape) else prod(shape)


def whole(buf: Buf, shape: tuple) -> Access:
    """A C-contiguous value filling `buf` from its start."""
    return Access(buf, tuple(shape), c_strides(shape))


# --- views ---------------------------------------------------------------------------------------
def transpose(a: Access, perm: tuple[int, ...]) -> Access:
    return replace(a, shape=tuple(a.shape[p] for p in perm), strides=tuple(a.strides[p] for p in perm))


def static_slice(a: Access, starts, stops, steps) -> Access:
    """NumPy's x[a:b:s, ...] (a negative stop means "to the end", as in ops/indexing.py)."""
    shape, strides, off = list(a.shape), list(a.strides), a.off
    for k, (s0, e, st) in enumerate(zip(starts, stops, steps)):
        n = a.shape[k]
        r = range(n if isinstance(n, int) else n.bound)[slice(s0, e if e >= 0 else None, st)]
        shape[k] = len(r)
        off = off.plus(r.start * a.strides[k] if len(r) else 0)
        strides[k] = a.strides[k] * st
    return Access(a.buf, tuple(shape), tuple(strides), off)


def broadcast(a: Access, shape: tuple) -> Access:
    """NumPy broadcasting of `a` to `shape` (aligned right; size-1 axes get stride 0)."""
    lead = len(shape) - a.ndim
    strides = [0] * lead + [0 if a.shape[k] == 1 and shape[lead + k] != 1 else a.strides[k] for k in range(a.ndim)]
    return Access(a.buf, tuple(shape), tuple(strides), a.off)


def reshape(a: Access, shape: tuple) -> Access | None:
    """A view of `a` with `shape`, or None when it needs a copy (not contiguous)."""
    if not a.contiguous():
        return None
    return Access(a.buf, tuple(shape), c_strides(shape), a.off)


def offset_by(a: Access, starts: list[tuple[int | None, Sym | None]], sizes: tuple) -> Access:
    """a[s0:s0+k0, s1:s1+k1, ...]: each start a constant or a symbol (already checked)."""
    off = a.off
    for k, (const, sym) in enumerate(starts):
        off = off.plus(const * a.strides[k]) if sym is None else off.plus(0, sym, a.strides[k])
    shape = tuple(sizes) + tuple(a.shape[len(sizes):])
    return Access(a.buf, shape, a.strides, off)


def drop_axes(a: Access, axes: list[int]) -> Access:
    """Remove unit axes (x[t] from x[t:t+1])."""
    keep = [k for k in range(a.ndim) if k not in axes]
    return Access(a.buf, tuple(a.shape[k] for k in keep), tuple(a.strides[k] for k in keep), a.off)


def element_offset(a: Access, idx: list[str]) -> tuple[int, list[str]]:
    """(constant part, symbolic parts) of the offset of element `idx` (index texts)."""
    const, parts = a.off.const, []
    for i, s in zip(idx, a.strides):
        if s == 0:
            continue
        if i.lstrip("-").isdigit():
            const += int(i) * s
        else:
            term = i if i.isidentifier() else f"({i})"
            parts.append(term if s == 1 else f"{term} * {s}")
    return const, parts
