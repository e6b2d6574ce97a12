"""CPU rules of the reductions: sum, prod, max, min, all and any are folds,
written by the loop-nest writer (nest.py) from their `Reduction` trait;
argmax and argmin are statements (the first position of the best element;
NaN wins, as in NumPy). Along an axis of 2 or more, they are calls of
argext.py's cached helpers, one per 2-d slab (`_helper_arg`). A long float
vector's argmax/argmin is found in blocks by extrema.py's cached helpers
(`_blocked_arg`): the NaN-propagating max of each block, then the first
block holding the best, then the first position in it. A max or min of each
long row of an array is extrema.py's too (`row_extremes`).
"""
from __future__ import annotations

import numpy as np

from looptrace.codegen.target import FoldRule, StatementRule
from looptrace.ops import reduce

from . import argext
from looptrace.codegen.planning.fusion import nest_ops

from .extrema import ARG_BLOCK
from .nest import fold_acc_dtype, fold_init, fold_step
from .siblings import extremes_beside
from .target import TARGET
from .text import dtype_text


ARG_MIN = 8192  # a float vector of this many elements or more is searched in blocks (`_blocked_arg`)


def _blocked_arg(em, op, better: str) -> None:
    """The argmax (better ">") or argmin of a float vector x of n >= ARG_MIN
    elements, by extrema.py's helpers (compiled once): the best of each
    block of ARG_BLOCK elements into `bm` (blocks on threads where the work
    is large), then the first position of the best from those."""
    x, v = op.inputs[0], op.out
    fn = "max" if better == ">" else "min"
    n, xs = em.size(x, 0), em.name(x)
    nb, bm = em.fresh("nb"), em.fresh("bm")
    em.line(f"{nb} = {n} // {ARG_BLOCK}")
    em.line(f"{bm} = alloc({nb}, np.{x.dtype.name})")
    work = x.shape[0] if isinstance(x.shape[0], (int, np.integer)) else 0
    if em.work_is_large(int(work)):
        c, k = em.fresh("c"), em.fresh("k")
        em.line(f"{k} = min({nb}, {ARG_CHUNKS})")
        with em.loop(c, k, parallel=True):
            em.line(f"{fn}_blocks({xs}, {bm}, {c} * {nb} // {k}, ({c} + 1) * {nb} // {k})")
    else:
        em.line(f"{fn}_blocks({xs}, {bm}, 0, {nb})")
    em.line(f"{em.name(v)} = np.int64(arg_of_blocks({xs}, {bm}, {better == '>'}))")


def _long_float_vector(x) -> bool:
    n = x.shape[0] if x.ndim == 1 else None
    return x.dtype in (np.float32, np.float64) and x.ndim == 1 and \
        isinstance(n, (int, np.integer)) and n >= ARG_MIN


# A 2-d slab of an argmax/argmin's operand split into at most this many chunks for threads.
ARG_CHUNKS = 64


def _helper_arg(em, op, better: str) -> None:
    """argmax/argmin along an axis of an operand of 2 or more axes: one call
    of argext.py's cached helper per 2-d slab (its loops compiled once per
    dtype and layout on a machine, none in the kernel). Along the last axis
    a slab is (rows, reduced), `argmax_rows`; along another it is (reduced,
    last axis), `argmax_cols`. A single slab large enough is cut into chunks
    of rows (columns) on threads."""
    x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
    kind = "rows" if axis == x.ndim - 1 else "cols"
    slab = (x.ndim - 2, x.ndim - 1) if kind == "rows" else (axis, x.ndim - 1)
    outer = [k for k in range(x.ndim) if k not in slab]
    fn = f"{'argmax' if better == '>' else 'argmin'}_{kind}"
    em.fresh_array(v)
    parallel = _helper_threads(em, x, kind)
    with em.loop_nest([em.size(x, k) for k in outer], parallel_outer=bool(outer) and parallel) as idx:
        at = dict(zip(outer, idx))
        xs = _slab_text(em.name(x), [at.get(k, ":") for k in range(x.ndim)])
        kept = [k for k in range(x.ndim) if k != axis]
        vs = _slab_text(em.name(v), [at.get(k, ":") for k in kept])
        count = em.size(x, x.ndim - 2 if kind == "rows" else x.ndim - 1)
        if outer or not parallel:
            em.line(f"{fn}({xs}, {vs}, 0, {count})")
            return
        c, n = em.fresh("c"), em.fresh("n")
        em.line(f"{n} = min({count}{'' if kind == 'rows' else f' // {argext.COL_TILE}'}, {ARG_CHUNKS})")
        with em.loop(c, n, parallel=True):
            em.line(f"{fn}({xs}, {vs}, {c} * {count} // {n}, ({c} + 1) * {count} // {n})")


