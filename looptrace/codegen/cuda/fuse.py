"""The element code of a fusion root and of the values fused into it (`Fuser`).

The fusion plan (planning/fusion.py) says which ops are roots and which values
are computed inside a consumer. A root becomes one parallel loop over its
output (emitter.parallel: a grid-stride kernel at the top level, a loop over
the team's threads inside a persistent kernel); each thread computes whole
elements: the scalar code of the root and of every value fused into it
(`Fuser.value_at`), through each primitive's cuda rule. A fold (a reduction,
or a sum of products) is an inner loop over its folded axes in the thread
that owns the output element, its accumulator in a register, so a fold is
deterministic: the same input gives the same bits.

Two exceptions: a root that is a broadcast of a stored value is a view (no
kernel, no memory), and a fold with few outputs over long rows runs as the
block tree reduction of reductions.py instead of one thread per output.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from looptrace.codegen.planning.fusion import (base_index, broadcast_index, is_fold, read_through, slice_read,
                                               unit_reindex)
from looptrace.ir.core import Op, Value
from looptrace.ir.primitive import folded_axes

from ..cpu.shape import join_axis, join_pieces
from ..cpu.text import cast, literal
from .contraction import contraction_element
from .device import DeviceCode
from .rules.scalar import element_expr
from .target import TARGET
from .values import Reg

if TYPE_CHECKING:
    from .emitter import CudaEmitter

FOLD_UPDATE = {
    "add": "{acc} += {x}",
    "multiply": "{acc} *= {x}",
    "maximum": "{acc} = max_nan({acc}, {x})",
    "minimum": "{acc} = min_nan({acc}, {x})",
    "logical_and": "{acc} = {acc} and ({x} != 0)",
    "logical_or": "{acc} = {acc} or ({x} != 0)",
}


def fold_update(op: Op, acc: str, x: str) -> str:
    return FOLD_UPDATE[op.prim.reduction.combine].format(acc=acc, x=x)


def fold_acc_dtype(op: Op):
    return op.prim.reduction.acc_dtype(op.inputs[0].dtype)


def fold_init(op: Op) -> str:
    """The accumulator's start, typed: a bare int literal is int64 to Numba,
    but a Python int to the simulator, where NumPy 2 keeps `0 + int8` in int8
    (int8 sums wrapped there)."""
    acc = np.dtype(fold_acc_dtype(op))
    text = literal(op.prim.reduction.start(op, acc), acc)  # (-0.0 for a loop's float sum: Reduction.start)
    return f"np.{acc.name}({text})" if acc.kind in "iu" and not text.startswith("np.") else text


class Fuser:
    """Writes one element of a root (and of the values fused into it) into
    `code`; `memo` shares a temporary between uses at the same index."""

    def __init__(self, em: CudaEmitter, code: DeviceCode, memo: dict | None = None):
        self.em = em
        self.code = code
        self.plan = em.plan
        self.memo: dict[tuple, str] = dict(memo or {})

    def value_at(self, v: Value, idx: list[str], produce: bool = False) -> str:
        em = self.em
        if not produce and v.ndim == 0:
            return em.device_scalar(self.code, v)
        if not produce and v.id in em.overrides and v.id in self.plan.inlined:  # a fold done as a tree
            stored = em.overrides[v.id]
            return cast(self.code.load(stored, idx), v.dtype)
        if not produce and v.id not in self.plan.inlined:
            key = (v.id, tuple(idx))
            if key in self.memo:
                return self.memo[key]
            if isinstance(em.locs.get(v.id), Reg):  # a point's carry in a points kernel (points.py)
                return em.locs[v.id].name
            v, idx = self._through_transpose(v, idx)
            made = self.plan.producer.get(v.id)
            if made is not None and id(made) in self.plan.joins:  # a concatenate never made
                return self._join_element(made, idx)
            if v.ndim == 0:  # through a unit reshape of a scalar (planning/fusion.py `_skip_unit_reshape`)
                return em.device_scalar(self.code, v)
            if v.id not in self.plan.inlined:
                return self.code.load(em.acc(v), idx)
            # a view never made of a value computed in the reader's nest (planning/fusion.py)
        key = (v.id, tuple(idx))
        if key not in self.memo:
            op = self.plan.producer[v.id]
            outer, em.op = em.op, op  # lines of a fused op still name that op's user line
            try:
                self.memo[key] = self._compute(op, idx)
            finally:
                em.op = outer
        return self.memo[key]

    def _through_transpose(self, v: Value, idx: list[str]) -> tuple[Value, list[str]]:
        """A view the plan never made is read through its base: a transpose
        at the permuted index, a unit-axes reshape (capability
        unit_reshape_reads) at `unit_reindex`, a static slice (slice_reads)
        at the shifted, strided index."""
        op = self.plan.producer.get(v.id)
        while op is not None:
            if id(op) in self.plan.unit_reshapes:
                src = self.plan.reshape_from.get(id(op), op.inputs[0])
                v, idx = src, unit_reindex(tuple(src.shape), tuple(v.shape), idx)
            elif (shifted := slice_read(op, self.plan, idx)) is not None:
                v, idx = op.inputs[0], shifted
            elif id(op) in self.plan.skip and read_through(op, self.plan):
                v, idx = op.inputs[0], base_index(op.attrs["perm"], idx)
            else:
                break
            op = self.plan.producer.get(v.id)
        return v, idx

    def _join_element(self, op: Op, idx: list[str]) -> str:
        """Element `idx` of a concatenate never made (planning/fusion.py
        `_skip_join`, capability slice_reads): read from the piece holding it,
        chosen by a test of the index (pieces are stored, never computed here)."""
        axis = join_axis(op)
        at, t = idx[axis], self.em.fresh()
        pieces = join_pieces(op)
        for k, (lo, hi, x) in enumerate(pieces):
            shifted = idx[:axis] + [at if lo == 0 else f"({at} - {lo})"] + idx[axis + 1:]
            if k < len(pieces) - 1:
                self.code.line(f"{'if' if k == 0 else 'elif'} {at} < {hi}:")
            elif k:
                self.code.line("else:")
            depth = self.code.depth
            self.code.depth += 1 if len(pieces) > 1 else 0
            self.code.line(f"{t} = {cast(self.value_at(x, shifted), op.out.dtype)}")
            self.code.depth = depth
        return t

    def _compute(self, op: Op, idx: list[str]) -> str:
        if is_fold(op):
            return self.fold(op, idx)
        if op.prim.name == "einsum":
            return contraction_element(self, op, idx)
        rule = TARGET.rule(op.prim)
        if rule.kind == "index":
            return rule.element(self, op, idx)
        args = [self.value_at(u, broadcast_index(u, op.out, idx)) for u in op.inputs]
        expr = element_expr(op, args)  # (rules/scalar.py: power's scalar_exponent)
        t = self.em.fresh()
        self.code.line(f"{t} = {cast(expr, op.out.dtype)}")
        return t

    def fold(self, op: Op, idx: list[str]) -> str:
        """A reduction (or sum of products) at kept index `idx`: inner loops in this thread."""
        em, code, x = self.em, self.code, op.inputs[0]
        axes = folded_axes(op)
        acc = em.fresh("acc")
        code.line(f"{acc} = {fold_init(op)}")
        saved = dict(self.memo)
        inner = [em.fresh("r") for _ in axes]
        depth = code.depth
        for var, k in zip(inner, axes):
            code.line(f"for {var} in range({code.size(em.size(x, k))}):")
            code.depth += 1
        code.line(fold_update(op, acc, self.term(op, idx, inner)))
        code.depth = depth
        self.memo = saved
        return cast(acc, op.out.dtype)

    def term(self, op: Op, idx: list[str], inner: list[str]) -> str:
        """The element a fold takes in, at kept index `idx` and folded index `inner`."""
        axes = folded_axes(op)
        full, kept = [], iter(idx)
        for k in range(op.inputs[0].ndim):
            full.append(inner[axes.index(k)] if k in axes else next(kept))
        acc = fold_acc_dtype(op)
        parts = [self.value_at(u, full) for u in op.inputs]
        if len(parts) == 1:
            return parts[0]
        return " * ".join(cast(p, acc) for p in parts)
