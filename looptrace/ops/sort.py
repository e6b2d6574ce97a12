"""Sorting along one static axis: `sort` and `argsort`; partial sorts
`partition` and `argpartition`.

sort(x, axis) -> x sorted along `axis` (NaNs last, as NumPy puts them);
argsort(x, axis, stable=True) -> int64 positions that sort x along `axis`,
ties in their original order (NumPy's kind="stable"). With stable=False
(NumPy's default kind, asked for by the user) ties may come in any order:
the interpreter and the CPU backend's whole-array path call NumPy's own
default sort, so they order ties as the plain function does; the other
paths keep them in their original order, one of the orders NumPy allows.

Invariant: the two primitives agree: take_along_axis(x, argsort(x)) == sort(x).
np.median, np.percentile and friends are compositions over `sort` in the tracer.

partition(x, kth, axis) and argpartition(x, kth, axis) are NumPy's own
(np.partition / np.argpartition with introselect): every position in `kth`
(a sorted tuple of static positions, 0 <= k < n, repeats kept since
NumPy's arrangement depends on them) holds the element a full
sort puts there, smaller-or-equal elements before it and greater-or-equal
after; the order inside those stretches is NumPy's implementation's, so every
target either calls NumPy (interpreter; cpu, in object mode) or refuses (cuda)
rather than return another valid partition. The two do not agree with each
other: NumPy's partition and argpartition order the stretches differently, so
take_along_axis(x, argpartition(x)) may differ from partition(x) off `kth`.
partition's VJP therefore pairs input and output positions by value (stable
argsorts of both), which is the permutation NumPy applied up to ties.
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


def _partition_check(x, kth, axis) -> None:
    _check(x, axis)
    n = x.shape[axis]
    if not isinstance(kth, tuple) or not kth or list(kth) != sorted(kth) or \
            any(not isinstance(k, int) for k in kth):
        raise ShapeMismatch(f"partition needs a sorted tuple of int positions, not {kth!r}")
    if isinstance(n, (int, np.integer)) and not (0 <= kth[0] and kth[-1] < n):
        raise ShapeMismatch(f"partition positions {kth} out of bounds for an axis of {n}")


def _partition_abstract(x, *, kth, axis):
    _partition_check(x, kth, axis)
    return [(x.dtype, tuple(x.shape))]


def _argpartition_abstract(x, *, kth, axis):
    _partition_check(x, kth, axis)
    return [(np.dtype(np.int64), tuple(x.shape))]


partition = register(Primitive("partition", "sort", _partition_abstract,
                               lambda x, *, kth, axis: np.partition(x, list(kth), axis=axis),
                               fresh=True, doc="NumPy's np.partition of x along a static axis at static kth"))
argpartition = register(Primitive("argpartition", "sort", _argpartition_abstract,
                                  lambda x, *, kth, axis:
                                  np.argpartition(x, list(kth), axis=axis).astype(np.int64),
                                  fresh=True, doc="NumPy's np.argpartition of x along a static axis at static kth"))


# --- batching rules ---
def _batch(name: str):
    def rule(b, args, dims, *, axis, **attrs):
        return [b.op(name, args[0], axis=axis + 1, **attrs)], [0]

    return rule


sort.batch = _batch("sort")
argsort.batch = _batch("argsort")
partition.batch = _batch("partition")
argpartition.batch = _batch("argpartition")


# --- VJP rules ---
# d sort(x) / dx is a permutation: the cotangent of output position j goes
# back to input position perm[j], perm = argsort(x) (a scatter of distinct
# positions, lane by lane, done on the flattened array).
def _sort_vjp(b, g, op):
    (x,), axis = op.inputs, op.attrs["axis"]
    perm = b.emit("argsort", x, axis=axis)
    return unsort(b, g, perm, axis)


def _partition_vjp(b, g, op):
    """y = partition(x) moved x[perm[j]] to y[j]; perm pairs the r-th smallest
    of x with the r-th smallest of y (stable argsorts s1 of x, s2 of y):
    perm[s2[r]] = s1[r], then the cotangent goes back as sort's does."""
    (x,), axis = op.inputs, op.attrs["axis"]
    s1 = b.emit("argsort", x, axis=axis)
    s2 = b.emit("argsort", op.out, axis=axis)
    return unsort(b, g, unsort(b, s1, s2, axis), axis)


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
    defvjp(partition, _partition_vjp)
    argsort.vjp = NOT_DIFFERENTIABLE
    argpartition.vjp = NOT_DIFFERENTIABLE


_attach_vjp_rules()


# --- searchsorted ----------------------------------------------------------------------------
# searchsorted(a, v, side) -> int64 of v's shape: where each v would go in the
# sorted last axis of `a` to keep it sorted, NumPy's np.searchsorted ('left':
# the first position p with not a[p] < v; 'right': the first with v < a[p]),
# in NumPy's sort order (NaNs after every number). a's leading axes (none for
# the user's 1-d array; one per batching by the vectorizer) are shared with
# v's: v[b, ...] is searched in a[b, :]. a and v have one dtype (the tracer
# casts both to their common type, as NumPy does). Integer output: no gradient.
def _searchsorted_abstract(a, v, *, side):
    if side not in ("left", "right"):
        raise ShapeMismatch(f"searchsorted side must be 'left' or 'right', not {side!r}")
    if len(a.shape) < 1:
        raise ShapeMismatch("searchsorted needs an array of at least one axis to search")
    nb = len(a.shape) - 1
    if tuple(v.shape[:nb]) != tuple(a.shape[:nb]) or len(v.shape) < nb:
        raise ShapeMismatch(f"searchsorted of values of shape {fmt(v.shape)} in rows of shape {fmt(a.shape)}")
    if np.dtype(a.dtype) != np.dtype(v.dtype) or np.dtype(a.dtype).kind not in "biuf":
        raise ShapeMismatch(f"searchsorted needs one real or boolean dtype, not {a.dtype} and {v.dtype}")
    return [(np.dtype(np.int64), tuple(v.shape))]


def _searchsorted_impl(a, v, *, side):
    a, v = np.asarray(a), np.asarray(v)
    if a.ndim == 1:
        return np.asarray(np.searchsorted(a, v, side=side), dtype=np.int64)
    out = np.empty(v.shape, np.int64)
    for b in np.ndindex(*a.shape[:-1]):
        out[b] = np.searchsorted(a[b], v[b], side=side)
    return out


searchsorted = register(Primitive("searchsorted", "sort", _searchsorted_abstract, _searchsorted_impl,
                                  fresh=True, doc="np.searchsorted(a, v, side) along a's last axis, NaNs last; "
                                                  "a's leading axes are v's"))


def _searchsorted_batch(b, args, dims, *, side):
    from looptrace.ops.batching_helpers import axis_size, bcast, move_axis

    a, v = args
    if dims[0] is None:  # one array for every batch member: the member axis is one of v's
        nb = len(a.shape) - 1
        out = b.op("searchsorted", a, move_axis(b, v, 0, nb), side=side)
        return [move_axis(b, out, nb, 0)], [0]
    n = axis_size(b, args, dims)
    return [b.op("searchsorted", a, bcast(b, v, dims[1], n), side=side)], [0]


searchsorted.batch = _searchsorted_batch
searchsorted.vjp = NOT_DIFFERENTIABLE
