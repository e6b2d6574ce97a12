"""Local rewrites of a loop body that expose its dependence structure.

Each rewrite preserves the value of every body result exactly (no
reassociation here): store-to-load forwarding, overwrite of the same block,
whole-array writes, reshape chains, loop-invariant code motion, dead-op
removal, and promotion of a block read and written at a loop-invariant
position to a carry of its own (register promotion).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from looptrace.ir.affine import affine_values, const_int, same_starts, static_bounds
from looptrace.ir.builder import derived
from looptrace.ir.core import RNG, Block, Op, Value, literal
from looptrace.ir.dce import is_pure
from looptrace.ir.rewrite import substitute
from looptrace.ir.uses import operands, producers, result_uses, users


def forward(body: Block, start: int, step: int) -> bool:
    """One sweep of the forwarding rules; True when something changed."""
    defs = producers(body)
    aff = affine_values(body, start, step)
    mapping: dict[int, Value] = {}
    moved = False
    for op in body.ops:
        name = op.prim.name
        src = defs.get(op.inputs[0].id) if op.inputs else None
        if name == "dynamic_slice" and src is not None and src.prim.name == "dynamic_update_slice":
            upd = src.inputs[1]
            if same_starts(op.inputs[1:], src.inputs[2:], aff) and \
                    tuple(op.attrs["sizes"]) == tuple(upd.shape[:len(op.attrs["sizes"])]):
                mapping[op.out.id] = upd
            elif disjoint_blocks(op.inputs[1:], op.attrs["sizes"], src.inputs[2:], upd.shape, src.inputs[0].shape):
                op.inputs = (src.inputs[0], *op.inputs[1:])  # a read beside the write reads what it wrote into
                moved = True
        elif name == "slice" and _whole_slice(op):
            mapping[op.out.id] = op.inputs[0]
        elif name == "transpose" and _keeps_element_order(op):
            body.ops[body.ops.index(op)] = derived(op).op_into("reshape", op.inputs, op.outputs,
                                                               shape=tuple(op.out.shape))
            moved = True
        elif name == "slice" and src is not None and src.prim.name == "dynamic_update_slice":
            blk = read_block(op)
            if blk is not None and disjoint_blocks(*blk, src.inputs[2:], src.inputs[1].shape, src.inputs[0].shape):
                op.inputs = (src.inputs[0],)
                moved = True
        elif name == "dynamic_update_slice":
            _forward_write(op, src, aff, mapping)
        elif name == "reshape":
            x = op.inputs[0]
            if tuple(x.shape) == tuple(op.out.shape):
                mapping[op.out.id] = x
            elif src is not None and src.prim.name == "reshape":
                op.inputs = (src.inputs[0],)
                moved = True
    mapping = {k: _resolve(v, mapping) for k, v in mapping.items()}
    substitute(body, mapping)
    return bool(mapping) or moved


def _whole_slice(op: Op) -> bool:
    """slice(x) of every element, in order: x."""
    return tuple(op.out.shape) == tuple(op.inputs[0].shape) and all(a == 0 for a in op.attrs["starts"]) \
        and all(st == 1 for st in op.attrs["steps"])


def _keeps_element_order(op: Op) -> bool:
    """Does transpose(x) only move unit axes (the non-unit ones stay in their
    order)? Then it is reshape(x): the same elements in the same order
    (the (3, 1) -> (1, 3) of a row the inner loop's rewrite built)."""
    shape = op.inputs[0].shape
    if not all(isinstance(d, int) for d in shape):
        return False
    moved = [ax for ax in op.attrs["perm"] if shape[ax] != 1]
    return moved == sorted(moved)


def read_block(op: Op) -> tuple[tuple, tuple] | None:
    """(starts, sizes) of a block read: a dynamic_slice, or a slice of unit
    steps (its starts as constants)."""
    if op.prim.name == "dynamic_slice":
        return tuple(op.inputs[1:]), tuple(op.attrs["sizes"])
    if op.prim.name == "slice" and all(st == 1 for st in op.attrs["steps"]):
        starts = tuple(literal(np.int64(a)) for a in op.attrs["starts"])
        return starts, tuple(b - a for a, b in zip(op.attrs["starts"], op.attrs["stops"]))
    return None


def disjoint_blocks(xs, xsizes, ys, ysizes, shape) -> bool:
    """Do the blocks at starts xs and ys (extents xsizes, ysizes) share no
    element at any iteration? Proved on an axis where both starts are
    constants (a one-element start may count from the end of a static axis)."""
    for a, b, sa, sb, dim in zip(xs, ys, xsizes, ysizes, shape):
        ca, cb = const_int(a), const_int(b)
        if ca is None or cb is None:
            continue
        if isinstance(dim, int):
            ca = ca + dim if ca < 0 and sa == 1 else ca
            cb = cb + dim if cb < 0 and sb == 1 else cb
        if ca >= 0 and cb >= 0 and (ca + sa <= cb or cb + sb <= ca):
            return True
    return False


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
    checked = False  # a check stays in the loop: later checks stay too (their order is the user's)
    for op in body.ops:
        # an op that may raise moves before the loop only when the loop's block surely
        # runs, else a zero-trip loop would raise where the plain function does not. An
        # invariant check moves too, in order (`int(x / y)` with y = 0: the division's
        # ZeroDivisionError, then int()'s OverflowError). (Keeping an op that may raise
        # behind a check that stays broke the vectorizer's rewrite of such loops.)
        invariant = not any(v.id in inside for v in operands(op))
        if op.prim.name == "check":
            if always_runs and invariant and not checked:
                moved.append(op)
            else:
                kept.append(op)
                checked = True
            continue
        safe = not op.prim.may_raise or always_runs
        if safe and is_pure(op) and invariant:
            moved.append(op)
        else:
            kept.append(op)
            inside.update(v.id for v in op.outputs)
    if moved:
        body.ops = kept
        at = parent.index(loop)
        parent[at:at] = moved
    return len(moved)


def promote_blocks(loop: Op, parent: list[Op], start: int, step: int) -> bool:
    """A carried array read and written only at loop-invariant blocks
    becomes a carry of each block: read before the loop, written after it."""
    (body,) = loop.blocks
    n_carry = len(body.args) - 1
    promoted = False
    for k in reversed(range(n_carry)):  # (a carry promoted into several shifts those after it)
        promoted |= _promote_one(loop, parent, k, start, step)
    return promoted


def _promote_one(loop: Op, parent: list[Op], k: int, start: int, step: int) -> bool:
    """Carry k, written by a chain of block writes at loop-invariant starts
    (acc[i, 0] += ...; acc[i, 1] += ...: blocks the same or provably
    disjoint) and read only at those blocks: one carry per block."""
    (body,) = loop.blocks
    arg, res = body.args[1 + k], body.results[k]
    if arg.dtype == RNG:
        return False
    defs, us = producers(body), users(body)
    chain: list[Op] = []
    v = res
    while v.id != arg.id:
        w = defs.get(v.id)
        if w is None or w.prim.name != "dynamic_update_slice" or any(s.id in defs for s in w.inputs[2:]):
            return False
        chain.append(w)
        v = w.inputs[0]
    chain.reverse()
    versions = [arg] + [w.out for w in chain[:-1]]  # the array each write updates
    if not chain or len(us.get(res.id, ())) or result_uses(body, res) != 1 \
            or any(result_uses(body, x) for x in versions):
        return False
    aff = affine_values(body, start, step)
    blocks: list[tuple] = []  # (starts, sizes) of each block

    def block_of(starts, sizes) -> int | None:
        for g, (s0, z0) in enumerate(blocks):
            if same_starts(starts, s0, aff) and tuple(sizes) == z0:
                return g
        if not all(disjoint_blocks(starts, sizes, s0, z0, arg.shape) for s0, z0 in blocks):
            return None
        blocks.append((tuple(starts), tuple(sizes)))
        return len(blocks) - 1

    written = []
    for w in chain:
        g = block_of(w.inputs[2:], w.inputs[1].shape[:len(w.inputs) - 2])
        if g is None or any(x.id == w.inputs[0].id for x in w.inputs[1:]):
            return False
        written.append(g)
    shapes = {}
    for w, g in zip(chain, written):
        if shapes.setdefault(g, tuple(w.inputs[1].shape)) != tuple(w.inputs[1].shape):
            return False
    reads: list[tuple[Op, int, int]] = []  # (read, version, block)
    for j, x in enumerate(versions):
        for u in us.get(x.id, ()):
            if u is chain[j] and sum(y.id == x.id for y in u.inputs) == 1:
                continue
            blk = read_block(u)
            if blk is None or u.inputs[0].id != x.id or any(y.id == x.id for y in u.inputs[1:]):
                return False
            g = block_of(*blk)
            if g is None or g not in shapes or tuple(u.out.shape) != shapes[g]:
                return False  # (a block only read is not worth a carry)
            reads.append((u, j, g))
    _rewrite_promoted(loop, parent, k, chain, written, blocks, reads, shapes)
    return True


def _rewrite_promoted(loop: Op, parent: list[Op], k: int, chain: list[Op], written: list[int],
                      blocks: list[tuple], reads: list[tuple[Op, int, int]], shapes: dict) -> None:
    """One carry per block; a one-element block is carried as a 0-d value
    (so `if c: acc[i, 0] += f` is a conditional sum the masking sees)."""
    (body,) = loop.blocks
    init = loop.inputs[3 + k]
    dtype = chain[0].inputs[1].dtype
    carried = [() if all(d == 1 for d in shapes[g]) else shapes[g] for g in range(len(blocks))]
    args = [Value(dtype, sh) for sh in carried]
    firsts = [Value(dtype, sh) for sh in carried]
    lasts = [Value(dtype, sh) for sh in carried]
    inside = derived(chain[-1])
    current: list[Value] = list(args)
    mapping: dict[int, Value] = {}
    for j in range(len(chain)):
        for u, ver, g in reads:
            if ver == j:
                mapping[u.out.id] = current[g]
        current[written[j]] = chain[j].inputs[1]
    current = [_resolve(v, mapping) for v in current]
    results = [v if tuple(v.shape) == sh else inside.op("reshape", v, shape=sh) for v, sh in zip(current, carried)]
    mapping = {key: _resolve(v, mapping) for key, v in mapping.items()}
    for u in {id(u): u for u, _, _ in reads}.values():  # a read of a 0-d carry is shaped as the read
        v = mapping[u.out.id]
        if tuple(v.shape) != tuple(u.out.shape):
            mapping[u.out.id] = Value(v.dtype, tuple(u.out.shape))
            body.ops.insert(body.ops.index(u), derived(u).op_into("reshape", (v,), (mapping[u.out.id],),
                                                                 shape=tuple(u.out.shape)))
    substitute(body, mapping)
    dropped = {id(op) for op in chain} | {id(u) for u, _, _ in reads}
    body.ops = [op for op in body.ops if id(op) not in dropped] + inside.ops
    body.args[1 + k:2 + k] = args
    body.results[k:k + 1] = results
    outside = derived(chain[0])
    for (starts, sizes), first, sh in zip(blocks, firsts, carried):
        block = outside.op("dynamic_slice", init, *starts, sizes=sizes)
        outside.op_into("reshape", (block,), (first,), shape=sh)
    after = derived(chain[-1])
    x = init
    for g, ((starts, _), last) in enumerate(zip(blocks, lasts)):
        out = loop.outputs[k] if g == len(blocks) - 1 else Value(init.dtype, tuple(init.shape))
        upd = after.op("reshape", last, shape=shapes[g])
        after.op_into("dynamic_update_slice", (x, upd, *starts), (out,))
        x = out
    loop.inputs = (*loop.inputs[:3 + k], *firsts, *loop.inputs[4 + k:])
    loop.outputs = (*loop.outputs[:k], *lasts, *loop.outputs[k + 1:])
    at = parent.index(loop)
    parent[at:at + 1] = [*outside.ops, loop, *after.ops]
