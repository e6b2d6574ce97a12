"""Transposes and static slices moved through the elementwise ops they
read, toward the arrays those came from.

Batching writes numba-benchmark's nbody_numpy loop body (`r = p[j] - p`,
`rx = r[:, 0]`, ..., `accelerations += (r.T * s).T`) as a transpose of an
elementwise product of a transpose, and slices of a broadcast difference.
Both are barriers to a target's fusion: the product was made in the
permuted layout and read back through the outer transpose, and `r` was
made whole for its slices; at 4096 bodies arrays of 4096 x 4096 x 2 floats,
0.37x NumPy (which runs the loop row by row in cache). With the transposes
moved, 0.65x; with the slices too, 0.9-1.0x (358 -> 145 ms, NumPy 131-147).

Rewrites, each exact (these ops only move elements):
  - transpose(f(a, b, ...), p) -> f(transpose(a, p), transpose(b, p), ...)
    for an elementwise f read only by that transpose, whose array operands
    all have its rank (a size-1 axis broadcasts the same after the
    permutation; a 0-d operand stays as it is); a transpose of a transpose
    is one transpose, or none; a transpose of a reshape that only adds unit
    axes, keeping the order of the others, is a reshape;
  - slice(f(a, b)) -> f(slice(a), slice(b)) for a cheap elementwise f of
    inputs (or views of them) that also has a reader other than slices
    (`_slice_of_elementwise`).
Elsewhere these ops stay (a target reads through them). Moving unit-axis
reshapes into elementwise ops as well was tried and dropped: it let
targets compute costly values again at every element a reader broadcasts
them to (corpus nbody_accel_broadcast 3.8 -> 6.5 ms, npbench
contour_integral 5.7 -> 13.8 ms).
"""
from __future__ import annotations

from looptrace.ir.builder import derived
from looptrace.ir.core import Op, Program, Value
from looptrace.ir.rewrite import rewrite_each_op


def push_transposes(program: Program) -> Program:
    rewrite_each_op(program.body, _movement, with_uses=True)
    return program


def _movement(op: Op, ops: list[Op], producer: dict[int, Op], uses: dict) -> Value | None:
    if op.prim.name == "transpose":
        return _rewrite(op, ops, producer, uses)
    if op.prim.name == "slice":
        return _slice_of_elementwise(op, ops, producer, uses)
    return None


def _rewrite(op: Op, ops: list[Op], producer: dict[int, Op], uses: dict) -> Value | None:
    perm = tuple(op.attrs["perm"])
    src = producer.get(op.inputs[0].id)
    if src is None or len(src.outputs) != 1 or src.blocks:
        return None
    if src.prim.name == "transpose":
        return _composed(op, src.inputs[0], tuple(src.attrs["perm"]), perm, ops)
    if src.prim.name == "reshape":
        return _unit_reshape(op, src, perm, ops)
    if not src.prim.elementwise or src.prim.effectful or len(uses.get(src.out.id, ())) != 1:
        return None
    if _product_operand(op, uses):
        return None
    rank = src.out.ndim
    if any(u.ndim not in (0, rank) for u in src.inputs) or not any(u.ndim for u in src.inputs):
        return None

    def moved(u: Value) -> Value:
        inner = producer.get(u.id)
        if inner is not None and inner.prim.name == "transpose" and len(inner.outputs) == 1:
            return _composed(op, inner.inputs[0], tuple(inner.attrs["perm"]), perm, ops)
        if inner is not None and inner.prim.name == "reshape":
            unit = _unit_reshape(op, inner, perm, ops)
            if unit is not None:
                return unit
        return derived(op, ops).op("transpose", u, perm=perm)

    return _rebuilt(op, src, moved, ops)


def _product_operand(op: Op, uses: dict) -> bool:
    """Is a 2-d transpose read only as an operand of products (einsum)? A
    BLAS product takes it as it is, an F-ordered view (codegen/cpu/
    templates.py `blas_matrix`), and its elementwise source is then made in
    its inputs' own layout: moved through it, `A @ (B / n[:, None]).T`
    divided B read down its columns (cosine_similarity, (1000, 64):
    0.97-0.99x NumPy)."""
    readers = uses.get(op.out.id, ())
    return op.out.ndim == 2 and bool(readers) and \
        all(u.op is not None and not u.nested and u.op.prim.name == "einsum" for u in readers)


