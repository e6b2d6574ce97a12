"""A gather of a computed array computes only the elements it reads.

`logp[np.arange(n), y]` with `logp = z - np.log(np.exp(z).sum(1, keepdims=True))`
reads n of the n*k elements of an elementwise result. The fusion plan computes
a gather's index in place but never its array (codegen/planning/fusion.py: the
array is read at data-dependent positions), so logp was written whole, an
(n, k) temporary, to be read at n places: label_nll (bench/corpus/sparse.py),
on (100000, 32), ran at 0.84x plain NumPy.

Rewrite (exact):
    gather(f(a, b), idx)  ->  f(a at the positions, b at the positions)
through the views between the gather and the elementwise op (reshape,
broadcast_to, transpose, static slices) and on through every elementwise op
below it that cannot raise: each position is carried as one integer index per
axis of the array it addresses (from the gather's index and iotas over its
other axes; a reshape maps them through the flat offset, split into one term
per axis without a division where the offset is such a sum, a broadcast drops the
spread axes, an iota is its own axis's index), and each value that is not
recomputed (an argument, a reduction, anything else) is read by a gather of
its flat elements at the offset of the positions.

When the gather's index is not known, from its range (ir/ranges.py), to lie
in [-n, n) of the axis it reads, the gather's check comes first (the same
IndexError, for the first index out of range in row-major order) and the
index is clipped to the range it passed, so the new gathers, whose offsets
are computed from in-range positions, cannot raise.

Through a gather on the way whose index is known to be in range (a batched
roll, `f[k] = np.roll(f[k], s[k], axis=1)`, is a gather of the state with
its axis moved to the front, then moved back; a second roll gathers that):
the positions are composed, gather(gather(x, i), j) read as x at i[j], so
the whole chain is one read of x per element, with no transpose or gathered
array made in between (lbm_d2q9, 9 x 200 x 200: 1.5x plain NumPy's time,
0.7x so). Ranges and offset terms see the values made around a loop body
(a batched index made once before the loop), which the body never recomputes.

When: it reads at most as many elements as its array has (a causal filter's
`y[k:] += h[k] * x[:n - k]` reads its (taps, n) products `h[k] * x` nearly
all, each once: made whole they were 72 MB for 9 taps over 1M elements,
8x slower than plain NumPy); the array and the views
leading to it are read by nothing else (otherwise it is made whole anyway);
the values recomputed number at most `_BUDGET`. The elementwise ops recomputed
may have other readers: they are computed again at the positions, which is
cheap beside the whole array they were spread over (and often fused there).
The values are the same: each is the same op on the same elements.
"""
from __future__ import annotations

from collections import ChainMap
from math import prod

import numpy as np

from looptrace.ir.builder import IRBuilder, derived
from looptrace.ir.core import Block, Dim, Op, Program, Value
from looptrace.ir.dce import dce, is_pure
from looptrace.ir.ranges import range_in_block
from looptrace.ir.rewrite import substitute
from looptrace.ir.uses import use_map, used_values
from looptrace.ops.batching_helpers import check_index_range

_BUDGET = 128  # values recomputed (or read) at the positions, per gather
_VIEWS = ("reshape", "broadcast_to", "transpose", "slice")
_I64 = np.dtype(np.int64)

Pos = list  # per axis of the array addressed: an int64 Value broadcastable to the gather's shape, or None (index 0)


def gather_elements(program: Program) -> Program:
    _visit(program.body, {})
    return program


