"""Contractions. `einsum` is the one contraction primitive: `@`, np.dot,
np.matmul, .dot, np.outer, np.inner, np.tensordot and np.einsum all reach it,
so later stages see one spelling.

Invariant: the spec is explicit (`"ij,j->i"`), every operand has the same
dtype (the tracer promotes first), and each letter's sizes agree.
"""
from __future__ import annotations

import numpy as np

from .registry import Primitive, ShapeMismatch, register
from .shapes import fmt


def parse_spec(spec: str) -> tuple[list[str], str]:
    ins, out = spec.split("->")
    return ins.split(","), out


def _einsum_abstract(*xs, spec: str):
    ins, out = parse_spec(spec)
    sizes: dict[str, object] = {}
    for letters, x in zip(ins, xs):
        if len(letters) != len(x.shape):
            raise ShapeMismatch(f"operand of shape {fmt(x.shape)} does not fit subscripts {letters!r}")
        for c, d in zip(letters, x.shape):
            if c in sizes and sizes[c] != d and d != 1 and sizes[c] != 1:
                shapes = " and ".join(fmt(x.shape) for x in xs)
                raise ShapeMismatch(f"shapes {shapes} are not aligned for the product {spec!r} "
                                    f"(dimension {c!r}: {sizes[c]} != {d})")
            if c not in sizes or sizes[c] == 1:
                sizes[c] = d
    dtype = np.result_type(*(x.dtype for x in xs))
    return [(dtype, tuple(sizes[c] for c in out))]


def einsum_impl(*xs, spec: str):
    ins, out = parse_spec(spec)
    if len(xs) == 2:
        fast = _as_matmul(ins, out, *xs)
        if fast is not None:
            return fast
    return np.asarray(np.einsum(spec, *xs, optimize=len(xs) > 2))


def _as_matmul(ins: list[str], out: str, a, b):
    """Common two-operand specs as a BLAS call (same values, faster)."""
    (ia, ib) = ins
    if len(ia) == 2 and len(ib) == 2 and len(out) == 2:
        i, k = ia
        if ib == k + out[1] and out == i + ib[1] and len(set(ia + ib)) == 3:
            return a @ b
    if len(ia) == 2 and len(ib) == 1 and ia[1] == ib and out == ia[0] and ia[0] != ib:
        return a @ b
    if len(ia) == 1 and len(ib) == 2 and ib[0] == ia and out == ib[1] and ib[1] != ia:
        return a @ b
    if len(ia) == 1 and ia == ib and out == "":
        return np.asarray(a @ b)
    return None


einsum = register(Primitive("einsum", "linalg", _einsum_abstract, einsum_impl,
                            doc="general contraction with an explicit spec"))
