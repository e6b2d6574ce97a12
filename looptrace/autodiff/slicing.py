"""Slices of a program that the reverse-mode transform takes: the ops some
values depend on, and a for_loop pruned to the carries some outputs need.
(Cloning, use maps and dead-code removal are the IR's own: ir/clone.py,
ir/uses.py, ir/dce.py.)

Invariant: every function here returns new ops (inputs are never mutated).
"""
from __future__ import annotations

from looptrace.ir.builder import rebuilt
from looptrace.ir.core import Block, Op, Value
from looptrace.ir.uses import used_values
from looptrace.ops.control import split_for_results


def backward_slice(ops: list[Op], wanted: list[Value]) -> list[Op]:
    """The ops of `ops` (in order) that `wanted` values depend on."""
    need = {v.id for v in wanted}
    keep = []
    for op in reversed(ops):
        if any(v.id in need for v in op.outputs):
            keep.append(op)
            need.update(v.id for v in used_values([op]))
    return keep[::-1]






def prune_for_loop(op: Op, needed: set[int]) -> Op:
    """`op` (a for_loop) keeping only the carries and stacked outputs that the
    output ids in `needed` depend on; their output values are kept as is."""
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    keep_c = {j for j in range(n_carry) if op.outputs[j].id in needed}
    keep_y = [k for k in range(n_carry, len(body.results)) if op.outputs[k].id in needed]
    while True:
        wanted = [body.results[j] for j in keep_c] + [body.results[k] for k in keep_y]
        reads = {v.id for v in used_values(backward_slice(body.ops, wanted), wanted)}
        grown = keep_c | {j for j in range(n_carry) if body.args[1 + j].id in reads}
        if grown == keep_c:
            break
        keep_c = grown
    cs = sorted(keep_c)
    ops = [o for o in backward_slice(body.ops, wanted)]
    new_body = Block([body.args[0]] + [body.args[1 + j] for j in cs], ops,
                     [body.results[j] for j in cs] + [body.results[k] for k in keep_y])
    inputs = op.inputs[:3] + tuple(op.inputs[3 + j] for j in cs)
    outputs = tuple(op.outputs[j] for j in cs) + tuple(op.outputs[k] for k in keep_y)
    return rebuilt(op, inputs=inputs, outputs=outputs, blocks=(new_body,))
