"""cuda rules of sort and argsort (ops/sort.py): a rank sort, one thread per element.

The thread of element i of a lane (all axes but `axis` fixed) counts the
elements that come before it in the stable order,
    rank(i) = #{j : x[j] < x[i]} + #{j < i : not x[i] < x[j]}
with `<` putting NaNs last (a < b or (b is NaN and a is not)), so equal
values and NaNs keep their original order (NumPy's kind="stable"), and
writes x[i] (sort) or i (argsort) at position rank(i) of the output lane.
Ranks are a permutation, so every output element is written exactly once:
no scratch memory, no atomics, no barrier inside the op, the same bits
whatever the launch geometry, and the same code at the top level (a
grid-stride kernel) and inside a persistent kernel (a loop over the team).

Cost: n reads and comparisons per element, n^2 per lane of n (the lanes
and elements all in parallel). Consecutive threads walk the same j at once,
so the reads are broadcasts or coalesced. That suits the lanes scientific
loops sort (medians, percentiles, a few thousand elements); for one lane of
10^5 or more elements a merge sort would do less work (not done).
"""
from __future__ import annotations

from looptrace.codegen.target import StatementRule

from ..emitter import CudaEmitter
from ..target import TARGET
from ..values import cast_to


def _before(a: str, b: str) -> str:
    """a < b with NaNs last."""
    return f"({a} < {b} or ({b} != {b} and {a} == {a}))"


def _lower(which: str):
    def lower(em: CudaEmitter, op) -> None:
        x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
        xa = em.acc(x)
        out = em.alloc(v)
        shape = tuple(x.shape)
        with em.parallel(em.count(shape)) as (code, e):
            idx = em.index_of(code, e, shape)
            i = idx[axis]
            xi, xj, r, j = (em.fresh(n) for n in ("xi", "xj", "r", "j"))
            code.line(f"{xi} = {code.load(xa, idx)}")
            code.line(f"{r} = 0")
            code.line(f"for {j} in range({code.size(em.size(x, axis))}):")
            with code.indented():
                code.line(f"{xj} = {code.load(xa, idx[:axis] + [j] + idx[axis + 1:])}")
                code.line(f"if {_before(xj, xi)} or ({j} < {i} and not {_before(xi, xj)}):")
                code.line(f"    {r} += 1")
            value = xi if which == "sort" else i
            code.store(out, idx[:axis] + [r] + idx[axis + 1:], cast_to(value, v.dtype))

    return lower


TARGET.register("sort", StatementRule(_lower("sort")))
TARGET.register("argsort", StatementRule(_lower("argsort")))


def _before_dt(p: str, q: str, dtype) -> str:
    import numpy as np

    return _before(p, q) if np.dtype(dtype).kind == "f" else f"({p} < {q})"


def _searchsorted(em: CudaEmitter, op) -> None:
    """searchsorted (ops/sort.py): one thread per value, a binary search of
    its row of `a` ('left': past a[mid] when a[mid] comes before the value;
    'right': when the value does not come before a[mid]; NaNs last)."""
    a, v = op.inputs
    side, nb = op.attrs["side"], a.ndim - 1
    aa = em.acc(a)
    va = em.acc(v) if v.ndim else None
    out = em.alloc(op.out)
    shape = tuple(v.shape)
    with em.parallel(em.count(shape)) as (code, e):
        idx = em.index_of(code, e, shape)
        key, lo, hi, mid, am = (em.fresh(n) for n in ("key", "lo", "hi", "mid", "am"))
        code.line(f"{key} = {code.load(va, idx) if v.ndim else em.device_scalar(code, v)}")
        code.line(f"{lo} = 0")
        code.line(f"{hi} = {code.size(em.size(a, nb))}")
        code.line(f"while {lo} < {hi}:")
        with code.indented():
            code.line(f"{mid} = ({lo} + {hi}) >> 1")
            code.line(f"{am} = {code.load(aa, list(idx[:nb]) + [mid])}")
            past = _before_dt(am, key, a.dtype) if side == "left" else f"not {_before_dt(key, am, a.dtype)}"
            code.line(f"if {past}:")
            code.line(f"    {lo} = {mid} + 1")
            code.line("else:")
            code.line(f"    {hi} = {mid}")
        code.store(out, list(idx), cast_to(lo, op.out.dtype))


TARGET.register("searchsorted", StatementRule(_searchsorted))
