"""Indexing primitives: static and dynamic slices, gathers, and the functional
updates that in-place writes become.

Semantics follow NumPy exactly: a traced integer index may be negative (it
counts from the end) and an index out of range raises IndexError at run time;
nothing is clamped silently.
"""
from __future__ import annotations

import numpy as np

from looptrace.errors import index_error_class
from looptrace.ir.core import Dim
from looptrace.ir.primitive import Primitive, ShapeMismatch, register

from .shape_arith import fmt


def _slice_abstract(x, *, starts, stops, steps):
    shape = tuple(len(range(a, b, s)) for a, b, s in zip(starts, stops, steps))
    return [(x.dtype, shape + tuple(x.shape[len(starts):]))]


def _slices(starts, stops, steps):
    return tuple(slice(a, b if b >= 0 else None, s) for a, b, s in zip(starts, stops, steps))


register(Primitive("slice", "indexing", _slice_abstract,
                   lambda x, *, starts, stops, steps: x[_slices(starts, stops, steps)],
                   view=True, doc="x[a0:b0:s0, a1:b1:s1, ...] with static, already normalized bounds"))


def check_index(i: int, n: int, axis: int, size: int = 1) -> int:
    given = i = int(i)
    if i < 0 and size == 1:
        i += n
    if not 0 <= i <= n - size:
        raise index_error_class(given, n, size)(index_message(given, n, axis, size))
    return i



def index_message(i: int, n: int, axis: int, size: int = 1) -> str:
    """NumPy's message for an index out of range (the index as the user gave
    it); for a slice that runs past the end, what NumPy would have done."""
    if size == 1 or i < 0 or i > n:
        return f"index {i} is out of bounds for axis {axis} with size {n}"
    return (f"the slice [{i}:{i} + {size}] runs past the end of axis {axis} (size {n}); NumPy would "
            f"shorten it to {n - i} element(s), but a traced slice keeps its static length {size}: "
            "stop the loop earlier, pad the array (np.pad), or index elements one by one")


def _dyn_slice_abstract(x, *starts, sizes):
    if len(starts) != len(sizes) or len(sizes) > len(x.shape):
        raise ShapeMismatch(f"bad dynamic slice of shape {fmt(x.shape)}")
    for s in starts:
        if s.shape != () or s.dtype.kind not in "iu":
            raise ShapeMismatch("dynamic slice starts must be integer scalars")
    return [(x.dtype, tuple(sizes) + tuple(x.shape[len(sizes):]))]


def _dyn_slice_impl(x, *starts, sizes):
    idx = tuple(slice(b, b + k) for b, k in
                ((check_index(s, x.shape[a], a, k), k) for a, (s, k) in enumerate(zip(starts, sizes))))
    return x[idx]


register(Primitive("dynamic_slice", "indexing", _dyn_slice_abstract, _dyn_slice_impl, view=True, may_raise=True,
                   doc="x[s0:s0+k0, s1:s1+k1, ...] with traced starts, static sizes; "
                       "a negative start counts from the end only when its size is 1"))


def _dyn_update_abstract(x, upd, *starts):
    # A write at a traced start into an empty axis is legal to trace: only a
    # loop that runs zero times reaches it (`out[i] = ...` over `range(0)`);
    # run time raises IndexError if it ever executes.
    n = len(starts)
    fits = len(upd.shape) == len(x.shape) and all(
        u == d or (i < n and isinstance(u, int) and (isinstance(d, Dim) or isinstance(d, int) and (u <= d or d == 0)))
        or (i < n and _bounded_within(u, d))
        for i, (u, d) in enumerate(zip(upd.shape, x.shape)))
    if not fits:
        raise ShapeMismatch(f"cannot write a block of shape {fmt(upd.shape)} into an array "
                            f"of shape {fmt(x.shape)}")
    return [(x.dtype, x.shape)]


