"""Adjoints of region ops: counted loops, while loops, conditionals.

for_loop: the forward loop is re-emitted with extra stacked outputs holding,
per step, the residuals its adjoint reads (and nothing else: values that
depend only on the index and loop-invariant values are recomputed, a new
carry is read from the saved carries). The adjoint is a for_loop
over the reversed index carrying the cotangents of the active carries plus
one accumulator per captured active value. The accumulators are the body's
running cotangents of those values: sparse ones (a read of x[i]) are added
into them in place, and an inner loop's reverse pass starts from them, so
nested loops cost O(steps), not O(outer steps * size).

while_loop: a counting copy of the loop records the trip count, then a
counted for_loop replays it (and is differentiated as above).

cond: the adjoint is a cond on the same predicate; the forward cond also
outputs each branch's residuals (zeros from the other branch). A target's
cotangent that is sparse or absent in every branch leaves the cond as
sparse parts (index and update values); one that is dense in a branch and
absent or sparse in another is threaded: the cond takes the running
cotangent and each branch adds into it. Neither makes zeros of the whole
array in a branch that does not touch it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from looptrace.errors import UnsupportedError
from looptrace.ir.builder import derived, rebuilt
from looptrace.ir.clone import clone_block, clone_ops
from looptrace.ir.core import Block, Dim, Op, Value, free_values, walk
from looptrace.ir.dce import is_pure
from looptrace.ir.rewrite import substitute
from looptrace.ir.uses import used_values
from looptrace.ops.control import split_for_results, trip_count
from looptrace.ops.vjp_helpers import (
    Builder,
    ScatterCt,
    SliceCt,
    SparseSum,
    dense,
    has_dynamic_shape,
    is_float,
    sparse_parts,
)

from . import slicing
from .vjp import (
    Options,
    accumulate,
    propagate_activity,
    read_ct_or_zeros,
    run_pullbacks,
    transform_ops,
)

INT = np.dtype(np.int64)


def int_lit(x: int) -> Value:
    arr = np.asarray(x, dtype=INT)
    return Value(INT, (), const=arr)


# --- the body's adjoint, generated once at forward time ------------------------------------
@dataclass
class BodyAdjoint:
    """The backward ops of one loop body, reading primal body values directly
    and placeholders for the cotangents flowing in."""

    ops: list[Op]
    ct_carry_args: list[Value]  # one per active carry (the reverse loop's carries)
    ct_y_holders: list[Value]  # one per active stacked output (read per step)
    acc_args: list[Value]  # one accumulator per captured active value
    captured: list[Value]
    results: list[Value]


def active_carries(op: Op, active: set[int]) -> list[int]:
    """Indices of carries that depend on active values (a fixpoint)."""
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    act = {j for j in range(n_carry) if op.inputs[3 + j].id in active and is_float(body.args[1 + j])}
    while True:
        trial = set(active) | {body.args[1 + j].id for j in act}
        propagate_activity(body.ops, trial)
        grown = act | {j for j in range(n_carry) if body.results[j].id in trial and is_float(body.args[1 + j])}
        if grown == act:
            return sorted(act)
        act = grown


def body_adjoint(op: Op, carries: list[int], active: set[int], opts: Options):
    """(forward body ops, BodyAdjoint) of a for_loop body."""
    (body,) = op.blocks
    n_carry, n_ys = split_for_results(op)
    body_active = set(active) | {body.args[1 + j].id for j in carries}
    fwd_ops, pullbacks = transform_ops(body.ops, body_active, Options())
    b = Builder(op.loc)
    cts: dict = {}
    # (seeded first: a carry set to a captured value (`y = a`) adds its cotangent into the seed)
    seeds = _seed_accumulators(body, active, cts)
    ct_carry = [Value(body.args[1 + j].dtype, body.args[1 + j].shape) for j in carries]
    for j, g in zip(carries, ct_carry):
        accumulate(b, cts, body.results[j], g)
    ys = [k for k in range(n_ys) if body.results[n_carry + k].id in body_active]
    holders = [Value(body.results[n_carry + k].dtype, body.results[n_carry + k].shape) for k in ys]
    for k, g in zip(ys, holders):
        accumulate(b, cts, body.results[n_carry + k], g)
    run_pullbacks(b, pullbacks, cts)
    new_ct = [read_ct_or_zeros(b, cts, body.args[1 + j]) for j in carries]
    captured = [v for v in seeds if cts[v.id] is not seeds[v]]
    accs = [seeds[v] for v in captured]
    new_accs = [dense(b, cts[v.id]) for v in captured]
    adj = BodyAdjoint(b.ops, ct_carry, holders, accs, captured, new_ct + new_accs)
    return fwd_ops, adj, ys


def _seed_accumulators(body: Block, active: set[int], cts: dict) -> dict:
    """One accumulator (a reverse-loop carry) per captured active float value,
    put in `cts` before the body's pullbacks run: a sparse cotangent is added
    into it in place, and an inner loop's reverse pass starts from it instead
    of from zeros (O(size) per outer step, session-45 helper G)."""
    seeds = {v: Value(v.dtype, v.shape) for v in free_values(body) if v.id in active and is_float(v)}
    for v, acc in seeds.items():
        cts[v.id] = acc
    return seeds


# --- residuals ------------------------------------------------------------------------------------
@dataclass
class Residuals:
    """How the reverse loop gets each primal body value its adjoint reads."""

    saved: list[Value] = field(default_factory=list)  # stacked per step
    carries: list[int] = field(default_factory=list)  # carries whose new value is stacked
    carry_out: dict[int, int] = field(default_factory=dict)  # value id -> its carry (new value)
    recompute: list[Op] = field(default_factory=list)  # recomputed in the reverse body


def classify(op: Op, fwd_ops: list[Op], adj: BodyAdjoint, recompute_all: bool) -> Residuals:
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    carry_pos = {body.args[1 + j].id: j for j in range(n_carry)}
    new_carry = {body.results[j].id: j for j in range(n_carry)}
    produced = {v.id: o for o in fwd_ops for v in o.outputs}
    res = Residuals()
    wanted = [v for v in used_values(adj.ops, adj.results) if v.id in produced]
    recomputed: list[Value] = []
    for v in wanted:
        ragged = any(isinstance(d, Dim) for d in v.shape)  # an inner loop's tape of a traced trip count
        if _recomputable(v, fwd_ops, carry_pos, recompute_all or ragged, checks=ragged):
            # (ragged: its length may change from step to step, `for k in range(t)` inside
            # `for t ...`, so it cannot be stacked: recomputed from the step's carries instead)
            recomputed.append(v)
        elif v.id in new_carry:
            res.carry_out[v.id] = new_carry[v.id]
        else:
            res.saved.append(v)
    res.recompute = _recompute_ops(fwd_ops, recomputed)
    reads = used_values(adj.ops + res.recompute, adj.results)
    ids = {v.id for v in reads}
    res.carries = sorted({carry_pos[i] for i in ids if i in carry_pos} | set(res.carry_out.values()))
    return res


def _recomputable(v: Value, fwd_ops: list[Op], carry_pos: dict, recompute_all: bool, checks: bool = False) -> bool:
    """Can v be computed again in the backward pass: nothing on its way draws
    or writes (nor checks, unless `checks`: a ragged tape cannot be saved,
    and a check that held forward holds again on the same values)."""
    chain = slicing.backward_slice(fwd_ops, [v])
    if any(not is_pure(o) and not (checks and _replayable(o)) for o in chain):
        return False
    if recompute_all:
        return True
    reads = {u.id for u in used_values(chain)}
    return not any(i in carry_pos for i in reads)


def _replayable(op: Op) -> bool:
    return not any(o.prim.effectful for o in [op, *(x for b in op.blocks for x in walk(b))])


def _recompute_ops(fwd_ops: list[Op], values: list[Value]) -> list[Op]:
    """The slice computing `values`, with loops pruned to what it needs."""
    chain = slicing.backward_slice(fwd_ops, values)
    need = {v.id for v in values}
    out: list[Op] = []
    for o in reversed(chain):
        if o.prim.name == "for_loop":
            o = slicing.prune_for_loop(o, need)
        out.append(o)
        need.update(v.id for v in used_values([o]))
    return out[::-1]


# --- for_loop ---------------------------------------------------------------------------------------
def for_forward(op: Op, active: set[int], opts: Options):
    recompute_all = op.attrs.get("recompute", False)
    if opts.checkpoint and not recompute_all:
        from .checkpoint import segmented

        seg = segmented(op, opts.checkpoint, active)
        if seg is not None:
            return seg
    carries = active_carries(op, active)
    fwd_ops, adj, ys = body_adjoint(op, carries, active, opts)
    n = _static_trips(op)
    if recompute_all and any(not is_pure(o) for o in fwd_ops):
        recompute_all = False  # draws cannot be replayed: save them instead
    res = classify(op, fwd_ops, adj, recompute_all)
    new_op, stacks = _augmented_forward(op, fwd_ops, res, n)
    return [new_op], _for_pullback(op, new_op, carries, ys, adj, res, stacks, n)


def _static_trips(op: Op) -> int | None:
    if "trips" in op.attrs:
        return op.attrs["trips"]
    bounds = op.inputs[:3]
    if all(v.is_const for v in bounds):
        return trip_count(*(int(v.const) for v in bounds))
    return None


def _augmented_forward(op: Op, fwd_ops: list[Op], res: Residuals, n: int | None):
    (body,) = op.blocks
    extra = list(res.saved) + [body.results[j] for j in res.carries]
    lead = n if n is not None else Dim(None)
    stacks = [Value(v.dtype, (lead,) + tuple(v.shape)) for v in extra]
    new_body = Block(body.args, fwd_ops, list(body.results) + extra)
    new_op = rebuilt(op, outputs=tuple(op.outputs) + tuple(stacks), blocks=(new_body,))
    return new_op, stacks


def _for_pullback(op, new_op, carries, ys, adj: BodyAdjoint, res: Residuals, stacks, n):
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)

    def pullback(b: Builder, cts: dict) -> None:
        b.loc = op.loc
        trips = int_lit(n) if n is not None else _trip_count(b, *op.inputs[:3])
        init_ct = [read_ct_or_zeros(b, cts, op.outputs[j]) for j in carries]
        ys_ct = [read_ct_or_zeros(b, cts, op.outputs[n_carry + k]) for k in ys]
        acc0 = [_running_ct(b, cts, v) for v in adj.captured]
        outs_of = dict(zip(res.carries, stacks[len(res.saved):]))
        if n is not None:  # affine reads (the vectorizer batches them as slices)
            outs_of = {j: _with_init(b, s, op.inputs[3 + j]) for j, s in outs_of.items()}
        k = Value(INT, ())
        rb = Builder(op.loc)
        m = rb.sub(rb.sub(trips, int_lit(1)), k)
        mapping = _reverse_env(rb, op, m, res, stacks, outs_of, ys_ct, adj, n is not None)
        ops = rb.ops + clone_ops(res.recompute + adj.ops, mapping)
        results = [mapping.get(v.id, v) for v in adj.results]
        rbody = Block([k] + adj.ct_carry_args + adj.acc_args, ops, results)
        outs = _reverse_loop(b, trips, rbody, [*init_ct, *acc0])
        # (the captured values first: a value that is also a carry's start (`y = a`, then `y = 0.5 * y + a`)
        # still holds a0 here, which the loop's output already includes: adding the start's cotangent
        # before this test counted a0 twice)
        for v, a0, ct in zip(adj.captured, acc0, outs[len(carries):]):
            if cts.get(v.id) is a0:  # the loop added into the running cotangent: its output replaces it
                cts[v.id] = ct
            else:
                accumulate(b, cts, v, ct)
        for j, ct in zip(carries, outs):
            accumulate(b, cts, op.inputs[3 + j], ct)

    return pullback


def _running_ct(b: Builder, cts: dict, v: Value) -> Value:
    """Where a reverse loop accumulates v's cotangent: v's dense cotangent so
    far (an enclosing reverse loop's accumulator: no zeros per outer step), or zeros."""
    ct = cts.get(v.id)
    return ct if isinstance(ct, Value) else b.zeros_like(v)


def _reverse_loop(b: Builder, trips: Value, body: Block, init: list) -> list[Value]:
    """Emit the reverse for_loop; carries passed through unchanged (a
    cotangent that flows straight through) are not carried but read as their
    initial value, and come out as it."""
    through = [j for j, (a, r) in enumerate(zip(body.args[1:], body.results)) if a is r]
    substitute(body, {body.args[1 + j].id: init[j] for j in through})
    kept = [j for j in range(len(init)) if j not in through]
    body = Block([body.args[0]] + [body.args[1 + j] for j in kept], body.ops,
                 [body.results[j] for j in kept])
    outs = b.emit_multi_region("for_loop", (int_lit(0), trips, int_lit(1), *[init[j] for j in kept]), body)
    by_pos = dict(zip(kept, outs))
    return [by_pos.get(j, init[j]) for j in range(len(init))]


def _reverse_env(rb, op, m, res: Residuals, stacks, outs_of, ys_ct, adj: BodyAdjoint, ext: bool) -> dict:
    """Values of the primal body (and cotangent placeholders) at reverse step m."""
    (body,) = op.blocks
    start, _, step = op.inputs[:3]
    mapping = {body.args[0].id: rb.add(start, rb.mul(m, step))}
    for v, s in zip(res.saved, stacks):
        mapping[v.id] = rb.index(s, m)
    for j, s in outs_of.items():
        init = op.inputs[3 + j]
        mapping[body.args[1 + j].id] = rb.index(s, m) if ext else _carry_in(rb, s, m, init)
    for vid, j in res.carry_out.items():
        mapping[vid] = rb.index(outs_of[j], rb.add(m, int_lit(1)) if ext else m)
    for h, s in zip(adj.ct_y_holders, ys_ct):
        mapping[h.id] = rb.index(s, m)
    return mapping


def _with_init(b: Builder, outs: Value, init: Value) -> Value:
    """[init, new carry after step 0, after step 1, ...]: entry k is the
    carry at step k's entry, entry k + 1 its new value."""
    first = b.reshape(b.emit("broadcast_to", init, shape=tuple(outs.shape[1:])), (1,) + tuple(outs.shape[1:]))
    return b.emit("concatenate", first, outs, axis=0)


def _carry_in(rb: Builder, outs: Value, m: Value, init: Value) -> Value:
    """The carry at step m's entry: the new carry of step m-1, or `init`."""
    prev = rb.emit("maximum", rb.sub(m, int_lit(1)), int_lit(0))
    first = rb.emit("equal", m, int_lit(0))
    return rb.emit("select", first, init, rb.index(outs, prev))


def _trip_count(b: Builder, start: Value, stop: Value, step: Value) -> Value:
    """len(range(start, stop, step)) in IR."""
    span = b.sub(b.add(b.sub(stop, start), step), b.emit("sign", step))
    return b.emit("maximum", b.emit("floor_divide", span, step), int_lit(0))


def _emit_region(self: Builder, name: str, inputs: tuple, block: Block) -> tuple[Value, ...]:
    """A for_loop over `block` (outputs typed from its carries)."""
    n_carry = len(block.args) - 1
    outs = tuple(Value(a.dtype, a.shape) for a in block.args[1:1 + n_carry])
    self.region(name, tuple(inputs), outs, (block,))
    return outs


Builder.emit_multi_region = _emit_region


# --- while_loop ---------------------------------------------------------------------------------------
def while_forward(op: Op, active: set[int], opts: Options):
    """count the trips with a copy of the loop, then differentiate a counted replay."""
    cond, body = op.blocks
    # (a run-time check is fine: the counting loop raises where the plain loop would, first)
    effects = [x for o in body.ops + cond.ops for x in [o, *(y for b in o.blocks for y in walk(b))] if x.prim.effectful]
    printing = next((x for x in effects if x.prim.name == "print"), None)
    if printing is not None:  # (its trips are counted by running it once more: it would print twice)
        raise UnsupportedError("cannot differentiate a while loop (or a loop with `break`) that prints",
                               printing.loc, "print after the loop, or differentiate a version without the print")
    if effects:
        raise UnsupportedError("cannot differentiate a while loop (or a loop with `break`) that draws "
                               "random numbers", op.loc, "draw the numbers before the loop")
    count_op, trips = _counting_loop(op)
    mapping: dict[int, Value] = {}
    replay_body = clone_block(Block([Value(INT, ())] + list(body.args), body.ops, body.results), mapping)
    replay = derived(op, []).region("for_loop", (int_lit(0), trips, int_lit(1), *op.inputs), op.outputs,
                                    (replay_body,), **op.attrs)
    new_ops, pb = for_forward(replay, active, opts)
    return [count_op] + new_ops, pb


def _counting_loop(op: Op) -> tuple[Op, Value]:
    cond, body = op.blocks
    m1: dict[int, Value] = {}
    c = clone_block(cond, m1)
    c.args.append(Value(INT, ()))
    m2: dict[int, Value] = {}
    bd = clone_block(body, m2)
    counter = Value(INT, ())
    b = Builder(op.loc)
    bd.args.append(counter)
    bd.results = list(bd.results) + [b.add(counter, int_lit(1))]
    bd.ops.extend(b.ops)
    outs = tuple(Value(v.dtype, v.shape) for v in op.outputs) + (Value(INT, ()),)
    count = rebuilt(op, inputs=tuple(op.inputs) + (int_lit(0),), outputs=outs, attrs=op.attrs, blocks=(c, bd))
    return count, outs[-1]


# --- cond ------------------------------------------------------------------------------------------------
@dataclass
class BranchAdjoint:
    fwd_ops: list[Op]
    reads: list[Value]
    cts: dict
    builder: Builder
    residuals: list[Value]


def cond_forward(op: Op, active: set[int], opts: Options):
    holders = [Value(v.dtype, v.shape) if is_float(v) else None for v in op.outputs]
    branches = [_branch_adjoint(blk, op, holders, active) for blk in op.blocks]
    targets = _ct_targets(branches, active)
    sparse = _sparse_targets(branches, targets)
    threaded = _threaded_targets(branches, targets, sparse)
    if threaded:  # again, each branch adding into the running cotangent
        branches = [_branch_adjoint(blk, op, holders, active, threaded) for blk in op.blocks]
        sparse = _sparse_targets(branches, targets)
    dense_ts = [t for t in targets if t.id not in sparse]
    results = [[_branch_ct(br, t) for t in dense_ts] for br in branches]
    through = _passed_through(dense_ts, results, holders)
    results = [_drop(rs, dense_ts, through) for rs in results]
    dense_ts = _drop(dense_ts, dense_ts, through)
    sparse_ts = [t for t in targets if t.id in sparse]
    for i, (br, rs) in enumerate(zip(branches, results)):
        rs += [v for t in sparse_ts for v in _parts_in_branch(br.builder, sparse[t.id], i)]
    new_op, res_outs = _augmented_cond(op, branches, results)

    def pullback(b: Builder, cts: dict) -> None:
        b.loc = op.loc
        mapping = {h.id: read_ct_or_zeros(b, cts, v) for h, v in zip(holders, op.outputs) if h is not None}
        for br, outs in zip(branches, res_outs):
            mapping.update({r.id: o for r, o in zip(br.residuals, outs)})
        running = {t.id: _running_ct(b, cts, t) for t in dense_ts if t.id in threaded}
        mapping.update({threaded[tid].id: ct for tid, ct in running.items()})
        blocks = []
        for br, rs in zip(branches, results):
            m = dict(mapping)
            ops = clone_ops(br.builder.ops, m)
            blocks.append(Block([], ops, [m.get(v.id, v) for v in rs]))
        outs = [Value(t.dtype, t.shape) for t in dense_ts]
        outs += [Value(v.dtype, v.shape) for v in results[0][len(dense_ts):]]
        b.ops.append(rebuilt(op, inputs=(op.inputs[0],), outputs=tuple(outs), attrs=op.attrs, blocks=tuple(blocks)))
        for t, ct in zip(dense_ts, outs):
            if t.id in running and cts.get(t.id) is running[t.id]:
                cts[t.id] = ct  # (the branches added into it)
            else:
                accumulate(b, cts, t, ct)
        rest = outs[len(dense_ts):]
        for t in sparse_ts:
            accumulate(b, cts, t, _merged_ct(t, sparse[t.id], rest))
        for t, h in through.items():
            accumulate(b, cts, t, mapping[h.id])

    return [new_op], pullback


def _sparse_targets(branches: list[BranchAdjoint], targets: list[Value]) -> dict:
    return {t.id: ps for t in targets if (ps := _merged_parts([br.cts.get(t.id) for br in branches])) is not None}


def _threaded_targets(branches: list[BranchAdjoint], targets: list[Value], sparse: dict) -> dict:
    """Array targets with a dense cotangent in one branch and none, or a
    sparse one, in another (an inner loop in one arm): the cond then takes
    the running cotangent and each branch yields it with its own added (no
    zeros of the whole array in a branch that does not touch it, per step
    of an enclosing loop). Target id -> the running cotangent's placeholder."""
    threaded = {}
    for t in targets:
        cts = [br.cts.get(t.id) for br in branches]
        if t.id not in sparse and t.ndim and any(not isinstance(c, Value) for c in cts):
            threaded[t.id] = Value(t.dtype, t.shape)
    return threaded


# (a target's cotangent that is sparse, or zero, in every branch leaves the cond sparse: the cond
# yields the branch's parts, their index and update values, with zeros at index 0 for the parts that
# another branch makes; so a loop whose body branches adds O(1) into its accumulator per step, not a
# dense zeros-plus-update of the whole array, O(size) (session-45 helper G). Parts of the same form in
# different branches share one slot: one branch runs.)
@dataclass
class Slot:
    form: tuple
    made: dict  # branch index -> its part in this slot


def _part_form(p) -> tuple:
    vals = _part_values(p)
    return (type(p), getattr(p, "axis", None)) + tuple((v.dtype, tuple(v.shape)) for v in vals)


def _merged_parts(cts: list) -> list[Slot] | None:
    """The slots of the sparse parts of the branches' cotangents of one
    target, or None where one is dense or a part has no zero stand-in."""
    if all(c is None for c in cts) or any(isinstance(c, Value) for c in cts):
        return None
    slots: list[Slot] = []
    for i, c in enumerate(cts):
        for p in sparse_parts(c) if c is not None else ():
            if not _zero_standin_ok(p):
                return None
            form = _part_form(p)
            slot = next((s for s in slots if s.form == form and i not in s.made), None)
            if slot is None:
                slot = Slot(form, {})
                slots.append(slot)
            slot.made[i] = p
    return slots


def _zero_standin_ok(p) -> bool:
    """Can a zero update at index 0 stand for `p` on a path that never made
    it: static shapes, and index 0 inside every indexed axis."""
    if has_dynamic_shape(p.like) or has_dynamic_shape(p.upd):
        return False
    if isinstance(p, SliceCt):
        return all(s.dtype.kind in "iu" and 0 < u <= d for s, u, d in zip(p.starts, p.upd.shape, p.like.shape))
    if isinstance(p, ScatterCt):
        return not has_dynamic_shape(p.idx) and p.idx.dtype.kind in "iu" and p.like.shape[p.axis] > 0
    return False


def _part_values(p) -> list[Value]:
    return [p.upd, *p.starts] if isinstance(p, SliceCt) else [p.idx, p.upd]


def _parts_in_branch(b: Builder, slots: list[Slot], branch: int) -> list[Value]:
    """What branch `branch` yields for the slots: its parts' values, zeros in the others."""
    out: list[Value] = []
    for slot in slots:
        p = slot.made.get(branch)
        out += _part_values(p) if p is not None else [b.zeros(shape, dtype) for dtype, shape in slot.form[2:]]
    return out


def _merged_ct(t: Value, slots: list[Slot], outs: list[Value]):
    """The sparse cotangent of `t` made of the cond's outputs (consumed from `outs`)."""
    made = []
    for slot in slots:
        kind, axis = slot.form[:2]
        k = len(slot.form) - 2
        vals, outs[:k] = outs[:k], []
        made.append(SliceCt(t, vals[0], tuple(vals[1:])) if kind is SliceCt else ScatterCt(t, vals[0], vals[1], axis))
    return made[0] if len(made) == 1 else SparseSum(t, tuple(made))


def _passed_through(targets: list[Value], results: list[list[Value]], holders) -> dict:
    """Targets whose cotangent is, in every branch, one output's cotangent
    unchanged: they need no cond (and a loop carrying them sees them pass)."""
    ids = {h.id for h in holders if h is not None}
    through = {}
    for k, t in enumerate(targets):
        cts = [rs[k] for rs in results]
        if cts[0].id in ids and all(c is cts[0] for c in cts):
            through[t] = cts[0]
    return through


def _drop(values: list, targets: list[Value], through: dict) -> list:
    """`values` (one per target) without the passed-through targets' entries."""
    return [v for v, t in zip(values, targets) if t not in through]


def _branch_adjoint(blk: Block, op: Op, holders, active: set[int], running: dict | None = None) -> BranchAdjoint:
    fwd_ops, pullbacks = transform_ops(blk.ops, active, Options())
    b = Builder(op.loc)
    cts: dict = dict(running or {})
    for r, h in zip(blk.results, holders):
        if h is not None and r.id in active:
            accumulate(b, cts, r, h)
    run_pullbacks(b, pullbacks, cts)
    return BranchAdjoint(fwd_ops, used_values(fwd_ops, blk.results), cts, b, [])


def _ct_targets(branches: list[BranchAdjoint], active: set[int]) -> list[Value]:
    """Outer values that get a cotangent from either branch."""
    found: dict[int, Value] = {}
    for br in branches:
        local = {v.id for o in br.fwd_ops for v in o.outputs}
        for v in br.reads:
            if v.id in br.cts and v.id not in local and v.id in active:
                found.setdefault(v.id, v)
    return list(found.values())


def _branch_ct(br: BranchAdjoint, t: Value) -> Value:
    ct = dense(br.builder, br.cts.get(t.id))
    return ct if ct is not None else br.builder.zeros_like(t)


def _known_here(shape: tuple) -> tuple:
    return tuple(0 if isinstance(d, Dim) else d for d in shape)


def _augmented_cond(op: Op, branches: list[BranchAdjoint], results: list[list[Value]]):
    for br, rs in zip(branches, results):
        local = {v.id for o in br.fwd_ops for v in o.outputs}
        br.residuals = [v for v in used_values(br.builder.ops, rs) if v.id in local]
    new_blocks = []
    for i, (blk, br) in enumerate(zip(op.blocks, branches)):
        zb = Builder(op.loc)
        extra = []
        for j, other in enumerate(branches):
            # (the other branch's residuals are never read on this path; a length only that branch
            # knows, a while loop's trip count, is 0 here: no loop of it ran)
            extra += br.residuals if i == j else [zb.zeros(_known_here(v.shape), v.dtype) for v in other.residuals]
        new_blocks.append(Block([], br.fwd_ops + zb.ops, list(blk.results) + extra))
    res_outs = [[Value(v.dtype, v.shape) for v in br.residuals] for br in branches]
    outs = tuple(op.outputs) + tuple(v for r in res_outs for v in r)
    return rebuilt(op, outputs=outs, attrs=op.attrs, blocks=tuple(new_blocks)), res_outs


REGION_FORWARD = {"for_loop": for_forward, "while_loop": while_forward, "cond": cond_forward}
