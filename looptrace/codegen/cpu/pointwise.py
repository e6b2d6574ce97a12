"""A scan whose every step is element work, run point by point.

Many recurrences the vectorizer must leave in a loop update each element of
their state from the same element only: particles stepped by an ODE, paths
of a Monte Carlo simulation, Mandelbrot's `z = z*z + c`, a per-pixel
iteration. Written as the plain loop does it (`for t: for each point`), each
step streams the whole state through memory: 10^6 points and 100 steps of
`z = z*z*0.5 + c` ran 88 ms, bound by memory bandwidth. Each point's steps
depend on no other point, so the loops can be exchanged: the kernel takes
the state POINT_BLOCK points at a time, runs all the steps over that block
(its state stays in L1), then the next block; the loop over a block's
points still vectorizes, and blocks are independent work for the threads.
The same loop ran 17 ms so on one thread and 9 ms on two. The blocks cut the
last axis of the points; a short static last axis (SHORT_AXIS: the xyz of
particles) is taken whole instead, the blocks cutting the rows, and its
positions are written out one after another in the loop over a block's rows.

Which loops qualify is target-neutral (planning/pointwise.py). A carried
scalar (`t += dt`) runs in each block; where the loop's last value of it is
read, a loop of the scalar steps alone computes it once more, before the
blocks (`_scalar_steps`). A step's own values (0-d ops, views such as
`noise[t]`) are taken once per step of each block.

A stacked output read only by a fold over its steps (`n += live`, which the
vectorizer makes a masked count: live stacked, summed over the steps after
the loop), through element work of its own (`where(live, 1, 0)`), is folded
in the point loop instead (`_folded_rows`): an accumulator of the points'
shape, not T rows of them. Mandelbrot's counts over 10^6 points and 50
steps: no 50 MB of stacked rows and no second pass over them. Each point's
accumulator takes the steps in order, as the fold after the loop did.

Invariant: every element of every carry and stacked output takes the same
operations, in the same order, as in the loop written step by step: the
same bits. A bound check raises the same error at the same first failing
step (the steps of the first block run first, in order); checks keep the
blocks on one thread, since a raise inside a prange does.
"""
from __future__ import annotations

import contextlib
from math import prod

from looptrace.codegen.planning.fusion import BlockPlan, broadcast_index
from looptrace.codegen.planning.pointwise import compute_at_points, folded_rows, skip_all_but, take_folds
from looptrace.codegen.planning.pointwise import pointwise_ops as planned_pointwise_ops
from looptrace.ir.core import Dim, Op, Value, free_values
from looptrace.ops.control import split_for_results
from looptrace.ops.shape import is_reshape_like

from .costs import MATHLIB, element_cost
from .emitter import Emitter
from .scalar import element_expr, float64_closed
from .text import cast, dtype_text

# Points a block runs through all the steps: with a few state arrays of float64 it stays in L1,
# and a loop of this many points vectorizes with few leftovers (the linear scans' STATE_BLOCK)
POINT_BLOCK = 512
# The steps a loop whose trip count is read at run time is taken to run, when deciding
# whether its blocks go on the threads (numpy-benchmarks' mandelbrot runs `maxiter` = 100)
UNKNOWN_TRIPS = 64
# A static last axis shorter than this is not cut into blocks but taken whole, its positions
# written out one after another in the loop over the block's rows: a (10^5, 3) state ran as
# blocks of 3 points in 25 ms (step by step: 25-31 ms)
SHORT_AXIS = 5


def _cheap_view(op: Op, plan: BlockPlan) -> bool:
    """Is this view written as a view (no copy) under the body's plan?"""
    name = op.prim.name
    if name in ("dynamic_slice", "slice"):
        return True
    if id(op) in plan.skip or op.out.ndim == 0:
        return True
    if name == "transpose" and not is_reshape_like(op):
        return tuple(op.attrs["perm"]) == tuple(reversed(range(op.out.ndim)))
    x = plan.reshape_from.get(id(op), op.inputs[0])
    return (id(op) in plan.slice_into or id(op) in plan.unit_reshapes
            or (x.ndim > 0 and tuple(x.shape) == tuple(op.out.shape)))


def pointwise_ops(em: Emitter, op: Op) -> list[Op] | None:
    """The body's ops computed at each point when this for_loop is a
    pointwise scan (planning/pointwise.py); else None."""
    return planned_pointwise_ops(op, em.plan_of(op.blocks[0]), _cheap_view)


def _folded_rows(em: Emitter, op: Op) -> dict[int, list[tuple[list[Op], Op]]]:
    """planning/pointwise.py `folded_rows`, for folds whose accumulator is
    their dtype (float64 or int64 terms, `float64_fold`): accumulating one in
    an array of that dtype takes the same steps."""
    from .nest import FOLD_UPDATE, float64_fold

    return folded_rows(op, em.scope.block, em.plan,
                       lambda red: red.prim.reduction.combine in FOLD_UPDATE and float64_fold(red))


