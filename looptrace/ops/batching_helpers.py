"""Helpers for batching rules, and the dispatcher that applies them.

A batching rule has the signature `rule(b, args, dims, **attrs) -> (outs,
out_dims)` as in JAX's vmap: `b` is a builder (looptrace.ir.builder), `args`
the operands, `dims[k]` is 0 when `args[k]` carries the batch axis in front
and None when it is the same for every batch member. Rules put the batch axis
of every batched output in front (out dim 0). `b.axis_size` is the batch size.

Invariant: for every primitive p and operands x_k (batched ones stacked along
axis 0), `rule(...)` equals `np.stack([p(*slice_k) for k in range(n)])`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class NotBatchable(Exception):
    """A rule cannot batch this combination; the op stays in its loop."""


def axis_size(b: Any, args: Sequence, dims: Sequence) -> int:
    for x, d in zip(args, dims):
        if d is not None and getattr(x, "shape", None) is not None and len(x.shape) > 0:
            return x.shape[0]
    return b.axis_size


def base_shape(x: Any, d: Any) -> tuple:
    return tuple(x.shape[1:]) if d is not None else tuple(x.shape)


def bcast(b: Any, x: Any, d: Any, n: int) -> Any:
    """x with the batch axis in front (broadcast when unbatched)."""
    if d is not None:
        return x
    return b.op("broadcast_to", x, shape=(n, *x.shape))


def expand_to_rank(b: Any, x: Any, rank: int) -> Any:
    """A batched x (n, *s) reshaped to (n, 1, ..., 1, *s) with `rank` base dims."""
    missing = rank - (len(x.shape) - 1)
    if missing <= 0:
        return x
    return b.op("reshape", x, shape=(x.shape[0],) + (1,) * missing + tuple(x.shape[1:]))


def move_axis(b: Any, x: Any, src: int, dst: int) -> Any:
    if src == dst:
        return x
    perm = [a for a in range(len(x.shape)) if a != src]
    perm.insert(dst, src)
    return b.op("transpose", x, perm=tuple(perm))


def int_const(b: Any, v: int) -> Any:
    return b.const(np.int64(v))


def batch_iota(b: Any, n: int, rank: int, axis: int = 0) -> Any:
    """0..n-1 along `axis` of a rank-`rank` array with ones elsewhere."""
    shape = tuple(n if a == axis else 1 for a in range(rank))
    return b.op("iota", shape=shape, dtype=np.dtype(np.int64), axis=axis)


def norm_index(b: Any, idx: Any, size: int) -> Any:
    """Negative indices count from the end (NumPy's rule)."""
    neg = b.op("less", idx, int_const(b, 0))
    return b.op("select", neg, b.op("add", idx, int_const(b, size)), idx)


def flat_block_index(b: Any, shape: tuple, starts: list, sizes: tuple, rows: bool = True) -> Any:
    """Flat indices (n, *sizes, *rest) into an (n, *shape) array of the blocks
    x[m, s0[m]:s0[m]+k0, ...]; starts are batched (n,) or unbatched scalars.
    With rows=False the indices point into one unbatched x of `shape`."""
    n = None
    for s, d in starts:
        if d is not None:
            n = s.shape[0]
    full = tuple(sizes) + tuple(shape[len(sizes):])
    rank = 1 + len(full)
    for a, (s, d) in enumerate(starts):
        check_index_range(b, s if d is not None else b.op("broadcast_to", s, shape=(n,)), shape[a], sizes[a], a)
    strides = [int(np.prod(shape[a + 1:], dtype=np.int64)) for a in range(len(shape))]
    total = int(np.prod(shape, dtype=np.int64))
    flat = b.op("multiply", batch_iota(b, n, rank, 0), int_const(b, total if rows else 0))
    valid = None
    for a in range(len(full)):
        pos = b.op("iota", shape=tuple(full[a] if k == a + 1 else 1 for k in range(rank)),
                   dtype=np.dtype(np.int64), axis=a + 1)
        if a < len(starts):
            s, d = starts[a]
            s = norm_index(b, s, shape[a]) if sizes[a] == 1 else s
            s = b.op("reshape", s, shape=(n,) + (1,) * len(full)) if d is not None else s
            ok = _start_in_range(b, s, shape[a] - sizes[a])
            valid = ok if valid is None else b.op("logical_and", valid, ok)
            pos = b.op("add", pos, s)
        flat = b.op("add", flat, b.op("multiply", pos, int_const(b, strides[a])))
    if valid is not None:
        # a start out of range must raise IndexError as the loop would, never
        # read a neighbouring block: point its indices past the end
        past_end = int_const(b, (n or 1) * total if rows else total)
        flat = b.op("select", valid, flat, past_end)
    return flat


def check_index_range(b: Any, idx: Any, dim: int, size: int = 1, axis: int = 0) -> None:
    """A run-time check (ops/check.py) that batched indices are in range:
    out of range raises IndexError naming the index as the user gave it, at
    the first iteration that has one, before any flat index is formed from
    it (which could otherwise land in a neighbouring row)."""
    from looptrace.ir.core import UNKNOWN_LOC
    from looptrace.ops.check import Failure

    if size == 1:
        ok = b.op("logical_and", b.op("greater_equal", idx, int_const(b, -dim)), b.op("less", idx, int_const(b, dim)))
        message = f"index {{value}} is out of bounds for axis {axis} with size {dim}"
    else:
        ok = _start_in_range(b, idx, dim - size)
        message = (f"the slice [{{value}}:{{value}} + {size}] runs past the end of axis {axis} (size {dim}); "
                   "NumPy would shorten it, but a traced slice keeps its static length: stop the loop "
                   "earlier, pad the array (np.pad), or index elements one by one")
    from looptrace.errors import SliceOverrunError

    exc = IndexError() if size == 1 else SliceOverrunError("")  # looptrace's limit, not the user's error
    failure = Failure(exc, getattr(b, "loc", UNKNOWN_LOC), message)
    b.op("check", b.op("logical_not", ok), idx, failures=(failure,))


def _start_in_range(b: Any, s: Any, last: int) -> Any:
    """0 <= s <= last, as a boolean array."""
    return b.op("logical_and", b.op("greater_equal", s, int_const(b, 0)),
                b.op("less_equal", s, int_const(b, last)))


def apply_rule(b: Any, prim: Any, args: Sequence, dims: Sequence, attrs: dict) -> tuple[list, list]:
    """Batch one op: unbatched ops are emitted as they are."""
    if all(d is None for d in dims):
        out = b.op(prim, *args, **attrs)
        outs = list(out) if prim.multiple_results else [out]
        return outs, [None] * len(outs)
    if prim.batch is None:
        raise NotBatchable(f"{prim.name} has no batching rule")
    outs, out_dims = prim.batch(b, list(args), list(dims), **attrs)
    return list(outs), list(out_dims)
