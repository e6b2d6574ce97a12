"""Vectorize one for_loop: hoist what does not depend on a recurrence, keep
the recurrence as a scan, and compute everything after it batched.

Invariant: the ops replacing the loop compute the loop's outputs (up to the
rounding of regrouped sums and reductions) and are ordered so that
  pre   ops not depending on a recurrence: batched before the loop;
  loop  the ops the recurrences need (the scan) plus ops that cannot be
        batched (no rule, over the memory budget): a for_loop whose body
        reads pre values per iteration and stacks what later ops need;
  post  ops depending on a recurrence that no recurrence needs: batched after
        the loop from the stacked values;
  sinks maps written into their buffer once, reductions reduced once.
"""
from __future__ import annotations

import os

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from looptrace.ir.affine import const_int, static_bounds
from looptrace.ir.builder import IRBuilder, rebuilt
from looptrace.ir.core import Block, Op, Program, Value, walk
from looptrace.ir.dce import dce, is_pure
from looptrace.ir.primitive import reducer_of
from looptrace.ir.rewrite import substitute
from looptrace.ir.uses import operands, producers, result_uses, use_map, users
from looptrace.ops.batching_helpers import NotBatchable, move_axis
from looptrace.ops.control import trip_count
from looptrace.ops.shape_arith import size_of

from .analysis import Carry, LoopFacts, carries_of, classify_carries, loop_var_name, settle_extreme
from .batch_interpreter import BatchEnv, OverBudget, memory_budget
from .delay import describe as describe_delay_lines
from .delay import split_delay_lines
from .gather_reads import large_gathers
from .masked import identity, is_conditional_term, mask_accumulations
from .bounds import drop_clamps_in_range
from .regroup import regroup_sums
from .row_writes import merge_row_writes
from .select import if_convert, reads_in_bounds
from .simplify import forward, hoist_invariants, merge_checks, promote_blocks
from .dead_reads import checks_of


@dataclass
class Plan:
    pre: list[Op]
    loop: list[Op]
    post: list[Op]
    rec: list[Carry]
    forced: dict[int, str] = field(default_factory=dict)


@dataclass
class LoopJob:
    """One counted loop on its way through the per-loop steps (the list is in
    looptrace/pipeline.py): the loop, the block holding it, and what the steps
    learn about it. A step sets `done` when the loop needs no further step."""

    loop: Op
    parent: Block
    program: Program
    bounds: tuple[int, int, int] | None = None
    n: int = 0
    facts: LoopFacts | None = None
    carries: list[Carry] = field(default_factory=list)
    delay_lines: list = field(default_factory=list)
    # sends a loop this job split off through the whole step sequence (the driver's)
    vectorize_loop: Callable[..., None] | None = None
    # [lo, hi] of the index of each counted loop around this one (static bounds)
    outer: dict = field(default_factory=dict)
    done: bool = False

    def __post_init__(self) -> None:
        self.bounds = static_bounds(self.loop) if self.loop.prim.name == "for_loop" else None
        if self.bounds is not None:
            self.n = trip_count(*self.bounds)


def simplify(job: LoopJob) -> None:
    """Forward stores to loads, drop dead ops, move loop-invariant ops out (exact)."""
    start, _, step = job.bounds if job.bounds is not None else (0, 0, 1)
    (body,) = job.loop.blocks
    hoist_invariants(job.loop, job.parent.ops)
    for _ in range(8):
        changed = forward(body, start, step)
        body.ops = dce(body, regions=False, checks=checks_of).ops
        if not changed:
            break
    hoist_invariants(job.loop, job.parent.ops)


def zero_trips(job: LoopJob) -> None:
    """A loop of no iterations (known while tracing, `range(1, n)` at n = 1):
    its carries are their initial values and its stacked outputs empty;
    nothing of its body runs, so nothing may be computed from it (a read the
    batched body would make before a broadcast to zero rows raises where the
    plain function reads nothing)."""
    if job.bounds is None or job.n != 0:
        return
    if any(not isinstance(d, int) for v in job.loop.outputs for d in v.shape):
        return  # (a list grown for a run-time count: its length is the loop's business)
    loop, (body,) = job.loop, job.loop.blocks
    n_carry = len(body.args) - 1
    inits = loop.inputs[3:]
    b = IRBuilder(loop.loc)
    mapping: dict[int, Value] = {}
    for k, out in enumerate(loop.outputs):
        if k < n_carry:
            mapping[out.id] = inits[k]
        else:
            mapping[out.id] = b.op("broadcast_to", b.const(np.zeros((), out.dtype)), shape=tuple(out.shape))
    at = job.parent.ops.index(loop)
    job.parent.ops[at:at + 1] = b.ops
    substitute(job.parent, mapping)
    info = loop.attrs.get("loop")
    if info is not None:
        info.kind, info.reason = "vectorized", "it runs no iteration: its variables keep their values"
    job.done = True


def traced_trip_count(job: LoopJob) -> None:
    """A loop whose trip count is data stays a loop, unless every carry adds the
    same value each iteration (c + n * value)."""
    if job.bounds is None:
        _traced_trip(job.loop, job.parent)
        job.done = True


def if_convert_body(job: LoopJob) -> None:
    """Effect-free conditionals become selects; conditional writes become masked writes."""
    start, _, step = job.bounds
    if_convert(job.loop, job.n, start, step, job.outer)


def mask_conditional_sums(job: LoopJob) -> None:
    """select(p, acc + f, acc) -> acc + select(p, f, 0): a conditional accumulation is a masked reduction."""
    mask_accumulations(job.loop.blocks[0], payloads=bool(job.outer))


def induction_variables(job: LoopJob) -> None:
    """An integer carried by a constant step each iteration (`out[k] = ...;
    k += 1`) read in the body: each read is init + c * (iterations so far),
    computed from the loop index (exact in integers, wrapping as the sums do),
    so what it indexes is affine in the index (a map), and the carry itself
    a sum of constants."""
    start, _, step = job.bounds
    (body,) = job.loop.blocks
    defs, uses = producers(body), users(body)
    outer = {v.id: op for op in job.parent.ops for v in op.outputs}  # (a hoisted negative(2))
    i = body.args[0]
    for k, arg in enumerate(body.args[1:]):
        res = body.results[k]
        upd = defs.get(res.id)
        if arg.shape != () or arg.dtype != np.int64 or upd is None or res.dtype != arg.dtype \
                or upd.prim.name not in ("add", "subtract"):
            continue
        x, y = upd.inputs
        c = _const_step(y, defs, outer) if x.id == arg.id else \
            _const_step(x, defs, outer) if y.id == arg.id and upd.prim.name == "add" else None
        readers = [u for u in uses.get(arg.id, ()) if u is not upd]
        if c is None or not readers or result_uses(body, arg):
            continue
        c = -c if upd.prim.name == "subtract" else c
        b = IRBuilder(job.loop.loc)
        t = b.op("subtract", i, b.const(np.int64(start))) if start else i  # (an int64 k: exact, wraps alike)
        if step != 1:
            t = b.op("floor_divide", t, b.const(np.int64(step)))
        init = job.loop.inputs[3 + k]
        total = b.op("multiply", t, b.const(np.int64(c)))
        if init.dtype != np.int64:
            continue
        value = b.op("add", init, total)
        at = min(body.ops.index(r) for r in readers)
        body.ops[at:at] = b.ops
        for r in readers:
            r.inputs = tuple(value if v.id == arg.id else v for v in r.inputs)
            for blk in r.blocks:  # (a read inside a branch or an inner loop)
                substitute(blk, {arg.id: value})
        defs, uses = producers(body), users(body)


