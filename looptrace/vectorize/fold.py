"""Peephole: reduce_sum over output axes of an einsum used only there drops
those letters from the einsum's output (the sum happens in the contraction).
"""
from __future__ import annotations

from looptrace.ir.core import Block
from looptrace.ops.linalg import parse_spec

from .analysis import users


def fold_reduce_einsum(block: Block) -> None:
    for op in block.ops:
        for sub in op.blocks:
            fold_reduce_einsum(sub)
    us = users(block)
    defs = {v.id: op for op in block.ops for v in op.outputs}
    dead = set()
    for op in block.ops:
        if op.prim.name != "reduce_sum" or op.out.dtype.kind not in "fc":
            continue
        src = defs.get(op.inputs[0].id)
        if src is None or src.prim.name != "einsum" or len(us.get(src.out.id, [])) != 1 \
                or any(r.id == src.out.id for r in block.results):
            continue
        ins, out = parse_spec(src.attrs["spec"])
        kept = "".join(c for k, c in enumerate(out) if k not in op.attrs["axes"])
        op.prim = src.prim
        op.inputs = src.inputs
        op.attrs = {"spec": ",".join(ins) + "->" + kept}
        dead.add(id(src))
    block.ops = [op for op in block.ops if id(op) not in dead]
