"""Delay lines: a buffer written at one offset and read at others is a map.

    for t in range(n):
        buf[t + k] = s[t]        # written from values that never read buf
        out[t] = buf[t]          # read k iterations later

Each iteration writes one block of `buf` at a position affine and injective
in the iteration (as a map's write); the values written read neither `buf`
nor any other carried value. Then a read at iteration t of a block aligned
with the writes sees:
  - the block written by iteration j = t + d (d = read offset - write offset,
    in iterations) when d < 0: every write has happened by then, each block is
    written at most once, so it is the buffer after the loop;
  - the buffer before the loop otherwise (the write comes later, or never).
So the loop splits in two (loop fission): a first loop makes only the writes
(a map: one batched update), and the original loop reads the final or the
initial buffer, loop-invariant values, with no carry through `buf` left.

Invariant: applied only when every use of the buffer in the body is the
write or an aligned, in-bounds dynamic_slice read, and the write's operands
depend on nothing carried and on no effectful op; anything else stays as it
was (a recurrence with taps, vectorized or scanned by the rest of the pass).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from looptrace.ir.affine import same_index
from looptrace.ir.builder import rebuilt
from looptrace.ir.core import Block, Op, Value
from looptrace.ir.rewrite import substitute
from looptrace.ir.uses import operands

from .analysis import (
    LoopFacts,
    _injective_in_bounds,
    carries_of,
    loop_var_name,
)


@dataclass
class DelayLine:
    """A buffer carry split off its loop: the name and offsets for explain."""

    name: str
    writer: Op  # the loop that makes only the buffer's writes
    offsets: list[Fraction]  # iterations between each read and the write it sees


def split_delay_lines(loop: Op, parent: Block, facts: LoopFacts) -> list[DelayLine]:
    """Split each delay-line buffer of `loop` into its own loop placed before
    it in `parent`; returns what was split (the new loops are not vectorized yet)."""
    found = []
    for c in carries_of(loop):
        plan = _plan(facts, c)
        if plan is None:
            continue
        w, reads = plan
        found.append(_split(loop, parent, facts, c, w, reads))
        facts.refresh()
    return found


def _plan(facts: LoopFacts, c) -> tuple[Op, list[tuple[Op, bool]]] | None:
    """The write and the reads (each with: does it see the final buffer?)."""
    w = facts.defs.get(c.result.id)
    if facts.n is None or w is None or w.prim.name != "dynamic_update_slice" or w.inputs[0].id != c.arg.id:
        return None
    if any(r.id == c.arg.id for r in facts.body.results) or not _writes_a_map(facts, w):
        return None
    if _depends_on_carry(facts, w):
        return None
    ax = _walking_axis(facts, w)
    reads = []
    for v, after in ((c.arg, False), (w.out, True)):
        for u in facts.users.get(v.id, []):
            if u is w:
                continue
            sees_final = _read_sees(facts, w, ax, u, after, v)
            if sees_final is None:
                return None
            reads.append((u, sees_final))
    if facts.n_uses(w.out) != len([r for r in reads if r[0].inputs[0].id == w.out.id]) + 1:
        return None  # the buffer is used some other way (returned by the body twice, ...)
    if not any(final for _, final in reads) and all(r.inputs[0].id != w.out.id for r, _ in reads) and \
            all(_offset(facts, w, ax, r) == 0 for r, _ in reads):
        return None  # reads only at the write position: the classifier's plain map
    return w, reads


def _writes_a_map(facts: LoopFacts, w: Op) -> bool:
    ax = _walking_axis(facts, w)
    return ax is not None and all(facts.invariant(s) for k, s in enumerate(w.inputs[2:]) if k != ax) \
        and _injective_in_bounds(facts, w, ax)


def _walking_axis(facts: LoopFacts, w: Op) -> int | None:
    walking = [ax for ax, s in enumerate(w.inputs[2:]) if s.id in facts.aff and facts.aff[s.id][0] != 0]
    return walking[0] if len(walking) == 1 else None


def _depends_on_carry(facts: LoopFacts, w: Op) -> bool:
    """Does the write's block or position read a carried value or an effectful op?"""
    carried = {v.id for v in facts.body.args[1:]}
    return any(op is None for op in _slice(facts, list(w.inputs[1:]), carried))


def _slice(facts: LoopFacts, roots: list[Value], carried: set[int]) -> list[Op | None]:
    """The body ops computing `roots`, in body order; None marks a forbidden
    dependence (a carried value, an effectful or a region op)."""
    keep: dict[int, Op] = {}
    stack = list(roots)
    bad = False
    while stack:
        v = stack.pop()
        if v.id in carried:
            bad = True
            continue
        op = facts.defs.get(v.id)
        if op is None or id(op) in keep:
            continue
        if op.prim.effectful or op.prim.region:
            bad = True
            continue
        keep[id(op)] = op
        stack.extend(operands(op))
    ops: list[Op | None] = [op for op in facts.body.ops if id(op) in keep]
    return ops + [None] if bad else ops