def _const_step(v: Value, defs: dict, outer: dict) -> int | None:
    """The integer constant v is (`k -= 2` became k + negative(2): masked.py)."""
    c = const_int(v)
    op = defs.get(v.id) or outer.get(v.id)
    if c is None and op is not None and op.prim.name == "negative":
        c = const_int(op.inputs[0])
        return None if c is None else -c
    return c


def merge_run_time_checks(job: LoopJob) -> None:
    """check(p) ... check(q) -> check(p, q): batched, the first failing iteration decides."""
    if job.bounds is None:
        merge_checks(job.loop.blocks[0])
        return
    start, _, step = job.bounds
    merge_checks(job.loop.blocks[0], reads_in_bounds(job.loop, job.n, start, step, job.outer))


def promote(job: LoopJob) -> None:
    """A block read and written at one loop-invariant position becomes a carry."""
    start, _, step = job.bounds
    if promote_blocks(job.loop, job.parent.ops, start, step):
        simplify(job)  # (the reshapes around a block carried as a 0-d value)
        if mask_accumulations(job.loop.blocks[0], payloads=bool(job.outer)):  # `if c: acc[i] += f`: a sum now
            simplify(job)


def hoist(job: LoopJob) -> None:
    """Move ops that read nothing defined in the loop before it."""
    hoist_invariants(job.loop, job.parent.ops)


def loop_facts(job: LoopJob) -> LoopFacts:
    """The loop's users, producers and affine values, built once for the steps
    from drop_clamps to classify: each of them refreshes the facts where it
    changes the loop (building them for each step was most of what the steps
    cost on a loop they leave as it is)."""
    if job.facts is None or job.facts.op is not job.loop or job.facts.body is not job.loop.blocks[0]:
        start, _, step = job.bounds
        job.facts = LoopFacts(job.loop, job.n, start, step)
    return job.facts


def split_delays(job: LoopJob) -> None:
    """A buffer written from values that do not read it, and read at other
    offsets (a delay line), is written by a loop of its own (a map)."""
    job.delay_lines = split_delay_lines(job.loop, job.parent, loop_facts(job))
    for line in job.delay_lines:
        job.vectorize_loop(line.writer, job.parent, job.outer)
    if job.delay_lines:
        simplify(job)
        job.facts = None  # (simplify changed the loop: the next step reads it again)


def drop_clamps(job: LoopJob) -> None:
    """min(s, n - k) that the loop's bounds decide is s (bounds.py)."""
    if job.n is not None:
        drop_clamps_in_range(job.loop, loop_facts(job), job.outer)


def merge_rows(job: LoopJob) -> None:
    """out[i, 0] = a; out[i, 1] = b: one write of the row block (row_writes.py)."""
    if job.n is not None:
        merge_row_writes(job.loop, loop_facts(job))


def classify(job: LoopJob) -> None:
    """Give each carried value its kind: map, reduction, scatter-add, stream, recurrence."""
    job.facts = loop_facts(job)
    job.facts.outer_defs = {v.id: op for op in job.parent.ops for v in op.outputs}  # (analysis._offset)
    job.facts.outer = job.outer  # (the ranges of the loops' indices around it: reads_in_bounds)
    job.carries = carries_of(job.loop)
    classify_carries(job.facts, job.carries)


def regroup(job: LoopJob) -> None:
    """Add the recurrence-free terms of a recurrent sum first, so they leave the loop
    (a change of rounding: LOOPTRACE_NO_REGROUP=1 keeps the source's order)."""
    if os.environ.get("LOOPTRACE_NO_REGROUP"):
        return
    rec = [c for c in job.carries if c.kind == "rec"]
    if regroup_sums(job.facts, rec, job.carries):
        job.facts.refresh()
        job.carries = carries_of(job.loop)
        classify_carries(job.facts, job.carries)


def rewrite(job: LoopJob) -> None:
    """Batch what no recurrence needs before the loop, keep the scan, batch the rest after."""
    _rewrite_with_retries(job.loop, job.parent, job.facts, job.carries)
    info = job.loop.attrs.get("loop")
    if job.delay_lines and info is not None:
        info.reason += "; " + describe_delay_lines(job.delay_lines)


def _rewrite_with_retries(loop: Op, parent: Block, facts: LoopFacts, carries: list[Carry]) -> None:
    forced: dict[int, str] = _kept_with_prints(loop, facts)
    for _ in range(len(facts.body.ops) + len(carries) + 2):
        plan = make_plan(facts, carries, forced)
        saved = _snapshot(facts.body)
        try:
            new_ops, mapping = Rewriter(loop, facts, carries, plan, _unread_outputs(loop, parent)).run()
        except NotBatchable as e:
            _restore(saved)
            op = getattr(e, "op", None)
            if op is None or id(op) in forced:
                raise
            forced[id(op)] = str(e)
            continue
        at = parent.ops.index(loop)
        parent.ops[at:at + 1] = new_ops
        substitute(parent, mapping)
        _report(loop, facts, carries, plan)
        return
    raise AssertionError("vectorizer: no plan converged")


def _kept_with_prints(loop: Op, facts: LoopFacts) -> dict[int, str]:
    """In a loop that prints (ops/io.py), what may raise stays in the loop,
    raising after the prints of the iterations before, as the plain function
    does (`print(i); s += x[ix[i]]`: batched, the read would raise first)."""
    body = facts.body
    if not any(o.prim.name == "print" for o in walk(body)):
        return {}
    in_bounds = (reads_in_bounds(loop, facts.n, facts.start, facts.step, getattr(facts, "outer", None))
                 if facts.n is not None else (lambda op: False))

    def raising(op: Op) -> bool:
        inner = [op, *(o for b in op.blocks for o in walk(b))]
        return any(o.prim.raises or o.prim.may_raise and not in_bounds(o) for o in inner)

    return {id(op): f"it may raise where the loop prints (line {op.loc.line})" for op in body.ops if raising(op)}


def _unread_outputs(loop: Op, parent: Block) -> set[int]:
    """Ids of the loop's outputs nothing after it reads (`x, z = y[0], y[1]`
    in the body: Python keeps x and z after the loop, the function may not
    read them)."""
    read = use_map(parent)
    return {v.id for v in loop.outputs if v.id not in read}


def _snapshot(body: Block) -> list:
    """The inputs of every op in `body` (the scan substitutes into them)."""
    return [(op, op.inputs) for op in walk(body)] + [(b, list(b.results)) for b in _blocks(body)]


def _blocks(body: Block) -> list[Block]:
    return [body] + [b for op in walk(body) for b in op.blocks]


def _restore(saved: list) -> None:
    for obj, val in saved:
        if isinstance(obj, Block):
            obj.results = val
        else:
            obj.inputs = val


# --- planning -----------------------------------------------------------------------------
def make_plan(facts: LoopFacts, carries: list[Carry], forced: dict[int, str]) -> Plan:
    while True:
        plan = _plan_once(facts, carries, forced)
        demoted = _demote(facts, carries, plan)
        if not demoted:
            return plan


