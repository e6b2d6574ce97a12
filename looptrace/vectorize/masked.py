"""Conditional accumulation as a masked reduction.

After if-conversion, `if c[i]: acc += v[i]` is `acc' = select(p, acc + v, acc)`,
which reads acc twice and so is not a reduction. The identity of the monoid
makes it one, exactly:

    select(p, acc (+) f, acc) -> acc (+) select(p, f, e)
    select(p, acc, acc (+) f) -> acc (+) select(p, e, f)
    select(p, acc (+) f, acc (+) g) -> acc (+) select(p, f, g)

with e the identity of (+) in f's dtype (-0.0 for a float sum, so that
x + e == x bit for bit, signed zeros included; 1 for products; -inf/+inf or
the integer extremes for max/min; True/False for and/or). The classifier then
sees acc (+) term with a term that does not read acc: a reduction over the
masked terms. When the mask (or f) reads acc the rewrite is still exact and
the carry stays a recurrence. `acc -= f` is first written acc + (-f).

Invariant: only selects whose kept side is a carried argument of the loop
body are rewritten, and only when the new op has the carry's shape and dtype.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.builder import derived, rebuilt
from looptrace.ir.core import Block, Op, Value, literal
from looptrace.ir.primitive import monoids
from looptrace.ir.rewrite import substitute
from looptrace.ir.uses import producers, result_uses, users
from looptrace.ops.shape_arith import broadcast_shapes


def identity(monoid: str, dtype: np.dtype) -> np.ndarray:
    """The e with x (+) e == x for every x of `dtype` (NaN and signed zeros included)."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.asarray(monoid in ("multiply", "minimum", "logical_and"), dt)
    if monoid in ("add", "logical_or"):
        return np.asarray(complex(-0.0, -0.0) if dt.kind == "c" else (-0.0 if dt.kind == "f" else 0), dt)
    if monoid in ("multiply", "logical_and"):
        return np.asarray(1, dt)
    low = monoid == "maximum"
    if dt.kind == "f":
        return np.asarray(-np.inf if low else np.inf, dt)
    info = np.iinfo(dt)
    return np.asarray(info.min if low else info.max, dt)


def mask_accumulations(body: Block, payloads: bool = True) -> int:
    """Rewrite the conditional updates of carried values (to a fixed point:
    an `elif` chain nests one select in another); returns how many.
    `payloads`: a running extreme whose comparison feeds payloads may be
    rewritten (the loop is nested: batched over the loops around it, its
    argmax is a reduction per row; on its own the passes of the reduction,
    its comparison and its argmax cost more than the scan: peak_with_index
    over 2*10^6 samples 5.70 ms against 2.14 as a scan)."""
    carried = {v.id for v in body.args[1:]}
    _select_views(body, carried)
    _negate_subtractions(body, _views(body, carried))
    count = 0
    while True:
        defs, uses = producers(body), users(body)
        views = _views(body, carried)
        for op in body.ops:
            new = None
            if op.prim.name == "select":
                new = _masked(op, views, defs, uses) or _flag(op, carried) or \
                    _running_extreme(op, carried, defs, uses, payloads)
            if new is not None:
                i = body.ops.index(op)
                body.ops[i:i + 1] = new
                count += 1
                break
        else:
            return count


def _views(body: Block, carried: set[int]) -> set[int]:
    """The carried values and their reshapes (a row carried as (1, n) that a
    nested loop's rewrite updates as (n,)): acc (+) f on either is a fold."""
    views = set(carried)
    for op in body.ops:
        if op.prim.name == "reshape" and op.inputs[0].id in views:
            views.add(op.out.id)
    return views


