"""CPU rules of the reductions: sum, prod, max, min, all and any are folds,
written by the loop-nest writer (nest.py) from their `Reduction` trait;
argmax and argmin are statements (the first position of the best element;
NaN wins, as in NumPy). A long float vector's argmax/argmin is found in
blocks (`_blocked_arg`): the NaN-propagating max of each block in an array
of accumulators (a loop LLVM vectorizes), then the first block holding the
best, then the first position in it.
"""
from __future__ import annotations

import numpy as np

from looptrace.codegen.target import FoldRule, StatementRule
from looptrace.ops import reduce

from .target import TARGET


ARG_BLOCK = 4096  # elements per block of a blocked argmax (a multiple of 8)
# accumulators of a block's best (as nest.py `_extreme_in_array`), folded in halves: argmin of
# 1.2M float32, one thread, 0.27 ms in 8 lanes of a tuple (scalar code), 0.13 in 1024 bytes,
# 0.09 in 512 (NumPy 0.055); float64 0.28, 0.17, 0.15 (NumPy 0.12)
ARG_LANE_BYTES = 512
_LANE = {">": ("max_nan", "(-np.inf)"), "<": ("min_nan", "np.inf")}


def _blocked_arg(em, op, better: str) -> None:
    """The argmax (better ">") or argmin of a float vector x of n >= ARG_BLOCK
    elements. Each block's NaN-propagating best goes into `bm` (an array of
    accumulators, vectorized; blocks on threads where the work is large);
    the first block whose best beats all before it, NaN first, as in the
    serial loop; the elements after the last block, in order; then the first
    position in the winning block equal to the best (or NaN where the best
    is NaN). Ties keep the first: blocks compare strictly and the search
    stops at the first match (+0.0 and -0.0 are equal, as NumPy compares
    them)."""
    x, v = op.inputs[0], op.out
    pair, init = _LANE[better]
    n, xs = em.size(x, 0), em.name(x)
    nb, bm, b, r, j, lanes = (em.fresh(p) for p in ("nb", "bm", "b", "r", "j", "lanes"))
    best, blk, pos, k = (em.fresh(p) for p in ("best", "blk", "pos", "k"))
    em.line(f"{nb} = {n} // {ARG_BLOCK}")
    em.line(f"{bm} = alloc({nb}, np.{x.dtype.name})")
    work = x.shape[0] if isinstance(x.shape[0], (int, np.integer)) else 0
    parallel = em.work_is_large(int(work))
    width = ARG_LANE_BYTES // x.dtype.itemsize
    if not parallel:
        em.line(f"{lanes} = alloc({width}, np.{x.dtype.name})")
    with em.loop(b, nb, parallel):
        if parallel:
            em.line(f"{lanes} = alloc({width}, np.{x.dtype.name})")
        with em.loop(j, str(width)):
            em.line(f"{lanes}[{j}] = np.{x.dtype.name}({init})")
        with em.loop(r, str(ARG_BLOCK // width)):
            with em.loop(j, str(width)):
                em.line(f"{lanes}[{j}] = {pair}({lanes}[{j}], {xs}[nonneg({b} * {ARG_BLOCK} + {r} * {width} + {j})])")
        _fold_halves(em, lanes, width, j, pair, f"{bm}[{b}]")
    beats = lambda e: f"({e} {better} {best} or ({e} != {e} and {best} == {best}))"  # noqa: E731
    em.line(f"{best} = {bm}[0]")
    em.line(f"{blk} = 0")
    with em.loop(k, f"1, {nb}"):
        em.line(f"if {beats(f'{bm}[{k}]')}:")
        em.line(f"    {best} = {bm}[{k}]")
        em.line(f"    {blk} = {k}")
    em.line(f"{pos} = -1")
    with em.loop(k, f"{nb} * {ARG_BLOCK}, {n}"):
        em.line(f"if {beats(f'{xs}[{k}]')}:")
        em.line(f"    {best} = {xs}[{k}]")
        em.line(f"    {pos} = {k}")
    em.line(f"if {pos} < 0:")
    with em.indented():
        em.line(f"{pos} = {blk} * {ARG_BLOCK}")
        with em.loop(k, f"{blk} * {ARG_BLOCK}, {blk} * {ARG_BLOCK} + {ARG_BLOCK}"):
            em.line(f"if {xs}[{k}] == {best} or ({best} != {best} and {xs}[{k}] != {xs}[{k}]):")
            em.line(f"    {pos} = {k}")
            em.line("    break")
    em.line(f"{em.name(v)} = np.int64({pos})")


def _fold_halves(em, lanes: str, width: int, j: str, pair: str, out: str) -> None:
    """out = the fold of lanes[:width] by `pair`: in halves down to 8, each a
    loop that vectorizes, then those 8 in order."""
    half = width // 2
    while half >= 8:
        with em.loop(j, str(half)):
            em.line(f"{lanes}[{j}] = {pair}({lanes}[{j}], {lanes}[{j} + {half}])")
        half //= 2
    em.line(f"{out} = {lanes}[0]")
    with em.loop(j, f"1, {half * 2}"):
        em.line(f"{out} = {pair}({out}, {lanes}[{j}])")


def _long_float_vector(x) -> bool:
    n = x.shape[0] if x.ndim == 1 else None
    return x.dtype in (np.float32, np.float64) and x.ndim == 1 and \
        isinstance(n, (int, np.integer)) and n >= 2 * ARG_BLOCK


def _arg_lower(better: str):
    def lower(em, op) -> None:
        x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
        if _long_float_vector(x):
            _blocked_arg(em, op, better)
            return
        if v.ndim:
            em.fresh_array(v)
        kept = [k for k in range(x.ndim) if k != axis]
        # rows on threads where there is work enough (assign_nearest's argmin over 16 centres of
        # 100000 points was one thread's)
        work = int(np.prod([x.shape[k] for k in range(x.ndim)], dtype=np.int64)) if all(
            isinstance(d, (int, np.integer)) for d in x.shape) else 0
        with em.loop_nest([em.size(x, k) for k in kept], parallel_outer=bool(kept) and em.work_is_large(work)) as idx:
            best, pos, j = em.fresh("best"), em.fresh("pos"), em.fresh("j")
            at = list(idx)
            at.insert(axis, "0")
            em.line(f"{best} = {em.name(x)}[{', '.join(at)}]")
            em.line(f"{pos} = 0")
            at[axis] = j
            elem = f"{em.name(x)}[{', '.join(at)}]"
            with em.loop(j, em.size(x, axis)):
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

    return lower


TARGET.register(list(reduce.REDUCERS), FoldRule())
TARGET.register("argmax", StatementRule(_arg_lower(">")))
TARGET.register("argmin", StatementRule(_arg_lower("<")))
