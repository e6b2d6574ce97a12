"""Contractions. `einsum` is the one contraction primitive: `@`, np.dot,
np.matmul, .dot, np.outer, np.inner, np.tensordot and np.einsum all reach it,
so later stages see one spelling.

Invariant: the spec is explicit (`"ij,j->i"`), every operand has the same
dtype (the tracer promotes first), and each letter's sizes agree.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.primitive import Primitive, Reduction, ShapeMismatch, register

from .shape_arith import fmt


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


def contraction_axes(op) -> tuple[int, ...] | None:
    """The summed axes of an einsum that is a sum of an elementwise product
    (`bhd,bhd->bh`: every operand has the same letters and shape, and the
    output keeps the others in order), so it folds like a reduction; None
    for a real matrix product."""
    ins, out = parse_spec(op.attrs["spec"])
    full = ins[0]
    if len(set(full)) != len(full) or any(letters != full for letters in ins):
        return None
    if any(tuple(x.shape) != tuple(op.inputs[0].shape) for x in op.inputs):
        return None
    if [c for c in full if c in out] != list(out) or len(set(out)) != len(out):
        return None
    return tuple(k for k, c in enumerate(full) if c not in out)


# a sum of products is a fold (the `reduction` trait); any other einsum is a product
_SUM_OF_PRODUCTS = Reduction("add", lambda acc: np.dtype(acc).type(0), contraction_axes, lambda dtype: dtype)
einsum = register(Primitive("einsum", "linalg", _einsum_abstract, einsum_impl, reduction=_SUM_OF_PRODUCTS,
                            fresh=True, doc="general contraction with an explicit spec"))


# --- batching rules ---
_LETTERS = "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"


def _einsum_batch(b, args, dims, *, spec: str):
    """The batch axis becomes a fresh letter in front of batched operands."""
    ins, out = parse_spec(spec)
    letter = next(c for c in _LETTERS if c not in spec)
    new_ins = [letter + s if d is not None else s for s, d in zip(ins, dims)]
    return [b.op(einsum, *args, spec=",".join(new_ins) + "->" + letter + out)], [0]


einsum.batch = _einsum_batch


# --- VJP rules ---
# The cotangent of an einsum operand is an einsum of the output's cotangent
# with the other operands. A letter only that operand carries is summed in
# the forward product, so its cotangent is broadcast along it; an operand
# axis of size 1 that broadcast against a longer one is summed back.
def _einsum_operand_vjp(k: int):
    def rule(b, g, op):
        ins, out = parse_spec(op.attrs["spec"])
        x = op.inputs[k]
        others = [(s, v) for j, (s, v) in enumerate(zip(ins, op.inputs)) if j != k]
        known = set(out).union(*(set(s) for s, _ in others))
        letters = "".join(dict.fromkeys(ins[k]))  # a repeated letter once, at its first place
        target = "".join(c for c in letters if c in known)
        spec = ",".join([out] + [s for s, _ in others]) + "->" + target
        ct = b.emit("einsum", g, *(v for _, v in others), spec=spec)
        if letters != ins[k]:
            return _on_diagonals(b, ct, target, ins[k], x)
        return _fit_operand(b, ct, target, ins[k], x)

    return rule


def _on_diagonals(b, ct, target: str, letters: str, x):
    """The cotangent of an operand with a repeated letter ('ii->i', 'ii->',
    'iji->j'): `ct` (over the distinct letters `target`) on the positions
    where the repeated axes agree, zero elsewhere. Each repeat of a letter is
    an axis of its own, tied to the letter's first axis by an equality of
    positions."""
    first = {c: letters.index(c) for c in letters}
    shape = tuple(ct.shape[target.index(c)] if c in target and first[c] == p else 1 for p, c in enumerate(letters))
    ct = b.emit("broadcast_to", b.reshape(ct, shape), shape=tuple(x.shape))
    for p, c in enumerate(letters):
        q = first[c]
        if q == p:
            continue
        n = x.shape[p]
        pos = [b.emit("iota", shape=tuple(n if a == axis else 1 for a in range(x.ndim)), dtype=np.dtype(np.int64),
                      axis=axis) for axis in (q, p)]
        same = b.emit("equal", *pos)
        ct = b.emit("select", same, ct, b.zeros((), ct.dtype))
    return ct


def _fit_operand(b, ct, target: str, letters: str, x):
    """Broadcast `ct` (over letters `target`) to operand `x` (over `letters`)."""
    shape = tuple(ct.shape[target.index(c)] if c in target else 1 for c in letters)
    ct = b.reshape(ct, shape)
    summed = tuple(i for i, (d, n) in enumerate(zip(x.shape, shape)) if d == 1 and n != 1)
    ct = b.reshape(b.reduce_sum(ct, summed), tuple(1 if i in summed else n for i, n in enumerate(shape)))
    if tuple(ct.shape) != tuple(x.shape):
        ct = b.emit("broadcast_to", ct, shape=tuple(x.shape))
    return ct


def _einsum_vjp(b, op, g, wanted):
    return [_einsum_operand_vjp(k)(b, g, op) if w else None for k, w in enumerate(wanted)]


einsum.vjp = _einsum_vjp
