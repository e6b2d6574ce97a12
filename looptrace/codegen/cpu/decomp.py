"""CPU rules of solve, inv, det and cholesky (ops/decomp.py).

Each operand becomes a C-contiguous (batch, rows, cols) array (a view when
it already is one, else a copy) and one helper of lapack.py runs Numba's
np.linalg function on each matrix in turn, writing into the freshly
allocated output seen through the same 3-d shape. The batch runs on one
core: LAPACK's own work dominates for all but tiny matrices. Float64
solve, inv and det of order <= lapack.SMALL_ORDER run lapack.py's own LU
loops instead (`_small`, one helper for the three), at the top level too,
where a large batch would otherwise go to NumPy in object mode
(numpy_linalg.py).
"""
from __future__ import annotations

import numpy as np

from looptrace.codegen.target import StatementRule
from looptrace.ir.core import Op, Value

from . import numpy_linalg
from .lapack import DET, INV, SMALL_ORDER, SOLVE
from .emitter import Emitter
from .target import TARGET
from .text import dtype_text


def _batch_count(em: Emitter, v: Value, lead: int) -> str:
    sizes = [em.size(v, k) for k in range(lead)]
    return " * ".join(sizes) if sizes else "1"


def _as_batch(em: Emitter, x: Value) -> str:
    """x as a C-contiguous (batch, rows, cols) array."""
    shape3 = f"({_batch_count(em, x, x.ndim - 2)}, {em.size(x, x.ndim - 2)}, {em.size(x, x.ndim - 1)})"
    t = em.fresh("mats")
    em.line(f"{t} = reshaped(contiguous({em.name(x)}), {shape3})")
    return t


def _small(op: Op, helper: str) -> bool:
    """Float64 matrices of a static order up to SMALL_ORDER, for lapack.py's loops."""
    n = op.inputs[0].shape[-1]
    return helper in ("solve_batch", "inv_batch", "det_batch") and isinstance(n, int) and 1 <= n <= SMALL_ORDER \
        and all(x.dtype == np.float64 for x in op.inputs)


def _lower(helper: str):
    def lower(em: Emitter, op: Op) -> None:
        mats = [_as_batch(em, x) for x in op.inputs]
        if _small(op, helper):
            _lower_small(em, op, helper, mats)
            return
        if numpy_linalg.emit_call(em, op, helper[: -len("_batch")], mats):
            return  # a batch at the top level: NumPy's own (numpy_linalg.py)
        v = op.out
        if v.ndim == 0:  # the determinant of one matrix
            buf = em.fresh("det")
            em.line(f"{buf} = alloc((1,), {dtype_text(v.dtype)})")
            em.line(f"{helper}({', '.join(mats)}, {buf})")
            em.line(f"{em.name(v)} = {buf}[0]")
            em.define(v)
            return
        em.line(f"{helper}({', '.join(mats)}, {_out_batch(em, v, helper == 'det_batch')})")

    return lower


def _out_batch(em: Emitter, v: Value, scalars: bool) -> str:
    """A fresh output for v seen as (batch,) (one number per matrix) or (batch, rows, cols)."""
    out = em.fresh_array(v)
    if scalars:
        return f"reshaped({out}, ({_batch_count(em, v, v.ndim)},))"
    return f"reshaped({out}, ({_batch_count(em, v, v.ndim - 2)}, {em.size(v, v.ndim - 2)}, {em.size(v, v.ndim - 1)}))"


def _lower_small(em: Emitter, op: Op, helper: str, mats: list[str]) -> None:
    """lapack.lu_small_batch(a, b, out, mode): one helper for the three, a determinant's
    output seen as (batch, 1, 1), so that all calls share one compiled signature."""
    mode = {"solve_batch": SOLVE, "inv_batch": INV, "det_batch": DET}[helper]
    a, b = mats[0], mats[-1]
    v = op.out
    if mode != DET:
        em.line(f"lu_small_batch({a}, {b}, {_out_batch(em, v, False)}, {mode})")
        return
    if v.ndim == 0:  # the determinant of one matrix
        buf = em.fresh("det")
        em.line(f"{buf} = alloc((1, 1, 1), np.float64)")
        em.line(f"lu_small_batch({a}, {a}, {buf}, {mode})")
        em.line(f"{em.name(v)} = {buf}[0, 0, 0]")
        em.define(v)
        return
    out = em.fresh_array(v)
    em.line(f"lu_small_batch({a}, {a}, reshaped({out}, ({_batch_count(em, v, v.ndim)}, 1, 1)), {mode})")


for _name in ("solve", "inv", "det", "cholesky"):
    TARGET.register(_name, StatementRule(_lower(f"{_name}_batch")))