def _sinks(carries: list[Carry]) -> set[int]:
    s: set[int] = set()
    for c in carries:
        if c.kind == "map":
            s.add(id(c.write))
        elif c.kind in ("reduction", "scatter"):
            s.update(id(op) for op in c.chain)
        elif c.kind in ("argext", "argany"):
            s.update(id(op) for op in c.extreme.sinks)
    return s


def _plan_once(facts: LoopFacts, carries: list[Carry], forced: dict[int, str]) -> Plan:
    body = facts.body
    rec = [c for c in carries if c.kind == "rec"]
    sinks = _sinks(carries)
    ops = [op for op in body.ops if id(op) not in sinks]
    hot = {c.arg.id for c in rec}
    forced_all: set[int] = set()
    for op in ops:
        if id(op) in forced or any(id(p) in forced_all for p in _producers(facts, op)):
            forced_all.add(id(op))
        if id(op) in forced_all or any(v.id in hot for v in operands(op)):
            hot.update(v.id for v in op.outputs)
    # a check (no outputs) on a value of the recurrence runs in the scan, at its iteration
    checks = {id(op) for op in ops if not op.outputs and any(v.id in hot for v in operands(op))}
    roots = [c.result for c in rec] + [v for op in ops if id(op) in forced_all | checks for v in operands(op)]
    in_loop = _backward(facts, roots, hot) | forced_all | checks
    pre = [op for op in ops if id(op) not in checks and not any(v.id in hot for v in op.outputs)]
    if rec:
        in_loop |= _scalar_feeders(facts, pre, in_loop)
        pre = [op for op in pre if id(op) not in in_loop]
        in_loop |= _few_trip_feeders(facts, pre, in_loop)
        pre = [op for op in pre if id(op) not in in_loop]
    if forced_all or rec:
        in_loop |= _large_cheap_feeders(facts, pre, in_loop)
        pre = [op for op in pre if id(op) not in in_loop]
        in_loop |= large_gathers(facts, pre, in_loop)  # (read per iteration, not stacked: gather_reads.py)
        pre = [op for op in pre if id(op) not in in_loop]
    post = [op for op in ops if id(op) not in in_loop and any(v.id in hot for v in op.outputs)]
    if rec:
        in_loop |= _partial_accesses(facts, post, in_loop, {c.arg.id for c in rec})
        post = [op for op in post if id(op) not in in_loop]
        in_loop |= _shrinking_post(facts, post, in_loop, {c.arg.id for c in rec})
        post = [op for op in post if id(op) not in in_loop]
    loop_ops = [op for op in ops if id(op) in in_loop]
    return Plan(pre, loop_ops, post, rec, dict(forced))


# ops that read or write part of their first operand, and views of the whole of it
_PARTIAL_ACCESSES = frozenset({"dynamic_slice", "slice", "gather", "dynamic_prefix",
                               "dynamic_update_slice", "update_slice", "scatter"})
_WHOLE_VIEWS = frozenset({"reshape", "transpose", "broadcast_to"})


def _partial_accesses(facts: LoopFacts, post: list[Op], in_loop: set[int], rec_args: set[int]) -> set[int]:
    """Post ops that read or update part of an array the scan computes (a
    carried array, or the version of it an iteration writes), with the post
    ops they read: batched after the scan, that array would be stacked for
    every iteration, a copy of the whole carried array per iteration for an
    element's read (`dp[i + 1, j + 1]` read after its write, under an `if`:
    a (trips, *dp.shape) history, quadratic in time and memory); in the scan,
    each costs what the plain loop's access costs, and only what it reads
    is stacked. Views of the whole array (reshapes) on the way count as the
    array."""
    if not post:
        return set()
    post_ops = {v.id: op for op in post for v in op.outputs}
    backed = {v.id for op in facts.body.ops if id(op) in in_loop for v in op.outputs} | rec_args
    moved: set[int] = set()

    def move(op: Op) -> None:
        stack = [op]
        while stack:
            o = stack.pop()
            if id(o) in moved:
                continue
            moved.add(id(o))
            backed.update(v.id for v in o.outputs)
            stack.extend(post_ops[v.id] for v in operands(o) if v.id in post_ops)

    for op in post:
        if id(op) in moved or not op.inputs:
            continue
        x = op.inputs[0]
        if x.id not in backed or facts.invariant(x) or not x.shape:
            continue
        name = op.prim.name
        if name in _WHOLE_VIEWS and len(op.outputs) == 1:
            if size_of(op.out.shape) == size_of(x.shape):  # (not a broadcast that grows it)
                backed.add(op.out.id)
            continue
        if name in _PARTIAL_ACCESSES:
            move(op)
    return moved


def _shrinking_post(facts: LoopFacts, post: list[Op], in_loop: set[int], rec_args: set[int]) -> set[int]:
    """Post ops that reduce a large value of the scan to a small one, and the
    cheap elementwise ops between: batched after the scan, the large value
    is stacked for every iteration, written once and read back; in the scan,
    it is reduced while the iteration's values are in cache, and only the
    small result is stacked. brownian_trap's `r2[t] = np.mean(np.sum(x * x,
    axis=1))` over a (2000, 3) state for 1000 steps stacked 48 MB of `x`.
    Large: stacked over the iterations, more than STACKED_FEEDER_BYTES."""
    if not facts.n:
        return set()

    def stacked(v: Value) -> int:
        return facts.n * size_of(v.shape) * np.dtype(v.dtype).itemsize if isinstance(v.dtype, np.dtype) else 0

    loop_vals = {v.id for op in facts.body.ops if id(op) in in_loop for v in op.outputs} | rec_args
    excluded: set[int] = set()
    while True:
        moved: set[int] = set()
        avail = set(loop_vals)
        heavy: set[int] = set()  # values computed in the scan from a large one (a mask of it)
        for op in post:
            if id(op) in excluded or len(op.outputs) != 1 or op.blocks or op.prim.effectful or op.prim.raises:
                continue
            view = op.prim.name in _WHOLE_VIEWS and size_of(op.out.shape) == size_of(op.inputs[0].shape)
            if not (op.prim.elementwise and op.prim.cheap) and op.prim.family != "reduce" and not view:
                continue
            ins = [v for v in operands(op) if not facts.invariant(v)]
            if not ins or not all(v.id in avail for v in ins):
                continue
            if not view and not any(stacked(v) > STACKED_FEEDER_BYTES or v.id in heavy for v in ins):
                continue
            moved.add(id(op))
            avail.add(op.out.id)
            if not view and op.prim.family != "reduce":
                heavy.add(op.out.id)  # (`(x == m) & keep` before an argmax: each is stacked as large)
        # a moved op whose large result is still read after the scan would be stacked all the same
        dropped = {id(op) for op in post if id(op) in moved and stacked(op.out) > STACKED_FEEDER_BYTES
                   and (facts.n_uses(op.out) != len(facts.users.get(op.out.id, ()))
                        or any(id(u) not in moved and id(u) not in in_loop for u in facts.users.get(op.out.id, ())))}
        if not dropped:
            return {m for m in moved if _reduces_below(facts, m, moved, post, stacked)}
        excluded |= dropped


