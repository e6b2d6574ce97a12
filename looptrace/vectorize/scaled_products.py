"""A product of a scaled operand is the scaled product.

`alpha * A @ B @ C + beta * D` (npbench's 2mm, polybench's gemm) scales A
before the product: NumPy makes `alpha * A` in memory (800 x 900 float64
read and written, about 1 ms of 2mm's 23 ms), and so did looptrace. Written
as `alpha * (A @ B)`, the factor moves to the product's output, and from
there through the next product to the elementwise sum at the end, where the
codegen fuses it into the loop that adds `beta * D` at no cost of its own.

So an einsum of two operands, one of which is made by a `multiply` of a
0-d value and an array of the same shape and dtype and read by nothing
else, becomes the einsum of that array, multiplied by the 0-d value, when
the product's output has at most as many elements as the scaled operand
or is read only by an elementwise op (the multiply then never costs more
where it lands, or is fused into that op's loop: an outer product's output
is larger, and where something else reads it, stays as it is). All of one dtype (a float32 product
of a float64 factor stays: its sums would round otherwise); the same values
up to the rounding of one multiply per element, as between BLAS builds.
"""
from __future__ import annotations

from math import prod

from looptrace.ir.builder import derived
from looptrace.ir.core import Block, Op, Value
from looptrace.ir.uses import only_consumer, use_map


def scaled_products(block: Block) -> None:
    for op in block.ops:
        for sub in op.blocks:
            scaled_products(sub)
    uses = use_map(block)
    producer: dict[int, Op] = {}
    ops: list[Op] = []
    for op in block.ops:
        new = _unscaled(op, producer, uses)
        for o in new if new is not None else [op]:
            ops.append(o)
            for v in o.outputs:
                producer[v.id] = o
    block.ops = ops


def _unscaled(op: Op, producer: dict[int, Op], uses: dict) -> list[Op] | None:
    """The ops replacing the einsum `op` (a product, then its scaling), or None."""
    if op.prim.name != "einsum" or len(op.inputs) != 2:
        return None
    if any(v.dtype != op.out.dtype for v in op.inputs):
        return None
    inputs, factors = list(op.inputs), []
    reader = only_consumer(uses, op.out)
    fused = reader is not None and reader.prim.elementwise and not reader.prim.region
    for k in (0, 1):
        scale = _scaling(producer.get(inputs[k].id), inputs[k], op, uses)
        if scale is None or not fused and prod(op.out.shape) > prod(inputs[k].shape):
            continue
        factor, inputs[k] = scale
        factors.append(factor)
    if not factors:
        return None
    ops: list[Op] = []
    b = derived(op, ops)
    out = b.op("einsum", *inputs, **op.attrs)
    for factor in factors[:-1]:
        out = b.op("multiply", factor, out)
    b.op_into("multiply", (factors[-1], out), (op.out,))
    return ops


def _scaling(src: Op | None, v: Value, consumer: Op, uses: dict) -> tuple[Value, Value] | None:
    """(the 0-d factor, the array) of `v = factor * array` (either order),
    where the einsum `consumer` is v's only reader; else None."""
    if src is None or src.prim.name != "multiply" or len(src.inputs) != 2 or len(src.outputs) != 1:
        return None
    if only_consumer(uses, v) is not consumer:
        return None
    for f, x in (src.inputs, src.inputs[::-1]):
        if f.ndim == 0 and tuple(x.shape) == tuple(v.shape) and x.dtype == v.dtype and \
                f.dtype.kind in "biufc" and (f.dtype.kind != "c" or v.dtype.kind == "c"):
            return f, x
    return None
