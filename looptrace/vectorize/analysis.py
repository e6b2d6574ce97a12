"""Dependence analysis of one for_loop body (its uses and affine indices come
from ir/uses.py and ir/affine.py).

Invariant: `classify_carries` gives each
carried value exactly one kind:
  "pass"       the body yields the argument unchanged;
  "last"       the argument is never read: the final value is the last update;
  "rng"        a generator token that one draw per iteration advances;
  "map"        an indexed write at a position injective in k (static bounds),
               read only at that same position (so it reads the initial value);
  "reduction"  c = c (+) f(k), c used nowhere else (reshapes allowed around it);
               a running max/min may also be read by the comparisons of
               its payloads (Extreme);
  "argext"     a payload of a running max/min, `if v > best: best = v; bi = P`:
               P where the extreme is reached (the first index for `>`, the
               last for `>=`);
  "argany"     an idempotent fold of a function of such a comparison (the
               type tag of `best = -np.inf`): from whether any iteration, and
               whether every one, set a new extreme;
  "rec"        anything else that reads the previous value (a recurrence).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from looptrace.ir.affine import affine_values, const_int, same_index
from looptrace.ir.core import RNG, Op, Value, walk
from looptrace.ir.primitive import monoids, reducer_of
from looptrace.ir.uses import operands, producers, result_uses, users


@dataclass
class Carry:
    """One carried value of a loop and what the analysis made of it."""

    index: int
    arg: Value
    init: Value
    result: Value
    out: Value
    kind: str = "rec"
    write: Op | None = None  # map: the dynamic_update_slice
    axis: int = 0  # map: the axis the index walks
    reads: list = field(default_factory=list)  # map: reads at the write position
    monoid: str = ""  # reduction
    terms: list = field(default_factory=list)  # reduction: the f(k) values
    chain: list = field(default_factory=list)  # reduction: ops of c (+) f
    inner: Value | None = None  # reduction: the carry leaf seen through reshapes
    draw: Op | None = None  # rng: the one draw per iteration
    why: str = ""  # rec: what made it a recurrence
    extreme: "Extreme | None" = None  # argext / argany: the running extreme whose comparison it reads


@dataclass(eq=False)
class Extreme:
    """A running max/min `best` whose comparison `cmp(v, best)` feeds payloads
    and folds (masked.pred_readers): `term` is best's term (v, or v with the
    masked iterations at the identity), `keep` where it is v (None: always),
    `strict` for `>`/`<` (the first index reaching the extreme wins) against
    `>=`/`<=` (the last), `pred` the condition the readers read (the
    comparison, or `guard and comparison`)."""

    best: Carry
    monoid: str
    term: Value
    keep: Value | None
    strict: bool
    pred: Value
    sinks: list = field(default_factory=list)  # the comparison, the conjunction, the readers
    members: list = field(default_factory=list)  # the payload and fold carries


















class LoopFacts:
    """What the classifier needs to know about one loop body."""

    def __init__(self, op: Op, n: int | None, start: int, step: int):
        self.op = op
        (self.body,) = op.blocks
        self.n, self.start, self.step = n, start, step
        self.refresh()

    def refresh(self) -> None:
        self.users = users(self.body)
        self.defs = producers(self.body)
        self.aff = affine_values(self.body, self.start, self.step)

    def invariant(self, v: Value) -> bool:
        return v.is_const or v.id not in self.defs

    def n_uses(self, v: Value) -> int:
        return len(self.users.get(v.id, ())) + result_uses(self.body, v)


# --- the classifier -----------------------------------------------------------------------
def classify_carries(facts: LoopFacts, carries: list[Carry]) -> None:
    facts.extreme_reads = {}
    extremes = _extremes(facts, carries)
    for c in carries:
        c.kind = _classify(facts, c)
    for g in extremes:
        if g.best.kind != "reduction" or g.best.monoid != g.monoid:
            settle_extreme(g, "its running extreme is a recurrence")


def settle_extreme(g: "Extreme", why: str) -> None:
    """The extreme and its readers stay in the loop, all of them."""
    for m in [g.best, *g.members]:
        if m.kind != "rec":
            m.kind, m.why = "rec", why
        m.extreme = None


def _classify(facts: LoopFacts, c: Carry) -> str:
    if c.result.id == c.arg.id:
        return "pass"
    if c.extreme is not None:
        return "argext" if facts.defs[c.result.id].prim.name == "select" else "argany"
    if facts.n_uses(c.arg) == 0:
        return "last"
    if c.arg.dtype == RNG:
        printed = print_site(facts, c)
        if printed is not None:  # the print token (ops/io.py): the prints run in the loop, in order
            return _rec(c, f"at line {printed.line} keeps the iterations in order")
        return "rng" if _is_rng_stream(facts, c) else _rec(c, "a generator drawn from more than once per iteration")
    if facts.n is not None and _is_map(facts, c):
        return "map"
    if _is_reduction(facts, c):
        return "reduction"
    if facts.n is not None and _is_scatter_add(facts, c):
        return "scatter"
    return _rec(c, c.why or "reads its previous value")


def _is_scatter_add(facts: LoopFacts, c: Carry) -> bool:
    """c[g(k)] += f(k) with a data-dependent row g(k): one scatter-add."""
    w = facts.defs.get(c.result.id)
    if w is None or w.prim.name != "dynamic_update_slice" or w.inputs[0].id != c.arg.id:
        return False
    upd, starts = w.inputs[1], w.inputs[2:]
    if len(starts) != 1 or upd.shape[0] != 1 or facts.n_uses(c.result) != 1 or result_uses(facts.body, c.arg):
        return False
    reads = [u for u in facts.users.get(c.arg.id, []) if u is not w]
    from .masked import _same

    if len(reads) != 1 or reads[0].prim.name != "dynamic_slice" \
            or not _same(reads[0].inputs[1], starts[0], facts.defs) \
            or facts.n_uses(reads[0].out) != 1 or _depends_on(facts, starts[0], c.arg):
        return False
    probe = Carry(c.index, reads[0].out, c.init, upd, c.out)
    if not _is_reduction(facts, probe) or probe.monoid != "add":
        return False
    c.write, c.reads, c.monoid, c.terms, c.inner = w, reads, "add", probe.terms, probe.inner
    c.chain = [w, reads[0], *probe.chain]
    return True


def _rec(c: Carry, why: str) -> str:
    c.why = why
    return "rec"


def print_site(facts: LoopFacts, c: Carry) -> Any:
    """The source line of the first print() of a carried token that prints, else None."""
    for u in facts.users.get(c.arg.id, []):
        for o in [u, *(x for b in u.blocks for x in walk(b))]:
            if o.prim.name == "print":
                return o.loc
    return None


def _is_rng_stream(facts: LoopFacts, c: Carry) -> bool:
    us = facts.users.get(c.arg.id, [])
    if len(us) != 1 or not us[0].prim.effectful or result_uses(facts.body, c.arg):
        return False
    draw = us[0]
    tok = draw.outputs[0]
    if tok.id != c.result.id or facts.users.get(tok.id) or result_uses(facts.body, tok) != 1:
        return False
    c.draw = draw
    return True


def _is_map(facts: LoopFacts, c: Carry) -> bool:
    w = facts.defs.get(c.result.id)
    if w is None or w.prim.name != "dynamic_update_slice" or w.inputs[0].id != c.arg.id:
        return False
    if facts.n_uses(c.result) != 1 or result_uses(facts.body, c.arg):
        return False
    upd, starts = w.inputs[1], w.inputs[2:]
    walking = [ax for ax, s in enumerate(starts) if s.id in facts.aff and facts.aff[s.id][0] != 0]
    others_ok = all(facts.invariant(s) for ax, s in enumerate(starts) if ax not in walking)
    if len(walking) != 1 or not others_ok:
        return False
    ax = walking[0]
    if not _injective_in_bounds(facts, w, ax):
        return False
    reads = []
    for u in facts.users.get(c.arg.id, []):
        if u is w:
            continue
        ok = (u.prim.name == "dynamic_slice" and u.inputs[0].id == c.arg.id
              and (_within(facts, u.inputs[1:], u.attrs["sizes"], starts, upd.shape[:len(starts)])
                   or _not_yet_written(facts, u, w, ax)))
        if not ok:
            c.why = _taps_reason(facts, w, ax, u)
            return False
        reads.append(u)
    c.write, c.axis, c.reads = w, ax, reads
    return True


def _within(facts: LoopFacts, rstarts, rsizes, wstarts, wsizes) -> bool:
    """Is the block read inside the block written, at every iteration? (The
    same start and no longer on an axis, or constant starts inside it:
    acc[i, 0] read beside the write of the row acc[i, 0:3].) Such a read of
    a map's buffer reads what the iteration's own write replaces."""
    if len(rstarts) != len(wstarts):
        return False
    for rs, rz, ws, wz in zip(rstarts, rsizes, wstarts, wsizes):
        if same_index(rs, ws, facts.aff):
            if rz > wz:
                return False
            continue
        cr, cw = const_int(rs), const_int(ws)
        if cr is None or cw is None or cr < 0 or cw < 0 or not (cw <= cr and cr + rz <= cw + wz):
            return False
    return True


def _not_yet_written(facts: LoopFacts, read: Op, w: Op, ax: int) -> bool:
    """Does the element read lie where no earlier iteration writes? Then,
    as the read of the carried buffer is of the state before this
    iteration's write, it reads the initial value (a read ahead of the
    write, `x[i] = x[i + 1] - x[i]`; another column, `A[i, j] += A[i, j - 1]`
    in the loop over i): a map, not a recurrence. Element reads only, the
    write one element wide along its walking axis."""
    starts_r, starts_w = read.inputs[1:], w.inputs[2:]
    sizes_r = tuple(read.attrs["sizes"])
    sizes_w = w.inputs[1].shape[:len(starts_w)]
    if sizes_w[ax] != 1:
        return False
    for j, (rs, ws) in enumerate(zip(starts_r, starts_w)):
        if j == ax or sizes_r[j] != 1:
            continue
        e, dim = _offset(facts, rs, ws), read.inputs[0].shape[j]
        # (the write's start on axis j is the same every iteration; a read before it, e < 0,
        # counts from the end where the start is small: e % dim is where it lands then)
        if e is not None and isinstance(dim, int) and dim > 0 and e % dim >= sizes_w[j] and e < dim:
            return True  # outside every write along axis j (the row before the one the loop writes)
    if ax >= len(starts_r) or sizes_r[ax] != 1:
        return False
    # (a read wider than one element on another axis, a row `B[i, :-1]` beside the write of
    # `B[i, 1:]`: only the walking axis tells iterations apart)
    a, b = facts.aff[starts_w[ax].id]
    fr = facts.aff.get(starts_r[ax].id)
    if fr is None or fr[0] != a or a == 0 or not _same_side(facts, a, b, fr[1]):
        return False  # (a negative index counts from the end: another position)
    d = fr[1] - b
    return d % a != 0 or d // a >= 0  # never written, or written by this iteration or a later one


def _same_side(facts: LoopFacts, a: int, bw: int, br: int) -> bool:
    """Are the written positions a*k + bw and the read ones a*k + br, over
    every iteration k, all >= 0 or all < 0? Only then is the offset between
    them the offset between the elements: x[i - 1] at i = 0 of a loop
    running down reads x[-1], the element its first iteration wrote."""
    n = facts.n
    if not isinstance(n, int):
        return False
    if n == 0:
        return True
    ends = [bw, bw + a * (n - 1), br, br + a * (n - 1)]
    return all(e >= 0 for e in ends) or all(e < 0 for e in ends)


def _offset(facts: LoopFacts, r: Value, w: Value) -> int | None:
    """e with r == w + e at every iteration (constants, r = w +/- c), or None."""
    cr, cw = const_int(r), const_int(w)
    if cr is not None and cw is not None:
        return cr - cw
    if r.id == w.id:
        return 0
    for x, y, sign in ((r, w, 1), (w, r, -1)):
        op = facts.defs.get(x.id) or getattr(facts, "outer_defs", {}).get(x.id)
        if op is not None and op.prim.name in ("add", "subtract") and len(op.inputs) == 2:
            p, q = op.inputs
            if p.id == y.id and const_int(q) is not None:
                return sign * (const_int(q) if op.prim.name == "add" else -const_int(q))
            if q.id == y.id and const_int(p) is not None and op.prim.name == "add":
                return sign * const_int(p)
    return None


def _taps_reason(facts: LoopFacts, w: Op, ax: int, read: Op) -> str:
    """Why a buffer written at one position and read at another is a recurrence."""
    a, b = facts.aff[w.inputs[2 + ax].id]
    starts = read.inputs[1:]
    f = facts.aff.get(starts[ax].id) if ax < len(starts) else None
    if read.prim.name != "dynamic_slice" or f is None or f[0] != a:
        return "is read where a previous iteration may have written it"
    offs = sorted({(fb - b) // a for u in facts.users.get(read.inputs[0].id, [])
                   if u.prim.name == "dynamic_slice" and len(u.inputs) > 1 + ax
                   for fa, fb in [facts.aff.get(u.inputs[1 + ax].id, (None, None))] if fa == a})
    return "is read at iteration offsets " + ", ".join(f"{o:+d}" for o in offs) + \
        " of the one it writes (a recurrence with taps)"


def _injective_in_bounds(facts: LoopFacts, w: Op, ax: int) -> bool:
    a, b = facts.aff[w.inputs[2 + ax].id]
    size = w.inputs[1].shape[ax]
    dim = w.inputs[0].shape[ax]
    if not isinstance(dim, int) or not isinstance(size, int):
        return False
    contiguous = size == 1 or size == a
    lo, hi = min(b, b + a * (facts.n - 1)), max(b, b + a * (facts.n - 1))
    dyn_others = any(not s.is_const for k, s in enumerate(w.inputs[2:]) if k != ax)
    if dyn_others and a != 1 and not (size == a and a > 0):
        return False
    return contiguous and size <= abs(a) and (facts.n == 0 or (lo >= 0 and hi + size <= dim))


def _strip_reshapes(facts: LoopFacts, v: Value, single_use: bool) -> Value:
    """Follow reshape ops backwards (each reshape's output used once)."""
    while True:
        op = facts.defs.get(v.id)
        if op is None or op.prim.name != "reshape":
            return v
        if single_use and facts.n_uses(v) != 1:
            return v
        v = op.inputs[0]


def _is_reduction(facts: LoopFacts, c: Carry) -> bool:
    if facts.n_uses(c.arg) != 1 + len(getattr(facts, "extreme_reads", {}).get(c.arg.id, ())):
        return False
    root = _strip_reshapes(facts, c.result, True)
    top = facts.defs.get(root.id)
    if top is None or top.prim.name not in monoids() or facts.n_uses(root) != 1:
        return False
    monoid = top.prim.name
    if monoid == "multiply" and top.out.dtype.kind == "c":
        # regrouping a complex product changes the signs of its zeros: (1+0j) * -0.5 * -2.0 is
        # 1-0j in order but 1+0j as (1+0j) * ((-0.5) * (-2.0)), and np.angle or np.sqrt of the
        # result sees the difference (pi against -pi); the chain stays a scan
        return False
    chain, terms, leaves = [], [], []
    if not _split_tree(facts, top, monoid, c, chain, terms, leaves):
        return False
    if len(leaves) != 1 or any(_depends_on(facts, t, c.arg) for t in terms):
        return False
    if leaves[0].shape != root.shape or root.dtype != c.arg.dtype:
        return False
    c.monoid, c.terms, c.chain, c.inner = monoid, terms, chain, leaves[0]
    chain.extend(_reshape_ops(facts, c.result, root))
    return True


def _reshape_ops(facts: LoopFacts, top: Value, bottom: Value) -> list[Op]:
    ops, v = [], top
    while v.id != bottom.id:
        op = facts.defs[v.id]
        ops.append(op)
        v = op.inputs[0]
    return ops


def _split_tree(facts, op, monoid, c, chain, terms, leaves) -> bool:
    chain.append(op)
    for v in op.inputs:
        inner = facts.defs.get(v.id)
        if inner is not None and inner.prim.name == monoid and facts.n_uses(v) == 1 \
                and v.shape == op.out.shape and v.dtype == op.out.dtype \
                and _depends_on(facts, v, c.arg):
            if not _split_tree(facts, inner, monoid, c, chain, terms, leaves):
                return False
            continue
        base = _strip_reshapes(facts, v, True)
        if base.id == c.arg.id:
            chain.extend(_reshape_ops(facts, v, base))
            leaves.append(v)
        else:
            terms.append(v)
    return True


def _depends_on(facts: LoopFacts, v: Value, src: Value) -> bool:
    seen: set[int] = set()
    stack = [v]
    while stack:
        x = stack.pop()
        if x.id == src.id:
            return True
        if x.id in seen:
            continue
        seen.add(x.id)
        op = facts.defs.get(x.id)
        if op is not None:
            stack.extend(operands(op))
    return False




def carries_of(op: Op) -> list[Carry]:
    (body,) = op.blocks
    n = len(body.args) - 1
    return [Carry(k, body.args[1 + k], op.inputs[3 + k], body.results[k], op.outputs[k])
            for k in range(n)]


def loop_var_name(c: Carry, facts: Any) -> str:
    """The user's name for a carried value, read off the source line that updates it."""
    info = facts.op.attrs.get("loop")
    tagged = getattr(info, "type_tags", {}).get(c.arg.id)
    if tagged is not None:
        return f"type({tagged})"
    acc = getattr(info, "shadows", {}).get(c.arg.id)
    if acc is not None:  # the exact sum of a Python-int accumulator, for its overflow check
        return next(f"{loop_var_name(a, facts)} (its exact sum)" for a in carries_of(facts.op) if a.arg.id == acc)
    if c.arg.dtype == RNG and print_site(facts, c) is not None:
        return "print()"
    named = getattr(info, "arg_names", {}).get(c.arg.id)
    if named is not None:  # as the tracer bound it
        return named
    op = facts.defs.get(c.result.id)
    text = op.loc.text.strip() if op is not None else ""
    import re

    m = re.match(r"([A-Za-z_]\w*)", text)
    if m and re.match(r"[A-Za-z_]\w*(\.(flat|T|real|imag))?\s*(\[[^=]*\])?\s*([-+*/@]|//)?=[^=]", text):
        return m.group(1)
    return f"%{c.arg.id}"


# --- running extremes with payloads ---------------------------------------------------------
def _extremes(facts: LoopFacts, carries: list[Carry]) -> list[Extreme]:
    """The running maxima/minima (masked._running_extreme's form, best =
    maximum(best, term)) whose every other read is a comparison `cmp(v, best)`
    whose readers are payloads and folds (masked.pred_readers); marks those
    carries (`extreme`) and the comparisons as reads the reduction allows."""
    from .masked import _EXTREMES, _conjunction, _same, pred_readers

    carried = {c.arg.id for c in carries}
    by_arg = {c.arg.id: c for c in carries}
    found = []
    for c in carries:
        top = facts.defs.get(c.result.id)
        if top is None or top.prim.name not in ("maximum", "minimum") or c.arg.shape != () \
                or c.arg.dtype.kind not in "iuf" or facts.n_uses(c.result) != 1 or result_uses(facts.body, c.arg):
            continue
        x, y = top.inputs
        term = y if x.id == c.arg.id else x if y.id == c.arg.id else None
        if term is None or term.id == c.arg.id or term.shape != () or term.dtype != c.arg.dtype:
            continue
        v, keep, guard = _masked_term(facts, term, top.prim.name)
        if v is None:
            continue
        cmps = [u for u in facts.users.get(c.arg.id, []) if u is not top]
        if not cmps:
            continue
        strict, ok = set(), True
        for cmp in cmps:
            a, b = (cmp.inputs + (None, None))[:2]
            side = 0 if b is not None and b.id == c.arg.id else 1 if a is not None and a.id == c.arg.id else None
            if side is None or len(cmp.inputs) != 2 or len(cmp.outputs) != 1 \
                    or _EXTREMES.get((cmp.prim.name, side)) != top.prim.name \
                    or not _same(a if side == 0 else b, v, facts.defs):
                ok = False
                break
            strict.add(cmp.prim.name in ("greater", "less"))
        if not ok or len(strict) != 1:
            continue
        preds, sinks = [], list(cmps)
        for cmp in cmps:
            if guard is None:
                preds.append(cmp.out)
                continue
            for u in facts.users.get(cmp.out.id, []):
                sides = _conjunction(u)
                if sides is None or {s.id for s in sides} != {cmp.out.id, guard.id} or len(u.outputs) != 1:
                    ok = False
                    break
                preds.append(u.out)
                sinks.append(u)
            if not ok or not facts.users.get(cmp.out.id):
                ok = False
        if not ok or len({p.id for p in preds}) != 1:
            continue
        pred = preds[0]
        readers = pred_readers(pred, None, carried, facts.defs, facts.users)
        if readers is None or not (readers.payloads or readers.folds):
            continue
        members = []
        for op in readers.payloads:
            members.append(by_arg[op.inputs[2].id])
        for op in readers.folds:
            members.append(by_arg[next(v.id for v in op.inputs if v.id in carried)])
        if any(m.result.id not in {op.out.id for op in readers.payloads + readers.folds} or m is c
               or facts.n_uses(m.result) != 1 for m in members):
            continue
        if any(result_uses(facts.body, v) for op in sinks + readers.inner for v in op.outputs):
            continue  # the loop stacks a comparison (a gradient's forward loop keeps it for the reverse)
        at = {id(op): k for k, op in enumerate(facts.body.ops)}
        made = at.get(id(facts.defs.get(v.id)), -1)
        for cmp in cmps:  # a comparison after v reads v itself, not a copy of it (which then is dead)
            if made < at.get(id(cmp), -1):
                cmp.inputs = tuple(v if x.id != c.arg.id and x.id != v.id else x for x in cmp.inputs)
        g = Extreme(c, top.prim.name, term, keep, strict.pop(), pred, sinks + readers.ops(), members)
        for m in members:
            m.extreme = g
        facts.extreme_reads[c.arg.id] = {id(op) for op in cmps}
        found.append(g)
    if found:
        facts.refresh()  # (the comparisons' operands)
    return found


def _nan_free_extreme(facts: LoopFacts, term: Value, monoid: str) -> bool:
    """term is the max/min (the same monoid) of a block of masked terms, NaN
    never kept: what a loop inside this one left of its running extreme (the
    row's extreme of `for v in X.flat: if v < lo: lo = v`), never NaN."""
    op = facts.defs.get(term.id)
    if op is None or op.prim is not reducer_of(monoid) or op.inputs[0].dtype != term.dtype:
        return False
    v, keep, _ = _masked_term(facts, op.inputs[0], monoid)
    return v is not None and (keep is not None or term.dtype.kind in "iu")


def _masked_term(facts: LoopFacts, term: Value, monoid: str) -> tuple:
    """(v, keep, guard) of a running extreme's term: select(keep, v, e) as
    masked._running_extreme builds it (keep: `guard and not isnan(v)`, or
    `not isnan(v)`, or for integers the guard), or v itself for integers;
    (None, None, None) for anything else (a float maximum that NaNs reach)."""
    from .masked import identity

    op = facts.defs.get(term.id)
    e = op.inputs[2] if op is not None and op.prim.name == "select" else None
    if e is None or not e.is_const or not np.array_equal(e.const, identity(monoid, term.dtype), equal_nan=True):
        return (term, None, None) if term.dtype.kind in "iu" or _nan_free_extreme(facts, term, monoid) \
            else (None, None, None)
    keep, v = op.inputs[0], op.inputs[1]
    if term.dtype.kind in "iu":
        return v, keep, keep
    k = facts.defs.get(keep.id)
    guard = None
    if k is not None and k.prim.name == "logical_and":
        guard, k = k.inputs[0], facts.defs.get(k.inputs[1].id)
    if k is None or k.prim.name != "logical_not":
        return None, None, None
    nan = facts.defs.get(k.inputs[0].id)
    if nan is None or nan.prim.name != "isnan" or nan.inputs[0].id != v.id:
        return None, None, None
    return v, keep, guard
