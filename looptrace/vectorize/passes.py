"""The vectorize pass: every for_loop, innermost first, is rewritten by
vectorize/loop.py; then a reduction of a batched einsum folds into the einsum.

Set LOOPTRACE_NO_VECTORIZE=1 to skip the pass (benchmarks compare both).
"""
from __future__ import annotations

import os

from looptrace.ir.core import Block, Program

from .loop import vectorize_loop
from .fold import fold_reduce_einsum


def enabled() -> bool:
    return not os.environ.get("LOOPTRACE_NO_VECTORIZE")


def vectorize(program: Program) -> Program:
    if not enabled():
        return program
    _block(program.body)
    fold_reduce_einsum(program.body)
    return program


def _block(block: Block) -> None:
    for op in list(block.ops):
        for sub in op.blocks:
            _block(sub)
        if op.prim.name == "for_loop" and op in block.ops:
            vectorize_loop(op, block)


def register() -> None:
    from looptrace import pipeline

    if not any(name == "vectorize" for name, _ in pipeline.PASSES):
        pipeline.PASSES.insert(0, ("vectorize", vectorize))


register()