def _helper_threads(em, x, kind: str) -> bool:
    """Threads for a helper's slabs where the work is large; columns only
    in chunks of a tile or more (4000 x 300 along axis 0 in 64 chunks of 4
    or 5 columns took 1.5 ms, in one 0.22)."""
    if not all(isinstance(d, (int, np.integer)) for d in x.shape):
        return False
    if kind == "cols" and x.ndim == 2 and x.shape[1] < 2 * argext.COL_TILE:
        return False
    return em.work_is_large(int(np.prod(x.shape, dtype=np.int64)))


# Where the loop written into the kernel is faster than a helper's call: operands of fewer
# elements (viterbi's argmax over 16 x 16 scores, one per step of a scan of 20000: 11.7 ms
# with the call, 5.4 without), rows shorter than HELPER_MIN_ROW (argmin of 50000 x 8 along its
# rows, unrolled for the kernel's constant shape: 88 us, the helper's 194, NumPy's 1030).
HELPER_MIN_ELEMENTS = 1024
HELPER_MIN_ROW = 16


def _helper_fits(x, axis: int) -> bool:
    """argext.py's helpers take it (2 or more axes of a real or bool dtype)
    and pay for their call: unless its shape is known to be small."""
    if x.ndim < 2 or x.dtype.kind not in "fiub" or x.dtype == np.float16:
        return False
    if not all(isinstance(d, (int, np.integer)) for d in x.shape):
        return True
    if axis == x.ndim - 1 and x.shape[axis] < HELPER_MIN_ROW:
        return False
    return int(np.prod(x.shape, dtype=np.int64)) >= HELPER_MIN_ELEMENTS


def _slab_text(name: str, index: list[str]) -> str:
    return name if all(i == ":" for i in index) else f"{name}[{', '.join(index)}]"


def _arg_lower(better: str):
    def lower(em, op) -> None:
        x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
        if _long_float_vector(x):
            _blocked_arg(em, op, better)
            return
        if _helper_fits(x, axis):
            _helper_arg(em, op, better)
            return
        if v.ndim:
            em.fresh_array(v)
        # the max folds of x along axis (`extremes_beside`) are updated in this loop too: viterbi's
        # argmax and max of 16 x 16 scores per step, 3.7 ms in two loops, 2.7 in one (20000 steps;
        # rows outer with the best and position of every column in arrays of selects, 4.6)
        folds = extremes_beside(em, op)
        kept = [k for k in range(x.ndim) if k != axis]
        # rows on threads where there is work enough (assign_nearest's argmin over 16 centres of
        # 100000 points was one thread's)
        work = int(np.prod([x.shape[k] for k in range(x.ndim)], dtype=np.int64)) if all(
            isinstance(d, (int, np.integer)) for d in x.shape) else 0
        accs = _fold_arrays(em, op, folds)
        with em.loop_nest([em.size(x, k) for k in kept], parallel_outer=bool(kept) and em.work_is_large(work)) as idx:
            best, pos, j = em.fresh("best"), em.fresh("pos"), em.fresh("j")
            at = list(idx)
            at.insert(axis, "0")
            em.line(f"{best} = {_element(em, x, at)}")
            em.line(f"{pos} = 0")
            own = _fold_accs(em, folds, accs, idx)
            at[axis] = j
            with em.loop(j, em.size(x, axis)):
                elem = _element(em, x, at)
                for o, acc in zip(folds, own):
                    em.line(fold_step(o, acc, elem))  # (in order: ties kept as `ties` says)
                if x.dtype == np.bool_ and better == ">":  # the first True: nothing beats it
                    em.line(f"if {elem}:")
                    em.line(f"    {pos} = {j}")
                    em.line("    break")
                elif x.dtype.kind in "fc":  # NaN wins, as in NumPy
                    em.line(f"if ({elem} {better} {best} or ({elem} != {elem} and {best} == {best})):")
                    em.line(f"    {best} = {elem}")
                    em.line(f"    {pos} = {j}")
                else:
                    em.line(f"if {elem} {better} {best}:")
                    em.line(f"    {best} = {elem}")
                    em.line(f"    {pos} = {j}")
            target = f"{em.name(v)}[{', '.join(idx)}]" if v.ndim else em.name(v)
            em.line(f"{target} = np.int64({pos})")
            for acc, own_acc in zip(accs, own):
                if acc != own_acc:
                    em.line(f"{acc}[{', '.join(idx)}] = {own_acc}")

    return lower


