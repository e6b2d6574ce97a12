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
  - reshape(iota[a:a+1], ()) -> a, a constant (`_iota_element`);
  - reshape(gather(x, reshape(i))) -> gather(x, i) for a 1-d x (a batched
    element read x[s], whose index and result the batching reshaped);
  - reshape(broadcast_to(x, S), T) that merges a broadcast axis with others
    (np.repeat, np.tile: `repeat(x, r)` is x spread to (n, r), then (n*r,))
    -> gathers of x at positions, `x[k // r]` and `x[k % n]`: a loop nest
    reads the element it needs instead of the spread array being written
    and copied into the merged shape (`_spread_read`).
"""
from __future__ import annotations

import numpy as np

from math import prod

from looptrace.ir.affine import const_int
from looptrace.ir.builder import IRBuilder, derived
from looptrace.ir.core import Op, Program, Value, literal
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
    if name == "reshape" and out.ndim == 0 and (element := _iota_element(op, producer)) is not None:
        return element
    if tuple(op.inputs[0].shape) == tuple(out.shape) and op.inputs[0].dtype == out.dtype:
        return op.inputs[0]  # to its own shape: nothing to do
    src = producer.get(op.inputs[0].id)
    if name == "reshape" and src is not None and src.prim.name == "gather":
        return _gather_unreshaped(op, src, ops, producer)
    if name == "reshape" and src is not None and src.prim.elementwise and out.dtype.kind in "biu":
        return _reshape_into(op, src, ops, producer)
    if name == "reshape" and src is not None and src.prim.name == "broadcast_to":
        return _spread_read(op, src, ops, producer)
    if src is None or src.prim.name != "iota":
        return None
    axis = _new_axis(tuple(src.out.shape), src.attrs["axis"], tuple(out.shape), name)
    if axis is None:
        return None
    return derived(op, ops).op("iota", shape=tuple(out.shape), dtype=np.dtype(out.dtype), axis=axis)


def _iota_element(op: Op, producer: dict[int, Op]) -> Value | None:
    """reshape(slice(iota), ()) of one element: its position, a constant.
    (A batched loop's last index, read after it as Python's `k`: an iota
    made and stored for one element of it, in every iteration of the loop
    around; corpus jacobi_eigen: 0.54 ms, 0.44 without; numba.njit 0.45.)
    Static slices only: a dynamic one checks its start, which must stay."""
    sl = producer.get(op.inputs[0].id)
    if sl is None or sl.prim.name != "slice" or any(d != 1 for d in sl.out.shape):
        return None
    src = producer.get(sl.inputs[0].id)
    if src is None or src.prim.name != "iota" or src.out.dtype != op.out.dtype:
        return None
    return literal(np.asarray(sl.attrs["starts"][src.attrs["axis"]], op.out.dtype))


def _reshape_into(op: Op, src: Op, ops: list[Op], producer: dict[int, Op]) -> Value | None:
    """reshape(f(a, b)) -> f(reshape(a), reshape(b)) for integer or bool
    elementwise f when the reshape only adds or drops unit axes and every
    array operand has f's shape: the reshape moves down to the iotas (where
    it folds), so `i + 1` lined up as (n, 1) is still a position."""
    shape, new = tuple(src.out.shape), tuple(op.out.shape)
    if [d for d in shape if d != 1] != [d for d in new if d != 1]:
        return None
    if not _reaches_iota(src.out, producer, {}):
        return None  # (moved down, it would copy f's chain for each reader: four `int(floor(y))` per pixel)
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


def _reaches_iota(v: Value, producer: dict[int, Op], seen: dict[int, bool]) -> bool:
    """Is an iota among the operands of v, through reshapes, broadcasts and
    integer or bool elementwise ops (where `_reshape_into` would take a
    reshape)? Only then does moving a reshape down pay."""
    if v.id in seen:
        return seen[v.id]
    seen[v.id] = False
    op = producer.get(v.id)
    if op is None or len(op.outputs) != 1:
        return False
    if op.prim.name == "iota":
        found = True
    elif op.prim.name in ("reshape", "broadcast_to") or op.prim.elementwise and v.dtype.kind in "biu":
        found = any(_reaches_iota(u, producer, seen) for u in op.inputs if u.ndim)
    else:
        found = False
    seen[v.id] = found
    return found


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


def _spread_read(op: Op, spread: Op, ops: list[Op], producer: dict[int, Op]) -> Value | None:
    """reshape(broadcast_to(x, S), T) where each axis of T merges consecutive
    axes of S (unit axes aside) holding at most one axis of x that is not
    broadcast, and some axis merges a broadcast one: x (its unit axes
    dropped) read through one gather per merged axis, at
    `(k // inner) % n` for the element k of that axis (inner: the sizes
    after x's axis in the merge, n: its length). The positions are iotas
    and integer ops, computed by the nest that reads the element."""
    x, full, new = spread.inputs[0], tuple(spread.out.shape), tuple(op.out.shape)
    if not all(isinstance(d, int) for d in (*full, *new, *x.shape)) or x.ndim == 0:
        return None
    lead = len(full) - x.ndim
    own = (1,) * lead + tuple(x.shape)  # x's axes lined up with S
    groups = _merged_axes(full, new)
    if groups is None:
        return None
    real = [[j for j in g if own[j] == full[j]] for g in groups]
    if any(len(r) > 1 for r in real) or not any(len(g) > 1 for g in groups):
        return None
    b = derived(op, ops)
    inner = producer.get(x.id)
    base = inner.inputs[0] if inner is not None and inner.prim.name == "reshape" else x
    base_shape = tuple(full[r[0]] if r else 1 for r in real)
    if tuple(base.shape) != base_shape:
        base = b.op("reshape", base, shape=base_shape)
    for t, (g, r) in enumerate(zip(groups, real)):
        if len(g) < 2 or not r:
            continue
        j = r[0]
        at = b.op("iota", shape=(new[t],), dtype=np.dtype(np.int64), axis=0)
        after = prod(full[i] for i in g if i > j)
        if after > 1:
            at = b.op("floor_divide", at, np.int64(after))
        if j != g[0]:
            at = b.op("remainder", at, np.int64(full[j]))
        base = b.op("gather", base, at, axis=t)
    return base if tuple(base.shape) == new else b.op("broadcast_to", base, shape=new)


def _merged_axes(shape: tuple, new: tuple) -> list[list[int]] | None:
    """For each axis of `new`, the axes of `shape` (unit axes left out) whose
    sizes multiply to its size, consecutive and in order; None where the
    reshape splits an axis."""
    axes = [k for k, d in enumerate(shape) if d != 1]
    groups, k = [], 0
    for d in new:
        g, size = [], 1
        while size < d and k < len(axes):
            g.append(axes[k])
            size *= shape[axes[k]]
            k += 1
        if size != d:
            return None
        groups.append(g)
    return groups if k == len(axes) else None


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
