"""A scan's scalars updated under a condition are updated in a branch again.

The vectorizer if-converts a loop body (`if x[i] > best: best = x[i]; at = i`
becomes selects) so that everything that does not depend on the carries can
be batched. What stays in a scan then chains each iteration to the one
before through its selects: every step waits for the compare and the select
of the last. Numba keeps the user's `if` as a branch, which a running
extreme takes a handful of times in a million: predicted, it costs nothing,
and the loop runs at the speed of its loads (peak_with_index of
bench/corpus, 2e6 floats: 1.47 ms as selects, 0.29 ms as a branch, Numba's
own 0.34 ms).

So in each loop left after vectorization, the scalar carries whose update is
`select(c, new, carry)` (or `select(c, carry, new)`) become the results of
one `cond` on c per condition: the branch that updates yields the new values,
the other the carries unchanged. The pure scalar ops only those new values
read (and that cannot raise) move into that branch. Conditions that are
`select(c, 0, 1) == 0` (a branch index, as the tracer records which side of
an `if` ran) are read as c itself. A type tag's running maximum
(tracer/kinds.py `as_reduction`: `maximum(tag, select(c, K, 0))`, from a
non-negative start) is `select(c, maximum(tag, K), tag)` first: the tag
changes only where the branch runs.

Values are unchanged: each carry gets the value its select chose.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.core import Block, Op, Program, Value, literal, walk
from looptrace.ir.dce import is_pure
from looptrace.ir.uses import use_map
from looptrace.ops import get as prim


def branch_carries(program: Program) -> Program:
    outer = {v.id: op for op in walk(program.body) for v in op.outputs}
    _visit(program.body, outer)
    return program


def _visit(block: Block, outer: dict) -> None:
    for op in list(block.ops):
        for sub in op.blocks:
            _visit(sub, outer)
        if op.prim.name in ("for_loop", "while_loop"):
            _branch_loop(op, outer)


def _branch_loop(loop: Op, outer: dict) -> None:
    """(outer: value id -> its op, anywhere in the program: a constant hoisted out of the loop)"""
    body = loop.blocks[-1]
    first = 1 if loop.prim.name == "for_loop" else 0
    inits = loop.inputs[3:] if first else loop.inputs
    args = body.args[first:]
    defs = {**outer, **{v.id: op for op in body.ops for v in op.outputs}}
    uses = use_map(body)
    tags = getattr(loop.attrs.get("loop"), "type_tags", {})
    for k, (arg, init) in enumerate(zip(args, inits)):
        _tag_maximum(body, k, arg, init, defs, uses, arg.id in tags)
    defs = {**outer, **{v.id: op for op in body.ops for v in op.outputs}}
    uses = use_map(body)
    groups: dict[int, list] = {}
    conds: dict[int, Value] = {}
    for k, arg in enumerate(args):
        sel = defs.get(body.results[k].id)
        if sel is None or sel.prim.name != "select" or sel.out.ndim != 0 or len(uses[sel.out.id]) != 1:
            continue
        p, x, y = sel.inputs
        if y.id == arg.id and x.id != arg.id:
            new, when = x, True
        elif x.id == arg.id and y.id != arg.id:
            new, when = y, False
        else:
            continue
        c, positive = _condition(p, defs)
        conds[c.id] = c
        groups.setdefault(c.id, []).append((k, sel, new, "then" if positive == when else "else"))
    for cid, members in groups.items():
        _make_cond(body, conds[cid], members, args)


def _condition(p: Value, defs: dict) -> tuple[Value, bool]:
    """(c, positive): p is c (positive) or not c, seen through logical_not and
    `select(c, a, b) == k` of constants (a branch index)."""
    positive = True
    while True:
        op = defs.get(p.id)
        if op is None:
            return p, positive
        if op.prim.name == "logical_not":
            p, positive = op.inputs[0], not positive
            continue
        k = _const(op.inputs[1], defs) if op.prim.name == "equal" else None
        if k is not None:
            src = defs.get(op.inputs[0].id)
            a, b = (_const(v, defs) for v in src.inputs[1:]) if src is not None and src.prim.name == "select" \
                else (None, None)
            if a is not None and b is not None:
                if a.shape == b.shape == () and bool(a == k) != bool(b == k):
                    p, positive = src.inputs[0], positive if bool(a == k) else not positive
                    continue
        return p, positive


def _const(v: Value, defs: dict, depth: int = 0):
    """v's value where constants alone make it (`select(0 == 0, 1, 0)`, left so
    by the vectorizer until a later pass folds it), else None."""
    if v.is_const:
        return np.asarray(v.const)
    op = defs.get(v.id)
    if op is None or depth > 4 or v.ndim or op.blocks or not op.prim.elementwise or len(op.outputs) != 1:
        return None
    ins = [_const(x, defs, depth + 1) for x in op.inputs]
    if any(x is None for x in ins):
        return None
    return np.asarray(op.prim.impl(*ins, **op.attrs))


def _tag_maximum(body: Block, k: int, arg: Value, init: Value, defs: dict, uses: dict, tag: bool) -> None:
    """maximum(tag, select(c, K, 0)) of a carry never below 0 (a type tag,
    an index into its keys, or one starting at a constant >= 0 that only
    this maximum updates) -> select(c, maximum(tag, K), tag)."""
    r = body.results[k]
    op = defs.get(r.id)
    if op is None or op.prim.name != "maximum" or r.ndim != 0 or r.dtype.kind not in "iu" \
            or not (tag or init.is_const and np.asarray(init.const) >= 0) or len(uses[r.id]) != 1:
        return
    a, v = op.inputs
    if v.id == arg.id:
        a, v = v, a
    sel = defs.get(v.id)
    if a.id != arg.id or sel is None or sel.prim.name != "select":
        return
    high, low = (_const(x, defs) for x in sel.inputs[1:])
    if high is None or low is None or high.shape or low != 0 or high < 0:
        return
    at = body.ops.index(op)
    m = _op("maximum", [arg, sel.inputs[1] if sel.inputs[1].is_const else literal(high.astype(arg.dtype))],
            op.loc)
    choice = _op("select", [sel.inputs[0], m.out, arg], op.loc)
    body.ops[at + 1:at + 1] = [m, choice]
    body.results[k] = choice.out


def _make_cond(body: Block, c: Value, members: list, args: list[Value]) -> None:
    uses = use_map(body)
    selects = {id(sel) for _, sel, _, _ in members}
    sunk: dict[str, set[int]] = {"then": set(), "else": set()}
    for side in ("then", "else"):
        wanted = {new.id for _, _, new, s in members if s == side}
        moved = sunk[side]
        for op in reversed(body.ops):
            if id(op) in selects or not _movable(op):
                continue
            v = op.out
            readers = uses.get(v.id, [])
            if v.id in wanted and all(u.op is not None and id(u.op) in selects and not u.nested
                                      and _new_side_only(u.op, v, members, side) for u in readers):
                moved.add(id(op))
            elif readers and all(u.op is not None and not u.nested and id(u.op) in moved for u in readers):
                moved.add(id(op))
    blocks = {side: Block([], [op for op in body.ops if id(op) in sunk[side]], []) for side in ("then", "else")}
    outs = []
    for k, sel, new, side in members:
        carry = args[k]
        blocks["then"].results.append(new if side == "then" else carry)
        blocks["else"].results.append(new if side == "else" else carry)
        outs.append(Value(sel.out.dtype, ()))
    last = max(body.ops.index(sel) for _, sel, _, _ in members)
    cond = Op(prim("cond"), (c,), tuple(outs), {}, body.ops[last].loc, (blocks["then"], blocks["else"]))
    ops = []
    for i, op in enumerate(body.ops):
        if i == last:
            ops.append(cond)
        elif id(op) not in selects and id(op) not in sunk["then"] and id(op) not in sunk["else"]:
            ops.append(op)
    body.ops = ops
    for (k, _, _, _), out in zip(members, outs):
        body.results[k] = out


def _new_side_only(sel: Op, v: Value, members: list, side: str) -> bool:
    """Does select `sel` (a member) read v as the value its `side` yields, and nowhere else?"""
    for _, s, new, sd in members:
        if s is sel:
            return new.id == v.id and sd == side and sel.inputs[0].id != v.id
    return False


def _movable(op: Op) -> bool:
    return (len(op.outputs) == 1 and not op.blocks and op.out.ndim == 0 and is_pure(op)
            and not op.prim.may_raise and op.prim.name != "check")


def _op(name: str, inputs: list[Value], loc) -> Op:
    p = prim(name)
    ((dt, shape),) = p.abstract(*inputs)
    return Op(p, tuple(inputs), (Value(dt, tuple(shape)),), {}, loc)


__all__ = ["branch_carries"]
