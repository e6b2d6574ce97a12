"""CPU rules of the indexing primitives. Every traced index is checked in
the generated code: IndexError naming the user's line, never a read out of
bounds."""
from __future__ import annotations

from looptrace.codegen.target import IndexRule, StatementRule

from looptrace.ir.ranges import range_in_block

from .target import TARGET
from .text import as_int64, literal


def _slice_text(starts, stops, steps) -> list[str]:
    # a:b without a step keeps Numba's 'C' layout type (a:b:1 does not)
    return [f"{s}:{'' if e < 0 else e}" + ("" if st == 1 else f":{st}")
            for s, e, st in zip(starts, stops, steps)]


def _slice_lower(em, op) -> None:
    x, a = op.inputs[0], op.attrs
    if id(op) in em.plan.element_reads:  # one element, read as a scalar here (planning/fusion.py)
        at = [str(s) for s in a["starts"]] + ["0"] * (x.ndim - len(a["starts"]))
        em.line(f"{em.name(op.out)} = {em.name(x)}[{', '.join(at)}]")
        em.define(op.out)
        em.elements.add(op.out.id)
        return
    parts = _slice_text(a["starts"], a["stops"], a["steps"])
    em.line(f"{em.name(op.out)} = {em.name(x)}[{', '.join(parts)}]")
    em.define(op.out, alias_of=x)


def _dyn_slice_lower(em, op) -> None:
    x = op.inputs[0]
    if id(op) in em.plan.element_reads:  # one element, read as a scalar here (planning/fusion.py)
        idx = em.dynamic_index(x, list(op.inputs[1:]), op.attrs["sizes"], drop=True)
        idx += ["0"] * (x.ndim - len(op.inputs[1:]))  # the axes no start names: one long, at 0
        em.line(f"{em.name(op.out)} = {em.name(x)}[{', '.join(idx)}]")
        em.define(op.out)
        em.elements.add(op.out.id)
        return
    idx = em.dynamic_index(x, list(op.inputs[1:]), op.attrs["sizes"], drop=False)
    em.line(f"{em.name(op.out)} = {em.name(x)}[{', '.join(idx)}]")
    em.define(op.out, alias_of=x)


def _follow(em, s, head, out: str) -> str:
    """A later write of a group writes the head's buffer: its input is the
    previous write's result, which nothing else reads (`_group_updates`)."""
    if s is not head:
        em.line(f"{em.name(s.out)} = {out}")
        em.define(s.out, alias_of=s.inputs[0])
    return out


def _fill_rest(em, head, head_idx: list[str]) -> list:
    """The writes of what a group leaves of a fill never made (planning/fusion.py
    `_fills_with_writes`): the head's index with each picked axis at a rest
    position, written as the head writes it (a plain integer where its axis
    is dropped, else a one-long slice)."""
    fill, rest = em.plan.fill_rest.get(id(head), (None, []))
    writes = []
    for at in rest:
        idx = list(head_idx)
        for k, i in at.items():
            idx[k] = f"{i}:{i + 1}" if ":" in idx[k] else str(i)
        writes.append((idx, fill))
    return writes


def _dyn_update_lower(em, op) -> None:
    group = [op, *em.plan.update_group.get(id(op), [])]  # writes into the same buffer (fusion.py)
    upd = em.plan.update_from.get(id(op), op.inputs[1])
    if len(group) == 1 and all(d == 1 for d in upd.shape):
        # one element, read before it is stored: `a[j + 1] = a[j]` may read a view of the
        # buffer it writes in place (a copy of the buffer per element made insertion sort O(n^3))
        em.plan.disjoint_views.setdefault(id(op), set()).update({upd.id, op.inputs[1].id})
    writes = []
    for s in group:
        x, upd, starts = s.inputs[0], s.inputs[1], list(s.inputs[2:])
        src = em.plan.update_from.get(id(s))
        idx = em.dynamic_index(x, starts, upd.shape[: len(starts)], drop=src is not None)
        out = em.writable_copy(s.out, x) if s is op else _follow(em, s, op, out)
        writes.append((idx, src if src is not None else upd))
    if len(group) == 1 and _masked_store(em, op, out, *writes[0]):
        return
    _store_rest(em, op, group, out, writes)


