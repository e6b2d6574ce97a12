"""Elementwise primitives: NumPy ufuncs, `select` (np.where) and `convert`.

Invariant: the tracer converts inputs to the ufunc's loop dtypes before it
emits an op, so every elementwise op's inputs already have the dtypes the
computation runs in (NumPy 2 promotion is resolved at trace time, once).
"""
from __future__ import annotations

import numpy as np

from .registry import Primitive, register
from .shapes import broadcast_shapes

UNARY = [
    "negative", "positive", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p",
    "sqrt", "cbrt", "square", "reciprocal", "absolute", "sign", "sin", "cos", "tan",
    "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
    "arctanh", "floor", "ceil", "trunc", "rint", "logical_not", "isnan", "isinf",
    "isfinite", "invert", "deg2rad", "rad2deg",
]
BINARY = [
    "add", "subtract", "multiply", "divide", "floor_divide", "remainder", "power",
    "maximum", "minimum", "fmax", "fmin", "arctan2", "hypot", "logaddexp",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
    "bitwise_xor", "left_shift", "right_shift", "copysign",
]
UFUNCS: dict[str, np.ufunc] = {name: getattr(np, name) for name in UNARY + BINARY}


def loop_dtypes(ufunc: np.ufunc, in_types: tuple) -> tuple[tuple, np.dtype]:
    """(input dtypes the loop runs in, output dtype) for `ufunc` applied to
    `in_types` (np.dtype, or the Python types int/float/complex/bool for weak
    scalars, as NEP 50 treats them)."""
    if all(isinstance(t, type) for t in in_types):
        # all weak: NumPy would pick its object loop for comparisons of Python ints
        in_types = tuple(np.dtype(t) for t in in_types)
    try:
        resolved = ufunc.resolve_dtypes(tuple(in_types) + (None,))
    except TypeError as e:  # e.g. bitwise ops on floats
        raise TypeError(f"np.{ufunc.__name__} is not defined for {in_types}: {e}") from None
    return resolved[:-1], resolved[-1]


def _ufunc_abstract(ufunc: np.ufunc):
    def abstract(*xs, **_):
        _, out = loop_dtypes(ufunc, tuple(x.dtype for x in xs))
        return [(out, broadcast_shapes(*(x.shape for x in xs)))]

    return abstract


def _ufunc_impl(ufunc: np.ufunc):
    def impl(*xs, **_):
        with np.errstate(all="ignore"):
            return np.asarray(ufunc(*xs))

    return impl


def _define_ufunc(name: str) -> Primitive:
    ufunc = UFUNCS[name]
    return register(Primitive(name, "elementwise", _ufunc_abstract(ufunc), _ufunc_impl(ufunc),
                              extra={"ufunc": ufunc, "arity": ufunc.nin}))


for _name in UNARY + BINARY:
    _define_ufunc(_name)


def _select_abstract(cond, a, b, **_):
    return [(a.dtype, broadcast_shapes(cond.shape, a.shape, b.shape))]


select = register(Primitive(
    "select", "elementwise", _select_abstract, lambda c, a, b: np.asarray(np.where(c, a, b)),
    doc="select(cond, a, b) = np.where(cond, a, b); a and b share a dtype"))


def _convert_abstract(x, *, dtype):
    return [(np.dtype(dtype), x.shape)]


def _convert_impl(x, *, dtype):
    with np.errstate(all="ignore"):
        return np.asarray(x).astype(dtype)


convert = register(Primitive("convert", "elementwise", _convert_abstract, _convert_impl,
                             doc="x.astype(dtype)"))


def is_elementwise(prim: Primitive) -> bool:
    return prim.family == "elementwise"
