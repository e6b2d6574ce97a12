"""A loop of independent iterations on the GPU: one thread per iteration.

A top-level for_loop that carries nothing from one iteration to the next
(the vectorizer's scan whose iterations are independent: ops it cannot batch,
such as a `while` per pixel, stay in the body) and whose body one thread can
run alone is one grid-stride kernel: thread g runs the iterations g, g + G,
g + 2G, ... (G = all threads of the grid). Inside an iteration everything is
a register of that thread: scalar ops, element reads of arrays defined before
the loop, nested `for`/`while` loops with scalar carries (and `break`) and
conditionals, run serially by the thread (team_loops.py's control flow, with a
team of one thread: points.PointsCtx). Each iteration's results are its own
rows of the stacked outputs, stored at the iteration's position.

A perfectly nested pair (or deeper nest) of such loops, the outer body only
views, scalar ops and the inner loop whose stacked outputs are the outer
loop's rows, is one flat range of iterations (py * W + px): the thread's flat
index is split into the levels' indices, each level's body is emitted inside
the one above it, and the innermost results are stored at the flat position.
Inner levels need a constant, positive trip count.

A loop nested in an iteration may stack rows of one scalar per step when they
are read only step by step (`thread_rows`): a fold over the steps (`acc +=
f(x[i, k])` with a `while` in f, which the vectorizer makes a stacked row and
a sum after the loop), element ops over the rows on the way to it, or the row
of one step (a nested loop's last value read after it). The thread runs that
loop itself and keeps those in registers: no row is stored.

Refused (the loop falls back to the other strategies, strategy.py): carried
values, array-valued ops inside the body (an op over a whole array, an
allocation, a fold of anything but a nested loop's rows), nested loops with
array carries or rows read otherwise.
Index checks and failed checks clamp and go on, as in every kernel, but
report into the thread's own record (`AloneCode.err`: the iteration's first
failure in program order; a nested `while` then stops), merged into the
call's error flag when the iteration ends: the lowest failing iteration wins
(module.py `report_first`), the one the cpu reports.

Simulator-safe: no barrier, no warp operation (shared memory only for each thread's own
failure record).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from looptrace.codegen.planning.pointwise import element_op
from looptrace.ir.core import RNG, Block, Dim, Op, Value, free_values
from looptrace.ir.primitive import folded_axes
from looptrace.ops.control import split_for_results

from ..cpu.text import dtype_text
from . import access as A
from .device import DeviceCode, launch_args
from .fuse import FOLD_UPDATE, fold_acc_dtype, fold_init, fold_update
from .limits import GRID_BLOCK
from .points import PointsCtx
from .rules.scalar import element_expr
from .values import Reg, cast_to, index_range

if TYPE_CHECKING:
    from .emitter import CudaEmitter

VIEWS = ("dynamic_slice", "slice", "reshape")
SCALAR_REGIONS = ("for_loop", "while_loop", "cond")


@dataclass
class Level:
    """One loop of the nest: its op, its trip count, the ops of its body emitted by the
    level itself (the inner loop and the reshapes of its outputs into this level's rows)
    and the body results that are the nest's rows (`picks`, in the order of the outputs)."""

    op: Op
    trips: int
    own: set  # id(op) of body ops this module emits (skipped by the walk)
    picks: list  # indices into the body's results


def iteration_levels(em: CudaEmitter, op: Op) -> list[Level] | None:
    """The loop nest run as one flat range of iterations, when this loop may (module docstring)."""
    if op.prim.name != "for_loop":
        return None
    n_carry, n_stacked = split_for_results(op)
    if n_carry or not n_stacked or any(y.dtype == RNG for y in op.outputs):
        return None
    if not isinstance(op.outputs[0].shape[0], int):  # a run-time trip count (strategy.py sends it to the host)
        return None
    levels = []
    current, picks = op, list(range(n_stacked))
    while True:
        (body,) = current.blocks
        trips = current.outputs[0].shape[0]
        inner, chains, inner_picks = _perfect_inner(body, picks)
        if inner is not None and _one_thread(em, body, skip={id(o) for o in [inner, *chains]}):
            levels.append(Level(current, trips, {id(o) for o in [inner, *chains]}, picks))
            current, picks = inner, inner_picks
            continue
        own = _result_reshapes(body, picks)
        if own is None or not _one_thread(em, body, skip={id(o) for o in own}):
            return None
        levels.append(Level(current, trips, {id(o) for o in own}, picks))
        return levels


def _perfect_inner(body: Block, picks: list) -> tuple[Op | None, list[Op], list]:
    """The inner for_loop whose stacked outputs (through reshapes) are this body's picked
    results; its other outputs unused. Returns (loop, the reshapes, the loop's picked results)."""
    none = None, [], []
    loops = [o for o in body.ops if o.prim.region]
    if len(loops) != 1 or loops[0].prim.name != "for_loop":
        return none
    inner = loops[0]
    n_carry, n_stacked = split_for_results(inner)
    if n_carry or not n_stacked or any(v.const is None for v in inner.inputs[:3]):
        return none
    trips = inner.outputs[0].shape[0]
    if not isinstance(trips, int) or trips <= 0:  # a zero-trip level would skip the outer body's checks
        return none
    producer = {v.id: o for o in body.ops for v in o.outputs}
    position = {y.id: k for k, y in enumerate(inner.outputs)}
    chains, inner_picks = [], []
    for r in (body.results[k] for k in picks):
        v = r
        while v.id not in position:
            o = producer.get(v.id)
            if o is None or o.prim.name != "reshape":
                return none
            chains.append(o)
            v = o.inputs[0]
        inner_picks.append(position[v.id])
    if len(set(inner_picks)) != len(inner_picks):
        return none
    made = {id(o) for o in chains}
    inner_ids = set(position)
    for o in body.ops:  # the loop's outputs are read by the chains only
        if id(o) not in made and any(v.id in inner_ids for v in o.inputs):
            return none
    if any(r.id in inner_ids for k, r in enumerate(body.results) if k not in picks):
        return none
    return inner, chains, inner_picks


def _result_reshapes(body: Block, picks: list) -> list[Op] | None:
    """The reshapes that make one-element rows of the innermost body's scalar results; None
    when a picked result is not one element."""
    producer = {v.id: o for o in body.ops for v in o.outputs}
    own = []
    for r in (body.results[k] for k in picks):
        if any(isinstance(d, Dim) or d != 1 for d in r.shape):
            return None
        v = r
        while v.ndim:
            o = producer.get(v.id)
            if o is None or o.prim.name != "reshape":
                return None
            own.append(o)
            v = o.inputs[0]
    return own


def _scalar_source(body: Block, r: Value) -> Value:
    producer = {v.id: o for o in body.ops for v in o.outputs}
    while r.ndim:
        r = producer[r.id].inputs[0]
    return r


def _one_thread(em: CudaEmitter, block: Block, skip: set = frozenset()) -> bool:
    """Can one thread run this block alone: registers only, no op over a whole array
    (but the rows of a nested loop that the thread folds or picks itself: `thread_rows`)?"""
    plan = em.plan_of(block)
    skip = set(skip)
    for o in block.ops:
        if id(o) in skip:
            continue
        if any(v.dtype == RNG for v in [*o.inputs, *o.outputs]):
            return False
        if o.prim.name in VIEWS:
            if o.prim.name == "reshape" and not (id(o) in plan.slice_into or id(o) in plan.element_reads
                                                 or o.inputs[0].ndim == 0 and o.out.ndim == 0):
                return False
            if any(isinstance(d, Dim) for d in o.out.shape):
                return False
            continue
        rows = thread_rows(block, o, plan) if o.prim.name == "for_loop" else None
        if rows is not None:
            skip |= rows.taken  # (they follow the loop)
        elif any(v.ndim for v in o.outputs) or not o.outputs and o.prim.name != "check":
            return False  # an array made in the body; or an effect (a print) one thread cannot order
        if o.prim.region:
            if o.prim.name not in SCALAR_REGIONS or any(v.ndim for v in o.inputs):
                return False
            if not all(_one_thread(em, b) for b in o.blocks):
                return False
            continue
        if any(v.ndim for v in o.inputs) and id(o) not in plan.element_reads:
            return False  # an op over a whole array (a fold, a product)
    return True


@dataclass
class ThreadRows:
    """A loop nested in a thread's iteration whose stacked rows (one scalar per step) are
    read only step by step: `steps`, element ops over the rows (and values known before
    the loop), computed at each step; `folds`, folds over the steps (`acc += f(t)`, which
    the vectorizer makes a stacked row and a sum after the loop), accumulated in
    registers; `picks`, (slice, reshape, position): one step's row kept in a register
    (a nested loop's last value read after it; of a loop of one step, the reshape
    alone twice). `taken`: id(op) of all of them."""

    steps: list
    folds: list
    picks: list
    taken: set


def thread_rows(block: Block, loop: Op, plan) -> ThreadRows | None:
    """The loop's rows as a thread's registers (ThreadRows), when every reader of them is one of
    those ops; None otherwise. The loop has constant bounds and at least one step."""
    n_carry, n_stacked = split_for_results(loop)
    if not n_stacked or any(v.const is None for v in loop.inputs[:3]):
        return None
    trips = loop.outputs[n_carry].shape[0]
    if not isinstance(trips, int) or trips <= 0:
        return None
    if any(tuple(y.shape) != (trips,) or y.dtype == RNG for y in loop.outputs[n_carry:]):
        return None
    position = {id(o): k for k, o in enumerate(block.ops)}
    here = position[id(loop)]

    def known_before(w: Value) -> bool:  # a register (or constant) when the loop starts
        made = plan.producer.get(w.id)
        return w.ndim == 0 and w.id not in plan.inlined and (made is None or position[id(made)] < here)

    rows = {y.id for y in loop.outputs[n_carry:]}
    found = ThreadRows([], [], [], set())
    for o in block.ops[here + 1:]:
        if id(o) in found.taken or not any(u.id in rows for u in o.inputs):
            continue
        if (element_op(o) and o.prim.name not in ("broadcast_to", "iota") and tuple(o.out.shape) == (trips,)
                and all(u.id in rows or known_before(u) for u in o.inputs)):
            found.steps.append(o)
            rows.add(o.out.id)
        elif (o.prim.reduction is not None and len(o.inputs) == 1 and folded_axes(o) == (0,) and o.out.ndim == 0
              and o.prim.reduction.combine in FOLD_UPDATE and o.attrs.get("ties") != "last"):
            found.folds.append(o)
        elif o.prim.name == "slice" and tuple(o.out.shape) == (1,) and 0 <= o.attrs["starts"][0] < trips:
            readers = [r for r in block.ops if any(u is o.out for u in r.inputs)]
            if len(readers) != 1 or readers[0].prim.name != "reshape" or readers[0].out.ndim != 0:
                return None
            found.picks.append((o, readers[0], o.attrs["starts"][0]))
            found.taken.add(id(readers[0]))
            rows.add(o.out.id)
        elif o.prim.name == "reshape" and trips == 1 and o.out.ndim == 0:  # the one step's row
            found.picks.append((o, o, 0))
        else:
            return None
        found.taken.add(id(o))
    escaping = {r.id for r in block.results} | {v.id for o in block.ops for b in o.blocks for v in free_values(b)}
    return None if rows & escaping else found


def emit_thread_for(em: CudaEmitter, op: Op) -> None:
    """A for_loop with stacked rows inside a thread's iteration (`thread_rows`): the
    thread's own loop, its folds and picks in registers, no row stored."""
    code = em.team.code
    rows = thread_rows(em.scope.block, op, em.plan)
    if rows is None:
        raise NotImplementedError("the rows of a loop inside a thread's iteration are read as arrays")
    start, stop, step, *init = op.inputs
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    index, carries = body.args[0], body.args[1:]
    for a, x in zip(carries, init):
        name = em.fresh("c")
        code.line(f"{name} = {cast_to(em.device_scalar(code, x), a.dtype)}")
        em.locs[a.id] = Reg(name, np.dtype(a.dtype))
    accs = [em.fresh("acc") for _ in rows.folds]
    for red, acc in zip(rows.folds, accs):
        code.line(f"{acc} = {fold_init(red)}")
    kept = [em.fresh("pk") for _ in rows.picks]
    for (_, rs, _), name in zip(rows.picks, kept):
        code.line(f"{name} = {dtype_text(rs.out.dtype)}(0)")
    trips = op.outputs[n_carry].shape[0]
    counted = any(p != trips - 1 for _, _, p in rows.picks)
    k, i = em.fresh("k"), em.fresh("i")
    if counted:
        code.line(f"{k} = 0")
    em.locs[index.id] = Reg(i, np.dtype(index.dtype))
    known = index_range(start, stop, step)
    if known is not None:
        em.ranges[index.id] = known

    def finish() -> None:
        values = {}
        for y, r in zip(op.outputs[n_carry:], body.results[n_carry:]):
            values[y.id] = em.fresh("v")
            code.line(f"{values[y.id]} = {cast_to(em.device_scalar(code, r), y.dtype)}")
        news = [cast_to(em.device_scalar(code, r), a.dtype) for a, r in zip(carries, body.results[:n_carry])]
        for o in rows.steps:
            args = [values[u.id] if u.id in values else em.device_scalar(code, u) for u in o.inputs]
            values[o.out.id] = em.fresh("v")
            code.line(f"{values[o.out.id]} = {cast_to(element_expr(o, args), o.out.dtype)}")
        for red, acc in zip(rows.folds, accs):
            code.line(fold_update(red, acc, cast_to(values[red.inputs[0].id], fold_acc_dtype(red))))
        for (sl, _, p), name in zip(rows.picks, kept):
            code.line(f"{name} = {values[sl.inputs[0].id]}" if p == trips - 1
                      else f"{name} = {values[sl.inputs[0].id]} if {k} == {p} else {name}")
        if carries:
            code.line(", ".join(em.locs[a.id].name for a in carries) + ", = " + ", ".join(news) + ",")
        if counted:
            code.line(f"{k} += 1")

    bounds = ", ".join(em.device_scalar(code, v) for v in (start, stop, step))
    code.line(f"for {i} in range({bounds}):")
    with code.indented():
        em.emit_block(body, set(), finish=finish)
    for v, a in zip(op.outputs[:n_carry], carries):
        em.bind(v, em.locs[a.id])
    for red, acc in zip(rows.folds, accs):
        name = em.fresh("r")
        code.line(f"{name} = {cast_to(acc, red.out.dtype)}")
        em.bind(red.out, Reg(name, np.dtype(red.out.dtype)))
    for (_, rs, _), name in zip(rows.picks, kept):
        em.bind(rs.out, Reg(name, np.dtype(rs.out.dtype)))
    em.plan.skip.update(rows.taken)


class AloneCode(DeviceCode):
    """The kernel of threads that each run their own iterations: nothing to synchronize
    (team_loops.py closes a nested loop's steps with `sync`). Failures of an iteration
    go to the thread's own record (`ferr`, a row of shared memory: the first failure of
    the iteration in program order), merged into the call's flag when the iteration
    ends (module.py `report_first`: the lowest failing iteration wins)."""

    failures = False

    def err(self) -> str:
        self.failures = True
        return "ferr"

    def sync(self) -> None:
        self.end_phase()


class IterationsCtx(PointsCtx):
    """The team of an iterations kernel: each thread alone, registers only; a check
    reports at once (rules/check.py `_check_alone`)."""

    alone = True


def emit_iterations(em: CudaEmitter, op: Op, levels: list[Level], plan) -> None:
    """The loop nest as one grid-stride kernel over its iterations (module docstring)."""
    top = levels[0].op
    outs = [em.alloc_temp(tuple(y.shape), y.dtype) for y in top.outputs]
    shape = tuple(lv.trips for lv in levels)
    n = em.count(shape)
    code = AloneCode(em.fresh("its"), em)
    bounds = [[em.device_scalar(code, v) for v in lv.op.inputs[:3]] for lv in levels]
    code.line(f"for e in range(cuda.grid(1), {code.size(n)}, cuda.gridsize(1)):")
    em.team = IterationsCtx(em, False, code)
    try:
        with code.indented():
            at, depth = len(code.lines), code.depth
            idx = em.index_of(code, "e", shape)
            for lv, k, (start, _, step) in zip(levels, idx, bounds):
                t = em.fresh("t")
                code.line(f"{t} = {cast_to(f'{start} + {k} * {step}', lv.op.blocks[0].args[0].dtype)}")
                index = lv.op.blocks[0].args[0]
                em.locs[index.id] = Reg(t, np.dtype(index.dtype))
                known = index_range(*lv.op.inputs[:3])
                if known is not None:
                    em.ranges[index.id] = known
            _emit_level(em, code, levels, 0, outs)
            if code.failures:
                _merge_failures(em, code, at, depth)
    finally:
        em.team = None
    em.add_kernel(code, "grid")
    em.hline(f"rt.launch({code.name}, {n}, {launch_args(code)})")
    for y, acc in zip(top.outputs, outs):
        em.bind(y, acc, owned=True)
    em.note_loop(op, plan.reason)


def _merge_failures(em: CudaEmitter, code: AloneCode, at: int, depth: int) -> None:
    """Each thread's failure record, cleared as an iteration starts (line `at`) and merged
    into the call's flag as it ends; a thread that failed stops (its later iterations are
    higher). The lowest failing iteration's first failure is the call's, as on the cpu."""
    code.preamble += [f"ferr_all = cuda.shared.array(({GRID_BLOCK}, 3), int64)",
                      "ferr = ferr_all[cuda.threadIdx.x]"]
    code.lines.insert(at, (depth, "ferr[0] = 0"))
    code.line_ops.insert(at, em.op)
    err, stamp = DeviceCode.err(code), code.param("rt.stamp()", "scalar", np.int64)
    code.line("if ferr[0] != 0:")
    code.line(f"    report_first({err}, ferr[0] - 1, ferr[1], ferr[2], np.int64(e), {stamp})")
    code.line("    break")


def _emit_level(em: CudaEmitter, code: DeviceCode, levels: list[Level], k: int, outs: list) -> None:
    lv = levels[k]
    (body,) = lv.op.blocks

    def finish() -> None:
        if k + 1 < len(levels):
            _emit_level(em, code, levels, k + 1, outs)
            return
        for acc, r in zip(outs, (body.results[j] for j in lv.picks)):
            flat = A.Access(acc.buf, (acc.shape[0],), (1,), acc.off)  # one element per iteration, in C order
            value = em.device_scalar(code, _scalar_source(body, r))
            code.store(flat, ["e"], cast_to(value, r.dtype))

    em.emit_block(body, set(), finish=finish, adjust=lambda plan: plan.skip.update(lv.own))
