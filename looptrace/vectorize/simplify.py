"""Local rewrites of a loop body that expose its dependence structure.

Each rewrite preserves the value of every body result exactly (no
reassociation here): store-to-load forwarding, overwrite of the same block,
whole-array writes, reshape chains, loop-invariant code motion, dead-op
removal, and promotion of a block read and written at a loop-invariant
position to a carry of its own (register promotion).
"""
from __future__ import annotations

from typing import Callable

from looptrace.ir.affine import affine_values, const_int, same_starts, static_bounds
from looptrace.ir.builder import derived
from looptrace.ir.core import RNG, Block, Op, Value
from looptrace.ir.dce import is_pure
from looptrace.ir.rewrite import substitute
from looptrace.ir.uses import operands, producers, result_uses, users


def forward(body: Block, start: int, step: int) -> bool:
    """One sweep of the forwarding rules; True when something changed."""
    defs = producers(body)
    aff = affine_values(body, start, step)
    mapping: dict[int, Value] = {}
    for op in body.ops:
        name = op.prim.name
        src = defs.get(op.inputs[0].id) if op.inputs else None
        if name == "dynamic_slice" and src is not None and src.prim.name == "dynamic_update_slice":
            upd = src.inputs[1]
            if same_starts(op.inputs[1:], src.inputs[2:], aff) and \
                    tuple(op.attrs["sizes"]) == tuple(upd.shape[:len(op.attrs["sizes"])]):
                mapping[op.out.id] = upd
        elif name == "dynamic_update_slice":
            _forward_write(op, src, aff, mapping)
        elif name == "reshape":
            x = op.inputs[0]
            if tuple(x.shape) == tuple(op.out.shape):
                mapping[op.out.id] = x
            elif src is not None and src.prim.name == "reshape":
                op.inputs = (src.inputs[0],)
    mapping = {k: _resolve(v, mapping) for k, v in mapping.items()}
    substitute(body, mapping)
    return bool(mapping)


def _resolve(v: Value, mapping: dict[int, Value]) -> Value:
    while v.id in mapping:
        v = mapping[v.id]
    return v


def _forward_write(op: Op, src: Op | None, aff: dict, mapping: dict[int, Value]) -> None:
    x, upd, *starts = op.inputs
    if tuple(upd.shape) == tuple(x.shape) and all(const_int(s) == 0 for s in starts):
        mapping[op.out.id] = upd
        return
    if src is not None and src.prim.name == "dynamic_update_slice" and \
            same_starts(starts, src.inputs[2:], aff) and src.inputs[1].shape == upd.shape:
        op.inputs = (src.inputs[0], *op.inputs[1:])



def merge_checks(body: Block, cannot_raise: Callable[[Op], bool] = lambda op: False) -> None:
    """check(p) ... check(q) in one loop body -> one check(p, q) where the last
    was: batched over the iterations, the merged check raises for the first
    failing iteration, as the loop does (two batched checks would each scan
    every iteration, and the first in program order would win). Checks are
    not moved past another op that may raise (an int() of a float, a read
    out of bounds): within an iteration that op's error comes after the
    earlier checks' and before the later ones'. `cannot_raise`: ops that
    may raise in general but are known not to here (a read whose start is
    in bounds at every iteration, select.reads_in_bounds)."""
    checks = [op for op in body.ops if op.prim.raises and op.prim.name == "check"]
    if len(checks) < 2:
        return
    shape = tuple(checks[0].inputs[0].shape)
    group: list[Op] = []
    for op in body.ops:
        if op.prim.name == "check" and op.prim.raises and tuple(op.inputs[0].shape) == shape:
            group.append(op)
        elif op.prim.may_raise and group and not cannot_raise(op):
            break  # the checks before it are merged; those after it stay as they are
    if len(group) < 2:
        return
    from looptrace.ops.check import join_inputs, split_inputs

    failures = tuple(f for op in group for f in op.attrs["failures"])
    parts = [split_inputs(op.inputs, op.attrs["failures"]) for op in group]
    inputs = join_inputs([p for ps, _ in parts for p in ps], [v for _, vs in parts for v in vs], failures)
    merged = derived(group[-1]).op_into(group[0].prim, inputs, (), failures=failures)
    at = body.ops.index(group[-1])
    body.ops[at] = merged
    body.ops = [op for op in body.ops if op not in group[:-1]]


