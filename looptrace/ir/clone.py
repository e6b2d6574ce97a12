"""Copies of ops and blocks that define fresh values, so a copy can sit next to
its original in one program without breaking SSA.

`clone_ops(ops, mapping)` reads `mapping[v]` for every mapped value and adds
the fresh outputs to `mapping`; values not in `mapping` (defined outside the
copied ops) are shared. `copy_region` copies one region op keeping its own
output values and everything defined outside it (a snapshot to restore).
"""
from __future__ import annotations

from .builder import rebuilt
from .core import Block, Op, Value, free_values


def fresh(v: Value, mapping: dict[int, Value]) -> Value:
    new = Value(v.dtype, v.shape)
    mapping[v.id] = new
    return new


def clone_ops(ops: list[Op], mapping: dict[int, Value]) -> list[Op]:
    out = []
    for op in ops:
        ins = tuple(mapping.get(v.id, v) for v in op.inputs)
        blocks = tuple(clone_block(b, mapping) for b in op.blocks)
        outs = tuple(fresh(v, mapping) for v in op.outputs)
        out.append(rebuilt(op, inputs=ins, outputs=outs, attrs=op.attrs, blocks=blocks))
    return out


def clone_block(block: Block, mapping: dict[int, Value]) -> Block:
    args = [fresh(v, mapping) for v in block.args]
    ops = clone_ops(block.ops, mapping)
    return Block(args, ops, [mapping.get(v.id, v) for v in block.results])


def copy_region(op: Op) -> Op:
    """A copy of a region op with copied bodies (fresh values inside) that keeps
    the op's inputs, outputs and attributes, for restoring it after a failed
    rewrite."""
    mapping: dict[int, Value] = {}
    for b in op.blocks:
        for v in free_values(b):
            mapping[v.id] = v
    blocks = tuple(clone_block(b, mapping) for b in op.blocks)
    return rebuilt(op, inputs=tuple(op.inputs), outputs=tuple(op.outputs), attrs=op.attrs, blocks=blocks)