def _masked_store(em, op, out: str, idx: list[str], upd) -> bool:
    """A write whose update is select(c, new, the element stored) stores new
    where c holds and nothing elsewhere (planning/fusion.py `_masked_update`):
    `if c: out[at] = new`, a loop LLVM vectorizes with masked stores."""
    from looptrace.codegen.planning.fusion import broadcast_index

    from .emitter import _slice_part, _through_parts
    from .nest import Fuser

    masked = em.plan.masked_updates.get(id(op))
    parts = [_slice_part(p) for p in idx]
    if masked is None or id(op) in em.direct_writes or id(op) in em.plan.fill_boxes or id(op) in em.plan.fill_rest \
            or upd.id not in em.plan.inlined or any(p is None for p in parts) or em._store_is_large(upd):
        return False
    new, conds, _ = masked
    with em.loop_nest([em.size(upd, k) for k in range(upd.ndim)]) as at:
        fz = Fuser(em)
        tests = [fz.value_at(c, broadcast_index(c, upd, at)) for c, _ in conds]
        tests = [t if holds else f"not {t}" for t, (_, holds) in zip(tests, conds)]
        value = fz.value_at(new, broadcast_index(new, upd, at)) if new.ndim else \
            (literal(new.const, new.dtype) if new.is_const else em.name(new))
        em.line(f"if {' and '.join(f'({t})' for t in tests)}:")
        with em.indented():
            em.line(f"{out}[{', '.join(_through_parts(parts, at))}] = {value}")
    return True


def _store_rest(em, head, group: list, out: str, writes: list) -> None:
    """Store the group's writes, but those a loop already stored in the
    buffer (destinations.py), and the rest of a fill never made."""
    rest = _fill_rest(em, head, writes[0][0])
    kept = [w for s, w in zip(group, writes) if id(s) not in em.direct_writes]
    if kept or rest:
        em.store_all(out, kept + rest)
    value, dtype, boxes = em.plan.fill_boxes.get(id(head), (None, None, []))
    for box in boxes:  # what the write leaves of a fill never made (planning/fusion.py)
        with em.loop_nest([str(hi - lo) for lo, hi in box]) as at:
            idx = [i if lo == 0 else (str(lo) if hi - lo == 1 else f"{lo} + {i}") for i, (lo, hi) in zip(at, box)]
            em.line(f"{out}[{', '.join(idx)}] = {literal(value, dtype)}")


def _update_slice_lower(em, op) -> None:
    group = [op, *em.plan.update_group.get(id(op), [])]  # writes into the same buffer (fusion.py)
    writes = []
    out = em.writable_copy(op.out, op.inputs[0])
    for s in group:
        a = s.attrs
        _follow(em, s, op, out)
        writes.append((_slice_text(a["starts"], a["stops"], a["steps"]), s.inputs[1]))
    _store_rest(em, op, group, out, writes)


def _gather_element(fz, op, at: list[str]) -> str:
    """Element `at` of a gather inside a loop nest (capability fused_gathers):
    its index read (computed in place when the plan fuses it) and checked,
    then the array read there."""
    em, (x, idx), axis = fz.em, op.inputs, op.attrs["axis"]
    mid = at[axis: axis + idx.ndim]
    ordering, fz._ordering = fz._ordering, False  # the index orders its own inputs
    try:
        raw = fz.value_at(idx, mid) if idx.ndim else em.name(idx)
    finally:
        fz._ordering = ordering
    j = em.fresh("j")
    r = range_in_block(idx, fz.plan.everywhere or fz.plan.producer)  # (offsets made before a loop, read in it)
    n = x.shape[axis]
    if r is not None and isinstance(n, int) and 0 <= r[0] and r[1] < n:  # always inside the axis
        # (>= 0, told to LLVM: inside a prange chunk it cannot prove it, and Numba's wrap-around of a
        # negative index then made every read a gather, a box blur's flattened 3x3 reads 0.93 ms
        # against 0.08 ms: templates.nonneg)
        em.line(f"{j} = nonneg({as_int64(raw, idx.dtype)})")
    elif (r is not None and isinstance(n, int) and -n <= r[0] and r[1] < n) or id(op) in em.validated_gathers:
        k = em.fresh("k")  # inside, counted from either end (by its range, or checked before the nest)
        em.line(f"{k} = {as_int64(raw, idx.dtype)}")
        em.line(f"{j} = nonneg({k} + {em.size(x, axis)} if {k} < 0 else {k})")
    else:
        fz.checked_gathers.append(op)
        em.line(f"{j} = check_elem({as_int64(raw, idx.dtype)}, {em.size(x, axis)}, {em.error_code(axis)})")
    before = len(fz.reads)
    text = fz.value_at(x, at[:axis] + [j] + at[axis + idx.ndim:])
    for k in range(before, len(fz.reads)):  # reads at j (of x, or of what x is computed from when it is
        u, read, in_red = fz.reads[k]      # computed here) vary with the index's own positions
        fz.reads[k] = (u, [tuple(mid) if i == j else i for i in read], in_red)
    return text


