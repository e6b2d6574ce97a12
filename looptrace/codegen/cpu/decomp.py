"""CPU rules of solve, inv, det and cholesky (ops/decomp.py).

Each operand becomes a C-contiguous (batch, rows, cols) array (a view when
it already is one, else a copy) and one helper of lapack.py runs Numba's
np.linalg function on each matrix in turn, writing into the freshly
allocated output seen through the same 3-d shape. The batch runs on one
core: LAPACK's own work dominates for all but tiny matrices. Float64
solve, inv and det of order <= lapack.SMALL_ORDER run lapack.py's own LU
loops instead (`_small`), at the top level too, where a large batch would
otherwise go to NumPy in object mode (numpy_linalg.py).
"""
from __future__ import annotations

import numpy as np

from looptrace.codegen.target import StatementRule
from looptrace.ir.core import Op, Value

from . import numpy_linalg
from .lapack import SMALL_ORDER
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
    em.line(f"{t} = contiguous({em.name(x)}).reshape({shape3})")
    return t


def _small(op: Op, helper: str) -> bool:
    """Float64 matrices of a static order up to SMALL_ORDER, for lapack.py's loops."""
    n = op.inputs[0].shape[-1]
    return helper in ("solve_batch", "inv_batch", "det_batch") and isinstance(n, int) and 1 <= n <= SMALL_ORDER \
        and all(x.dtype == np.float64 for x in op.inputs)


def _lower(helper: str):
    def lower(em: Emitter, op: Op) -> None:
        mats = [_as_batch(em, x) for x in op.inputs]
        v = op.out
        call = helper.replace("_batch", "_small_batch") if _small(op, helper) else helper
        if call == helper and numpy_linalg.emit_call(em, op, helper[: -len("_batch")], mats):
            return  # a batch at the top level: NumPy's own (numpy_linalg.py)
        if v.ndim == 0:  # the determinant of one matrix
            buf = em.fresh("det")
            em.line(f"{buf} = alloc((1,), {dtype_text(v.dtype)})")
            em.line(f"{call}({', '.join(mats)}, {buf})")
            em.line(f"{em.name(v)} = {buf}[0]")
            em.define(v)
            return
        out = em.fresh_array(v)
        if helper == "det_batch":
            target = f"{out}.reshape(({_batch_count(em, v, v.ndim)},))"
        else:
            target = f"{out}.reshape(({_batch_count(em, v, v.ndim - 2)}, {em.size(v, v.ndim - 2)}, " \
                     f"{em.size(v, v.ndim - 1)}))"
        em.line(f"{call}({', '.join(mats)}, {target})")

    return lower


for _name in ("solve", "inv", "det", "cholesky"):
    TARGET.register(_name, StatementRule(_lower(f"{_name}_batch")))
