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


def rewrite_each_op(block: Block, rewrite: OpRewrite, with_uses: bool = False) -> None:
    """Offer every op of `block` (nested blocks first, each with its own
    producers) to `rewrite` in program order, replace the outputs it
    rewrites in all later uses, and drop what became dead. `with_uses`:
    `rewrite` also takes the block's uses as they were before the rewrites
    (uses.use_map), as a fourth argument."""
    from .dce import dce, dead_raising
    from .uses import use_map

    if with_uses:
        uses = use_map(block)
        inner = rewrite
        rewrite = lambda op, ops, producer: inner(op, ops, producer, uses)  # noqa: E731
    mapping: dict[int, Value] = {}
    producer: dict[int, Op] = {}
    ops: list[Op] = []
    kept = dead_raising(block)  # unread before the rewrites: they stay (they raise where the plain function does)
    for op in block.ops:
        if mapping and any(v.id in mapping for v in op.inputs):
            op.inputs = tuple(mapping.get(v.id, v) for v in op.inputs)
        for sub in op.blocks:
            substitute(sub, mapping)
            rewrite_each_op(sub, inner if with_uses else rewrite, with_uses)
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
        block.ops = dce(block, regions=False, keep=kept).ops
