"""The fusion plan of a block: which ops become loop nests, and which values
are never stored (target-neutral: it reads primitive traits, writes no text).

A value made by a fusible op (`ir.primitive.is_fusible`: elementwise,
broadcast_to, iota, a fold) whose one consumer is a fusible op over the same
iteration space is computed inside that consumer's loop nest, element by
element, as a scalar temporary. Every other fusible op is a *root*: one loop
nest over its output (a fold adds inner loops over its folded axes). So
`exp(-(sum((W - x)**2, -1)))` is one loop nest with no temporary array. The
plan also records peepholes that keep scans free of small allocations:
`reshape(dynamic_slice(x, t))` that only drops unit axes is one indexing
expression `x[t]`, `dynamic_update_slice(y, reshape(v), t)` that only adds
unit axes is `y[t] = v`, chains of reshapes are one reshape, and a transpose
read only by loop nests is never made (the nests read its base).

A target that reads gathers inside its nests (capability `fused_gathers`)
has each `gather` planned as a fusible op too: its index array may be
computed inside it, and the gather inside its consumer, so a window
`x[i + j]` summed over j reads x in place instead of through an (n, k)
temporary of indices and one of values. The gathered array itself is never
computed inside a gather (it is read at data-dependent positions). Such a
target also emits groups of roots in one nest: scatters through one index,
slice writes into one buffer at disjoint boxes (`_group_updates`), and
elementwise roots one right after another over one shape that read none of
each other's results (`_group_maps`).

Invariant: an op folded into a later op is emitted at that op's position, and
its uses count there for the ownership analysis (`BlockPlan.position`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
import itertools
from math import prod

from looptrace.ir.core import Block, Dim, Op, Value
from looptrace.ir.primitive import folded_axes, is_fusible
from looptrace.ir.uses import Use, only_consumer, use_map
from looptrace.ops.shape import is_reshape_like

from .fold_window import window_masked
from .order_stats import sort_positions


@dataclass
class BlockPlan:
    producer: dict[int, Op] = field(default_factory=dict)  # value id -> op in this block
    inlined: set[int] = field(default_factory=set)  # value ids computed inside a consumer
    fused_roots: set[int] = field(default_factory=set)  # id(op) of loop-nest roots
    skip: set[int] = field(default_factory=set)  # id(op) emitted as part of another op
    position: dict[int, int] = field(default_factory=dict)  # id(op) -> where it is emitted
    slice_into: dict[int, Op] = field(default_factory=dict)  # id(reshape) -> its dynamic_slice
    update_from: dict[int, Value] = field(default_factory=dict)  # id(dus) -> value written
    update_reshapes: dict[int, Op] = field(default_factory=dict)  # id(reshape skipped for update_from) -> the dus
    # id(update) -> views of its target that its inlined update reads away from the part written:
    # they do not keep the write from reusing the target's memory
    disjoint_views: dict[int, set] = field(default_factory=dict)
    unfilled: set[int] = field(default_factory=set)  # id(fill) overwritten before any read: allocated only
    # id(update_slice heading a group) -> (fill value, [{picked axis: position}]): the rest of a fill
    # its group leaves (the other axes whole),
    # written in the group's loop nest (`_fills_with_writes`); the fill itself is in `unfilled`
    fill_rest: dict[int, tuple] = field(default_factory=dict)
    # id(write) -> (fill value, dtype, [box]): the boxes of a fill its one write leaves, written
    # with the constant beside the write (`_fills_around_write`); the fill is in `unfilled`
    fill_boxes: dict[int, tuple] = field(default_factory=dict)
    reshape_from: dict[int, Value] = field(default_factory=dict)  # id(reshape) -> first input
    # id(dynamic_slice) of one element read only as that element (`_element_reads`): the target
    # reads it as a scalar where it stands, not as a view kept alive until its last reader
    element_reads: set[int] = field(default_factory=set)
    # id(sort or argsort) -> the only positions of its sorted axis ever read (order_stats.py)
    sort_positions: dict[int, tuple] = field(default_factory=dict)
    unit_reshapes: set[int] = field(default_factory=set)  # id(reshape) never made: nests read its base
    # id(concatenate) never made: nests read each element from the piece holding it (`_skip_join`)
    joins: set[int] = field(default_factory=set)
    gathers: bool = False  # gathers are fusible (the target's nests read them in place)
    unit_reshape_reads: bool = False  # the target's nests read unit-axes reshapes through their source
    # id(scatter) -> the scatters right after it through the same index, emitted in its loop
    scatter_group: dict[int, list] = field(default_factory=dict)
    # id(update_slice) -> the update_slices right after it into the same buffer, at disjoint
    # static boxes with updates of the same shape: written in its loop nest
    update_group: dict[int, list] = field(default_factory=dict)
    # id(map root) -> the map roots right after it over the same shape that read none of the
    # group's results: computed in its loop nest (`_group_maps`)
    map_group: dict[int, list] = field(default_factory=dict)
    # id(scalar select) -> (ops computing its true operand, ops computing its false operand), in
    # block order: computed only on the branch taken (`_lazy_selects`)
    lazy: dict[int, tuple] = field(default_factory=dict)
    everywhere: dict[int, Op] = field(default_factory=dict)  # value id -> op, over the whole program
    # id(nest root) -> the array check whose "does any element fail" count that nest accumulates,
    # the value the check reads never stored (`_checks_in_nests`)
    check_in_nest: dict[int, Op] = field(default_factory=dict)
    # id(update) -> (new, [(condition, holds)], views of the target it reads): its update is
    # select(c, new, the element stored) (or a chain of them): it stores new where every
    # condition is as given (`_masked_update`)
    masked_updates: dict[int, tuple] = field(default_factory=dict)

    def fusible(self, op: Op) -> bool:
        """Is op computed element by element inside a loop nest in this plan?"""
        return is_fusible(op) or (self.gathers and op.prim.name == "gather")


def is_fold(op: Op) -> bool:
    """A reduction (or a sum of products) lowered as inner loops of a nest."""
    return folded_axes(op) is not None


def unit_dropped(shape: tuple, n_lead: int, sizes: tuple) -> tuple[tuple, list[int]]:
    """The shape with the unit axes among the first `n_lead` (size 1 in `sizes`)
    removed, and those axes."""
    dropped = [k for k in range(n_lead) if sizes[k] == 1]
    return tuple(d for k, d in enumerate(shape) if k not in dropped), dropped


# the groups of roots in one nest and fills never made a target may emit (`plan_block`'s `groups`), in
# the order they are planned
GROUPS = ("scatters", "updates", "overwritten_fills", "fills_with_writes", "fills_around_write", "maps")


def plan_block(block: Block, unit_reshapes: bool = False, gathers: bool = False, slices: bool = False,
               scans: bool = False, lazy: bool = False, producers: dict | None = None,
               groups: bool | tuple | None = None, checks: bool = False) -> BlockPlan:
    """The block's plan; `unit_reshapes`: the target's nests read through a
    reshape that only adds or drops unit axes (`_skip_unit_reshape`);
    `slices`: its nests read through a static slice
    (`_skip_read_through_slice`);
    `gathers`: the target's nests read gathers in place and recompute
    positions in each nest that reads them (module docstring);
    `scans`: a scalar linear recurrence computes cheap coefficient maps
    inside its loop (`_inline_into_scans`); `lazy`: a scalar select
    computes a costly operand only on its branch (`_lazy_selects`);
    `producers`: the ops computing values over the whole program (a loop
    body reads positions computed outside it), where the walker knows them;
    `groups`: the target emits groups of roots in one nest and fills never
    made (`_group_scatters` ... `_group_maps`); by default where `gathers`;
    or the names (GROUPS) of those it emits (the cuda target: some only);
    `checks`: a nest may count an array check's failures (`_checks_in_nests`)."""
    plan = BlockPlan(gathers=gathers, unit_reshape_reads=unit_reshapes)
    plan.everywhere = producers if producers is not None else plan.producer
    uses = use_map(block)
    index = {id(op): i for i, op in enumerate(block.ops)}
    for op in block.ops:
        for v in op.outputs:
            plan.producer[v.id] = op
    _plan_peepholes(block, plan, uses)
    positions = _positions(block, plan) if gathers else set()
    recomputed: list[Op] = []
    for op in block.ops:
        if id(op) in plan.skip or not plan.fusible(op):
            continue
        spread = _spread_costly(plan, op, uses)
        if op.out.id in positions and not spread and _recomputable(plan, op.out, uses, block):
            plan.inlined.add(op.out.id)
            plan.skip.add(id(op))
            continue
        if gathers and not spread and _cheap_read(plan, op, uses) and _recomputable(plan, op.out, uses, block):
            plan.inlined.add(op.out.id)
            plan.skip.add(id(op))
            recomputed.append(op)
            continue
        consumer = only_consumer(uses, op.out)
        consumer = plan.update_reshapes.get(id(consumer), consumer)  # y[t] = reshape(v): v's reader is the write
        if consumer is not None and _long_scatter_index(plan, op, consumer, uses):
            plan.fused_roots.add(id(op))
            continue
        if op.out.ndim and consumer is not None and (_fits(plan, op.out, consumer)
                                                     or not is_fold(op) and (_fits_through_unit_reshape(plan, consumer, uses)
                                                                             or _fits_through_transpose(plan, consumer, uses))):
            plan.inlined.add(op.out.id)
            plan.skip.add(id(op))
        else:
            plan.fused_roots.add(id(op))
    _inline_shared(block, plan, uses, positions)
    if checks and gathers:
        _checks_in_nests(block, plan, uses, index)
    _place_folded(block, plan, uses, index)
    if scans:
        _inline_into_scans(block, plan, uses, index)
    if lazy:
        _lazy_selects(block, plan, uses, index)
    for op in recomputed:  # what it reads counts as used where its last reader is
        plan.position[id(op)] = max(plan.position.get(id(u.op), index[id(u.op)]) for u in uses[op.out.id])
    _skip_read_through_transposes(block, plan, uses)
    for op in block.ops:
        if op.prim.name in ("sort", "argsort"):
            read = sort_positions(op, uses)
            if read is not None:
                plan.sort_positions[id(op)] = read
    _masked_in_place(block, plan, uses, index)
    _skip_views(block, plan, uses, slices, unit_reshapes)
    if groups is None or isinstance(groups, bool):
        groups = GROUPS if (gathers if groups is None else groups) else ()
    if "scatters" in groups:
        _group_scatters(block, plan)
    if "updates" in groups:
        _group_updates(block, plan, uses)
    if "overwritten_fills" in groups:
        _overwritten_fills(block, plan, uses)
    if "fills_with_writes" in groups:
        _fills_with_writes(block, plan, uses)
    if "fills_around_write" in groups:
        _fills_around_write(block, plan, uses)
    if "maps" in groups:
        _group_maps(block, plan)
    _read_where_computed(block, plan, uses, index)
    return plan