def _bounded_within(u, d) -> bool:
    """A run-time length `u` whose bound fits axis `d` (the cotangent of
    a list grown under a condition written back into its buffer)."""
    return isinstance(u, Dim) and u.bound is not None and (isinstance(d, Dim) or u.bound <= d)


def _dyn_update_impl(x, upd, *starts):
    out = np.array(x, copy=True)
    idx = tuple(slice(b, b + k) for b, k in
                ((check_index(s, x.shape[a], a, upd.shape[a]), upd.shape[a])
                 for a, s in enumerate(starts)))
    out[idx] = upd
    return out


register(Primitive("dynamic_update_slice", "indexing", _dyn_update_abstract, _dyn_update_impl, may_raise=True,
                   doc="x with x[s0:s0+u0, ...] = upd (functional); upd has x's dtype"))


def _update_slice_abstract(x, upd, *, starts, stops, steps):
    (dtype, shape), = _slice_abstract(x, starts=starts, stops=stops, steps=steps)
    if tuple(upd.shape) != shape:
        raise ShapeMismatch(f"cannot write shape {fmt(upd.shape)} into a slice of shape {fmt(shape)}")
    return [(x.dtype, x.shape)]


def _update_slice_impl(x, upd, *, starts, stops, steps):
    out = np.array(x, copy=True)
    out[_slices(starts, stops, steps)] = upd
    return out


register(Primitive("update_slice", "indexing", _update_slice_abstract, _update_slice_impl,
                   doc="x with x[static slices] = upd (functional)"))


def _gather_abstract(x, idx, *, axis):
    if idx.dtype.kind not in "iu":
        raise ShapeMismatch("array indices must be integers")
    return [(x.dtype, tuple(x.shape[:axis]) + tuple(idx.shape) + tuple(x.shape[axis + 1:]))]


def _checked(idx, n: int, axis: int):
    idx = np.asarray(idx)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].flat[0]
        raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {n}")
    idx = idx.astype(np.intp, copy=False)  # (in range: `idx + n` of a uint8 or int8 index would overflow)
    return np.where(idx < 0, idx + n, idx)


register(Primitive("gather", "indexing", _gather_abstract,
                   lambda x, idx, *, axis: np.take(x, _checked(idx, x.shape[axis], axis), axis=axis),
                   fresh=True, may_raise=True, doc="np.take(x, idx, axis)"))


def _scatter_abstract(x, idx, upd, *, axis, mode):
    want = tuple(x.shape[:axis]) + tuple(idx.shape) + tuple(x.shape[axis + 1:])
    if tuple(upd.shape) != want:
        raise ShapeMismatch(f"cannot scatter shape {fmt(upd.shape)} into shape {fmt(x.shape)} "
                            f"with indices of shape {fmt(idx.shape)}")
    return [(x.dtype, x.shape)]


def _scatter_impl(x, idx, upd, *, axis, mode):
    out = np.array(x, copy=True)
    idx = _checked(idx, x.shape[axis], axis)
    moved_out = np.moveaxis(out, axis, 0)
    moved_upd = np.moveaxis(upd, list(range(axis, axis + idx.ndim)), list(range(idx.ndim)))
    if mode == "add":
        np.add.at(moved_out, idx, moved_upd)
    else:
        moved_out[idx] = moved_upd
    return out


register(Primitive("scatter", "indexing", _scatter_abstract, _scatter_impl, may_raise=True,
                   doc="x with x[..., idx, ...] = upd (mode 'set') or += upd (mode 'add', "
                       "repeated indices accumulate)"))


def _prefix_abstract(x, n):
    from looptrace.ir.core import Dim

    return [(x.dtype, (Dim(x.shape[0] if isinstance(x.shape[0], int) else x.shape[0].bound),)
             + tuple(x.shape[1:]))]


register(Primitive("dynamic_prefix", "indexing", _prefix_abstract, lambda x, n: x[: int(n)], view=True, may_raise=True,
                   doc="x[:n] with traced n: a run-time length (a list grown under a condition)"))


