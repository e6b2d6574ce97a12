"""Masked folds that skip the runs of positions their mask leaves out.

`data[mask].mean()`, `x[(lo <= r) & (r < hi)].sum()`, `.max()`, `.min()`:
the fold's term is `select(mask, x, neutral)` (0 for a sum, -inf for a max,
+inf for a min). Its loops (nest.py `_fold_8way_steps`, `_extreme_in_array`;
fold_groups.py `_group_blocks` with its siblings) read x at every position,
selected or not. Here a run of positions first folds the mask alone (a loop
that reads only the mask's inputs, vectorized: an `any`, or the run's part
of a sibling count of that very mask), and the term's loop runs on that run
only where some position is selected. Every skipped term is the fold's
neutral element (a sum's lanes start at +0.0 and never hold -0.0: adding
+0.0 leaves them as they are; max_nan(acc, -inf) is acc), so each
accumulator takes the same terms in the same order as before: the same
value, bit for bit.

npbench azimint_naive (a mean of 0.1% of 400k elements per row): the term's
loop read `data` at all 400k positions per row; now 94% of the runs of 64
read `radius` only. A dense mask pays the extra `any` (a lone fold; not
where a count of the mask is a sibling): ~1.2-1.35x the term's loop alone,
one thread (bench/masked_rows.py). LOOPTRACE_NO_SPARSE_FOLDS=1 at compile
time writes the loops as before (A/B timings; tests compare the bits).
"""
from __future__ import annotations

import numpy as np

from looptrace.codegen.planning.fusion import BlockPlan, is_fold, nest_ops
from looptrace.ir.core import Op, Value

from .costs import MATHLIB, element_cost
from .siblings import _may_raise

# rows of 8 positions per run tested for a selected position: 64 positions, of which
# 94% hold none at 0.1% selected (and 88% of runs of 128, 77% of 256: fewer skipped)
SPARSE_ROWS = 8
# the most runs taken untested after tested runs that all selected something (`_Untested`)
UNTESTED_MAX = 15


def _neutral(combine: str, c) -> bool:
    """Is the constant c the neutral element of a float fold combining with `combine`?"""
    c = float(np.asarray(c))
    return {"add": c == 0.0, "maximum": c == -np.inf, "minimum": c == np.inf}.get(combine, False)


def sparse_mask(plan: BlockPlan, op: Op) -> Value | None:
    """The mask of a float sum, max or min whose term is `select(mask, x,
    neutral)` of x's shape, whose nest raises nothing (a skipped term
    skips nothing the caller sees) and computes no vectorized math (a mask
    holding exp would be computed twice) nor a fold; else None."""
    import os

    red = op.prim.reduction
    if os.environ.get("LOOPTRACE_NO_SPARSE_FOLDS"):  # (the loops before, for A/B timings and tests)
        return None
    if red is None or len(op.inputs) != 1 or red.combine not in ("add", "maximum", "minimum") \
            or np.dtype(red.acc_dtype(op.inputs[0].dtype)).kind != "f":
        return None
    x = op.inputs[0]
    sel = plan.producer.get(x.id) if x.id in plan.inlined else None
    if sel is None or sel.prim.name != "select" or len(sel.inputs) != 3:
        return None
    m, kept, other = sel.inputs
    if m.dtype != np.bool_ or tuple(m.shape) != tuple(x.shape) or kept.const is not None \
            or other.const is None or other.ndim or not _neutral(red.combine, other.const):
        return None
    ops = nest_ops(op, plan)
    if _may_raise(plan, op) or any(is_fold(o) for o in ops[1:]) or any(element_cost(o) == MATHLIB for o in ops):
        return None
    return m


def tracks_mask(plan: BlockPlan, op: Op, m: Value) -> str | None:
    """"count" where op is an integer sum of the mask m, "any" where it is
    m's any (each through converts to integers or bools and `!= 0`: a term
    nonzero exactly where m holds); else None. A count changes over a run
    exactly where the run selects something; an any is the runs' flags or-ed."""
    red = op.prim.reduction
    if red is None or len(op.inputs) != 1:
        return None
    kind = {"add": "count", "logical_or": "any"}.get(red.combine)
    acc = np.dtype(red.acc_dtype(op.inputs[0].dtype)).kind
    if kind is None or acc not in ("iu" if kind == "count" else "b"):
        return None
    v = op.inputs[0]
    while v.id != m.id:
        p = plan.producer.get(v.id) if v.id in plan.inlined else None
        if p is None or p.inputs[0].dtype.kind not in "biu":
            return None
        if p.prim.name == "not_equal" and len(p.inputs) == 2 and p.inputs[1].const is not None \
                and not p.inputs[1].ndim and float(np.asarray(p.inputs[1].const)) == 0:
            v = p.inputs[0]
        elif p.prim.name == "convert" and p.out.dtype.kind in "biu":
            v = p.inputs[0]
        else:
            return None
    return kind


