"""Fusion of elementwise, broadcast and reduction chains into loop nests.

`plan_block` decides, per block, which array values are never stored: a value
made by a fusible op (elementwise, broadcast_to, iota, a reduction) whose one
consumer is a fusible op over the same iteration space is computed inside that
consumer's loop nest, element by element, as a scalar temporary. Every other
fusible op is a *root*: one loop nest over its output (a reduction adds inner
loops over its reduced axes), `prange` on the outer axis when the work is
large. So `exp(-(sum((W - x)**2, -1)))` is one loop nest with no temporary
array. The plan also records two peepholes that keep scans free of small
allocations: `reshape(dynamic_slice(x, t))` that only drops unit axes is one
indexing expression `x[t]`, and `dynamic_update_slice(y, reshape(v), t)` that
only adds unit axes is `y[t] = v`.

Invariant: an op folded into a later op is emitted at that op's position, and
its uses count there for the in-place analysis (`BlockPlan.position`).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from math import prod

import numpy as np

from looptrace.ir.core import Block, Dim, Op, Value

from .emitter import Emitter, cast, dtype_text

REDUCTIONS = ("reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_all", "reduce_any")


@dataclass
class BlockPlan:
    producer: dict[int, Op] = field(default_factory=dict)  # value id -> op in this block
    inlined: set[int] = field(default_factory=set)  # value ids computed inside a consumer
    fused_roots: set[int] = field(default_factory=set)  # id(op) of loop-nest roots
    skip: set[int] = field(default_factory=set)  # id(op) emitted as part of another op
    position: dict[int, int] = field(default_factory=dict)  # id(op) -> where it is emitted
    slice_into: dict[int, Op] = field(default_factory=dict)  # id(reshape) -> its dynamic_slice
    update_from: dict[int, Value] = field(default_factory=dict)  # id(dus) -> value written
    reshape_from: dict[int, Value] = field(default_factory=dict)  # id(reshape) -> first input


def is_fusible(op: Op) -> bool:
    if op.prim.region or len(op.outputs) != 1:
        return False
    if op.prim.name == "einsum":
        return contraction_axes(op) is not None
    return op.prim.family == "elementwise" or op.prim.name in ("broadcast_to", "iota") + REDUCTIONS


def contraction_axes(op: Op) -> tuple[int, ...] | None:
    """The summed axes of an einsum that is a sum of an elementwise product
    (`bhd,bhd->bh`: every operand has the same letters and shape, and the
    output keeps the others in order), so it fuses like a reduction; None for
    a real matrix product (BLAS)."""
    from looptrace.ops.linalg import parse_spec

    ins, out = parse_spec(op.attrs["spec"])
    full = ins[0]
    if len(set(full)) != len(full) or any(letters != full for letters in ins):
        return None
    if any(tuple(x.shape) != tuple(op.inputs[0].shape) for x in op.inputs):
        return None
    if [c for c in full if c in out] != list(out) or len(set(out)) != len(out):
        return None
    return tuple(k for k, c in enumerate(full) if c not in out)


def _is_reduction(op: Op) -> bool:
    return op.prim.name in REDUCTIONS or op.prim.name == "einsum"


def unit_dropped(shape: tuple, n_lead: int, sizes: tuple) -> tuple[tuple, list[int]]:
    """The shape with the unit axes among the first `n_lead` (size 1 in `sizes`)
    removed, and those axes."""
    dropped = [k for k in range(n_lead) if sizes[k] == 1]
    return tuple(d for k, d in enumerate(shape) if k not in dropped), dropped


def _consumers(block: Block) -> dict[int, list]:
    """Value id -> consumers in this block ("nested" / "result" for other uses)."""
    from looptrace.ir.core import free_values

    users: dict[int, list] = {}
    for op in block.ops:
        for v in {v.id: v for v in op.inputs}.values():
            users.setdefault(v.id, []).append(op)
        for sub in op.blocks:
            for v in free_values(sub):
                users.setdefault(v.id, []).append("nested")
    for v in block.results:
        users.setdefault(v.id, []).append("result")
    return users


def _only_consumer(users: dict, v: Value) -> Op | None:
    us = users.get(v.id, [])
    return us[0] if len(us) == 1 and isinstance(us[0], Op) else None


def plan_block(block: Block) -> BlockPlan:
    plan = BlockPlan()
    users = _consumers(block)
    index = {id(op): i for i, op in enumerate(block.ops)}
    for op in block.ops:
        for v in op.outputs:
            plan.producer[v.id] = op
    _plan_peepholes(block, plan, users)
    for op in block.ops:
        if id(op) in plan.skip or not is_fusible(op):
            continue
        consumer = _only_consumer(users, op.out)
        if op.out.ndim and consumer is not None and _fits(op.out, consumer):
            plan.inlined.add(op.out.id)
            plan.skip.add(id(op))
        else:
            plan.fused_roots.add(id(op))
    _place_folded(block, plan, users, index)
    _skip_read_through_transposes(block, plan, users)
    return plan


def _read_through(op: Op, plan: BlockPlan) -> bool:
    """May a nest read this transpose's base instead? Only while the base is
    surely unchanged: the transpose is never made (its base counts as used at
    its readers) or it is a view (`.T`, an alias the in-place rules follow).
    A transpose made as a copy is read as itself: its base may be updated in
    place after the copy."""
    if op.prim.name != "transpose" or reshape_like(op):
        return False
    perm = tuple(op.attrs["perm"])
    return id(op) in plan.skip or perm == tuple(reversed(range(len(perm))))


def _skip_read_through_transposes(block: Block, plan: BlockPlan, users: dict) -> None:
    """A transpose read only by loop nests is never made: the nests read its
    base at the permuted index (`Fuser._through_transpose`). Its base counts as
    used where the last of those nests is."""
    for op in block.ops:
        if op.prim.name != "transpose" or reshape_like(op) or id(op) in plan.skip:
            continue
        us = users.get(op.out.id, [])
        if not us or any(not isinstance(u, Op) or not is_fusible(u) for u in us):
            continue
        if any(isinstance(d, Dim) for d in op.out.shape):
            continue
        plan.skip.add(id(op))
        plan.position[id(op)] = max(plan.position.get(id(u), block.ops.index(u)) for u in us)


def _fits(v: Value, consumer: Op) -> bool:
    """Can v be computed element by element inside consumer's loop nest?"""
    if not is_fusible(consumer) or any(isinstance(d, Dim) for d in v.shape):
        return False
    if _is_reduction(consumer):
        return True
    return tuple(consumer.out.shape) == tuple(v.shape)


