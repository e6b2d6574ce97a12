"""Small generic IR rewrites used by the tracer and the passes."""
from __future__ import annotations

from .core import Block, Value


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