def _read_where_computed(block: Block, plan: BlockPlan, uses: dict[int, list[Use]], index: dict) -> None:
    """An inlined value is computed in the nest of each op that reads it, so
    what it reads is read there: its position (ownership.last_uses) is at
    least its readers' latest, through chains of inlined values. Without
    this, in `w = |t| + 0.5; u = exp(w) + t; v = sin(w) + u` with w
    recomputed in v's nest, `|t|` (inlined into w) counted its read of t at
    its own place, and u was written over t's buffer before v's nest read t
    (a wrong answer, found by tests/codegen/test_cpu_map_groups.py's
    generated programs). Later positions only: a last use found later than
    it is only keeps a buffer from being reused. A view never made (a
    unit-axes reshape, a transpose or a static slice the nests read through)
    is read where its readers are too, so the chain continues through it: in
    `p = a.reshape(n) * c` with p computed in a later nest (through a unit
    reshape, `_fits_through_unit_reshape`), `a.reshape(n)` kept p's own place
    as where a is read, and `a + g` was written over a's buffer before that
    nest read a (a wrong gradient on cpu, found by the s23 fuzz round)."""
    for op in reversed(block.ops):
        if id(op) not in plan.skip or len(op.outputs) != 1:
            continue
        if op.out.id not in plan.inlined and not _never_made_view(op, plan):
            continue
        readers = [u.op for u in uses.get(op.out.id, []) if u.op is not None]
        if not readers:
            continue
        at = max(plan.position.get(id(r), index.get(id(r), -1)) for r in readers)
        plan.position[id(op)] = max(plan.position.get(id(op), index[id(op)]), at)


def _never_made_view(op: Op, plan: BlockPlan) -> bool:
    """A skipped view the nests read through to its base (`_skip_unit_reshape`,
    `_skip_read_through_transposes`, `_skip_read_through_slice`), or a join
    read through to its pieces (`_skip_join`)."""
    return id(op) in plan.unit_reshapes or read_through(op, plan) or op.prim.name == "slice" or id(op) in plan.joins


SCATTER_INDEX_COST = 8  # ops per element at least, for a scatter's index to be stored instead


def _long_scatter_index(plan: BlockPlan, op: Op, consumer: Op, uses: dict[int, list[Use]]) -> bool:
    """Is op a scatter's index computed by a long chain of ops from an array
    stored anyway (of the index's shape, read by nothing but that chain)?
    Then the index is stored instead, computed by a nest of its own (which
    also computes that array, `_inline_shared`, and vectorizes), and the
    scatter's serial loop reads it: one stored array as before, but the loop
    no longer waits on a long scalar chain for each address (np.histogram's
    edge corrections, 10^6 values: 2.2 -> 1.5 ms). Not when the stored index
    would be an array more: `out[f(x[i])] += w[i]` with f 8 ops of x ran
    1.02 ms in one loop and 1.19 ms as a nest and a loop."""
    if consumer.prim.name != "scatter" or consumer.inputs[1] is not op.out or not plan.gathers:
        return False
    if len(op.outputs) != 1 or not op.out.ndim or any(isinstance(d, Dim) for d in op.out.shape):
        return False
    ops = nest_ops(op, plan)
    if sum(_recompute_cost(o) for o in ops) < SCATTER_INDEX_COST:
        return False
    inside = {id(o) for o in ops}
    for v in {u.id: u for o in ops for u in o.inputs}.values():
        made = plan.producer.get(v.id)
        if (made is not None and id(made) in plan.fused_roots and tuple(v.shape) == tuple(op.out.shape)
                and all(u.op is not None and not u.nested and id(u.op) in inside for u in uses.get(v.id, []))):
            return True
    return False


def _inline_shared(block: Block, plan: BlockPlan, uses: dict[int, list[Use]], positions: set) -> None:
    """A value read by several ops that all end up in one loop nest, each at
    the element that nest computes, is computed in that nest too: once per
    element (the nest's memo shares it), not stored: one pass over memory and
    one loop nest for Numba to compile instead of two. Only into a nest root:
    a scatter's loop is serial, and np.histogram's mask and bin index moved
    into it ran 5.7 -> 8.0 ms (they vectorize as nests of their own). Later
    ops first, so a chain of such values joins the nest together."""
    home: dict[int, Op | None] = {}

    def home_of(op: Op) -> Op | None:
        if id(op) in home:
            return home[id(op)]
        found: Op | None = op
        if id(op) in plan.skip and op.out.id in plan.inlined:
            consumer = only_consumer(uses, op.out)
            consumer = plan.update_reshapes.get(id(consumer), consumer) if consumer is not None else None
            if consumer is not None:
                found = home_of(consumer)
            else:  # recomputed wherever read: at home where all its readers are (`idx + 1` and `idx != n`)
                us = uses.get(op.out.id, [])
                readers = [home_of(u.op) if u.op is not None and not u.nested else None for u in us]
                found = readers[0] if readers and all(r is readers[0] for r in readers) else None
        home[id(op)] = found
        return found

    for op in reversed(block.ops):
        if id(op) not in plan.fused_roots or len(op.outputs) != 1:
            continue
        v = op.out
        if v.ndim == 0 or v.id in positions or is_fold(op):
            continue
        if any(isinstance(d, Dim) for d in v.shape):
            continue
        us = uses.get(v.id, [])
        if len(us) < 2 or any(u.op is None or u.nested for u in us):
            continue
        consumers = list({id(u.op): u.op for u in us}.values())
        if not all(_space(c) == tuple(v.shape) and _fits(plan, v, c) for c in consumers):
            continue
        homes = {id(h) if h is not None else None for h in map(home_of, consumers)}
        if len(homes) != 1 or None in homes or homes.pop() not in plan.fused_roots:
            continue  # a scatter's loop is serial: what vectorizes stays a nest of its own
        plan.fused_roots.discard(id(op))
        plan.inlined.add(v.id)
        plan.skip.add(id(op))
        home[id(op)] = home_of(consumers[0])


def _checks_in_nests(block: Block, plan: BlockPlan, uses: dict[int, list[Use]], index: dict) -> None:
    """An array check whose predicates read a stored value V that one later
    nest root R (before the check) also reads, element by element and
    nothing else: V is computed in R's nest and never stored, R's nest
    counts the elements where a predicate holds (`check_in_nest`; cpu/nest.py
    `_check_counter`), and the check, where it stands, searches for the first
    failure in row-major order only when that count is not 0, recomputing V
    there. u8_loop_clip (`out[i, j] = v` of an int64 v into uint8: NumPy's
    OverflowError for v < 0) stored the 1000 x 1000 int64 v to read it in
    the check's pass: 8 MB written and read twice."""
    for check in block.ops:
        if check.prim.name != "check" or id(check) in plan.skip:
            continue
        preds = check.inputs[:len(check.attrs["failures"])]
        if len(preds) != len(check.inputs) or not preds[0].ndim:
            continue  # (a value shown in the message is read in the search only: not handled)
        shape = tuple(preds[0].shape)
        if any(tuple(p.shape) != shape or p.id not in plan.inlined for p in preds):
            continue
        chain = [o for p in preds for o in nest_ops(plan.producer[p.id], plan)]
        inside = {id(o) for o in chain}
        reads = {u.id: u for o in chain for u in o.inputs if u.id not in plan.inlined}
        stored = {i: u for i, u in reads.items() if id(plan.producer.get(u.id)) in plan.fused_roots}
        for v in stored.values():
            made = plan.producer[v.id]
            if tuple(v.shape) != shape or is_fold(made) or len(made.outputs) != 1:
                continue
            others = {id(u.op): u.op for u in uses.get(v.id, []) if u.op is None or id(u.op) not in inside}
            if len(others) != 1 or any(u.nested for u in uses.get(v.id, [])):
                continue
            reader = next(iter(others.values()))
            if reader is None or _space(reader) != shape or not _fits(plan, v, reader):
                continue
            root = _nest_root(plan, uses, reader)
            if root is None or id(root) in plan.check_in_nest or root.prim.name == "check":
                continue
            if not (index[id(made)] < index[id(reader)] and index[id(root)] < index[id(check)]):
                continue
            if tuple(root.out.shape) != shape or is_fold(root):
                continue
            if any(index.get(id(plan.producer.get(u.id)), -1) > index[id(root)] for u in reads.values()):
                continue  # (the predicates read a value made after the nest)
            plan.fused_roots.discard(id(made))
            plan.inlined.add(v.id)
            plan.skip.add(id(made))
            plan.check_in_nest[id(root)] = check
            break


def _nest_root(plan: BlockPlan, uses: dict[int, list[Use]], op: Op) -> Op | None:
    """The nest root op is computed in (op itself when it is one), through
    inlined values read once, element by element; None elsewhere."""
    while id(op) not in plan.fused_roots:
        if len(op.outputs) != 1 or op.out.id not in plan.inlined or not plan.fusible(op):
            return None
        op = only_consumer(uses, op.out)
        if op is None or not plan.fusible(op) or is_fold(op):
            return None
    return op if len(op.outputs) == 1 and op.out.ndim else None


def _inline_into_scans(block: Block, plan: BlockPlan, uses: dict[int, list[Use]], index: dict) -> None:
    """A scalar linear recurrence h[t] = a[t] * h[t-1] + b[t] whose a or b is
    a map of a few cheap ops read by nothing else computes it inside its own
    loop, step by step: the vectorizer hoisted `alpha * x[t]` out of the
    recurrence as a map over all T steps, which as a nest of its own writes a
    T-element temporary and reads it back (ewma: 1.6 MB each way, and the
    allocation's page faults on a cold call). In the serial loop the map's few
    ops do not depend on h, so they overlap the recurrence's latency chain.
    Costly maps (exp, sin: `is_streaming` is false) keep their vectorized nest."""
    for op in block.ops:
        if op.prim.name != "linear_scan" or id(op) in plan.skip:
            continue
        a, b, h0 = op.inputs
        lengths = [x.shape[0] for x in (a, b) if x.ndim == 1]
        if h0.ndim != 0 or a.ndim > 1 or b.ndim > 1 or not lengths or any(isinstance(n, Dim) for n in lengths):
            continue  # only a scalar state over static steps
        steps = (max(lengths),)
        for v in {a.id: a, b.id: b}.values():
            made = plan.producer.get(v.id)
            if made is None or id(made) not in plan.fused_roots or len(made.outputs) != 1 or v is h0:
                continue
            if tuple(v.shape) != tuple(steps) or only_consumer(uses, v) is not op:
                continue
            if is_fold(made) or not _cheap_per_step(made, plan):
                continue
            plan.fused_roots.discard(id(made))
            plan.inlined.add(v.id)
            plan.skip.add(id(made))
            for o in nest_ops(made, plan):
                plan.position[id(o)] = index[id(op)]


