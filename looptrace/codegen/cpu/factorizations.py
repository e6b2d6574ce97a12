"""CPU rules of slogdet, eigh, eigvalsh, svd, svdvals, qr and pinv
(ops/factorizations.py), as decomp.py lowers solve: the operand becomes a
C-contiguous (batch, rows, cols) array and one helper of lapack.py runs
Numba's np.linalg function on each matrix, writing the packed result into the
fresh output seen as (batch, rows, cols), or (batch, k) for a row of values.
"""
from __future__ import annotations

from looptrace.codegen.target import StatementRule
from looptrace.ir.core import Op

from . import numpy_linalg
from .decomp import _as_batch, _batch_count
from .emitter import Emitter
from .target import TARGET


def _lower(helper: str, extra=lambda op: ()):
    def lower(em: Emitter, op: Op) -> None:
        (a,) = op.inputs
        mats, v = _as_batch(em, a), op.out
        if numpy_linalg.emit_call(em, op, helper[: -len("_batch")], [mats], tuple(extra(op))):
            return  # a batch at the top level: NumPy's own (numpy_linalg.py)
        out = em.fresh_array(v)
        if v.ndim == a.ndim:  # matrices
            lead, tail = v.ndim - 2, f"{em.size(v, v.ndim - 2)}, {em.size(v, v.ndim - 1)}"
        else:  # one row of values per matrix
            lead, tail = v.ndim - 1, em.size(v, v.ndim - 1)
        target = f"{out}.reshape(({_batch_count(em, v, lead)}, {tail}))"
        em.line(f"{helper}({', '.join([mats, *extra(op), target])})")

    return lower


TARGET.register("slogdet", StatementRule(_lower("slogdet_batch")))
TARGET.register("eigh", StatementRule(_lower("eigh_batch")))
TARGET.register("eigvalsh", StatementRule(_lower("eigvalsh_batch")))
TARGET.register("svd", StatementRule(_lower("svd_batch", lambda op: [repr(bool(op.attrs["full"]))])))
TARGET.register("svdvals", StatementRule(_lower("svdvals_batch")))
TARGET.register("qr", StatementRule(_lower("qr_batch", lambda op: [repr(bool(op.attrs["complete"]))])))
TARGET.register("pinv", StatementRule(_lower("pinv_batch", lambda op: [repr(float(op.attrs["rcond"]))])))
