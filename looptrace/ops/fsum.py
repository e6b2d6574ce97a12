"""math.fsum: the sum of float64 terms rounded once, as Python computes it.

    fsum(x) -> float64[..., 2]     x: float64[..., n], summed along its last axis

out[..., 0] is what `math.fsum(row)` returns for each row of x: CPython's
algorithm (Shewchuk's exact partials, then the half-even fix-up across
partials), so the answer is Python's bit for bit and does not depend on the
order of the terms, which a compensated sum's does. out[..., 1] says whether
math.fsum raises instead: 0.0 no, 1.0 OverflowError("intermediate overflow
in fsum"), 2.0 ValueError("-inf + inf in fsum"); the tracer turns those into
run-time checks (tracer/pymath.py) and reads out[..., 0] only where it is 0.
One output holding both keeps the primitive a plain single-result op for
every stage (batching, VJP, fusion planning).

x's leading axes (none for the user's list; one per batching by the
vectorizer) are rows summed apart. The VJP is a sum's: the cotangent of
out[..., 0] broadcast back over the row (d fsum / d x_i = 1 where it is
differentiable); the error codes have none. Targets lower it with CPython's
loop (codegen/cpu/exact_sum.py); the cuda target refuses it.
"""
from __future__ import annotations

import math

import numpy as np

from looptrace.ir.primitive import Primitive, ShapeMismatch, register

from .shape_arith import fmt

OVERFLOW, INF_MINUS_INF = 1.0, 2.0
MESSAGES = {OVERFLOW: (OverflowError, "intermediate overflow in fsum"),
            INF_MINUS_INF: (ValueError, "-inf + inf in fsum")}


def _fsum_abstract(x):
    if len(x.shape) < 1:
        raise ShapeMismatch(f"fsum needs an array of at least one axis, not shape {fmt(x.shape)}")
    if np.dtype(x.dtype) != np.float64:
        raise ShapeMismatch(f"fsum sums float64 terms, not {x.dtype}")
    return [(np.dtype(np.float64), (*x.shape[:-1], 2))]


def _fsum_row(row: np.ndarray) -> tuple[float, float]:
    """(math.fsum(row), 0.0), or (nan, the error's code) where it raises."""
    try:
        return math.fsum(row.tolist()), 0.0
    except OverflowError:
        return math.nan, OVERFLOW
    except ValueError:
        return math.nan, INF_MINUS_INF


def _fsum_impl(x):
    x = np.asarray(x)
    out = np.empty((*x.shape[:-1], 2), np.float64)
    for b in np.ndindex(*x.shape[:-1]):
        out[b] = _fsum_row(x[b])
    return out


def _fsum_batch(b, args, dims):
    from looptrace.ops.batching_helpers import axis_size, bcast

    (x,) = args
    return [b.op("fsum", bcast(b, x, dims[0], axis_size(b, args, dims)))], [0]


def _fsum_vjp(b, g, op):
    """The cotangent of the sum (out[..., 0]) broadcast back over each row."""
    (x,) = op.inputs
    lead = tuple(x.shape[:-1])
    total = b.emit("slice", g, starts=(0,) * len(lead) + (0,), stops=(*lead, 1),
                   steps=(1,) * (len(lead) + 1))
    return b.emit("broadcast_to", total, shape=tuple(x.shape))


fsum = register(Primitive("fsum", "reduce", _fsum_abstract, _fsum_impl, fresh=True,
                          doc="math.fsum of each row of x (last axis): [..., 0] the sum, [..., 1] 0, 1 "
                              "(OverflowError) or 2 (ValueError)"))
fsum.batch = _fsum_batch


def _attach_vjp_rule() -> None:
    from looptrace.ops.vjp_helpers import defvjp

    defvjp(fsum, _fsum_vjp)


_attach_vjp_rule()