def _visit(block: Block, outer: dict[int, Op]) -> None:
    """`outer`: the ops of the enclosing blocks, for the ranges and terms of
    the values a body reads from around it (a batched index made once before
    the loop), never to recompute them in the body."""
    producer = {v.id: op for op in block.ops for v in op.outputs}
    around = None  # made once per block: a copy per region op is quadratic in a long block
    for op in block.ops:
        for sub in op.blocks:
            around = {**outer, **producer} if around is None else around
            _visit(sub, around)
    todo, results = list(block.ops), list(block.results)
    uses = use_map(block)
    ops: list[Op] = []
    in_range: set[int] = set()  # gathers whose indices are proven in range (free to drop when unread)
    changed = False
    for i, op in enumerate(todo):
        new = _rewrite(op, producer, uses, {v.id for v in results}, outer) if op.prim.name == "gather" else None
        if new is None:
            ops.append(op)
            continue
        made, value, proven = new
        changed = True
        ops.extend(made)
        in_range |= proven
        for o in made:
            for v in o.outputs:
                producer[v.id] = o
        mapping = {op.out.id: value}
        for later in todo[i + 1:]:
            later.inputs = tuple(mapping.get(v.id, v) for v in later.inputs)
            for sub in later.blocks:
                substitute(sub, mapping)
        results = [mapping.get(v.id, v) for v in results]
        uses = use_map(Block(block.args, ops + todo[i + 1:], results))  # a later gather reads through this one
    if changed:
        block.ops, block.results = _without_unread(ops, results, in_range), results
        block.ops = dce(block, regions=False, keep_raising=True).ops  # the array no gather reads now


def _without_unread(ops: list[Op], results: list[Value], in_range: set[int]) -> list[Op]:
    """ops less the gathers in `in_range` that nothing reads now (a gather read
    at composed positions by a later one), and what only they read: an
    index proven in range cannot raise, so dropping it drops no error."""
    live = {v.id for v in results}
    kept: list[Op] = []
    for op in reversed(ops):
        if any(v.id in live for v in op.outputs) or not is_pure(op) or \
                (op.prim.may_raise and id(op) not in in_range) or op.blocks:
            kept.append(op)
            live.update(v.id for v in used_values([op]))
    return kept[::-1]


def _rewrite(op: Op, producer: dict[int, Op], uses: dict, results: set[int],
             outer: dict[int, Op]) -> tuple[list[Op], Value] | None:
    x, idx = op.inputs
    axis = op.attrs["axis"]
    shape = tuple(op.out.shape)
    if not _static(x.shape) or not _static(shape) or not _sole_chain(x, producer, uses, results, outer):
        return None
    if prod(shape) > prod(x.shape):
        return None
    n = x.shape[axis]
    b = derived(op, [])
    r = range_in_block(idx, ChainMap(producer, outer))
    if r is None or r[0] < -n or r[1] >= n:  # the gather's own check, then the index clipped to what passed it
        check_index_range(b, idx, n, 1, axis)
        idx = idx if idx.dtype == _I64 else b.op("convert", idx, dtype=_I64)
        idx = b.op("minimum", b.op("maximum", idx, b.const(np.int64(-n))), b.const(np.int64(n - 1)))
        r = (-n, n - 1)
    rank = len(shape)
    at = _placed(b, idx, axis, rank, n, negative=r[0] < 0)
    pos: Pos = []
    for k, d in enumerate(x.shape):
        if d == 1:
            pos.append(None)
        elif k == axis:
            pos.append(at)
        else:
            o = k if k < axis else k + idx.ndim - 1
            pos.append(b.op("iota", shape=tuple(shape[j] if j == o else 1 for j in range(rank)), dtype=_I64, axis=o))
    elements = _Elements(b, producer, rank, outer)
    elements.axis_of = {p.id: next(j for j, d in enumerate(p.shape) if d != 1)
                        for p in pos if p is not None and p is not at}
    try:
        value = elements.at(x, pos)
    except _GiveUp:
        return None
    if value.dtype != op.out.dtype:
        return None
    if tuple(value.shape) != shape:
        value = b.op("broadcast_to", value, shape=shape)
    return b.ops, value, elements.in_range


class _GiveUp(Exception):
    pass


