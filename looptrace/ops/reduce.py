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
    def abstract(x, *, axes):
        _check_nonempty(name, x, axes)
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
        return [(reduced_dtype(name, x.dtype), shape)]

    return abstract


def _reduce_impl(name: str):
    fn = REDUCERS[name]

    def impl(x, *, axes):
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
    def rule(b, args, dims, *, axes):
        return [b.op(prim, args[0], axes=tuple(a + 1 for a in axes))], [0]

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
# sum: broadcast the cotangent back. prod: g * out / x (inputs must be
# nonzero). max/min: the cotangent goes to the positions equal to the
# result, split evenly among ties. Boolean reductions and argmax/argmin are
# not differentiable.
def _sum_vjp(b, g, op):
    from looptrace.ops.vjp_helpers import broadcast_back

    return broadcast_back(b, g, op.inputs[0], op.attrs["axes"])


def _prod_vjp(b, g, op):
    from looptrace.ops.vjp_helpers import broadcast_back

    (x,), axes = op.inputs, op.attrs["axes"]
    return b.div(b.mul(broadcast_back(b, g, x, axes), broadcast_back(b, op.out, x, axes)), x)


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
