"""Indexing primitives: static and dynamic slices, gathers, and the functional
updates that in-place writes become.

Semantics follow NumPy exactly: a traced integer index may be negative (it
counts from the end) and an index out of range raises IndexError at run time;
nothing is clamped silently.
"""
from __future__ import annotations

import numpy as np

from .registry import Primitive, ShapeMismatch, register
from .shapes import fmt


def _slice_abstract(x, *, starts, stops, steps):
    shape = tuple(len(range(a, b, s)) for a, b, s in zip(starts, stops, steps))
    return [(x.dtype, shape + tuple(x.shape[len(starts):]))]


def _slices(starts, stops, steps):
    return tuple(slice(a, b if b >= 0 else None, s) for a, b, s in zip(starts, stops, steps))


register(Primitive("slice", "indexing", _slice_abstract,
                   lambda x, *, starts, stops, steps: x[_slices(starts, stops, steps)],
                   doc="x[a0:b0:s0, a1:b1:s1, ...] with static, already normalized bounds"))


def check_index(i: int, n: int, axis: int, size: int = 1) -> int:
    i = int(i)
    if i < 0 and size == 1:
        i += n
    if not 0 <= i <= n - size:
        raise IndexError(f"index {i} is out of bounds for axis {axis} with size {n}")
    return i


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


register(Primitive("dynamic_slice", "indexing", _dyn_slice_abstract, _dyn_slice_impl,
                   doc="x[s0:s0+k0, s1:s1+k1, ...] with traced starts, static sizes; "
                       "a negative start counts from the end only when its size is 1"))


def _dyn_update_abstract(x, upd, *starts):
    n = len(starts)
    fits = len(upd.shape) == len(x.shape) and all(
        u == d or (i < n and isinstance(u, int) and isinstance(d, int) and u <= d)
        for i, (u, d) in enumerate(zip(upd.shape, x.shape)))
    if not fits:
        raise ShapeMismatch(f"cannot write a block of shape {fmt(upd.shape)} into an array "
                            f"of shape {fmt(x.shape)}")
    return [(x.dtype, x.shape)]


def _dyn_update_impl(x, upd, *starts):
    out = np.array(x, copy=True)
    idx = tuple(slice(b, b + k) for b, k in
                ((check_index(s, x.shape[a], a, upd.shape[a]), upd.shape[a])
                 for a, s in enumerate(starts)))
    out[idx] = upd
    return out


register(Primitive("dynamic_update_slice", "indexing", _dyn_update_abstract, _dyn_update_impl,
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
    return np.where(idx < 0, idx + n, idx)


register(Primitive("gather", "indexing", _gather_abstract,
                   lambda x, idx, *, axis: np.take(x, _checked(idx, x.shape[axis], axis), axis=axis),
                   doc="np.take(x, idx, axis)"))


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


register(Primitive("scatter", "indexing", _scatter_abstract, _scatter_impl,
                   doc="x with x[..., idx, ...] = upd (mode 'set') or += upd (mode 'add', "
                       "repeated indices accumulate)"))


def _prefix_abstract(x, n):
    from looptrace.ir.core import Dim

    return [(x.dtype, (Dim(x.shape[0] if isinstance(x.shape[0], int) else x.shape[0].bound),)
             + tuple(x.shape[1:]))]


register(Primitive("dynamic_prefix", "indexing", _prefix_abstract, lambda x, n: x[: int(n)],
                   doc="x[:n] with traced n: a run-time length (a list grown under a condition)"))
