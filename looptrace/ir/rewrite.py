"""Small generic IR rewrites used by the tracer and the passes."""
from __future__ import annotations

from collections.abc import Callable

from .core import Block, Op, Value


def substitute(block: Block, mapping: dict[int, Value]) -> None:
    """Replace uses of values (by id) in `block`, nested blocks included."""
    if not mapping:
        return
    for op in block.ops:
        if any(v.id in mapping for v in op.inputs):
            op.inputs = tuple(mapping.get(v.id, v) for v in op.inputs)
        for sub in op.blocks:
            substitute(sub, mapping)
    block.results = [mapping.get(v.id, v) for v in block.results]


# rewrite(op, ops, producer) -> the value replacing op's output, or None; the
# ops it makes go to `ops` (before op), `producer` maps value ids of the block so far
OpRewrite = Callable[[Op, list, dict], "Value | None"]


def rewrite_each_op(block: Block, rewrite: OpRewrite) -> None:
    """Offer every op of `block` (nested blocks first, each with its own
    producers) to `rewrite` in program order, replace the outputs it
    rewrites in all later uses, and drop what became dead."""
    from .dce import dce

    mapping: dict[int, Value] = {}
    producer: dict[int, Op] = {}
    ops: list[Op] = []
    for op in block.ops:
        if mapping and any(v.id in mapping for v in op.inputs):
            op.inputs = tuple(mapping.get(v.id, v) for v in op.inputs)
        for sub in op.blocks:
            substitute(sub, mapping)
            rewrite_each_op(sub, rewrite)
        made = len(ops)
        new = rewrite(op, ops, producer)
        if new is not None:
            mapping[op.out.id] = new
        ops.append(op)
        for o in ops[made:]:
            for v in o.outputs:
                producer[v.id] = o
    block.ops = ops
    block.results = [mapping.get(v.id, v) for v in block.results]
    if mapping:
        block.ops = dce(block, regions=False).ops