# cheap ops per step a scan's coefficient map may bring into the scan's loop: a float add's
# latency is 4 cycles, time for more independent ops than this beside it
SCAN_INLINE_OPS = 6


def _cheap_per_step(made: Op, plan: BlockPlan) -> bool:
    """Are the ops of a map's nest few and cheap, not counting an iota (in
    the scan's loop it is the step's own index, no work): `total += (i + 1)
    * u * v` over enumerate(zip(a, b)) is an add, a convert and two
    multiplies beside the iota (corpus enumerate_zip: 5 ops, past
    is_streaming's 4, so a 2.4 MB temporary written and read back)."""
    ops = [o for o in nest_ops(made, plan) if o.prim.name != "iota"]
    return len(ops) <= SCAN_INLINE_OPS and all(o.prim.cheap for o in ops)


def _lazy_selects(block: Block, plan: BlockPlan, uses: dict[int, list[Use]], index: dict) -> None:
    """`if de <= 0.0 or r < math.exp(-beta * de)` is traced as a select of two
    computed operands, so the exp runs every time where Python skips it
    whenever the first test holds (ising_metropolis: about half the sites).
    For a scalar select, the scalar elementwise ops that only its true (or
    only its false) operand needs, and that include a costly one (not
    `cheap`: exp, log, sin, ...), are computed in that branch of an if/else
    instead: what they read is computed before (array reads stay where they
    are, so no write in between can change what they see)."""
    for op in block.ops:
        if op.prim.name != "select" or op.out.ndim != 0 or id(op) in plan.skip:
            continue
        cond, a, b = op.inputs
        chains = []
        for v, other in ((a, (cond, b)), (b, (cond, a))):
            chain = _only_for(plan, uses, op, v) if all(v is not o for o in other) else []
            chains.append(chain if any(not o.prim.cheap for o in chain) else [])
        if not any(chains):
            continue
        for chain in chains:
            for o in chain:
                plan.skip.add(id(o))
                plan.position[id(o)] = index[id(op)]
        plan.lazy[id(op)] = tuple(sorted(chain, key=lambda o: index[id(o)]) for chain in chains)


def _only_for(plan: BlockPlan, uses: dict[int, list[Use]], select: Op, v: Value) -> list[Op]:
    """The scalar elementwise ops of this block that compute `v` and whose
    results nothing but `select` (through v) and each other read."""
    chain: dict[int, Op] = {}
    stack = [v]
    while stack:
        u = stack.pop()
        made = plan.producer.get(u.id)
        if (made is None or id(made) in chain or u.ndim != 0 or len(made.outputs) != 1 or not made.prim.elementwise
                or id(made) in plan.skip or id(made) not in plan.fused_roots or made.prim.effectful):
            continue
        chain[id(made)] = made
        stack.extend(made.inputs)
    changed = True
    while changed:  # drop what is read outside the chain, and what then feeds only dropped ops
        changed = False
        for key, o in list(chain.items()):
            readers = uses.get(o.out.id, [])
            if any(r.op is None or r.nested or (id(r.op) not in chain and not (r.op is select and o.out is v))
                   for r in readers):
                del chain[key]
                changed = True
    return list(chain.values())


def _space(op: Op) -> tuple | None:
    """The shape of the elements an op's loop computes (a scatter or a slice
    update: its update's; any other op: its output's; None for an op of
    several outputs, a loop that takes the value as a carry, say)."""
    if len(op.outputs) != 1:
        return None
    if op.prim.name == "scatter":
        return tuple(op.inputs[2].shape)
    if op.prim.name in ("update_slice", "dynamic_update_slice"):
        return tuple(op.inputs[1].shape)
    return tuple(op.out.shape)


COVER_LIMIT = 1 << 24  # elements: larger fills are not analysed (the mask would cost memory)


def _overwritten_fills(block: Block, plan: BlockPlan, uses: dict[int, list[Use]]) -> None:
    """A constant fill (np.empty, np.zeros) that static writes overwrite
    completely before anything reads it is never made: only allocated.
    `z = np.empty((n, n, 3)); z[:, :, 0] = ...; z[:, :, 1] = ...;
    z[:, :, 2] = f(z[:, :, 0], z[:, :, 1])`: every read of a partial z is a
    static slice inside what was written by then, and the last write leaves
    nothing of the fill."""
    for op in block.ops:
        if id(op) not in plan.fused_roots or op.prim.name != "broadcast_to" or op.inputs[0].ndim != 0:
            continue
        shape = tuple(op.out.shape)
        if any(isinstance(d, Dim) for d in shape) or not shape or prod(shape) > COVER_LIMIT:
            continue
        if _covered(op.out, shape, plan, uses):
            plan.unfilled.add(id(op))


FILL_REST_MAX = 4  # boxes of a fill's rest written beside a group's writes


def _fills_with_writes(block: Block, plan: BlockPlan, uses: dict[int, list[Use]]) -> None:
    """A constant fill read only by a group of static slice writes that pick
    single positions along some axes and take the rest whole (`z =
    np.zeros((n, n, 3)); z[:, :, 0] = a; z[:, :, 1] = b`) is written in the
    group's loop nest: at each position the writes, then the fill value at
    the positions no write takes (z[i, j, 2] = 0). One pass over the buffer
    instead of a fill pass and a write pass (numpy-benchmarks' create_grid:
    the zero fill was a 15 MB pass of its own). The group's updates read
    neither the buffer nor each other (`_group_updates`), so no value is
    read before it is written."""
    for op in block.ops:
        if (id(op) not in plan.fused_roots or id(op) in plan.unfilled or op.prim.name != "broadcast_to"
                or op.inputs[0].ndim != 0):
            continue
        shape = tuple(op.out.shape)
        if any(isinstance(d, Dim) for d in shape) or not shape:
            continue
        us = uses.get(op.out.id, [])
        head = us[0].op if len(us) == 1 else None
        if (head is None or us[0].nested or head.prim.name not in ("update_slice", "dynamic_update_slice")
                or head.inputs[0] is not op.out):
            continue
        group = [head, *plan.update_group.get(id(head), [])]
        boxes = [_written_box(w) for w in group]
        if any(b is None for b in boxes) or any(_reads_root_of(plan, w.inputs[1], op.out) for w in group):
            continue
        picked = [k for k, (a, b) in enumerate(boxes[0]) if (a, b) != (0, shape[k])]
        if not picked or any(b - a != 1 for a, b in (boxes[0][k] for k in picked)):
            continue
        if any([k for k, (a, b) in enumerate(box) if (a, b) != (0, shape[k])] != picked or
               any(b - a != 1 for a, b in (box[k] for k in picked)) for box in boxes):
            continue
        taken = {tuple(box[k][0] for k in picked) for box in boxes}
        rest = [at for at in itertools.product(*(range(shape[k]) for k in picked)) if at not in taken]
        if len(rest) > FILL_REST_MAX:
            continue
        plan.unfilled.add(id(op))
        plan.fill_rest[id(head)] = (op.inputs[0], [dict(zip(picked, at)) for at in rest])


def _fills_around_write(block: Block, plan: BlockPlan, uses: dict[int, list[Use]]) -> None:
    """A constant fill written by one static box write, and otherwise read
    only through views never made (nests read those as the constant,
    `constant_fill`), is never filled: the write stores its box and the
    constant goes only to the boxes around it (at most two per axis).
    `mask = np.zeros(n, bool); mask[1:-1] = cond`: one pass, not a fill,
    a pass computing cond and a copy (corpus peak_mask). Only for a box of
    at least half the buffer (it saves writing the box twice; z[:, 1] = x
    of an (n, 8) fill would trade one fill nest for two strided ones). A constant array
    of one value (a small np.zeros the tracer folded) written so is only
    allocated, not copied."""
    for head in block.ops:
        if (head.prim.name not in ("update_slice", "dynamic_update_slice") or id(head) in plan.skip
                or id(head) in plan.update_group or id(head) in plan.fill_rest):
            continue
        target = head.inputs[0]
        shape = tuple(target.shape)
        box = covered_box(head)
        if (not shape or any(isinstance(d, Dim) for d in shape) or box is None
                or any(lo < 0 or hi > d or lo >= hi for (lo, hi), d in zip(box, shape))):
            continue
        if 2 * prod(hi - lo for lo, hi in box) < prod(shape):
            continue  # it saves the box's second write: not worth the loops around a small box
        if target.is_const:
            flat = target.const.reshape(-1)
            if flat.size == 0 or flat.size > COVER_LIMIT or not (flat == flat[0]).all():
                continue
            value = flat[0].item()
        else:
            fill = plan.producer.get(target.id)
            if fill is None or not _fill_read_only_as_constant(plan, fill, head, uses):
                continue
            plan.unfilled.add(id(fill))
            value = fill.inputs[0].const.item()
        plan.fill_boxes[id(head)] = (value, target.dtype, _around(box, shape))


def _fill_read_only_as_constant(plan: BlockPlan, fill: Op, head: Op, uses: dict[int, list[Use]]) -> bool:
    """Is `fill` a constant fill whose memory only `head` (a write into it)
    touches: every other reader a view never made, read as the constant?"""
    if (id(fill) not in plan.fused_roots or id(fill) in plan.unfilled or fill.prim.name != "broadcast_to"
            or fill.inputs[0].ndim != 0 or not fill.inputs[0].is_const or head.inputs[1] is fill.out):
        return False
    us = uses.get(fill.out.id, [])
    return all(u.op is not None and not u.nested and (u.op is head or (u.op.prim.name in _SAFE_VIEWS
                                                                        and id(u.op) in plan.skip)) for u in us)