def _reduces_below(facts: LoopFacts, op_id: int, moved: set[int], post: list[Op], stacked) -> bool:
    """Does the moved op feed (or is it) a reduction among the moved ops?"""
    by_id = {id(op): op for op in post}
    stack, seen = [by_id[op_id]], set()
    while stack:
        op = stack.pop()
        if id(op) in seen:
            continue
        seen.add(id(op))
        if op.prim.family == "reduce":
            return True
        stack.extend(u for u in facts.users.get(op.out.id, ()) if id(u) in moved)
    return False


def _scalar_feeders(facts: LoopFacts, pre: list[Op], in_loop: set[int]) -> set[int]:
    """Pre ops that only feed the scan and cost about an instruction per
    iteration (an element read at an affine position, cheap scalar
    arithmetic): batched, each would be a pass over memory and an array the
    scan reads back; in the scan they run beside the recurrence's latency
    chain for free. `x[i] > x[i - 1]` of a running count stays in its scan."""
    moved: set[int] = set()
    for op in reversed(pre):
        if not _per_iteration_cheap(facts, op):
            continue
        outs = op.outputs
        if any(facts.n_uses(v) != len(facts.users.get(v.id, ())) for v in outs):
            continue  # a result of the body (a map's write, a stacked output)
        users = [u for v in outs for u in facts.users.get(v.id, ())]
        if users and all(id(u) in in_loop or id(u) in moved for u in users):
            moved.add(id(op))
    return moved


# A scan of at most this many iterations keeps the scalar work that feeds it in its body.
FEW_TRIPS = 16


def _few_trip_feeders(facts: LoopFacts, pre: list[Op], in_loop: set[int]) -> set[int]:
    """Pre ops of a scan of few iterations (`for d in range(4)` over a grid's
    neighbours) that make one element per iteration, and the checks on
    them, read only by the scan or by each other: batched, each is an array
    of a few elements, allocated, written and read back, and inside a loop
    around the scan that is every step of it (grid_bfs_shortest: four
    4-element temporaries per node, 6.5 ms against Numba's 1.1); in the scan
    each is an instruction or two. Few iterations leave batching nothing to
    win."""
    if not facts.n or facts.n > FEW_TRIPS:
        return set()
    moved: set[int] = set()
    for op in reversed(pre):
        if op.blocks or op.prim.effectful and op.prim.name != "check":
            continue
        if op.prim.name != "check" and (len(op.outputs) != 1 or not _one_element(op.out.shape)):
            continue
        outs = op.outputs
        if any(facts.n_uses(v) != len(facts.users.get(v.id, ())) for v in outs):
            continue  # a result of the body (a map's write, a stacked output)
        if all(id(u) in in_loop or id(u) in moved for v in outs for u in facts.users.get(v.id, ())):
            moved.add(id(op))
    return moved


# A cheap elementwise value of the body read only by ops that stay in the loop stays there too
# when stacked for all iterations it would take more than this many bytes.
STACKED_FEEDER_BYTES = 1 << 22


def _large_cheap_feeders(facts: LoopFacts, pre: list[Op], in_loop: set[int]) -> set[int]:
    """Pre ops of cheap elementwise work (a comparison, a logical_and) read
    only by ops kept in the loop: batched, each would be stacked for every
    iteration, written once and read back once per iteration; in the loop,
    its element is computed where it is read. They move when stacked they
    would pass the memory budget, or whatever their size when they read no
    memory of their own iteration (positions compared with the loop index:
    the mask of `L[i, :i] @ x[:i]`, which npbench's trisolv stacked as a
    (2000, 2000) array for a scan that reads one row of it per iteration).
    npbench's azimint_naive: its (1000, 400000) mask, 400 MB, was batched for
    a loop whose masked sums stayed in it (304 ms, NumPy 193)."""
    if not facts.n:
        return set()
    candidates = {id(op) for op in pre
                  if len(op.outputs) == 1 and not op.blocks and op.prim.elementwise and op.prim.cheap and op.out.ndim
                  and not (op.prim.effectful or op.prim.raises)
                  and facts.n_uses(op.out) == len(facts.users.get(op.out.id, ()))}  # not a result of the body
    positional: set[int] = set()  # candidates whose arrays are invariant or positional themselves
    for op in pre:
        if id(op) in candidates and all(not v.ndim or facts.invariant(v) or id(facts.defs.get(v.id)) in positional
                                        for v in operands(op)):
            positional.add(id(op))
    moved: set[int] = set()
    for op in reversed(pre):
        if id(op) not in candidates:
            continue
        if id(op) not in positional and \
                facts.n * size_of(op.out.shape) * np.dtype(op.out.dtype).itemsize <= STACKED_FEEDER_BYTES:
            continue
        users = facts.users.get(op.out.id, ())
        if users and all(id(u) in in_loop or id(u) in moved for u in users):
            moved.add(id(op))
    return moved


def _one_element(shape: tuple) -> bool:
    """A static shape of one element (a length only the run knows, a Dim, may be anything)."""
    return all(isinstance(d, int) for d in shape) and size_of(shape) == 1


def _per_iteration_cheap(facts: LoopFacts, op: Op) -> bool:
    if len(op.outputs) != 1 or op.blocks or op.prim.effectful or op.prim.raises:
        return False
    out = op.out
    name = op.prim.name
    if name == "dynamic_slice":
        return _one_element(out.shape) and all(facts.invariant(s) or s.id in facts.aff for s in op.inputs[1:])
    if name == "reshape":
        return out.shape == () and _one_element(op.inputs[0].shape)
    return out.shape == () and op.prim.elementwise and op.prim.cheap


def _producers(facts: LoopFacts, op: Op) -> list[Op]:
    return [facts.defs[v.id] for v in operands(op) if facts.defs.get(v.id) is not None]


def _backward(facts: LoopFacts, roots: list[Value], hot: set[int]) -> set[int]:
    """Ops the roots need that depend on a recurrence, plus affine index ops."""
    keep: set[int] = set()
    stack = list(roots)
    while stack:
        v = stack.pop()
        op = facts.defs.get(v.id)
        if op is None or id(op) in keep:
            continue
        if v.id in hot or v.id in facts.aff:
            keep.add(id(op))
            stack.extend(operands(op))
    return keep


def _summed_einsum_terms(facts: LoopFacts, carries: list[Carry]) -> set[int]:
    """Terms of add-reductions made by an einsum used nowhere else: summing
    the batched einsum over the batch axis folds into the einsum itself."""
    uses: dict[int, int] = {}
    for op in facts.body.ops:
        for v in operands(op):
            uses[v.id] = uses.get(v.id, 0) + 1
    out = set()
    for c in carries:
        if c.kind != "reduction" or c.monoid != "add":
            continue
        for t in c.terms:
            op = facts.defs.get(t.id)
            if (op is not None and op.prim.name == "einsum" and uses.get(t.id, 0) <= 1
                    and t.dtype.kind in "fc" and t.dtype == c.arg.dtype):  # what fold.py folds
                out.add(t.id)
    return out