def _reserve_abstract(x, count, extra):
    """x's type, its leading axis a run-time length (a Dim): the same Dim
    where it was one already, so a buffer carried by a loop keeps its type
    while the run grows it."""
    from looptrace.ir.core import Dim

    lead = x.shape[0] if isinstance(x.shape[0], Dim) else Dim(None)
    return [(x.dtype, (lead,) + tuple(x.shape[1:]))]


def reserve_rows(x, count, extra):
    """x itself where it has room for `extra` rows after the first `count`;
    else a larger copy (twice the rows, or as many as needed) holding x's
    rows first and zeros after (never read: the list's array is the first
    `count` rows), so n appends cost O(n) copies in all."""
    need, cap = int(count) + int(extra), x.shape[0]
    if need <= cap:
        return x
    out = np.zeros((max(2 * cap, need),) + x.shape[1:], x.dtype)
    out[:cap] = x
    return out


register(Primitive("reserve", "indexing", _reserve_abstract, reserve_rows, view=True,
                   doc="x with room for `extra` rows after the first `count` (x itself, or a larger copy): "
                       "the buffer of a list a while loop appends to"))


# --- batching rules ---
def _slice_batch(b, args, dims, *, starts, stops, steps):
    n = args[0].shape[0]
    return [b.op("slice", args[0], starts=(0, *starts), stops=(n, *stops), steps=(1, *steps))], [0]


def _flat_take(b, x, flat):
    """x.reshape(-1)[flat] for batched x and flat indices."""
    size = int(np.prod(x.shape, dtype=np.int64))
    return b.op("gather", b.op("reshape", x, shape=(size,)), flat, axis=0)


def _dyn_slice_batch(b, args, dims, *, sizes):
    from looptrace.ops.batching_helpers import (
        axis_size,
        base_shape,
        bcast,
        flat_block_index,
        int_const,
    )

    x, *starts = args
    n = axis_size(b, args, dims)
    if all(d is None for d in dims[1:]):
        return [b.op("dynamic_slice", x, int_const(b, 0), *starts, sizes=(n, *sizes))], [0]
    if dims[0] is None and len(starts) == 1 and sizes[0] == 1:
        # one element (row) x[s] per member: a gather, which checks and wraps s as
        # NumPy's index does (the one-element slice's rule), and reads in place
        idx = b.op("reshape", starts[0], shape=(n, 1))
        return [b.op("gather", x, idx, axis=0)], [0]
    if dims[0] is None and all(k == 1 for k in sizes) and all(isinstance(d, int) for d in x.shape):
        return [_element_gather(b, x, starts, dims[1:], n)], [0]
    shape = base_shape(x, dims[0])
    if not all(isinstance(d, int) for d in shape):  # (a list's growable buffer: a run-time length)
        from looptrace.ops.batching_helpers import NotBatchable

        raise NotBatchable("a block of an array whose length only the run knows")
    flat = flat_block_index(b, shape, list(zip(starts, dims[1:])), tuple(sizes), rows=dims[0] is not None)
    return [_flat_take(b, bcast(b, x, dims[0], n) if dims[0] is not None else x, flat)], [0]


def _element_gather(b, x, starts, dims, n):
    """x[s0, s1, ...] (one element, or one sub-array of the axes after the
    starts) per batch member: each start checked and wrapped on its own axis
    (NumPy's index rule), then one gather from x seen as (rows, *rest) at
    the row s0 * stride0 + s1 * stride1 + ... (read in place by a target
    that fuses gathers; the checks are decided away where the ranges allow)."""
    from looptrace.ops.batching_helpers import check_index_range, int_const, norm_index

    k = len(starts)
    lead, rest = tuple(x.shape[:k]), tuple(x.shape[k:])
    flat = None
    for a, (s, d) in enumerate(zip(starts, dims)):
        s = s if d is not None else b.op("broadcast_to", s, shape=(n,))
        check_index_range(b, s, lead[a], 1, a)
        stride = int(np.prod(lead[a + 1:], dtype=np.int64))
        term = b.op("multiply", norm_index(b, s, lead[a]), int_const(b, stride))
        flat = term if flat is None else b.op("add", flat, term)
    rows = b.op("reshape", x, shape=(int(np.prod(lead, dtype=np.int64)), *rest))
    return b.op("gather", rows, b.op("reshape", flat, shape=(n,) + (1,) * k), axis=0)