def _plan_peepholes(block: Block, plan: BlockPlan, users: dict) -> None:
    for op in block.ops:
        if op.prim.name != "dynamic_update_slice":
            continue
        upd = op.inputs[1]
        r = plan.producer.get(upd.id)
        if r is None or r.prim.name != "reshape" or _only_consumer(users, upd) is not op:
            continue
        want, _ = unit_dropped(upd.shape, len(op.inputs) - 2, upd.shape)
        if tuple(r.inputs[0].shape) == want:
            plan.update_from[id(op)] = r.inputs[0]
            plan.skip.add(id(r))
    for op in block.ops:
        if op.prim.name != "reshape" or id(op) in plan.skip:
            continue
        x = op.inputs[0]
        d = plan.producer.get(x.id)
        if d is None or d.prim.name != "dynamic_slice" or _only_consumer(users, x) is not op:
            continue
        want, _ = unit_dropped(x.shape, len(d.inputs) - 1, d.attrs["sizes"])
        if tuple(op.out.shape) == want:
            plan.slice_into[id(op)] = d
            plan.skip.add(id(d))
    _fold_reshape_chains(block, plan, users)


def reshape_like(op: Op) -> bool:
    """A reshape, or a transpose that only moves unit axes (the same as a reshape)."""
    if op.prim.name == "reshape":
        return True
    if op.prim.name != "transpose":
        return False
    x = op.inputs[0]
    moved = [p for p in op.attrs["perm"] if x.shape[p] != 1]
    return moved == sorted(moved)


