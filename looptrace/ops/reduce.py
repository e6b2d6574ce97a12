"""Reductions over static axes: sum, prod, max, min, all, any, argmax, argmin.

`axes` is a sorted tuple of non-negative axes; reduced axes are dropped
(keepdims is a reshape in the tracer). argmax/argmin take one axis.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.primitive import Primitive, Reduction, ShapeMismatch, register

from .shape_arith import fmt

REDUCERS = {
    "reduce_sum": np.sum, "reduce_prod": np.prod, "reduce_max": np.max,
    "reduce_min": np.min, "reduce_all": np.all, "reduce_any": np.any,
}
# the binary ufunc each reduction folds with (the vectorizer and autodiff use it)
MONOID = {
    "reduce_sum": "add", "reduce_prod": "multiply", "reduce_max": "maximum",
    "reduce_min": "minimum", "reduce_all": "logical_and", "reduce_any": "logical_or",
}


def reduced_dtype(name: str, dtype: np.dtype) -> np.dtype:
    return np.asarray(REDUCERS[name](np.ones(1, dtype))).dtype


def _check_nonempty(name: str, x, axes: tuple) -> None:
    if name in ("reduce_max", "reduce_min") and any(x.shape[a] == 0 for a in axes):
        raise ShapeMismatch(f"{name[7:]} of an empty axis of shape {fmt(x.shape)} has no identity")


def _reduce_abstract(name: str):
    def abstract(x, *, axes, ties=None, from_negative_zero=False):
        _check_nonempty(name, x, axes)
        if ties is not None and (name not in TIES or ties not in ("first", "last")):
            raise ShapeMismatch(f"{name} takes ties='first' or 'last', not {ties!r}")
        if from_negative_zero and name != "reduce_sum":
            raise ShapeMismatch(f"{name} takes no from_negative_zero (reduce_sum's)")
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
        return [(reduced_dtype(name, x.dtype), shape)]

    return abstract


# `ties` of reduce_max/reduce_min: which of equal elements (+0.0 and -0.0) a
# sequential fold keeps. None: NumPy's np.max/np.min (whose SIMD lanes choose);
# "first": the fold `acc = maximum(x[i], acc)` (a Python `if v > m: m = v`,
# `m = max(m, v)`: the first of equal values stays); "last": the fold
# `acc = maximum(acc, x[i])` (`if v >= m`, `m = np.maximum(m, v)`). A NaN wins
# (it propagates), as in those folds.
TIES = ("reduce_max", "reduce_min")


def _tied_extreme(name: str, x: np.ndarray, axes: tuple, ties: str) -> np.ndarray:
    """The element the fold keeps, per kept index: the first (or last) position
    along the reduced axes, in C order, holding the extreme (or a NaN)."""
    x = np.asarray(x)
    k = len(axes)
    lined = np.moveaxis(x, axes, tuple(range(x.ndim - k, x.ndim)))
    lined = lined.reshape(lined.shape[:x.ndim - k] + (-1,))
    if ties == "last":
        lined = lined[..., ::-1]
    at = (np.argmax if name == "reduce_max" else np.argmin)(lined, axis=-1)  # the first; a NaN first
    return np.asarray(np.take_along_axis(lined, at[..., None], axis=-1)[..., 0])


def _reduce_impl(name: str):
    fn = REDUCERS[name]

    def impl(x, *, axes, ties=None, from_negative_zero=False):
        if ties is not None and np.asarray(x).dtype.kind == "f":
            return _tied_extreme(name, x, tuple(axes), ties)
        if from_negative_zero and np.asarray(x).dtype.kind == "f":
            return np.asarray(np.add.reduce(x, axis=axes, initial=-0.0))  # (-0.0 + v is v, bit for bit)
        return np.asarray(fn(x, axis=axes))

    return impl


def _identity(name: str):
    """The value a fold starts from, in its accumulator's dtype."""

    def identity(acc: np.dtype):
        acc = np.dtype(acc)
        if name in ("reduce_sum", "reduce_prod"):
            return acc.type(name == "reduce_prod")
        if name in ("reduce_all", "reduce_any"):
            return name == "reduce_all"
        from_above = name == "reduce_min"
        if acc.kind == "f":
            return acc.type(np.inf if from_above else -np.inf)
        if acc.kind == "b":
            return from_above
        info = np.iinfo(acc)
        return acc.type(info.max if from_above else info.min)

    return identity


def _reduction(name: str) -> Reduction:
    return Reduction(MONOID[name], _identity(name), lambda op: tuple(op.attrs["axes"]),
                     lambda dtype: reduced_dtype(name, dtype))


