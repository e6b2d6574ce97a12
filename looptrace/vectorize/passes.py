"""The vectorize pass: every for_loop, innermost first, is rewritten by
vectorize/loop.py; then a reduction of a batched einsum folds into the einsum.

Set LOOPTRACE_NO_VECTORIZE=1 to skip the pass (benchmarks compare both).
"""
from __future__ import annotations

import copy
import os
import warnings

from looptrace.ir.core import Block, Op, Program, free_values
from looptrace.ir.primitive import PRIMITIVES

from .fold import fold_reduce_einsum
from .loop_rewrite import vectorize_loop
from .simplify import hoist_invariants


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
            _guarded(op, block)
        elif op.prim.name == "while_loop":
            _while(op, block)


def _while(op: Op, block: Block) -> None:
    """A loop with a data-dependent exit stays a loop; its loop-invariant
    work moves before it."""
    moved = hoist_invariants(op, block.ops)
    info = op.attrs.get("loop")
    if info is not None and not info.reason:
        info.reason = "its exit depends on data computed in the loop, so it stays a while loop"
        if moved:
            info.reason += f"; {moved} loop-invariant op(s) moved before it"


def _guarded(op: Op, block: Block) -> None:
    """Vectorize one loop; on an internal error keep the loop as traced (and
    warn), unless LOOPTRACE_VECTORIZE_STRICT=1 (tests) asks to raise."""
    saved_ops = list(block.ops)
    saved_loop = _copy_loop(op)
    try:
        vectorize_loop(op, block)
    except Exception as e:
        if os.environ.get("LOOPTRACE_VECTORIZE_STRICT"):
            raise
        block.ops = saved_ops
        block.ops[block.ops.index(op)] = saved_loop
        info = saved_loop.attrs.get("loop")
        if info is not None:
            info.kind, info.reason = "scan", f"not vectorized: internal error in the vectorizer ({e})"
        warnings.warn(f"looptrace: the vectorizer skipped the loop at line {op.loc.line}: {e!r}", stacklevel=2)


def _copy_loop(op: Op) -> Op:
    """A deep copy of a loop op that shares primitives, loop records and the
    Value objects defined outside it."""
    memo: dict[int, object] = {id(p): p for p in PRIMITIVES.values()}
    memo[id(op.attrs.get("loop"))] = op.attrs.get("loop")
    for v in op.inputs:
        memo[id(v)] = v
    for v in op.outputs:
        memo[id(v)] = v
    for b in op.blocks:
        for v in free_values(b):
            memo[id(v)] = v
    return copy.deepcopy(op, memo)


def register() -> None:
    from looptrace import pipeline

    if not any(name == "vectorize" for name, _ in pipeline.PASSES):
        pipeline.PASSES.insert(0, ("vectorize", vectorize))
    if not any(name == "linear_scans" for name, _ in pipeline.PASSES):
        from .linear_recurrence import linear_scans  # residual linear recurrences and product chains (linear.py)

        at = [name for name, _ in pipeline.PASSES].index("vectorize")
        pipeline.PASSES.insert(at + 1, ("linear_scans", linear_scans))


register()
