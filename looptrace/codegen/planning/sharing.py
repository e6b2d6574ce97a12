"""Which values may share one value's memory (target-neutral).

Memory is followed through every op that may return a view of, or update in
place, one of its inputs: everything but a primitive with the `fresh` trait
(its output is always a new allocation) and scalars (a scalar never shares
memory). A target uses this to prove that a buffer can be reused, e.g. that a
product in a loop body may alternate between two rows allocated before the
loop (codegen/cpu/regions.py).
"""
from __future__ import annotations

from looptrace.ir.core import Block, Value, free_values


def sharing(block: Block, start: Value) -> set[int] | None:
    """Ids of the values of `block` that may share `start`'s memory; None when
    one of them is used by a region op or inside a nested block."""
    nested = {v.id for op in block.ops for b in op.blocks for v in free_values(b)}
    seen, stack = {start.id}, [start.id]
    while stack:
        vid = stack.pop()
        if vid in nested:
            return None
        for op in block.ops:
            if not any(u.id == vid for u in op.inputs):
                continue
            if op.blocks:
                return None
            if op.prim.fresh:
                continue
            for out in op.outputs:
                if out.ndim and out.id not in seen:
                    seen.add(out.id)
                    stack.append(out.id)
    return seen
