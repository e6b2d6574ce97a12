"""CPU rules of partition and argpartition (ops/sort.py): NumPy's own
np.partition / np.argpartition, called from the kernel in a `numba.objmode`
block, as fft.py does for pocketfft.

The elements off `kth` come in the order of NumPy's introselect (and its
SIMD selection where NumPy has one), which no loop of ours reproduces, and
the plain function is the specification. Entering object mode costs a few
microseconds; a partition per loop iteration is batched by the vectorizer
into one call over all lanes, so that cost is paid once. Inside a
`numba.prange` loop object mode cannot be lowered: the rule raises an
UnsupportedError naming np.partition and the user's line (a guard, as in
fft.py: the planner puts prange on fused nests only).
"""
from __future__ import annotations

from looptrace.codegen.target import StatementRule
from looptrace.errors import UnsupportedError

from .fft import _enclosed_by_prange
from .target import TARGET


def _lower(which: str):
    def lower(em, op) -> None:
        x, v = op.inputs[0], op.out
        if em.depth > 1 and _enclosed_by_prange(em):
            raise UnsupportedError(f"np.{which} inside a parallel loop is not supported by the cpu backend",
                                   op.loc, "use backend='interpret', or parallel=False")
        kth = list(op.attrs["kth"])
        em.object_mode(v, f"np.{which}({em.name(x)}, {kth}, axis={op.attrs['axis']})")

    return lower


TARGET.register("partition", StatementRule(_lower("partition")))
TARGET.register("argpartition", StatementRule(_lower("argpartition")))