def _offset(facts: LoopFacts, w: Op, ax: int, r: Op) -> Fraction | None:
    a, b1 = facts.aff[w.inputs[2 + ax].id]
    f = facts.aff.get(r.inputs[1 + ax].id)
    if f is None or f[0] != a:
        return None
    return Fraction(f[1] - b1, a)


def _read_sees(facts: LoopFacts, w: Op, ax: int, r: Op, after: bool, buf: Value) -> bool | None:
    """True: the read sees the final buffer; False: the initial one; None: not a delay-line read."""
    starts = w.inputs[2:]
    block = tuple(w.inputs[1].shape[:len(starts)])
    if r.prim.name != "dynamic_slice" or r.inputs[0].id != buf.id or len(r.inputs) - 1 != len(starts):
        return None
    if tuple(r.attrs["sizes"]) != block:
        return None
    if not all(same_index(x, y, facts.aff) for k, (x, y) in enumerate(zip(r.inputs[1:], starts)) if k != ax):
        return None
    d = _offset(facts, w, ax, r)
    if d is None or not _read_in_bounds(facts, r, ax, block[ax]):
        return None
    if d.denominator != 1 and block[ax] != 1:
        return None  # overlaps two written blocks
    if d == 0:
        return None if after else False  # same block: forwarded after the write, the initial one before
    return d < 0 and d.denominator == 1


def _read_in_bounds(facts: LoopFacts, r: Op, ax: int, size: int) -> bool:
    a, b = facts.aff[r.inputs[1 + ax].id]
    dim = r.inputs[0].shape[ax]
    if not isinstance(dim, int) or facts.n == 0:
        return facts.n == 0
    lo, hi = min(b, b + a * (facts.n - 1)), max(b, b + a * (facts.n - 1))
    return lo >= 0 and hi + size <= dim


def _split(loop: Op, parent: Block, facts: LoopFacts, c, w: Op, reads: list[tuple[Op, bool]]) -> DelayLine:
    ax = _walking_axis(facts, w)
    offsets = [_offset(facts, w, ax, r) for r, _ in reads]
    writer = _writer_loop(loop, facts, c, w)
    line = DelayLine(loop_var_name(c, facts), writer, offsets)
    parent.ops.insert(parent.ops.index(loop), writer)
    final = writer.outputs[0]
    for r, sees_final in reads:
        r.inputs = (final if sees_final else c.init, *r.inputs[1:])
    body = facts.body
    body.results = [c.arg if v.id == c.result.id and k == c.index else v for k, v in enumerate(body.results)]
    substitute(parent, {c.out.id: final})
    return line


def _writer_loop(loop: Op, facts: LoopFacts, c, w: Op) -> Op:
    """for_loop(start, stop, step, init) whose body is only the buffer's writes."""
    i = Value(facts.body.args[0].dtype, ())
    buf = Value(c.arg.dtype, tuple(c.arg.shape))
    mapping: dict[int, Value] = {facts.body.args[0].id: i, c.arg.id: buf}
    ops = []
    for op in _slice(facts, list(w.inputs[1:]), set()) + [w]:
        outs = tuple(Value(v.dtype, tuple(v.shape)) for v in op.outputs)
        mapping.update({old.id: new for old, new in zip(op.outputs, outs)})
        ops.append(rebuilt(op, inputs=tuple(mapping.get(v.id, v) for v in op.inputs), outputs=outs, attrs=op.attrs))
    body = Block([i, buf], ops, [mapping[w.out.id]])
    attrs = {k: v for k, v in loop.attrs.items() if k != "loop"}
    return rebuilt(loop, inputs=(*loop.inputs[:3], c.init), outputs=(Value(c.out.dtype, tuple(c.out.shape)),),
                   attrs=attrs, blocks=(body,))


def describe(lines: list[DelayLine]) -> str:
    parts = []
    for d in lines:
        offs = ", ".join(f"{float(o):+g}" if o.denominator != 1 else f"{int(o):+d}" for o in d.offsets)
        parts.append(f"`{d.name}` is a delay line (written from values that do not read it, read at "
                     f"iteration offsets {offs}): its writes are one batched update")
    return "; ".join(parts)


def kept_notes(reason: str) -> str:
    """The delay-line sentences of a loop's explain reason (a later pass that
    rewrites the reason keeps them)."""
    notes = [part for part in reason.split("; ") if "is a delay line" in part]
    return "".join("; " + n for n in notes)