# rows of at least this many elements of an array as it is: extrema.py's row helpers (`row_extremes`).
# s51, m.max(axis=1) of 10^6 elements, ms, NumPy / 8 lanes of a tuple in the kernel / the helper
# (one process, medians of 31): float64 rows of 64 0.99 / 0.39 / 0.33, 128 0.58 / 0.28 / 0.20, 256
# 0.35 / 0.24 / 0.16, 512 0.23 / 0.24 / 0.13; float32 64 0.99 / 0.33 / 0.27, 512 0.19 / 0.24 / 0.07
ROW_HELPER_MIN = 64


def row_extremes(em, op) -> bool:
    """Write the fold root op, where it is the float max or min of each row
    of a 2-d array read as it is (rows of ROW_HELPER_MIN or more; no ties
    to keep), as calls of extrema.py's `max_rows` or `min_rows` (threads take
    chunks of rows where the work is large), and say so; else write nothing."""
    if not _row_helper_fits(em, op):
        return False
    out = em.fresh_array(op.out)
    _call_row_helper(em, op, out)
    return True


def rows_made_first(em, root) -> None:
    """The row maxima / minima that root's nest would fold inline (`m.max(axis=1) -
    m.min(axis=1)`: two 8-lane tuples per row, 0.43x NumPy), each computed first into a
    scratch array by extrema.py's row helper and read from there (`Emitter.made_folds`)."""
    for o in nest_ops(root, em.plan):
        if o is root or o.out.id in em.made_folds or not _row_helper_fits(em, o):
            continue
        name = em.fresh("rx")
        em.line(f"{name} = alloc(({int(o.out.shape[0])}, ), {dtype_text(o.out.dtype)})")
        _call_row_helper(em, o, name)
        em.made_folds[o.out.id] = name


def _row_helper_fits(em, op) -> bool:
    """Is op the float max or min of each row of a 2-d array read as it is (rows of
    ROW_HELPER_MIN or more; no ties to keep), not yet computed?"""
    from looptrace.ir.primitive import folded_axes

    from .nest import Fuser, _plain_array, tied

    red, x, v = op.prim.reduction, op.inputs[0] if op.inputs else None, op.out
    return not (red is None or red.combine not in ("maximum", "minimum") or len(op.inputs) != 1 or x.ndim != 2
                or x.dtype not in (np.float32, np.float64) or v.dtype != x.dtype or tuple(folded_axes(op)) != (1,)
                or not all(isinstance(d, (int, np.integer)) for d in x.shape) or x.shape[1] < ROW_HELPER_MIN
                or tied(op) is not None or x.id in em.plan.inlined or v.id in em.made_folds
                or not _plain_array(Fuser(em), x))


