"""Stacked loop outputs written straight into the buffer they end up in.

`out = np.zeros((n, 4)); for k in range(n): ...; out[k, 0] = S` becomes, after
vectorizing, a loop stacking S into a fresh (n,) array and, after the loop, a
write of that array into out[:, 0]: a second pass over the rows. When that
write is the stacked output's only use, the loop stores each row where the
write would put it (destination passing) and the write stores nothing.

Exact when no one sees the buffer's old contents in the written box after
the loop starts:
  - the buffer `B` (the value the chain of writes starts from, made before
    the loop) is this block's own memory (planning/ownership.py), and every
    other value sharing that memory is last used before the loop (the loop
    neither reads it nor is handed it); or `B` is a constant array, copied
    before the loop instead of at the first write;
  - `B` is read only by the first write of the chain, and each write's result
    only by the next write, up to the stacked output's write `U`; the writes
    between the loop and `U` store static boxes disjoint from `U`'s box (so
    what they store is what the plain order leaves there);
  - `U` stores the stacked output itself (or a reshape of it that only adds
    or drops unit axes and that only `U` reads: then never made) into a
    static box inside `B`, its axes the box's axes longer than 1, in order.
At `U` the buffer then already holds what `U` writes; `U` still takes the
buffer (in place, or as a copy of what it holds, which is the same).
"""
from __future__ import annotations

from dataclasses import dataclass

from looptrace.ir.core import Block, Dim, Op, Value, free_values
from looptrace.ir.uses import use_map

from looptrace.codegen.planning.fusion import covered_box, unit_axes_only

_WRITES = ("dynamic_update_slice", "update_slice")


@dataclass(frozen=True)
class Destination:
    buffer: Value  # the array the loop stores into (made before the loop)
    write: Op  # the write after the loop that stores nothing now
    parts: list[str]  # the write's index parts (indexing.py's texts); the first slice is the loop's axis
    backwards: bool = False  # the write walks the loop's axis from its end (`out[n - 1::-1] = y`)


def stacked_destinations(em, op: Op, stacked: tuple[Value, ...]) -> dict[int, Destination]:
    """Stacked output id -> where its rows go, for the outputs of `op` (a
    for_loop at position `em.scope.pos` of the block being emitted) that
    qualify (module docstring)."""
    block, scope = em.scope.block, em.scope
    if not stacked or block.ops[scope.pos] is not op:
        return {}
    uses = use_map(block)
    index = {id(o): i for i, o in enumerate(block.ops)}
    found = {}
    for y in stacked:
        d = _destination(em, block, uses, index, op, y)
        if d is not None:
            found[y.id] = d
    for buffer in {d.buffer.id: d.buffer for d in found.values()}.values():
        if buffer.const is not None:  # a constant (a small np.zeros the tracer folded): ours from here
            made = em.fresh("b")
            em.line(f"{made} = copied({em.name(buffer)})")
            em.renamed[buffer.id] = made
            scope.define(buffer, owned=True)
    return found


def _destination(em, block: Block, uses, index: dict, loop: Op, y: Value) -> Destination | None:
    if y.ndim == 0 or any(isinstance(d, Dim) for d in y.shape) or y.shape[0] < 2 or 1 in y.shape[1:]:
        return None
    route = _only_write_of(em, uses, y)
    if route is None or index[id(route[0])] <= index[id(loop)]:
        return None
    write, reshape = route
    box = _box(write)
    x = write.inputs[0]
    if box is None or any(isinstance(d, Dim) for d in x.shape):
        return None
    backwards = _backwards(write, box)
    if backwards is None:
        return None
    if any(lo < 0 or hi > d for (lo, hi), d in zip(box, x.shape)):
        return None  # out of bounds: the write raises, as before
    if [hi - lo for lo, hi in box if hi - lo != 1] != list(y.shape):
        return None  # y's axes are not the box's (a unit axis dropped, or a real reshape)
    buffer = _chain_start(em, block, uses, index, loop, write, box)
    if buffer is None or not (buffer.const is not None or _memory_free_during(em, loop, buffer)):
        return None
    if reshape is not None:
        em.plan.skip.add(id(reshape))  # never made: the write that read it stores nothing
    return Destination(buffer, write, _parts(box), backwards)


