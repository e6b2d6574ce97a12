"""CPU rules of the reductions: sum, prod, max, min, all and any are folds,
written by the loop-nest writer (nest.py) from their `Reduction` trait;
argmax and argmin are statements (the first position of the best element;
NaN wins, as in NumPy)."""
from __future__ import annotations

from looptrace.codegen.target import FoldRule, StatementRule
from looptrace.ops import reduce

from .target import TARGET


def _arg_lower(better: str):
    def lower(em, op) -> None:
        x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
        if v.ndim:
            em.fresh_array(v)
        kept = [k for k in range(x.ndim) if k != axis]
        with em.loop_nest([em.size(x, k) for k in kept]) as idx:
            best, pos, j = em.fresh("best"), em.fresh("pos"), em.fresh("j")
            at = list(idx)
            at.insert(axis, "0")
            em.line(f"{best} = {em.name(x)}[{', '.join(at)}]")
            em.line(f"{pos} = 0")
            at[axis] = j
            elem = f"{em.name(x)}[{', '.join(at)}]"
            with em.loop(j, em.size(x, axis)):
                em.line(f"if ({elem} {better} {best} or ({elem} != {elem} and {best} == {best})):")
                em.line(f"    {best} = {elem}")
                em.line(f"    {pos} = {j}")
            target = f"{em.name(v)}[{', '.join(idx)}]" if v.ndim else em.name(v)
            em.line(f"{target} = np.int64({pos})")

    return lower


TARGET.register(list(reduce.REDUCERS), FoldRule())
TARGET.register("argmax", StatementRule(_arg_lower(">")))
TARGET.register("argmin", StatementRule(_arg_lower("<")))