def _select_views(body: Block, carried: set[int]) -> None:
    """select(p, reshape(u), acc) -> reshape(select(p, u, reshape(acc))) for a
    carried acc and a 0-d p (either side), then reshapes of a carried value
    to one shape made once: `if c[j]: out[i, :] += v[j]` carried as a (1, n)
    row and updated as (n,) reads select(p, r + f, r), one r = reshape(acc),
    which `_masked` makes a sum. (The same elements in the same order:
    exact.)"""
    _merge_views(body, carried)
    defs = producers(body)
    for sel in [op for op in body.ops if op.prim.name == "select"]:
        pred, a, b = sel.inputs
        if pred.shape != () or not (tuple(a.shape) == tuple(b.shape) == tuple(sel.out.shape)):
            continue
        for acc, other in ((b, a), (a, b)):
            r = defs.get(other.id)
            if acc.id not in carried or r is None or r.prim.name != "reshape" or r.inputs[0].dtype != acc.dtype:
                continue
            u = r.inputs[0]
            if not _folds_view_of(u, acc, defs):
                continue  # (best = x[i] under `if x[i] > best` is a running extreme's, as it is)
            bld = derived(sel)
            view = bld.op("reshape", acc, shape=tuple(u.shape))
            picked = bld.op("select", pred, *((u, view) if other is a else (view, u)))
            bld.op_into("reshape", (picked,), (sel.out,), shape=tuple(sel.out.shape))
            at = body.ops.index(sel)
            body.ops[at:at + 1] = bld.ops
            if not users(body).get(other.id) and not result_uses(body, other):
                body.ops.remove(r)  # (else u has a second reader, and acc (+) f must be read once)
            break
    _merge_views(body, carried)


def _folds_view_of(u: Value, acc: Value, defs: dict) -> bool:
    """Is u = reshape(acc) (+) f (reshapes of acc, either side)?"""
    upd = defs.get(u.id)
    if upd is None or upd.prim.name not in monoids() or len(upd.inputs) != 2:
        return False
    for x in upd.inputs:
        while x.id != acc.id and defs.get(x.id) is not None and defs[x.id].prim.name == "reshape":
            x = defs[x.id].inputs[0]
        if x.id == acc.id:
            return True
    return False


def _merge_views(body: Block, carried: set[int]) -> None:
    """reshape(acc) to one shape made twice -> made once (the first; a carried
    acc is defined before every op of the body)."""
    first: dict[tuple, Value] = {}
    mapping: dict[int, Value] = {}
    for op in body.ops:
        if op.prim.name == "reshape" and op.inputs[0].id in carried:
            key = (op.inputs[0].id, tuple(op.out.shape))
            if key in first:
                mapping[op.out.id] = first[key]
            else:
                first[key] = op.out
    if mapping:
        body.ops = [op for op in body.ops if not (op.prim.name == "reshape" and op.out.id in mapping)]
        substitute(body, mapping)


def _negate_subtractions(body: Block, carried: set[int]) -> None:
    """acc - f -> acc + (-f) for a carried acc (IEEE defines x - y as x + (-y);
    two's complement wraps alike; unsigned integers are left alone): `acc -= v[i]`
    is then a sum like `acc += v[i]`."""
    for op in list(body.ops):
        acc = op.inputs[0] if op.prim.name == "subtract" else None
        if acc is None or acc.id not in carried or acc.dtype.kind not in "fci" or op.out.dtype != acc.dtype:
            continue
        f = op.inputs[1]
        neg = Value(f.dtype, tuple(f.shape))
        i = body.ops.index(op)
        b = derived(op)
        b.op_into("negative", (f,), (neg,))
        b.op_into("add", (acc, neg), (op.out,))
        body.ops[i:i + 1] = b.ops


def _monoid_of(v: Value, acc: Value, defs: dict, uses: dict) -> tuple[Op, Value] | None:
    """(op, f) when v = acc (+) f, computed only for this select."""
    upd = defs.get(v.id)
    if upd is None or upd.prim.name not in monoids() or len(uses.get(v.id, ())) != 1:
        return None
    x, y = upd.inputs
    f = y if x.id == acc.id else x if y.id == acc.id else None
    if f is None or f.dtype != acc.dtype or upd.out.dtype != acc.dtype:
        return None
    return upd, f


