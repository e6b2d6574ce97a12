"""A row written piece by piece: `out[i, 0] = a; out[i, 1] = b; out[i, 2:4] = c`.

Traced, that is a chain of dynamic_update_slice ops into one carried buffer:
the second write updates the first one's result, so the classifier saw a
buffer that "reads its previous value" and kept the loop as a scan. When every
write of the chain is at the same walking position (one start affine in the
loop index, the same at each write, with the same extent) and at constant
positions on the other axes, the chain is one write of the row block:

    block = out[i : i + s, :, ...]          (its old contents)
    block[0:s, 0] = a; block[0:s, 1] = b; ...  (the pieces, in program order)
    out[i : i + s, :, ...] = block           (one write at the walking position)

which the classifier takes for a map: a write at a position injective in the
index, read only at that position. Exact: every element gets the value the
chain gave it (later pieces still overwrite earlier ones where they overlap),
and elements no piece writes keep their contents.

Invariant: a chain is rewritten only if each intermediate buffer is used by
the next write alone, so nothing else observes the partly written row.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.affine import same_index
from looptrace.ir.builder import derived
from looptrace.ir.core import Block, Op, Value
from looptrace.ir.uses import result_uses

from .analysis import LoopFacts


def merge_row_writes(loop: Op, facts: LoopFacts) -> bool:
    """Rewrite every carried buffer's piecewise row write as one block write.
    True if anything changed (the caller refreshes its facts)."""
    (body,) = loop.blocks
    changed = False
    for arg, result in zip(body.args[1:], body.results):
        chain = _chain(facts, arg, result)
        if chain is not None:
            _merge(body, arg, chain, _walking_axis(facts, chain[0]))
            changed = True
        if changed:
            facts.refresh()
    return changed


def _chain(facts: LoopFacts, arg: Value, result: Value) -> list[Op] | None:
    """The dynamic_update_slice ops from `arg` to `result`, first to last,
    when they form a mergeable row write (at least two of them)."""
    chain: list[Op] = []
    v = result
    while v.id != arg.id:
        w = facts.defs.get(v.id)
        if w is None or w.prim.name != "dynamic_update_slice":
            return None
        if chain and (facts.n_uses(v) != 1 or result_uses(facts.body, v)):
            return None  # a partly written row is read elsewhere
        chain.append(w)
        v = w.inputs[0]
    chain.reverse()
    if len(chain) < 2 or facts.n_uses(chain[-1].out) != 1:
        return None
    ax = _walking_axis(facts, chain[0])
    if ax is None:
        return None
    first = chain[0]
    for w in chain:
        starts = w.inputs[2:]
        if len(starts) <= ax or not same_index(starts[ax], first.inputs[2 + ax], facts.aff):
            return None
        if w.inputs[1].shape[ax] != first.inputs[1].shape[ax]:
            return None
        if any(not s.is_const for k, s in enumerate(starts) if k != ax):
            return None
    return chain


def _walking_axis(facts: LoopFacts, w: Op) -> int | None:
    walking = [k for k, s in enumerate(w.inputs[2:]) if s.id in facts.aff and facts.aff[s.id][0] != 0]
    return walking[0] if len(walking) == 1 else None


def _merge(body: Block, arg: Value, chain: list[Op], ax: int) -> None:
    last = chain[-1]
    b = derived(last)
    shape = tuple(arg.shape)
    extent = chain[0].inputs[1].shape[ax]
    block_shape = tuple(extent if k == ax else d for k, d in enumerate(shape))
    at = [chain[0].inputs[2 + ax] if k == ax else b.const(0, np.int64) for k in range(len(shape))]
    block = b.op("dynamic_slice", arg, *at, sizes=block_shape)
    for w in chain:
        starts = list(w.inputs[2:]) + [b.const(0, np.int64)] * (len(shape) - len(w.inputs) + 2)
        local = [b.const(0, np.int64) if k == ax else s for k, s in enumerate(starts)]
        block = b.op("dynamic_update_slice", block, w.inputs[1], *local)
    b.op_into("dynamic_update_slice", (arg, block, *at), (last.out,))
    pos = body.ops.index(last)
    gone = {id(w) for w in chain}
    body.ops[:] = [op for op in body.ops[:pos] if id(op) not in gone] + b.ops + \
        [op for op in body.ops[pos + 1:] if id(op) not in gone]