def _only_write_of(em, uses, y: Value) -> tuple[Op, Op | None] | None:
    """The write storing y (or a reshape of it adding unit axes that only
    that write reads), y's only reader; and that reshape."""
    reader = _only_use(uses, y)
    if reader is None:
        return None
    if reader.prim.name in _WRITES and reader.inputs[1] is y and reader.inputs[0] is not y:
        return reader, None
    if reader.prim.name == "reshape" and unit_axes_only(tuple(y.shape), tuple(reader.out.shape)):
        w = _only_use(uses, reader.out)
        if w is not None and w.prim.name in _WRITES and w.inputs[1] is reader.out and w.inputs[0] is not reader.out:
            return w, reader
    return None


def _box(write: Op) -> list[tuple[int, int]] | None:
    """The static box a write stores (steps of 1, or of -1: planning's
    covered_box), else None."""
    return covered_box(write)


def _backwards(write: Op, box) -> bool | None:
    """Does the write store the stacked rows from the end of the loop's axis
    (the first of the box longer than 1) back? None when another axis longer
    than 1 is walked backwards (the rows themselves reversed: not done here)."""
    steps = write.attrs["steps"] if write.prim.name == "update_slice" else (1,) * len(box)
    long = [st for st, (lo, hi) in zip(steps, box) if hi - lo != 1]
    if any(st != 1 for st in long[1:]):
        return None
    return bool(long) and long[0] == -1


def _disjoint(a, b) -> bool:
    return any(hi_a <= lo_b or hi_b <= lo_a for (lo_a, hi_a), (lo_b, hi_b) in zip(a, b))


def _only_use(uses, v: Value) -> Op | None:
    us = uses.get(v.id, [])
    if len(us) != 1 or us[0].op is None or us[0].nested:
        return None
    return us[0].op


def _chain_start(em, block: Block, uses, index: dict, loop: Op, write: Op, box) -> Value | None:
    """The buffer the chain of writes ending at `write` starts from: made
    before the loop, each link read only by the next write, the writes
    after the loop (before `write`) storing boxes disjoint from `box`."""
    x, reader = write.inputs[0], write
    while True:
        if _only_use(uses, x) is not reader:
            return None
        made = em.plan.producer.get(x.id)
        if made is None or index.get(id(made), -1) < index[id(loop)]:
            return x
        if made.prim.name not in _WRITES or made.outputs[0] is not x:
            return None
        other = _box(made)
        if other is None or not _disjoint(other, box):
            return None
        x, reader = made.inputs[0], made


def _memory_free_during(em, loop: Op, buffer: Value) -> bool:
    """Is `buffer`'s memory ours, and no value sharing it read from the loop
    on (but the buffer itself, by the chain)?"""
    scope = em.scope
    r = scope.root.get(buffer.id)
    if r is None or r not in scope.owned:
        return False
    here = scope.pos
    inside = {v.id for b in loop.blocks for v in free_values(b)} | {v.id for v in loop.inputs}
    for m in scope.members[r]:
        if m in inside:
            return False
        if m != buffer.id and scope.last_use.get(m, -1) >= here:
            return False
    return True


def _parts(box) -> list[str]:
    """The buffer's index parts for the box: a unit axis is its position,
    any other a slice (in order, the stacked output's axes)."""
    return [str(lo) if hi - lo == 1 else f"{lo}:{hi}" for lo, hi in box]


def row_index(em, dest: Destination, counter: str) -> list[str]:
    """The buffer's index parts for the row the loop stacks at `counter`:
    the first slice becomes that row's position."""
    parts = list(dest.parts)
    k = next(j for j, p in enumerate(parts) if ":" in p)
    lo, hi = (int(b) for b in parts[k].split(":"))
    if dest.backwards:  # row 0 at the axis's last position of the box
        at = em.fresh("p")
        em.line(f"{at} = {hi - 1} - {counter}")
        parts[k] = at
    elif lo == 0:
        parts[k] = counter
    else:
        at = em.fresh("p")
        em.line(f"{at} = {counter} + {lo}")
        parts[k] = at
    return parts