def _masked(sel: Op, carried: set[int], defs: dict, uses: dict) -> list[Op] | None:
    pred, a, b = sel.inputs
    candidates = [a, b] + [x for v in (a, b) if defs.get(v.id) is not None for x in defs[v.id].inputs]
    for acc in dict.fromkeys(x for x in candidates if x.id in carried):
        if tuple(sel.out.shape) != tuple(acc.shape):
            continue
        side_a = None if a.id == acc.id else _monoid_of(a, acc, defs, uses)
        side_b = None if b.id == acc.id else _monoid_of(b, acc, defs, uses)
        if (side_a is None and a.id != acc.id) or (side_b is None and b.id != acc.id):
            continue
        ups = [s for s in (side_a, side_b) if s is not None]
        if not ups or len({u.prim.name for u, _ in ups}) != 1:
            continue
        monoid = ups[0][0]
        e = literal(identity(monoid.prim.name, acc.dtype))
        fa, fb = (side_a[1] if side_a else e), (side_b[1] if side_b else e)
        if broadcast_shapes(tuple(acc.shape), tuple(pred.shape), tuple(fa.shape), tuple(fb.shape)) != \
                tuple(acc.shape):
            continue
        return _rewrite(sel, monoid, acc, fa, fb)
    return None


def _flag(sel: Op, carried: set[int]) -> list[Op] | None:
    """A bool carry set to a constant under a condition (`if not m[i]: ok =
    False`, `if x[i] < 0: seen = True`): select(p, False, acc) is acc and not p,
    select(p, True, acc) acc or p (the kept side on the other branch: acc and p,
    acc or not p). Exact, and a reduction (all, any) where p does not read acc
    (probe O's 3x3 erosion ran as a scan per pixel, 2.1 ms against njit's 0.044)."""
    pred, a, b = sel.inputs
    for acc, k, kept_on_then in ((b, a, False), (a, b, True)):
        if acc.id not in carried or acc.dtype != np.bool_ or not k.is_const or k.shape != () \
                or k.dtype != np.bool_ or tuple(sel.out.shape) != tuple(acc.shape) or pred.dtype != np.bool_:
            continue
        if broadcast_shapes(tuple(acc.shape), tuple(pred.shape)) != tuple(acc.shape):
            continue
        value = bool(np.asarray(k.const))
        # acc and not p | acc or p | acc and p | acc or not p
        negate = value == kept_on_then
        b_ = derived(sel)
        term = pred
        if negate:
            term = Value(pred.dtype, tuple(pred.shape))
            b_.op_into("logical_not", (pred,), (term,))
        b_.op_into("logical_or" if value else "logical_and", (acc, term), (sel.out,))
        return b_.ops
    return None


# the terms the rewrite made of an `if` (explain says so: `is_conditional_term`); ids of values
# live while their loop is vectorized
_MASKED_TERMS: set[int] = set()


def _rewrite(sel: Op, upd: Op, acc: Value, fa: Value, fb: Value) -> list[Op]:
    """acc (+) select(p, fa, fb): the update's op, now folding the selected term."""
    pred = sel.inputs[0]
    term = Value(acc.dtype, broadcast_shapes(tuple(pred.shape), tuple(fa.shape), tuple(fb.shape)))
    if len(_MASKED_TERMS) > 100_000:
        _MASKED_TERMS.clear()
    _MASKED_TERMS.add(term.id)
    masked = derived(sel).op_into("select", (pred, fa, fb), (term,))
    fold = rebuilt(upd, inputs=(acc, term), outputs=(sel.out,), attrs=upd.attrs)
    return [masked, fold]


# --- a running maximum written as a comparison -------------------------------------------
# `if v > best: best = v` is select(v > best, v, best): a maximum, but for NaN,
# which the comparison skips (v > best is False for a NaN v) and np.maximum
# propagates. With a NaN v replaced by the identity (-inf), every case agrees:
#     select(v > acc, v, acc) == maximum(acc, select(isnan(v), -inf, v))
# (a NaN acc stays NaN on both sides: nothing compares greater than it; equal
# values keep acc's, but for the sign of a zero, which np.maximum may take from
# either). `>=` chooses the same value; `acc < v` is `v > acc`; `<`, `<=` make a
# minimum. A condition around it, `if c[i] and v > best`, masks the term:
#     select(q & (v > acc), v, acc) == maximum(acc, select(q & ~isnan(v), v, -inf))
_EXTREMES = {("greater", 0): "maximum", ("greater_equal", 0): "maximum", ("less", 1): "maximum",
             ("less_equal", 1): "maximum", ("less", 0): "minimum", ("less_equal", 0): "minimum",
             ("greater", 1): "minimum", ("greater_equal", 1): "minimum"}