def _rebuilt(op: Op, src: Op, move, ops: list[Op]) -> Value | None:
    """src's elementwise op again, on its array operands moved (`move`), as
    the value replacing op's output (None where it would not have op's type)."""
    args = [move(u) if u.ndim else u for u in src.inputs]
    made = derived(op, ops).op(src.prim.name, *args, **src.attrs)
    return made if made.dtype == op.out.dtype and tuple(made.shape) == tuple(op.out.shape) else None


def _composed(op: Op, x: Value, inner: tuple, outer: tuple, ops: list[Op]) -> Value:
    """transpose(transpose(x, inner), outer), as one transpose of x (or x)."""
    perm = tuple(inner[k] for k in outer)
    if perm == tuple(range(len(perm))):
        return x
    return derived(op, ops).op("transpose", x, perm=perm)


def _unit_reshape(op: Op, reshape: Op, perm: tuple, ops: list[Op]) -> Value | None:
    """transpose(reshape(x), perm) as one reshape of x, when the reshape only
    adds unit axes and the permutation keeps x's axes in their order
    (a (n, 1, m) lined up as (n, m, 1))."""
    x, shape = reshape.inputs[0], tuple(reshape.out.shape)
    if [d for d in shape if d != 1] != [d for d in x.shape if d != 1] or 1 in tuple(x.shape):
        return None
    kept = [k for k in perm if shape[k] != 1]
    if kept != sorted(kept):
        return None
    return derived(op, ops).op("reshape", x, shape=tuple(shape[k] for k in perm))


def _slice_of_elementwise(op: Op, ops: list[Op], producer: dict[int, Op], uses: dict) -> Value | None:
    """slice(f(a, b), ...) -> f(slice(a, ...), slice(b, ...)) for a cheap
    elementwise f: the part read is computed from the parts of the operands
    (on their own axes, the last ones; an axis an operand broadcasts stays
    whole there), and f itself is left to its other readers, which may
    then compute it inside their own loop nests (nbody's `r[:, 0]` of
    `r = positions[j] - positions`, read beside `r * s`). Only where f also
    has a reader that is not a slice: a target reads a slice of f alone
    through it already, element by element, where the sliced operands
    would be views it might have to copy."""
    src = producer.get(op.inputs[0].id)
    if src is None or len(src.outputs) != 1 or src.blocks or not (src.prim.elementwise and src.prim.cheap) \
            or src.prim.effectful or src.prim.raises:
        return None
    if all(u.op is not None and u.op.prim.name == "slice" for u in uses.get(src.out.id, ())):
        return None
    if not all(_read_from_inputs(u, producer) for u in src.inputs if u.ndim):
        return None
    rank = src.out.ndim
    if not any(u.ndim for u in src.inputs):
        return None
    starts, stops, steps = op.attrs["starts"], op.attrs["stops"], op.attrs["steps"]

    def moved(u: Value) -> Value:
        lead = rank - u.ndim  # NumPy's broadcasting: u's axes are the last ones
        out_shape = tuple(src.out.shape)[lead:]
        whole = [d == 1 and n != 1 for d, n in zip(u.shape, out_shape)]  # broadcast along it
        us = tuple(0 if w else a for w, a in zip(whole, starts[lead:]))
        ue = tuple(1 if w else e for w, e in zip(whole, stops[lead:]))
        ust = tuple(1 if w else st for w, st in zip(whole, steps[lead:]))
        if us == (0,) * u.ndim and ue == tuple(u.shape) and ust == (1,) * u.ndim:
            return u
        return derived(op, ops).op("slice", u, starts=us, stops=ue, steps=ust)

    return _rebuilt(op, src, moved, ops)



_VIEWS = ("reshape", "slice", "transpose", "broadcast_to")


def _read_from_inputs(v: Value, producer: dict[int, Op]) -> bool:
    """Is v an input of the block (an argument, a constant, a value from
    outside it) or a view of one? Then a slice of it costs nothing, and f's
    part is computed from memory already there; f of computed operands
    (a step of spring_chain's `x + dt * v + ...`, whose np.roll reads
    slices) would be computed again for each slice: 4.9 -> 9.2 ms."""
    while True:
        made = producer.get(v.id)
        if made is None:
            return True
        if made.prim.name not in _VIEWS or len(made.outputs) != 1:
            return False
        v = made.inputs[0]
