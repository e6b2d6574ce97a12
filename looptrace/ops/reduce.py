"""Reductions over static axes: sum, prod, max, min, all, any, argmax, argmin.

`axes` is a sorted tuple of non-negative axes; reduced axes are dropped
(keepdims is a reshape in the tracer). argmax/argmin take one axis.
"""
from __future__ import annotations

import numpy as np

from .registry import Primitive, ShapeMismatch, register
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


for _name in REDUCERS:
    register(Primitive(_name, "reduce", _reduce_abstract(_name), _reduce_impl(_name),
                       extra={"monoid": MONOID[_name]}))


def _arg_abstract(x, *, axis):
    if x.shape[axis] == 0:
        raise ShapeMismatch(f"argmax/argmin of an empty axis of shape {fmt(x.shape)}")
    return [(np.dtype(np.int64), tuple(d for i, d in enumerate(x.shape) if i != axis))]


register(Primitive("argmax", "reduce", _arg_abstract,
                   lambda x, *, axis: np.asarray(np.argmax(x, axis=axis)).astype(np.int64)))
register(Primitive("argmin", "reduce", _arg_abstract,
                   lambda x, *, axis: np.asarray(np.argmin(x, axis=axis)).astype(np.int64)))


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
    from .registry import PRIMITIVES

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
    from looptrace.autodiff.rules import broadcast_back

    return broadcast_back(b, g, op.inputs[0], op.attrs["axes"])


def _prod_vjp(b, g, op):
    from looptrace.autodiff.rules import broadcast_back

    (x,), axes = op.inputs, op.attrs["axes"]
    return b.div(b.mul(broadcast_back(b, g, x, axes), broadcast_back(b, op.out, x, axes)), x)


def _extremum_vjp(b, g, op):
    from looptrace.autodiff.rules import broadcast_back

    (x,), axes = op.inputs, op.attrs["axes"]
    hit = b.convert(b.emit("equal", x, broadcast_back(b, op.out, x, axes)), x.dtype)
    count = broadcast_back(b, b.reduce_sum(hit, axes), x, axes)
    return b.div(b.mul(hit, broadcast_back(b, g, x, axes)), count)


def _attach_vjp_rules() -> None:
    from looptrace.autodiff.rules import defvjp

    from .registry import NOT_DIFFERENTIABLE, PRIMITIVES

    defvjp(PRIMITIVES["reduce_sum"], _sum_vjp)
    defvjp(PRIMITIVES["reduce_prod"], _prod_vjp)
    defvjp(PRIMITIVES["reduce_max"], _extremum_vjp)
    defvjp(PRIMITIVES["reduce_min"], _extremum_vjp)
    for name in ("reduce_all", "reduce_any", "argmax", "argmin"):
        PRIMITIVES[name].vjp = NOT_DIFFERENTIABLE


_attach_vjp_rules()


# --- CPU lowering ---
from .registry import PRIMITIVES  # noqa: E402


class CpuReduction:
    """How codegen/fusion.py folds one element into a reduction's accumulator.
    float32 sums and products accumulate in float64 (then round once)."""

    def __init__(self, name: str):
        self.name = name

    def acc_dtype(self, dtype) -> np.dtype:
        out = reduced_dtype(self.name, np.dtype(dtype))
        if self.name in ("reduce_sum", "reduce_prod") and out == np.float32:
            return np.dtype(np.float64)
        return out

    def init(self, dtype) -> str:
        acc = self.acc_dtype(dtype)
        if self.name in ("reduce_all", "reduce_any"):
            return str(self.name == "reduce_all")
        if self.name in ("reduce_sum", "reduce_prod"):
            return f"np.{acc.name}({int(self.name == 'reduce_prod')})"
        sign = "-" if self.name == "reduce_max" else ""
        if acc.kind == "f":
            return f"np.{acc.name}({sign}np.inf)"
        if acc.kind == "b":
            return str(self.name == "reduce_min")
        info = np.iinfo(acc)
        return f"np.{acc.name}({info.min if sign else info.max})"

    def update(self, acc: str, x: str, dtype) -> str:
        return {
            "reduce_sum": f"{acc} += {x}",
            "reduce_prod": f"{acc} *= {x}",
            "reduce_max": f"{acc} = max_nan({acc}, {x})",
            "reduce_min": f"{acc} = min_nan({acc}, {x})",
            "reduce_all": f"{acc} = {acc} and ({x} != 0)",
            "reduce_any": f"{acc} = {acc} or ({x} != 0)",
        }[self.name]

    def parallel_ok(self, dtype) -> bool:
        return self.name in ("reduce_sum", "reduce_prod")


for _name in REDUCERS:
    PRIMITIVES[_name].lower_cpu = CpuReduction(_name)


def _arg_lower_cpu(better: str):
    """argmax/argmin: the first position of the best element; NaN wins, as in NumPy."""

    def lower(em, op) -> None:
        x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
        if v.ndim:
            em.fresh_array(v)
        kept = [k for k in range(x.ndim) if k != axis]
        with em.loop_nest([em.size(x, k) for k in kept]) as idx:
            best, pos, j = em.fresh("best"), em.fresh("pos"), em.fresh("j")
            at = list(idx)
            at.insert(axis, "0")
            em.line(f"{best} = {em.name(x)}[{', '.join(at)}]")
            em.line(f"{pos} = 0")
            at[axis] = j
            elem = f"{em.name(x)}[{', '.join(at)}]"
            with em.loop(j, em.size(x, axis)):
                em.line(f"if ({elem} {better} {best} or ({elem} != {elem} and {best} == {best})):")
                em.line(f"    {best} = {elem}")
                em.line(f"    {pos} = {j}")
            target = f"{em.name(v)}[{', '.join(idx)}]" if v.ndim else em.name(v)
            em.line(f"{target} = np.int64({pos})")

    return lower


PRIMITIVES["argmax"].lower_cpu = _arg_lower_cpu(">")
PRIMITIVES["argmin"].lower_cpu = _arg_lower_cpu("<")