def _running_extreme(sel: Op, carried: set[int], defs: dict, uses: dict, payloads: bool = True) -> list[Op] | None:
    """The rewrite where it makes a reduction: acc read by nothing but its
    comparison and select, its new value by nothing in the body (a running
    peak read by the step is a scan), v computed without the loop's carried values (else
    the loop stays a scan, and a NaN-aware maximum is slower on its chain
    than the compare and select: max_drawdown 0.34 -> 0.84 ms)."""
    pred, v, acc = sel.inputs
    if acc.id not in carried or v.id == acc.id or v.dtype != acc.dtype or sel.out.dtype != acc.dtype \
            or tuple(sel.out.shape) != tuple(acc.shape) or acc.dtype.kind not in "iuf":
        return None
    cmp, guard = defs.get(pred.id), None
    sides = _conjunction(cmp)
    if sides is not None:
        for k in (0, 1):
            inner = defs.get(sides[k].id)
            if inner is not None and (inner.prim.name, 0) in _EXTREMES and \
                    any(x.id == acc.id for x in inner.inputs):
                cmp, guard = inner, sides[1 - k]
                break
    if cmp is None or len(cmp.inputs) != 2:
        return None
    x, y = cmp.inputs
    if y.id == acc.id and _same(x, v, defs):
        monoid = _EXTREMES.get((cmp.prim.name, 0))
    elif x.id == acc.id and _same(y, v, defs):
        monoid = _EXTREMES.get((cmp.prim.name, 1))
    else:
        return None
    if monoid is None or broadcast_shapes(tuple(acc.shape), tuple(v.shape), tuple(pred.shape)) != \
            tuple(acc.shape):
        return None
    if any(u is not sel and u is not cmp for u in uses.get(acc.id, ())) or uses.get(sel.out.id) \
            or _reads_carried(v, carried, defs) \
            or guard is not None and _reads_carried(guard, carried, defs):
        return None
    if guard is not None and any(pred.id not in {o.id for o in u.outputs} for u in uses.get(cmp.out.id, ())):
        return None
    readers = pred_readers(pred, sel, carried, defs, uses)
    if readers is None or not payloads and readers.ops():
        return None  # the comparison feeds something else: the loop stays a scan, on compare and select
    b = derived(sel)
    keep = None
    if acc.dtype.kind == "f":
        keep = b.op("logical_not", b.op("isnan", v))
    if guard is not None:
        keep = guard if keep is None else b.op("logical_and", guard, keep)
    term = v
    if keep is not None:
        e = literal(identity(monoid, acc.dtype))
        term = b.op("select", keep, v, e)
    if tuple(term.shape) != tuple(acc.shape):
        term = b.op("broadcast_to", term, shape=tuple(acc.shape))
    # np.maximum(a, b) gives b of equal values (+0.0, -0.0): acc stays where v does not beat it
    # strictly, v takes over where it may equal it (`>=`), as the select did
    strict = cmp.prim.name in ("greater", "less")
    b.op_into(monoid, (term, acc) if strict else (acc, term), (sel.out,))
    return b.ops


def _reads_carried(v: Value, carried: set[int], defs: dict) -> bool:
    seen, stack = set(), [v]
    while stack:
        x = stack.pop()
        if x.id in carried:
            return True
        if x.id in seen:
            continue
        seen.add(x.id)
        op = defs.get(x.id)
        if op is not None:
            stack.extend(op.inputs)
    return False


def _conjunction(op: Op | None) -> tuple[Value, Value] | None:
    """(q, c) where op computes q and c: logical_and(q, c), or the select a
    traced `q and c` makes, select(q, c, q) or select(q, c, False)."""
    if op is None:
        return None
    if op.prim.name == "logical_and":
        return op.inputs[0], op.inputs[1]
    if op.prim.name == "select" and op.out.dtype == np.bool_:
        q, c, other = op.inputs
        if other.id == q.id or other.is_const and not np.any(other.const):
            return q, c
    return None


