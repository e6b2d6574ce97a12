"""Clamps a loop's bounds decide: `minimum(j, c)` and `maximum(j, c)` of an
integer index j affine in the loop index, against a constant c.

Windows (tracer/windows.py) write `y[s:s+k]` at min(s, n - k) so that a
window running past the end is shortened as NumPy does. Where the loop's
static bounds show that s never passes n - k, the clamp is the identity, and
replacing it by s leaves a write at an affine position, which the classifier
can see is a map. Exact: the replaced value equals the clamp at every
iteration the loop runs.
"""
from __future__ import annotations

from looptrace.ir.affine import affine_form, const_int, value_range
from looptrace.ir.core import Op
from looptrace.ir.rewrite import substitute

from .analysis import LoopFacts


def drop_clamps_in_range(loop: Op, facts: LoopFacts) -> bool:
    """Replace each clamp the bounds decide by its index; True if any was."""
    if not facts.n:
        return False
    (body,) = loop.blocks
    mapping = {}
    for op in body.ops:
        if op.prim.name not in ("minimum", "maximum") or op.out.shape != () or op.out.dtype.kind not in "iu":
            continue
        index, bound = _index_and_bound(facts, op)
        if index is None:
            continue
        lo, hi = value_range(affine_form(index, facts.aff), facts.n)
        if (op.prim.name == "minimum" and hi <= bound) or (op.prim.name == "maximum" and lo >= bound):
            if index.dtype == op.out.dtype:
                mapping[op.out.id] = index
    substitute(body, mapping)
    if mapping:
        facts.refresh()
    return bool(mapping)


def _index_and_bound(facts: LoopFacts, op: Op):
    a, b = op.inputs
    for index, other in ((a, b), (b, a)):
        c = const_int(other)
        form = affine_form(index, facts.aff)
        if c is not None and form is not None and form[0] != 0:
            return index, c
    return None, None
