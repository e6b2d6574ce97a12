"""Peepholes run after the loops are rewritten.

Each preserves values exactly: reduce_sum over output axes of an einsum used
only there drops those letters from the einsum; reduce_sum of a product of
two operands is a contraction (einsum); chains of reshapes collapse, full
slices and same-shape reshapes vanish, a transpose that moves only size-1
axes is a reshape; identical pure ops are computed once; unread ops go.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.builder import derived
from looptrace.ir.core import Block, Dim, Op, Value
from looptrace.ir.dce import dce
from looptrace.ir.primitive import PRIMITIVES
from looptrace.ir.rewrite import substitute
from looptrace.ir.uses import users
from looptrace.ops.linalg import parse_spec

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def fold_reduce_einsum(block: Block) -> None:
    for op in block.ops:
        for sub in op.blocks:
            fold_reduce_einsum(sub)
    for _ in range(4):
        changed = _tidy(block)
        _fold(block)
        block.ops = dce(block, regions=False, loops=True).ops
        if not changed:
            break


def _fold(block: Block) -> None:
    if not any(op.prim.name == "reduce_sum" and op.out.dtype.kind in "fc" for op in block.ops):
        return  # (most blocks: nothing to fold, and their use map was a tenth of this pass)
    us = users(block)
    defs = {v.id: op for op in block.ops for v in op.outputs}
    dead = set()
    added: dict[int, list[Op]] = {}
    for op in block.ops:
        if op.prim.name != "reduce_sum" or op.out.dtype.kind not in "fc":
            continue
        src = defs.get(op.inputs[0].id)
        if src is None or len(src.outputs) != 1 or len(us.get(src.out.id, [])) != 1 or any(r.id == src.out.id for r in block.results):
            continue
        operands = src.inputs
        if src.prim.name == "einsum":
            ins, out = parse_spec(src.attrs["spec"])
        elif src.prim.name == "multiply" and any(v.ndim == 0 for v in src.inputs):
            continue  # sum(x * s) for a scalar s contracts nothing: the sum fuses x's producer
        elif src.prim.name == "multiply" and _product_spec(src) is not None:
            ins, out, operands = _product_spec(src, added)
        else:
            continue
        kept = "".join(c for k, c in enumerate(out) if k not in op.attrs["axes"])
        op.prim = PRIMITIVES["einsum"]
        op.inputs = tuple(operands)
        op.attrs = {"spec": ",".join(ins) + "->" + kept}
        dead.add(id(src))
    ops = []
    for op in block.ops:
        ops.extend(added.get(id(op), []))
        if id(op) not in dead:
            ops.append(op)
    block.ops = ops


def _product_spec(op: Op, added: dict | None = None):
    """multiply(x, y) as an einsum; size-1 axes an operand broadcasts are
    reshaped away first (new reshape ops go to `added`, before `op`)."""
    x, y = op.inputs
    out = op.out.shape
    if x.dtype != y.dtype or x.dtype != op.out.dtype or len(out) > len(_LETTERS):
        return None
    letters = _LETTERS[:len(out)]
    specs, operands = [], []
    for v in (x, y):
        lead = len(out) - len(v.shape)
        keep = [k for k, d in enumerate(v.shape) if d == out[lead + k]]
        if any(d != 1 for k, d in enumerate(v.shape) if k not in keep):
            return None
        specs.append("".join(letters[lead + k] for k in keep))
        if len(keep) != len(v.shape) and added is not None:
            shape = tuple(v.shape[k] for k in keep)
            w = Value(v.dtype, shape)
            derived(op, added.setdefault(id(op), [])).op_into("reshape", (v,), (w,), shape=shape)
            v = w
        operands.append(v)
    return specs, letters, operands


def _tidy(block: Block) -> bool:
    defs: dict[int, Op] = {}
    seen: dict[tuple, list] = {}  # _rough_key -> [[op, its _cse_key once asked], ...], in program order
    mapping: dict[int, Value] = {}
    for op in block.ops:
        if any(v.id in mapping for v in op.inputs):
            op.inputs = tuple(mapping.get(v.id, v) for v in op.inputs)
        same = _identity(op, defs)
        if same is not None:
            mapping[op.out.id] = same
            continue
        earlier = _same_op_before(op, seen)
        if earlier is not None:
            mapping[op.out.id] = earlier.out
            continue
        for v in op.outputs:
            defs[v.id] = op
    substitute(block, mapping)
    return bool(mapping)


_UNASKED = object()


def _same_op_before(op: Op, seen: dict) -> Op | None:
    """The first earlier op of the block that computes what `op` does (equal
    `_cse_key`s), or None; `op` joins `seen` if it has a key. The exact key
    (constants' bytes, the attrs' reprs) is built only for ops whose
    `_rough_key` an earlier op shares: most ops share it with none."""
    if op.prim.region or op.prim.effectful or len(op.outputs) != 1:
        return None
    rough = _rough_key(op)
    if rough is None:
        return None
    bucket = seen.setdefault(rough, [])
    if not bucket:
        bucket.append([op, _UNASKED])
        return None
    key = _cse_key(op)
    if key is None:
        return None
    for entry in bucket:
        if entry[1] is _UNASKED:
            entry[1] = _cse_key(entry[0])
        if entry[1] == key:
            return entry[0]
    bucket.append([op, key])
    return None


def _rough_key(op: Op):
    """What equal `_cse_key`s imply equal: the primitive, the non-constant
    inputs and each constant's shape, the output's shape; None where
    `_cse_key` is None for sure."""
    ins = tuple(("c", np.shape(v.const)) if v.is_const else v.id for v in op.inputs)
    shape = tuple(("dim", d.id) if isinstance(d, Dim) else d for d in op.outputs[0].shape)
    return (op.prim.name, ins, shape)


def _identity(op: Op, defs: dict[int, Op]) -> Value | None:
    name = op.prim.name
    if name == "reshape":
        x = op.inputs[0]
        src = defs.get(x.id)
        if src is not None and src.prim.name in ("reshape", "transpose") and _size1_moves(src):
            op.inputs = (src.inputs[0],)
            x = src.inputs[0]
        return x if tuple(x.shape) == tuple(op.out.shape) else None
    if name == "broadcast_to" and tuple(op.inputs[0].shape) == tuple(op.out.shape):
        return op.inputs[0]
    if name == "update_slice":
        x, upd = op.inputs
        full = all(a == 0 and b == d and s == 1 for a, b, s, d in
                   zip(op.attrs["starts"], op.attrs["stops"], op.attrs["steps"], x.shape))
        return upd if full and upd.dtype == x.dtype and tuple(upd.shape) == tuple(x.shape) else None
    if name == "slice":
        x = op.inputs[0]
        full = all(a == 0 and b == d and s == 1 for a, b, s, d in
                   zip(op.attrs["starts"], op.attrs["stops"], op.attrs["steps"], x.shape))
        return x if full else None
    return None


def _size1_moves(op: Op) -> bool:
    if op.prim.name == "reshape":
        return True
    shape = op.inputs[0].shape
    order = [p for p in op.attrs["perm"] if shape[p] != 1]
    return order == sorted(order)


def _cse_key(op: Op):
    if op.prim.region or op.prim.effectful or len(op.outputs) != 1:
        return None
    ins = tuple(("c", np.asarray(v.const).dtype.str, np.asarray(v.const).tobytes(), np.shape(v.const))
                if v.is_const else v.id for v in op.inputs)
    try:
        attrs = tuple(sorted((k, repr(v)) for k, v in op.attrs.items()))
    except TypeError:
        return None
    # (the output's run-time lengths too: two `reserve`s of one zero buffer are two lists, each its own Dim)
    shape = tuple(("dim", d.id) if isinstance(d, Dim) else d for d in op.outputs[0].shape)
    return (op.prim.name, ins, attrs, shape)