def _same(a: Value, b: Value, defs: dict, depth: int = 4) -> bool:
    """Do a and b hold the same values: one value, equal constants, or the
    same pure op of the same inputs (`A[i] > best` and `A[i]` read twice)?"""
    if a.id == b.id:
        return True
    if a.is_const or b.is_const:
        return a.is_const and b.is_const and a.dtype == b.dtype and np.array_equal(a.const, b.const)
    pa, pb = defs.get(a.id), defs.get(b.id)
    if depth == 0 or pa is None or pb is None or pa.prim is not pb.prim or pa.blocks or pb.blocks \
            or pa.prim.effectful or len(pa.outputs) != 1 or len(pb.outputs) != 1 \
            or len(pa.inputs) != len(pb.inputs) or a.dtype != b.dtype or tuple(a.shape) != tuple(b.shape):
        return False
    if repr(sorted(pa.attrs.items())) != repr(sorted(pb.attrs.items())):
        return False
    return all(_same(x, y, defs, depth - 1) for x, y in zip(pa.inputs, pb.inputs))


def is_conditional_term(v: Value, defs: dict) -> bool:
    """Is v the term of a conditional accumulation the rewrite made of an
    `if` (not any select: a running maximum's NaN mask, `np.array([a, b])`
    of scalars, `max(m, v)`, are not conditional accumulations)?"""
    op = defs.get(v.id)
    return op is not None and op.prim.name == "select" and v.id in _MASKED_TERMS


# --- what a running extreme's comparison feeds -------------------------------------------
# `if v > best: best = v; bi = i` reads the comparison for the payload `bi`
# too; a Python-number `best = -np.inf` carries a type tag folded from it. The
# classifier (analysis._extremes) makes these readers of the comparison sinks
# of the loop: the payload is taken at the index where the extreme is reached,
# the tag from whether any (or not every) iteration set a new extreme.
_IDEMPOTENT = ("maximum", "minimum", "logical_or", "logical_and")


class Readers:
    """The ops reading a running extreme's comparison `pred` (but its select):
    `payloads` select(pred, P, b) of a carried b read by nothing else, P free
    of carried values; `folds` b (+) g(pred) of a carried b with (+) idempotent;
    `inner` the pure ops between pred and a fold's term, reading nothing but
    pred's values and loop invariants."""

    def __init__(self) -> None:
        self.payloads: list[Op] = []
        self.folds: list[Op] = []
        self.inner: list[Op] = []

    def ops(self) -> list[Op]:
        return self.payloads + self.folds + self.inner


def pred_readers(pred: Value, skip: Op | None, carried: set[int], defs: dict, uses: dict) -> Readers | None:
    r = Readers()
    derived_ids, stack, seen = {pred.id}, [pred], set()
    while stack:
        x = stack.pop()
        for u in uses.get(x.id, ()):
            if u is skip or id(u) in seen:
                continue
            seen.add(id(u))
            if u.blocks or u.prim.effectful or len(u.outputs) != 1:
                return None
            ins = u.inputs
            if u.prim.name == "select" and ins[0].id == pred.id and ins[2].id in carried \
                    and ins[1].id not in derived_ids and not _reads_carried(ins[1], carried, defs) \
                    and len(uses.get(ins[2].id, ())) == 1 and not uses.get(u.out.id) \
                    and u.out.dtype == ins[2].dtype and tuple(u.out.shape) == tuple(ins[2].shape):
                r.payloads.append(u)
                continue
            accs = [v for v in ins if v.id in carried]
            if u.prim.name in _IDEMPOTENT and len(accs) == 1 and len(ins) == 2 and not uses.get(u.out.id) \
                    and len(uses.get(accs[0].id, ())) == 1 and u.out.dtype == accs[0].dtype \
                    and tuple(u.out.shape) == tuple(accs[0].shape) == () \
                    and all(v.id in derived_ids for v in ins if v.id != accs[0].id):
                r.folds.append(u)
                continue
            if accs or any(v.id not in derived_ids and not v.is_const and v.id in defs for v in ins):
                return None
            r.inner.append(u)
            derived_ids.add(u.out.id)
            stack.append(u.out)
    return r