def _dyn_update_batch(b, args, dims):
    from looptrace.ops.batching_helpers import (
        axis_size,
        base_shape,
        bcast,
        flat_block_index,
        int_const,
    )

    x, upd, *starts = args
    n = axis_size(b, args, dims)
    xb, ub = bcast(b, x, dims[0], n), bcast(b, upd, dims[1], n)
    if all(d is None for d in dims[2:]):
        return [b.op("dynamic_update_slice", xb, ub, int_const(b, 0), *starts)], [0]
    shape = base_shape(x, dims[0])
    sizes = base_shape(upd, dims[1])[:len(starts)]
    flat = flat_block_index(b, shape, list(zip(starts, dims[2:])), tuple(sizes))
    size = int(np.prod(xb.shape, dtype=np.int64))
    count = int(np.prod(ub.shape, dtype=np.int64))
    out = b.op("scatter", b.op("reshape", xb, shape=(size,)), b.op("reshape", flat, shape=(count,)),
               b.op("reshape", ub, shape=(count,)), axis=0, mode="set")
    return [b.op("reshape", out, shape=tuple(xb.shape))], [0]


def _update_slice_batch(b, args, dims, *, starts, stops, steps):
    from looptrace.ops.batching_helpers import axis_size, bcast

    n = axis_size(b, args, dims)
    x, upd = (bcast(b, v, d, n) for v, d in zip(args, dims))
    return [b.op("update_slice", x, upd, starts=(0, *starts), stops=(n, *stops), steps=(1, *steps))], [0]


def _flatten_batched_axis(b, x, axis):
    """(n, ..., D at 1+axis, ...) -> (n*D, rest...) with rest in order."""
    from looptrace.ops.batching_helpers import move_axis

    moved = move_axis(b, x, axis + 1, 1)
    n, size = moved.shape[0], moved.shape[1]
    return b.op("reshape", moved, shape=(n * size, *moved.shape[2:])), size


def _offset_indices(b, idx, n, size, axis=0):
    """Batched indices (n, *s) shifted into row m's segment of a flat axis
    (checked first: an index out of range must not land in another row)."""
    from looptrace.ops.batching_helpers import batch_iota, check_index_range, int_const, norm_index

    check_index_range(b, idx, size, 1, axis)
    rows = b.op("multiply", batch_iota(b, n, len(idx.shape), 0), int_const(b, size))
    return b.op("add", norm_index(b, idx, size), rows)


def _gather_batch(b, args, dims, *, axis):
    from looptrace.ops.batching_helpers import move_axis

    x, idx = args
    if dims[1] is None:
        return [b.op("gather", x, idx, axis=axis + 1)], [0]
    if dims[0] is None:
        return [move_axis(b, b.op("gather", x, idx, axis=axis), axis, 0)], [0]
    n = x.shape[0]
    flat, size = _flatten_batched_axis(b, x, axis)
    out = b.op("gather", flat, _offset_indices(b, idx, n, size, axis), axis=0)
    k = len(idx.shape) - 1  # out: (n, *idx, x[:axis], x[axis+1:]) -> (n, x[:axis], *idx, ...)
    perm = (0, *range(1 + k, 1 + k + axis), *range(1, 1 + k), *range(1 + k + axis, len(out.shape)))
    return [b.op("transpose", out, perm=perm)], [0]