def _around(box: list[tuple[int, int]], shape: tuple) -> list[list[tuple[int, int]]]:
    """The boxes that cover `shape` but `box`: along each axis, below and
    above the box, within the box on the axes before it."""
    out = []
    for d, ((lo, hi), n) in enumerate(zip(box, shape)):
        inner = list(box[:d])
        outer = [(0, m) for m in shape[d + 1:]]
        if lo > 0:
            out.append(inner + [(0, lo)] + outer)
        if hi < n:
            out.append(inner + [(hi, n)] + outer)
    return out


def _covered(v: Value, shape: tuple, plan: BlockPlan, uses: dict[int, list[Use]]) -> bool:
    import numpy as np

    written = np.zeros(shape, dtype=bool)
    while True:
        if written.all():
            return True
        us = uses.get(v.id, [])
        shaped = _only_reshape(us)
        if shaped is not None:  # the same elements in C order under another shape (a view)
            written = written.reshape(tuple(shaped.out.shape))
            v = shaped.out
            continue
        writes = [u.op for u in us if u.op is not None and not u.nested and u.op.prim.name in
                  ("update_slice", "dynamic_update_slice") and u.op.inputs[0] is v]
        if len(writes) != 1 or any(u.op is None or u.nested for u in us):
            return False
        for u in us:
            if u.op is writes[0]:
                continue
            if u.op.prim.name != "slice" or not _inside(u.op.attrs, written):
                return False  # something reads the fill
        box = _written_box(writes[0])
        if box is None:
            return False
        written[tuple(slice(a, b) for a, b in box)] = True
        v = writes[0].out


def _only_reshape(us: list[Use]) -> Op | None:
    """The reshape to a static shape that is a value's only reader."""
    if len(us) != 1 or us[0].op is None or us[0].nested or us[0].op.prim.name != "reshape":
        return None
    shaped = us[0].op
    return None if any(isinstance(d, Dim) for d in shaped.out.shape) else shaped


def _inside(attrs: dict, written) -> bool:
    if any(st != 1 for st in attrs["steps"]) or any(e < 0 for e in attrs["stops"]):
        return False
    return bool(written[tuple(slice(a, b) for a, b in zip(attrs["starts"], attrs["stops"]))].all())


def _group_scatters(block: Block, plan: BlockPlan) -> None:
    """Scatters one right after another (nothing emitted between them) through
    the same index array share one loop: `sums[g[i]] += v[i]; counts[g[i]] += 1`
    reads g once per element. A follower reads nothing the scatters before it
    in the group write, so running it alongside them changes nothing."""
    head, prev = None, None
    for op in block.ops:
        if id(op) in plan.skip:
            continue
        if op.prim.name == "scatter" and prev is not None and prev.prim.name == "scatter" and head is not None \
                and _same_walk(head, op) and not _reads_group(plan, head, op):
            plan.scatter_group.setdefault(id(head), []).append(op)
            plan.skip.add(id(op))
            plan.position[id(op)] = block.ops.index(head)
        else:
            head = op if op.prim.name == "scatter" else None
        prev = op


UPDATE_GROUP_MAX = 64  # writes per shared nest: a longer loop body is one function LLVM optimizes superlinearly


def _group_updates(block: Block, plan: BlockPlan, uses: dict[int, list[Use]]) -> None:
    """Static slice writes one right after another into one buffer, each
    writing the previous one's result (`out[:, 0] = a; out[:, 1] = b; ...`,
    a row written piece by piece and then batched), share one loop nest: one
    pass over the rows instead of one per piece, and one nest for Numba to
    compile. Exact when the boxes written are pairwise disjoint (no element is
    written twice, so the order of the writes does not matter) and no update
    reads the buffer or an earlier write of the group (checked by `_fits` and
    `_reads_group`)."""
    head, prev, boxes = None, None, []
    for op in block.ops:
        if id(op) in plan.skip:
            continue
        box = _written_box(op) if op.prim.name in ("update_slice", "dynamic_update_slice") else None
        if (box is not None and head is not None and prev is not None and op.inputs[0] is prev.out
                and only_consumer(uses, prev.out) is op and op.prim is head.prim
                and (id(op) in plan.update_from) == (id(head) in plan.update_from)
                and tuple(_update_of(plan, op).shape) == tuple(_update_of(plan, head).shape)
                and len(boxes) < UPDATE_GROUP_MAX and all(_disjoint(box, b) for b in boxes)
                and not _reads_updates(plan, head, op)):
            plan.update_group.setdefault(id(head), []).append(op)
            plan.skip.add(id(op))
            plan.position[id(op)] = block.ops.index(head)
            boxes.append(box)
        elif box is not None:
            head, boxes = op, [box]
        else:
            head, boxes = None, []
        prev = op


MAP_GROUP_MAX = 8  # maps per shared nest


def _group_maps(block: Block, plan: BlockPlan) -> None:
    """Elementwise roots one right after another (nothing emitted between
    them) over the same static shape, none reading another's result, share one
    loop nest: each element of every result in one pass (one loop, or one
    `prange`, for Numba to compile instead of several: a prange costs about
    0.3-0.5 s of compile time; and each input is read once per element).
    Exact: iteration i computes every map's element i from inputs that no map
    of the group writes, except an input a map overwrites in place, which the
    emitter allows only when no other map of the group reads it
    (codegen/cpu/nest.py `_emit_map_group`)."""
    index = {id(op): i for i, op in enumerate(block.ops)}
    head, members = None, []
    for op in block.ops:
        if id(op) in plan.skip:
            continue
        if id(op) not in plan.fused_roots or not _plain_map(op, plan):
            head, members = None, []
            continue
        if (head is not None and len(members) < MAP_GROUP_MAX
                and tuple(op.out.shape) == tuple(head.out.shape)
                and not _leaves(op, plan) & {m.out.id for m in members}):
            members.append(op)
            plan.map_group.setdefault(id(head), []).append(op)
            plan.skip.add(id(op))
            plan.position[id(op)] = index[id(head)]
        else:
            head, members = op, [op]


def _plain_map(op: Op, plan: BlockPlan) -> bool:
    """A root whose nest is elementwise ops (and broadcasts) only, over a static shape."""
    return (op.out.ndim > 0 and all(isinstance(d, int) for d in op.out.shape) and id(op) not in plan.unfilled
            and all((o.prim.elementwise or o.prim.name == "broadcast_to") and not is_fold(o)
                    for o in nest_ops(op, plan)))


def _leaves(op: Op, plan: BlockPlan) -> set[int]:
    """The ids of the values a root's nest reads (`_reached`)."""
    return _reached(plan, op.inputs)


def _reached(plan: BlockPlan, values) -> set[int]:
    """The ids of `values` and of what a nest reading them reads through
    them: values computed inside the nest, and ops the plan skips because
    nests read through them (a reversed or strided slice, a transpose, a unit
    reshape), followed to their sources."""
    seen, stack = set(), list(values)
    while stack:
        v = stack.pop()
        if v.id in seen:
            continue
        seen.add(v.id)
        made = plan.producer.get(v.id)
        if made is not None and (v.id in plan.inlined or id(made) in plan.skip):
            stack.extend(made.inputs)
    return seen


def _update_of(plan: BlockPlan, op: Op) -> Value:
    """The value a slice write stores (through a unit reshape the plan skips)."""
    return plan.update_from.get(id(op), op.inputs[1])


