"""Structured control flow: region primitives that own body blocks.

for_loop   inputs (start, stop, step, *init); body args (i, *carries);
           body results (*new_carries, *ys); outputs (*final_carries, *stacked ys)
           where each stacked y has the trip count as its leading axis.
while_loop inputs (*init); blocks (cond: args carries -> [bool scalar],
           body: args carries -> new carries); outputs final carries.
cond       inputs (pred,); blocks (then, else), no args, same result types;
           outputs the taken branch's results.
attrs["loop"] (for loops and while loops) is the index of the source loop in
`Program.loops`, so `explain` can report each loop's fate.
"""
from __future__ import annotations

from looptrace.ir.primitive import Primitive, register


def _region_abstract(*_, **__):
    raise NotImplementedError("region ops get their output types from their blocks")


for_loop = register(Primitive("for_loop", "control", _region_abstract, None, region=True))
while_loop = register(Primitive("while_loop", "control", _region_abstract, None, region=True))
cond = register(Primitive("cond", "control", _region_abstract, None, region=True))


def trip_count(start: int, stop: int, step: int) -> int:
    return len(range(start, stop, step))


def split_for_results(op) -> tuple[int, int]:
    """(number of carries, number of stacked outputs) of a for_loop op."""
    (body,) = op.blocks
    n_carry = len(body.args) - 1
    return n_carry, len(body.results) - n_carry


# --- VJP rules ---
# Loops and conditionals are differentiated from their blocks by
# looptrace.autodiff.vjp (reverse loops, a cond on the same predicate).
def _attach_vjp_rules() -> None:
    from looptrace.ops.vjp_helpers import RegionRule

    for prim in (for_loop, while_loop, cond):
        prim.vjp = RegionRule()


_attach_vjp_rules()
