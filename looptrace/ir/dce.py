"""Purity and dead-code elimination, for every pass.

An op is pure when neither it nor any op in its bodies is effectful (a random
draw consumes and produces a generator's state) or a run-time check (it
exists to raise). `dce` keeps an op when one of
its outputs is live or it is impure, walking backwards once, so a chain of dead
ops goes in one pass.
"""
from __future__ import annotations

from collections.abc import Callable

from .builder import rebuilt
from .core import Block, Op, walk
from .uses import used_values


def is_pure(op: Op) -> bool:
    """No effect and no run-time check, here or in a body: free to drop or move."""
    if not op.blocks:  # (the common case, without building a list)
        return not (op.prim.effectful or op.prim.raises)
    return not any(o.prim.effectful or o.prim.raises for o in [op, *(x for b in op.blocks for x in walk(b))])


def dce(block: Block, regions: bool = True, keep_raising: bool = False,
        checks: Callable[[Op], list[Op]] | None = None, loops: bool = False,
        keep: frozenset[int] = frozenset()) -> Block:
    """`block` without ops whose results nothing reads (effects are kept).
    With `regions`, region ops that stay get dead-code-free copies of their
    bodies; `block` and its ops are never mutated. With `keep_raising`, ops
    that may raise on bad data (an out-of-bounds read) stay too: the plain
    function raises there even when nothing reads the value. With `checks`
    (a pass that decides a branch or forwards a store, which makes reads
    dead that the program still makes), such an op leaves the ops
    `checks(op)` gives (vectorize/dead_reads.py `checks_of`), and a loop
    nothing uses that may raise stays; with `loops`, only the latter. The
    ops in `keep` (by id) stay whatever reads them (`dead_raising`)."""
    live = {v.id for v in block.results}
    kept: list[Op] = []
    for op in reversed(block.ops):
        if not is_pure(op) or any(v.id in live for v in op.outputs) or id(op) in keep or \
                keep_raising and _may_raise(op):
            if regions and op.prim.name == "cond":
                op = _live_outputs_only(op, live)
            if regions and op.blocks:
                op = rebuilt(op, blocks=tuple(dce(b, keep_raising=keep_raising) for b in op.blocks))
            kept.append(op)
            live.update(_read_ids(op))
        elif (checks is not None or loops) and op.blocks and \
                any(o.prim.may_raise for b in op.blocks for o in walk(b)):
            # a loop (or branch) nothing uses that reads out of range raises as the plain one does: it
            # stays, with its bodies' dead ops reduced to their checks
            if regions:
                op = rebuilt(op, blocks=tuple(dce(b, checks=checks, loops=loops) for b in op.blocks))
            kept.append(op)
            live.update(_read_ids(op))
        elif checks is not None and op.prim.may_raise and not op.blocks:
            # an element read, write or int() nothing uses any more (a branch decided, a store
            # overwritten, a load forwarded) still raises where its index is out of range: its
            # checks stay (they read the index, not the array: no dependence is kept)
            made = checks(op)
            kept.extend(reversed(made))
            live.update(v.id for v in used_values(made))
    return Block(block.args, kept[::-1], block.results)


def _live_outputs_only(op: Op, live: set[int]) -> Op:
    """A cond without the outputs nothing reads, and its branches without
    the results that made them (`if done: return 0` before `stack =
    np.empty(big)`: the early return's branch made a zeroed `stack` for the
    name's other value, every call)."""
    keep = [k for k, v in enumerate(op.outputs) if v.id in live]
    if len(keep) == len(op.outputs):
        return op
    return rebuilt(op, outputs=tuple(op.outputs[k] for k in keep),
                   blocks=tuple(Block(b.args, b.ops, [b.results[k] for k in keep]) for b in op.blocks))


def _may_raise(op: Op) -> bool:
    if not op.blocks:
        return op.prim.may_raise
    return any(o.prim.may_raise for o in [op, *(x for b in op.blocks for x in walk(b))])


def dead_raising(block: Block) -> frozenset[int]:
    """The ops of `block` (ids) that nothing live reads but that may raise: a
    read out of range that an earlier pass kept (`keep_raising`) because the
    plain function raises there. A rewrite that makes other ops dead (it
    replaced them) drops those and keeps these (ir/rewrite.py)."""
    live = {v.id for v in block.results}
    dead = set()
    for op in reversed(block.ops):
        if not is_pure(op) or any(v.id in live for v in op.outputs):
            live.update(_read_ids(op))
        elif _may_raise(op):
            dead.add(id(op))
    return frozenset(dead)


def _read_ids(op: Op) -> list[int]:
    """Ids of the non-constant values `op` reads, its bodies included (`used_values`)."""
    if not op.blocks:  # (the common case, without used_values' closures)
        return [v.id for v in op.inputs if not v.is_const]
    return [v.id for v in used_values([op])]