def _demote(facts: LoopFacts, carries: list[Carry], plan: Plan) -> bool:
    """Carries whose batched form would need something the loop keeps become
    recurrences: a draw kept in the loop, a reduction term too large to stack."""
    in_loop = {v.id for op in plan.loop for v in op.outputs}
    budget = memory_budget()
    folded = _summed_einsum_terms(facts, carries)
    changed = False
    for c in carries:
        if c.kind in ("argext", "argany") and c.extreme.best.kind != "reduction":
            settle_extreme(c.extreme, "its running extreme is a recurrence")
            changed = True
            continue
        if c.kind == "rng" and id(c.draw) in {id(op) for op in plan.loop}:
            c.kind, c.why, changed = "rec", "its draws stay in the loop", True
        elif c.kind == "reduction" and any(
                t.id in in_loop and t.id not in folded and facts.n * size_of(t.shape) * t.dtype.itemsize > budget
                for t in c.terms):
            c.kind, c.why, changed = "rec", "stacking its terms exceeds the memory budget", True
        elif c.kind == "reduction" and _reduced_in_scan(facts, c, plan, in_loop):
            c.kind, c.why, changed = "rec", "is reduced in the scan, from values the scan computes", True
    return changed


# monoids cheap enough to carry beside a scan's own recurrence
_SCAN_MONOIDS = frozenset({"add", "multiply", "maximum", "minimum", "logical_and", "logical_or"})


def _reduced_in_scan(facts: LoopFacts, c: Carry, plan: Plan, in_loop: set[int]) -> bool:
    """A 0-d reduction whose terms come from the scan by cheap scalar
    arithmetic (max_drawdown's `if dd > worst`, counted or typed): reduced
    after the scan, each term is stacked for every iteration, written once,
    read back and reduced in passes of their own; carried in the scan, it is
    an instruction per iteration beside the recurrence's latency chain. Its
    order is the plain function's."""
    if not plan.rec or c.arg.shape != () or c.monoid not in _SCAN_MONOIDS:
        return False
    post = {v.id: op for op in plan.post for v in op.outputs}
    hot_terms = 0
    for t in c.terms:
        if t.id in in_loop:
            hot_terms += 1
            continue
        if t.id not in post:
            continue
        hot_terms += 1
        stack, seen = [t], set()
        while stack:
            v = stack.pop()
            op = post.get(v.id)
            if op is None or id(op) in seen:
                continue
            seen.add(id(op))
            if not _per_iteration_cheap(facts, op):
                return False
            stack.extend(operands(op))
    return hot_terms > 0