class _Elements:
    """Values at positions, built into `b` (memoized per value and positions)."""

    def __init__(self, b: IRBuilder, producer: dict[int, Op], rank: int, outer: dict[int, Op]):
        self.b, self.producer, self.rank, self.outer = b, producer, rank, outer
        self.budget = _BUDGET
        self.memo: dict[tuple, Value] = {}
        self.axis_of: dict[int, int] = {}  # id of an iota made for the positions -> the gather's axis it counts
        self.flat_of: dict[tuple, tuple[Value, tuple]] = {}  # positions split from a flat offset -> (it, shape)
        self.in_range: set[int] = set()  # ids of the gathers read at composed positions, and of those made

    def at(self, v: Value, pos: Pos) -> Value:
        if v.ndim == 0:
            return v
        if not _static(v.shape):
            raise _GiveUp
        key = (v.id, tuple(None if p is None else p.id for p in pos))
        if key not in self.memo:
            self.budget -= 1
            if self.budget < 0:
                raise _GiveUp
            self.memo[key] = self._at(v, pos)
        return self.memo[key]

    def _at(self, v: Value, pos: Pos) -> Value:
        op = None if v.is_const else self.producer.get(v.id)
        name = op.prim.name if op is not None else None
        b = self.b
        if name == "broadcast_to":
            return self.at(op.inputs[0], _spread(op.inputs[0], v.ndim, pos))
        if name == "transpose":
            inner: Pos = [None] * v.ndim
            for k, j in enumerate(op.attrs["perm"]):
                inner[j] = pos[k]
            return self.at(op.inputs[0], inner)
        if name == "reshape":
            return self.at(op.inputs[0], self._reshaped(op.inputs[0], v, pos))
        if name == "slice":
            return self.at(op.inputs[0], self._sliced(op, pos))
        if name == "iota":
            p = pos[op.attrs["axis"]]
            dtype = np.dtype(op.attrs["dtype"])
            if p is None:
                return b.const(np.zeros((), dtype))
            return p if dtype == _I64 else b.op("convert", p, dtype=dtype)
        if op is not None and _recomputable(op):
            return b.op(op.prim, *(self.at(u, _spread(u, v.ndim, pos)) for u in op.inputs), **op.attrs)
        if name == "gather" and _in_range_gather(op, self._producers()):
            return self._composed(op, pos)
        return self._read(v, pos)

    def _composed(self, op: Op, pos: Pos) -> Value:
        """gather(x, idx, axis) at pos: x at pos with the gather's axis read
        from idx at the positions of idx's axes (a gather of a gather is one
        gather; a batched gather along a later axis, moved to the front and
        moved back, reads in place)."""
        x, idx = op.inputs
        axis, k = op.attrs["axis"], idx.ndim
        at = self.at(idx, [p if d != 1 else None for p, d in zip(pos[axis:axis + k], idx.shape)])
        if at.dtype != _I64:
            at = self.b.op("convert", at, dtype=_I64)
        self.in_range.add(id(op))
        return self.at(x, [*pos[:axis], at, *pos[axis + k:]])

    def _read(self, v: Value, pos: Pos) -> Value:
        """v's elements at pos: v itself, placed on the gather's axes, where
        each position is the whole of one of them in order; else a gather of
        its flat elements at their offsets."""
        b = self.b
        axes = [None if p is None else self.axis_of.get(p.id) for p in pos]
        placed = [(a, d) for a, d in zip(axes, v.shape) if d != 1]
        if all(a is not None for a, _ in placed) and all(x[0] < y[0] for x, y in zip(placed, placed[1:])) \
                and all(pos[k] is None or self.axis_of.get(pos[k].id) is not None for k in range(v.ndim)):
            shape = [1] * self.rank
            for a, d in placed:
                shape[a] = d
            return b.op("reshape", v, shape=tuple(shape))
        known = self.flat_of.get(tuple(None if p is None else p.id for p in pos))
        if known is not None and known[1] == tuple(v.shape):
            flat = known[0]
        else:
            flat = self._offset(v.shape, pos)
        whole = b.const(np.ravel(v.const)) if v.is_const else b.op("reshape", v, shape=(prod(v.shape),))
        if flat is None:
            return b.op("reshape", b.op("slice", whole, starts=(0,), stops=(1,), steps=(1,)), shape=())
        read = b.op("gather", whole, flat, axis=0)
        self.in_range.add(id(b.ops[-1]))  # at the offsets of positions in range
        return read

    def _offset(self, shape: tuple, pos: Pos) -> Value | None:
        """The row-major offset of pos in an array of `shape` (None: 0)."""
        b, flat, stride = self.b, None, 1
        for k in reversed(range(len(shape))):
            if pos[k] is not None:
                term = pos[k] if stride == 1 else b.op("multiply", pos[k], b.const(np.int64(stride)))
                flat = term if flat is None else b.op("add", term, flat)
            stride *= shape[k]
        return flat

    def _reshaped(self, src: Value, v: Value, pos: Pos) -> Pos:
        """Positions in src of v's elements at pos (v = reshape(src), row-major)."""
        kept = [k for k in range(v.ndim) if v.shape[k] != 1]
        if [v.shape[k] for k in kept] == [d for d in src.shape if d != 1]:  # only unit axes differ
            inner, it = [], iter(kept)
            for d in src.shape:
                inner.append(None if d == 1 else pos[next(it)])
            return inner
        if 0 in src.shape:  # an empty source has no element to place (and no stride to divide by)
            raise _GiveUp
        b = self.b
        flat = self._offset(v.shape, pos)
        split = self._split(flat, tuple(src.shape)) if flat is not None else None
        if split is not None:
            return split
        inner, stride = [], prod(src.shape)
        for k, d in enumerate(src.shape):
            stride //= d
            if d == 1 or flat is None:
                inner.append(None)
                continue
            p = flat if stride == 1 else b.op("floor_divide", flat, b.const(np.int64(stride)))
            inner.append(p if k == 0 else b.op("remainder", p, b.const(np.int64(d))))
        if flat is not None:
            self.flat_of[tuple(None if p is None else p.id for p in inner)] = (flat, tuple(src.shape))
        return inner

    def _split(self, flat: Value, shape: tuple) -> Pos | None:
        """Positions in an array of `shape` at the row-major offset `flat`
        without a division, where `flat` is a sum of terms `p * stride` (or
        `p` for stride 1), one per axis, each `p` known to lie in [0, d) of its
        axis: `max(i - k, 0) + k * n` of a (taps, n) array is (k, max(i - k, 0))."""
        terms = self._terms(flat, 8)
        strides = [prod(shape[k + 1:]) for k in range(len(shape))]
        inner: Pos = [None] * len(shape)
        for p, c in terms or [(None, None)]:
            k = next((k for k in range(len(shape)) if strides[k] == c and shape[k] != 1), None)
            if k is None or inner[k] is not None or p.ndim > self.rank:
                return None
            r = range_in_block(p, self._producers())
            if r is None or r[0] < 0 or r[1] >= shape[k]:
                return None
            inner[k] = p
            self._count_axis(p)
        return inner

    def _terms(self, v: Value, depth: int) -> list[tuple[Value, int]] | None:
        """v as a sum of (value, integer factor) terms, through add and
        multiply by a 0-d constant; None past `depth` adds."""
        op = self._producers().get(v.id)
        name = op.prim.name if op is not None else None
        if name == "add" and depth > 0 and v.dtype == _I64:
            left, right = (self._terms(u, depth - 1) for u in op.inputs)
            return None if left is None or right is None else left + right
        if name == "multiply" and v.dtype == _I64:
            for p, c in (op.inputs, op.inputs[::-1]):
                if c.is_const and np.ndim(c.const) == 0 and p.dtype == _I64:
                    inner = self._terms(p, depth - 1) if depth > 0 else None
                    return [(q, f * int(c.const)) for q, f in inner] if inner else [(p, int(c.const))]
        if name == "reshape" and depth > 0 and v.dtype == _I64 and _unit_axes_only(op.inputs[0].shape, v.shape):
            inner = self._terms(op.inputs[0], depth - 1)
            if inner is not None and len(inner) > 1:
                return [(self._unit_reshaped(q, op.inputs[0].shape, v.shape), f) for q, f in inner]
        return [(v, 1)] if v.dtype == _I64 else None

    def _unit_reshaped(self, q: Value, src: tuple, dst: tuple) -> Value:
        """q, broadcastable to `src`, placed on the axes of `dst` (src with
        unit axes added or dropped) that src's axes become."""
        padded = (1,) * (len(src) - q.ndim) + tuple(q.shape)
        shape = [1] * len(dst)
        for k, j in zip(_kept(src), _kept(dst)):
            shape[j] = padded[k]
        if tuple(shape) == tuple(q.shape):
            return q
        return self.b.op("reshape", q, shape=tuple(shape))

    def _producers(self) -> dict[int, Op]:
        made = {v.id: o for o in self.b.ops for v in o.outputs}
        return ChainMap(made, self.producer, self.outer)

    def _count_axis(self, p: Value) -> None:
        """An iota over the whole of one of the gather's axes counts that axis."""
        op = self._producers().get(p.id)
        if op is None or op.prim.name != "iota" or p.ndim != self.rank:
            return
        a = op.attrs["axis"]
        if all(d == 1 for k, d in enumerate(p.shape) if k != a):
            self.axis_of.setdefault(p.id, a)

    def _sliced(self, op: Op, pos: Pos) -> Pos:
        b, inner = self.b, list(pos)
        for k, (start, step) in enumerate(zip(op.attrs["starts"], op.attrs["steps"])):
            if not isinstance(start, (int, np.integer)) or not isinstance(step, (int, np.integer)):
                raise _GiveUp
            if pos[k] is None:
                inner[k] = None if start == 0 else b.const(np.int64(start))
                continue
            p = pos[k]
            if step != 1:
                p = b.op("multiply", p, b.const(np.int64(step)))
            inner[k] = p if start == 0 else b.op("add", p, b.const(np.int64(start)))
        return inner