def _fold_reshape_chains(block: Block, plan: BlockPlan, users: dict) -> None:
    """reshape(reshape(x)) -> reshape(x) when the inner one has no other use."""
    for op in block.ops:
        if not reshape_like(op) or id(op) in plan.skip or id(op) in plan.slice_into:
            continue
        x = op.inputs[0]
        inner = plan.producer.get(x.id)
        if (inner is not None and reshape_like(inner) and id(inner) not in plan.skip
                and id(inner) not in plan.slice_into and _only_consumer(users, x) is op):
            plan.skip.add(id(inner))
            x = plan.reshape_from.get(id(inner), inner.inputs[0])
        plan.reshape_from[id(op)] = x


def _place_folded(block: Block, plan: BlockPlan, users: dict, index: dict) -> None:
    """Each skipped op is emitted where its consumer is (transitively)."""
    def where(op: Op) -> int:
        if id(op) not in plan.skip:
            return index[id(op)]
        (consumer,) = [u for u in users[op.out.id] if isinstance(u, Op)][:1] or [None]
        return where(consumer) if consumer is not None else index[id(op)]

    for op in block.ops:
        if id(op) in plan.skip:
            plan.position[id(op)] = where(op)


# --- emitting a loop nest ----------------------------------------------------------------------
class Fuser:
    """Writes the scalar code of one root's element, recursing into the values
    fused into it; `memo` shares a temporary between uses at the same index."""

    def __init__(self, em: Emitter):
        self.em = em
        self.plan = em.plan
        self.memo: dict[tuple, str] = {}
        self.reductions: list[Op] = []  # reductions computed, in order
        self.reads: list[tuple[Value, list[str], bool]] = []  # array, index, inside a reduction
        self.reducing = 0
        self._ordering = False

    def value_at(self, v: Value, idx: list[str], produce: bool = False) -> str:
        em = self.em
        if not produce and v.ndim == 0:
            return em.name(v)
        if not produce and v.id not in self.plan.inlined:
            v, idx = self._through_transpose(v, idx)
            self.reads.append((v, idx, self.reducing > 0))
            return f"{em.name(v)}[{', '.join(idx)}]"
        key = (v.id, tuple(idx))
        if key not in self.memo and not self._ordering:
            self._inputs_first(v, idx)
        if key not in self.memo:
            op = self.plan.producer[v.id]
            outer, em.op = em.op, op  # lines of a fused op still name that op's user line
            try:
                self.memo[key] = self._compute(op, idx)
            finally:
                em.op = outer
        return self.memo[key]

    def _inputs_first(self, v: Value, idx: list[str]) -> None:
        """Compute the fused inputs of `v` deepest first, with an explicit
        stack: each then finds its own inputs computed, so a chain of any
        length emits without recursing once per link (Python's recursion
        limit is no limit on the user's program)."""
        order, stack, seen = [], [(v, tuple(idx), False)], set()
        while stack:
            u, at, expanded = stack.pop()
            if expanded:
                order.append((u, list(at)))
                continue
            if (u.id, at) in seen or (u.id, at) in self.memo:
                continue
            seen.add((u.id, at))
            stack.append((u, at, True))
            op = self.plan.producer[u.id]
            if _is_reduction(op) or op.prim.name == "iota":
                continue  # a reduction computes its input inside its own loops
            for w in reversed(op.inputs):  # popped in input order: the lines come out as before
                if w.ndim and w.id in self.plan.inlined:
                    stack.append((w, tuple(broadcast_index(w, op.out, list(at))), False))
        self._ordering = True
        try:
            for u, at in order[:-1]:
                self.value_at(u, at)
        finally:
            self._ordering = False

    def _through_transpose(self, v: Value, idx: list[str]) -> tuple[Value, list[str]]:
        """A transposed view is read through its base: `np.transpose(x, p)[i, j]`
        is `x[j, i]`, so the base's own layout (contiguous, known to Numba)
        decides the stride, and loops over it can vectorize."""
        op = self.plan.producer.get(v.id)
        while op is not None and _read_through(op, self.plan):
            perm = op.attrs["perm"]
            base = [""] * len(perm)
            for k, p in enumerate(perm):
                base[p] = idx[k]
            v, idx = op.inputs[0], base
            op = self.plan.producer.get(v.id)
        return v, idx

    def _compute(self, op: Op, idx: list[str]) -> str:
        name = op.prim.name
        if _is_reduction(op):
            ordering, self._ordering = self._ordering, False  # its input orders itself, in its loops
            try:
                return self._reduce(op, idx)
            finally:
                self._ordering = ordering
        if name == "broadcast_to":
            x = op.inputs[0]
            return self.value_at(x, broadcast_index(x, op.out, idx))
        if name == "iota":
            return cast(idx[op.attrs["axis"]], op.out.dtype)
        args = [self.value_at(u, broadcast_index(u, op.out, idx)) for u in op.inputs]
        expr = op.prim.lower_cpu(args, [u.dtype for u in op.inputs], op.out.dtype)
        t = self.em.fresh()
        self.em.line(f"{t} = {cast(expr, op.out.dtype)}")
        return t

    def _reduce(self, op: Op, idx: list[str], parallel: bool = False) -> str:
        """A reduction (or a sum of products) at kept index `idx`: inner loops."""
        em, x = self.em, op.inputs[0]
        rule, axes = reduction_rule(op), reduced_axes(op)
        if x.ndim == 1 and _sums(op) and x.dtype.kind == "f" and isinstance(x.shape[0], int) and x.shape[0] >= 64:
            return self._sum_8way(op, rule, parallel)
        self.reductions.append(op)
        acc = em.fresh("acc")
        em.line(f"{acc} = {rule.init(x.dtype)}")
        saved = dict(self.memo)
        inner = [em.fresh("r") for _ in axes]
        depth = em.depth
        for j, (var, k) in enumerate(zip(inner, axes)):
            em.line(f"for {var} in {'numba.prange' if parallel and j == 0 else 'range'}({em.size(x, k)}):")
            em.depth += 1
        em.line(rule.update(acc, self.term(op, idx, inner), x.dtype))
        em.depth = depth
        self.memo = saved
        return cast(acc, op.out.dtype)

    def term(self, op: Op, idx: list[str], inner: list[str]) -> str:
        """The element a reduction folds in, at kept index `idx` and reduced index `inner`."""
        axes = reduced_axes(op)
        full, kept = [], iter(idx)
        for k in range(op.inputs[0].ndim):
            full.append(inner[axes.index(k)] if k in axes else next(kept))
        self.reducing += 1
        try:
            return " * ".join(self.value_at(u, full) for u in op.inputs)
        finally:
            self.reducing -= 1


    def _sum_8way(self, op: Op, rule, parallel: bool) -> str:
        """A float sum over one axis with 8 independent accumulators (as NumPy's
        pairwise sum does at its leaves): 8 add chains instead of one."""
        em, x = self.em, op.inputs[0]
        n = x.shape[0]
        accs = [em.fresh("acc") for _ in range(8)]
        for a in accs:
            em.line(f"{a} = {rule.init(x.dtype)}")
        r = em.fresh("r")
        saved = dict(self.memo)
        with em.loop(r, str(n // 8), parallel):
            for j, a in enumerate(accs):
                term = " * ".join(self.value_at(u, [f"{r} * 8 + {j}"]) for u in op.inputs)
                em.line(rule.update(a, term, x.dtype))
        self.memo = dict(saved)
        total = em.fresh("acc")
        em.line(f"{total} = (({accs[0]} + {accs[1]}) + ({accs[2]} + {accs[3]})) + "
                f"(({accs[4]} + {accs[5]}) + ({accs[6]} + {accs[7]}))")
        tail = em.fresh("r")
        with em.loop(tail, f"{n - n % 8}, {n}"):
            term = " * ".join(self.value_at(u, [tail]) for u in op.inputs)
            em.line(rule.update(total, term, x.dtype))
        self.memo = saved
        return cast(total, op.out.dtype)


def reduced_axes(op: Op) -> tuple[int, ...]:
    return contraction_axes(op) if op.prim.name == "einsum" else tuple(op.attrs["axes"])


def reduction_rule(op: Op):
    return SUM_OF_PRODUCTS if op.prim.name == "einsum" else op.prim.lower_cpu


def _sums(op: Op) -> bool:
    return op.prim.name in ("einsum", "reduce_sum")


class _SumOfProducts:
    """The accumulator rule of a fused einsum (float32 sums in float64)."""

    def init(self, dtype) -> str:
        dt = np.dtype(dtype)
        return "0.0" if dt.kind == "f" else f"np.{dt.name}(0)"

    def update(self, acc: str, x: str, dtype) -> str:
        return f"{acc} += {x}"

    def acc_dtype(self, dtype) -> np.dtype:
        dt = np.dtype(dtype)
        return np.dtype(np.float64) if dt.kind == "f" else dt


SUM_OF_PRODUCTS = _SumOfProducts()


def broadcast_index(u: Value, out: Value, idx: list[str]) -> list[str]:
    """u's index for element `idx` of `out` (NumPy broadcasting, aligned right)."""
    lead = out.ndim - u.ndim
    return ["0" if u.shape[k] == 1 and out.shape[lead + k] != 1 else idx[lead + k]
            for k in range(u.ndim)]


# A nest of a few cheap ops per element (a copy, an add, a cast) is bound by
# memory bandwidth, which two threads barely raise, while each prange loop
# adds about 0.3 s of Numba compile time: such nests need this many times
# more elements before they run in parallel. Measured: rnn_taps float32,
# T=10^4, y=512 (two 5M-element streaming nests) compiled in 3.0-3.2 s with
# prange and 2.4 s without, and ran in the same time (0.17-0.19 s).
STREAMING_DISCOUNT = 16
_CHEAP = {"add", "subtract", "multiply", "negative", "positive", "absolute", "convert", "select",
          "maximum", "minimum", "equal", "not_equal", "less", "less_equal", "greater",
          "greater_equal", "logical_and", "logical_or", "logical_not", "square", "broadcast_to"}


def _streaming(op: Op, plan: BlockPlan) -> bool:
    """Is this root's nest a few cheap elementwise ops and no reduction?"""
    ops, stack = [], [op]
    while stack:
        o = stack.pop()
        ops.append(o)
        stack.extend(plan.producer[u.id] for u in o.inputs if u.id in plan.inlined)
    return len(ops) <= 4 and all(o.prim.name in _CHEAP for o in ops)


def _work(op: Op, plan: BlockPlan) -> int:
    """Elements touched by a root's loop nest, its fused reductions' inner loops included."""
    def size(shape) -> int:
        return prod(d.bound if isinstance(d, Dim) else d for d in shape)

    best, stack, seen = 0, [op], set()
    while stack:  # the ops fused into this root, without recursing once per link
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        best = max(best, size(o.inputs[0].shape) if _is_reduction(o) else size(o.out.shape))
        stack.extend(plan.producer[u.id] for u in o.inputs if u.id in plan.inlined)
    return best


def emit_fused(em: Emitter, op: Op) -> None:
    """The loop nest of one fusion root (or one scalar statement)."""
    v, fz = op.out, Fuser(em)
    work = _work(op, em.plan)
    big = em.work_is_large(work if not _streaming(op, em.plan) else work // STREAMING_DISCOUNT)
    if v.ndim == 0:
        if _is_reduction(op) and op.inputs[0].ndim:
            par = big and (op.prim.name == "einsum" or op.prim.lower_cpu.parallel_ok(op.inputs[0].dtype))
            expr = fz._reduce(op, [], parallel=par)
            em.uses_prange |= par
        else:
            expr = fz.value_at(v, [], produce=True)
            _shift_range(em, op)
        em.line(f"{em.name(v)} = {expr}")
        em.define(v)
        return
    probe = _probe(em, op)
    reuse = _reusable_input(em, op, probe)
    if reuse is not None:  # each element overwrites the one input element it reads
        out = em.name(v)
        em.line(f"{out} = {em.name(reuse)}")
        em.define(v, alias_of=reuse)
    elif not any(isinstance(d, Dim) for d in v.shape):
        out = em.fresh_array(v)
    else:
        out = _dim_array(em, op)
    counts = [str(d) if not isinstance(d, Dim) else f"{out}.shape[{k}]" for k, d in enumerate(v.shape)]
    reduction = _interchangeable(em, op, probe)
    if reduction is not None:
        _emit_interchanged(em, op, reduction, out, counts, big)
        return
    with em.loop_nest(counts, parallel_outer=big and v.shape[0] != 1) as idx:
        em.line(f"{out}[{', '.join(idx)}] = {fz.value_at(v, idx, produce=True)}")


# --- reductions with the last kept axis innermost ----------------------------------------------
# `out[i, j] = f(sum_d g(x[i, d], W[d, j]))` read in its natural order sums over
# d innermost: one dependent add chain per element (no SIMD without
# reassociating) and W read down a column. When every array the sum reads
# that varies with j is contiguous along j, the nest is interchanged instead:
#     for i: acc[:] = 0; for d: for j: acc[j] += g(...)   then   for j: out[i, j] = f(acc[j])
# The j loop is independent (it vectorizes) and walks W along its rows. Each
# element is still summed over d in the same order, so the values are the same.
INTERCHANGE_MIN = 8  # the last kept axis must be at least this long


def _symbols(v: Value) -> list[str]:
    return [f"@{k}@" for k in range(v.ndim)]


def _probe(em: Emitter, op: Op) -> Fuser:
    """A dry run of the root's element at symbolic index `_symbols(op.out)`:
    no line stays, the Fuser keeps what was read and reduced."""
    probe = Fuser(em)
    start = len(em.lines)
    try:
        probe.value_at(op.out, _symbols(op.out), produce=True)
    finally:
        del em.lines[start:], em.line_ops[start:]
    return probe


def _interchangeable(em: Emitter, op: Op, probe: Fuser) -> Op | None:
    """The one reduction in this root's nest when the interchange pays, else None."""
    v = op.out
    if isinstance(v.shape[-1], int) and v.shape[-1] < INTERCHANGE_MIN or len(probe.reductions) != 1:
        return None
    red = probe.reductions[0]
    if tuple(red.out.shape) != tuple(v.shape) or not _same_index_path(em.plan, red, op):
        return None
    j = _symbols(v)[-1]
    varying = [idx for _, idx, in_red in probe.reads if in_red and any(j in i for i in idx)]
    if not varying or any(idx[-1] != j for idx in varying):
        return None
    return red


def _reusable_input(em: Emitter, op: Op, probe: Fuser) -> Value | None:
    """An input array this elementwise nest may overwrite: ours, dead after
    this op, of the output's shape and dtype, contiguous, and read only at
    the element being written."""
    if probe.reductions or any(isinstance(d, Dim) for d in op.out.shape):
        return None
    here = _symbols(op.out)
    reads: dict[int, list] = {}
    for u, idx, _ in probe.reads:
        reads.setdefault(u.id, [u]).append(idx)
    for u, *indices in reads.values():
        if (u.const is None and u.dtype == op.out.dtype and tuple(u.shape) == tuple(op.out.shape)
                and all(idx == here for idx in indices) and _contiguous_owned(em, u)
                and em.scope.can_consume(u)):
            return u
    return None


def _contiguous_owned(em: Emitter, u: Value) -> bool:
    """Memory this kernel allocated for u itself, or a reshape of it."""
    if u.id in em.scope.owned:
        return True
    producer = em.plan.producer.get(u.id)
    return producer is not None and producer.prim.name == "reshape" and em.scope.root.get(u.id) in em.scope.owned


def _same_index_path(plan: BlockPlan, red: Op, root: Op) -> bool:
    """Is every op from `red` up to `root` elementwise over the same shape,
    so `red` is read at the root's own index?"""
    op = root
    while op is not red:
        if op.prim.family != "elementwise" or tuple(op.out.shape) != tuple(root.out.shape):
            return False
        nxt = [plan.producer[u.id] for u in op.inputs if u.id in plan.inlined
               and tuple(u.shape) == tuple(root.out.shape)]
        chain = [p for p in nxt if _reaches(plan, p, red)]
        if len(chain) != 1:
            return False
        op = chain[0]
    return True


def _reaches(plan: BlockPlan, op: Op, target: Op) -> bool:
    stack, seen = [op], set()
    while stack:
        o = stack.pop()
        if o is target:
            return True
        if id(o) in seen:
            continue
        seen.add(id(o))
        stack.extend(plan.producer[u.id] for u in o.inputs if u.id in plan.inlined)
    return False


def _emit_interchanged(em: Emitter, op: Op, red: Op, out: str, counts: list[str], big: bool) -> None:
    x, rule, axes = red.inputs[0], reduction_rule(red), reduced_axes(red)
    acc_dt = rule.acc_dtype(x.dtype)
    with em.loop_nest(counts[:-1], parallel_outer=big and op.out.ndim > 1 and op.out.shape[0] != 1) as outer:
        fz = Fuser(em)
        acc = em.fresh("acc")
        em.line(f"{acc} = np.empty({counts[-1]}, dtype={dtype_text(acc_dt)})")
        j = em.fresh("j")
        with em.loop(j, counts[-1]):
            em.line(f"{acc}[{j}] = {rule.init(x.dtype)}")
        inner = [em.fresh("r") for _ in axes]
        with contextlib.ExitStack() as stack:
            for var, k in zip(inner, axes):
                stack.enter_context(em.loop(var, em.size(x, k)))
            stack.enter_context(em.loop(j, counts[-1]))
            em.line(rule.update(f"{acc}[{j}]", fz.term(red, [*outer, j], inner), x.dtype))
        fz.memo = {(red.out.id, (*outer, j)): cast(f"{acc}[{j}]", red.out.dtype)}
        with em.loop(j, counts[-1]):
            em.line(f"{out}[{', '.join([*outer, j])}] = {fz.value_at(op.out, [*outer, j], produce=True)}")


def _shift_range(em: Emitter, op: Op) -> None:
    """Range facts through `i + c` and `i - c` (i a known integer, c a constant)."""
    if op.prim.name not in ("add", "subtract") or op.out.dtype.kind not in "iu":
        return
    a, b = op.inputs
    if a.id in em.ranges and b.const is not None:
        c = int(b.const) * (1 if op.prim.name == "add" else -1)
        lo, hi = em.ranges[a.id]
        em.ranges[op.out.id] = (lo + c, hi + c)
    elif b.id in em.ranges and a.const is not None and op.prim.name == "add":
        lo, hi = em.ranges[b.id]
        em.ranges[op.out.id] = (lo + int(a.const), hi + int(a.const))


def _dim_array(em: Emitter, op: Op) -> str:
    """An output whose shape is known only at run time: sizes from an input."""
    v = op.out
    sizes = []
    for k, d in enumerate(v.shape):
        if not isinstance(d, Dim):
            sizes.append(str(d))
            continue
        lead = [(u, k - (v.ndim - u.ndim)) for u in op.inputs if u.ndim]
        src = next(f"{em.name(u)}.shape[{a}]" for u, a in lead if 0 <= a < u.ndim and u.shape[a] is d)
        sizes.append(src)
    em.line(f"{em.name(v)} = np.empty(({''.join(s + ', ' for s in sizes)}), dtype=np.{v.dtype.name})")
    em.define(v, owned=True)
    return em.name(v)