for _name in REDUCERS:
    register(Primitive(_name, "reduce", _reduce_abstract(_name), _reduce_impl(_name),
                       reduction=_reduction(_name), fresh=True))


def _arg_abstract(x, *, axis):
    if x.shape[axis] == 0:
        raise ShapeMismatch(f"argmax/argmin of an empty axis of shape {fmt(x.shape)}")
    return [(np.dtype(np.int64), tuple(d for i, d in enumerate(x.shape) if i != axis))]


register(Primitive("argmax", "reduce", _arg_abstract,
                   lambda x, *, axis: np.asarray(np.argmax(x, axis=axis)).astype(np.int64), fresh=True))
register(Primitive("argmin", "reduce", _arg_abstract,
                   lambda x, *, axis: np.asarray(np.argmin(x, axis=axis)).astype(np.int64), fresh=True))


# --- batching rules ---
def _batch_reduce(prim: Primitive):
    def rule(b, args, dims, *, axes, **attrs):
        return [b.op(prim, args[0], axes=tuple(a + 1 for a in axes), **attrs)], [0]

    return rule


def _batch_arg(prim: Primitive):
    def rule(b, args, dims, *, axis):
        return [b.op(prim, args[0], axis=axis + 1)], [0]

    return rule


def _attach_batching_rules() -> None:
    from looptrace.ir.primitive import PRIMITIVES

    for name in REDUCERS:
        PRIMITIVES[name].batch = _batch_reduce(PRIMITIVES[name])
    for name in ("argmax", "argmin"):
        PRIMITIVES[name].batch = _batch_arg(PRIMITIVES[name])


_attach_batching_rules()


# --- VJP rules ---
# sum: broadcast the cotangent back. prod: g times the product of the others
# (`_prod_vjp`). max/min: the cotangent goes to the positions equal to the
# result, split evenly among ties. Boolean reductions and argmax/argmin are
# not differentiable.
def _sum_vjp(b, g, op):
    from looptrace.ops.vjp_helpers import broadcast_back

    return broadcast_back(b, g, op.inputs[0], op.attrs["axes"])


def _prod_vjp(b, g, op):
    """The product of the other elements, without dividing by a zero (out / x
    gave NaN at an x == 0, probe P C1): out / x where x is not 0; at the one
    zero of its slice, the product of the rest; 0 where there are two."""
    from looptrace.ops.vjp_helpers import broadcast_back

    (x,), axes = op.inputs, op.attrs["axes"]
    axes = tuple(sorted(axes))
    zero = b.lit(0, x)
    is_zero = b.emit("equal", x, zero)
    nonzero = b.emit("select", is_zero, b.lit(1, x), x)
    rest = broadcast_back(b, b.emit("reduce_prod", nonzero, axes=axes), x, axes)  # of the nonzero elements
    zeros = b.reduce_sum(b.convert(is_zero, np.int64), axes)
    lone = broadcast_back(b, b.emit("equal", zeros, b.lit(1, zeros)), x, axes)
    at_zero = b.emit("select", lone, rest, b.zeros_like(x))
    others = b.emit("select", is_zero, at_zero, b.div(broadcast_back(b, op.out, x, axes), nonzero))
    return b.mul(broadcast_back(b, g, x, axes), others)


def _extremum_vjp(b, g, op):
    from looptrace.ops.vjp_helpers import broadcast_back

    (x,), axes = op.inputs, op.attrs["axes"]
    hit = b.convert(b.emit("equal", x, broadcast_back(b, op.out, x, axes)), x.dtype)
    count = broadcast_back(b, b.reduce_sum(hit, axes), x, axes)
    return b.div(b.mul(hit, broadcast_back(b, g, x, axes)), count)


def _attach_vjp_rules() -> None:
    from looptrace.ir.primitive import NOT_DIFFERENTIABLE, PRIMITIVES
    from looptrace.ops.vjp_helpers import defvjp

    defvjp(PRIMITIVES["reduce_sum"], _sum_vjp)
    defvjp(PRIMITIVES["reduce_prod"], _prod_vjp)
    defvjp(PRIMITIVES["reduce_max"], _extremum_vjp)
    defvjp(PRIMITIVES["reduce_min"], _extremum_vjp)
    for name in ("reduce_all", "reduce_any", "argmax", "argmin"):
        PRIMITIVES[name].vjp = NOT_DIFFERENTIABLE


_attach_vjp_rules()
