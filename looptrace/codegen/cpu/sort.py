"""CPU rules of sort and argsort (ops/sort.py)."""
from __future__ import annotations

import numpy as np

from looptrace.codegen.target import StatementRule

from .target import TARGET
from .text import dtype_text


# One lane (all axes but `axis` fixed) at a time, copied into a contiguous
# buffer: sorted in place by `sort_lane`, or ordered by the stable merge
# `argsort_lane` (both in templates.py, NaNs last, compiled once per
# dtype and cached on disk), then copied out by explicit loops (Numba's array
# setitem costs seconds of compile time).
def _lower(which: str):
    def lower(em, op) -> None:
        x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
        out = em.fresh_array(v)
        kept = [k for k in range(x.ndim) if k != axis]
        lanes = int(np.prod([x.shape[k] for k in kept], dtype=np.int64)) if kept else 1
        n = em.size(x, axis)
        work = lanes * max(int(x.shape[axis]), 1)
        with em.loop_nest([em.size(x, k) for k in kept], parallel_outer=em.work_is_large(work)) as idx:
            at = list(idx)
            buf, j = em.fresh("lane"), em.fresh("j")
            at.insert(axis, j)
            em.line(f"{buf} = np.empty({n}, {dtype_text(x.dtype)})")
            with em.loop(j, n):
                em.line(f"{buf}[{j}] = {em.name(x)}[{', '.join(at)}]")
            if which == "sort":
                em.line(f"sort_lane({buf})")
                result = buf
            else:
                result = em.fresh("order")
                em.line(f"{result} = np.empty({n}, np.int64)")
                em.line(f"argsort_lane({buf}, {result})")
            with em.loop(j, n):
                em.line(f"{out}[{', '.join(at)}] = {result}[{j}]")

    return lower


TARGET.register("sort", StatementRule(_lower("sort")))
TARGET.register("argsort", StatementRule(_lower("argsort")))