def _scatter_batch(b, args, dims, *, axis, mode):
    from looptrace.ops.batching_helpers import axis_size, bcast, move_axis

    x, idx, upd = args
    n = axis_size(b, args, dims)
    xb, ub = bcast(b, x, dims[0], n), bcast(b, upd, dims[2], n)
    if dims[1] is None:
        return [b.op("scatter", xb, idx, ub, axis=axis + 1, mode=mode)], [0]
    flat, size = _flatten_batched_axis(b, xb, axis)
    k = len(idx.shape) - 1
    # upd (n, x[:axis], *idx, x[axis+1:]) -> (n, *idx, x[:axis], x[axis+1:]) -> (n * |idx|, rest)
    perm = (0, *range(1 + axis, 1 + axis + k), *range(1, 1 + axis), *range(1 + axis + k, len(ub.shape)))
    moved = b.op("transpose", ub, perm=perm)
    count = int(np.prod(idx.shape, dtype=np.int64))
    flat_upd = b.op("reshape", moved, shape=(count, *moved.shape[1 + k:]))
    flat_idx = b.op("reshape", _offset_indices(b, idx, n, size, axis), shape=(count,))
    out = b.op("scatter", flat, flat_idx, flat_upd, axis=0, mode=mode)
    shaped = b.op("reshape", out, shape=(n, size, *flat.shape[1:]))
    return [move_axis(b, shaped, 1, axis + 1)], [0]


def _prefix_batch(b, args, dims):
    from looptrace.ops.batching_helpers import NotBatchable, move_axis

    if dims[1] is not None:
        raise NotBatchable("dynamic_prefix with a batched length is ragged")
    out = b.op("dynamic_prefix", move_axis(b, args[0], 1, 0), args[1])
    return [move_axis(b, out, 0, 1)], [0]


def _attach_batching_rules() -> None:
    from looptrace.ir.primitive import PRIMITIVES

    rules = {"slice": _slice_batch, "dynamic_slice": _dyn_slice_batch,
             "dynamic_update_slice": _dyn_update_batch, "update_slice": _update_slice_batch,
             "gather": _gather_batch, "scatter": _scatter_batch, "dynamic_prefix": _prefix_batch}
    for name, rule in rules.items():
        PRIMITIVES[name].batch = rule


_attach_batching_rules()


# --- VJP rules ---
# Reading a window or gathering gives a sparse cotangent (added into one
# window / scatter-added, so repeated indices accumulate); a functional
# update splits the cotangent between the array (zeros where it was
# overwritten) and the update (the window it went to). For scatter with
# mode "set" and repeated indices, only the write NumPy keeps (the last)
# receives a cotangent.
def _dyn_slice_vjp(b, g, op):
    from looptrace.ops.vjp_helpers import SliceCt

    x, *starts = op.inputs
    return SliceCt(x, g, tuple(starts))


def _dyn_update_x_vjp(b, g, op):
    _, upd, *starts = op.inputs
    return b.emit("dynamic_update_slice", g, b.zeros_like(upd), *starts)


def _dyn_update_upd_vjp(b, g, op):
    _, upd, *starts = op.inputs
    return b.emit("dynamic_slice", g, *starts, sizes=tuple(upd.shape[: len(starts)]))


def _prefix_vjp(b, g, op):
    """x[:n] with traced n (a list grown under a condition): g in x's
    first rows, zeros after (the rows past the count were never read)."""
    from looptrace.errors import UnsupportedError
    from looptrace.ops.vjp_helpers import gradient_backend, int_scalar

    if gradient_backend() not in (None, "interpret"):  # (cpu/cuda lower no write of a run-time-length block)
        raise UnsupportedError(f"cannot differentiate a list grown under a condition on the {gradient_backend()} "
                               "backend (dynamic_prefix; the interpret backend can)", op.loc,
                               hint="add the terms where the condition holds to an accumulator, or write "
                                    "them into a zeroed array (out[k] = v; k += 1) and reduce all of it")
    x = op.inputs[0]
    return b.emit("dynamic_update_slice", b.zeros_like(x), g, int_scalar(0))