# --- rewriting ----------------------------------------------------------------------------
class Rewriter:
    """Emits pre ops, the residual scan, post ops and the sinks."""

    def __init__(self, loop: Op, facts: LoopFacts, carries: list[Carry], plan: Plan,
                 unread: set[int] = frozenset()):
        self.loop, self.facts, self.carries, self.plan = loop, facts, carries, plan
        self.unread = unread  # ids of the loop's outputs nothing reads: a last value is not stacked
        self.n = facts.n
        self.b = IRBuilder(loop.loc, axis_size=self.n)
        self.env = BatchEnv(self.b, self.n, facts.aff)
        self.env.folded = _summed_einsum_terms(facts, carries)
        self.mapping: dict[int, Value] = {}

    def run(self) -> tuple[list[Op], dict[int, Value]]:
        for c in self.carries:
            if c.kind in ("map", "pass"):  # (a carry the body yields unchanged holds its init throughout)
                self.env.bind(c.arg, c.init, None)
            elif c.kind == "rng":
                self.env.bind(c.arg, c.init, "stream")
        self._emit_all(self.plan.pre)
        if self.plan.loop or self.plan.rec:
            self._scan()
        self._emit_all(self.plan.post)
        self._sinks()
        return self.b.ops, self.mapping

    def _emit_all(self, ops: list[Op]) -> None:
        for op in ops:
            try:
                self.env.emit(op)
            except NotBatchable as e:
                e.op = op  # type: ignore[attr-defined]
                raise

    # the residual scan ------------------------------------------------------------------------
    def _scan(self) -> None:
        body = self.facts.body
        i = body.args[0]
        loop_vals = {v.id for op in self.plan.loop for v in op.outputs} | {c.arg.id for c in self.plan.rec}
        loop_vals.add(i.id)
        stacked = self._stacked_values(loop_vals)
        self._check_stacked_budget(stacked)
        reads = IRBuilder(self.loop.loc)
        k = self._iteration_index(reads, i)
        # a carry the body yields unchanged is its init at every iteration (read in the scan's
        # ops, it would otherwise be an argument of the old loop left undefined)
        local: dict[int, Value] = {c.arg.id: c.init for c in self.carries if c.kind == "pass"}
        for op in self.plan.loop:
            for v in operands(op):
                if v.id not in loop_vals and not v.is_const and v.id not in local:
                    local[v.id] = self._read_in_loop(reads, v, k)
        for c in self.plan.rec:
            if c.result.id not in loop_vals and not c.result.is_const and c.result.id not in local:
                local[c.result.id] = self._read_in_loop(reads, c.result, k)
        local = {key: val for key, val in local.items() if val is not None}
        around = list(dict.fromkeys(getattr(self.facts, "outer_defs", {}).values()))
        in_bounds = reads_in_bounds(self.loop, self.n, self.facts.start, self.facts.step,
                                    getattr(self.facts, "outer", None), around)
        new_body = Block([i, *(c.arg for c in self.plan.rec)],
                         reads.ops + reads_before_writes(list(self.plan.loop), in_bounds),
                         [c.result for c in self.plan.rec] + stacked)
        substitute(new_body, local)
        outs = [c.out for c in self.plan.rec] + [Value(v.dtype, (self.n, *v.shape)) for v in stacked]
        inputs = (*self.loop.inputs[:3], *(c.init for c in self.plan.rec))
        scan = rebuilt(self.loop, inputs=inputs, outputs=tuple(outs), attrs=self.loop.attrs, blocks=(new_body,))
        self.b.ops.append(scan)
        for v, w in zip(stacked, outs[len(self.plan.rec):]):
            self.env.bind(v, w, 0)

    def _check_stacked_budget(self, stacked: list[Value]) -> None:
        """A value stacked for every iteration that would pass the memory
        budget (a carried array, n copies of it) is not stacked: the first op
        after the scan that reads it runs in the scan instead (the retry
        keeps it there, `_rewrite_with_retries`). Values the loop's results
        are made of (a map's rows, a stacked output) are the user's own."""
        budget = self.env.budget
        for v in stacked:
            if not isinstance(v.dtype, np.dtype) or not all(isinstance(d, int) for d in v.shape):
                continue
            nbytes = self.n * size_of(v.shape) * v.dtype.itemsize
            if nbytes <= budget:
                continue
            reader = next((op for op in self.plan.post if any(u.id == v.id for u in operands(op))), None)
            if reader is not None:
                raise OverBudget(reader, nbytes, budget)

    def _stacked_values(self, loop_vals: set[int]) -> list[Value]:
        wanted: list[Value] = []
        for op in self.plan.post:
            wanted.extend(operands(op))
        for c in self.carries:
            if c.kind == "map":
                wanted.append(c.write.inputs[1])
            elif c.kind == "reduction":
                wanted.extend(c.terms)
            elif c.kind == "scatter":
                wanted.extend([*c.terms, c.write.inputs[2]])
            elif c.kind == "last" and c.out.id not in self.unread:
                wanted.append(c.result)  # (one nothing reads after the loop: no row per iteration)
            elif c.kind == "argext":
                g = c.extreme
                wanted.extend(v for v in (g.term, g.keep, self._payload(c)) if v is not None)
            elif c.kind == "argany":
                wanted.extend(v for v in (c.extreme.term, c.extreme.keep) if v is not None)
        n_carry = len(self.carries)
        wanted.extend(self.facts.body.results[n_carry:])
        i = self.facts.body.args[0]
        out, seen = [], set()
        for v in wanted:
            if v.id in loop_vals and v.id not in seen and v.id != i.id and v.id not in self.facts.aff:
                seen.add(v.id)
                out.append(v)
        return out

    def _iteration_index(self, b: IRBuilder, i: Value) -> Value:
        start, step = self.facts.start, self.facts.step
        k = i
        if start != 0:
            k = b.op("subtract", k, b.const(np.int64(start)))
        if step != 1:
            k = b.op("floor_divide", k, b.const(np.int64(step)))
        return k

    def _read_in_loop(self, b: IRBuilder, v: Value, k: Value) -> Value | None:
        if v.id not in self.env.env and v.id not in self.facts.defs:
            return None  # defined outside the loop
        w, d = self.env.get(v)
        if d is None:
            return w
        row = b.op("dynamic_slice", w, k, sizes=(1,))
        return b.op("reshape", row, shape=tuple(v.shape))

    # sinks ---------------------------------------------------------------------------------
    def _sinks(self) -> None:
        for c in self.carries:
            self.b.loc = self.loop.loc
            final = getattr(self, "_final_" + c.kind)(c)
            if final is not None and final.id != c.out.id:
                self.mapping[c.out.id] = final
        n_carry = len(self.carries)
        for y, o in zip(self.facts.body.results[n_carry:], self.loop.outputs[n_carry:]):
            self.mapping[o.id] = self.env.batched(y)

    def _final_rec(self, c: Carry) -> Value | None:
        return None

    def _final_pass(self, c: Carry) -> Value:
        return c.init

    def _final_rng(self, c: Carry) -> Value:
        return self.env.get(c.result)[0]

    def _final_last(self, c: Carry) -> Value | None:
        if self.n == 0:
            return c.init
        if c.out.id in self.unread:
            return None
        w, d = self.env.get(c.result)
        if d is None:
            return w
        row = self.b.op("slice", w, starts=(self.n - 1,), stops=(self.n,), steps=(1,))
        return self.b.op("reshape", row, shape=tuple(c.out.shape))

    def _final_reduction(self, c: Carry) -> Value:
        b = self.b
        if self.n == 0:
            return c.init
        reduced, ties = [], fold_ties(c)
        for t in c.terms:
            tb = self.env.batched(t)
            # a float sum starts from -0.0 (ops/reduce.py): `s = -0.0; s += x[t]` of terms all -0.0 is -0.0
            start = {"from_negative_zero": True} if c.monoid == "add" and tb.dtype.kind == "f" else {}
            r = b.op(reducer_of(c.monoid), tb, axes=(0,), **({"ties": ties} if ties else {}), **start)
            if r.dtype != c.arg.dtype:
                r = b.op("convert", r, dtype=c.arg.dtype)
            reduced.append(r)
        return fold_reduction(b, c, reduced, ties == "first")

    def _final_scatter(self, c: Carry) -> Value:
        """init with f(k) added at row g(k), in iteration order (np.add.at)."""
        b = self.b
        terms = [self.env.batched(t) for t in c.terms]
        total = terms[0]
        for t in terms[1:]:
            total = b.op("add", total, t)
        total = b.op("broadcast_to", total, shape=(self.n, *c.inner.shape))
        rows = b.op("reshape", total, shape=(self.n, *c.init.shape[1:]))
        idx = self.env.batched(c.write.inputs[2])
        b.loc = c.write.loc  # (an index out of range names the line that writes, not the loop's)
        return b.op("scatter", c.init, idx, rows, axis=0, mode="add")

    # a running extreme's payloads and folds ------------------------------------------------
    def _payload(self, c: Carry) -> Value:
        return self.facts.defs[c.result.id].inputs[1]

    def _extreme_facts(self, g) -> dict:
        """Over the batched terms T of the extreme: its value M, `hit` (the
        iterations that reach M), `updated` (did any iteration set a new
        extreme: M beats the initial value), the index where the payload is
        taken (the first hit for `>`, the last for `>=`), and `every` (did
        every iteration set one: the kept terms strictly (or weakly) rising
        from the initial value)."""
        memo = self.__dict__.setdefault("_extremes", {})
        if id(g) in memo:
            return memo[id(g)]
        b, n = self.b, self.n
        higher = g.monoid == "maximum"
        beats = ("greater" if g.strict else "greater_equal") if higher else ("less" if g.strict else "less_equal")
        tb = self.env.batched(g.term)
        # (the fold's own reduction, op for op: a loop around this one sees `cmp(m, best)` beside
        # `best (+) m` and reads them as one running extreme, analysis._extremes; a value of its
        # own, so that where the fold runs in a scan, m is not stacked for the readers after it)
        ties = fold_ties(g.best) if g.best.kind == "reduction" else None
        m = b.op(reducer_of(g.monoid), tb, axes=(0,), **({"ties": ties} if ties else {}))
        hit = b.op("equal", tb, m)
        keep = None
        if g.keep is not None:
            keep = self.env.batched(g.keep)
            hit = b.op("logical_and", hit, keep)
        updated = b.op(beats, m, g.best.init)
        if not g.strict:
            # (m >= init also holds where no iteration is kept and m is the identity; a strict
            # m > init is a kept term, never NaN (analysis._masked_term): one iteration beat init)
            updated = b.op("logical_and", updated, b.op("reduce_any", hit, axes=(0,)))
        if g.strict:
            at = b.op("argmax", hit, axis=0)
        else:
            ramp = b.op("iota", shape=(n,), dtype=np.dtype(np.int64), axis=0)
            at = b.op("reduce_max", b.op("select", hit, ramp, b.const(np.int64(0))), axes=(0,))
        # every iteration sets one: each kept term beats the one before, the first beats the init
        first = b.op("reshape", b.op("slice", tb, starts=(0,), stops=(1,), steps=(1,)), shape=())
        every = b.op(beats, first, g.best.init)
        if n > 1:
            later = b.op("slice", tb, starts=(1,), stops=(n,), steps=(1,))
            earlier = b.op("slice", tb, starts=(0,), stops=(n - 1,), steps=(1,))
            every = b.op("logical_and", every, b.op("reduce_all", b.op(beats, later, earlier), axes=(0,)))
        if keep is not None:
            every = b.op("logical_and", every, b.op("reduce_all", keep, axes=(0,)))
        memo[id(g)] = out = {"updated": updated, "at": at, "every": every}
        return out

    def _final_argext(self, c: Carry) -> Value:
        """P at the iteration that set the final extreme, if any did."""
        if self.n == 0:
            return c.init
        b, ex = self.b, self._extreme_facts(c.extreme)
        p = self._payload(c)
        if p.id in self.facts.aff:
            a, b0 = self.facts.aff[p.id]
            taken = b.op("add", b.op("multiply", ex["at"], b.const(np.int64(a))), b.const(np.int64(b0)))
            if taken.dtype != p.dtype:
                taken = b.op("convert", taken, dtype=p.dtype)
        else:
            pb = self.env.batched(p)
            zeros = [b.const(np.int64(0))] * len(p.shape)
            row = b.op("dynamic_slice", pb, ex["at"], *zeros, sizes=(1, *p.shape))
            taken = b.op("reshape", row, shape=tuple(p.shape))
        return b.op("select", ex["updated"], taken, c.init)

    def _final_argany(self, c: Carry) -> Value:
        """init (+) g(True) if any iteration set a new extreme, (+) g(False)
        if some iteration did not: the fold's term g(pred) evaluated at both."""
        if self.n == 0:
            return c.init
        b, g, ex = self.b, c.extreme, self._extreme_facts(c.extreme)
        fold = self.facts.defs[c.result.id]
        term = next(v for v in fold.inputs if v.id != c.arg.id)
        acc = c.init
        for value in (True, False):
            got = self._at_pred(term, g.pred, b.const(np.bool_(value)), {})
            if _is_identity(got, fold.prim.name):
                continue  # (`select(pred, 1, INT_MIN)` adds nothing where pred is false)
            happened = ex["updated"] if value else b.op("logical_not", ex["every"])
            acc = b.op("select", happened, b.op(fold.prim.name, acc, got), acc)
        return acc

    def _at_pred(self, v: Value, pred: Value, const: Value, memo: dict) -> Value:
        """v recomputed with pred replaced by a constant (the ops between read
        nothing else of the loop: masked.pred_readers)."""
        if v.id == pred.id:
            return const
        if v.id in memo:
            return memo[v.id]
        op = self.facts.defs.get(v.id)
        if op is None:
            return v
        ins = [self._at_pred(x, pred, const, memo) for x in op.inputs]
        if op.prim.name == "select" and ins[0].is_const and ins[0].shape == ():
            out = ins[1] if bool(ins[0].const) else ins[2]  # (the branch a constant picks)
            if out.dtype == v.dtype and tuple(out.shape) == tuple(v.shape):
                memo[v.id] = out
                return out
        memo[v.id] = out = self.b.op(op.prim, *ins, **op.attrs)
        return out

    def _final_map(self, c: Carry) -> Value:
        if self.n == 0:
            return c.init
        self.b.loc = c.write.loc
        return write_map(self.b, c, self.env.batched(c.write.inputs[1]), self.facts, self.n)


