"""Sums over groups: a batched masked sum over the group index is one scatter-add pass.

A loop over groups `for j in range(k): C[j] = X[lab == j].mean(axis=0)`
batches to a (k, n) mask `lab == j` and k passes over X:

    reduce_sum(select(broadcast(lab == iota(k)), X, 0), axis 1)
 -> scatter_add(zeros(k + 1, ...), where(0 <= lab < k, lab, k), X)[:k]
    reduce_sum(convert(lab == iota(k)), axis 1)
 -> scatter_add(zeros(k + 1, ...), where(0 <= lab < k, lab, k), 1)[:k]

one pass over lab and X. Exact up to the order of the additions: row r adds
X[r] to the group lab[r] names, the only one whose mask holds it; a label
outside 0..k-1 matches no group, and its row goes to the extra group k that
the slice drops. The zeros the masked sum added for the other groups change
no sum (but the sign of a zero sum, which the masked sum made +0.0 as
well). Labels must be integers compared with an iota over the groups
(vectorize/iotas.py makes `j * 1 + 0` lined up as (k, 1) one).
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.builder import derived
from looptrace.ir.core import Op, Program, Value
from looptrace.ir.rewrite import rewrite_each_op


def group_sums(program: Program) -> Program:
    """The rewrite above, on every block of the program."""
    labels: dict[tuple, Value] = {}  # (block, labels, k) -> the scatter's rows, made once per block
    rewrite_each_op(program.body, lambda op, ops, producer: _group_sum(op, ops, producer, labels))
    return program


def _group_sum(op: Op, ops: list[Op], producer: dict[int, Op], labels: dict) -> Value | None:
    if op.prim.name != "reduce_sum" or tuple(op.attrs["axes"]) != (1,) or op.out.ndim < 1:
        return None
    x = op.inputs[0]
    shape = tuple(x.shape)
    dtype = op.out.dtype
    if not all(isinstance(d, int) for d in shape) or (dtype != x.dtype and x.dtype != np.bool_):
        return None
    src = producer.get(x.id)
    if x.dtype == np.bool_ and dtype.kind in "iu":
        mask, rows = x, None  # np.sum(lab == j): a count
    elif src is not None and src.prim.name == "select" and _is_zero(src.inputs[2], producer) \
            and tuple(src.inputs[1].shape) == shape[1:] and src.inputs[1].dtype == dtype:
        mask, rows = src.inputs[0], src.inputs[1]
    elif src is not None and src.prim.name == "convert" and src.inputs[0].dtype == np.bool_ and dtype.kind in "iuf":
        mask, rows = src.inputs[0], None
    else:
        return None
    group = _group_mask(mask, shape, producer)
    if group is None:
        return None
    lab, k = group
    b = derived(op, ops)
    key = (id(producer), lab.id, k)
    if key not in labels:
        inside = b.op("logical_and", b.op("greater_equal", lab, b.const(np.zeros((), lab.dtype))),
                      b.op("less", lab, b.const(np.asarray(k, lab.dtype))))
        rows_at = lab if lab.dtype == np.int64 else b.op("convert", lab, dtype=np.dtype(np.int64))
        labels[key] = b.op("select", inside, rows_at, b.const(np.int64(k)))
    if rows is None:
        rows = b.op("broadcast_to", b.const(np.ones((), dtype)), shape=shape[1:])
    zeros = b.op("broadcast_to", b.const(np.zeros((), dtype)), shape=(k + 1, *shape[2:]))
    sums = b.op("scatter", zeros, labels[key], rows, axis=0, mode="add")
    return b.op("slice", sums, starts=(0,) * len(shape[1:]), stops=(k, *shape[2:]),
                steps=(1,) * len(shape[1:]))


def _is_zero(v: Value, producer: dict[int, Op]) -> bool:
    """A scalar 0 (of either sign), or a convert of one."""
    op = producer.get(v.id)
    if op is not None and op.prim.name == "convert" and v.shape == ():
        v = op.inputs[0]
    return v.is_const and v.shape == () and np.asarray(v.const) == 0


def _group_mask(mask: Value, shape: tuple, producer: dict[int, Op]) -> tuple[Value, int] | None:
    """(lab, k) when `mask`, of `shape` (k, n, ...), is lab == iota(k)
    spread over the trailing axes: broadcast_to and reshapes that add unit
    axes after the first two, of equal(lab (n,), iota (k, 1) along axis 0)."""
    k, n = shape[0], shape[1]
    v = mask
    while tuple(v.shape) != (k, n):
        op = producer.get(v.id)
        if op is None or op.prim.name not in ("broadcast_to", "reshape") or tuple(op.inputs[0].shape)[:2] != (k, n) \
                or any(d != 1 for d in tuple(op.inputs[0].shape)[2:]):
            return None
        v = op.inputs[0]
    eq = producer.get(v.id)
    if eq is None or eq.prim.name != "equal" or len(eq.inputs) != 2:
        return None
    for lab, grid in (eq.inputs, eq.inputs[::-1]):
        it = producer.get(grid.id)
        if it is not None and it.prim.name == "iota" and tuple(grid.shape) == (k, 1) and it.attrs["axis"] == 0 \
                and tuple(lab.shape) == (n,) and lab.dtype == grid.dtype and lab.dtype.kind == "i":
            return lab, k
    return None
