"""Sibling folds in one pass: the loops of `Fuser._reduce` (nest.py) written
once for several folds over one domain (siblings.py says which), each with
its own accumulators, updated as its own loops would update them: the same
terms in the same order per accumulator, so each value is the one it has
alone, bit for bit. A mixin of `Fuser`: it reads the nest's state (memo,
pool, reductions) and writes through its emitter."""
from __future__ import annotations

import contextlib

import numpy as np

from looptrace.codegen.planning.fold_window import window
from looptrace.codegen.planning.fusion import BlockPlan, is_fold, nest_ops
from looptrace.ir.core import Op
from looptrace.ir.primitive import folded_axes

from .costs import MATHLIB, element_cost
from .siblings import GROUP_POSITIONS, FoldShape, independent, order_free, shares_with
from .text import cast

# Rows of 8 terms per block of sibling folds sharing one pass (`FoldGroups._group_blocks`): 4096
# positions, 32 KB of each float64 array read, in L2 for each fold's loop after the first.
GROUP_ROWS = GROUP_POSITIONS // 8


class FoldGroups:
    """`Fuser`'s folds computed together (`_reduce` asks `_siblings` first)."""

    def _siblings(self, op: Op, idx: list[str]) -> tuple[list[Op], FoldShape, list[int]] | None:
        """(op and the folds of the pool computed with it, op first; the loops
        they take; each one's accumulators: 8 lanes (0), an array of that many
        for a long max or min, one for an integer fold), or None when op runs
        alone. Folds whose terms hold folds of their own share each position's
        loop (`_group_rows`): then all take the same accumulators."""
        import os

        if os.environ.get("LOOPTRACE_NO_SIBLING_FOLDS"):  # (for A/B timings)
            return None
        key = tuple(idx)
        pool = [self._whole(f) for f in self.pool] if not idx else self.pool
        cands = [f for f in pool if f is not op and (f.out.id, key) not in self.memo
                 and tuple(f.out.shape) == tuple(op.out.shape) and folded_axes(f) == folded_axes(op)
                 and tuple(f.inputs[0].shape) == tuple(op.inputs[0].shape)]
        own = self._fold_shape(op, idx) if cands else None
        if own is None:
            return None
        shapes = {id(f): self._fold_shape(f, idx) for f in cands}
        lead = own
        if order_free(op):  # the loops of the first fold that needs its own order
            lead = next((shapes[id(f)] for f in cands if shapes[id(f)] is not None and not order_free(f)
                         and shares_with(shapes[id(f)], op, own) and self._joins(f, shapes[id(f)])
                         and independent(self.plan, f, [op])), own)
        members, widths = [op], [own.wide]
        for f in cands:
            shape = shapes[id(f)]
            if shares_with(lead, f, shape) and self._joins(f, lead) and independent(self.plan, f, members):
                members.append(f)
                widths.append(0 if order_free(f) else shape.wide)
        if any(_holds_fold(o, self.plan) for o in members):  # one loop per position: one kind of accumulators
            keep = [k for k, (o, w) in enumerate(zip(members, widths)) if k == 0 or order_free(o) or w == widths[0]]
            members, widths = [members[k] for k in keep], [widths[k] for k in keep]
        return (members, lead, widths) if len(members) > 1 else None

    def _made_before(self, op: Op, idx: list[str]) -> str | None:
        """The value at kept index idx of a fold an earlier statement computed
        in its own loop (an argmax's max, siblings.py `extremes_beside`), as
        `_reduce` would return it; None for any other fold."""
        from .nest import float64_fold

        name = self.em.made_folds.get(op.out.id)
        if name is None:
            return None
        text = f"{name}[{', '.join(idx)}]" if op.out.ndim else name
        return text if float64_fold(op) else cast(text, op.out.dtype)

    def _whole(self, op: Op) -> Op:
        """op; or, where op is a float max (min) of every element of a max
        (min) over the trailing axes of an array computed in this nest (the
        `lo` of the rows' `lo`s of a loop over `X.flat`), a stand-in of op
        (the same result) folding every element of that array: one flat pass
        (`_fold_flat`, or a flat group with its siblings) instead of a chain
        per row. A max or min takes the same value in any order; of equal
        elements (+0.0 and -0.0), where both folds keep the first (last) as
        their `ties` say, the first (last) of all in C order, which the flat
        fold keeps too (nest.py `Fuser._tied_zero`). The same stand-in each
        time (identity: siblings)."""
        import os

        if os.environ.get("LOOPTRACE_NO_SIBLING_FOLDS"):  # (for A/B timings)
            return op
        from .nest import _flat_leaves

        wholes = self.__dict__.setdefault("_wholes", {})
        if id(op) not in wholes:
            whole = op
            while (inner := _row_extremes(whole, self.plan)) is not None:
                y = inner.inputs[0]
                whole = Op(whole.prim, (y,), whole.outputs, {**whole.attrs, "axes": tuple(range(y.ndim))}, whole.loc)
            # (only where the array's elements are read flat: else one chain of every element)
            wholes[id(op)] = whole if whole is op or _flat_leaves(self, whole) is not None else op
        return wholes[id(op)]

    def _joins(self, op: Op, lead: FoldShape) -> bool:
        """Can op's term be read at the flat position of a flat group (its arrays viewed flat)?"""
        from .nest import _flat_leaves

        return lead.kind != "flat" or _flat_leaves(self, op) is not None

    def _fold_shape(self, op: Op, idx: list[str]) -> FoldShape | None:
        """How `_reduce` runs op alone, where its loops may be shared; None for
        the other ways (a window of positions, a helper's call, terms in
        blocks, a fold inside each term, a shape known at run time)."""
        from .nest import EXTREME_BYTES, EXTREME_MIN, LANE_UPDATE, _flat_leaves, _lane_fold, fold_acc_dtype

        x, red = op.inputs[0], op.prim.reduction
        shape, axes = tuple(x.shape), tuple(folded_axes(op))
        if red is None or not all(isinstance(d, int) for d in shape):
            return None
        kind, n = "plain", 0
        if red.combine in LANE_UPDATE and x.dtype.kind == "f":
            if x.ndim == 1 and shape[0] >= 64:
                kind, n = "1d", shape[0]
            elif not idx and self._array_extreme(op):
                return None
            elif not idx and _flat_leaves(self, op) is not None:
                kind, n = "flat", int(np.prod(shape))
            elif len(axes) == 1 and axes[0] == x.ndim - 1 and shape[-1] >= 64:
                kind, n = "last", shape[-1]
        if kind == "plain":
            return None if len(axes) == 1 and window(op, axes[0], self.em.producers) is not None else \
                FoldShape("plain", shape, axes)
        if window(op, x.ndim - 1, self.em.producers) is not None or _lane_fold(self, op) is not None \
                or any(element_cost(o) == MATHLIB for o in nest_ops(op, self.plan)):
            return None
        wide = red.combine in ("maximum", "minimum") and n >= EXTREME_MIN
        return FoldShape(kind, shape, axes, EXTREME_BYTES // fold_acc_dtype(op).itemsize if wide else 0)

    def _reduce_group(self, group: tuple, idx: list[str], parallel: bool) -> str:
        """Folds over one domain at kept index `idx` in one set of loops (the
        lead's): each keeps its own accumulators, updated in its own order, so
        each value is the one its own loops give. The others' values are kept
        for their reads at `idx` (`memo`); op's is returned."""
        ops, lead, widths = group
        x = ops[0].inputs[0]
        self.reductions.extend(o for o in ops if x.ndim != 1 or order_free(o))  # (as each alone)
        outer, self.group = self.group, ops
        try:
            if lead.kind == "plain":
                values = self._plain_group(ops, idx, parallel)
            else:
                n, index_at, term_at = self._group_terms(ops, lead, idx)
                values = self._fold_8way_group(ops, widths, parallel, term_at, n, index_at)
                values = self._tied_zeros(ops, values, term_at, str(n))  # (a max or min keeping the first/last zero)
        finally:
            self.group = outer
        for o, value in zip(ops[1:], values[1:]):
            self.memo[(o.out.id, tuple(idx))] = value
        return values[0]

    def _group_terms(self, ops: list[Op], lead: FoldShape, idx: list[str]):
        """(terms, index at a position, term of a fold at a position) of a lanes group."""
        from .nest import _flat_leaves

        if lead.kind == "1d":
            return lead.shape[0], lambda at: [at], self._term_1d
        if lead.kind == "last":
            return lead.shape[-1], lambda at: [*idx, at], lambda o, at: self.term(o, idx, [at])
        n, lead0 = int(np.prod(lead.shape)), ["0"] * (len(lead.shape) - 1)
        for o in ops:
            for v in _flat_leaves(self, o):
                if v.id not in self.flat:
                    view = self.em.fresh("flat")
                    self.em.line(f"{view} = contiguous({self.em.name(v)}).reshape(({n}, ))")
                    self.flat[v.id] = view
        return n, lambda at: [*lead0, at], lambda o, at: self.term(o, [], [*lead0, at])

    def _plain_group(self, ops: list[Op], idx: list[str], parallel: bool) -> list[str]:
        """The plain loops of `_reduce` (`prange` on the first where parallel:
        every fold then an add or a product), one accumulator a fold."""
        from .nest import float64_fold, fold_init, fold_step

        em, x = self.em, ops[0].inputs[0]
        accs = [em.fresh("acc") for _ in ops]
        for o, acc in zip(ops, accs):
            em.line(f"{acc} = {fold_init(o)}")
        saved = dict(self.memo)
        inner = [em.fresh("r") for _ in folded_axes(ops[0])]
        depth = em.depth
        for j, (var, k) in enumerate(zip(inner, folded_axes(ops[0]))):
            em.line(f"for {var} in {'numba.prange' if parallel and j == 0 else 'range'}({em.size(x, k)}):")
            em.depth += 1
        for o, acc in zip(ops, accs):
            em.line(fold_step(o, acc, self.term(o, idx, inner)))  # (in order: ties kept as `ties` says)
        em.depth = depth
        self.memo = saved
        return [acc if float64_fold(o) else cast(acc, o.out.dtype) for o, acc in zip(ops, accs)]

    def _fold_8way_group(self, ops: list[Op], widths: list[int], parallel: bool, term_at, n: int,
                         index_at) -> list[str]:
        """`_fold_8way` of several folds at once: the same steps (and chunks
        on threads), each fold's lanes (or array of a long max or min, or one
        accumulator of an integer fold) and tail."""
        from .nest import PARALLEL_SUM_CHUNKS, float64_fold, fold_acc_dtype, fold_init, fold_update

        em = self.em
        saved = dict(self.memo)
        rows, totals = n // 8, [em.fresh("acc") for _ in ops]
        if parallel:
            step = -(-rows // PARALLEL_SUM_CHUNKS)
            chunks = -(-rows // step)
            c, parts = em.fresh("c"), [em.fresh("parts") for _ in ops]
            for o, p in zip(ops, parts):
                em.line(f"{p} = alloc({chunks}, np.{fold_acc_dtype(o).name})")
            with em.loop(c, str(chunks), True):
                steps = (f"{c} * {step}", f"min2({c} * {step} + {step}, {rows})")
                for p, value in zip(parts, self._group_steps(ops, widths, term_at, steps, saved, index_at)):
                    em.line(f"{p}[{c}] = {value}")
            for o, total in zip(ops, totals):
                em.line(f"{total} = {fold_init(o)}")
            with em.loop(c, str(chunks)):
                for o, total, p in zip(ops, totals, parts):
                    em.line(fold_update(o, total, f"{p}[{c}]"))
        else:
            for total, value in zip(totals, self._group_steps(ops, widths, term_at, ("0", str(rows)), saved, index_at)):
                em.line(f"{total} = {value}")
        self.memo = dict(saved)
        if n % 8:
            tail = em.fresh("r")
            with em.loop(tail, f"{n - n % 8}, {n}"):
                for o, total in zip(ops, totals):
                    em.line(fold_update(o, total, term_at(o, tail)))
        self.memo = saved
        return [t if float64_fold(o) else cast(t, o.out.dtype) for o, t in zip(ops, totals)]

    def _group_steps(self, ops: list[Op], widths: list[int], term_at, steps: tuple[str, str],
                     saved: dict, index_at) -> list[str]:
        """`_fold_8way_steps` of several folds: each one's total over rows `steps`."""
        em = self.em
        if any(_holds_fold(o, self.plan) for o in ops) and widths[0]:
            return self._group_extremes(ops, widths[0], term_at, steps, saved)
        j = em.fresh("j")
        accs = [self._group_acc(o, w, j) for o, w in zip(ops, widths)]
        if any(_holds_fold(o, self.plan) for o in ops):
            self._group_rows(ops, accs, term_at, steps)
        elif (mask := self._sparse_group(ops, widths)) is not None:  # runs selecting nothing skipped
            self._sparse_group_runs(ops, accs, widths, term_at, index_at, steps, saved, mask)
        else:
            self._group_blocks(ops, accs, widths, term_at, steps, saved)
        self.memo = dict(saved)
        return [self._group_total(o, acc, w, j) for o, acc, w in zip(ops, accs, widths)]

    def _group_acc(self, op: Op, width: int, j: str) -> str:
        """A fold's accumulators, at their start: one (an integer fold), 8 lanes, or an array of `width`."""
        from .nest import fold_acc_dtype, fold_init

        em = self.em
        if order_free(op):
            acc = em.fresh("acc")
            em.line(f"{acc} = {fold_init(op)}")
        elif not width:
            acc = em.fresh("lanes")
            em.line(f"{acc} = ({', '.join([fold_init(op)] * 8)}, )")
        else:
            acc = self._accumulators(width, fold_acc_dtype(op))
            with em.loop(j, str(width)):
                em.line(f"{acc}[{j}] = {fold_init(op)}")
        return acc

    def _group_total(self, op: Op, acc: str, width: int, j: str) -> str:
        """The fold of a fold's accumulators: as `_fold_8way_steps` (or `_extreme_in_array`) folds them."""
        if order_free(op):
            return acc
        if not width:
            return _pairwise(op, acc)
        return self._extreme_total(op, acc, width, j)

    def _group_rows(self, ops: list[Op], accs: list[str], term_at, steps: tuple[str, str]) -> None:
        """Each row of 8 positions: every fold's terms in one loop over the 8
        (the folds inside the terms computed once for all of them; such a
        loop is not unrolled, alone or not)."""
        em = self.em
        r, j = em.fresh("r"), em.fresh("j")
        with em.loop(r, ", ".join(steps) if steps[0] != "0" else steps[1]), em.loop(j, "8"):
            for o, acc in zip(ops, accs):
                em.line(self._lane_update(o, acc, j, term_at(o, f"nonneg({r} * 8 + {j})")))

    def _group_blocks(self, ops: list[Op], accs: list[str], widths: list[int], term_at, steps: tuple[str, str],
                      saved: dict) -> None:
        """Blocks of GROUP_ROWS rows of 8, each read from memory once: in a
        block, the rows of the folds in 8 lanes, each one's 8 in a loop of its
        own; the folds in arrays of accumulators of one width in a loop over
        each run of that many positions (the block's first position is the
        rows' first, plus a multiple of the width: each accumulator takes the
        terms it takes alone), then the rest, in the last block; the integer
        folds over the block's positions in one loop. Each loop vectorizes; in
        one loop over the 8 lanes updating two folds' lanes LLVM left them in
        memory ((x*m).sum() and m.sum() of 10^6 floats: 2.4 ms against 0.15 in
        a loop each), and an integer count in that loop stayed scalar code."""
        from .nest import fold_update

        em = self.em
        r0, r1, r, j, e, b, cut = (em.fresh(p) for p in ("r", "r", "r", "j", "e", "b", "e"))
        lanes = [(o, acc) for o, acc, w in zip(ops, accs, widths) if not order_free(o) and not w]
        free = [(o, acc) for o, acc in zip(ops, accs) if order_free(o)]
        one = steps[0] == "0" and steps[1].isdigit() and int(steps[1]) <= GROUP_ROWS  # a block: no loop
        with contextlib.ExitStack() as block:
            if one:
                r0, r1 = steps
            else:
                block.enter_context(em.loop(r0, f"{steps[0]}, {steps[1]}, {GROUP_ROWS}"))
                em.line(f"{r1} = min2({r0} + {GROUP_ROWS}, {steps[1]})")
            if lanes:
                with em.loop(r, f"{r0}, {r1}" if r0 != "0" else r1):
                    for o, acc in lanes:
                        self.memo = dict(saved)
                        with em.loop(j, "8"):
                            em.line(self._lane_update(o, acc, j, term_at(o, f"nonneg({r} * 8 + {j})")))
            for k in sorted({w for o, w in zip(ops, widths) if w and not order_free(o)}):
                wide = [(o, acc) for o, acc, w in zip(ops, accs, widths) if w == k and not order_free(o)]
                em.line(f"{cut} = {r1} * 8 - ({r1} * 8 - {r0} * 8) % {k}")
                self.memo = dict(saved)
                with em.loop(b, f"{r0} * 8, {cut}, {k}"), em.loop(j, str(k)):
                    for o, acc in wide:
                        em.line(fold_update(o, f"{acc}[{j}]", term_at(o, f"nonneg({b} + {j})")))
                self.memo = dict(saved)
                with em.loop(j, f"{cut}, {r1} * 8"):
                    for o, acc in wide:
                        em.line(fold_update(o, f"{acc}[{j} - {cut}]", term_at(o, f"nonneg({j})")))
            if free:
                self.memo = dict(saved)
                with em.loop(e, f"{r0} * 8, {r1} * 8"):
                    for o, acc in free:
                        em.line(fold_update(o, acc, term_at(o, f"nonneg({e})")))

    @staticmethod
    def _lane_update(op: Op, acc: str, j: str, term: str) -> str:
        """Lane j of a float fold's 8 takes the term; an integer fold's one accumulator does."""
        from .nest import LANE_UPDATE, fold_update

        if order_free(op):
            return fold_update(op, acc, term)
        return f"{acc} = {LANE_UPDATE[op.prim.reduction.combine]}({acc}, {j}, {term})"

    def _group_extremes(self, ops: list[Op], k: int, term_at, steps: tuple[str, str], saved: dict) -> list[str]:
        """`_extreme_in_array` of several folds (each max or min in k accumulators of its own)."""
        from .nest import fold_acc_dtype, fold_init, fold_update

        em = self.em
        b, j, first, end, cut = (em.fresh(p) for p in ("b", "j", "e", "e", "e"))
        accs = []
        for o in ops:
            if order_free(o):
                accs.append(em.fresh("acc"))
                em.line(f"{accs[-1]} = {fold_init(o)}")
                continue
            accs.append(self._accumulators(k, fold_acc_dtype(o)))
            with em.loop(j, str(k)):
                em.line(f"{accs[-1]}[{j}] = {fold_init(o)}")
        em.line(f"{first}, {end} = {steps[0]} * 8, {steps[1]} * 8")
        em.line(f"{cut} = {end} - ({end} - {first}) % {k}")

        def update(slot: str, at: str) -> None:
            for o, acc in zip(ops, accs):
                em.line(fold_update(o, acc if order_free(o) else f"{acc}[{slot}]", term_at(o, at)))

        with em.loop(b, f"{first}, {cut}, {k}"):
            with em.loop(j, str(k)):
                update(j, f"nonneg({b} + {j})")
        self.memo = dict(saved)
        with em.loop(j, f"{cut}, {end}"):
            update(f"{j} - {cut}", f"nonneg({j})")
        self.memo = dict(saved)
        totals = []
        for o, acc in zip(ops, accs):
            if order_free(o):
                totals.append(acc)
                continue
            totals.append(self._extreme_total(o, acc, k, j))
        return totals


def _row_extremes(op: Op, plan: BlockPlan) -> Op | None:
    """The fold whose result op folds whole, where both are the same float
    max or min, op of every element, the inner one of trailing axes, computed
    in op's nest (`FoldGroups._whole`); else None."""
    red, x = op.prim.reduction, op.inputs[0]
    if red is None or red.combine not in ("maximum", "minimum") or len(op.inputs) != 1 or not x.ndim \
            or tuple(folded_axes(op)) != tuple(range(x.ndim)) or x.id not in plan.inlined:
        return None
    inner = plan.producer.get(x.id)
    if inner is None or inner.prim is not op.prim or len(inner.inputs) != 1 \
            or inner.attrs.get("ties") != op.attrs.get("ties"):  # (one order of ties: the flat fold's)
        return None
    y = inner.inputs[0]
    axes = tuple(folded_axes(inner))
    if (y.dtype != x.dtype or x.dtype != op.out.dtype or y.dtype.kind != "f" or not axes
            or axes != tuple(range(y.ndim - len(axes), y.ndim)) or not all(isinstance(d, int) for d in y.shape)):
        return None
    return inner


def _holds_fold(op: Op, plan: BlockPlan) -> bool:
    """Does the term of fold op compute a fold of its own?"""
    return any(is_fold(o) for o in nest_ops(op, plan)[1:])


def _pairwise(op: Op, lanes: str) -> str:
    """The 8 lanes of a fold added (max-ed, min-ed) pairwise: ((0 1)(2 3))((4 5)(6 7))."""
    from .nest import PAIR

    acc, pair = [f"{lanes}[{k}]" for k in range(8)], PAIR[op.prim.reduction.combine]
    return pair(pair(pair(acc[0], acc[1]), pair(acc[2], acc[3])), pair(pair(acc[4], acc[5]), pair(acc[6], acc[7])))
