"""Shape primitives: reshape, transpose, broadcast_to, concatenate."""
from __future__ import annotations

import numpy as np

from looptrace.ir.core import Dim
from looptrace.ir.primitive import Primitive, ShapeMismatch, register

from .shape_arith import fmt, size_of


def _reshape_abstract(x, *, shape):
    static = not any(isinstance(d, Dim) for d in x.shape + tuple(shape))
    if static and size_of(x.shape) != size_of(shape):
        raise ShapeMismatch(f"cannot reshape an array of shape {fmt(x.shape)} into shape {fmt(shape)}")
    return [(x.dtype, tuple(shape))]


def _reshape_impl(x, *, shape):
    if any(isinstance(d, Dim) for d in shape):
        shape = tuple(-1 if isinstance(d, Dim) else d for d in shape)
    return np.reshape(x, shape)


register(Primitive("reshape", "shape", _reshape_abstract, _reshape_impl, view=True))


def _transpose_abstract(x, *, perm):
    if sorted(perm) != list(range(len(x.shape))):
        raise ShapeMismatch(f"axes {perm} do not match an array of shape {fmt(x.shape)}")
    return [(x.dtype, tuple(x.shape[p] for p in perm))]


register(Primitive("transpose", "shape", _transpose_abstract,
                   lambda x, *, perm: np.transpose(x, perm), view=True))


def is_reshape_like(op) -> bool:
    """A reshape, or a transpose that only moves unit axes (the same as a reshape)."""
    if op.prim.name == "reshape":
        return True
    if op.prim.name != "transpose":
        return False
    x = op.inputs[0]
    moved = [p for p in op.attrs["perm"] if x.shape[p] != 1]
    return moved == sorted(moved)


def _broadcast_abstract(x, *, shape):
    lead = len(shape) - len(x.shape)
    ok = lead >= 0 and all(d == 1 or d is shape[lead + i] or d == shape[lead + i]
                           for i, d in enumerate(x.shape))
    if not ok:  # NumPy's words (np.broadcast_to)
        if lead < 0:
            raise ShapeMismatch("input operand has more dimensions than allowed by the axis remapping")
        compact = lambda s: str(tuple(s)).replace(" ", "")
        raise ShapeMismatch("operands could not be broadcast together with remapped shapes "
                            f"[original->remapped]: {compact(x.shape)}  and requested shape {compact(shape)}")
    return [(x.dtype, tuple(shape))]


def _broadcast_impl(x, *, shape):
    shape = tuple(x.shape[i - len(shape) + x.ndim] if isinstance(d, Dim) else d
                  for i, d in enumerate(shape))
    return np.broadcast_to(x, shape)


register(Primitive("broadcast_to", "shape", _broadcast_abstract, _broadcast_impl, view=True, fusible=True,
                   cheap=True))


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
        unbounded = any(isinstance(x.shape[axis], Dim) and x.shape[axis].bound is None for x in xs)
        size = Dim(None if unbounded else sum(size_of((x.shape[axis],)) for x in xs))
    else:
        size = sum(x.shape[axis] for x in xs)
    shape = first.shape[:axis] + (size,) + first.shape[axis + 1:]
    return [(np.result_type(*(x.dtype for x in xs)), shape)]


register(Primitive("concatenate", "shape", _concat_abstract,
                   lambda *xs, axis: np.concatenate(xs, axis=axis), fresh=True))


# --- batching rules ---
def _reshape_batch(b, args, dims, *, shape):
    (x,) = args
    return [b.op("reshape", x, shape=(x.shape[0], *shape))], [0]


def _transpose_batch(b, args, dims, *, perm):
    return [b.op("transpose", args[0], perm=(0, *(p + 1 for p in perm)))], [0]


def _broadcast_batch(b, args, dims, *, shape):
    from looptrace.ops.batching_helpers import expand_to_rank

    x = expand_to_rank(b, args[0], len(shape))
    return [b.op("broadcast_to", x, shape=(x.shape[0], *shape))], [0]


def _concat_batch(b, args, dims, *, axis):
    from looptrace.ops.batching_helpers import axis_size, bcast

    n = axis_size(b, args, dims)
    xs = [bcast(b, x, d, n) for x, d in zip(args, dims)]
    return [b.op("concatenate", *xs, axis=axis + 1)], [0]


def _attach_batching_rules() -> None:
    from looptrace.ir.primitive import PRIMITIVES

    PRIMITIVES["reshape"].batch = _reshape_batch
    PRIMITIVES["transpose"].batch = _transpose_batch
    PRIMITIVES["broadcast_to"].batch = _broadcast_batch
    PRIMITIVES["concatenate"].batch = _concat_batch


_attach_batching_rules()


# --- VJP rules ---
# Shape ops move the cotangent back: reshape back, transpose by the inverse
# permutation, sum over broadcast axes, slice a concatenation's cotangent.
def _reshape_vjp(b, g, op):
    return b.reshape(g, tuple(op.inputs[0].shape))


def _transpose_vjp(b, g, op):
    inverse = tuple(int(i) for i in np.argsort(op.attrs["perm"]))
    return b.emit("transpose", g, perm=inverse)


def _broadcast_vjp(b, g, op):
    from looptrace.ops.vjp_helpers import unbroadcast

    return unbroadcast(b, g, op.inputs[0])


