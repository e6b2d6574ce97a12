"""The loop nest of one fusion root, as Numba source.

The fusion plan (codegen/planning/fusion.py) says which ops are roots and
which values are computed inside a consumer's nest. `emit_fused` writes one
root's nest: `for` loops over the output (`prange` on the outer axis when the
work pays for threads), and at each element the scalar code of the root and
of every value fused into it (`Fuser.value_at`), through each primitive's CPU
rule: a `ScalarRule` gives an elementwise op's expression, an `IndexRule` reads
an input at a mapped index (broadcast_to, iota), and a fold (a reduction, or
a sum of products) becomes inner loops over an accumulator whose start and
update come from the primitive's `Reduction` trait (`FOLD_UPDATE`).
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from looptrace.codegen.planning.fusion import (
    BlockPlan,
    broadcast_index,
    constant_fill,
    is_fold,
    is_streaming,
    nest_ops,
    nest_work,
    base_index,
    read_through,
    slice_read,
    unit_reindex,
)
from looptrace.codegen.planning.fold_window import exact_window, select_window, window
from looptrace.codegen.planning.lazy_reads import elif_chain, unit_source
from looptrace.ir.core import Dim, Op, Value
from looptrace.ir.primitive import folded_axes
from looptrace.ir.ranges import progression
from looptrace.ir.uses import use_map

from .costs import LIBM, MATHLIB, cost_factor, element_cost
from .extrema import LANES as EXTREMA_LANES
from .scalar import element_expr, float64_closed, latency_call
from .shape import affine_index, join_element, join_pieces
from .fold_groups import FoldGroups
from .sparse_folds import SparseFolds, sparse_mask
from .siblings import co_indexed, fold_inputs_pool, later_fold_roots
from .target import TARGET
from .text import as_int64, cast, dtype_text, literal

if TYPE_CHECKING:
    from .emitter import Emitter


# --- emitting a loop nest ----------------------------------------------------------------------

def _terms_call(op: Op, plan) -> bool:
    """Does a fold's term call a math function: a vectorized one (mathlib.py,
    vectorized in `_sum_in_blocks`' loop of terms) or libm's (fmod, power,
    ...: in the 8-lane loop the 8 lanes, live across each call in
    caller-saved registers, were stored and reloaded around every call;
    corpus float_modulo_negative's `x % 1.5 - x // 0.7` over 300000
    elements: 16.0 ms of CPU in lanes, 6.1 ms in a loop of terms, njit 9.8;
    bench/corpus_losses_k2.py)? A masked sum of libm terms still skips the
    runs its mask leaves out first (sparse_folds.py)."""
    return any(element_cost(o) in (MATHLIB, LIBM) for o in nest_ops(op, plan))


class Fuser(FoldGroups, SparseFolds):
    """Writes the scalar code of one root's element, recursing into the values
    fused into it; `memo` shares a temporary between uses at the same index."""

    def __init__(self, em: Emitter):
        self.em = em
        self.plan = em.plan
        self.memo: dict[tuple, str] = {}
        self.reductions: list[Op] = []  # reductions computed, in order
        self.reads: list[tuple[Value, list[str], bool]] = []  # array, index, inside a reduction
        self.checked_gathers: list[Op] = []  # gathers whose index is checked in the nest (may raise)
        self.reducing = 0
        self._ordering = False
        self.unmasked: set[int] = set()  # masked terms read as their term: rows inside a fold's window
        self.spans: dict[str, tuple[int, int]] = {}  # loop variable -> [lo, hi) of its range (`_emit_split`)
        self.join_reads: list[tuple[Op, str]] = []  # (concatenate never made, index on its axis) read
        self.held: dict[int, tuple[str, str]] = {}  # value id -> (its row's buffer, row variable) (`_emit_row_group`)
        self.flat: dict[int, str] = {}  # array id -> its 1-d view, read by an all-axes fold (`_fold_flat`)
        self.pool: list[Op] = []  # folds computed at the index being computed: siblings (siblings.py)
        self.group: list[Op] = []  # the folds sharing the loops being written (`_reduce_group`)
        self.scratch_at: int | None = None  # a line before the nest's serial loops (`_accumulators`)

    def value_at(self, v: Value, idx: list[str], produce: bool = False) -> str:
        em = self.em
        if produce and v.id in self.plan.producer:  # a root's element: its folds at its index
            self.pool = co_indexed(self.plan, [self.plan.producer[v.id]])
        if not produce and v.ndim == 0:
            return em.name(v)
        if v.id in self.flat:  # the fold's flat position is the last index (`_fold_flat`)
            return f"{self.flat[v.id]}[{idx[-1]}]"
        if v.id in self.unmasked:  # select(mask, x, 0) where the mask holds (`_fold_8way_steps`)
            x = self.plan.producer[v.id].inputs[1]
            return self.value_at(x, broadcast_index(x, v, idx))
        fill = constant_fill(self.plan.everywhere or self.plan.producer, v) if v.ndim else None
        if fill is not None:  # an element of a constant fill: the constant, never read from memory
            return literal(fill.const, v.dtype)
        if not produce and v.id not in self.plan.inlined:
            ramp = progression(v)
            if ramp is not None:  # a constant arange: its element is arithmetic on the loop variable
                return cast(_ramp_text(*ramp, idx[0]), v.dtype)
            v, idx = self._through_transpose(v, idx)
            made = self.plan.producer.get(v.id)
            if made is not None and id(made) in self.plan.joins:  # a concatenate never made
                return join_element(self, made, idx)
            if v.ndim == 0 or v.id in em.elements:
                # through a unit reshape of a scalar (planning/fusion.py `_skip_unit_reshape`),
                # or of a one-element read held as its scalar (indexing.py)
                return em.name(v)
            if v.id not in self.plan.inlined:
                held = self.held.get(v.id)
                if held is not None and idx[0] == held[1]:  # a row of a group's own temporary
                    return held[0] if len(idx) == 1 else f"{held[0]}[{', '.join(idx[1:])}]"
                self.reads.append((v, idx, self.reducing > 0))
                return f"{em.name(v)}[{', '.join(idx)}]"
            # a position read through a unit reshape: computed here (planning/fusion.py)
        key = (v.id, tuple(idx))
        if key not in self.memo and not self._ordering:
            self._inputs_first(v, idx)
        if key not in self.memo:
            op = self.plan.producer[v.id]
            outer, em.op = em.op, op  # lines of a fused op still name that op's user line
            try:
                self.memo[key] = self._compute(op, idx)
            finally:
                em.op = outer
        return self.memo[key]

    def _inputs_first(self, v: Value, idx: list[str]) -> None:
        """Compute the fused inputs of `v` deepest first, with an explicit
        stack: each then finds its own inputs computed, so a chain of any
        length emits without recursing once per link (Python's recursion
        limit is no limit on the user's program)."""
        order, stack, seen = [], [(v, tuple(idx), False)], set()
        while stack:
            u, at, expanded = stack.pop()
            if expanded:
                order.append((u, list(at)))
                continue
            if (u.id, at) in seen or (u.id, at) in self.memo:
                continue
            seen.add((u.id, at))
            stack.append((u, at, True))
            op = self.plan.producer[u.id]
            if is_fold(op) or op.prim.name == "gather":
                continue  # a fold computes its input inside its own loops, a gather its index
            for w in reversed(op.inputs):  # popped in input order: the lines come out as before
                if w.ndim and w.id in self.plan.inlined:
                    stack.append((w, tuple(broadcast_index(w, op.out, list(at))), False))
        self._ordering = True
        try:
            for u, at in order[:-1]:
                self.value_at(u, at)
        finally:
            self._ordering = False

    def _through_transpose(self, v: Value, idx: list[str]) -> tuple[Value, list[str]]:
        """A transposed view is read through its base: `np.transpose(x, p)[i, j]`
        is `x[j, i]`, so the base's own layout (contiguous, known to Numba)
        decides the stride, and loops over it can vectorize. A reshape that
        only adds or drops unit axes and is never made is read through its
        source the same way (`unit_reindex`)."""
        op = self.plan.producer.get(v.id)
        while op is not None:
            if id(op) in self.plan.unit_reshapes:
                src = self.plan.reshape_from.get(id(op), op.inputs[0])
                v, idx = src, unit_reindex(tuple(src.shape), tuple(v.shape), idx)
            elif (shifted := slice_read(op, self.plan, idx)) is not None:  # a slice never made
                # `start + step * i` of an element of the slice lies in the base: >= 0, which
                # LLVM cannot prove inside a prange chunk (module docstring of templates.nonneg)
                v, idx = op.inputs[0], [s if s == i or s.isdigit() else f"nonneg({s})" for s, i in zip(shifted, idx)]
            elif read_through(op, self.plan):
                v, idx = op.inputs[0], base_index(op.attrs["perm"], idx)
            else:
                break
            op = self.plan.producer.get(v.id)
        return v, idx

    def _compute(self, op: Op, idx: list[str]) -> str:
        if is_fold(op):
            ordering, self._ordering = self._ordering, False  # its input orders itself, in its loops
            try:
                return self._reduce(op, idx)
            finally:
                self._ordering = ordering
        rule = TARGET.rule(op.prim)
        if rule.kind == "index":
            return rule.element(self, op, idx)
        args = [self.value_at(u, broadcast_index(u, op.out, idx)) for u in op.inputs]
        expr = latency_call(op, args, self.em.waits_on_carry(op)) if self.em.latency_bound(op) else None
        expr = expr or element_expr(self.em, op, args)
        t = self.em.fresh()
        self.em.line(f"{t} = {expr if float64_closed(op) else cast(expr, op.out.dtype)}")
        return t

    def _reduce(self, op: Op, idx: list[str], parallel: bool = False) -> str:
        """A reduction (or a sum of products) at kept index `idx`: inner loops
        (shared with its siblings there, `_reduce_group`)."""
        made = self._made_before(op, idx)  # (an argmax's loop computed it)
        if made is not None:
            return made
        op = self._whole(op) if not idx else op  # (a max of row maxes: one fold of every element)
        em, x = self.em, op.inputs[0]
        group = self._siblings(op, idx)
        if group is not None:
            return self._reduce_group(group, idx, parallel)
        axes = folded_axes(op)
        lanes = op.prim.reduction.combine in LANE_UPDATE and x.dtype.kind == "f"
        call = self._extreme_of_array(op) if lanes and not idx else None
        if lanes and x.ndim == 1 and isinstance(x.shape[0], int) and x.shape[0] >= 64 and call is None:
            term_1d = lambda at: self._term_1d(op, at)  # noqa: E731
            return self._tied_zero(op, self._fold_8way(op, parallel, term_1d, x.shape[0], lambda at: [at]),
                                   term_1d, str(x.shape[0]))
        if call is not None:
            flat = self.flat.get(x.id)  # (x read flat by a sibling: its view)
            return self._tied_zero(op, call, (lambda at: f"{flat}[{at}]") if flat else self._term_unflat(op, idx),
                                   _count(em, x, axes))
        leaves = _flat_leaves(self, op) if lanes and not idx else None
        if leaves is not None:
            lead = ["0"] * (x.ndim - 1)
            return self._tied_zero(op, self._fold_flat(op, parallel, leaves),
                                   lambda at: self.term(op, [], [*lead, at]), _count(em, x, axes))
        if (lanes and len(axes) == 1 and axes[0] == x.ndim - 1 and isinstance(x.shape[-1], int)
                and x.shape[-1] >= 64):
            # a fold along the last (contiguous) axis at each kept index: the same 8 chains
            self.reductions.append(op)
            term_last = lambda at: self.term(op, idx, [at])  # noqa: E731
            return self._tied_zero(op, self._fold_8way(op, parallel, term_last, x.shape[-1], lambda at: [*idx, at]),
                                   term_last, str(x.shape[-1]))
        self.reductions.append(op)
        acc = em.fresh("acc")
        em.line(f"{acc} = {fold_init(op)}")
        span = self._window(op, axes[0], lambda at: self._input_index(op, idx, [at])) if len(axes) == 1 else None
        parallel = parallel and span is None  # a window is a part of the axis: no threads for it
        saved = dict(self.memo)
        if span is None and len(axes) == 1 and self._fold_in_blocks(op, acc, idx, axes[0], parallel):
            self.memo = saved
            return acc if float64_fold(op) else cast(acc, op.out.dtype)
        inner = [em.fresh("r") for _ in axes]
        depth = em.depth
        for j, (var, k) in enumerate(zip(inner, axes)):
            bounds = f"{span[0]}, {span[1]}" if span else em.size(x, k)
            em.line(f"for {var} in {'numba.prange' if parallel and j == 0 else 'range'}({bounds}):")
            em.depth += 1
        em.line(fold_step(op, acc, self.term(op, idx, inner)))  # (in order: ties kept as `ties` says)
        em.depth = depth
        self.memo = saved
        return acc if float64_fold(op) else cast(acc, op.out.dtype)

    def _fold_in_blocks(self, op: Op, acc: str, idx: list[str], axis: int, parallel: bool) -> bool:
        """Write the fold `op` over `axis` into `acc` in blocks of FOLD_BLOCK
        terms, where `_block_fold` says how, and say so (else write nothing):
        a count (a sum of 0 or 1 terms) adds each block's terms in a uint16,
        then that to acc (np.count_nonzero of 10^6 bools: 0.046 ms in int64,
        0.015 in blocks, NumPy 0.037); an any (all) stops after the first
        block where acc is True (False), as NumPy stops (b.any() of 10^6 bools
        whose first is True: 12 us, 0.5 in blocks, NumPy 1.8). Then the
        terms after the last block, one by one."""
        kind, em = _block_fold(self, op), self.em
        n = em.size(op.inputs[0], axis)
        if kind is None or n.isdigit() and int(n) < FOLD_BLOCKED_MIN:
            return False
        nb, b, r, part = em.fresh("nb"), em.fresh("b"), em.fresh("r"), em.fresh("part")
        saved = dict(self.memo)
        em.line(f"{nb} = {n} // {FOLD_BLOCK}")
        with em.loop(b, nb, parallel and kind == "count"):
            if kind == "count":
                em.line(f"{part} = np.uint16(0)")
            with em.loop(r, f"{b} * {FOLD_BLOCK}, {b} * {FOLD_BLOCK} + {FOLD_BLOCK}"):
                term = self.term(op, idx, [f"nonneg({r})"])
                em.line(f"{part} = np.uint16({part} + {term})" if kind == "count" else fold_step(op, acc, term))
            self.memo = dict(saved)
            if kind == "count":
                em.line(f"{acc} += np.int64({part})")
            else:
                em.line(f"if {'' if kind == 'any' else 'not '}{acc}:")
                em.line("    break")
        with em.loop(r, f"{nb} * {FOLD_BLOCK}, {n}"):
            em.line(fold_step(op, acc, self.term(op, idx, [r])))
        return True

    def _tied_zero(self, op: Op, value: str, term_at, count: str) -> str:
        """The value of a float max or min fold whose `ties` (ops/reduce.py)
        say which of equal elements it keeps, from `value`, its fold in
        lanes (which keeps whichever zero its lanes meet first): where that
        is a zero, the first (last) term equal to zero, found by a scan of
        the terms in order (`term_at(position)`, `count` of them), as the
        fold in order keeps it. A NaN or a nonzero extreme is the same in
        any order: only a zero is rescanned (rare; one compare else)."""
        ties = tied(op)
        if ties is None:
            return value
        em = self.em
        res, p, t = em.fresh("ext"), em.fresh("p"), em.fresh("e")
        em.line(f"{res} = {value}")
        em.line(f"if {res} == 0:")
        saved, made = dict(self.memo), len(self.reductions)
        with em.indented(), em.loop(p, count if ties == "first" else f"{count} - 1, -1, -1"):
            em.line(f"{t} = {term_at(p)}")
            em.line(f"if {t} == 0:")
            em.line(f"    {res} = {cast(t, op.out.dtype)}")
            em.line("    break")
        self.memo = saved
        del self.reductions[made:]  # (the scan's inner folds are the fold's own, already counted)
        return res

    def _tied_zeros(self, ops: list[Op], values: list[str], term_at, count: str) -> list[str]:
        """`_tied_zero` of the folds of a sibling group (`term_at(op, position)`):
        one scan a direction for all of them, each term computed once a
        position (their shared parts once), a fold's zero taken where it
        still wants one (a loop per fold cost each such fold a loop's
        compile time)."""
        em, out = self.em, list(values)
        for ties, step in (("first", count), ("last", f"{count} - 1, -1, -1")):
            mine = [k for k, o in enumerate(ops) if tied(o) == ties]
            if len(mine) < 2:
                out = [self._tied_zero(ops[k], out[k], lambda at, o=ops[k]: term_at(o, at), count)
                       if k in mine else out[k] for k in range(len(ops))]
                continue
            want, p = {k: em.fresh("z") for k in mine}, em.fresh("p")
            for k in mine:
                res = em.fresh("ext")
                em.line(f"{res} = {out[k]}")
                out[k] = res
                em.line(f"{want[k]} = {res} == 0")
            em.line(f"if {' or '.join(want.values())}:")
            saved, made = dict(self.memo), len(self.reductions)
            with em.indented(), em.loop(p, step):
                terms = {k: em.fresh("e") for k in mine}
                for k in mine:
                    em.line(f"{terms[k]} = {term_at(ops[k], p)}")
                for k in mine:
                    em.line(f"if {want[k]} and {terms[k]} == 0:")
                    em.line(f"    {out[k]} = {cast(terms[k], ops[k].out.dtype)}")
                    em.line(f"    {want[k]} = False")
                em.line(f"if not ({' or '.join(want.values())}):")
                em.line("    break")
            self.memo = saved
            del self.reductions[made:]
        return out

    def _term_unflat(self, op: Op, idx: list[str]):
        """term_at of op's term at a flat position of its folded axes (C order), for `_tied_zero`."""
        em, x = self.em, op.inputs[0]
        axes = folded_axes(op)

        def term_at(p: str) -> str:
            inner, q = [""] * len(axes), p
            for k in range(len(axes) - 1, 0, -1):
                inner[k], nq = em.fresh("r"), em.fresh("q")
                em.line(f"{nq}, {inner[k]} = divmod({q}, {em.size(x, axes[k])})")
                q = nq
            inner[0] = q
            return self.term(op, idx, inner)

        return term_at

    def _input_index(self, op: Op, idx: list[str], inner: list[str]) -> list[str]:
        """The fold's input index at kept index `idx` and reduced index `inner`."""
        axes = folded_axes(op)
        full, kept = [], iter(idx)
        for k in range(op.inputs[0].ndim):
            full.append(inner[axes.index(k)] if k in axes else next(kept))
        return full

    def _window(self, op: Op, axis: int, index_at) -> tuple[str, str] | None:
        """(first, end): positions on the folded `axis` outside which every
        term is zero (planning/fold_window.py), clipped to the axis, as
        int64 names computed at the kept index; None where the fold has no
        such window. The loop over them keeps the mask inside: the same bits
        as the whole axis."""
        em = self.em
        w = window(op, axis, em.producers)
        if w is None:
            return None
        return _window_text(self, w, index_at("0"), f"np.int64({em.size(op.inputs[0], axis)})")

    def term(self, op: Op, idx: list[str], inner: list[str]) -> str:
        """The element a reduction folds in, at kept index `idx` and reduced index `inner`."""
        full = self._input_index(op, idx, inner)
        self.reducing += 1
        pool, self.pool = self.pool, self._term_pool(op)
        try:
            return " * ".join(self.value_at(u, full) for u in op.inputs)
        finally:
            self.reducing -= 1
            self.pool = pool

    def _term_pool(self, op: Op) -> list[Op]:
        """The folds computed at the index of op's term: siblings there (of
        every fold sharing op's loops)."""
        return fold_inputs_pool(self.plan, self.group if any(o is op for o in self.group) else [op])


    def _fold_8way(self, op: Op, parallel: bool, term_at, n: int, index_at) -> str:
        """A float sum, min or max over one axis (of a 1-d array, or the last
        axis at one kept index; `term_at(index text)` is its term) with 8
        independent accumulators (as NumPy's pairwise sum does at its leaves):
        8 chains instead of one. A min of 10^4 floats: 15.9 us in one chain of
        min_nan, 3.8 us in 8 (NumPy 4.1 us); min and max are exact in any order.

        Accumulator j takes the terms at r*8 + j in increasing r, then the 8
        are added pairwise, then the n % 8 tail in order. The 8 are one tuple
        and the term is written once, in a loop over j that adds it to item j
        (templates.py `lane_add`): LLVM unrolls it into 8 interleaved chains
        that it can vectorize, while Numba types and lowers the term once
        (written out 8 times, each copy cost compile time: masked_group_stats
        1.8 -> 1.0 s). Split over threads, the steps are cut into chunks, each
        summed so, and the chunk totals added in chunk order after them (the
        same sum whatever the thread count)."""
        em = self.em
        span = self._window(op, len(index_at("0")) - 1, index_at)
        saved = dict(self.memo)
        rows, total = n // 8, em.fresh("acc")
        wide = op.prim.reduction.combine in ("maximum", "minimum") and n >= EXTREME_MIN and span is None
        if parallel and span is None:
            # threads take chunks of steps, each chunk with its own 8 accumulators, and write
            # the chunk's pairwise total; the totals are added in order after the prange (no
            # reduction variable: Numba lowers each with code of its own, 8 of them cost
            # gbm_paths 1.7 s of a 3.4 s compile, and the sum does not depend on the threads)
            step = -(-rows // PARALLEL_SUM_CHUNKS)
            chunks = -(-rows // step)
            c, parts = em.fresh("c"), em.fresh("parts")
            em.line(f"{parts} = alloc({chunks}, np.{fold_acc_dtype(op).name})")
            with em.loop(c, str(chunks), True):
                steps = (f"{c} * {step}", f"min2({c} * {step} + {step}, {rows})")
                em.line(f"{parts}[{c}] = {self._fold_8way_steps(op, term_at, steps, saved, index_at, wide)}")
            em.line(f"{total} = {fold_init(op)}")
            with em.loop(c, str(chunks)):
                em.line(fold_update(op, total, f"{parts}[{c}]"))
        elif span is not None and _lane_fold(self, op) is None and \
                not any(element_cost(o) == MATHLIB for o in nest_ops(op, em.plan)):
            self.memo = saved
            return self._fold_in_window(op, term_at, span, len(index_at("0")) - 1)
        else:  # serial; where the terms are zero outside a window (a CSR row, a triangle's row), only
            # the rows of 8 that meet it (the window is a part of the axis: no threads for it)
            steps = ("0", str(rows)) if span is None else \
                (f"{span[0]} // 8", f"min2({rows}, ({span[1]} + 7) // 8)")
            em.line(f"{total} = {self._fold_8way_steps(op, term_at, steps, saved, index_at, wide)}")
        self.memo = dict(saved)
        if n % 8:
            tail = em.fresh("r")
            with em.loop(tail, f"{n - n % 8}, {n}"):
                em.line(fold_update(op, total, term_at(tail)))
        self.memo = saved
        return total if float64_fold(op) else cast(total, op.out.dtype)

    def _fold_8way_steps(self, op: Op, term_at, steps: tuple[str, str], saved: dict, index_at,
                         wide: bool = False) -> str:
        """The 8 accumulators over rows `steps` (first, end) of 8 terms each, and their pairwise total
        (a long max or min: many more accumulators, `_extreme_in_array`, where `wide`)."""
        em = self.em
        if wide and _lane_fold(self, op) is None and not any(element_cost(o) == MATHLIB for o in nest_ops(op, em.plan)):
            return self._extreme_in_array(op, term_at, steps, saved, index_at)
        lanes, r, j = em.fresh("lanes"), em.fresh("r"), em.fresh("j")
        em.line(f"{lanes} = ({', '.join([fold_init(op)] * 8)}, )")
        lane_fn = LANE_UPDATE[op.prim.reduction.combine]
        inner = _lane_fold(self, op)
        if inner is not None:
            self._sum_with_inner_fold(inner, term_at, steps, lanes, r, j, lane_fn)
        elif (mask := sparse_mask(self.plan, op)) is not None:  # runs the mask selects nothing of: skipped
            self._sparse_rows(op, mask, term_at, index_at, steps, lanes, r, j, lane_fn)
        elif _terms_call(op, em.plan):  # (a mathlib term is never a sparse mask's: sparse_mask)
            self._sum_in_blocks(op, term_at, steps, lanes, r, j, lane_fn, index_at)
        else:
            with em.loop(r, ", ".join(steps) if steps[0] != "0" else steps[1]):
                with em.loop(j, "8"):
                    em.line(f"{lanes} = {lane_fn}({lanes}, {j}, {term_at(f'nonneg({r} * 8 + {j})')})")
        self.memo = dict(saved)
        acc = [f"{lanes}[{k}]" for k in range(8)]
        pair = PAIR[op.prim.reduction.combine]
        return pair(pair(pair(acc[0], acc[1]), pair(acc[2], acc[3])), pair(pair(acc[4], acc[5]), pair(acc[6], acc[7])))

    def _extreme_in_array(self, op: Op, term_at, steps: tuple[str, str], saved: dict, index_at) -> str:
        """A float max or min over rows `steps` (first, end) of 8 terms in
        EXTREME_BYTES of accumulators, an array, each row of them updated by a
        loop of its own, then folded in order (`_extreme_total`): a fused
        term's (`np.abs(u - v).max()`; an array's own is extrema.py's helper).
        LLVM vectorizes those loops; the NaN-propagating select of 8 lanes in
        a tuple stayed scalar code, 2 cycles a term. Max of 1.28M floats, one
        thread: float64 0.27 ms in 8 lanes, 0.136 ms in 128 (NumPy 0.136);
        float32 0.267 ms, 0.056 in 256 (NumPy 0.056). Exact in any order. A
        masked max (`x[m].max()`) runs each k only where m selects one of
        them (sparse_folds.py)."""
        em = self.em
        mask = sparse_mask(self.plan, op)
        dt = fold_acc_dtype(op)
        k = EXTREME_BYTES // dt.itemsize
        b, j, first, end, cut = (em.fresh(p) for p in ("b", "j", "e", "e", "e"))
        acc = self._accumulators(k, dt)
        with em.loop(j, str(k)):
            em.line(f"{acc}[{j}] = {fold_init(op)}")
        em.line(f"{first}, {end} = {steps[0]} * 8, {steps[1]} * 8")
        em.line(f"{cut} = {end} - ({end} - {first}) % {k}")
        with em.loop(b, f"{first}, {cut}, {k}"):
            if mask is not None:
                em.line(f"if {self._any_selected(op, mask, b, f'{b} + {k}', index_at)}:")
            with em.indented() if mask is not None else contextlib.nullcontext(), em.loop(j, str(k)):
                em.line(fold_update(op, f"{acc}[{j}]", term_at(f"nonneg({b} + {j})")))
        self.memo = dict(saved)
        with em.loop(j, f"{cut}, {end}"):
            em.line(fold_update(op, f"{acc}[{j} - {cut}]", term_at(f"nonneg({j})")))
        self.memo = dict(saved)
        return self._extreme_total(op, acc, k, j)

    def _accumulators(self, k: int, dt: np.dtype) -> str:
        """An array of k accumulators (`_extreme_in_array`): allocated once,
        before the loops of the nest (`scratch_at`, on its line), where no
        thread runs between there and here; else here. The max of each row
        of 1000 x 1000 float64 in 128 accumulators: 0.222 ms with them
        allocated for each row, 0.193 so (s51)."""
        em, name = self.em, self.em.fresh("ext")
        text = f"{name} = alloc({k}, np.{dt.name})"
        at = self.scratch_at
        if at is None or at >= len(em.lines) or any("numba.prange(" in ln for ln in em.lines[at + 1:]):
            em.line(text)
        else:
            em.lines[at] += f"; {text}"
        return name

    def _extreme_total(self, op: Op, acc: str, k: int, j: str) -> str:
        """The max (min) of k accumulators `acc`, in order. (Folded in halves,
        in loops that vectorize, a kernel of rows of 1000 float64 took 2.7 s
        to compile instead of 2.1: the rows of an array as it is are folded
        so by extrema.py's `max_rows` and `min_rows`, compiled once.)"""
        em, total = self.em, self.em.fresh("acc")
        em.line(f"{total} = {acc}[0]")
        with em.loop(j, f"1, {k}"):
            em.line(fold_update(op, total, f"{acc}[{j}]"))
        return total

    def _fold_in_window(self, op: Op, term_at, span: tuple[str, str], axis: int) -> str:
        """A float sum, min or max whose terms are neutral outside the window
        `span` (first, end: planning/fold_window.py), over the window only:
        8 accumulators over its rows of 8 counted from its first position,
        added pairwise, then the rest in order (NumPy's own order for a
        slice of up to 128 elements). Where the mask is nothing but the
        window's bounds, the terms inside are read without it and the loop
        vectorizes: Gauss-Seidel's `A[i, :i] @ x[:i]` (300 columns) ran
        with the mask at ~2 cycles a term, rows of 8 counted from position
        0 (the rows meeting the window, masked: 368 us against numba.njit's
        251). One loop and its tail: splitting those rows into masked ends
        and an unmasked middle cost segment_stats 2.1-2.6 -> 3.1 s of
        compile."""
        em = self.em
        first, end = span
        saved = dict(self.memo)
        masked = exact_window(op, axis, em.producers)
        unmask = masked is not None and masked.id in self.plan.inlined
        if unmask:
            self.unmasked.add(masked.id)
        lanes, r, j, rows = em.fresh("lanes"), em.fresh("r"), em.fresh("j"), em.fresh("nw")
        total, tail = em.fresh("acc"), em.fresh("r")
        lane_fn = LANE_UPDATE[op.prim.reduction.combine]
        try:
            em.line(f"{rows} = ({end} - {first}) // 8")
            em.line(f"{lanes} = ({', '.join([fold_init(op)] * 8)}, )")
            with em.loop(r, rows):
                with em.loop(j, "8"):
                    em.line(f"{lanes} = {lane_fn}({lanes}, {j}, {term_at(f'nonneg({first} + {r} * 8 + {j})')})")
            self.memo = dict(saved)
            acc = [f"{lanes}[{k}]" for k in range(8)]
            pair = PAIR[op.prim.reduction.combine]
            em.line(f"{total} = {pair(pair(pair(acc[0], acc[1]), pair(acc[2], acc[3])), pair(pair(acc[4], acc[5]), pair(acc[6], acc[7])))}")
            with em.loop(tail, f"{first} + {rows} * 8, {end}"):
                em.line(fold_update(op, total, term_at(tail)))
        finally:
            self.unmasked.discard(masked.id if masked is not None else None)
            self.memo = saved
        return total if float64_fold(op) else cast(total, op.out.dtype)

    def _sum_in_blocks(self, op: Op, term_at, steps: tuple[str, str], lanes: str, r: str, j: str,
                       lane_fn: str, index_at) -> None:
        """The sum's terms computed INNER_BLOCK at a time into a small array
        by a loop of their own, then added to the 8 lanes: a term holding
        exp or log (mathlib.py's vectorizable versions) is vectorized by LLVM
        in such a loop, while inside the 8-lane loop it stayed scalar code,
        slower than libm's (log_likelihood, `np.log(np.exp(-s) / c).sum()`
        over 10^5 elements: 3.7 ms in lanes, 0.47 ms in blocks; NumPy 0.47).
        Each lane takes the same terms in the same order: the same value, bit
        for bit.

        A term with one such call feeding another (`log(exp(-s) / c)`) has
        the inner one's values computed into a block of their own first, by
        a loop of its own (`_staged_calls`): both calls in one loop body ran
        4.2 ns per element, in two loops 2.4 ns (10^5 elements)."""
        em = self.em
        rows_per = INNER_BLOCK // 8
        blk, r0, e, n = em.fresh("terms"), em.fresh("r"), em.fresh("e"), em.fresh("n")
        em.line(f"{blk} = alloc({INNER_BLOCK}, np.{fold_acc_dtype(op).name})")
        stages = [(m, em.fresh("stage")) for m in _staged_calls(op, em.plan)]
        for m, name in stages:
            em.line(f"{name} = alloc({INNER_BLOCK}, np.{m.out.dtype.name})")
        with em.loop(r0, f"{steps[0]}, {steps[1]}, {rows_per}"):
            em.line(f"{n} = min2({rows_per}, {steps[1]} - {r0}) * 8")
            saved = dict(self.memo)
            at = f"nonneg({r0} * 8 + {e})"
            for m, name in stages:  # each stage reads the ones before it from their blocks
                staged = dict(self.memo)
                with em.loop(e, n):
                    em.line(f"{name}[{e}] = {self.value_at(m.out, index_at(at))}")
                self.memo = staged
                self.memo[(m.out.id, tuple(index_at(at)))] = f"{name}[{e}]"
            with em.loop(e, n):
                em.line(f"{blk}[{e}] = {term_at(at)}")
            self.memo = saved
            with em.loop(r, f"{r0}, {r0} + {n} // 8"):
                with em.loop(j, "8"):
                    em.line(f"{lanes} = {lane_fn}({lanes}, {j}, {blk}[nonneg(({r} - {r0}) * 8 + {j})])")

    def _sum_with_inner_fold(self, red: Op, term_at, steps: tuple[str, str], lanes: str, r: str, j: str,
                             lane_fn: str) -> None:
        """The sum's rows in blocks of INNER_BLOCK / 8, each block computing the
        fold `red` (`_lane_fold`) for its INNER_BLOCK positions first: the
        fold's loops outside, a loop over the block's neighbouring positions
        inside, which LLVM vectorizes (exp over 64 paths at once instead of
        one path's steps one by one; 8 positions were too few for it). Then
        the sum's terms read the block's fold values. Each fold takes its
        terms in the same order as before and each lane of the sum too: the
        same value, bit for bit."""
        em, x = self.em, red.inputs[0]
        # 256-bit vectors here (emitter.py `_vector_tuning`): LLVM unrolls the
        # short block loop of 512-bit steps in full and spills, and the fold's
        # rows are far apart in memory. gbm_paths (250 steps x 20,000 paths),
        # the kernel by hand: 21-22 ms with 256-bit vectors, 50 ms with 512
        # (blocks of 128 paths: 20-27 ms against 16.4 ms; seventeenth session)
        em.wide_vectors = False
        rows_per = INNER_BLOCK // 8
        blk, r0, e, n = em.fresh("inner"), em.fresh("r"), em.fresh("e"), em.fresh("n")
        em.line(f"{blk} = alloc({INNER_BLOCK}, np.{fold_acc_dtype(red).name})")
        with em.loop(r0, f"{steps[0]}, {steps[1]}, {rows_per}"):
            em.line(f"{n} = min2({rows_per}, {steps[1]} - {r0}) * 8")
            with em.loop(e, n):
                em.line(f"{blk}[{e}] = {fold_init(red)}")
            saved = dict(self.memo)
            loops = [em.fresh("r") for _ in folded_axes(red)]
            with contextlib.ExitStack() as stack:
                for var, k in zip(loops, folded_axes(red)):
                    stack.enter_context(em.loop(var, em.size(x, k)))
                stack.enter_context(em.loop(e, n))
                self.reductions.append(red)
                em.line(fold_update(red, f"{blk}[{e}]", self.term(red, [f"nonneg({r0} * 8 + {e})"], loops)))
            self.memo = dict(saved)
            at = f"nonneg({r} * 8 + {j})"
            value = f"{blk}[nonneg(({r} - {r0}) * 8 + {j})]"
            self.memo[(red.out.id, (at,))] = value if float64_fold(red) else cast(value, red.out.dtype)
            with em.loop(r, f"{r0}, {r0} + {n} // 8"):
                with em.loop(j, "8"):
                    em.line(f"{lanes} = {lane_fn}({lanes}, {j}, {term_at(at)})")
            self.memo = saved

    def _term_1d(self, op: Op, at: str) -> str:
        pool, self.pool = self.pool, self._term_pool(op)
        try:
            return " * ".join(self.value_at(u, [at]) for u in op.inputs)
        finally:
            self.pool = pool

    def _extreme_of_array(self, op: Op) -> str | None:
        """The float max or min of every element of an array read as it is,
        of EXTREME_MIN elements or more: a call of extrema.py's helper on a
        1-d view of it, compiled once and cached (its loops written into the
        kernel cost x.max() of a matrix 0.5 s of cold compile). None for any
        other fold."""
        x, em = op.inputs[0], self.em
        if not self._array_extreme(op):
            return None
        view = em.name(x) if x.ndim == 1 else f"contiguous({em.name(x)}).reshape(({int(np.prod(x.shape))}, ))"
        scratch = em.fresh("lanes")
        em.line(f"{scratch} = alloc({EXTREMA_LANES}, np.{x.dtype.name})")
        self.reductions.append(op)
        return f"{'max' if op.prim.reduction.combine == 'maximum' else 'min'}_lanes({view}, {scratch})"

    def _array_extreme(self, op: Op) -> bool:
        """Is op the float max or min of an array of EXTREME_MIN elements or
        more read as it is (`_extreme_of_array`)?"""
        x = op.inputs[0]
        return not (op.prim.reduction.combine not in ("maximum", "minimum") or len(op.inputs) != 1
                    or x.dtype not in (np.float32, np.float64) or len(folded_axes(op)) != x.ndim
                    or not all(isinstance(d, int) for d in x.shape) or int(np.prod(x.shape)) < EXTREME_MIN
                    or x.id in self.plan.inlined or constant_fill(self.plan.everywhere or self.plan.producer, x)
                    or not _plain_array(self, x))

    def _fold_flat(self, op: Op, parallel: bool, leaves: list[Value]) -> str:
        """A float sum, min or max over every axis of an elementwise term
        (`_flat_leaves`): the 8 lanes of a 1-d fold (`_fold_8way`) over the
        flattened elements, each array read through a 1-d view of itself
        (`contiguous`: a copy only where it is not C-contiguous). The index
        of a term is its flat position behind zeros. Nested loops with one
        accumulator chained every step and kept exp, tanh inside scalar:
        x.max() of 4000 x 300 ran 1.8 ms against NumPy's 0.15."""
        em, x = self.em, op.inputs[0]
        n = int(np.prod(x.shape))
        for v in leaves:
            view = em.fresh("flat")
            em.line(f"{view} = contiguous({em.name(v)}).reshape(({n}, ))")
            self.flat[v.id] = view
        lead = ["0"] * (x.ndim - 1)
        self.reductions.append(op)
        return self._fold_8way(op, parallel, lambda at: self.term(op, [], [*lead, at]), n, lambda at: [*lead, at])


def _staged_calls(op: Op, plan: BlockPlan) -> list[Op]:
    """The vectorized math calls (exp, log, ...) of a fold's term whose value
    feeds another such call, of the fold input's shape, innermost first; none
    where the term holds a fold of its own."""
    order: list[Op] = []  # the nest's ops, each after the ops it reads
    seen: set[int] = set()
    stack = [(op, False)]
    while stack:
        o, done = stack.pop()
        if done:
            order.append(o)
            continue
        if id(o) in seen:
            continue
        seen.add(id(o))
        stack.append((o, True))
        stack.extend((plan.producer[u.id], False) for u in o.inputs if u.id in plan.inlined)
    inner = order[:-1]  # the fold itself is last
    if any(is_fold(o) for o in inner):
        return []
    below: dict[int, set] = {}  # id(op) -> the calls its value is computed from
    fed: set[int] = set()  # calls whose value another call reads
    for o in inner:
        below[id(o)] = set()
        for u in o.inputs:
            p = plan.producer.get(u.id) if u.id in plan.inlined else None
            if p is not None:
                below[id(o)] |= below[id(p)] | ({id(p)} if element_cost(p) == MATHLIB else set())
        if element_cost(o) == MATHLIB:
            fed |= below[id(o)]
    shape = tuple(op.inputs[0].shape)
    return [o for o in inner if id(o) in fed and tuple(o.out.shape) == shape]


# A float sum split over threads is cut into at most this many chunks of steps.
PARALLEL_SUM_CHUNKS = 256


# --- folds ------------------------------------------------------------------------------------
# How the accumulator of a fold takes one more term, by the binary primitive the
# fold combines with (its `Reduction` trait); max and min propagate NaN as
# np.maximum and np.minimum do.
FOLD_UPDATE = {
    "add": "{acc} += {x}",
    "multiply": "{acc} *= {x}",
    "maximum": "{acc} = max_nan({acc}, {x})",
    "minimum": "{acc} = min_nan({acc}, {x})",
    "logical_and": "{acc} = {acc} & ({x} != 0)",
    "logical_or": "{acc} = {acc} | ({x} != 0)",
}
# (`&` and `|`, not `and` and `or`: Python's short circuit is a branch in each
# step, which keeps LLVM from unrolling and vectorizing the fold; erode3x3's
# 3x3 window test, bench/corpus/imaging.py, ran 147 us so against 47 us)
PARALLEL_FOLDS = ("add", "multiply")
# folds run in 8 lanes (`Fuser._fold_8way`): the intrinsic that updates lane j (templates.py), and
# how two lanes' totals combine
LANE_UPDATE = {"add": "lane_add", "minimum": "lane_min", "maximum": "lane_max"}
PAIR = {"add": lambda a, b: f"({a} + {b})", "minimum": lambda a, b: f"min_nan({a}, {b})",
        "maximum": lambda a, b: f"max_nan({a}, {b})"}  # folds split over threads (exact for integers, reassociated for floats)


# terms of a fold in blocks (`Fuser._fold_in_blocks`): a count's in a uint16 (at most 65535), an any's
# between tests of its accumulator (blocks of 1024, 4096, 16384: 0.6, 0.5, 0.6 us where the first
# element is True; all 10 us where none is, as in one loop); from FOLD_BLOCKED_MIN terms (a shorter
# fold keeps its one loop: two more loops of a kernel to compile for a microsecond or less)
FOLD_BLOCK = 4096
FOLD_BLOCKED_MIN = 4 * FOLD_BLOCK


def _block_fold(fz: Fuser, op: Op) -> str | None:
    """How `Fuser._fold_in_blocks` writes the fold op: "count" for an int64
    sum of bools (or of bools converted to integers, np.count_nonzero's), "any"
    or "all" for a logical or (and) whose terms are pure (elementwise ops
    that never raise, of arrays already made and scalars: skipping the rest
    changes nothing the plain function would have done); else None."""
    combine, x, plan = op.prim.reduction.combine, op.inputs[0], fz.plan
    if len(op.inputs) != 1:
        return None
    if combine == "add":
        made = plan.producer.get(x.id) if x.id in plan.inlined else None
        zero_one = x.dtype == np.bool_ or made is not None and made.prim.name == "convert" and \
            made.inputs[0].dtype == np.bool_
        return "count" if zero_one and fold_acc_dtype(op) == np.int64 else None
    if combine not in ("logical_or", "logical_and"):
        return None
    pure = all(o.prim.elementwise and not (o.prim.may_raise or o.prim.raises or o.prim.effectful)
               and o.prim.name != "gather" for o in nest_ops(op, plan)[1:])
    return ("any" if combine == "logical_or" else "all") if pure else None


def float64_fold(op: Op) -> bool:
    """Is the accumulator of this fold already of its dtype in Numba (float64
    or int64 terms, accumulator and result), so that it needs no cast?"""
    dt = op.out.dtype
    return (dt in (np.float64, np.int64) and fold_acc_dtype(op) == dt and all(u.dtype == dt for u in op.inputs)
            and op.prim.reduction.combine in ("add", "multiply", "maximum", "minimum"))


def fold_acc_dtype(op: Op) -> np.dtype:
    return op.prim.reduction.acc_dtype(op.inputs[0].dtype)


def fold_init(op: Op) -> str:
    acc = fold_acc_dtype(op)
    return literal(op.prim.reduction.start(op, acc), acc)  # (-0.0 for a loop's float sum: Reduction.start)


def fold_update(op: Op, acc: str, x: str) -> str:
    return FOLD_UPDATE[op.prim.reduction.combine].format(acc=acc, x=x)


def tied(op: Op) -> str | None:
    """Which of equal elements (+0.0 and -0.0) a float max or min fold keeps
    ("first", "last": ops/reduce.py `ties`), or None where NumPy's max leaves
    it open (or no zero can be signed)."""
    ties = op.attrs.get("ties")
    return ties if ties and op.prim.reduction.combine in ("maximum", "minimum") and \
        fold_acc_dtype(op).kind == "f" else None


def fold_step(op: Op, acc: str, x: str) -> str:
    """`fold_update` of a fold taking its terms in order: for a max or min
    keeping the last of ties, the step that keeps x of equal values
    (max_nan keeps acc: the first)."""
    if tied(op) == "last":
        return f"{acc} = {'max' if op.prim.reduction.combine == 'maximum' else 'min'}_nan_last({acc}, {x})"
    return fold_update(op, acc, x)


def _count(em: Emitter, x: Value, axes) -> str:
    """The number of terms of a fold over `axes` of x (the product of their sizes), as text."""
    return " * ".join(em.size(x, k) for k in axes)


# A nest of a few cheap ops per element (a copy, an add, a cast) is bound by
# memory bandwidth, which two threads barely raise, while each prange loop
# adds about 0.3 s of Numba compile time: such nests need this many times
# more elements before they run in parallel. Measured: rnn_taps float32,
# T=10^4, y=512 (two 5M-element streaming nests) compiled in 3.0-3.2 s with
# prange and 2.4 s without, and ran in the same time (0.17-0.19 s).
STREAMING_DISCOUNT = 16
# A nest whose gathers' indices must be checked runs in parallel after a
# serial loop that computes and checks every index (`_validate_first`): where
# the index is most of the element's work (np.histogram's bin), two threads
# only gain on nests this many times above the threshold. Measured:
# histogram_numpy, 10^6 samples, 5.8-8.3 ms serial against 6.4-8.9 ms so.
CHECKED_GATHER_DISCOUNT = 4


def _zero_fill(em: Emitter, op: Op) -> bool:
    """Is op a fresh array of zero bits (np.zeros: a broadcast of the constant
    0, +0.0 or False) of a known shape, not a row a loop reuses
    (`Emitter.fresh_rows`)? A fill loop wrote all of it, where NumPy's calloc
    leaves pages the program never touches unwritten (fem1d_assembly's
    (3000, 3000) matrix with a band written: 66 ms a call, 34 ms for NumPy)."""
    v, x = op.out, op.inputs[0] if op.inputs else None
    if op.prim.name != "broadcast_to" or x is None or x.const is None or np.ndim(x.const) != 0:
        return False
    if any(isinstance(d, Dim) for d in v.shape) or v.id in em.fresh_rows or id(op) in em.plan.map_group:
        return False
    try:
        bits = np.asarray(x.const).astype(v.dtype).tobytes()
    except (TypeError, ValueError):
        return False
    return not any(bits)


def emit_fused(em: Emitter, op: Op) -> None:
    """The loop nest of one fusion root (or one scalar statement)."""
    v, fz = op.out, Fuser(em)
    if id(op) in em.plan.lazy:
        _emit_lazy_select(em, op)
        return
    from .reductions import made_in_loop, row_extremes, rows_made_first

    if made_in_loop(em, op):  # (an argmax's loop computes each element)
        return
    factor = cost_factor(op, em.plan)
    work = nest_work(op, em.plan) * factor  # costly elements go parallel sooner
    work = work if not is_streaming(op, em.plan) else work // STREAMING_DISCOUNT
    costly = factor >= MATHLIB
    if v.ndim == 0:
        if is_fold(op) and op.inputs[0].ndim:
            par = op.prim.reduction.combine in PARALLEL_FOLDS and em.work_is_large(work, costly)
            _emit_scalar_folds(em, op, par)
            return
        expr = fz.value_at(v, [], produce=True)
        em.line(f"{em.name(v)} = {expr}")
        em.define(v)
        return
    if id(op) in em.plan.unfilled:  # every element is written before it is read (planning/fusion.py)
        em.fresh_array(v)
        return
    if _zero_fill(em, op):  # np.zeros: calloc'd as NumPy's, not a fill loop (templates.py `zeros`)
        em.line(f"{em.name(v)} = zeros({em.shape_text(v)}, {dtype_text(v.dtype)})")
        em.define(v, owned=True)
        return
    group = em.plan.map_group.get(id(op))
    if group:
        _emit_map_group(em, [op, *group])
        return
    rows = _row_group(em, op)
    if rows is not None:
        for o in rows[1:]:
            em.plan.skip.add(id(o))
        for o in rows:
            rows_made_first(em, o)
        _emit_row_group(em, rows)
        return
    if row_extremes(em, op):  # (a max of each row of an array: extrema.py's helper)
        return
    rows_made_first(em, op)  # (the same inlined in this nest: computed first, read from there)
    probe = _probe(em, op)
    # a nest whose gathers are checked has its indices checked first, on one thread
    big = em.work_is_large(work // CHECKED_GATHER_DISCOUNT if probe.checked_gathers else work, costly)
    if probe.checked_gathers and (big or _rechecked(probe.checked_gathers)):
        _validate_first(em, probe.checked_gathers)
    reuse = _reusable_input(em, op, probe)
    if reuse is not None:  # each element overwrites the one input element it reads
        out = em.name(v)
        em.line(f"{out} = {em.name(reuse)}")
        em.define(v, alias_of=reuse)
    elif not any(isinstance(d, Dim) for d in v.shape):
        out = em.fresh_array(v)
    else:
        out = _dim_array(em, op)
    counts = [str(d) if not isinstance(d, Dim) else f"{out}.shape[{k}]" for k, d in enumerate(v.shape)]
    at = _statement_line(em)  # (where scratch arrays of the nest's folds are made: `Fuser._accumulators`)
    reduction = _interchangeable(em, op, probe)
    if reduction is not None:
        _emit_interchanged(em, op, reduction, out, counts, big)
        return
    reduction = _tileable(em, op, probe)
    if reduction is not None:
        _emit_tiled(em, op, reduction, out, counts, big)
        return
    reduction = _stageable_rows(em, op, probe)
    if reduction is not None:
        _emit_staged_rows(em, op, reduction, out, counts, big)
        return

    cuts = _join_cuts(probe, v)
    check = em.plan.check_in_nest.get(id(op)) if not cuts else None
    counted = _check_counter(em, check)

    def nest(parallel: bool) -> None:
        if cuts:
            _emit_split(em, v, out, counts, cuts, parallel)
            return
        fz = Fuser(em)
        fz.scratch_at = at
        with em.loop_nest(counts, parallel_outer=parallel) as idx:
            em.line(f"{out}[{', '.join(idx)}] = {fz.value_at(v, idx, produce=True)}")
            if counted is not None:
                em.line(f"{counted} += " + " | ".join(f"({fz.value_at(p, idx)})" for p in check.inputs))

    counting_int_failures(em, nest, big and v.shape[0] != 1)


def _check_counter(em: Emitter, check: Op | None) -> str | None:
    """The variable counting the elements where an array check's predicates
    hold, in the nest that computes the value the check reads
    (planning/fusion.py `_checks_in_nests`); the check raises only if it is
    not 0 (check.py). Counted, not or-ed: a prange reduces a sum."""
    if check is None:
        return None
    counted = em.fresh("nfail")
    em.line(f"{counted} = 0")
    em.counted_checks[id(check)] = counted
    return counted


def _statement_line(em: Emitter) -> int | None:
    """The index of the last line written, where it is a simple statement at
    the current depth (more statements may join it after a `;`), else None."""
    if not em.lines:
        return None
    last = em.lines[-1]
    plain = not last.rstrip().endswith(":") and not last.lstrip().startswith(("return", "break", "continue", "#"))
    return len(em.lines) - 1 if plain and last.startswith("    " * em.depth) and \
        not last.startswith("    " * (em.depth + 1)) else None


def _emit_scalar_folds(em: Emitter, op: Op, par: bool) -> None:
    """A 0-d fold root, and the later 0-d fold roots of the block that can
    share its loops (siblings.py `later_fold_roots`, on threads as each
    would run alone): those the fold's group took are assigned here and
    skipped at their own place."""
    roots = [o for o in later_fold_roots(em, op) if _fold_threads(em, o) is par]
    folds: list[tuple[str, Fuser]] = []

    def nest(parallel: bool) -> None:
        fz = Fuser(em)
        fz.pool = [op, *roots]
        folds.append((fz._reduce(op, [], parallel=parallel), fz))

    expr, fz = folds[counting_int_failures(em, nest, par)]  # the folds whose lines stayed
    em.uses_prange |= par
    em.line(f"{em.name(op.out)} = {expr}")
    em.define(op.out)
    for o in roots:
        value = fz.memo.get((o.out.id, ()))
        if value is not None:
            em.line(f"{em.name(o.out)} = {value}")
            em.define(o.out)
            em.plan.skip.add(id(o))


def _fold_threads(em: Emitter, op: Op) -> bool | None:
    """Would the 0-d fold root op run on threads alone (`emit_fused`)? None
    where the answer depends on the kernel's count of medium regions."""
    from .emitter import PARALLEL_MIN_WORK

    factor = cost_factor(op, em.plan)
    work = nest_work(op, em.plan) * factor
    work = work if not is_streaming(op, em.plan) else work // STREAMING_DISCOUNT
    if op.prim.reduction.combine not in PARALLEL_FOLDS or not em.parallel or work < PARALLEL_MIN_WORK:
        return False
    if work >= 2 * PARALLEL_MIN_WORK:
        return True
    return None if factor >= MATHLIB else False


# --- index-set splitting at the pieces of a concatenate never made ------------------------------
# A nest reading a concatenate the plan never makes (planning/fusion.py `_skip_join`) along its
# innermost axis runs that loop as one loop per range between the pieces' boundaries: in each, every
# such read is one piece at a constant offset (shape.py `join_element`), and the loop vectorizes.
# A read along an outer axis tests its index instead, a test invariant in the inner loop.
MAX_CUTS = 8  # boundaries per nest: each range is one more copy of the nest's body to compile


def _join_cuts(probe: Fuser, v: Value) -> list[int]:
    """The positions of v's innermost axis at which a concatenate read along
    that axis passes from one piece to the next (none when there are too many)."""
    if not isinstance(v.shape[-1], int):
        return []
    inner, n, cuts = _symbols(v)[-1], v.shape[-1], set()
    for op, at in probe.join_reads:
        form = affine_index(at)
        if form is None or form[1] != inner:
            continue
        cuts |= {start - form[0] for start, _, _ in join_pieces(op)[1:]}
    cuts = sorted(c for c in cuts if 0 < c < n)
    return cuts if len(cuts) <= MAX_CUTS else []


def _emit_split(em: Emitter, v: Value, out: str, counts: list[str], cuts: list[int], parallel: bool) -> None:
    """The nest over v with its innermost loop split at `cuts`. A 1-d nest's
    one loop is its outer one too: each long range is a prange of its own."""
    n = v.shape[-1]
    bounds = [0, *cuts, n]
    with em.loop_nest(counts[:-1], parallel_outer=parallel and v.ndim > 1) as idx:
        for lo, hi in zip(bounds, bounds[1:]):
            fz = Fuser(em)
            if hi - lo == 1:
                _emit_element(em, fz, v, out, [*idx, str(lo)])
                continue
            j = em.fresh("i")
            fz.spans[j] = (lo, hi)
            with em.loop(j, f"{lo}, {hi}" if lo else str(hi), parallel and v.ndim == 1 and (hi - lo) * 4 >= n):
                _emit_element(em, fz, v, out, [*idx, j])


def _emit_element(em: Emitter, fz: Fuser, v: Value, out: str, idx: list[str]) -> None:
    em.line(f"{out}[{', '.join(idx)}] = {fz.value_at(v, idx, produce=True)}")


def counting_int_failures(em: Emitter, nest: Callable[[bool], None], parallel: bool) -> int:
    """Emit a nest, `nest(parallel)`, whose int() tests (scalar.py `pyint`)
    count failures branch-free, so that the loop stays SIMD and may run on
    threads (a test that raises in the loop cost a map of int(x * 64.0) over
    10^6 elements 0.19 -> 0.84 ms, and a raise keeps Numba from threading a
    prange); only if the count is not 0, the nest again, on one thread, with
    tests that raise: the first failure in row-major order raises, as in
    the plain function. A nest holding anything else that may raise (a
    checked index, which could read at a failed int's value first) is
    emitted once, with tests that raise; one with no int() is as it was.
    Returns which call of `nest` made the lines that compute the result: 0,
    or 1 when the first one's lines were taken back and emitted again."""
    from .emitter import may_raise

    start = len(em.lines)
    flag = em.fresh("nbad")
    em.line(f"{flag} = 0")
    em.int_flag = flag
    try:
        nest(parallel)
    finally:
        em.int_flag = None
    body = em.lines[start + 1:]
    if not any(flag in ln for ln in body):
        del em.lines[start], em.line_ops[start]
    elif may_raise(body):
        del em.lines[start:], em.line_ops[start:]
        nest(parallel)
        return 1
    else:
        flags = _one_update_per_counter(em, start, flag)
        em.line(f"if {' or '.join(flags)}:")
        with em.indented():
            nest(False)  # (its result, on one thread, is not read: it raises, or the value is the same)
    return 0


def _one_update_per_counter(em: Emitter, start: int, flag: str) -> list[str]:
    """The counters of a nest's int() failures, one per `flag += ...` line
    (the first keeps `flag`): a prange's reduction variable may be updated
    once per iteration only (Numba refuses `n += a; n += b` in one body:
    three int(floor(s)) of a particle push, probe W2)."""
    updates = [k for k in range(start + 1, len(em.lines)) if em.lines[k].lstrip().startswith(f"{flag} += ")]
    flags = [flag] + [f"{flag}_{j}" for j in range(1, len(updates))]
    for k, name in zip(updates[1:], flags[1:]):
        em.lines[k] = em.lines[k].replace(f"{flag} += ", f"{name} += ", 1)
    for name in reversed(flags[1:]):
        em.lines.insert(start + 1, em.lines[start].replace(flag, name, 1))
        em.line_ops.insert(start + 1, em.line_ops[start])
    return flags


def _one_element(em: Emitter, v: Value) -> str:
    """Source text of the one element of v, a scalar or a one-element array:
    an operand or the condition of a lazy select (`x[i:i + 1] *= 2.0` selects
    on a (1,) test computed where it is read)."""
    if v.id in em.plan.inlined:  # computed where it is read, `select(c, [-1.0], [-1.0])`: its element here
        return Fuser(em).value_at(v, ["0"] * v.ndim)
    if v.ndim and v.const is not None:
        return literal(np.asarray(v.const).reshape(-1)[0], v.dtype)
    if v.ndim and v.id not in em.elements:  # a one-element view (`y[i - 1]` of a (n, 1) row)
        return f"{em.name(v)}[{', '.join('0' for _ in range(v.ndim))}]"
    return em.name(v)


def _emit_lazy_select(em: Emitter, op: Op) -> None:
    """A scalar select whose operand ops run only on their branch
    (planning/fusion.py `_lazy_selects`)."""
    cond, *operands = op.inputs
    out = em.name(op.out)
    # an if/elif chain on a carry stays branches (planning/lazy_reads.py, templates.kept_branch)
    kept = em.waits_on_carry(op) and elif_chain(em.plan.lazy[id(op)])
    test = _one_element(em, unit_source(em.plan, cond))
    for k, (v, chain) in enumerate(zip(operands, em.plan.lazy[id(op)])):
        v = unit_source(em.plan, v)  # a scalar the plan reads as (1, 1) (planning/lazy_reads.py)
        em.line(f"if {test}:" if k == 0 else "else:")
        with em.indented():
            if kept and k == 0:
                em.line("kept_branch()")
            for o in chain:
                em.emit_op(o)
            same = v.const is None and v.dtype == op.out.dtype  # else both branches' types must agree
            text = _one_element(em, v)
            em.line(f"{out} = {text if same else cast(text, op.out.dtype)}")
    em.define(op.out)
    if op.out.ndim:  # one element, held as its scalar (stores and reads take it by name)
        em.elements.add(op.out.id)


def _group_outputs(em: Emitter, ops: list[Op], reusable: Callable, held: frozenset[int] = frozenset()) -> list[str]:
    """The names of a group's results: an input a root may write over in place
    (`reusable(op, probe)`) where no other root of the group reads that
    memory, else a fresh array; none ("") for the results in `held` (by
    value id: rows the group keeps in a buffer of its own, never written
    over)."""
    probes = [_probe(em, o) for o in ops]
    root = em.scope.root
    reads = [{root.get(u.id, u.id) for u, _, _ in p.reads} for p in probes]  # memory read, views included
    outs, taken = [], set()
    for k, (o, probe) in enumerate(zip(ops, probes)):
        if o.out.id in held:
            outs.append("")
            continue
        reuse = reusable(o, probe)
        if reuse is not None and reuse.id in held:
            reuse = None
        memory = root.get(reuse.id, reuse.id) if reuse is not None else None
        if reuse is not None and memory not in taken and not any(
                memory in r for j, r in enumerate(reads) if j != k):
            taken.add(memory)
            outs.append(em.name(o.out))
            em.line(f"{outs[-1]} = {em.name(reuse)}")
            em.define(o.out, alias_of=reuse)
        else:
            outs.append(em.fresh_array(o.out))
    return outs


def _group_work(em: Emitter, ops: list[Op]) -> tuple[int, bool]:
    """(elements of work, whether costly) of a group's roots, for the parallel decision."""
    work, costly = 0, False
    for o in ops:
        factor = cost_factor(o, em.plan)
        w = nest_work(o, em.plan) * factor
        work += w // STREAMING_DISCOUNT if is_streaming(o, em.plan) else w
        costly |= factor >= MATHLIB
    return work, costly


def _emit_map_group(em: Emitter, ops: list[Op]) -> None:
    """Maps over one shape that read none of each other's results
    (planning/fusion.py `_group_maps`) in one loop nest: at each index, every
    map's element in turn, sharing the temporaries they have in common. A map
    writes over an input in place only when no other map of the group reads
    it (each reads an element before it is written only within its own map)."""
    outs = _group_outputs(em, ops, lambda o, probe: _reusable_input(em, o, probe))
    work, costly = _group_work(em, ops)
    shape = ops[0].out.shape
    fz, outer = Fuser(em), em.op
    big = shape[0] != 1 and em.work_is_large(work, costly)
    with em.loop_nest([str(d) for d in shape], parallel_outer=big) as idx:
        try:
            for o, out in zip(ops, outs):
                em.op = o  # each line names its own op (error messages)
                em.line(f"{out}[{', '.join(idx)}] = {fz.value_at(o.out, idx, produce=True)}")
        finally:
            em.op = outer


# --- roots over the same leading axis, row by row in one nest -----------------------------------
# The roots one right after another over the same leading axis (static, of length N), each reading
# the others' results only in the row it computes (`x[i, ...]` at its own i): one loop over the
# rows, each root's elements of row i in turn (its inner loops, its folds), instead of one pass
# (one `prange`, 0.3-0.5 s of Numba compile each) per root over the whole array. assign_nearest's
# distances, their minimum, the test of which center reaches it and its index: seven passes over
# (100000, 16), the distances read back from memory each time, against one, a row in cache.
ROW_GROUP_MAX = 8


def _row_group(em: Emitter, op: Op) -> list[Op] | None:
    """[op, *members] when op heads such a group of at least two roots, else None."""
    import os

    if os.environ.get("LOOPTRACE_NO_ROW_GROUPS"):
        return None
    v = op.out
    if v.ndim < 1 or not all(isinstance(d, int) for d in v.shape) or v.shape[0] < 2:
        return None
    block = getattr(em.scope, "block", None)
    if block is None or em.scope.pos >= len(block.ops) or block.ops[em.scope.pos] is not op:
        return None
    if not _row_member(em, op, v.shape[0], set()):
        return None
    group, outs = [op], {v.id}
    for nxt in block.ops[em.scope.pos + 1:]:
        if id(nxt) in em.plan.skip:
            continue
        if len(group) >= ROW_GROUP_MAX or not _row_member(em, nxt, v.shape[0], outs):
            break
        group.append(nxt)
        outs.add(nxt.out.id)
    return group if len(group) > 1 else None


def _row_member(em: Emitter, op: Op, n: int, outs: set[int]) -> bool:
    """Can root `op` compute its row i inside a loop over the rows of a group
    whose results so far are `outs`?"""
    plan = em.plan
    if id(op) not in plan.fused_roots or id(op) in plan.unfilled or id(op) in plan.lazy \
            or plan.map_group.get(id(op)) or len(op.outputs) != 1:
        return False
    v = op.out
    if v.ndim < 1 or not all(isinstance(d, int) for d in v.shape) or v.shape[0] != n:
        return False
    probe = _probe(em, op)
    if probe.checked_gathers or _interchangeable(em, op, probe) is not None \
            or _tileable(em, op, probe) is not None or _stageable_rows(em, op, probe) is not None:
        return False
    root = em.scope.root
    for u, idx, _ in probe.reads:
        memory = root.get(u.id, u.id)
        if memory in outs or u.id in outs:
            if u.id not in outs or not idx or idx[0] != "@0@":
                return False  # another row of a result of the group, or a view of one
    return True


# A result of a row group that only later members of the group read (at the row they compute) is
# never made whole: each row is held in a buffer of one row (a scalar for a 1-d result), made once per
# block of ROW_BLOCK rows. assign_nearest's distances, their NaN test and the distances with NaN as
# inf were three (100000, 16) arrays, 28.8 MB written and read back, freshly mapped on each call
# (page faults): 12.4 ms on one thread against numba.njit's 2.2 ms. At least ROW_BLOCKS blocks where
# there are as many rows (the threads take blocks).
ROW_BLOCK = 256
ROW_BLOCKS = 64


def _held_rows(em: Emitter, ops: list[Op]) -> frozenset[int]:
    """The ids of the group's results that only later members read: each
    reader is a later member, or an op fused into the nests of later members
    only (never made itself); none is a result of the block or inside a body."""
    block, inlined = em.scope.block, em.plan.inlined
    members = {id(o): k for k, o in enumerate(ops)}
    uses = use_map(block)

    def only_after(v: Value, k: int, depth: int = 0) -> bool:
        us = uses.get(v.id, [])
        if not us or depth > 16:
            return False
        for u in us:
            if u.op is None or u.nested:
                return False
            if members.get(id(u.op), -1) > k:
                continue
            if id(u.op) in members or len(u.op.outputs) != 1 or u.op.out.id not in inlined or \
                    not only_after(u.op.out, k, depth + 1):
                return False
        return True

    return frozenset(o.out.id for k, o in enumerate(ops[:-1]) if o.out.id not in inlined and only_after(o.out, k))


def _emit_row_group(em: Emitter, ops: list[Op]) -> None:
    """The group's loop over rows. A member writes over an input in place
    (`_reusable_input`, judged at its own position in the block) only where
    no other member reads that memory. The rows of the members only the
    group reads are held in buffers of one row (`_held_rows`), made once
    per block of rows."""
    block, head_pos = em.scope.block, em.scope.pos

    def reusable(o: Op, probe: Fuser) -> Value | None:
        em.scope.pos = next(j for j, b in enumerate(block.ops) if b is o)  # (its own last uses)
        try:
            return _reusable_input(em, o, probe)
        finally:
            em.scope.pos = head_pos

    held = _held_rows(em, ops)
    outs = _group_outputs(em, ops, reusable, held)
    work, costly = _group_work(em, ops)
    n = ops[0].out.shape[0]
    big = em.work_is_large(work, costly)
    outer = em.op

    def rows(i: str, buffers: dict[int, tuple[str, str]]) -> None:
        try:
            for o, out in zip(ops, outs):
                em.op = o  # each line names its own op (error messages)
                with em.loop_nest([str(d) for d in o.out.shape[1:]]) as rest:
                    fz = Fuser(em)
                    fz.held = buffers
                    value = fz.value_at(o.out, [i, *rest], produce=True)
                    if not rest and o.out.id not in buffers:  # one value a row: later members read the local
                        buffers[o.out.id] = (em.fresh("row"), i)
                    if o.out.id in buffers:
                        name = buffers[o.out.id][0]
                        if not rest and constant_fill(em.plan.everywhere or em.plan.producer, o.out) is not None:
                            value = cast(value, o.out.dtype)  # a literal: a local takes its type, an array its own
                        em.line(f"{name} = {value}" if not rest else f"{name}[{', '.join(rest)}] = {value}")
                    if o.out.id not in held:
                        em.line(f"{out}[{', '.join([i, *rest])}] = {name if not rest else value}")
        finally:
            em.op = outer

    def nest(parallel: bool) -> None:
        if not held:
            with em.loop_nest([str(n)], parallel_outer=parallel) as (i,):
                rows(i, {})
            return
        t, lo, i = em.fresh("blk"), em.fresh("lo"), em.fresh("i")
        # (blocks for the threads to share; on one thread, a block of one row would allocate its
        # held row once a row: 8 allocations a step of a scan over an 8 x 8 state)
        size = min(ROW_BLOCK, -(-n // ROW_BLOCKS) if parallel else n)
        buffers, made = {}, []
        for o in ops:
            if o.out.id in held:
                buf = em.fresh("row")
                buffers[o.out.id] = (buf, i)
                if o.out.ndim > 1:
                    shape = ", ".join(str(d) for d in o.out.shape[1:])
                    line = f"{buf} = alloc(({shape}, ), {dtype_text(o.out.dtype)})"
                    if parallel or not _row_before_loop(em, o.out, line):
                        made.append(line)
        with em.loop(t, str(-(-n // size)), parallel):
            em.line(f"{lo} = {t} * {size}")
            for line in made:
                em.line(line)
            with em.loop(i, f"{lo}, min({lo} + {size}, {n})"):
                rows(i, buffers)

    counting_int_failures(em, nest, big)


def _row_before_loop(em: Emitter, v: Value, line: str) -> bool:
    """Allocate a held row of v's group once, before the serial loop whose
    body (at this depth) makes v each iteration (regions.py `reserve_rows`),
    not once a step; False where there is no such loop."""
    rows = em.fresh_rows.get(v.id)
    if rows is None or rows[2] != em.depth:
        return False
    at, indent, _, made, _ = rows
    made.append(line)
    em.lines[at] = indent + "; ".join(made)
    return True


def _rechecked(gathers: list[Op]) -> bool:
    """Would the nest check an index at more than one element (a gather of
    rows, `X[idx]` of (32, 20): each row's index checked at each of its 20
    elements, where LLVM does not hoist the check out of the row's loop)?
    Then the indices are checked first, once each (`_validate_first`)."""
    for g in gathers:
        shapes = (g.out.shape, g.inputs[1].shape)
        if all(isinstance(d, int) for s in shapes for d in s) and int(np.prod(shapes[0])) > int(np.prod(shapes[1])):
            return True
    return False


def _validate_first(em: Emitter, gathers: list[Op]) -> None:
    """A raising check inside a loop keeps Numba from running it as a prange
    (it falls back to one thread). For a nest large enough for threads, the
    gathers' indices are checked first, in a loop of their own (the error is
    the same IndexError, naming the first bad index of each gather), and the
    nest reads them with the wrap alone (`em.validated_gathers`)."""
    for g in gathers:
        x, idx, axis = g.inputs[0], g.inputs[1], g.attrs["axis"]
        w = select_window(idx, idx.ndim - 1, em.producers) if idx.ndim else None
        if w is not None:  # indices through a varying slice, 0 outside it: checked inside it only
            with em.loop_nest([em.size(idx, k) for k in range(idx.ndim - 1)]) as outer:
                fz = Fuser(em)
                first, end = _window_text(fz, w, outer + ["0"], f"np.int64({em.size(idx, idx.ndim - 1)})")
                r = em.fresh("r")
                with em.loop(r, f"{first}, {end}"):
                    raw = fz.value_at(idx, outer + [r])
                    em.line(f"check_elem({as_int64(raw, idx.dtype)}, {em.size(x, axis)}, {em.error_code(axis)})")
        else:
            with em.loop_nest([em.size(idx, k) for k in range(idx.ndim)]) as at:
                raw = Fuser(em).value_at(idx, at) if idx.ndim else em.name(idx)
                em.line(f"check_elem({as_int64(raw, idx.dtype)}, {em.size(x, axis)}, {em.error_code(axis)})")
        em.validated_gathers.add(id(g))


def _window_text(fz: Fuser, w, at_start: list[str], size: str) -> tuple[str, str]:
    """(first, end) names of a window's positions, clipped to [0, size), read at `at_start`."""
    em = fz.em

    def bound(b) -> str:
        text = as_int64(fz.value_at(b.value, broadcast_index(b.value, w.masked, at_start)), b.value.dtype)
        return f"{text} + {b.shift}" if b.shift else text

    first, end = em.fresh("lo"), em.fresh("hi")
    lo = "np.int64(0)"
    for b in w.lows:
        lo = f"max2({lo}, {bound(b)})"
    hi = size
    for b in w.highs:
        hi = f"min2({hi}, {bound(b)})"
    em.line(f"{first} = {lo}")
    em.line(f"{end} = max2({first}, {hi})")
    return first, end


def _ramp_text(start: int, step: int, at: str) -> str:
    scaled = at if step == 1 else f"{step} * {at}"
    return scaled if start == 0 else f"{start} + {scaled}"


# --- reductions with the last kept axis innermost ----------------------------------------------
# `out[i, j] = f(sum_d g(x[i, d], W[d, j]))` read in its natural order sums over
# d innermost: one dependent add chain per element (no SIMD without
# reassociating) and W read down a column. When every array the sum reads
# that varies with j is contiguous along j, the nest is interchanged instead:
#     for i: acc[:] = 0; for d: for j: acc[j] += g(...)   then   for j: out[i, j] = f(acc[j])
# The j loop is independent (it vectorizes) and walks W along its rows. Each
# element is still summed over d in the same order, so the values are the same.
INTERCHANGE_MIN = 8  # the last kept axis must be at least this long


def _symbols(v: Value) -> list[str]:
    return [f"@{k}@" for k in range(v.ndim)]


INNER_BLOCK = 64  # positions whose inner folds are computed together (`Fuser._sum_with_inner_fold`)
# a max or min of at least EXTREME_MIN terms runs in EXTREME_BYTES of accumulators (`Fuser._extreme_in_array`)
EXTREME_BYTES = 1024
EXTREME_MIN = 4096


def _lane_fold(fz: Fuser, op: Op) -> Op | None:
    """The one fold computed inside each term of the 1-d sum `op`, when its
    accumulation runs along a strided axis of an input whose contiguous last
    axis is the sum's (so 8 lanes of the sum read 8 neighbours): gbm_paths'
    `prod(exp(c + s * z[t, path]) over t)` per path, under the mean over
    paths. None otherwise: the term is computed lane by lane as before."""
    plan = fz.plan
    x = op.inputs[0]
    if x.ndim != 1 or len(op.inputs) != 1 or x.id not in plan.inlined:
        return None
    folds, stack, seen = [], [plan.producer[x.id]], set()
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if is_fold(o):
            folds.append(o)
            continue
        spread = o.prim.name == "broadcast_to" and all(u.ndim == 0 for u in o.inputs)  # a scalar everywhere
        if not (o.prim.family == "elementwise" or spread) or tuple(o.out.shape) != tuple(x.shape):
            return None
        stack.extend(plan.producer[u.id] for u in o.inputs if u.ndim and u.id in plan.inlined)
    if len(folds) != 1:
        return None
    red = folds[0]
    y, axes = red.inputs[0], folded_axes(red)
    if (red.prim.reduction is None or red.prim.reduction.combine not in ("add", "multiply") or len(red.inputs) != 1
            or fold_acc_dtype(red).kind != "f" or tuple(red.out.shape) != tuple(x.shape)
            or y.ndim - len(axes) != 1 or (y.ndim - 1) in axes):
        return None
    return red


def _flat_leaves(fz: Fuser, op: Op) -> list[Value] | None:
    """The arrays read by the term of a fold over every axis of its input
    (of 2 axes or more, shape known), when that term is elementwise over
    arrays of the input's shape (and scalars), each read as it is: the fold
    may then run over the flattened elements (`Fuser._fold_flat`). None
    otherwise (a broadcast row, a transpose or slice read through its base,
    a fold inside the term, a window of positions)."""
    x, em = op.inputs[0], fz.em
    if x.ndim < 2 or len(folded_axes(op)) != x.ndim or not all(isinstance(d, int) for d in x.shape) \
            or window(op, x.ndim - 1, em.producers) is not None:
        return None
    leaves, stack, seen = [], list(op.inputs), set()
    while stack:
        v = stack.pop()
        if v.ndim == 0 or v.id in seen or constant_fill(fz.plan.everywhere or fz.plan.producer, v) is not None:
            continue  # (a fill's element is its constant, never read)
        seen.add(v.id)
        if tuple(v.shape) != tuple(x.shape):
            return None
        if v.id not in fz.plan.inlined:
            if not _plain_array(fz, v):
                return None
            leaves.append(v)
            continue
        o = fz.plan.producer[v.id]
        spread = o.prim.name == "broadcast_to" and all(u.ndim == 0 for u in o.inputs)  # a scalar everywhere
        if not (o.prim.family == "elementwise" or spread):
            return None
        stack.extend(o.inputs)
    return leaves


def _plain_array(fz: Fuser, v: Value) -> bool:
    """Is a nest's read of v at index idx `name(v)[idx]` (`Fuser.value_at`)?"""
    plan, em = fz.plan, fz.em
    if progression(v) is not None or v.id in em.elements or v.id in fz.held:
        return False
    op = plan.producer.get(v.id)
    return op is None or not (id(op) in plan.unit_reshapes or id(op) in plan.joins or read_through(op, plan)
                              or slice_read(op, plan, _symbols(v)) is not None)


def _probe(em: Emitter, op: Op) -> Fuser:
    """A dry run of the root's element at symbolic index `_symbols(op.out)`:
    no line stays, the Fuser keeps what was read and reduced."""
    probe = Fuser(em)
    start = len(em.lines)
    try:
        probe.value_at(op.out, _symbols(op.out), produce=True)
    finally:
        del em.lines[start:], em.line_ops[start:]
    return probe


def _interchangeable(em: Emitter, op: Op, probe: Fuser) -> Op | None:
    """The one reduction in this root's nest when the interchange pays, else None."""
    v = op.out
    if isinstance(v.shape[-1], int) and v.shape[-1] < INTERCHANGE_MIN or len(probe.reductions) != 1:
        return None
    red = probe.reductions[0]
    if tuple(red.out.shape) != tuple(v.shape) or not _same_index_path(em.plan, red, op):
        return None
    j = _symbols(v)[-1]
    varying = [idx for _, idx, in_red in probe.reads if in_red and any(j in i for i in idx)]
    if not varying or any(idx[-1] != j for idx in varying):
        return None
    return red


# --- reductions over tiles of the last two kept axes ---------------------------------------------
# `out[i, c] = sum_r g(s[r, i], y[r, c], y[i, c])` with c short (nbody_numpy's
# `(r.T * s).T` summed over bodies r, c the 2 coordinates): with r innermost
# each step reads s down a column (a cache miss per element of a 4096 x 4096
# s), and the last axis is too short for `_interchangeable`. The nest runs
# over tiles of i instead (in parallel), r outside i and c:
#     for tile: acc[:, :] = 0; for r: for i in tile: for c: acc[i, c] += g(...)
# so s is read along its rows, TILE_ROWS elements at a time. Each element is
# still summed over r in the same order: the same values.
TILE_ROWS = 256  # positions of the second last axis per tile (acc: TILE_ROWS x last axis)
TILE_MIN = 64  # the second last axis must be at least this long


def _tileable(em: Emitter, op: Op, probe: Fuser) -> Op | None:
    """The one reduction in this root's nest when running it over tiles of
    its two last axes pays: some array the sum reads along its reduced axis
    is contiguous along the second last kept axis (read down a column in the
    natural order), and every array it reads that varies with the two last
    axes is contiguous along one of them."""
    v = op.out
    if v.ndim < 2 or len(probe.reductions) != 1 or not all(isinstance(d, int) for d in v.shape[-2:]):
        return None
    if v.shape[-2] < TILE_MIN or v.shape[-1] >= INTERCHANGE_MIN or v.shape[-1] * TILE_ROWS > 8192:
        return None
    red = probe.reductions[0]
    if tuple(red.out.shape) != tuple(v.shape) or not _same_index_path(em.plan, red, op):
        return None
    i, j = _symbols(v)[-2:]
    reads = [idx for _, idx, in_red in probe.reads if in_red]
    if any((any(i in x or j in x for x in idx)) and idx[-1] not in (i, j) for idx in reads):
        return None
    down = [idx for idx in reads if idx[-1] == i and any(_reduced(x) for x in idx[:-1])]
    return red if down else None


def _reduced(index: str) -> bool:
    """Does this index text vary with a reduced loop (no kept axis's symbol, not a constant)?"""
    return "@" not in index and not index.lstrip("-").isdigit()


@contextlib.contextmanager
def _blocks(em: Emitter, op: Op, outer_counts: list[str], n: int, block: int, big: bool, name: str):
    """Loops over `outer_counts` (op's leading axes), then over blocks of
    `block` positions of an axis of n: the threads take the leading axis
    when there is one, else the blocks (`name`: the block loop's variable).
    Yields (outer index, lo, hi)."""
    lead = bool(outer_counts)
    with em.loop_nest(outer_counts, parallel_outer=big and lead and op.out.shape[0] != 1) as outer:
        t, lo, hi = em.fresh(name), em.fresh("lo"), em.fresh("hi")
        with em.loop(t, str(-(-n // block)), parallel=big and not lead):
            em.line(f"{lo} = {t} * {block}")
            em.line(f"{hi} = min({lo} + {block}, {n})")
            yield outer, lo, hi


def _emit_tiled(em: Emitter, op: Op, red: Op, out: str, counts: list[str], big: bool) -> None:
    x, axes = red.inputs[0], folded_axes(red)
    acc_dt = fold_acc_dtype(red)
    n, m = op.out.shape[-2:]
    tile = min(TILE_ROWS, n)
    with _blocks(em, op, counts[:-2], n, tile, big, "tile") as (outer, lo, hi):
        acc = em.fresh("acc")
        em.line(f"{acc} = alloc(({tile}, {m}), {dtype_text(acc_dt)})")
        i, j = em.fresh("i"), em.fresh("j")
        with em.loop(i, str(tile)), em.loop(j, str(m)):
            em.line(f"{acc}[{i}, {j}] = {fold_init(red)}")
        fz = Fuser(em)
        inner = [em.fresh("r") for _ in axes]
        with contextlib.ExitStack() as stack:
            for var, k in zip(inner, axes):
                stack.enter_context(em.loop(var, em.size(x, k)))
            stack.enter_context(em.loop(i, f"{lo}, {hi}"))
            stack.enter_context(em.loop(j, str(m)))
            at = [*outer, f"nonneg({i})", j]
            em.line(fold_step(red, f"{acc}[{i} - {lo}, {j}]", fz.term(red, at, inner)))
        fz = Fuser(em)
        fz.memo = {(red.out.id, (*outer, i, j)): cast(f"{acc}[{i} - {lo}, {j}]", red.out.dtype)}
        with em.loop(i, f"{lo}, {hi}"), em.loop(j, str(m)):
            em.line(f"{out}[{', '.join([*outer, i, j])}] = {fz.value_at(op.out, [*outer, i, j], produce=True)}")


# --- short folds of costly terms, their terms computed a block of rows at a time ---------------
# `np.exp(z - m).sum(axis=1)` over (100000, 32): each row's 32 terms were summed as they were
# computed, so the exp (mathlib.py's vectorizable one) ran as scalar code inside the fold's
# chain, ~5 ns per element, and the fold is too short for the 8 lanes of `_fold_8way`. The
# nest runs over blocks of STAGED_ROWS_BYTES of terms instead: a loop computes a block's
# terms into a small array (no chain: LLVM vectorizes the exp), then each row's fold adds
# them in the same order as before: the same values, bit for bit.
STAGED_ROWS_BYTES = 16384  # the terms of one block of rows (in L1)
STAGED_MAX = 64  # folds this long or longer run in 8 lanes (`Fuser._reduce`)


def _stageable_rows(em: Emitter, op: Op, probe: Fuser) -> Op | None:
    """The one fold in this root's nest when staging its terms pays: it folds
    the last axis of its input, shorter than STAGED_MAX, over a term that
    calls a mathlib function, at the root's own index."""
    v = op.out
    if v.ndim < 1 or len(probe.reductions) != 1 or not isinstance(v.shape[-1], int) or v.shape[-1] < 8:
        return None
    red = probe.reductions[0]
    x, axes = red.inputs[0], folded_axes(red)
    if axes != (x.ndim - 1,) or not isinstance(x.shape[-1], int) or not 2 <= x.shape[-1] < STAGED_MAX:
        return None
    if x.ndim - 1 != v.ndim or tuple(red.out.shape) != tuple(v.shape) or not _same_index_path(em.plan, red, op):
        return None
    if window(red, axes[0], em.producers) is not None:  # its terms are zero outside a window
        return None
    return red if any(element_cost(o) == MATHLIB for o in nest_ops(red, em.plan)) else None


def _emit_staged_rows(em: Emitter, op: Op, red: Op, out: str, counts: list[str], big: bool) -> None:
    acc_dt = fold_acc_dtype(red)
    n, rows = red.inputs[0].shape[-1], op.out.shape[-1]
    block = min(rows, max(8, STAGED_ROWS_BYTES // (n * acc_dt.itemsize)))
    with _blocks(em, op, counts[:-1], rows, block, big, "blk") as (outer, lo, hi):
        terms = em.fresh("terms")
        em.line(f"{terms} = alloc(({block}, {n}), {dtype_text(acc_dt)})")
        i, r = em.fresh("i"), em.fresh("r")
        fz = Fuser(em)
        with em.loop(i, f"{lo}, {hi}"), em.loop(r, str(n)):
            em.line(f"{terms}[{i} - {lo}, {r}] = {fz.term(red, [*outer, f'nonneg({i})'], [r])}")
        acc = em.fresh("acc")
        with em.loop(i, f"{lo}, {hi}"):
            em.line(f"{acc} = {fold_init(red)}")
            with em.loop(r, str(n)):
                em.line(fold_step(red, acc, f"{terms}[{i} - {lo}, {r}]"))
            fz = Fuser(em)
            fz.memo = {(red.out.id, (*outer, i)): acc if float64_fold(red) else cast(acc, red.out.dtype)}
            em.line(f"{out}[{', '.join([*outer, i])}] = {fz.value_at(op.out, [*outer, i], produce=True)}")


def _reusable_input(em: Emitter, op: Op, probe: Fuser) -> Value | None:
    """An input array this elementwise nest may overwrite: ours, dead after
    this op, of the output's shape and dtype, contiguous, and read only at
    the element being written."""
    if probe.reductions or any(isinstance(d, Dim) for d in op.out.shape):
        return None
    here = _symbols(op.out)
    reads: dict[int, list] = {}
    for u, idx, _ in probe.reads:
        reads.setdefault(u.id, [u]).append(idx)
    for u, *indices in reads.values():
        if (u.const is None and u.dtype == op.out.dtype and tuple(u.shape) == tuple(op.out.shape)
                and all(idx == here for idx in indices) and _contiguous_owned(em, u)
                and em.scope.can_consume(u)):
            return u
    return None


def _contiguous_owned(em: Emitter, u: Value) -> bool:
    """Memory this kernel allocated for u itself, or a reshape of it."""
    if u.id in em.scope.owned:
        return True
    producer = em.plan.producer.get(u.id)
    return producer is not None and producer.prim.name == "reshape" and em.scope.root.get(u.id) in em.scope.owned


def _same_index_path(plan: BlockPlan, red: Op, root: Op) -> bool:
    """Is every op from `red` up to `root` elementwise over the same shape,
    so `red` is read at the root's own index?"""
    op = root
    while op is not red:
        if op.prim.family != "elementwise" or tuple(op.out.shape) != tuple(root.out.shape):
            return False
        nxt = [plan.producer[u.id] for u in op.inputs if u.id in plan.inlined
               and tuple(u.shape) == tuple(root.out.shape)]
        chain = [p for p in nxt if _reaches(plan, p, red)]
        if len(chain) != 1:
            return False
        op = chain[0]
    return True


def _reaches(plan: BlockPlan, op: Op, target: Op) -> bool:
    stack, seen = [op], set()
    while stack:  # without recursing once per link
        o = stack.pop()
        if o is target:
            return True
        if id(o) in seen:
            continue
        seen.add(id(o))
        stack.extend(plan.producer[u.id] for u in o.inputs if u.id in plan.inlined)
    return False


def _emit_interchanged(em: Emitter, op: Op, red: Op, out: str, counts: list[str], big: bool) -> None:
    x, axes = red.inputs[0], folded_axes(red)
    acc_dt = fold_acc_dtype(red)
    chunks = _column_chunks(red, op, big)
    if chunks:
        _emit_chunked_columns(em, op, red, out, counts, chunks)
        return
    with em.loop_nest(counts[:-1], parallel_outer=big and op.out.ndim > 1 and op.out.shape[0] != 1) as outer:
        fz = Fuser(em)
        acc = em.fresh("acc")
        em.line(f"{acc} = alloc({counts[-1]}, {dtype_text(acc_dt)})")
        j = em.fresh("j")
        with em.loop(j, counts[-1]):
            em.line(f"{acc}[{j}] = {fold_init(red)}")
        inner = [em.fresh("r") for _ in axes]
        with contextlib.ExitStack() as stack:
            for var, k in zip(inner, axes):
                stack.enter_context(em.loop(var, em.size(x, k)))
            stack.enter_context(em.loop(j, counts[-1]))
            em.line(fold_step(red, f"{acc}[{j}]", fz.term(red, [*outer, j], inner)))
        fz.memo = {(red.out.id, (*outer, j)): cast(f"{acc}[{j}]", red.out.dtype)}
        with em.loop(j, counts[-1]):
            em.line(f"{out}[{', '.join([*outer, j])}] = {fz.value_at(op.out, [*outer, j], produce=True)}")




COLUMN_CHUNK = 512  # rows at least per part of a parallel column fold
COLUMN_PARTS = 32  # parts at most: a fixed split, so the sum's order does not depend on the thread count


def _column_chunks(red: Op, op: Op, big: bool) -> int:
    """The number of row parts a one-dimensional interchanged fold is split
    into across threads, or 0 to run it in one loop."""
    n = red.inputs[0].shape[folded_axes(red)[0]]
    if not big or op.out.ndim != 1 or red.prim.reduction.combine not in PARALLEL_FOLDS or not isinstance(n, int):
        return 0
    parts = min(COLUMN_PARTS, n // COLUMN_CHUNK)
    return parts if parts >= 2 else 0


def _emit_chunked_columns(em: Emitter, op: Op, red: Op, out: str, counts: list[str], parts: int) -> None:
    """out[j] = fold over rows r of term(r, j), for a 1-d out over a tall
    input (`x.sum(axis=0)`, `values @ onehot` as a fold): the rows are split
    into `parts` fixed ranges, each folded into its own row of partial
    results on one thread (prange), and the parts are combined in order.
    In one loop the fold is serial: group_onehot's 200000 x 16 products took
    2.1 ms on one core of two. Integer sums give the same result; float sums
    are reassociated at the parts' boundaries (the same on every call)."""
    x, axes = red.inputs[0], folded_axes(red)
    acc_dt = fold_acc_dtype(red)
    n = x.shape[axes[0]]
    fz = Fuser(em)
    part, c, j, r = em.fresh("part"), em.fresh("c"), em.fresh("j"), em.fresh("r")
    em.line(f"{part} = alloc(({parts}, {counts[-1]}), {dtype_text(acc_dt)})")
    with em.loop(c, str(parts), parallel=True):
        with em.loop(j, counts[-1]):
            em.line(f"{part}[{c}, {j}] = {fold_init(red)}")
        inner = [f"nonneg({r})"] + [em.fresh("r") for _ in axes[1:]]
        em.line(f"for {r} in range({c} * {n} // {parts}, ({c} + 1) * {n} // {parts}):")
        with em.indented(), contextlib.ExitStack() as stack:
            for var, k in zip(inner[1:], axes[1:]):
                stack.enter_context(em.loop(var, em.size(x, k)))
            stack.enter_context(em.loop(j, counts[-1]))
            em.line(fold_update(red, f"{part}[{c}, {j}]", fz.term(red, [j], inner)))
    acc = em.fresh("acc")
    em.line(f"{acc} = alloc({counts[-1]}, {dtype_text(acc_dt)})")
    with em.loop(j, counts[-1]):
        em.line(f"{acc}[{j}] = {part}[0, {j}]")
        with em.loop(c, f"1, {parts}"):
            em.line(fold_update(red, f"{acc}[{j}]", f"{part}[{c}, {j}]"))
    fz = Fuser(em)
    fz.memo = {(red.out.id, (j,)): cast(f"{acc}[{j}]", red.out.dtype)}
    with em.loop(j, counts[-1]):
        em.line(f"{out}[{j}] = {fz.value_at(op.out, [j], produce=True)}")


def _dim_array(em: Emitter, op: Op) -> str:
    """An output whose shape is known only at run time: sizes from an input."""
    v = op.out
    sizes = []
    for k, d in enumerate(v.shape):
        if not isinstance(d, Dim):
            sizes.append(str(d))
            continue
        lead = [(u, k - (v.ndim - u.ndim)) for u in op.inputs if u.ndim]
        src = next(f"{em.name(u)}.shape[{a}]" for u, a in lead if 0 <= a < u.ndim and u.shape[a] is d)
        sizes.append(src)
    em.line(f"{em.name(v)} = alloc(({''.join(s + ', ' for s in sizes)}), np.{v.dtype.name})")
    em.define(v, owned=True)
    return em.name(v)
