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
(vectorize/fold.py makes them einsums). A gather seen through a reshape
(the windows of a loop nest's `img[i + u, j + v]`) is first made the gather
at the reshaped index, in its own place (`_regather`).
"""
from __future__ import annotations

from looptrace.ir.builder import derived
from looptrace.ir.core import Block, Op, Value
from looptrace.ir.uses import use_map
from looptrace.ops.linalg import parse_spec


def fused_products(block: Block) -> None:
    for op in block.ops:
        for sub in op.blocks:
            fused_products(sub)
    producer = {v.id: op for op in block.ops for v in op.outputs}
    uses = use_map(block)
    regathered: dict[int, list[Op]] = {}  # id(gather) -> the ops made in its place (`_reshaped_flat_gather`)
    dropped: set[int] = set()  # ids of the reshapes a fold reads past
    for op in block.ops:
        _regather(op, producer, uses, regathered, dropped)
    ops: list[Op] = []
    for op in block.ops:
        if id(op) in dropped:
            continue
        if id(op) in regathered:
            ops.extend(regathered[id(op)])
            continue
        replacement = _as_fold(op, producer)
        ops.extend(replacement if replacement is not None else [op])
    block.ops = ops


def _regather(op: Op, producer: dict[int, Op], uses: dict, regathered: dict[int, list[Op]], dropped: set[int]) -> None:
    """Where a product's big operand is a reshaped gather of a flat array
    (`_reshaped_flat_gather`), the gather at the reshaped index, in the
    gather's place (its checks keep their order), and the product reads it."""
    if op.prim.name != "einsum" or len(op.inputs) != 2:
        return
    ins, out = parse_spec(op.attrs["spec"])
    for big_k in (0, 1):
        big = op.inputs[big_k]
        if not _fold_shaped(ins[big_k], ins[1 - big_k], out):
            continue
        through = _reshaped_flat_gather(big, producer, uses)
        if through is None:
            continue
        rs, g = through
        made: list[Op] = []
        b = derived(g, made)
        flat = b.op("reshape", g.inputs[1], shape=tuple(big.shape))
        b.op_into("gather", (g.inputs[0], flat), (big,), axis=0)
        regathered[id(g)] = made
        dropped.add(id(rs))
        producer[big.id] = made[-1]
        return


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


def _reshaped_flat_gather(v: Value, producer: dict[int, Op], uses: dict) -> tuple[Op, Op] | None:
    """(the reshape, the gather) where v is reshape(gather(x, idx)) of a 1-d
    x, each read by nothing else: the windows `img[i + u, j + v]` of a loop
    nest, read through the flat image, whose index the vectorizer shaped with
    unit axes that the reshape drops (conv2d_loops, bench/corpus/imaging.py).
    The gather at idx reshaped to v's shape is v (the same reads, the same
    checks), and a fold reads it in place: the (252, 252, 5, 5) windows of a
    256 x 256 image were made whole (12.7 MB) for BLAS's matrix-vector
    product, 12 ms against numba.njit's 0.8 ms."""
    rs = producer.get(v.id)
    if rs is None or rs.prim.name != "reshape" or len(uses.get(v.id, ())) != 1:
        return None
    g = producer.get(rs.inputs[0].id)
    if g is None or g.prim.name != "gather" or g.attrs.get("axis") != 0 or g.inputs[0].ndim != 1 or \
            len(uses.get(g.out.id, ())) != 1:
        return None
    return rs, g


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
