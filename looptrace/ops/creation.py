"""Array constructors that take no array input: `iota` (np.arange's core).
Constant fills are literals broadcast with `broadcast_to`."""
from __future__ import annotations

import numpy as np

from looptrace.ir.primitive import Primitive, register


def _iota_impl(*, shape, dtype, axis):
    ramp = np.arange(shape[axis], dtype=dtype)
    view = ramp.reshape([-1 if i == axis else 1 for i in range(len(shape))])
    return np.broadcast_to(view, shape).copy()


register(Primitive("iota", "creation", lambda *, shape, dtype, axis: [(np.dtype(dtype), tuple(shape))],
                   _iota_impl, fusible=True, fresh=True, doc="0, 1, 2, ... along `axis`, broadcast to `shape`"))


# --- batching rules ---
def _iota_batch(b, args, dims, **attrs):
    # iota takes no operands, so it is never batched; the dispatcher emits it as is
    return [b.op("iota", **attrs)], [None]


def _attach_batching_rules() -> None:
    from looptrace.ir.primitive import PRIMITIVES

    PRIMITIVES["iota"].batch = _iota_batch


_attach_batching_rules()


# --- VJP rules ---
def _attach_vjp_rules() -> None:
    from looptrace.ir.primitive import NOT_DIFFERENTIABLE, PRIMITIVES

    PRIMITIVES["iota"].vjp = NOT_DIFFERENTIABLE


_attach_vjp_rules()