def _is_identity(v: Value, monoid: str) -> bool:
    return v.is_const and isinstance(v.dtype, np.dtype) and \
        np.array_equal(v.const, identity(monoid, v.dtype), equal_nan=True)


def fold_ties(c: Carry) -> str | None:
    """Which of equal values (+0.0 and -0.0) a float max/min fold of one term
    keeps: "first" for `acc = maximum(f, acc)` (np.maximum gives its second
    operand of equal ones), "last" for `acc = maximum(acc, f)`; None where
    the order is mixed or there are several terms (NumPy's reduction)."""
    if c.monoid not in ("maximum", "minimum") or c.arg.dtype.kind != "f" or len(c.terms) != 1:
        return None
    acc_side = {op.out.id for op in c.chain} | {c.inner.id, c.arg.id}
    sides = {tuple(v.id in acc_side for v in op.inputs) for op in c.chain if op.prim.name == c.monoid}
    return {frozenset({(False, True)}): "first", frozenset({(True, False)}): "last"}.get(frozenset(sides))


def fold_reduction(b: IRBuilder, c: Carry, reduced: list[Value], acc_second: bool = False) -> Value:
    """init (+) r1 (+) r2 ..., seen through the carry's reshapes (r (+) init
    where the fold keeps the accumulator of equal values: `fold_ties`)."""
    acc = c.init
    if tuple(c.inner.shape) != tuple(c.init.shape):
        acc = b.op("reshape", acc, shape=tuple(c.inner.shape))
    for r in reduced:
        acc = b.op(c.monoid, r, acc) if acc_second else b.op(c.monoid, acc, r)
    if tuple(acc.shape) != tuple(c.init.shape):
        if size_of(acc.shape) != size_of(c.init.shape):
            acc = b.op("broadcast_to", acc, shape=tuple(c.inner.shape))
        acc = b.op("reshape", acc, shape=tuple(c.init.shape))
    return acc


def write_map(b: IRBuilder, c: Carry, upd: Value, facts: LoopFacts, n: int) -> Value:
    """Write the stacked blocks (n, *block) into the initial buffer at once."""
    w = c.write
    ax = c.axis
    starts = w.inputs[2:]
    a, b0 = facts.aff[starts[ax].id]
    block = tuple(w.inputs[1].shape)
    size = block[ax]
    moved = move_axis(b, upd, 0, ax)  # (..., n, size, ...)
    merged_shape = block[:ax] + (n * size,) + block[ax + 1:]
    vals = b.op("reshape", moved, shape=merged_shape)
    if any(not s.is_const for k, s in enumerate(starts) if k != ax):
        dstarts = [b.const(np.int64(b0)) if k == ax else s for k, s in enumerate(starts)]
        return b.op("dynamic_update_slice", c.init, vals, *dstarts)
    lo = [b0 if k == ax else int(s.const) for k, s in enumerate(starts)]
    hi = [lo[k] + block[k] for k in range(len(starts))]
    steps = [1] * len(starts)
    lo[ax] = b0
    if size == 1:
        steps[ax] = a
        hi[ax] = b0 + a * (n - 1) + (1 if a > 0 else -1)
    else:
        hi[ax] = b0 + n * size
    return b.op("update_slice", c.init, vals, starts=tuple(lo), stops=tuple(hi), steps=tuple(steps))


_UPDATES = frozenset({"dynamic_update_slice", "update_slice", "scatter"})


def reads_before_writes(ops: list[Op], in_bounds: Callable[[Op], bool]) -> list[Op]:
    """`ops` reordered so that each read of an array's old version comes
    before the write that makes its new version, where it can: the body of a
    scan that writes `dp[i + 1, j + 1]` and then reads `dp[i + 1, j]` of the
    version before the write (a copy of the whole update, kept for a type tag
    or a test the tracer repeated) would otherwise need the old version alive
    after the write, and codegen copies the whole carried array at every
    iteration to keep it (codegen/cpu/emitter.py writable_copy). Moved: a
    read of the old version (a partial read, or a view of it) and the pure
    ops it needs that come after the write, when none of them reads the new
    version; a read that may raise moves only when it is in bounds or nothing
    it passes may raise (the first error stays the first). Values are
    unchanged: the moved ops are pure and read what they read before."""
    out = list(ops)
    k = 0
    while k < len(out):
        w = out[k]
        if w.prim.name not in _UPDATES or w.blocks:
            k += 1
            continue
        old = w.inputs[0]
        at = k
        for r in [op for op in out[k + 1:] if _reads_part(op, old)]:
            moved = _needed_after(out, at, r)
            if moved is None:
                continue
            crossed = [op for op in out[at:out.index(r)] if id(op) not in moved]
            risky = any(op.prim.raises or op.prim.effectful or op.blocks or (op.prim.may_raise and not in_bounds(op))
                        for op in crossed)
            if risky and any(out[j].prim.may_raise and not in_bounds(out[j]) for j in moved.values()):
                continue
            block = [out[j] for j in sorted(moved.values())]
            out = [op for op in out if id(op) not in moved]
            at = out.index(w)
            out[at:at] = block
            at += len(block)
        k = out.index(w) + 1
    return out