def _slice_vjp(b, g, op):
    from looptrace.ops.vjp_helpers import SliceCt, int_scalar

    if all(s == 1 for s in op.attrs["steps"]):  # a window: sparse, like a dynamic slice's (`w[0]` in a loop)
        return SliceCt(op.inputs[0], g, tuple(int_scalar(a) for a in op.attrs["starts"]))
    return b.emit("update_slice", b.zeros_like(op.inputs[0]), g, **op.attrs)


def _update_slice_x_vjp(b, g, op):
    return b.emit("update_slice", g, b.zeros_like(op.inputs[1]), **op.attrs)


def _update_slice_upd_vjp(b, g, op):
    return b.emit("slice", g, **op.attrs)


def _gather_vjp(b, g, op):
    from looptrace.ops.vjp_helpers import ScatterCt

    x, idx = op.inputs
    return ScatterCt(x, idx, g, op.attrs["axis"])


def _scatter_x_vjp(b, g, op):
    x, idx, upd = op.inputs
    if op.attrs["mode"] == "add":
        return g
    return b.emit("scatter", g, idx, b.zeros_like(upd), **op.attrs)


def _scatter_upd_vjp(b, g, op):
    x, idx, upd = op.inputs
    axis = op.attrs["axis"]
    ct = b.emit("gather", g, idx, axis=axis)
    if op.attrs["mode"] == "add":
        return ct
    return b.mul(ct, _last_write_mask(b, x, idx, upd, axis))


def _last_write_mask(b, x, idx, upd, axis):
    """1 where an update is the write NumPy keeps for its index, else 0,
    broadcastable against `upd`."""
    import numpy as np

    n = int(np.prod(idx.shape))
    pos = b.reshape(b.emit("iota", shape=(n,), dtype=np.dtype(np.int64), axis=0), tuple(idx.shape))
    minus_one = b.lit(-1, pos)
    slots = b.emit("broadcast_to", minus_one, shape=(x.shape[axis],))
    winner = b.emit("scatter", slots, idx, pos, axis=0, mode="set")
    keep = b.convert(b.emit("equal", b.emit("gather", winner, idx, axis=0), pos), upd.dtype)
    shape = (1,) * axis + tuple(idx.shape) + (1,) * (upd.ndim - axis - idx.ndim)
    return b.reshape(keep, shape)


def _attach_vjp_rules() -> None:
    from looptrace.ir.primitive import PRIMITIVES
    from looptrace.ops.vjp_helpers import NoGradient, defvjp

    defvjp(PRIMITIVES["dynamic_slice"], _dyn_slice_vjp)
    defvjp(PRIMITIVES["dynamic_update_slice"], _dyn_update_x_vjp, _dyn_update_upd_vjp)
    defvjp(PRIMITIVES["slice"], _slice_vjp)
    defvjp(PRIMITIVES["update_slice"], _update_slice_x_vjp, _update_slice_upd_vjp)
    defvjp(PRIMITIVES["gather"], _gather_vjp, None)
    defvjp(PRIMITIVES["scatter"], _scatter_x_vjp, None, _scatter_upd_vjp)
    defvjp(PRIMITIVES["dynamic_prefix"], _prefix_vjp, None)
    PRIMITIVES["reserve"].vjp = NoGradient(
        "a list whose length is known only at run time where a loop grows it: one a while loop appends to, one "
        "a loop pops, or one a loop nested in the loop that reads it appends to (reserve)",
        hint="a for loop over a range that appends and reads ys[-1] has a gradient; or write the rows into a "
             "preallocated array: ys = np.zeros((n + 1, ...)); ys[t + 1] = f(ys[t])")


_attach_vjp_rules()
