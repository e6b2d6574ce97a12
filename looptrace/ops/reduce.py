"""Reductions over static axes: sum, prod, max, min, all, any, argmax, argmin.

`axes` is a sorted tuple of non-negative axes; reduced axes are dropped
(keepdims is a reshape in the tracer). argmax/argmin take one axis.
"""
from __future__ import annotations

import numpy as np

from .registry import Primitive, ShapeMismatch, register
from .shapes import fmt

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
