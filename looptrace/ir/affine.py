"""Integer index arithmetic that passes reason about: constants, static loop
bounds, and values affine in a loop's iteration number.

Invariant: `affine_values(body, start, step)` maps an integer scalar of a
for_loop body to (a, b) only when it equals a*k + b at iteration k
(k = 0..n-1, the index being start + step*k); a nested body is walked too.
"""
from __future__ import annotations

import numpy as np

from .core import Block, Op, Value, walk

Affine = tuple[int, int]


def const_int(v: Value) -> int | None:
    """The value of an integer scalar constant, else None."""
    if v.is_const and np.ndim(v.const) == 0 and np.asarray(v.const).dtype.kind in "iu":
        return int(v.const)
    return None


def static_bounds(loop: Op) -> tuple[int, int, int] | None:
    """(start, stop, step) of a for_loop whose bounds are constants."""
    vals = [const_int(v) for v in loop.inputs[:3]]
    return None if any(v is None for v in vals) else tuple(vals)  # type: ignore[return-value]


def affine_values(block: Block, start: int, step: int) -> dict[int, Affine]:
    """value id -> (a, b) with value == a*k + b, for integer scalars of the body."""
    aff = {block.args[0].id: (step, start)}

    def form(v: Value) -> Affine | None:
        c = const_int(v)
        return (0, c) if c is not None else aff.get(v.id)

    for op in walk(block):
        name = op.prim.name
        if name not in ("add", "subtract", "multiply") or op.out.shape != ():
            continue
        fs = [form(v) for v in op.inputs]
        if any(f is None for f in fs) or op.out.dtype.kind not in "iu":
            continue
        (a1, b1), (a2, b2) = fs
        if name == "add":
            aff[op.out.id] = (a1 + a2, b1 + b2)
        elif name == "subtract":
            aff[op.out.id] = (a1 - a2, b1 - b2)
        elif a1 == 0 or a2 == 0:
            aff[op.out.id] = (a1 * b2 + a2 * b1, b1 * b2)
    return aff


def affine_form(v: Value, aff: dict[int, Affine]) -> Affine | None:
    """v as (a, b): a constant is (0, c)."""
    c = const_int(v)
    return (0, c) if c is not None else aff.get(v.id)


def same_index(x: Value, y: Value, aff: dict[int, Affine]) -> bool:
    """Are x and y equal at every iteration?"""
    if x.id == y.id:
        return True
    fx, fy = affine_form(x, aff), affine_form(y, aff)
    return fx is not None and fx == fy


def same_starts(xs, ys, aff: dict[int, Affine]) -> bool:
    return len(xs) == len(ys) and all(same_index(a, b, aff) for a, b in zip(xs, ys))


def value_range(form: Affine, trips: int) -> tuple[int, int]:
    """The smallest and largest value of a*k + b over k = 0..trips-1 (trips > 0)."""
    a, b = form
    ends = (b, a * (trips - 1) + b)
    return min(ends), max(ends)
