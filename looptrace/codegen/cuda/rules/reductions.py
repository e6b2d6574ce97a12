"""cuda rules of the reductions.

sum, prod, max, min, all and any are folds: the loop-nest writer (nest.py,
fuse.py) folds them element by element from their `Reduction` trait, one
thread per output element, or as block tree reductions when there are few
outputs over long rows (tree.py; deterministic, no float atomics).

argmax and argmin are statements: the first position of the best element,
NaN winning, as NumPy's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from looptrace.codegen.target import FoldRule, StatementRule
from looptrace.ops import reduce

from ..target import TARGET

if TYPE_CHECKING:
    from ..emitter import CudaEmitter


def _arg_lower(better: str):
    def lower(em: CudaEmitter, op) -> None:
        x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
        xa = em.acc(x)
        kept = tuple(x.shape[k] for k in range(x.ndim) if k != axis)

        def scan(code, idx: list[str]) -> str:
            best, pos, j = em.fresh("best"), em.fresh("pos"), em.fresh("j")
            at = list(idx)
            at.insert(axis, "0")
            code.line(f"{best} = {code.load(xa, at)}")
            code.line(f"{pos} = 0")
            at[axis] = j
            code.line(f"for {j} in range({code.size(em.size(x, axis))}):")
            with code.indented():
                elem = em.fresh("x")
                code.line(f"{elem} = {code.load(xa, at)}")
                code.line(f"if ({elem} {better} {best} or ({elem} != {elem} and {best} == {best})):")
                code.line(f"    {best} = {elem}")
                code.line(f"    {pos} = {j}")
            return f"np.int64({pos})"

        if v.ndim == 0:
            em.scalar_result(v, lambda code: scan(code, []))
            return
        out = em.alloc(v)
        with em.parallel(em.count(kept)) as (code, e):
            idx = em.index_of(code, e, kept)
            code.store(out, idx, scan(code, idx))

    return lower


TARGET.register(list(reduce.REDUCERS), FoldRule())
TARGET.register("argmax", StatementRule(_arg_lower(">")))
TARGET.register("argmin", StatementRule(_arg_lower("<")))
