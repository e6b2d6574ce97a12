"""CPU rules of the reductions: sum, prod, max, min, all and any are folds,
written by the loop-nest writer (nest.py) from their `Reduction` trait;
argmax and argmin are statements (the first position of the best element;
NaN wins, as in NumPy)."""
from __future__ import annotations

import numpy as np

from looptrace.codegen.target import FoldRule, StatementRule
from looptrace.ops import reduce

from .target import TARGET


def _arg_lower(better: str):
    def lower(em, op) -> None:
        x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
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