def _disjoint(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(hi_a <= lo_b or hi_b <= lo_a for (lo_a, hi_a), (lo_b, hi_b) in zip(a, b))


def _reads_updates(plan: BlockPlan, head: Op, op: Op) -> bool:
    """Does op's update read the buffer written by the group (through anything
    computed in its loop)?"""
    written = {head.inputs[0].id, head.out.id} | {o.out.id for o in plan.update_group.get(id(head), [])}
    return bool(_reached(plan, [_update_of(plan, op)]) & written)


def _same_walk(a: Op, b: Op) -> bool:
    return (a.inputs[1] is b.inputs[1] and a.attrs["axis"] == b.attrs["axis"]
            and tuple(a.inputs[2].shape) == tuple(b.inputs[2].shape))


def _reads_group(plan: BlockPlan, head: Op, op: Op) -> bool:
    written = {head.out.id} | {o.out.id for o in plan.scatter_group.get(id(head), [])}
    return any(v.id in written for v in op.inputs)


def permutation(op: Op) -> tuple[int, ...] | None:
    """The axes a transpose permutes (None for any other op)."""
    return tuple(op.attrs["perm"]) if op.prim.name == "transpose" else None


def read_through(op: Op, plan: BlockPlan) -> bool:
    """May a nest read this transpose's base instead? Only while the base is
    surely unchanged: the transpose is never made (its base counts as used at
    its readers) or it is a view (`.T`, an alias the ownership rules follow).
    A transpose made as a copy is read as itself: its base may be updated in
    place after the copy."""
    perm = permutation(op)
    if perm is None or is_reshape_like(op):
        return False
    return id(op) in plan.skip or perm == tuple(reversed(range(len(perm))))


def base_index(perm: tuple, idx: list) -> list:
    """The index into a transpose's base of the element at `idx` of the transpose
    (`read_through`): axis k of the transpose is axis perm[k] of the base."""
    base = [""] * len(perm)
    for k, p in enumerate(perm):
        base[p] = idx[k]
    return base


def _skip_read_through_transposes(block: Block, plan: BlockPlan, uses: dict[int, list[Use]]) -> None:
    """A transpose read only by loop nests is never made: the nests read its
    base at the permuted index. Its base counts as used where the last of
    those nests is."""
    for op in block.ops:
        if permutation(op) is None or is_reshape_like(op) or id(op) in plan.skip:
            continue
        us = uses.get(op.out.id, [])
        if not us or any(u.op is None or u.nested or not plan.fusible(u.op) for u in us):
            continue
        if any(isinstance(d, Dim) for d in op.out.shape):
            continue
        plan.skip.add(id(op))
        plan.position[id(op)] = max(plan.position.get(id(u.op), block.ops.index(u.op)) for u in us)


def _skip_views(block: Block, plan: BlockPlan, uses: dict[int, list[Use]], slices: bool, unit_reshapes: bool) -> None:
    """Static slices (`slices`) and unit-axes reshapes (`unit_reshapes`) that
    only loop nests read, directly or through other such views, are never
    made (`_skip_read_through_slice`, `_skip_unit_reshape`). Last op
    first, so a view's readers are decided before it: the vectorizer's
    `u[i+1, j]` over a 2-d loop is a chain slice, reshape (a unit axis in),
    slice, reshape (out), and only its last link was read by a nest, so the
    rest were made. Read through the made 3-d slices, whose last axis Numba
    types as strided, LLVM vectorized with gathers: numba-benchmark's
    centered difference (250 x 250) ran at 0.66x numba.njit."""
    disjoint = set().union(*plan.disjoint_views.values()) if plan.disjoint_views else set()
    for op in reversed(block.ops):
        if slices and op.prim.name == "slice":
            _skip_read_through_slice(block, plan, op, uses, disjoint)
        elif slices and op.prim.name == "concatenate":
            _skip_join(block, plan, op, uses)
        elif unit_reshapes and is_reshape_like(op):
            _skip_unit_reshape(block, plan, op, uses)


def _skip_read_through_slice(block: Block, plan: BlockPlan, op: Op, uses: dict[int, list[Use]],
                             disjoint: set[int]) -> None:
    """A static slice read only by loop nests is never made: the nests read its
    base at the shifted (and strided) index. Its base counts as used where the
    last of those nests is. Making the view is the costly part for Numba, not
    for the machine: each 2-d slice took about 17 ms to compile, 35 of them
    0.6 s of harris_response's. A slice an update reads away from the part it
    writes (`disjoint_views`) stays a view: the update's ownership check names it."""
    if id(op) in plan.skip or op.out.id in disjoint:
        return
    if any(isinstance(d, Dim) for d in (*op.inputs[0].shape, *op.out.shape)) or op.out.ndim == 0:
        return
    if _read_only_by_nests(plan, op, uses, is_fusible):
        _place_at_last_reader(block, plan, op, uses)


def _skip_join(block: Block, plan: BlockPlan, op: Op, uses: dict[int, list[Use]]) -> None:
    """concatenate(pieces) read only by loop nests (directly or through views
    never made) -> never made: a nest reads each element from the piece that
    holds it (codegen/cpu/shape.py `join_element`). np.roll, an edge pad
    `np.concatenate(([x[0]], x, [x[-1]]))` and np.hstack each copied the
    whole array first: a 4-roll Laplacian of 1500 x 1500 made four 18 MB
    copies, 36 ms against NumPy's 5.3. Its pieces count as used where its
    last reader is. Only pieces read as they are stored (a piece computed in
    the reading nest would be computed for every element, in every piece's
    branch), and not where a write computing its update in its store loop
    would read, through the join, the memory it writes (`u[1:] = join * 2`
    with u among the pieces): the copy is what keeps that exact."""
    if id(op) in plan.skip or op.out.ndim == 0 or 0 in op.out.shape:
        return
    if any(isinstance(d, Dim) for x in (*op.inputs, op.out) for d in x.shape):
        return
    if any(_computed_in_nest(plan, x) for x in op.inputs) or not _read_only_by_nests(plan, op, uses, is_fusible):
        return
    plan.joins.add(id(op))
    if _write_reads_own_memory(block, plan):
        plan.joins.discard(id(op))
        return
    _place_at_last_reader(block, plan, op, uses)


def _computed_in_nest(plan: BlockPlan, v: Value) -> bool:
    """Is v, or the source of a view chain ending in v, computed inside the nests that read it?"""
    while True:
        if v.id in plan.inlined:
            return True
        op = plan.producer.get(v.id)
        if op is None or not op.inputs or op.prim.name not in ("slice", "transpose", "reshape"):
            return False
        v = op.inputs[0]


def _write_reads_own_memory(block: Block, plan: BlockPlan) -> bool:
    """Does a slice write or a scatter whose update (or index) is computed in
    its store loop read the memory it writes (through the plan's joins)? Any
    overlap counts, as the write's store loop may run before the read."""
    for w in block.ops:
        if w.prim.name in ("update_slice", "dynamic_update_slice"):
            computed = [plan.update_from.get(id(w), w.inputs[1])]
        elif w.prim.name == "scatter":
            computed = list(w.inputs[1:])
        else:
            continue
        if any(v.id in plan.inlined and _reads_root_of(plan, v, w.inputs[0]) for v in computed):
            return True
    return False


def slice_read(op: Op, plan: BlockPlan, idx: list[str]) -> list[str] | None:
    """The base's index for element `idx` of a slice that is never made (None
    for any other op)."""
    if op.prim.name != "slice" or id(op) not in plan.skip:
        return None
    a = op.attrs  # starts, stops and steps may leave trailing axes whole
    return [_shifted(i, start, step) for i, start, step in zip(idx, a["starts"], a["steps"])] + idx[len(a["starts"]):]


def _shifted(i: str, start: int, step: int) -> str:
    if i.isdigit():  # a literal position (a loop of one element, an axis of length 1)
        return str(start + int(i) * step)
    scaled = i if step == 1 else f"{i} * {step}"
    return scaled if start == 0 else f"({start} + {scaled})"


def _read_only_by_nests(plan: BlockPlan, op: Op, uses: dict[int, list[Use]], fusible=None) -> bool:
    """Do loop nests (ops `fusible` says so of, by default the plan's) read op
    and nothing else, directly or through views never made (`_skipped_view`)?"""
    fusible = fusible or plan.fusible
    us = uses.get(op.out.id, [])
    return bool(us) and all(u.op is not None and not u.nested and (fusible(u.op) or _skipped_view(plan, u.op))
                            for u in us)


def _skipped_view(plan: BlockPlan, op: Op) -> bool:
    """Is op a view that is never made, the nests reading its base instead
    (a unit-axes reshape, a static slice, a transpose; Fuser._through_transpose
    follows a chain of them)?"""
    return id(op) in plan.unit_reshapes or id(op) in plan.joins or id(op) in plan.skip \
        and op.prim.name in ("slice", "transpose") and not is_reshape_like(op)


def _place_at_last_reader(block: Block, plan: BlockPlan, op: Op, uses: dict[int, list[Use]]) -> None:
    plan.skip.add(id(op))
    plan.position[id(op)] = max(plan.position.get(id(u.op), block.ops.index(u.op)) for u in uses[op.out.id])


def unit_axes_only(src_shape: tuple, out_shape: tuple) -> bool:
    """Is reshaping src_shape to out_shape only adding or dropping unit axes?"""
    return [d for d in src_shape if d != 1] == [d for d in out_shape if d != 1]


def unit_reindex(src_shape: tuple, out_shape: tuple, idx: list[str]) -> list[str]:
    """The index into the source of a unit-axes reshape for element `idx` of
    its output: the non-unit axes pair up in order, a unit axis of the source
    is 0."""
    kept = iter(i for i, d in zip(idx, out_shape) if d != 1)
    return ["0" if d == 1 else next(kept) for d in src_shape]


def _skip_unit_reshape(block: Block, plan: BlockPlan, op: Op, uses: dict[int, list[Use]]) -> None:
    """A reshape that only adds or drops unit axes, read only by loop nests,
    is never made (no `np.ascontiguousarray(x).reshape(...)`, which copies a
    strided x and costs Numba compile time): the nests read its source at
    `unit_reindex`. Like a skipped transpose, its source counts as used where
    the last of those nests is."""
    if id(op) in plan.skip or id(op) in plan.slice_into:
        return
    src = plan.reshape_from.get(id(op), op.inputs[0])
    if op.out.ndim == 0 or not unit_axes_only(tuple(src.shape), tuple(op.out.shape)):
        return  # (a scalar source: the nests read the scalar, not a filled array made per step)
    if any(isinstance(d, Dim) for d in (*src.shape, *op.out.shape)) or not _read_only_by_nests(plan, op, uses):
        return
    plan.unit_reshapes.add(id(op))
    _place_at_last_reader(block, plan, op, uses)


def _positions(block: Block, plan: BlockPlan) -> set[int]:
    """Values computed from iotas and broadcast scalars by cheap elementwise
    ops and broadcasts (with scalars and constants): `i - k`, `i - k >= 0`,
    an array of ones. Cheaper to recompute in every nest that reads them than
    to store and load, and they read no array a nest could be writing."""
    pos: set[int] = set()
    for op in block.ops:
        if len(op.outputs) != 1 or not op.out.ndim or any(isinstance(d, Dim) for d in op.out.shape):
            continue
        name = op.prim.name
        if name == "iota" or name == "broadcast_to" and op.inputs[0].ndim == 0:
            pos.add(op.out.id)
        elif plan.unit_reshape_reads and is_reshape_like(op) and op.inputs[0].id in pos \
                and unit_axes_only(tuple(op.inputs[0].shape), tuple(op.out.shape)):
            pos.add(op.out.id)  # read through to its source, which nests then compute
        elif (name == "broadcast_to" or op.prim.elementwise and op.prim.cheap) and \
                any(u.id in pos for u in op.inputs) and \
                all(u.ndim == 0 or u.is_const or u.id in pos for u in op.inputs):
            pos.add(op.out.id)
    return pos


SPREAD_COST = 3  # ops per element at least, for a value read at many more elements to be stored
SPREAD_RATIO = 8  # elements read per element computed, at least


def _spread_costly(plan: BlockPlan, op: Op, uses: dict[int, list[Use]]) -> bool:
    """Is op a chain of several ops whose value a nest reads at many more
    elements than it has (through a broadcast: a row's position read at every
    element of the row)? Then it is stored at its own shape, and the nest
    reads it: recomputed there, the chain ran once per element instead of
    once per row (bilinear_resize: the row's int(), wraparound and offset,
    and the column's, in every one of 600 x 800 elements). Not a mask: a
    select on a stored bool array stays branches (`_cheap_read`)."""
    if len(op.outputs) != 1 or not op.out.ndim or op.out.dtype.kind == "b":
        return False
    if any(isinstance(d, Dim) for d in op.out.shape):
        return False
    if _widest_reader(plan, op.out, uses) < SPREAD_RATIO * prod(op.out.shape):
        return False
    ops = nest_ops(op, plan)
    free = _free_positions(plan, ops)
    return sum(_recompute_cost(o) for o in ops if id(o) not in free) >= SPREAD_COST


def _free_positions(plan: BlockPlan, ops: list[Op]) -> set[int]:
    """The ops among `ops` (a nest's, its root first) that are integer or
    boolean arithmetic of iotas and constants alone, which cannot raise:
    `(i + 1) + (r - 1)`, `j - i >= 1`. A nest computes them from its loop
    variables with no load, and vectorizes them; stored, they would be
    loads (and an affine read would become a read through an array)."""
    free: set[int] = set()
    grew = True
    while grew:  # until no op joins (the nest's ops are few)
        grew = False
        for o in ops:
            if id(o) not in free and _free_position(plan, o, free):
                free.add(id(o))
                grew = True
    return free


def _free_position(plan: BlockPlan, o: Op, free: set[int]) -> bool:
    def made_free(u: Value) -> bool:
        made = plan.producer.get(u.id)
        return made is not None and id(made) in free

    if o.prim.name == "iota":
        return True
    if o.prim.name in ("broadcast_to", "reshape"):
        return made_free(o.inputs[0])
    return (o.prim.elementwise and o.prim.cheap and not o.prim.may_raise and len(o.outputs) == 1
            and o.out.dtype.kind in "iub" and all(u.ndim == 0 or u.is_const or made_free(u) for u in o.inputs))


def _recompute_cost(op: Op) -> int:
    """One per elementwise op recomputed at each element, three for one that
    may raise (pyint: a test and a branch per element)."""
    if not op.prim.elementwise:
        return 0
    return 3 if op.prim.may_raise else 1


def _widest_reader(plan: BlockPlan, v: Value, uses: dict[int, list[Use]]) -> int:
    """The most elements a loop nest reading v computes, through the
    broadcasts and unit-axes reshapes that nests read through."""
    widest = 0
    for u in uses.get(v.id, []):
        if u.op is None or u.nested or len(u.op.outputs) > 1:
            continue
        if u.op.prim.name == "check":
            space = tuple(u.op.inputs[0].shape)
        elif u.op.prim.name == "broadcast_to" or is_reshape_like(u.op) and unit_axes_only(
                tuple(v.shape), tuple(u.op.out.shape)):
            widest = max(widest, _widest_reader(plan, u.op.out, uses))
            continue
        else:
            space = _space(u.op)
        if space is not None and not any(isinstance(d, Dim) for d in space):
            widest = max(widest, prod(space))
    return widest


def _cheap_read(plan: BlockPlan, op: Op, uses: dict[int, list[Use]]) -> bool:
    """A cheap elementwise op read by several nests, each of which recomputes
    it instead of reading it back:
    - of one stored array of its shape and scalars (`y > 0.0`): one load and
      one instruction. A stored boolean mask is the case that matters: a
      select on a mask loaded from memory stays branches in LLVM (4.5 ms per
      10^6 elements), on a comparison it vectorizes (0.4 ms);
    - or a few cheap ops (the chain inlined into it) of arrays that it
      broadcasts, each with fewer elements than it: a one-hot matrix
      `(labels[:, None] == groups[None, :]).astype(float)`, (200000, 16),
      read by a product and a sum, is computed in both nests from labels and
      groups instead of being written (25.6 MB) and read back twice.
    The arrays read count as used where the last reader is (plan_block)."""
    if op.prim.name == "gather" and len(uses.get(op.out.id, [])) >= 2 \
            and window_masked(op.inputs[1], plan.everywhere):
        return True  # `x[cols[ptr[i]:ptr[i + 1]]]` read by several folds, each over its window alone
    if len(op.outputs) != 1 or not (op.prim.elementwise and op.prim.cheap) or not op.out.ndim:
        return False
    if any(isinstance(d, Dim) for d in op.out.shape) or len(uses.get(op.out.id, [])) < 2:
        return False
    arrays = [u for u in op.inputs if u.ndim and not u.is_const]
    if len(arrays) == 1 and arrays[0].id not in plan.inlined and tuple(arrays[0].shape) == tuple(op.out.shape):
        return True
    reads = _cheap_chain_reads(plan, op, budget=[CHEAP_CHAIN])
    if reads is None:
        return False
    size = prod(op.out.shape)
    # one array of its own shape at most (read several times: `(p >= lo) & (p < hi)` of positions p)
    whole = {v.id for v in reads if prod(v.shape) >= size}
    return len(whole) <= 1 and all(prod(v.shape) < size or tuple(v.shape) == tuple(op.out.shape)
                                   for v in reads)


CHEAP_CHAIN = 4  # cheap ops at most in a chain each reader recomputes


def _cheap_chain_reads(plan: BlockPlan, op: Op, budget: list[int]) -> list[Value] | None:
    """The stored arrays read by the element of `op` and of the values
    inlined into it, when all of them are cheap elementwise ops (at most
    `budget` of them); None otherwise."""
    budget[0] -= 1
    if budget[0] < 0 or len(op.outputs) != 1 or not (op.prim.elementwise and op.prim.cheap):
        return None
    reads: list[Value] = []
    for u in op.inputs:
        if u.ndim == 0 or u.is_const:
            continue
        src = plan.producer.get(u.id)
        if u.id in plan.inlined and src is not None and src.prim.name == "iota":
            continue  # a position: the loop variable, no read (a slice's mask `lo <= p < hi`)
        if u.id in plan.inlined and src is not None:
            inner = _cheap_chain_reads(plan, src, budget)
            if inner is None:
                return None
            reads += inner
        else:
            reads.append(u)
    return reads


def _recomputable(plan: BlockPlan, v: Value, uses: dict[int, list[Use]], block: Block) -> bool:
    """Is every use of v a nest of this block that can compute it in place
    (directly, or through a unit-axes reshape that only nests read)?"""
    us = uses.get(v.id, [])
    return bool(us) and all(u.op is not None and not u.nested and
                            (_reads_in_place(plan, u.op, v) or _read_through_unit_reshape(plan, u.op, uses))
                            for u in us)


def _read_through_unit_reshape(plan: BlockPlan, op: Op, uses: dict[int, list[Use]]) -> bool:
    """Will `op` be a unit-axes reshape that is never made (`_skip_unit_reshape`
    decides the same way), its readers reading its source in their nests?"""
    if not plan.unit_reshape_reads or not is_reshape_like(op) or id(op) in plan.skip or id(op) in plan.slice_into:
        return False
    src = plan.reshape_from.get(id(op), op.inputs[0])
    if op.out.ndim == 0 or not unit_axes_only(tuple(src.shape), tuple(op.out.shape)):
        return False
    if any(isinstance(d, Dim) for d in (*src.shape, *op.out.shape)):
        return False
    return _read_only_by_nests(plan, op, uses)


def _fits_through_unit_reshape(plan: BlockPlan, reshape: Op, uses: dict[int, list[Use]]) -> bool:
    """Is `reshape` a unit-axes reshape the nests read through
    (`_skip_unit_reshape`) whose one reader computes its elements in its own
    nest? Then what the reshape reads is computed there too, instead of being
    stored and read back: nbody_numpy's differences `r[:, :, 0:1]`
    (n, n, 1), reshaped to (n, n) and squared, are computed in the nest of
    the square (they were two stored (4096, 4096, 1) arrays, 64 MB each;
    its factor s, broadcast over the coordinates, stays one). Not a fold: the nest of
    `x.sum(axis=0)[None, :] / n` would not see its sum's columns (the
    interchange in codegen/cpu/nest.py compares the fold's shape with its
    own), and column_variance read x down its columns at 0.65x the speed."""
    if not _read_through_unit_reshape(plan, reshape, uses):
        return False
    reader = only_consumer(uses, reshape.out)
    return reader is not None and plan.fusible(reader) and _fits(plan, reshape.out, reader)


def _fits_through_transpose(plan: BlockPlan, transpose: Op, uses: dict[int, list[Use]]) -> bool:
    """Is `transpose` one the nests read through (`_skip_read_through_transposes`
    decides the same way) whose one reader computes its elements in its own
    nest? Then what it permutes is computed there too, at the permuted index,
    instead of being stored and read back across its strides:
    random_walk_msd's `pos[:, lag:] - pos[:, :-lag]` over all lags is a
    gather (walker, lag, t, c) transposed to (lag, walker, t, c), which was
    stored (200 x 199 x 400 x 2, 255 MB) for a sum that reads it once. Not a
    fold (as `_fits_through_unit_reshape`)."""
    if permutation(transpose) is None or is_reshape_like(transpose) or id(transpose) in plan.skip:
        return False
    if any(isinstance(d, Dim) for d in transpose.out.shape):
        return False
    us = uses.get(transpose.out.id, [])
    if len(us) != 1 or us[0].op is None or us[0].nested or not plan.fusible(us[0].op):
        return False
    return _fits(plan, transpose.out, us[0].op)


def _reads_in_place(plan: BlockPlan, consumer: Op, v: Value) -> bool:
    """Can `consumer` compute the array-free value v at each element it reads?
    A gather and a scatter read their array (input 0) at data-dependent
    positions, so only their other inputs; a scatter is a statement whose
    loop computes its index and update in place (codegen/cpu/indexing.py)."""
    if consumer.prim.name in ("gather", "scatter"):
        return consumer.inputs[0] is not v
    return plan.fusible(consumer)


def _root(plan: BlockPlan, v: Value) -> int:
    """The array whose memory v may be a view of (through view ops of this block)."""
    op = plan.producer.get(v.id)
    while op is not None and op.prim.view and op.inputs:
        v = op.inputs[0]
        op = plan.producer.get(v.id)
    return v.id


_SAFE_VIEWS = ("slice", "reshape", "transpose", "broadcast_to")  # views that cannot raise


def constant_fill(producers: dict[int, Op], v: Value) -> Value | None:
    """The 0-d constant every element of v is, where v is a constant fill
    (np.zeros, np.full: a broadcast of a constant scalar) or a view of one
    that cannot raise: its elements are that constant, whatever its memory
    holds (a nest reads the literal, `Fuser.value_at`; the memory of a fill
    read only so need not be filled, `_fills_around_write`)."""
    op = producers.get(v.id)
    while op is not None and op.prim.name in _SAFE_VIEWS and op.inputs:
        src = op.inputs[0]
        if op.prim.name == "broadcast_to" and src.ndim == 0:
            return src if src.is_const and src.dtype == v.dtype else None
        op = producers.get(src.id)
    return None


def _reads_root_of(plan: BlockPlan, v: Value, x: Value, write: Op | None = None,
                   element_of: Value | None = None, views: list | None = None) -> bool:
    """Would computing v in place read memory of x (directly or through a
    view)? A scatter that updates x in place must not read x while it writes.
    With `write` (an update_slice), a static slice of x itself that lies
    away from the written box is no conflict; with `element_of` (the update
    the write stores, v read at its elements), neither is a slice read
    element for element that meets the box only at the element stored
    there (`_same_element_read`, its views added to `views`), and a
    unit-axes reshape of a value computed in the nest is seen through."""
    target = _root(plan, x)
    start = element_of is not None and unit_axes_only(v.shape, element_of.shape)
    stack, seen = [(v, start)], set()
    while stack:
        u, aligned = stack.pop()
        if (u.id, aligned) in seen or u.is_const or u.ndim == 0 \
                or constant_fill(plan.everywhere or plan.producer, u) is not None:
            continue  # (a constant fill is read as its constant, never from memory)
        seen.add((u.id, aligned))
        op = plan.producer.get(u.id)
        if u is v or u.id in plan.inlined or op is not None and id(op) in plan.joins:
            if op is None:
                return True  # an argument of the block: read as it is
            pointwise = aligned and (op.prim.elementwise or op.prim.name == "broadcast_to") and id(op) not in plan.joins
            stack.extend((w, pointwise and _same_positions(w.shape, op.out.shape)) for w in op.inputs)
        elif element_of is not None and _computed_reshape(plan, op):
            stack.append((op.inputs[0], aligned and unit_axes_only(op.inputs[0].shape, u.shape)))
        elif _root(plan, u) == target and not _disjoint_read(plan, u, x, write) \
                and not (aligned and _same_element_read(plan, u, element_of, x, write, views=views)):
            return True
    return False


def _same_positions(shape: tuple, out_shape: tuple) -> bool:
    """Is an operand of this shape read, inside a nest over out_shape, at the
    element the nest is at (NumPy broadcasting that adds only leading unit axes)?"""
    lead = len(out_shape) - len(shape)
    return lead >= 0 and all(d == 1 for d in out_shape[:lead]) and tuple(shape) == tuple(out_shape[lead:])


def _computed_reshape(plan: BlockPlan, op: Op | None) -> bool:
    """Is op a reshape of a value computed in the nest that reads it (read through, never made)?"""
    return op is not None and is_reshape_like(op) and op.inputs[0].id in plan.inlined


def _same_element_read(plan: BlockPlan, u: Value, v: Value | None, x: Value, write: Op | None,
                       exact: bool = False, views: list | None = None) -> bool:
    """Is u, read at each element of the update v (same shape, element for
    element), a slice of x through unit-axes reshapes that shares with the
    box `write` writes only the element written at that same position? Each
    element is read before it is stored, and no other element's store
    reaches it: `r[i, :] = where(r[k, :], True, r[i, :])` in place (the row
    k may be the row i). The axes the box spans must be the slice's, at the
    same starts; on the others both are one long (`exact`: at the same
    starts too, so u is the very element stored). The views from u down to
    the slice go to `views`."""
    if write is None or v is None or not unit_axes_only(u.shape, v.shape):
        return False
    chain, read = [u.id], plan.producer.get(u.id)
    while read is not None and is_reshape_like(read) and unit_axes_only(read.inputs[0].shape, read.out.shape):
        read = plan.producer.get(read.inputs[0].id)
        chain.append(read.out.id if read is not None else -1)
    box, region = _written_region(write), _read_region(read, x)
    if box is None or region is None or len(box) != len(region):
        return False
    for (ws, wn), (rs, rn) in zip(box, region):
        if wn != rn or ((wn != 1 or exact) and not _same_start(ws, rs)):
            return False
    if views is not None:
        views.extend(chain)
    return True


def _masked_update(plan: BlockPlan, v: Value, write: Op) -> bool:
    """Is the update v `select(c, new, old)` (or `select(c, old, new)`, or a
    chain of them), where old is the very element of the target stored at
    each position? Storing old changes nothing, so the write stores new
    where the conditions hold and nothing elsewhere (`masked_updates`), in
    place: new and the conditions may read the target only element for
    element (`_same_element_read`). A full store of the select reads and
    writes one row of the target in one loop, which LLVM leaves scalar
    (it cannot prove the rows apart); the masked store vectorizes
    (transitive closure's `if r[k, j]: r[i, j] = True`, 250 x 250: 7 ms
    in place, 2.7 ms through a temporary row, 0.27 ms masked)."""
    x, conds, new, views = write.inputs[0], [], v, []
    while True:
        sel = plan.producer.get(new.id)
        if new is not v and _computed_reshape(plan, sel) and unit_axes_only(sel.inputs[0].shape, new.shape):
            new = sel.inputs[0]  # a unit-axes reshape of a select computed in the nest
            continue
        if sel is None or sel.prim.name != "select" or not (new is v or new.id in plan.inlined):
            break
        c, a, b = sel.inputs
        if _same_positions(b.shape, sel.out.shape) and _is_old(plan, b, v, x, write, views):
            conds.append((c, True))
            new = a
        elif _same_positions(a.shape, sel.out.shape) and _is_old(plan, a, v, x, write, views):
            conds.append((c, False))
            new = b
        else:
            break
    if not conds or any(_reads_target(plan, u, v, x, write, views) for u in (new, *(c for c, _ in conds))):
        return False
    plan.masked_updates[id(write)] = (new, conds, views)
    return True


def _reads_target(plan: BlockPlan, u: Value, v: Value, x: Value, write: Op, views: list) -> bool:
    """Does u, read (or computed, where inlined) at each element of the update v,
    read memory of x other than element for element (`_same_element_read`)?"""
    if u.id in plan.inlined or _computed_reshape(plan, plan.producer.get(u.id)):
        return _reads_root_of(plan, u, x, write, element_of=v, views=views)
    if u.is_const or u.ndim == 0 or constant_fill(plan.everywhere or plan.producer, u) is not None:
        return False
    return _root(plan, u) == _root(plan, x) and not _same_element_read(plan, u, v, x, write, views=views)


def _is_old(plan: BlockPlan, u: Value, v: Value, x: Value, write: Op, views: list) -> bool:
    """Is u (not computed in the nest) the element of x that `write` stores at each position?"""
    return u.id not in plan.inlined and _same_element_read(plan, u, v, x, write, exact=True, views=views)


def _masked_in_place(block: Block, plan: BlockPlan, uses: dict[int, list[Use]], index: dict) -> None:
    """A masked update reads views of its target where it stores: they do not
    keep it from writing the target in place (`disjoint_views`) unless one is
    read after the write, which must see the old elements (then the target
    is copied, and the store writes the copy)."""
    for op in block.ops:
        masked = plan.masked_updates.get(id(op))
        if masked is None:
            continue
        at = plan.position.get(id(op), index[id(op)])
        later = any(u.op is None or plan.position.get(id(u.op), index[id(u.op)]) > at
                    for vid in masked[2] for u in uses.get(vid, []))
        if not later:
            plan.disjoint_views.setdefault(id(op), set()).update(masked[2])


def _written_region(write: Op) -> list[tuple] | None:
    """(start, size) per axis of the box an update writes; a start is an int or a Value."""
    if write.prim.name == "dynamic_update_slice":
        x, upd, starts = write.inputs[0], write.inputs[1], write.inputs[2:]
        if any(isinstance(d, Dim) for d in (*upd.shape, *x.shape)):
            return None
        return [(starts[a] if a < len(starts) else 0, upd.shape[a]) for a in range(x.ndim)]
    box = _written_box(write)
    return None if box is None else [(lo, hi - lo) for lo, hi in box]


def _read_region(read: Op | None, x: Value) -> list[tuple] | None:
    """(start, size) per axis of x that a dynamic_slice or a static unit-step slice of x reads."""
    if read is None or read.inputs[0] is not x or any(isinstance(d, Dim) for d in (*x.shape, *read.out.shape)):
        return None
    if read.prim.name == "dynamic_slice":
        starts, sizes = read.inputs[1:], read.attrs["sizes"]
        return [(starts[a], sizes[a]) if a < len(sizes) else (0, x.shape[a]) for a in range(x.ndim)]
    if read.prim.name == "slice":
        r = read.attrs
        if any(st != 1 for st in r["steps"]) or any(e < 0 for e in (*r["starts"], *r["stops"])):
            return None
        return [(lo, hi - lo) for lo, hi in zip(r["starts"], r["stops"])]
    return None


def _same_start(a, b) -> bool:
    """Are two starts (ints or scalar Values) the same number?"""
    a, b = (int(s.const) if isinstance(s, Value) and s.is_const else s for s in (a, b))
    if isinstance(a, Value) or isinstance(b, Value):
        return a is b or isinstance(a, Value) and isinstance(b, Value) and a.id == b.id
    return a == b


def _disjoint_read(plan: BlockPlan, u: Value, x: Value, write: Op | None) -> bool:
    """Is u (through reshapes) a static slice of x that shares no element with
    the box `write` (an update_slice, or a dynamic_update_slice at constant
    starts) writes?"""
    box = _written_box(write) if write is not None else None
    read = plan.producer.get(u.id)
    while read is not None and is_reshape_like(read):
        read = plan.producer.get(read.inputs[0].id)
    if box is None or read is None or read.prim.name != "slice" or read.inputs[0] is not x:
        return False
    r = read.attrs
    if any(st != 1 for st in r["steps"]) or any(e < 0 for e in r["stops"]):
        return False
    if not any(r_hi <= w_lo or w_hi <= r_lo for r_lo, r_hi, (w_lo, w_hi) in zip(r["starts"], r["stops"], box)):
        return False
    plan.disjoint_views.setdefault(id(write), set()).add(read.out.id)
    return True


def _written_box(write: Op) -> list[tuple[int, int]] | None:
    if write.prim.name == "update_slice":
        a = write.attrs
        if any(st != 1 for st in a["steps"]) or any(e < 0 for e in a["stops"]):
            return None
        return list(zip(a["starts"], a["stops"]))
    if write.prim.name == "dynamic_update_slice":
        upd, starts = write.inputs[1], write.inputs[2:]
        if not all(v.is_const for v in starts) or any(isinstance(d, Dim) for d in upd.shape):
            return None
        return [(int(v.const), int(v.const) + d) for v, d in zip(starts, upd.shape)]
    return None


def covered_box(write: Op) -> list[tuple[int, int]] | None:
    """The static box of elements a write stores, as a set: like
    `_written_box`, and also an update_slice walking an axis backwards one
    at a time (`out[n - 1::-1] = y`, a negative-step loop's stacked output),
    which covers the same elements as the forward slice. For the uses that
    ask only which elements are written (fills, destinations), never for
    which update element goes where."""
    if write.prim.name != "update_slice":
        return _written_box(write)
    box = []
    for lo, hi, st in zip(write.attrs["starts"], write.attrs["stops"], write.attrs["steps"]):
        if st == 1 and hi >= 0:
            box.append((lo, hi))
        elif st == -1 and lo >= 0:
            box.append((max(hi, -1) + 1, lo + 1))  # (a negative stop: through element 0)
        else:
            return None
    return box


def _fits(plan: BlockPlan, v: Value, consumer: Op) -> bool:
    """Can v be computed element by element inside consumer's loop nest?"""
    if any(isinstance(d, Dim) for d in v.shape):
        return False
    if consumer.prim.name == "scatter" and plan.gathers:  # its index or update, unless it reads the target
        return consumer.inputs[0] is not v and not _reads_root_of(plan, v, consumer.inputs[0])
    if consumer.prim.name == "check" and plan.gathers:  # a predicate (or its value) computed in the check's loop
        return v.ndim > 0 and tuple(v.shape) == tuple(consumer.inputs[0].shape)
    if consumer.prim.name in ("update_slice", "dynamic_update_slice") and plan.gathers:
        # the update, computed in the store's loop: it may read the target only
        # through static slices away from the part written (z[..., 2] from z[..., 0])
        update = plan.update_from.get(id(consumer), consumer.inputs[1])
        if update is not v or v.ndim == 0:
            return False
        return not _reads_root_of(plan, v, consumer.inputs[0], consumer) or _masked_update(plan, v, consumer)
    if not plan.fusible(consumer):
        return False
    if consumer.prim.name == "gather":  # its index, at the index's own positions; never the array read
        return consumer.inputs[0] is not v
    made = plan.producer.get(v.id)
    if made is not None and made.prim.name == "iota":  # only a loop variable: free at any broadcast index
        return True
    if is_fold(consumer):
        return True
    return tuple(consumer.out.shape) == tuple(v.shape)


def _plan_peepholes(block: Block, plan: BlockPlan, uses: dict[int, list[Use]]) -> None:
    for op in block.ops:
        if op.prim.name != "dynamic_update_slice":
            continue
        upd = op.inputs[1]
        r = plan.producer.get(upd.id)
        if r is None or r.prim.name != "reshape" or only_consumer(uses, upd) is not op:
            continue
        want, _ = unit_dropped(upd.shape, len(op.inputs) - 2, upd.shape)
        if tuple(r.inputs[0].shape) == want:
            plan.update_from[id(op)] = r.inputs[0]
            plan.update_reshapes[id(r)] = op
            plan.skip.add(id(r))
    for op in block.ops:
        if op.prim.name != "reshape" or id(op) in plan.skip:
            continue
        x = op.inputs[0]
        d = plan.producer.get(x.id)
        if d is None or d.prim.name != "dynamic_slice" or only_consumer(uses, x) is not op:
            continue
        want, _ = unit_dropped(x.shape, len(d.inputs) - 1, d.attrs["sizes"])
        if tuple(op.out.shape) == want and not _element_only(op.out, uses):
            plan.slice_into[id(op)] = d
            plan.skip.add(id(d))
    _fold_reshape_chains(block, plan, uses)
    _element_reads(block, plan, uses)


def _element_reads(block: Block, plan: BlockPlan, uses: dict[int, list[Use]]) -> None:
    """A dynamic_slice or static slice of one element of its array (`key = a[i]`,
    `a[j], a[j + 1] = a[j + 1], a[j]`, `x = y[0]`) whose every reader only takes
    that element (a reshape, a dynamic_update_slice writing it, a loop storing
    it as a stacked row, `_stacked_rows`) is read as a scalar where it stands. As a view
    it shared the array's memory until its last reader, so a write into the array
    before then (the swap's first store, the while loop shifting `a` before `a[j +
    1] = key`) could not happen in place: the whole array was copied once per
    element moved or per outer step (insertion and bubble sort 30x slower than
    Numba). The element read is a value, as the IR means it."""
    rows = _stacked_rows(block, plan)
    for op in block.ops:
        if op.prim.name == "reshape" and op.inputs[0].ndim == 0 and id(op) not in plan.skip \
                and _element_only(op.out, uses):
            # a scalar as a one-element array only written as its element (`stack.append(bi)` into
            # two stacks): the scalar itself, not an array made for it per step (probe W)
            plan.element_reads.add(id(op))
            continue
        if op.prim.name not in ("dynamic_slice", "slice") or id(op) in plan.skip:
            continue
        v, x = op.out, op.inputs[0]
        if len(op.inputs) - 1 > x.ndim or not v.shape or any(isinstance(d, Dim) or d != 1 for d in v.shape):
            continue
        us = uses.get(v.id, [])
        if us and all(u.op is None and v.id in rows if u.op is None else not u.nested and _takes_element(u.op, v)
                      for u in us):
            plan.element_reads.add(id(op))
            for u in us:  # a reshape of it read only for its element is that scalar too, not an array
                if u.op is None:
                    continue
                w = u.op.out
                if is_reshape_like(u.op) and u.op.prim.name == "reshape" and w.ndim and all(
                        d == 1 for d in w.shape) and (ws := uses.get(w.id)) and all(
                        r.op is not None and not r.nested and _takes_element(r.op, w) and not is_reshape_like(r.op)
                        for r in ws):
                    plan.element_reads.add(id(u.op))


def _stacked_rows(block: Block, plan: BlockPlan) -> set[int]:
    """Ids of the values a for_loop body yields only as stacked rows (after
    its carries), which the loop stores element by element (regions.py):
    one element of them is read as a scalar as well as from an array. The
    old value of `y[0]` kept across the write of `y[1]` (`out[t, 0] = y[0]`
    after `y[1] = ...` in a scan) was a one-element view, so the write
    copied it: an allocation per step (probe G's Lotka-Volterra scan)."""
    loop = next((o for o in plan.everywhere.values() if o.prim.name == "for_loop"
                 and any(b is block for b in o.blocks)), None)
    if loop is None:
        return set()
    n_carry = len(block.args) - 1
    carried = {v.id for v in block.results[:n_carry]}
    return {v.id for v in block.results[n_carry:] if v.id not in carried}


def _element_only(w: Value, uses: dict[int, list[Use]]) -> bool:
    """Is w one element that every reader takes only as that element (its
    dynamic_slice is then read as a scalar, `_element_reads`, not as a view
    made each step: `last[v] = i` in a scan, i read from a stacked index)?"""
    ws = uses.get(w.id)
    return bool(ws) and w.ndim > 0 and all(d == 1 for d in w.shape) and all(
        r.op is not None and not r.nested and _takes_element(r.op, w) and not is_reshape_like(r.op) for r in ws)


def _takes_element(op: Op, v: Value) -> bool:
    """Does op read the one-element array v only for its element?"""
    if is_reshape_like(op):
        return True
    return op.prim.name == "dynamic_update_slice" and op.inputs[0] is not v and op.inputs[1] is v


def _fold_reshape_chains(block: Block, plan: BlockPlan, uses: dict[int, list[Use]]) -> None:
    """reshape(reshape(x)) -> reshape(x) when the inner one has no other use."""
    for op in block.ops:
        if not is_reshape_like(op) or id(op) in plan.skip or id(op) in plan.slice_into:
            continue
        x = op.inputs[0]
        inner = plan.producer.get(x.id)
        if (inner is not None and is_reshape_like(inner) and id(inner) not in plan.skip
                and id(inner) not in plan.slice_into and only_consumer(uses, x) is op):
            plan.skip.add(id(inner))
            x = plan.reshape_from.get(id(inner), inner.inputs[0])
        plan.reshape_from[id(op)] = x


def _place_folded(block: Block, plan: BlockPlan, uses: dict[int, list[Use]], index: dict) -> None:
    """Each skipped op is emitted where its consumer is (transitively)."""
    def where(op: Op) -> int:
        if id(op) not in plan.skip:
            return index[id(op)]
        consumer = next((u.op for u in uses[op.out.id] if u.op is not None and not u.nested), None)
        return where(consumer) if consumer is not None else index[id(op)]

    for op in block.ops:
        if id(op) in plan.skip:
            plan.position[id(op)] = where(op)


def broadcast_index(u: Value, out: Value, idx: list[str]) -> list[str]:
    """u's index for element `idx` of `out` (NumPy broadcasting, aligned right)."""
    lead = out.ndim - u.ndim
    return ["0" if u.shape[k] == 1 and out.shape[lead + k] != 1 else idx[lead + k]
            for k in range(u.ndim)]


# --- the work of a nest, for the decision to run it on many threads -----------------------------
def nest_ops(op: Op, plan: BlockPlan) -> list[Op]:
    """A root and the ops computed inside its nest (each once; no recursion,
    so a chain of any length is fine)."""
    ops, stack, seen = [], [op], set()
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        ops.append(o)
        stack.extend(plan.producer[u.id] for u in o.inputs if u.id in plan.inlined)
    return ops


def is_streaming(op: Op, plan: BlockPlan) -> bool:
    """Is this root's nest a few cheap ops and no fold (memory-bound)?"""
    ops = nest_ops(op, plan)
    return len(ops) <= 4 and all(o.prim.cheap for o in ops)


# A fold over a few terms at each element (a 3x3 window, a 4-term dot): its terms are unrolled
# and vectorized across the nest's elements, read from cache lines the neighbouring elements read
# too, so the nest costs about one element-op per element, not one per term. Counted per term,
# box_blur_u8's 3x3 window over 800 x 800 uint8 (bench/corpus/imaging.py, 5.7M terms) went on two
# threads: about 90 us after a call of the plain function (the threads asleep) against 47-51 us on
# one, numba.njit 55.
SHORT_FOLD = 16


def nest_work(op: Op, plan: BlockPlan) -> int:
    """Elements touched by a root's loop nest, its folds' inner loops
    included; a nest whose folds take at most `SHORT_FOLD` terms per element
    of the root counts the root's elements."""
    def size(shape) -> int:
        return prod(d.extent if isinstance(d, Dim) else d for d in shape)

    ops = nest_ops(op, plan)
    work = max(size(o.inputs[0].shape) if is_fold(o) else size(o.out.shape) for o in ops)
    elements = size(op.out.shape)
    if any(is_fold(o) for o in ops) and elements and work <= SHORT_FOLD * elements:
        return elements
    return work