def _call_row_helper(em, op, out: str) -> None:
    """`max_rows(x, out)` (min_rows), on chunks of rows across threads where the work is large."""
    x = op.inputs[0]
    fn = "max_rows" if op.prim.reduction.combine == "maximum" else "min_rows"
    xs, rows = em.name(x), int(x.shape[0])
    if not em.work_is_large(rows * int(x.shape[1])) or rows < 2:
        em.line(f"{fn}({xs}, {out})")
        return
    c, n = em.fresh("c"), min(rows, ARG_CHUNKS)
    with em.loop(c, str(n), parallel=True):
        part = f"{c} * {rows} // {n}:({c} + 1) * {rows} // {n}"
        em.line(f"{fn}({xs}[{part}], {out}[{part}])")


def made_in_loop(em, op) -> bool:
    """Is root op's array read only by the argmax (argmin) right after it,
    in its loop (not `_blocked_arg`'s or a helper's), and by the max folds
    that loop computes (siblings.py `extremes_beside`), later in the block?
    Then it is never made (`Emitter.in_loop`): the argmax's loop computes
    each element where it reads it, op's nest being cheap elementwise ops.
    viterbi's 16 x 16 scores of a step, 20000 steps: 2.7 ms made in memory
    and read back a column at a time, 1.5 computed in the loop."""
    import os

    from looptrace.ir.uses import use_map

    block, plan, v = getattr(em.scope, "block", None), em.plan, op.out
    if os.environ.get("LOOPTRACE_NO_SIBLING_FOLDS") or block is None or len(op.outputs) != 1 or not v.ndim:
        return False
    pos = em.scope.pos
    if pos + 1 >= len(block.ops) or block.ops[pos] is not op or id(op) not in plan.fused_roots:
        return False
    arg = block.ops[pos + 1]
    if arg.prim.name not in ("argmax", "argmin") or arg.inputs[0].id != v.id or _long_float_vector(v) \
            or _helper_fits(v, arg.attrs["axis"]) or any(id(op) in m for m in (plan.map_group, plan.unfilled)):
        return False
    if not all(o.prim.elementwise and o.prim.cheap and o.prim.name != "gather" for o in nest_ops(op, plan)):
        return False
    folds = {id(o) for o in extremes_beside(em, arg)}
    later = {id(o) for o in block.ops[pos + 2:]}
    if not all(u.op is not None and not u.nested and (u.op is arg or id(u.op) in folds and id(u.op) in later)
               for u in use_map(block).get(v.id, [])):
        return False
    em.in_loop.add(v.id)
    return True


def _element(em, x, at: list[str]) -> str:
    """x's element at index `at`, in a temporary: read, or computed where x is never made (`made_in_loop`)."""
    e = em.fresh("e")
    if x.id in em.in_loop:
        from .nest import Fuser

        em.line(f"{e} = {Fuser(em).value_at(x, at, produce=True)}")
    else:
        em.line(f"{e} = {em.name(x)}[{', '.join(at)}]")
    return e


def _fold_arrays(em, op, folds) -> list[str]:
    """Where each max fold computed in an argmax's loop is kept for the nests
    reading it (`Emitter.made_folds`): a scratch array of the kept shape (an
    argmax of an axis of 2 or more), the accumulator itself (of a vector)."""
    v, names = op.out, []
    for o in folds:
        name = em.scratch_beside(v, f"({''.join(em.size(o.out, k) + ', ' for k in range(v.ndim))})",
                                 fold_acc_dtype(o)) if v.ndim else em.fresh("acc")
        em.made_folds[o.out.id] = name
        names.append(name)
    return names


def _fold_accs(em, folds, accs: list[str], idx: list[str]) -> list[str]:
    """Each fold's accumulator at kept index idx, at its start: a scalar, stored in its array after the loop."""
    own = []
    for o, acc in zip(folds, accs):
        own.append(em.fresh("acc") if idx else acc)
        em.line(f"{own[-1]} = {fold_init(o)}")
    return own


TARGET.register(list(reduce.REDUCERS), FoldRule())
TARGET.register("argmax", StatementRule(_arg_lower(">")))
TARGET.register("argmin", StatementRule(_arg_lower("<")))
