"""A product that reads each element of a computed operand once is a fold.

`values @ onehot` with `onehot = (labels[:, None] == groups[None, :]).astype(float)`
is an einsum `i,ij->j` whose big operand holds every letter of the product:
it multiplies each of onehot's elements once (a matrix-vector product, bound
by memory). Through BLAS, onehot is first made in memory (200000 x 16 float64:
25.6 MB written, then read back by the product). As `reduce_sum(values[:, None]
* onehot, axis=0)` the one-hot elements are computed inside the sum's loop
nest and never stored (codegen's fusion planner), on any target.

A gather is such an operand too: `for k in range(taps): y += h[k] * x[k:k + n]`
batches to the product of h with the (taps, n) windows `gather(x, k + i)`,
which BLAS read after they were made whole (144 MB for 9 taps over 2M
elements, 7x slower than plain NumPy's taps passes); as a fold, the nest
reads `x[k + i]` in place (codegen reads gathers inside nests).

So an einsum of two operands, one of which ("big") carries every letter of the
other and of the output (no repeated letters, the output's letters in big's
order), and whose big operand is made by an elementwise op (fusible, not an
argument, not a reduction) or a gather, becomes transpose/reshape of the small operand to
broadcast against big, a multiply and a reduce_sum over the contracted
letters. The same values up to the order of the sum's additions (as between
BLAS builds). Products of arrays already in memory stay BLAS calls
(vectorize/fold.py makes them einsums).
"""
from __future__ import annotations

from looptrace.ir.builder import derived
from looptrace.ir.core import Block, Op, Value
from looptrace.ops.linalg import parse_spec


def fused_products(block: Block) -> None:
    for op in block.ops:
        for sub in op.blocks:
            fused_products(sub)
    producer = {v.id: op for op in block.ops for v in op.outputs}
    ops: list[Op] = []
    for op in block.ops:
        replacement = _as_fold(op, producer)
        ops.extend(replacement if replacement is not None else [op])
    block.ops = ops


def _as_fold(op: Op, producer: dict[int, Op]) -> list[Op] | None:
    if op.prim.name != "einsum" or len(op.inputs) != 2:
        return None
    ins, out = parse_spec(op.attrs["spec"])
    if any(v.dtype != op.out.dtype for v in op.inputs) or op.out.dtype.kind not in "fc":
        return None
    for big_k in (0, 1):
        big, small = op.inputs[big_k], op.inputs[1 - big_k]
        lb, ls = ins[big_k], ins[1 - big_k]
        if not _fold_shaped(lb, ls, out) or not _computed_elementwise(producer.get(big.id)):
            continue
        return _fold_ops(op, big, small, lb, ls, out)
    return None


def _fold_shaped(lb: str, ls: str, out: str) -> bool:
    """big's letters hold the small operand's and the output's, each once,
    with the output's in big's order, and something is summed."""
    if len(set(lb)) != len(lb) or len(set(ls)) != len(ls) or len(set(out)) != len(out):
        return False
    if not set(ls) <= set(lb) or not set(out) <= set(lb) or len(out) == len(lb):
        return False
    return [c for c in lb if c in out] == list(out)


def _computed_elementwise(src: Op | None) -> bool:
    """Elements the fold's nest computes (or reads in place: a gather) instead of storing."""
    if src is not None and src.prim.name == "gather":
        return True
    return (src is not None and src.prim.elementwise and src.prim.reduction is None
            and not src.prim.region and len(src.outputs) == 1)


def _fold_ops(op: Op, big: Value, small: Value, lb: str, ls: str, out: str) -> list[Op]:
    ops: list[Op] = []
    b = derived(op, ops)
    order = [c for c in lb if c in ls]  # small's letters in big's order
    if order != list(ls):
        small = b.op("transpose", small, perm=tuple(ls.index(c) for c in order))
    size = dict(zip(lb, big.shape))
    shape = tuple(size[c] if c in ls else 1 for c in lb)
    if tuple(small.shape) != shape:
        small = b.op("reshape", small, shape=shape)
    product = b.op("multiply", small, big)
    axes = tuple(k for k, c in enumerate(lb) if c not in out)
    b.op_into("reduce_sum", (product,), (op.out,), axes=axes)
    return ops