def hoist_invariants(loop: Op, parent: list[Op]) -> int:
    """Move effect-free ops of the loop's blocks that read nothing defined in
    them before the loop (`parent` is the op list holding `loop`); returns
    how many moved."""
    return sum(_hoist_block(body, loop, parent, _always_runs(loop, k))
               for k, body in enumerate(loop.blocks))


def _always_runs(loop: Op, k: int) -> bool:
    if loop.prim.name == "while_loop":
        return k == 0  # the condition runs at least once, the body may not
    
    bounds = static_bounds(loop)
    return bounds is not None and len(range(*bounds)) > 0


def _hoist_block(body: Block, loop: Op, parent: list[Op], always_runs: bool = True) -> int:
    inside = {v.id for v in body.args}
    moved, kept = [], []
    for op in body.ops:
        # an op that may raise moves before the loop only when the loop's block surely
        # runs, else a zero-trip loop would raise where the plain function does not
        safe = always_runs or not op.prim.may_raise
        if safe and is_pure(op) and not any(v.id in inside for v in operands(op)):
            moved.append(op)
        else:
            kept.append(op)
            inside.update(v.id for v in op.outputs)
    if moved:
        body.ops = kept
        at = parent.index(loop)
        parent[at:at] = moved
    return len(moved)


def promote_blocks(loop: Op, parent: list[Op], start: int, step: int) -> None:
    """A carried array read and written only at one loop-invariant block
    becomes a carry of that block: read before the loop, written after it."""
    (body,) = loop.blocks
    n_carry = len(body.args) - 1
    for k in range(n_carry):
        _promote_one(loop, parent, k, start, step)


def _promote_one(loop: Op, parent: list[Op], k: int, start: int, step: int) -> None:
    (body,) = loop.blocks
    arg, res = body.args[1 + k], body.results[k]
    if arg.dtype == RNG:
        return
    defs, us = producers(body), users(body)
    w = defs.get(res.id)
    if w is None or w.prim.name != "dynamic_update_slice" or w.inputs[0].id != arg.id:
        return
    upd, starts = w.inputs[1], w.inputs[2:]
    if any(s.id in defs for s in starts) or result_uses(body, arg) or len(us.get(res.id, ())) \
            or result_uses(body, res) != 1:
        return
    aff = affine_values(body, start, step)
    reads = [u for u in us.get(arg.id, []) if u is not w]
    sizes = tuple(upd.shape[:len(starts)])
    for u in reads:
        if not (u.prim.name == "dynamic_slice" and u.inputs[0].id == arg.id and
                same_starts(u.inputs[1:], starts, aff) and tuple(u.attrs["sizes"]) == sizes):
            return
    _rewrite_promoted(loop, parent, k, w, reads, sizes)


def _rewrite_promoted(loop: Op, parent: list[Op], k: int, w: Op, reads: list[Op], sizes: tuple) -> None:
    (body,) = loop.blocks
    init = loop.inputs[3 + k]
    upd, starts = w.inputs[1], w.inputs[2:]
    v = Value(upd.dtype, tuple(upd.shape))
    first = Value(upd.dtype, tuple(upd.shape))
    last = Value(upd.dtype, tuple(upd.shape))
    read0 = derived(w).op_into("dynamic_slice", (init, *starts), (first,), sizes=sizes)
    write = derived(w).op_into("dynamic_update_slice", (init, last, *starts), (loop.outputs[k],))
    substitute(body, {r.out.id: v for r in reads})
    body.ops = [op for op in body.ops if op is not w and op not in reads]
    body.args[1 + k] = v
    body.results[k] = upd
    loop.inputs = (*loop.inputs[:3 + k], first, *loop.inputs[4 + k:])
    loop.outputs = (*loop.outputs[:k], last, *loop.outputs[k + 1:])
    at = parent.index(loop)
    parent[at:at + 1] = [read0, loop, write]