def _checks_free(em: Emitter, body) -> bool:
    """Are all the body's dynamic starts known in bounds (no check that raises)?"""
    for o in body.ops:
        if o.prim.name == "dynamic_slice":
            x = o.inputs[0]
            for a, (s, k) in enumerate(zip(o.inputs[1:], o.attrs["sizes"])):
                if em.start_in_bounds(s, em.size(x, a), k) is None:
                    return False
    return True


def emit_pointwise(em: Emitter, op: Op, ops: list[Op]) -> None:
    """The scan as blocks of points, each running all the steps (module docstring)."""
    from .nest import Fuser, fold_init, fold_step
    from .regions import _bind_outputs, _init_lines, for_header, known_index_ranges

    start, stop, step = op.inputs[:3]
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    carries = [c for c in body.args[1:] if c.ndim]
    scalars = [(c, x, r) for c, x, r in zip(body.args[1:], op.inputs[3:], body.results) if not c.ndim]
    results = [r for c, r in zip(body.args[1:], body.results) if c.ndim] + list(body.results[n_carry:])
    stacked = op.outputs[n_carry:]
    _init_lines(em, op, carries, [x for c, x in zip(body.args[1:], op.inputs[3:]) if c.ndim])
    known_index_ranges(em, op)
    ref = carries[0]
    sizes = [em.size(ref, k) for k in range(ref.ndim)]
    folded = _folded_rows(em, op)
    kept = [k for k in range(len(stacked)) if k not in folded]
    folds = [(k, chain, red, em.fresh("acc")) for k, found in folded.items() for chain, red in found]
    take_folds(em.plan, [(chain, red) for _, chain, red, _ in folds])  # those ops are this loop's now
    for _, chain, red, acc in folds:
        em.line(f"{acc} = alloc(({''.join(s + ', ' for s in sizes)}), {dtype_text(red.out.dtype)})")
    if kept:
        count = em.fresh("n")
        em.line(f"{count} = trip_count({em.name(start)}, {em.name(stop)}, {em.name(step)})")
        for k in kept:
            y = stacked[k]
            em.line(f"{em.name(y)} = alloc(({count}, {''.join(s + ', ' for s in sizes)}), {dtype_text(y.dtype)})")

    scalar_outs = [v for c, v in zip(body.args[1:], op.outputs) if not c.ndim]
    finals = _scalar_steps(em, op, scalars) if scalars and not _unread(em, scalar_outs) else {}
    trips = (len(range(int(start.const), int(stop.const), int(step.const)))
             if all(v.const is not None for v in (start, stop, step)) else None)
    n_points = 0 if any(isinstance(d, Dim) for d in ref.shape) else prod(ref.shape)  # sizes read at run time: one thread
    costly = any(element_cost(o) >= MATHLIB for o in ops)
    work = n_points * (trips if trips is not None else UNKNOWN_TRIPS) * len(ops)
    parallel = em.work_is_large(work, costly) and _checks_free(em, body)
    em.note_loop(op, f"runs point by point: blocks of {POINT_BLOCK} points, each through all its steps"
                     + (", the blocks on the threads" if parallel else ""))

    nb, b, lo, hi, q = (em.fresh(k) for k in ("nb", "b", "lo", "hi", "q"))
    # the blocks cut the last axis; a short static last axis (xyz of particles) is taken whole,
    # and the blocks cut the axis before it, POINT_BLOCK points a block still
    whole = ref.shape[-1] if ref.ndim >= 2 and isinstance(ref.shape[-1], int) and ref.shape[-1] < SHORT_AXIS else None
    axis = ref.ndim - (2 if whole else 1)
    per = POINT_BLOCK // whole if whole else POINT_BLOCK
    em.line(f"{nb} = ({sizes[axis]} + {per - 1}) // {per}")
    outer = [em.fresh("i") for _ in sizes[:axis]]
    depth = em.depth
    if outer:  # the first axis and the blocks share one loop: work for every thread
        em.line(f"for {q} in {'numba.prange' if parallel else 'range'}({sizes[0]} * {nb}):")
        em.depth += 1
        em.line(f"{outer[0]} = {q} // {nb}")
        em.line(f"{b} = {q} - {outer[0]} * {nb}")
        for var, n in zip(outer[1:], sizes[1:axis]):
            em.line(f"for {var} in range({n}):")
            em.depth += 1
    else:
        em.line(f"for {b} in {'numba.prange' if parallel else 'range'}({nb}):")
        em.depth += 1
    em.uses_prange |= parallel
    em.line(f"{lo} = {b} * {per}")
    em.line(f"{hi} = min2({lo} + {per}, {sizes[axis]})")
    counter = em.fresh("k")
    if kept:
        em.line(f"{counter} = 0")
    for c, x, _ in scalars:  # each block runs the scalar recurrences itself
        em.line(f"{em.name(c)} = {cast(em.name(x), c.dtype)}")

    @contextlib.contextmanager
    def block_points():
        """The loop over the block's points; yields the indices of the points
        each of its iterations takes (a short last axis: one per position of
        it, written out, so that LLVM vectorizes the loop over the rows)."""
        j = em.fresh("j")
        with em.loop(j, f"{lo}, {hi}"):
            yield [[*outer, f"nonneg({j})", *([str(k)] if whole else [])] for k in range(whole or 1)]

    if folded:
        with block_points() as points:
            for at in points:
                for _, _, red, acc in folds:
                    em.line(f"{acc}[{', '.join(at)}] = {fold_init(red)}")

    def finish() -> None:
        with block_points() as points:
            fz = Fuser(em)  # one for the row: a value broadcast along a short last axis is computed once
            for idx in points:
                values = []
                for r in results:  # every result before any store: a carry may read another
                    t = em.fresh()
                    em.line(f"{t} = {fz.value_at(r, broadcast_index(r, ref, idx))}")
                    values.append(t)
                for c, v in zip(carries, values):
                    em.line(f"{em.name(c)}[{', '.join(idx)}] = {v}")
                rows = values[len(carries):]
                for k in kept:
                    em.line(f"{em.name(stacked[k])}[{counter}, {', '.join(idx)}] = {rows[k]}")
                for k, chain, red, acc in folds:
                    em.line(fold_step(red, f"{acc}[{', '.join(idx)}]", _chain_text(em, chain, stacked[k], rows[k])))
        if kept:
            em.line(f"{counter} += 1")
        if scalars:
            em.line(", ".join(em.name(c) for c, _, _ in scalars) + ", = "
                    + ", ".join(cast(em.name(r), c.dtype) for c, _, r in scalars) + ",")

    parallel_inside, em.parallel = em.parallel, False  # one level of threads: the blocks
    try:
        head = for_header(em, op)
        with em.indented():
            for line in head:
                em.line(line)
            em.emit_block(body, {c.id for c in carries}, finish=finish, adjust=lambda plan: compute_at_points(plan, ops))
    finally:
        em.parallel = parallel_inside
        em.depth = depth
    _bind_outputs(em, [v for c, v in zip(body.args[1:], op.outputs) if c.ndim], carries)
    for (c, _, _), out in zip(scalars, scalar_outs):
        if finals:
            em.line(f"{em.name(out)} = {finals[c.id]}")
            em.define(out)
    for k in kept:
        em.define(stacked[k], owned=True)
    for _, _, red, acc in folds:
        em.line(f"{em.name(red.out)} = {acc}")
        em.define(red.out, owned=True)


