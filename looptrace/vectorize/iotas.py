"""Positions kept as positions: iota through the reshapes, broadcasts and
trivial arithmetic that batching wraps it in.

Batching a loop turns its index i into `iota * step + start` and lines it
up against the other operands with a reshape ((n,) -> (n, 1)) or a
broadcast. Each of those is a value a target must compute or store, while an
iota of the final shape is only the loop variable of the nest that reads it:
`x[i + r]` summed over r is a read at an affine position (contiguous, and
vectorizable) instead of a read at `x[k[r] + v[i]]` through two arrays.

Rewrites (exact, integers only where it matters):
  - a reshape or broadcast to the operand's own shape -> the operand;
  - multiply(x, 1), multiply(1, x) -> x; add(x, 0), add(0, x), subtract(x, 0)
    -> x for an integer x of the output's shape and dtype;
  - reshape(iota) that only adds or drops unit axes -> an iota of the new shape;
  - broadcast_to(iota) -> an iota of the new shape (the iota's axis keeps its length);
  - reshape(f(a, b)) -> f(reshape(a), reshape(b)) for an integer or bool
    elementwise f (unit axes only), so the reshape reaches the iota;
  - reshape(gather(x, reshape(i))) -> gather(x, i) for a 1-d x (a batched
    element read x[s], whose index and result the batching reshaped).
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.affine import const_int
from looptrace.ir.builder import IRBuilder, derived
from looptrace.ir.core import Op, Program, Value
from looptrace.ir.rewrite import rewrite_each_op


def canonical_iotas(program: Program) -> Program:
    rewrite_each_op(program.body, _rewrite)
    return program


def _rewrite(op: Op, ops: list[Op], producer: dict[int, Op]) -> Value | None:
    name = op.prim.name
    if len(op.outputs) != 1 or op.blocks:
        return None
    out = op.out
    if name in ("multiply", "add", "subtract") and out.dtype.kind in "iu" and len(op.inputs) == 2:
        unit = 1 if name == "multiply" else 0
        a, b = op.inputs
        for keep, other in ((a, b), (b, a)) if name != "subtract" else ((a, b),):
            if const_int(other) == unit and keep.dtype == out.dtype and tuple(keep.shape) == tuple(out.shape):
                return keep
        return None
    if name not in ("reshape", "broadcast_to"):
        return None
    if tuple(op.inputs[0].shape) == tuple(out.shape) and op.inputs[0].dtype == out.dtype:
        return op.inputs[0]  # to its own shape: nothing to do
    src = producer.get(op.inputs[0].id)
    if name == "reshape" and src is not None and src.prim.name == "gather":
        return _gather_unreshaped(op, src, ops, producer)
    if name == "reshape" and src is not None and src.prim.elementwise and out.dtype.kind in "biu":
        return _reshape_into(op, src, ops, producer)
    if src is None or src.prim.name != "iota":
        return None
    axis = _new_axis(tuple(src.out.shape), src.attrs["axis"], tuple(out.shape), name)
    if axis is None:
        return None
    return derived(op, ops).op("iota", shape=tuple(out.shape), dtype=np.dtype(out.dtype), axis=axis)


def _reshape_into(op: Op, src: Op, ops: list[Op], producer: dict[int, Op]) -> Value | None:
    """reshape(f(a, b)) -> f(reshape(a), reshape(b)) for integer or bool
    elementwise f when the reshape only adds or drops unit axes and every
    array operand has f's shape: the reshape moves down to the iotas (where
    it folds), so `i + 1` lined up as (n, 1) is still a position."""
    shape, new = tuple(src.out.shape), tuple(op.out.shape)
    if [d for d in shape if d != 1] != [d for d in new if d != 1]:
        return None
    if any(u.ndim and tuple(u.shape) != shape for u in src.inputs) or not any(u.ndim for u in src.inputs):
        return None  # every array operand of f's shape, and at least one (else f's result stays a scalar)
    b = derived(op, ops)
    args = []
    for u in src.inputs:
        if not u.ndim:
            args.append(u)
            continue
        made = len(ops)
        r = b.op("reshape", u, shape=new)
        inner = _rewrite(ops[made], ops, producer)  # the reshape moves further down, or stays
        for o in ops[made:]:
            for v in o.outputs:
                producer[v.id] = o
        args.append(inner if inner is not None else r)
    return b.op(src.prim.name, *args, **src.attrs)


def _gather_unreshaped(op: Op, gather: Op, ops: list[Op], producer: dict[int, Op]) -> Value | None:
    """reshape(gather(x, reshape(i))) -> gather(x, i) for a 1-d x, when the
    reshapes only move the index's shape there and back (batched element reads)."""
    x, idx = gather.inputs
    inner = producer.get(idx.id)
    if x.ndim != 1 or inner is None or inner.prim.name != "reshape":
        return None
    if tuple(inner.inputs[0].shape) != tuple(op.out.shape):
        return None
    return IRBuilder(gather.loc, ops=ops).op("gather", x, inner.inputs[0], axis=0)  # its errors name the read


def _new_axis(shape: tuple, axis: int, new: tuple, how: str) -> int | None:
    """The iota's axis in the new shape, or None when the positions move."""
    n = shape[axis]
    if how == "broadcast_to":
        lead = len(new) - len(shape)
        return axis + lead if lead >= 0 and new[axis + lead] == n else None
    if [d for d in shape if d != 1] != [d for d in new if d != 1]:
        return None
    if n == 1:
        return None  # a unit iota is all zeros: left as it is
    before = sum(1 for d in shape[:axis] if d != 1)  # non-unit axes before it
    seen = 0
    for k, d in enumerate(new):
        if d != 1:
            if seen == before:
                return k
            seen += 1
    return None
