"""Work kept at the shape it varies over: an op on broadcasts runs before the broadcast.

Batching a loop nest lines a value of the outer index up against the inner
one with a broadcast (`y0 = int(i * sy)` becomes an (n, 1) array spread to
(n, m)), and everything computed from it afterwards ran over (n, m): the
bound checks of `img[y0, x]`, the wraparound `select(y0 < 0, y0 + H, y0)`,
`y0 * W`, each an n * m loop where n values differ.

Rewrites (exact; T: the op's shape, with no empty axis):
  - f(broadcast_to(a, T), broadcast_to(b, T), s) -> broadcast_to(f(a, b, s), T)
    for an elementwise f whose operands are broadcasts, scalars or arrays
    that broadcast to a common shape C smaller than T (by NumPy's rule, so f
    computes the same values at C and the broadcast spreads them);
  - check(broadcast_to(p, T), ..., broadcast_to(v, T)) -> check(p', ..., v')
    with every operand spread to their common shape C instead: the first
    true element of a broadcast in row-major order is at index 0 along each
    spread axis, and those elements in row-major order are C's, so the same
    element of the same predicate fails first, with the same value.

  - reduce(broadcast_to(a, T), R) -> broadcast_to(reduce(a, R), T less R)
    for the reductions of the registry (sum, prod, max, min, all, any)
    where no reduced axis of R is one the broadcast spreads: each output
    element reduces the same elements of a in the same order. The count of
    `X[lab == j].mean(axis=0)` over k groups, a (k, n, 1) mask spread to
    (k, n, d), was summed d times; it is summed once and spread.

An elementwise op that may raise (`pyint`) keeps its errors for the same
reason: its first failing element is the first failing element of the
smaller array. An op over an empty T is left alone (its smaller operands may
hold elements it never computes). The replaced op goes; what it read stays
in place, so a read that raises still raises where it did.
"""
from __future__ import annotations

from math import prod

from looptrace.ir.builder import derived
from looptrace.ir.core import Block, Dim, Op, Program, Value
from looptrace.ir.dce import dce
from looptrace.ir.rewrite import substitute


def narrow_broadcasts(program: Program) -> Program:
    _narrow_block(program.body)
    return program


def _narrow_block(block: Block) -> None:
    """Offer each op (nested bodies first) to the rewrites, in program order."""
    mapping: dict[int, Value] = {}
    producer: dict[int, Op] = {}
    ops: list[Op] = []
    changed = False
    for op in block.ops:
        if mapping and any(v.id in mapping for v in op.inputs):
            op.inputs = tuple(mapping.get(v.id, v) for v in op.inputs)
        for sub in op.blocks:
            substitute(sub, mapping)
            _narrow_block(sub)
        made = len(ops)
        if op.prim.name == "check":
            changed |= _narrow_check(op, ops, producer)
            ops.append(op)
        else:
            new = _narrow_elementwise(op, ops, producer)
            if new is None:
                new = _narrow_reduction(op, ops, producer)
            if new is None:
                ops.append(op)
            else:
                mapping[op.out.id] = new
        for o in ops[made:]:
            for v in o.outputs:
                producer[v.id] = o
    block.ops = ops
    block.results = [mapping.get(v.id, v) for v in block.results]
    if changed or mapping:
        block.ops = dce(block, regions=False, keep_raising=True).ops  # the broadcasts nothing reads now


def _narrow_elementwise(op: Op, ops: list[Op], producer: dict[int, Op]) -> Value | None:
    """f(broadcast_to(a, T), s) -> broadcast_to(f(a, s), T)."""
    if not op.prim.elementwise or op.prim.effectful or op.blocks or len(op.outputs) != 1:
        return None
    shape = tuple(op.out.shape)
    sources = _narrowed(op.inputs, shape, producer)
    if sources is None:
        return None
    b = derived(op, ops)
    return b.op("broadcast_to", b.op(op.prim, *sources, **op.attrs), shape=shape)


def _narrow_reduction(op: Op, ops: list[Op], producer: dict[int, Op]) -> Value | None:
    """reduce(broadcast_to(a, T), R) -> broadcast_to(reduce(a, R), T less R)."""
    if op.prim.reduction is None or set(op.attrs) != {"axes"} or len(op.outputs) != 1 or op.blocks:
        return None
    x = op.inputs[0]
    shape, axes = tuple(x.shape), tuple(op.attrs["axes"])
    if not shape or any(isinstance(d, Dim) or d == 0 for d in shape):
        return None
    a = _unspread(x, producer)
    if a is x or a.ndim > len(shape) or any(isinstance(d, Dim) for d in a.shape):
        return None
    padded = (1,) * (len(shape) - a.ndim) + tuple(a.shape)
    if any(padded[k] != shape[k] for k in axes) or prod(padded) >= prod(shape):
        return None
    b = derived(op, ops)
    if padded != tuple(a.shape):
        a = b.op("reshape", a, shape=padded)
    reduced = b.op(op.prim, a, axes=axes)
    out = tuple(op.out.shape)
    return reduced if tuple(reduced.shape) == out else b.op("broadcast_to", reduced, shape=out)


def _narrow_check(op: Op, ops: list[Op], producer: dict[int, Op]) -> bool:
    """check(broadcast_to(p, T), broadcast_to(v, T)) -> check(p, v) (in place)."""
    shape = tuple(op.inputs[0].shape)
    sources = _narrowed(op.inputs, shape, producer)
    if sources is None:
        return False
    rank = max(s.ndim for s in sources)
    common = _common(sources, shape)[len(shape) - rank:]
    b = derived(op, ops)
    op.inputs = tuple(s if tuple(s.shape) == common else b.op("broadcast_to", s, shape=common) for s in sources)
    return True


def _narrowed(inputs: tuple[Value, ...], shape: tuple, producer: dict[int, Op]) -> list[Value] | None:
    """Each input without the broadcasts that spread it to `shape`, when
    together they vary over fewer elements than `shape` has; else None."""
    if not shape or any(isinstance(d, Dim) or d == 0 for d in shape):
        return None
    sources = [_unspread(v, producer) for v in inputs]
    if all(s is v for s, v in zip(sources, inputs)):
        return None
    if any(isinstance(d, Dim) for s in sources for d in s.shape) or any(s.ndim > len(shape) for s in sources):
        return None
    if prod(_common(sources, shape)) >= prod(shape):
        return None
    return sources


def _unspread(v: Value, producer: dict[int, Op]) -> Value:
    """What a chain of broadcasts spread into v (v itself if none)."""
    made = producer.get(v.id)
    while made is not None and made.prim.name == "broadcast_to":
        v = made.inputs[0]
        made = producer.get(v.id)
    return v


def _common(sources: list[Value], shape: tuple) -> tuple:
    """The shape, of `shape`'s rank, the sources broadcast to together."""
    out = [1] * len(shape)
    for s in sources:
        lead = len(shape) - s.ndim
        for k, d in enumerate(s.shape):
            if d != 1:
                out[lead + k] = d
    return tuple(out)