def _chain_text(em: Emitter, chain: list[Op], row: Value, value: str) -> str:
    """The element of the last op of `chain` (element ops, each reading the
    one before it, the first reading the stacked output `row`) where that
    output's element is `value`: one temporary per op."""
    for o in chain:
        args = [value if w is row else em.name(w) for w in o.inputs]
        expr = element_expr(em, o, args)
        value, row = em.fresh(), o.out
        em.line(f"{value} = {expr if float64_closed(o) else cast(expr, o.out.dtype)}")
    return value


def _unread(em: Emitter, values: list[Value]) -> bool:
    """Does nothing after the loop read these outputs (in its block, its nested blocks, its results)?"""
    ids = {v.id for v in values}
    block = em.scope.block
    for o in block.ops:
        if any(v.id in ids for v in o.inputs) or any(v.id in ids for b in o.blocks for v in free_values(b)):
            return False
    return not any(v.id in ids for v in block.results)


def _scalar_steps(em: Emitter, op: Op, scalars: list) -> dict[int, str]:
    """The scalar carries' last values: a loop of the steps' scalar ops alone
    (each block runs its own copy of them, inside a prange: private).
    Returns carry id -> the variable holding its last value."""
    from .regions import for_header

    (body,) = op.blocks
    producer = {o.out.id: o for o in body.ops if len(o.outputs) == 1}
    needed, stack = set(), [r for _, _, r in scalars]
    while stack:  # the ops the scalar results are computed from
        v = stack.pop()
        o = producer.get(v.id)
        if o is not None and id(o) not in needed:
            needed.add(id(o))
            stack.extend(o.inputs)
    finals = {c.id: em.fresh("last") for c, _, _ in scalars}
    for c, x, _ in scalars:
        em.line(f"{em.name(c)} = {cast(em.name(x), c.dtype)}")

    def finish() -> None:
        em.line(", ".join(em.name(c) for c, _, _ in scalars) + ", = "
                + ", ".join(cast(em.name(r), c.dtype) for c, _, r in scalars) + ",")

    head = for_header(em, op)
    with em.indented():
        for line in head:
            em.line(line)
        em.emit_block(body, set(), finish=finish, adjust=lambda plan: skip_all_but(plan, body, needed))
    for c, _, _ in scalars:
        em.line(f"{finals[c.id]} = {em.name(c)}")
    return finals