class _Untested:
    """How many runs to fold without testing the mask: a run that selects
    nothing adds only neutral terms (module docstring), so skipping its test
    is exact, and where the mask is dense (corpus continue_filter: half the
    positions kept, every run selects) the test is pure cost, 26% of the
    fold. The n-th tested run in a row that selects something leaves the
    next 0, 1, 3, 7, 15 (UNTESTED_MAX) runs untested, a tested run selecting
    nothing starts over: a dense mask is tested once per 16 runs; a sparse
    one (0.1% of positions: 6% of runs of 64 select) is tested on nearly
    every run, as before (leaving one run untested after each hit cost 12%
    there)."""

    def __init__(self, em):
        self.em = em
        self.left, self.grow = em.fresh("u"), em.fresh("u")
        em.line(f"{self.left} = 0")
        em.line(f"{self.grow} = 0")

    def test(self, hit: str, tested) -> None:
        """Lines setting `hit`: True on an untested run, else by `tested()`
        (which writes the test's lines and sets hit), the counts updated."""
        em = self.em
        em.line(f"if {self.left} > 0:")
        with em.indented():
            em.line(f"{self.left} -= 1")
            em.line(f"{hit} = True")
        em.line("else:")
        with em.indented():
            tested()
            em.line(f"{self.left} = {self.grow} if {hit} else 0")
            em.line(f"{self.grow} = min2(2 * {self.grow} + 1, {UNTESTED_MAX}) if {hit} else 0")