def _scatter_lower(em, op) -> None:
    """The index and update are read at each element, or computed there when
    the plan inlined them (array-free values: an array of ones, positions)."""
    from .nest import Fuser

    group = [op, *em.plan.scatter_group.get(id(op), [])]  # scatters through the same index
    x, idx, upd, axis = op.inputs[0], op.inputs[1], op.inputs[2], op.attrs["axis"]
    outs = [em.writable_copy(s.out, s.inputs[0]) for s in group]
    with em.loop_nest([em.size(upd, k) for k in range(upd.ndim)]) as at:
        fz = Fuser(em)
        mid = at[axis: axis + idx.ndim]
        raw = fz.value_at(idx, mid) if idx.ndim else em.name(idx)
        j = em.fresh("j")
        r, n = range_in_block(idx, em.plan.everywhere or em.plan.producer), x.shape[axis]
        if r is not None and isinstance(n, int) and 0 <= r[0] and r[1] < n:  # always inside the axis
            em.line(f"{j} = {as_int64(raw, idx.dtype)}")  # (np.add.at's indices, checked before the loop)
        else:
            em.line(f"{j} = check_elem({as_int64(raw, idx.dtype)}, {em.size(x, axis)}, {em.error_code(axis)})")
        target = ", ".join(at[:axis] + [j] + at[axis + idx.ndim:])
        for s, out in zip(group, outs):
            u = s.inputs[2]
            value = fz.value_at(u, at) if u.ndim else em.name(u)
            em.line(f"{out}[{target}] {'+=' if s.attrs['mode'] == 'add' else '='} {value}")


def _prefix_lower(em, op) -> None:
    x = op.inputs[0]
    em.line(f"{em.name(op.out)} = {em.name(x)}[:{em.name(op.inputs[1])}]")
    em.define(op.out, alias_of=x)


def _reserve_lower(em, op) -> None:
    """A list buffer with room for more rows: x itself (consumed, or a copy
    where it may not be) or a larger copy of it (templates.reserved)."""
    out = em.writable_copy(op.out, op.inputs[0])
    count, extra = em.name(op.inputs[1]), em.name(op.inputs[2])
    # the test here, the call only to grow: a call that returns the array costs its reference
    # counts at every append (stack_pop_list, 10^5 appends: 2.5 ms with the call each time, 1.1)
    em.line(f"if {count} + {extra} > {out}.shape[0]:")
    with em.indented():
        em.line(f"{out} = reserved({out}, {count}, {extra})")


TARGET.register("slice", StatementRule(_slice_lower))
TARGET.register("dynamic_slice", StatementRule(_dyn_slice_lower))
TARGET.register("dynamic_update_slice", StatementRule(_dyn_update_lower))
TARGET.register("update_slice", StatementRule(_update_slice_lower))
TARGET.register("gather", IndexRule(_gather_element))
TARGET.register("scatter", StatementRule(_scatter_lower))
TARGET.register("dynamic_prefix", StatementRule(_prefix_lower))
TARGET.register("reserve", StatementRule(_reserve_lower))