def _reads_part(op: Op, x: Value) -> bool:
    return (not op.blocks and not op.prim.effectful and bool(op.inputs) and op.inputs[0].id == x.id
            and op.prim.name in ("dynamic_slice", "slice", "gather", "dynamic_prefix"))


def _needed_after(ops: list[Op], at: int, r: Op) -> dict[int, int] | None:
    """id -> position of r and of the ops after position `at` that r needs
    (transitively), with the single-input views that read r and nothing
    else after it (`reshape(x[i, j])`: the element read as a scalar); None
    when one of them is the op at `at`, has effects or a region, or raises."""
    pos = {id(op): j for j, op in enumerate(ops)}
    made = {v.id: op for op in ops[at:] for v in op.outputs}
    need: dict[int, int] = {}
    stack = [r]
    while stack:
        op = stack.pop()
        if id(op) in need:
            continue
        if op is ops[at] or op.blocks or op.prim.effectful or op.prim.raises:
            return None
        need[id(op)] = pos[id(op)]
        stack.extend(made[v.id] for v in operands(op) if v.id in made)
    tip = r
    while len(tip.outputs) == 1:
        readers = [op for op in ops if tip.out.id in {v.id for v in operands(op)}]
        if len(readers) != 1 or not readers[0].prim.view or len(readers[0].inputs) != 1 or readers[0].blocks:
            break
        tip = readers[0]
        need[id(tip)] = pos[id(tip)]
    return need


# --- loops whose trip count is data -----------------------------------------------------------
def _traced_trip(loop: Op, parent: Block) -> None:
    """Keep the loop, unless every carry is a sum of loop-invariant terms:
    then c + n * f replaces it (counter's `state[0] += 1.0`)."""
    info = loop.attrs.get("loop")
    facts = LoopFacts(loop, None, 0, 1)
    carries = carries_of(loop)
    classify_carries(facts, carries)
    step = loop.inputs[2]
    ok = step.is_const and int(step.const) > 0 and carries and is_pure(loop) and all(
        c.kind == "pass" or (c.kind == "reduction" and c.monoid == "add"
                             and all(facts.invariant(t) for t in c.terms)) for c in carries)
    if not ok:
        if info is not None:
            info.kind = "scan"
            info.reason = "the trip count is only known at run time, so the loop stays a loop"
        return
    b = IRBuilder(loop.loc)
    trip = _trip_value(b, loop.inputs[0], loop.inputs[1], int(step.const))
    mapping: dict[int, Value] = {}
    for c in carries:
        if c.kind == "pass":
            mapping[c.out.id] = c.init
            continue
        terms = [b.op("multiply", b.op("convert", trip, dtype=t.dtype), t) for t in c.terms]
        mapping[c.out.id] = fold_reduction(b, c, terms)
    at = parent.ops.index(loop)
    parent.ops[at:at + 1] = b.ops
    substitute(parent, mapping)
    if info is not None:
        names = ", ".join(f"`{loop_var_name(c, facts)}`" for c in carries if c.kind == "reduction")
        info.kind, info.reason = "reduction", f"{names} adds the same value every iteration: n * value"


def _trip_value(b: IRBuilder, start: Value, stop: Value, step: int) -> Value:
    span = b.op("subtract", stop, start)
    if step != 1:
        span = b.op("floor_divide", b.op("add", span, b.const(np.int64(step - 1))), b.const(np.int64(step)))
    return b.op("maximum", span, b.const(np.int64(0)))


# --- explain -------------------------------------------------------------------------------
def _report(loop: Op, facts: LoopFacts, carries: list[Carry], plan: Plan) -> None:
    info = loop.attrs.get("loop")
    if info is None:
        return
    if plan.rec or plan.loop:
        info.kind = "scan"
        info.reason = _scan_reason(facts, plan)
    elif any(c.kind in ("reduction", "scatter") for c in carries):
        info.kind = "reduction"
        names = ", ".join(f"`{loop_var_name(c, facts)}` ({c.monoid}{_masked_note(c, facts)})"
                          for c in carries if c.kind == "reduction" and _tagged_name(c, facts) is None
                          and not _shadow(c, facts))
        for g in dict.fromkeys(c.extreme for c in carries if c.kind == "argext"):
            taken = ", ".join(f"`{loop_var_name(c, facts)}`" for c in g.members if c.kind == "argext")
            names += f"; {taken} taken where `{loop_var_name(g.best, facts)}` reaches its {g.monoid}"
        scatters = ", ".join(f"`{loop_var_name(c, facts)}`" for c in carries if c.kind == "scatter")
        info.reason = " and ".join(filter(None, [names and f"reduces {names}",
                                                 scatters and f"scatter-adds into {scatters}"]))
        info.reason += f" over {_count(info, facts)} iterations"
    else:
        info.kind = "vectorized"
        info.reason = f"all {_count(info, facts)} iterations are independent: batched tensor ops, no loop left"


def _count(info, facts: LoopFacts):
    """The iterations of the source loop: a nest's total where one line made it (np.ndindex)."""
    total = getattr(info, "nest_count", None)
    return total if total is not None else facts.n


def _tagged_name(c: Carry, facts: LoopFacts) -> str | None:
    """The variable whose Python type (a float, or a NumPy float64 once assigned one) carry c
    tracks (tracer/kinds.py), or None: an implementation detail, not named as a variable."""
    info = facts.op.attrs.get("loop")
    return getattr(info, "type_tags", {}).get(c.arg.id)


def _shadow(c: Carry, facts: LoopFacts) -> int | None:
    """The body argument id of the Python-int accumulator whose exact sum carry c is, or None."""
    return getattr(facts.op.attrs.get("loop"), "shadows", {}).get(c.arg.id)


def _masked_note(c: Carry, facts: LoopFacts) -> str:
    """A conditional accumulation (`if c[i]: acc += v[i]`) reduces masked terms."""
    if any(is_conditional_term(t, facts.defs) for t in c.terms):
        return ", a conditional accumulation: the `if` became a mask on its terms"
    return ""


def _scan_reason(facts: LoopFacts, plan: Plan) -> str:
    parts = []
    named = {loop_var_name(c, facts) for c in plan.rec}
    for c in plan.rec:
        tag = _tagged_name(c, facts)
        if tag is not None and tag in named:
            continue  # a value's Python type travels with it: the value says why
        if _shadow(c, facts) and any(r.arg.id == _shadow(c, facts) for r in plan.rec):
            continue  # so does a Python-int accumulator's exact sum (tracer/python_sums.py)
        op = facts.defs.get(c.result.id)
        where = f"line {op.loc.line}: {op.loc.text.strip()}" if op is not None and op.loc.line else "its update"
        who = f"the Python type of `{tag}`" if tag is not None else f"`{loop_var_name(c, facts)}`"
        parts.append(f"{who} {c.why or 'reads its previous value'} ({where})")
    for why in dict.fromkeys(plan.forced.values()):
        parts.append(f"kept in the loop: {why}")
    if not plan.rec:  # (only ops that cannot be batched: each iteration still computes its own rows)
        parts.insert(0, "its iterations are independent (no value carried from one to the next)")
    kept = len(plan.loop)
    # (carries that share a name, a tuple's leaves or a value and its type tag, say it once)
    return "; ".join(dict.fromkeys(parts)) + f"; {kept} op(s) stay in the scan body"


__all__ = ["OverBudget", "LoopJob"]