class SparseFolds:
    """`Fuser`'s runs of a masked fold guarded by their mask (a mixin: it
    reads the nest's memo and pool and writes through its emitter)."""

    def _mask_at(self, op: Op, m: Value, index: list[str]) -> str:
        """The mask of fold op's term at the term's index, computed as the term computes it."""
        pool, self.pool = self.pool, self._term_pool(op)
        self.reducing += 1
        try:
            return self.value_at(m, index)
        finally:
            self.reducing -= 1
            self.pool = pool

    def _any_selected(self, op: Op, m: Value, first: str, end: str, index_at,
                      untested: _Untested | None = None) -> str:
        """A flag: does the mask m of op's term hold at some position of
        [first, end)? With `untested`, True without a test on the runs it
        leaves untested (where only a skipped fold reads the flag)."""
        em = self.em
        hit, e = em.fresh("hit"), em.fresh("e")

        def tested() -> None:
            em.line(f"{hit} = False")
            saved = dict(self.memo)
            with em.loop(e, f"{first}, {end}"):
                em.line(f"{hit} = {hit} | ({self._mask_at(op, m, index_at(f'nonneg({e})'))})")
            self.memo = saved

        if untested is None:
            tested()
        else:
            untested.test(hit, tested)
        return hit

    def _sparse_rows(self, op: Op, m: Value, term_at, index_at, steps: tuple[str, str], lanes: str,
                     r: str, j: str, lane_fn: str) -> None:
        """The 8 lanes of op over rows `steps`, SPARSE_ROWS rows at a time, each
        run's rows only where its mask selects a position of it."""
        em = self.em
        s0, s1 = em.fresh("r"), em.fresh("r")
        untested = _Untested(em)
        with em.loop(s0, f"{steps[0]}, {steps[1]}, {SPARSE_ROWS}"):
            em.line(f"{s1} = min2({s0} + {SPARSE_ROWS}, {steps[1]})")
            hit = self._any_selected(op, m, f"{s0} * 8", f"{s1} * 8", index_at, untested)
            em.line(f"if {hit}:")
            saved = dict(self.memo)
            with em.indented(), em.loop(r, f"{s0}, {s1}"), em.loop(j, "8"):
                em.line(f"{lanes} = {lane_fn}({lanes}, {j}, {term_at(f'nonneg({r} * 8 + {j})')})")
            self.memo = saved

    def _sparse_group(self, ops: list[Op], widths: list[int]) -> Value | None:
        """The mask of the first float fold of a group of siblings (none
        holding a fold, their accumulators' arrays of one width) that is a
        masked fold (`sparse_mask`); None where there is none."""
        from .siblings import order_free

        arrays = {w for o, w in zip(ops, widths) if w and not order_free(o)}
        if len(arrays) > 1 or any(w % 8 for w in arrays):
            return None
        return next((mk for o in ops if not order_free(o) and (mk := sparse_mask(self.plan, o)) is not None), None)

    def _sparse_group_runs(self, ops: list[Op], accs: list[str], widths: list[int], term_at, index_at,
                           steps: tuple[str, str], saved: dict, m: Value) -> None:
        """`_group_blocks` of siblings some of whose float folds are masked by m: runs
        of SPARSE_ROWS rows (of the width of the arrays of accumulators of a
        max or min, where there are), each folding its integer siblings
        first (a count of m among them tells whether the run selects
        anything: else a loop of its own over the mask, whose flag is also
        the run's part of an any of m), then the other float folds' loops
        (unmasked, `y.max()` beside `x[y < t].sum()`, or masked otherwise),
        then the loops of those masked by m where the run selects anything.
        Each accumulator takes the terms it took in blocks (the arrays'
        runs start where the blocks' did: GROUP_ROWS is a multiple of every
        width), less the neutral ones."""
        from .nest import fold_update
        from .siblings import order_free

        em = self.em
        wide = max((w for o, w in zip(ops, widths) if not order_free(o)), default=0)
        rows = wide // 8 if wide else SPARSE_ROWS  # (a run is at most an array of accumulators)
        s0, s1, r, j, e, before = (em.fresh(p) for p in ("r", "r", "r", "j", "e", "k"))
        tracks = {id(o): tracks_mask(self.plan, o, m) for o in ops if order_free(o)}
        counter = next((acc for o, acc in zip(ops, accs) if tracks.get(id(o)) == "count"), None)
        anys = [acc for o, acc in zip(ops, accs) if tracks.get(id(o)) == "any" and counter is None]
        free = [(o, acc) for o, acc in zip(ops, accs) if order_free(o) and acc not in anys]
        untested = _Untested(em) if counter is None and not anys else None  # (an any needs every run's flag)
        with em.loop(s0, f"{steps[0]}, {steps[1]}, {rows}"):
            em.line(f"{s1} = min2({s0} + {rows}, {steps[1]})")
            if counter is not None:
                em.line(f"{before} = {counter}")
            if free:
                self.memo = dict(saved)
                with em.loop(e, f"{s0} * 8, {s1} * 8"):
                    for o, acc in free:
                        em.line(fold_update(o, acc, term_at(o, f"nonneg({e})")))
                self.memo = dict(saved)
            first = next(o for o in ops if getattr(sparse_mask(self.plan, o), "id", None) == m.id)
            hit = f"{counter} != {before}" if counter is not None else \
                self._any_selected(first, m, f"{s0} * 8", f"{s1} * 8", index_at, untested)
            for acc in anys:  # (m's any: the runs' flags)
                em.line(f"{acc} = {acc} | {hit}")
            floats = [(o, acc, w) for o, acc, w in zip(ops, accs, widths) if not order_free(o)]
            guarded = [f for f in floats if getattr(sparse_mask(self.plan, f[0]), "id", None) == m.id]
            for o, acc, w in [f for f in floats if f not in guarded]:  # (another mask, or none: every run)
                self._run_terms(o, acc, w, term_at, s0, s1, r, j, saved)
            em.line(f"if {hit}:")
            with em.indented():
                for o, acc, w in guarded:
                    if w:
                        self._run_terms(o, acc, w, term_at, s0, s1, r, j, saved)
                self._lanes_together([(o, acc) for o, acc, w in guarded if not w], term_at, s0, s1, r, j, saved)
            self.memo = dict(saved)

    def _lanes_together(self, folds: list, term_at, s0: str, s1: str, r: str, j: str, saved: dict) -> None:
        """Float folds' terms of the run of rows [s0, s1) into their 8 lanes,
        one loop over the rows with each fold's 8 lanes in it (as
        `_group_blocks` writes them), not a loop over the rows per fold: on
        runs of 8 rows the loops' own cost showed (corpus continue_filter's
        sum and count of the kept weights). Each accumulator's terms are the
        same, in the same order."""
        from .nest import LANE_UPDATE

        if not folds:
            return
        em = self.em
        with em.loop(r, f"{s0}, {s1}"):
            for o, acc in folds:
                self.memo = dict(saved)
                with em.loop(j, "8"):
                    em.line(f"{acc} = {LANE_UPDATE[o.prim.reduction.combine]}({acc}, {j}, "
                            f"{term_at(o, f'nonneg({r} * 8 + {j})')})")

    def _run_terms(self, o: Op, acc: str, w: int, term_at, s0: str, s1: str, r: str, j: str, saved: dict) -> None:
        """A float fold's terms of the run of rows [s0, s1): into its 8 lanes, or its array of w."""
        from .nest import LANE_UPDATE, fold_update

        em = self.em
        self.memo = dict(saved)
        if w:
            with em.loop(j, f"{s1} * 8 - {s0} * 8"):
                em.line(fold_update(o, f"{acc}[{j}]", term_at(o, f"nonneg({s0} * 8 + {j})")))
            return
        with em.loop(r, f"{s0}, {s1}"), em.loop(j, "8"):
            em.line(f"{acc} = {LANE_UPDATE[o.prim.reduction.combine]}({acc}, {j}, "
                    f"{term_at(o, f'nonneg({r} * 8 + {j})')})")
