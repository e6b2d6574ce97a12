"""Shape primitives: reshape, transpose, broadcast_to, concatenate."""
from __future__ import annotations

import numpy as np

from looptrace.ir.core import Dim

from .registry import Primitive, ShapeMismatch, register
from .shapes import fmt, size_of


def _reshape_abstract(x, *, shape):
    static = not any(isinstance(d, Dim) for d in x.shape + tuple(shape))
    if static and size_of(x.shape) != size_of(shape):
        raise ShapeMismatch(f"cannot reshape an array of shape {fmt(x.shape)} into shape {fmt(shape)}")
    return [(x.dtype, tuple(shape))]


def _reshape_impl(x, *, shape):
    if any(isinstance(d, Dim) for d in shape):
        shape = tuple(-1 if isinstance(d, Dim) else d for d in shape)
    return np.reshape(x, shape)


register(Primitive("reshape", "shape", _reshape_abstract, _reshape_impl))


def _transpose_abstract(x, *, perm):
    if sorted(perm) != list(range(len(x.shape))):
        raise ShapeMismatch(f"axes {perm} do not match an array of shape {fmt(x.shape)}")
    return [(x.dtype, tuple(x.shape[p] for p in perm))]


register(Primitive("transpose", "shape", _transpose_abstract,
                   lambda x, *, perm: np.transpose(x, perm)))


def _broadcast_abstract(x, *, shape):
    lead = len(shape) - len(x.shape)
    ok = lead >= 0 and all(d == 1 or d is shape[lead + i] or d == shape[lead + i]
                           for i, d in enumerate(x.shape))
    if not ok:
        raise ShapeMismatch(f"cannot broadcast shape {fmt(x.shape)} to {fmt(shape)}")
    return [(x.dtype, tuple(shape))]


def _broadcast_impl(x, *, shape):
    shape = tuple(x.shape[i - len(shape) + x.ndim] if isinstance(d, Dim) else d
                  for i, d in enumerate(shape))
    return np.broadcast_to(x, shape)


register(Primitive("broadcast_to", "shape", _broadcast_abstract, _broadcast_impl))


def _concat_abstract(*xs, axis):
    first = xs[0]
    for x in xs[1:]:
        same = len(x.shape) == len(first.shape) and all(
            i == axis or a == b for i, (a, b) in enumerate(zip(x.shape, first.shape)))
        if not same:
            shapes = ", ".join(fmt(x.shape) for x in xs)
            raise ShapeMismatch(f"cannot concatenate shapes {shapes} along axis {axis}: "
                                "all dimensions except the concatenation axis must match")
    if any(isinstance(x.shape[axis], Dim) for x in xs):
        bound = sum(size_of((x.shape[axis],)) for x in xs)
        size = Dim(bound)
    else:
        size = sum(x.shape[axis] for x in xs)
    shape = first.shape[:axis] + (size,) + first.shape[axis + 1:]
    return [(np.result_type(*(x.dtype for x in xs)), shape)]


register(Primitive("concatenate", "shape", _concat_abstract,
                   lambda *xs, axis: np.concatenate(xs, axis=axis)))
