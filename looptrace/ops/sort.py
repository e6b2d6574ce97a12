"""Sorting along one static axis: `sort` and `argsort`.

sort(x, axis) -> x sorted along `axis` (NaNs last, as NumPy puts them);
argsort(x, axis, stable=True) -> int64 positions that sort x along `axis`,
ties in their original order (NumPy's kind="stable"). With stable=False
(NumPy's default kind, asked for by the user) ties may come in any order:
the interpreter and the CPU backend's whole-array path call NumPy's own
default sort, so they order ties as the plain function does; the other
paths keep them in their original order, one of the orders NumPy allows.

Invariant: the two primitives agree: take_along_axis(x, argsort(x)) == sort(x).
np.median, np.percentile and friends are compositions over `sort` in the tracer.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.primitive import (
    NOT_DIFFERENTIABLE,
    Primitive,
    ShapeMismatch,
    register,
)

from .shape_arith import fmt


def _check(x, axis: int) -> None:
    if not 0 <= axis < len(x.shape):
        raise ShapeMismatch(f"cannot sort along axis {axis} of an array of shape {fmt(x.shape)}")
    if np.dtype(x.dtype).kind not in "biuf":
        raise ShapeMismatch(f"sorting needs a real or boolean dtype, not {x.dtype}")


def _sort_abstract(x, *, axis):
    _check(x, axis)
    return [(x.dtype, tuple(x.shape))]


def _argsort_abstract(x, *, axis, stable=True):
    _check(x, axis)
    return [(np.dtype(np.int64), tuple(x.shape))]


sort = register(Primitive("sort", "sort", _sort_abstract,
                          lambda x, *, axis: np.sort(x, axis=axis, kind="stable"),
                          fresh=True, doc="x sorted along a static axis, NaNs last"))
argsort = register(Primitive("argsort", "sort", _argsort_abstract,
                             lambda x, *, axis, stable=True:
                             np.argsort(x, axis=axis, kind="stable" if stable else None).astype(np.int64),
                             fresh=True, doc="the stable sorting permutation of x along a static axis"))


# --- batching rules ---
def _batch(name: str):
    def rule(b, args, dims, *, axis, **attrs):
        return [b.op(name, args[0], axis=axis + 1, **attrs)], [0]

    return rule


sort.batch = _batch("sort")
argsort.batch = _batch("argsort")


# --- VJP rules ---
# d sort(x) / dx is a permutation: the cotangent of output position j goes
# back to input position perm[j], perm = argsort(x) (a scatter of distinct
# positions, lane by lane, done on the flattened array).
def _sort_vjp(b, g, op):
    (x,), axis = op.inputs, op.attrs["axis"]
    perm = b.emit("argsort", x, axis=axis)
    return unsort(b, g, perm, axis)


def unsort(b, g, perm, axis: int):
    """y with y[..., perm[..., j], ...] = g[..., j, ...] along `axis`."""
    nd = g.ndim
    order = tuple(k for k in range(nd) if k != axis) + (axis,)
    moved_g = b.emit("transpose", g, perm=order) if axis != nd - 1 else g
    flat_idx = b.emit("transpose", perm, perm=order) if axis != nd - 1 else perm
    shape = tuple(flat_idx.shape)
    total = int(np.prod(shape, dtype=np.int64))
    if nd > 1:  # position j of lane l is l * n + j in the flattened array
        lanes = int(np.prod(shape[:-1], dtype=np.int64))
        lane = b.emit("iota", shape=(lanes,), dtype=np.dtype(np.int64), axis=0)
        offset = b.reshape(b.mul(lane, b.lit(shape[-1], lane)), shape[:-1] + (1,))
        flat_idx = b.emit("add", flat_idx, b.emit("broadcast_to", offset, shape=shape))
    flat = b.emit("scatter", b.zeros((total,), g.dtype), b.reshape(flat_idx, (total,)),
                  b.reshape(moved_g, (total,)), axis=0, mode="set")
    shaped = b.reshape(flat, shape)
    if axis == nd - 1:
        return shaped
    return b.emit("transpose", shaped, perm=tuple(int(i) for i in np.argsort(order)))


def _attach_vjp_rules() -> None:
    from looptrace.ops.vjp_helpers import defvjp

    defvjp(sort, _sort_vjp)
    argsort.vjp = NOT_DIFFERENTIABLE


_attach_vjp_rules()