def _concat_vjp(b, op, g, wanted):
    """Each piece gets its window of g. With static lengths the windows are
    static slices; once a piece's length is known only at run time (a Dim: a
    list grown under a condition), every later window starts at a run-time
    offset, counted from the pieces themselves (`_dynamic_concat_vjp`)."""
    axis = op.attrs["axis"]
    if any(isinstance(d, Dim) for x in op.inputs for d in x.shape):
        return _dynamic_concat_vjp(b, op, g, wanted)
    offset, cts = 0, []
    for x, w in zip(op.inputs, wanted):
        size = x.shape[axis]
        if w:
            starts = tuple(offset if i == axis else 0 for i in range(g.ndim))
            stops = tuple(offset + size if i == axis else d for i, d in enumerate(g.shape))
            piece = b.emit("slice", g, starts=starts, stops=stops, steps=(1,) * g.ndim)
            cts.append(b.convert(piece, x.dtype))
        else:
            cts.append(None)
        offset += size
    return cts


def _dynamic_concat_vjp(b, op, g, wanted):
    """The windows of g when some piece has a run-time length: a window of
    static length is a dynamic_slice at its (traced) offset; a window of
    run-time length is a gather of g at offset + 0, 1, ..., so that it has
    exactly its piece's shape (its Dim)."""
    from looptrace.ops.vjp_helpers import int_scalar

    axis = op.attrs["axis"]
    _check_dynamic_concat(b, op, wanted)
    offset, cts = int_scalar(0), []
    for x, w in zip(op.inputs, wanted):
        size = x.shape[axis]
        if w and isinstance(size, Dim):
            cts.append(b.convert(b.emit("gather", g, _positions(b, x, axis, offset), axis=axis), x.dtype))
        elif w:
            cts.append(b.convert(_window(b, g, axis, offset, size), x.dtype))
        else:
            cts.append(None)
        offset = b.add(offset, _run_time_length(b, x, axis))
    return cts


def _window(b, g, axis, offset, size):
    """g[..., offset:offset + size, ...] on `axis` (a traced offset, a static
    size): a dynamic_slice of the leading axis, the joined axis moved there
    and back (an axis before it may be a run-time length: no static size)."""
    if axis == 0:
        return b.emit("dynamic_slice", g, offset, sizes=(size,))
    perm = (axis,) + tuple(i for i in range(g.ndim) if i != axis)
    front = b.emit("dynamic_slice", b.emit("transpose", g, perm=perm), offset, sizes=(size,))
    return b.emit("transpose", front, perm=tuple(int(i) for i in np.argsort(perm)))


def _check_dynamic_concat(b, op, wanted) -> None:
    """Refuse, with the user's line, what the windows above cannot express:
    a run-time length on an axis other than the joined one (the window's
    start there is unknown), or a run-time-length window on a backend that
    lowers no run-time-length gather (the interpreter does)."""
    from looptrace.errors import UnsupportedError
    from looptrace.ops.vjp_helpers import gradient_backend

    axis = op.attrs["axis"]
    hint = ("add the terms where the condition holds to an accumulator, or write them into a zeroed "
            "array (out[k] = v; k += 1) and concatenate that")
    if any(isinstance(x.shape[axis], Dim) and any(isinstance(d, Dim) for i, d in enumerate(x.shape) if i != axis)
           for x in op.inputs):
        raise UnsupportedError("cannot differentiate a concatenation of a piece whose length is known only at "
                               "run time both on the joined axis and on another", op.loc, hint=hint)
    dynamic = any(w and any(isinstance(d, Dim) for d in x.shape) for x, w in zip(op.inputs, wanted))
    if dynamic and gradient_backend() not in (None, "interpret"):
        raise UnsupportedError(f"cannot differentiate a concatenation of a piece whose length is known only at "
                               f"run time on the {gradient_backend()} backend (the interpret backend can)",
                               op.loc, hint=hint)


def _run_time_length(b, x, axis):
    """x.shape[axis] as a traced int64 scalar: a constant where static, else
    counted from x itself (ones shaped like x, summed, divided by the other,
    static, axes' product)."""
    from looptrace.ops.vjp_helpers import int_scalar

    size = x.shape[axis]
    if not isinstance(size, Dim):
        return int_scalar(size)
    others = size_of(tuple(d for i, d in enumerate(x.shape) if i != axis))
    if others == 0:  # (no elements: the piece's length does not show; its window is empty anyway)
        return int_scalar(0)
    total = b.reduce_sum(b.like(x, int_scalar(1)), tuple(range(x.ndim)))
    return total if others == 1 else b.emit("floor_divide", total, int_scalar(others))


def _positions(b, x, axis, offset):
    """offset, offset + 1, ... as a vector of x's run-time length on `axis`
    (its Dim): a running count of ones shaped like x's axis (made from x,
    a float: `like` of an int value is folded to a fill that a Dim cannot
    size)."""
    from looptrace.ops.vjp_helpers import int_scalar

    others = size_of(tuple(d for i, d in enumerate(x.shape) if i != axis))
    along = b.reduce_sum(b.like(x, int_scalar(1)), tuple(i for i in range(x.ndim) if i != axis))
    ones = along if others == 1 else b.emit("floor_divide", along, int_scalar(max(others, 1)))
    return b.emit("linear_scan", int_scalar(1), ones, b.sub(offset, int_scalar(1)))


def _attach_vjp_rules() -> None:
    from looptrace.ir.primitive import PRIMITIVES
    from looptrace.ops.vjp_helpers import defvjp

    defvjp(PRIMITIVES["reshape"], _reshape_vjp)
    defvjp(PRIMITIVES["transpose"], _transpose_vjp)
    defvjp(PRIMITIVES["broadcast_to"], _broadcast_vjp)
    PRIMITIVES["concatenate"].vjp = _concat_vjp


_attach_vjp_rules()