def _recomputable(op: Op) -> bool:
    p = op.prim
    return p.elementwise and not p.effectful and not p.may_raise and not p.raises and not op.blocks \
        and len(op.outputs) == 1


def _spread(u: Value, rank: int, pos: Pos) -> Pos:
    """Positions in u of the elements of a rank-`rank` array u is broadcast to."""
    lead = rank - u.ndim
    return [None if d == 1 else pos[lead + j] for j, d in enumerate(u.shape)]


def _placed(b: IRBuilder, idx: Value, axis: int, rank: int, n: int, negative: bool) -> Value:
    """The gather's index as int64 over the gather's output axes, counted from the start."""
    p = idx if idx.dtype == _I64 else b.op("convert", idx, dtype=_I64)
    if negative:
        p = b.op("select", b.op("less", p, b.const(np.int64(0))), b.op("add", p, b.const(np.int64(n))), p)
    if idx.ndim != rank:
        p = b.op("reshape", p, shape=(1,) * axis + tuple(idx.shape) + (1,) * (rank - axis - idx.ndim))
    return p


def _sole_chain(x: Value, producer: dict[int, Op], uses: dict, results: set[int], outer: dict[int, Op]) -> bool:
    """Is x made by an elementwise op (through views and gathers whose
    indices are in range), each value on the way read only by the next (so
    nothing else needs the array made whole)?"""
    v = x
    while True:
        if v.id in results or len(uses.get(v.id, [])) != 1 or uses[v.id][0].nested:
            return False
        op = producer.get(v.id)
        if op is None:
            return False
        if op.prim.name in _VIEWS or (op.prim.name == "gather" and _in_range_gather(op, ChainMap(producer, outer))):
            v = op.inputs[0]
            continue
        return _recomputable(op)


def _in_range_gather(op: Op, producer) -> bool:
    """A gather whose indices are known, from their range, to lie in [0, n),
    and that reads its array at most once per element where the array is
    computed (its ops are made once, not again at every read)."""
    x, idx = op.inputs
    if not _static(x.shape) or not _static(op.out.shape):
        return False
    if prod(op.out.shape) > prod(x.shape) and not _stored(x, producer):
        return False
    r = range_in_block(idx, producer)
    return r is not None and 0 <= r[0] and r[1] < x.shape[op.attrs["axis"]]


def _kept(shape) -> list[int]:
    return [k for k, d in enumerate(shape) if d != 1]


def _unit_axes_only(src, dst) -> bool:
    return _static(src) and _static(dst) and [src[k] for k in _kept(src)] == [dst[k] for k in _kept(dst)]


def _stored(v: Value, producer) -> bool:
    """Is v, through views, an array read as it is (not recomputed at positions)?"""
    op = producer.get(v.id)
    while op is not None and op.prim.name in _VIEWS:
        v = op.inputs[0]
        op = producer.get(v.id)
    return op is None or not (_recomputable(op) or op.prim.name == "gather")


def _static(shape) -> bool:
    return not any(isinstance(d, Dim) for d in shape)
