"""If-conversion: a `cond` in a loop body whose branches are pure becomes
both branches followed by `select`s, so the body has no control flow left.

Invariant: a branch is converted only when running it unconditionally
cannot fail or have effects: no random draws, no nested loops, no gathers or
scatters, and every dynamic index is in bounds at every iteration, by the
ranges of the loop's index and of the loops around it (ir/ranges.py), so
the untaken branch never raises.
Writes of the same block in both branches merge into one write of a select.
An element read in a branch that may be out of bounds where the branch is
not taken (a stencil's `x[i + 1] if i < n - 1 else 0.0`) is first made one
that cannot fail: its index clamped into range, beside a check with NumPy's
IndexError for where it is out of range (masked by the branch's predicate
on conversion, as every check in a branch): the plain function raises
exactly where the branch runs and the index is out of range.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from looptrace.ir.affine import affine_values, same_starts
from looptrace.ir.builder import derived, rebuilt
from looptrace.ir.core import Block, Op, Value, literal
from looptrace.ir.primitive import monoids
from looptrace.ir.ranges import Ranges, loop_leaf
from looptrace.ir.rewrite import substitute
from looptrace.ir.uses import producers, used_values
from looptrace.ops.shape_arith import size_of

_UNSAFE = ("gather", "scatter", "dynamic_prefix")


def if_convert(loop: Op, n: int, start: int, step: int, outer: dict | None = None) -> None:
    """Convert every convertible cond of the body, innermost first (so
    `if ...: elif ...:` chains, nested in the else branch, convert too).
    `outer`: [lo, hi] of the indices of the loops around this one."""
    (body,) = loop.blocks
    carried = {v.id for v in (*body.args, *body.results)}
    aff = affine_values(body, start, step)
    _clamp_branch_reads(body, Ranges(loop_leaf(aff, n, outer or {})).learn_all(body), n)
    while True:
        aff = affine_values(body, start, step)
        ranges = Ranges(loop_leaf(aff, n, outer or {})).learn_all(body)
        target = _innermost(body, ranges, n, aff, carried)
        if target is None:
            return
        _convert(*target, aff, ranges, n, carried)


def _clamp_branch_reads(block: Block, ranges: Ranges, n: int, seen: dict | None = None) -> None:
    """Element reads in the branches of the block's conds (nested conds too,
    not nested loops) that may be out of bounds: a check of NumPy's
    IndexError (vectorize/dead_reads.py's), then the read at the index
    clamped into range. A read that repeats one made before the cond
    (`seen`: read key -> its value) is that value (`_reuse_reads`)."""
    from .dead_reads import _checkable, _slice_checks

    seen = dict(seen or {})
    made = {}
    for op in block.ops:
        if op.prim.name == "dynamic_slice":
            made[op.out.id] = op
        d = made.get(op.inputs[0].id) if op.prim.name == "reshape" and op.out.ndim == 0 else None
        if d is not None:
            seen.setdefault(_read_key(d, {}), op.out)
        if op.prim.name != "cond" or _masked_update(op, ranges, n) is not None:
            continue  # (`if ok: hist[b] += w` becomes a scatter-add with its own check)
        for blk in op.blocks:
            def unsafe(inner: Op) -> bool:
                return inner.prim.name == "dynamic_slice" and all(k == 1 for k in inner.attrs["sizes"]) \
                    and _checkable(inner) and not _safe(inner, ranges, n)

            _reuse_reads(blk, seen, unsafe)
            _clamp_branch_reads(blk, ranges, n, seen)
            ops: list[Op] = []
            for inner in blk.ops:
                if unsafe(inner):
                    b = derived(inner, ops)
                    _slice_checks(b, inner)
                    x, starts = inner.inputs[0], inner.inputs[1:]
                    clamped = [s if s.is_const else _clamp(b, s, int(x.shape[a])) for a, s in enumerate(starts)]
                    ops.append(rebuilt(inner, inputs=(x, *clamped)))
                else:
                    ops.append(inner)
            blk.ops = ops


def _read_key(op: Op, mapping: dict[int, Value]) -> tuple:
    """What a dynamic_slice reads: its array and starts (values by id, scalar
    constants by value, through `mapping`) and its sizes."""
    def key(v: Value):
        v = mapping.get(v.id, v)
        return ("const", v.const.item()) if v.is_const and v.ndim == 0 else v.id
    return (key(op.inputs[0]), *map(key, op.inputs[1:]), tuple(op.attrs["sizes"]))


def _reuse_reads(branch: Block, seen: dict, unsafe: Callable[[Op], bool]) -> None:
    """`if last[v] >= start: start = last[v] + 1`: the branch reads the
    element read before the cond (the same SSA array at the same starts,
    whose read already raised if it was out of bounds; `seen`: read key ->
    that element as a scalar), so it takes that scalar, and needs neither a
    second read nor a clamp and check to be converted
    (longest_distinct_window's scan: two checked reads of `last` a step,
    one so). Only reads that would be clamped (`unsafe`), and only as the
    scalar: a one-element array shared with a branch that stays a branch
    would be a view kept alive across its write (bellman_ford's `dist[b] =
    dist[a] + w[e]`: the whole array copied at each write)."""
    reads = {op.out.id: op for op in branch.ops if op.prim.name == "dynamic_slice" and unsafe(op)}
    mapping: dict[int, Value] = {}
    for op in branch.ops:
        d = reads.get(op.inputs[0].id) if op.prim.name == "reshape" and op.out.ndim == 0 else None
        prev = seen.get(_read_key(d, mapping)) if d is not None else None
        if prev is not None and prev.dtype == op.out.dtype:
            mapping[op.out.id] = prev
    if not mapping:
        return
    branch.ops = [op for op in branch.ops if not (len(op.outputs) == 1 and op.out.id in mapping)]
    substitute(branch, mapping)
    used = {v.id for v in used_values(branch.ops, branch.results)}
    branch.ops = [op for op in branch.ops if id(op) not in {id(r) for r in reads.values()} or op.out.id in used]


def _clamp(b, s: Value, dim: int) -> Value:
    """s into [-dim, dim - 1]: an element index NumPy accepts (a negative one counts from the end)."""
    s64 = s if s.dtype == np.int64 else b.op("convert", s, dtype=np.dtype(np.int64))
    return b.op("minimum", b.op("maximum", s64, literal(np.int64(-dim))), literal(np.int64(max(dim - 1, 0))))


def _innermost(block: Block, ranges: Ranges, n: int, aff: dict, carried: set[int]) -> tuple[Block, Op] | None:
    """(block, cond) for a convertible cond whose branches hold no cond; only
    conds are entered (a nested loop's conds are its own loop's business).
    `carried`: the ids of the loop's carries, as its body takes and yields them."""
    for op in block.ops:
        if op.prim.name != "cond":
            continue
        for sub in op.blocks:
            found = _innermost(sub, ranges, n, aff, carried)
            if found is not None:
                return found
        if _convertible(op, ranges, n, aff, carried) or _masked_update(op, ranges, n) is not None:
            return block, op
    return None


# A select of whole arrays per iteration costs the array's size each time; a
# branch that writes a carried array in several places would need one, so it
# stays a branch (in the scan) unless the array is this small.
SELECT_MAX_ELEMENTS = 64


def _convertible(op: Op, ranges: Ranges, n: int, aff: dict, carried: set[int]) -> bool:
    if not all(_safe(inner, ranges, n) for b in op.blocks for inner in b.ops):
        return False
    then, other = op.blocks
    defs = producers(then) | producers(other)
    return all(_merge_kind(a, b, defs, aff) != "select" or size_of(out.shape) <= SELECT_MAX_ELEMENTS
               or _fresh_elementwise(op, a, b, out, carried)
               for a, b, out in zip(then.results, other.results, op.outputs))


def _fresh_elementwise(cond: Op, a: Value, b: Value, out: Value, carried: set[int]) -> bool:
    """A select of a large value costs no more than its branches when the
    value is made afresh in each iteration (not a carry, taken or yielded)
    by elementwise work only: `if abs(z) < 1: X = -X` of npbench's
    contour_integral, which as a branch kept its loop a scan of (50, 150)
    copies, and batched is one select beside the negation."""
    if {a.id, b.id, out.id} & carried:
        return False
    return all(inner.prim.elementwise for blk in cond.blocks for inner in blk.ops)


def _safe(op: Op, ranges: Ranges, n: int) -> bool:
    if op.prim.name == "check":
        return True  # it runs masked by the branch's predicate (_masked_checks)
    if op.prim.effectful or op.prim.raises or op.prim.region or op.prim.name in _UNSAFE:
        return False
    if op.prim.name == "dynamic_slice":
        return _in_bounds(op.inputs[0], op.inputs[1:], op.attrs["sizes"], ranges, n)
    if op.prim.name == "dynamic_update_slice":
        x, upd, *starts = op.inputs
        return _in_bounds(x, starts, upd.shape[:len(starts)], ranges, n)
    # an op that tests its data (int() of a float, a solve) would raise in the branch not taken
    return not op.prim.may_raise


def reads_in_bounds(loop: Op, n: int, start: int, step: int, outer: dict | None = None,
                    before: list[Op] = ()) -> Callable[[Op], bool]:
    """A test of the loop body's ops: is it a dynamic slice (or update) whose
    starts are in bounds at every iteration, so that it cannot raise?
    `before`: ops of the block around the loop whose values it reads (an
    outer index plus one, hoisted), learned first."""
    (body,) = loop.blocks
    ranges = Ranges(loop_leaf(affine_values(body, start, step), n, outer or {}))
    for op in before:
        ranges.learn(op)
    ranges.learn_all(body)

    def test(op: Op) -> bool:
        if op.prim.name == "dynamic_slice":
            return _in_bounds(op.inputs[0], op.inputs[1:], op.attrs["sizes"], ranges, n)
        if op.prim.name == "dynamic_update_slice":
            x, upd, *starts = op.inputs
            return _in_bounds(x, starts, upd.shape[:len(starts)], ranges, n)
        return False

    return test


def _in_bounds(x: Value, starts, sizes, ranges: Ranges, n: int) -> bool:
    """Is every start in bounds at every iteration (a one-element start may
    count from the end, as NumPy's index does)?"""
    for axis, (s, size) in enumerate(zip(starts, sizes)):
        r = ranges.of(s)
        if r is None or not isinstance(x.shape[axis], int):
            return False
        dim = x.shape[axis]
        lo = -dim if size == 1 else 0
        if r[0] < lo or r[1] > dim - size:
            return False
    return True


def _convert(body: Block, cond: Op, aff: dict, ranges: Ranges, n: int, carried: set[int]) -> None:
    rmw = None if _convertible(cond, ranges, n, aff, carried) else _masked_update(cond, ranges, n)
    if rmw is not None:
        at = body.ops.index(cond)
        body.ops[at:at + 1] = _unconditional_update(cond, *rmw)
        return
    then, other = cond.blocks
    pred = cond.inputs[0]
    defs = producers(then) | producers(other)
    then_ops, other_ops, merges = list(then.ops), list(other.ops), []
    # a branch's write masked in place is made no more: where that branch runs, the masked
    # write's result is the value it made, so another result the branch yields it as reads that
    # (`acc = np.maximum(acc, A[i])` in one branch, `acc[0] -= 1` in the other)
    masked: dict[int, Value] = {}
    selects = []
    for a, b, out in zip(then.results, other.results, cond.outputs):
        kind = _merge_kind(a, b, defs, aff)
        if kind == "then":
            _mask_chain(then_ops, _write_chain(a, defs)[0], pred, out, cond, True, defs)
            masked[a.id] = out
        elif kind == "else":
            _mask_chain(other_ops, _write_chain(b, defs)[0], pred, out, cond, False, defs)
            masked[b.id] = out
        elif kind == "both":  # each branch's writes masked, the else branch's after the then branch's
            (chain_a, x), (chain_b, _) = _write_chain(a, defs), _write_chain(b, defs)
            mid = Value(out.dtype, tuple(out.shape))
            _mask_chain(then_ops, chain_a, pred, mid, cond, True, defs)
            for op in other_ops:  # (where the else branch runs, mid is x)
                if any(v.id == x.id for v in op.inputs):
                    op.inputs = tuple(mid if v.id == x.id else v for v in op.inputs)
            _mask_chain(other_ops, chain_b, pred, out, cond, False, defs)
            masked[a.id] = masked[b.id] = out
        else:
            selects.append((a, b, out))
    for a, b, out in selects:
        a, b = masked.get(a.id, a), masked.get(b.id, b)
        merges.extend(_merge(pred, a, b, out, defs, aff, cond))
    merged = [*_masked_checks(then_ops, pred, True, cond), *_masked_checks(other_ops, pred, False, cond), *merges]
    at = body.ops.index(cond)
    body.ops[at:at + 1] = merged


def _merge_kind(a: Value, b: Value, defs: dict, aff: dict) -> str:
    """How `a if pred else b` is made: "same", "merged" (one write each, same
    place), "then"/"else" (one side writes the other), or "select"."""
    wa, wb = defs.get(a.id), defs.get(b.id)
    if a.id == b.id:
        return "same"
    if _is_write(wa) and _is_write(wb) and wa.inputs[0].id == wb.inputs[0].id \
            and same_starts(wa.inputs[2:], wb.inputs[2:], aff) and wa.inputs[1].shape == wb.inputs[1].shape:
        return "merged"
    ca, cb = _write_chain(a, defs), _write_chain(b, defs)
    if ca is not None and ca[1].id == b.id:
        return "then"
    if cb is not None and cb[1].id == a.id:
        return "else"
    if ca is not None and cb is not None and ca[1].id == cb[1].id:
        return "both"
    return "select"


def _write_chain(a: Value, defs: dict) -> tuple[list[Op], Value] | None:
    """(the writes of a branch that make `a`, first to last; the array they
    start from): `a` = w_k(...w_1(x)), each a block of at most
    SELECT_MAX_ELEMENTS where there are several (nbody's acc[i, 0] += ...;
    acc[i, 1] += ...; acc[i, 2] += ...). None where `a` is no write."""
    chain: list[Op] = []
    v = a
    while _is_write(defs.get(v.id)):
        w = defs[v.id]
        chain.append(w)
        v = w.inputs[0]
    if not chain or (len(chain) > 1 and any(size_of(w.inputs[1].shape) > SELECT_MAX_ELEMENTS for w in chain)):
        return None
    return chain[::-1], v


def _merge(pred: Value, a: Value, b: Value, out: Value, defs: dict, aff: dict, cond: Op) -> list[Op]:
    """Ops that make `out` = a if pred else b."""
    wa, wb = defs.get(a.id), defs.get(b.id)
    kind = _merge_kind(a, b, defs, aff)
    assert kind not in ("then", "else", "both"), "a branch's writes are masked in place (_mask_chain)"
    if kind == "same":
        return [_op("reshape", (a,), out, cond, shape=tuple(out.shape))]
    if kind == "merged":
        return _merged_write(pred, wa.inputs[1], wb.inputs[1], wa, out, cond)
    return [_op("select", (pred, a, b), out, cond)]


def _mask_chain(ops: list[Op], chain: list[Op], pred: Value, out: Value, cond: Op, taken: bool,
                defs: dict) -> None:
    """Each write of a branch's chain, in its place among the branch's ops,
    writes the element it read where the branch is not taken; the branch's
    later reads of the array read the masked array, which is the branch's
    own where it is taken (elsewhere their values are selected away, or mask
    a check)."""
    renamed: dict[int, Value] = {}
    for k, w in enumerate(chain):
        step = out if k == len(chain) - 1 else Value(out.dtype, tuple(out.shape))
        x = renamed.get(w.inputs[0].id, w.inputs[0])
        at = ops.index(w)
        ops[at:at + 1] = _half_write(pred, Op(w.prim, (x, *w.inputs[1:]), w.outputs, w.attrs, w.loc), step, cond,
                                     taken=taken, defs=defs)
        renamed[w.out.id] = step
        for op in ops[at + 1:]:
            if any(v.id in renamed for v in op.inputs):
                op.inputs = tuple(renamed.get(v.id, v) for v in op.inputs)


def _is_write(op: Op | None) -> bool:
    return op is not None and op.prim.name == "dynamic_update_slice"


def _merged_write(pred, ua, ub, w: Op, out: Value, cond: Op) -> list[Op]:
    sel = Value(ua.dtype, tuple(ua.shape))
    return [_op("select", (pred, ua, ub), sel, cond),
            _op("dynamic_update_slice", (w.inputs[0], sel, *w.inputs[2:]), out, cond)]


def _half_write(pred, w: Op, out: Value, cond: Op, taken: bool, defs: dict | None = None) -> list[Op]:
    x, upd, *starts = w.inputs
    made = (defs or {}).get(upd.id)
    if made is not None and made.prim.name in ("reshape", "broadcast_to") and made.inputs[0].ndim == 0 \
            and pred.ndim == 0 and all(d == 1 for d in upd.shape):
        return _half_write_element(pred, w, made.inputs[0], out, cond, taken)
    old = Value(upd.dtype, tuple(upd.shape))
    read = _op("dynamic_slice", (x, *starts), old, cond, sizes=tuple(upd.shape[:len(starts)]))
    sel = Value(upd.dtype, tuple(upd.shape))
    pick = (pred, upd, old) if taken else (pred, old, upd)
    return [read, _op("select", pick, sel, cond),
            _op("dynamic_update_slice", (x, sel, *starts), out, cond)]


# --- a conditional read-modify-write at a data-dependent position ------------------------------
# `if ok: hist[b] += w` reads and writes hist[b] only when ok (b may be out of
# range otherwise). It becomes an unconditional update with the identity e of
# the combining op where ok is false, at a position that is always valid:
#     b' = b if ok else 0;   hist[b'] = hist[b'] (+) (w if ok else e)
# x (+) e == x bit for bit (masked.identity: -0.0 for a float sum), so a false
# ok leaves hist[0] as it was; a true ok does exactly what the branch did, and
# raises where it raised. The update is then a scatter-accumulation.
def _masked_update(cond: Op, ranges: Ranges, n: int):
    """(taken, read, combine, f, write, others) when one branch of `cond` is
    only an element read-modify-write of an outer array with a term computed
    safely, and the other yields that array unchanged; else None."""
    if len(cond.outputs) != 1:
        return None
    for taken, (branch, rest) in ((True, cond.blocks), (False, cond.blocks[::-1])):
        if len(branch.results) != 1 or len(rest.ops) or rest.results[0].id != _written_array(branch):
            continue
        found = _rmw(branch, ranges, n)
        if found is not None:
            return (taken, *found)
    return None


def _written_array(branch: Block) -> int | None:
    """The id of the array the branch's one result writes an element of."""
    if len(branch.results) != 1:
        return None
    w = producers(branch).get(branch.results[0].id)
    return w.inputs[0].id if w is not None and w.prim.name == "dynamic_update_slice" else None


def _rmw(branch: Block, ranges: Ranges, n: int):
    defs = producers(branch)
    write = defs.get(branch.results[0].id)
    x, upd, *starts = write.inputs
    # (a position the branch computes, `h[idx[i]] += x[i]` under `if x[i] > 0`, is computed whatever
    # the branch: its ops are among `others` below, each safe to run where the branch does not)
    if x.id in defs or any(s.ndim for s in starts) or upd.ndim != len(starts) \
            or any(d != 1 for d in upd.shape):
        return None
    new_op = defs.get(upd.id)
    if new_op is None or new_op.prim.name != "reshape":
        return None
    combine = defs.get(new_op.inputs[0].id)
    if combine is None or combine.prim.name not in monoids() or combine.out.shape != ():
        return None
    old_r = next((defs.get(v.id) for v in combine.inputs if defs.get(v.id) is not None
                  and defs[v.id].prim.name == "reshape"), None)
    read = defs.get(old_r.inputs[0].id) if old_r is not None else None
    if read is None or read.prim.name != "dynamic_slice" or read.inputs[0].id != x.id \
            or [v.id for v in read.inputs[1:]] != [v.id for v in starts]:
        return None
    f = next((v for v in combine.inputs if v.id != old_r.out.id), None) if len(combine.inputs) == 2 else None
    if f is None or f.dtype != combine.out.dtype or combine.out.dtype != x.dtype:
        return None
    rmw = {id(write), id(new_op), id(combine), id(old_r), id(read)}
    others = [op for op in branch.ops if id(op) not in rmw]
    # (an int() of a float, `h[min(int(v * 2), 3)] += 1`, runs masked: _masked_checks)
    if not all(_safe(op, ranges, n) or op.prim.name == "pyint" for op in others) \
            or _depends_on(others, {old_r.out.id, read.out.id}):
        return None
    if sum(1 for op in branch.ops for v in op.inputs if v.id == old_r.out.id) != 1:
        return None  # the old value feeds only the combine
    return read, combine, f, write, others


def _depends_on(ops: list[Op], ids: set[int]) -> bool:
    return any(v.id in ids for op in ops for v in op.inputs)


def _unconditional_update(cond: Op, taken: bool, read: Op, combine: Op, f: Value, write: Op,
                          others: list[Op]) -> list[Op]:
    from .masked import identity

    b = derived(cond)
    pred = cond.inputs[0]
    if not taken:
        pred = b.op("logical_not", pred)
    x = write.inputs[0]
    starts = [b.op("select", pred, s, literal(np.asarray(0, s.dtype))) for s in write.inputs[2:]]
    term = b.op("select", pred, f, literal(identity(combine.prim.name, f.dtype)))
    old = b.op("reshape", b.op("dynamic_slice", x, *starts, sizes=(1,) * len(starts)), shape=())
    new = b.op(combine.prim.name, *(old if v.id != f.id else term for v in combine.inputs))
    upd = b.op("reshape", new, shape=tuple(write.inputs[1].shape))
    b.op_into("dynamic_update_slice", (x, upd, *starts), (cond.out,))
    return [*_masked_checks(others, cond.inputs[0], taken, cond), *b.ops]


def _masked_checks(ops: list[Op], pred: Value, taken: bool, cond: Op) -> list[Op]:
    """A branch's run-time checks (a bound, math.sqrt's domain, a user's
    `raise`) run at their place in the body, failing only where the branch
    is taken: check(p, ...) -> check(pred & p, ...). nbody's `if i != j:
    ... math.sqrt(r2)` stayed a branch, its loop a scalar scan."""
    out: list[Op] = []
    for op in ops:
        if op.prim.name == "pyint":  # its failures where the branch is taken; a plain conversion elsewhere
            out.extend(_masked_pyint(op, pred, taken, cond))
            continue
        if op.prim.name != "check":
            out.append(op)
            continue
        b = derived(cond)
        where = pred if taken else b.op("logical_not", pred)
        k = len(op.attrs["failures"])
        flags = [b.op("logical_and", where, p) for p in op.inputs[:k]]
        b.ops.append(Op(op.prim, (*flags, *op.inputs[k:]), op.outputs, dict(op.attrs), op.loc, op.blocks))
        out.extend(b.ops)
    return out


def _masked_pyint(op: Op, pred: Value, taken: bool, cond: Op) -> list[Op]:
    """int(x) of a float in a branch made unconditional: the test of its
    failures (NaN, an infinity, past int64: ops/elementwise.py `pyint`)
    only where the branch is taken, then x converted where it fits (0 where
    it does not: that value is never used, the branch not being taken)."""
    b = derived(cond)
    x = op.inputs[0]
    where = pred if taken else b.op("logical_not", pred)
    limit = literal(np.asarray(2.0**63, x.dtype))
    big = b.op("logical_or", b.op("greater_equal", x, limit), b.op("less", x, b.op("negative", limit)))
    nan, inf = b.op("isnan", x), b.op("isinf", x)
    bad = b.op("logical_or", b.op("logical_or", nan, inf), big)
    b.op("check", *(b.op("logical_and", where, p) for p in (nan, inf, big)), failures=op.attrs["failures"])
    safe = b.op("select", bad, literal(np.zeros((), x.dtype)), x)
    b.op_into("convert", (safe,), op.outputs, dtype=np.dtype(np.int64))
    return b.ops


def _half_write_element(pred, w: Op, value: Value, out: Value, cond: Op, taken: bool) -> list[Op]:
    """One element written under a condition: the select is of scalars (the
    element read and the value), then reshaped into the write, so the scan
    makes no one-element arrays per iteration."""
    x, upd, *starts = w.inputs
    b = derived(cond)
    old = b.op("reshape", b.op("dynamic_slice", x, *starts, sizes=tuple(upd.shape[:len(starts)])), shape=())
    if value.dtype != old.dtype:
        value = b.op("convert", value, dtype=old.dtype)
    sel = b.op("select", pred, value, old) if taken else b.op("select", pred, old, value)
    b.op_into("dynamic_update_slice", (x, b.op("reshape", sel, shape=tuple(upd.shape)), *starts), (out,))
    return b.ops


def _op(name: str, inputs: tuple, out: Value, cond: Op, **attrs) -> Op:
    return derived(cond).op_into(name, tuple(inputs), (out,), **attrs)
