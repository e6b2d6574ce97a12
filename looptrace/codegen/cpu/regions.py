"""CPU rules of the region ops: plain Python control flow inside the kernel.

for_loop   -> `for i in range(start, stop, step):` with the body inlined; the
              stacked outputs are allocated once before the loop and filled row
              by row (no allocation per iteration); carries are variables. A
              loop with no carries whose body is nests of element work (a map
              the vectorizer kept in its loop, over the memory budget) runs
              its iterations on the threads (`_parallel_map`).
while_loop -> `while test:` where the test is scalar code that raises and
              writes nothing, else `while True:` running the cond block,
              `break`, then the body.
cond       -> `if pred: ... else: ...`.

Invariant: a carried array is owned by the loop (copied once at entry unless
the loop may consume its initial value), so the body may update it in place;
at the end of an iteration a carry that is not exclusively ours is copied.
"""
from __future__ import annotations

import contextlib
import re
from math import prod
from typing import Iterator

from looptrace.codegen.planning.lazy_reads import lazy_reads
from looptrace.codegen.planning.sharing import sharing
from looptrace.codegen.target import RegionRule
from looptrace.ir.affine import affine_values, value_range
from looptrace.ir.core import RNG, Block, Dim, Op, Value, free_values, walk
from looptrace.ir.primitive import folded_axes, is_fusible
from looptrace.ir.uses import used_values
from looptrace.ops.control import split_for_results

from .destinations import row_index, stacked_destinations
from .emitter import Emitter
from .guards import plan_guard
from .pointwise import emit_pointwise, pointwise_ops
from .target import TARGET
from .text import dtype_text


def _is_array(v: Value) -> bool:
    return v.dtype != RNG and v.ndim > 0


def _by_reference(v: Value) -> bool:
    """Is v an object that its SSA successors are (an array updated in place, a generator)?"""
    return v.dtype == RNG or v.ndim > 0


def _init_lines(em: Emitter, op: Op, targets: list[Value], inits: list[Value]) -> set[int]:
    """Bind the carries' initial values; returns the ids of carries we own."""
    captured = {v.id for b in op.blocks for v in free_values(b)}
    taken: set[int] = set()
    for a, x in zip(targets, inits):
        text = em.consume_or_copy(x)
        shared = x.id in captured or x.id in taken
        if shared:
            text = f"copied({em.name(x)})" if _is_array(x) else text
        taken.add(x.id)
        consumed = text == em.name(x) and (_is_array(x) or not shared and em.scope.can_consume(x))
        if not (_by_reference(x) and consumed and em.take_name(a, x)):  # consumed: its variable
            em.line(f"{em.name(a)} = {text}")
    return {a.id for a in targets if _by_reference(a)}


def _assign_carries(em: Emitter, targets: list[Value], results: list[Value]) -> None:
    if not targets:
        return
    used: set[int] = set()
    rhs = [em.result_copy(r, used) for r in results]
    _assign(em, [em.name(a) for a in targets], rhs)


def _assign(em: Emitter, names: list[str], texts: list[str]) -> None:
    """`a, b, = x, y,` less the pairs that assign a variable to itself (an
    array updated in place under its carry's name: `Emitter.take_name`)."""
    pairs = [(n, t) for n, t in zip(names, texts) if n != t]
    if pairs:
        em.line(", ".join(n for n, _ in pairs) + ", = " + ", ".join(t for _, t in pairs) + ",")


def _bind_outputs(em: Emitter, outs: tuple[Value, ...], sources: list[Value]) -> None:
    for out, src in zip(outs, sources):
        if not (_by_reference(out) and em.take_name(out, src)):  # the carry's variable, which the loop left
            em.line(f"{em.name(out)} = {em.name(src)}")
        em.define(out, owned=_is_array(out))


# --- products written into two preallocated rows ----------------------------------------------
# A matrix product in a loop body would allocate its result every iteration.
# Its memory can instead alternate between two rows allocated before the loop
# when no value sharing that memory outlives the next iteration: each
# iteration's product is then written into the row the previous iteration did
# not use. Values that may share a product's memory are followed through
# every op that can return a view of, or update in place, one of its inputs
# (planning/sharing.py: everything but ops of a `fresh` primitive). The product qualifies when
#   - the loop is at the kernel's top level (it runs once: after it ends, no
#     row is written again),
#   - the product is in the loop body itself (it runs once per iteration),
#   - nothing sharing its memory reaches a nested region or a cond,
#   - and the carries it may become are not passed on unchanged: a carry
#     argument's own memory reaches no result of the body.
def reusable_products(em: Emitter, op: Op, body: Block, carry_args: list[Value]) -> list[Op]:
    """The products of this loop's body that may alternate between two rows."""
    from .contract import plain_dot_shape

    if op not in em.program.body.ops:
        return []
    results = {v.id for v in body.results}
    for a in carry_args:
        if not _is_array(a):
            continue
        shared = sharing(body, a)
        if shared is None or shared & results:
            return []
    found = []
    for p in body.ops:
        if plain_dot_shape(p) is not None and sharing(body, p.out) is not None:
            found.append(p)
    return found


def reserve_rows(em: Emitter, op: Op, body: Block, carry_args: list[Value], products: list[Op]) -> None:
    """The other arrays this loop's body makes each iteration (kalman's
    per-step temporaries) alternate between two rows as its products do,
    under the same conditions (`reusable_products`): a blank line before the
    loop takes the rows' allocation where the body makes one
    (Emitter.fresh_array)."""
    if op not in em.program.body.ops:
        return
    results = {v.id for v in body.results}
    carried = {v.id for v in body.results[:len(carry_args)]}
    rows = all(not _is_array(a) or (shared := sharing(body, a)) is not None and not shared & results
               for a in carry_args)
    taken = {id(p) for p in products}
    wanted = [p.out for p in body.ops if id(p) not in taken and not p.blocks and len(p.outputs) == 1
              and _is_array(p.out) and not any(isinstance(d, Dim) for d in p.out.shape)
              and p.out.dtype != RNG and sharing(body, p.out) is not None]
    # a value whose memory reaches no carried result dies within its iteration (a stacked
    # result is copied into its stack at the iteration's end): one buffer, whatever the
    # carries do (viterbi's per-step max-plus temporaries, probe W: 4 allocations a step)
    single = {v.id for v in wanted if not sharing(body, v) & carried}
    wanted = [v for v in wanted if rows or v.id in single]
    if not wanted:
        return
    em.line("")
    entry = [len(em.lines) - 1, "    " * em.depth, em.depth + 1, []]
    for v in wanted:
        em.fresh_rows[v.id] = entry + [v.id in single]


def _allocate_rows(em: Emitter, products: list[Op]) -> None:
    from .contract import plain_dot_shape

    for p in products:
        buf, parity = em.fresh("pp"), em.fresh("pc")
        shape = "".join(f"{d}, " for d in plain_dot_shape(p))
        em.line(f"{buf} = alloc((2, {shape}), {dtype_text(p.out.dtype)})")
        em.line(f"{parity} = 0")
        em.pingpong[id(p)] = (buf, parity)


# ops a parallel map's body may hold besides element work and folds: views and reshapes
_MAP_BODY_OPS = frozenset(["dynamic_slice", "slice", "reshape", "broadcast_to", "transpose", "squeeze",
                           "expand_dims", "iota", "gather", "concatenate"])


def _parallel_map(em: Emitter, op: Op, n_carry: int) -> bool:
    """Run this loop's iterations on the threads? Only a loop at the kernel's
    top level, from a constant start by step 1, with no carries (each
    iteration writes its own rows of the stacked outputs and nothing else),
    whose body is element work, folds and views, and loops and branches of
    them (no BLAS call, no effect), and enough of it in all.
    npbench's azimint_naive: 1000 independent masked means over 400000
    points, which the vectorizer keeps in the loop (stacked, the mask
    would be 3.2 GB): 183 ms serial. A body that may raise, or that holds a
    loop, runs guarded (`_emit_parallel_map`)."""
    start, stop, step = op.inputs[:3]
    if n_carry or op not in em.program.body.ops or start.const is None or step.const is None:
        return False
    if int(step.const) != 1 or stop.const is None:
        return False
    work = _map_work(op.blocks[0])
    trips = len(range(int(start.const), int(stop.const)))
    return work is not None and trips > 1 and em.work_is_large(trips * work)


# regions a parallel map's body may hold (each iteration runs them on its own thread)
_MAP_REGIONS = frozenset(["for_loop", "while_loop", "cond"])
_UNKNOWN_TRIPS = 16  # the guessed trips of a loop inside a map whose count is data


def _map_work(block: Block) -> int | None:
    """The elements one run of `block` computes, or None where an op of it
    may not run on a thread of a parallel map."""
    work = 0
    for o in block.ops:
        if o.prim.effectful:
            return None
        if o.blocks:
            inner = [_map_work(b) for b in o.blocks]
            if o.prim.name not in _MAP_REGIONS or None in inner:
                return None
            work += _region_trips(o) * (max(inner) if o.prim.name == "cond" else sum(inner))
            continue
        if not (is_fusible(o) or o.prim.name in _MAP_BODY_OPS or o.prim.raises):
            return None
        v = o.inputs[0] if folded_axes(o) is not None else (o.outputs[0] if o.outputs else None)
        if v is not None and any(isinstance(d, Dim) for d in v.shape):
            return None
        work += prod(v.shape) if v is not None else 1
    return work


def _region_trips(op: Op) -> int:
    if op.prim.name == "cond":
        return 1
    if op.prim.name == "for_loop" and all(v.const is not None for v in op.inputs[:3]):
        return len(range(*(int(v.const) for v in op.inputs[:3])))
    if op.prim.name == "while_loop" and _closed_form_count(op):
        return 1
    return _UNKNOWN_TRIPS


# A while loop that only counts is no loop once LLVM has seen it: a popcount
# (`while x: x &= x - 1; c += 1`, LoopIdiomRecognize's ctpop) or a counter
# stepped by a constant towards a constant bound (IndVarSimplify computes the
# exit values). Guessed at _UNKNOWN_TRIPS, corpus bit_tricks' 10^5 popcounts
# (0.1 ms serial) went threaded: 0.33x njit on a quiet machine (the threads'
# wake-up), 0.29 against 0.24 ms serial at load 6 (s53, helper K).
_COUNTER_STEPS = frozenset(["add", "subtract"])
_COUNT_TESTS = frozenset(["convert", "not_equal", "greater", "greater_equal", "less", "less_equal"])


def _closed_form_count(op: Op) -> bool:
    """Is this while loop a count LLVM computes without looping: its test
    compares one integer carry with a constant (or takes its truth), and its
    body only steps each carry by a constant, the tested one possibly by
    `x & (x - 1)` (then tested against zero)?"""
    cond, body = op.blocks
    if len(cond.ops) != 1 or len(body.results) != len(body.args):
        return False
    test = cond.ops[0]
    if test.prim.name not in _COUNT_TESTS or not test.inputs or test.inputs[0] not in cond.args:
        return False
    if any(not u.is_const or u.ndim for u in test.inputs[1:]) or cond.results[0] is not test.out:
        return False
    tested = cond.args.index(test.inputs[0])
    made = {o.out.id: o for o in body.ops if len(o.outputs) == 1}
    steps: set[int] = set()
    for k, (arg, result) in enumerate(zip(body.args, body.results)):
        if getattr(arg.dtype, "kind", "O") not in "iu" or arg.ndim:
            return False
        step = _constant_step(made, arg, result) or (k == tested and _zero_test(test) and
                                                     _lowest_bit_cleared(made, arg, result))
        if not step:
            return False
        steps |= step
    return steps == {id(o) for o in body.ops}


def _constant_step(made: dict, arg: Value, result: Value) -> set[int]:
    """The op of `result = arg +/- constant` (as a set of ids), else empty."""
    o = made.get(result.id)
    if o is None or o.prim.name not in _COUNTER_STEPS or o.inputs[0] is not arg:
        return set()
    return {id(o)} if o.inputs[1].is_const and not o.inputs[1].ndim else set()


def _lowest_bit_cleared(made: dict, arg: Value, result: Value) -> set[int]:
    """The ops of `result = arg & (arg - 1)` (as a set of ids), else empty."""
    o = made.get(result.id)
    if o is None or o.prim.name != "bitwise_and" or arg not in o.inputs:
        return set()
    other = o.inputs[1] if o.inputs[0] is arg else o.inputs[0]
    less = made.get(other.id)
    if less is None or not _constant_step(made, arg, other) or less.prim.name != "subtract" \
            or int(less.inputs[1].const) != 1:
        return set()
    return {id(o), id(less)}


def _zero_test(test: Op) -> bool:
    """Does the while test ask whether its carry is nonzero?"""
    if test.prim.name == "convert":
        return len(test.inputs) == 1
    return test.prim.name == "not_equal" and int(test.inputs[1].const) == 0


def _scalar_rows(em: Emitter, body: Block, n_carry: int) -> dict[int, Value]:
    """Stacked results of a loop body that are a scalar reshaped to one
    element (`out[i] = s` kept in a scan) and read by nothing else: the
    store writes the scalar, and no (1,) array is allocated per iteration
    (corpus bisection_roots: 10.4 -> 9.2 ms for 20,000 iterations)."""
    results = body.results
    read = {v.id for v in used_values(body.ops)} | {v.id for v in results[:n_carry]}  # nested bodies too
    found: dict[int, Value] = {}
    for r in results[n_carry:]:
        made = next((o for o in body.ops if any(x is r for x in o.outputs)), None)
        if made is None or made.prim.name != "reshape" or r.id in read or made.inputs[0].ndim:
            continue
        if id(made) in em.plan.skip or sum(1 for x in results if x.id == r.id) != 1:
            continue
        if em.plan.reshape_from.get(id(made), made.inputs[0]) is made.inputs[0]:
            found[r.id] = made.inputs[0]
    return found


def emit_for(em: Emitter, op: Op) -> None:
    if em.depth == 1 and em.deferring is None:
        with deferred_checks(em):
            _emit_for(em, op)
        return
    _emit_for(em, op)


# A scalar check in a serial loop (`math.sin(theta)` raises for an infinite
# theta, as Python does) raised where it fails keeps LLVM from optimizing
# the loop around it: corpus pendulum took 3.15 ms against numba.njit's 2.3.
# In a top-level `for` loop (fixed trip count) whose code can raise nothing
# else, the first failure's code is kept in a variable instead and raised
# after the loop: the same exception as the plain function's first one. The
# iterations after it compute values that are never seen (the call raises,
# and arguments are written back only after a run that does not: api.py
# `execute`; a kernel with a raise never writes into them directly,
# emitter.emit_program). Anything else that may raise in the loop (an index
# check, int(), object mode), a `while` (which garbage could keep running)
# or threads: each deferred check is rewritten to raise where it is, as before.
_UNSAFE_AFTER_FAILURE = ("raise ", "check_", "_batch(", "np.linalg", "objmode", "assert ", "while ", "prange")


@contextlib.contextmanager
def deferred_checks(em: Emitter) -> Iterator[None]:
    fail = em.fresh("fail")
    mark = len(em.lines)
    em.deferring, em.deferred_sites = fail, []
    try:
        yield
    finally:
        em.deferring = None
    sites, em.deferred_sites = em.deferred_sites, []
    at = {k for k, _, _ in sites} | {k + 1 for k, _, _ in sites}
    safe = not any(t in line for k, line in enumerate(em.lines[mark:], mark) if k not in at
                   for t in _UNSAFE_AFTER_FAILURE)
    if sites and safe:
        em.lines.insert(mark, "    " * em.depth + f"{fail} = 0")
        em.line_ops.insert(mark, None)
        em.line(f"if {fail} != 0:")
        em.line(f"    raise CheckFailed({fail} - 1)")
        return
    for k, p, code in sites:  # where it fails, as before
        indent = em.lines[k][: len(em.lines[k]) - len(em.lines[k].lstrip())]
        em.lines[k] = f"{indent}if {p}:"
        em.lines[k + 1] = f"{indent}    raise CheckFailed({code})"


def _emit_for(em: Emitter, op: Op) -> None:
    start, stop, step, *init = op.inputs
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    if _parallel_map(em, op, n_carry):
        _emit_parallel_map(em, op, body)
        return
    point_ops = pointwise_ops(em, op)
    if point_ops is not None:
        emit_pointwise(em, op, point_ops)
        return
    carries = body.args[1:]
    em.scalar_rows.update(_scalar_rows(em, body, n_carry))
    owned = _init_lines(em, op, carries, init)
    products = reusable_products(em, op, body, carries)
    _allocate_rows(em, products)
    reserve_rows(em, op, body, carries, products)
    bounds = f"{em.name(start)}, {em.name(stop)}, {em.name(step)}"
    stacked = op.outputs[n_carry:]
    direct = stacked_destinations(em, op, stacked)  # rows stored straight into a buffer (destinations.py)
    count = counter = None
    if stacked:
        count, counter = em.fresh("n"), em.fresh("k")
        em.line(f"{count} = trip_count({bounds})")
        for y in stacked:
            if y.id in direct:
                em.direct_writes.add(id(direct[y.id].write))
                continue
            rest = "".join(em.size(y, k) + ", " for k in range(1, y.ndim))
            em.line(f"{em.name(y)} = alloc(({count}, {rest}), {dtype_text(y.dtype)})")
        em.line(f"{counter} = 0")

    def finish() -> None:
        # stack first: a stacked output may be a carry argument, which the
        # carry assignment below replaces with the next iteration's value
        for y, r in zip(stacked, body.results[n_carry:]):
            if y.id in direct:
                em.store(em.name(direct[y.id].buffer), row_index(em, direct[y.id], counter), r)
            else:
                em.store(em.name(y), [counter], r)
        if stacked:
            em.line(f"{counter} += 1")
        _assign_carries(em, carries, body.results[:n_carry])

    known_index_ranges(em, op)
    guard = plan_guard(em, op)
    for line in guard[1] if guard is not None else ():
        em.line(line)
    head = for_header(em, op)
    adjust = serial_branches(em, body) if n_carry else None
    with em.indented(), em.serial(n_carry > 0, body, body.args[1:n_carry + 1]):
        for line in head:
            em.line(line)
        em.emit_block(body, owned, finish=finish, adjust=adjust)
    _bind_outputs(em, op.outputs[:n_carry], carries)
    for y in stacked:
        em.define(y, owned=y.id not in direct)  # (a y stored in its buffer has no variable)


def serial_branches(em: Emitter, body: Block):
    """The plan adjustment of a serial loop's body: its scalar selects that
    read an element on one arm, or that head an if/elif chain on a carry
    (`Emitter.waits_on_carry`), computed as branches with each arm's own ops
    on its branch (planning/lazy_reads.py; emitted by nest.py)."""
    return lambda plan: lazy_reads(body, plan, lambda o: safe_element_read(em, plan, o), em.waits_on_carry)


def safe_element_read(em: Emitter, plan, op: Op) -> bool:
    """Is op a read of one array element whose starts need no check (it
    cannot raise, so it may run on one branch only: planning/lazy_reads.py)?"""
    ds = plan.slice_into.get(id(op))  # x[t] as a scalar (a reshape of one element)
    if ds is None and op.prim.name == "dynamic_slice" and len(op.inputs) - 1 == op.inputs[0].ndim:
        ds = op  # a one-element slice, read as its element
    if ds is None or any(d != 1 for d in ds.out.shape) or any(d != 1 for d in op.out.shape):
        return False
    x = ds.inputs[0]
    return all(em.start_in_bounds(s, em.size(x, a), k) is not None
               for a, (s, k) in enumerate(zip(ds.inputs[1:], ds.attrs["sizes"])))


def known_index_ranges(em: Emitter, op: Op) -> None:
    """Integers affine in the index of a loop with constant bounds have known
    ranges (`em.ranges`): their bound checks go."""
    start, stop, step = op.inputs[:3]
    if all(v.const is not None for v in (start, stop, step)):
        first, last, by = int(start.const), int(stop.const), int(step.const)
        trips = len(range(first, last, by))
        if trips:
            for vid, form in affine_values(op.blocks[0], first, by).items():
                em.ranges[vid] = value_range(form, trips)


def for_header(em: Emitter, op: Op) -> list[str]:
    """Writes the `for` line of a for_loop; returns the lines its body starts with."""
    start, stop, step = op.inputs[:3]
    index = op.blocks[0].args[0]
    if step.const is not None and int(step.const) == 1 and start.const is not None and int(start.const) == 0:
        em.line(f"for {em.name(index)} in range({em.name(stop)}):")
        return []
    offset = em.fresh("d")
    if step.const is not None and int(step.const) == 1:
        # a counted loop from 0: LLVM simplifies `range(a, n)` with both unknown far less well
        # (a triangular pair loop ran 1.8x slower; bench/README.md, shape-generic kernels);
        # range_span, not stop - start, which overflows for bounds of opposite signs
        span = (f"{em.name(stop)} - {em.name(start)}" if start.const is not None and stop.const is not None
                else f"range_span({em.name(start)}, {em.name(stop)})")  # (constants: no overflow)
        em.line(f"for {offset} in range({span}):")
        return [f"{em.name(index)} = {em.name(start)} + {offset}"]
    # Numba's range(a, b, s) counts its trips as (b - a + s - 1) // s, which overflows int64
    # near the ends (range(-2**63, 2**63 - 1, 2**62) ran no iteration): trip_count does not
    em.line(f"for {offset} in range(trip_count({em.name(start)}, {em.name(stop)}, {em.name(step)})):")
    return [f"{em.name(index)} = {em.name(start)} + {offset} * {em.name(step)}"]


def _emit_parallel_map(em: Emitter, op: Op, body: Block) -> None:
    """`for d in numba.prange(trips)`: iteration d writes row d of each
    stacked output; the nests of its body run serially in it. A body that
    may raise or holds a loop is guarded (`_guard_map`)."""
    start = int(op.inputs[0].const)
    trips = len(range(start, int(op.inputs[1].const)))
    index = body.args[0]
    for vid, form in affine_values(body, start, 1).items():  # integers affine in the index: known ranges
        em.ranges[vid] = value_range(form, trips)
    count = em.fresh("n")
    em.line(f"{count} = {trips}")
    for y in op.outputs:
        rest = "".join(em.size(y, k) + ", " for k in range(1, y.ndim))
        em.line(f"{em.name(y)} = alloc(({count}, {rest}), {dtype_text(y.dtype)})")
    offset = em.fresh("d")
    em.scalar_rows.update(_scalar_rows(em, body, 0))  # (a scalar's row: stored, not made as a (1,) array)
    fails, fails_at = em.fresh("fails"), len(em.lines)
    em.line(f"{fails} = filled(({count},), np.uint8(0))")

    def finish() -> None:
        for y, r in zip(op.outputs, body.results):
            em.store(em.name(y), [offset], r)

    parallel, em.parallel = em.parallel, False  # one level of threads: the iterations
    try:
        with em.loop(offset, count, True):
            mark = len(em.lines)
            em.line(f"{em.name(index)} = {start} + {offset}")
            em.emit_block(body, set(), finish=finish)
    finally:
        em.parallel = parallel
    _guard_map(em, op, offset, fails, em.lines[mark:], fails_at)
    info = op.attrs.get("loop")
    if info is not None:
        em.loop_notes[(info.file, info.line)] = "its iterations run in parallel on the cores (prange)"
        em.map_notes[offset] = (info.file, info.line)
    for y in op.outputs:
        em.define(y, owned=True)


def _guard_map(em: Emitter, op: Op, offset: str, fails: str, lines: list[str], fails_at: int) -> None:
    """A raise in a prange body keeps Numba from running it on threads, and
    which iteration fails first would be up to the threads. So a body that
    may raise becomes a function of its own that catches what it raises and
    returns 1 (outline.py `outline_bodies`, `em.guarded_maps`); after the
    loop, a failed iteration makes the caller run the plain function on the
    same arguments, which raises the first failure exactly as Python does
    (errors.ReplayNeeded: nothing was written back yet). A body that holds a
    loop, whose names outline.py must check, and cannot raise becomes a
    function called as it is, with no failure array (`em.guarded_maps` maps
    it to ""): the try of the catching function kept LLVM from inlining the
    body, whose popcount loop then ran as a call per element (bit_tricks:
    0.15 against 0.025 ms serial). The failure array's line (at `fails_at`)
    is blanked where nothing reads it."""
    from looptrace.ops.check import Failure

    from .emitter import may_raise

    raises = may_raise(lines)
    if not raises:
        em.lines[fails_at] = ""  # (blanked, not deleted: deferred checks hold line numbers, regions.py)
        if any(re.match(r"\s*(for|while) ", line) for line in lines):
            em.guarded_maps[offset] = ""
        return
    em.guarded_maps[offset] = fails
    code = em.check_code(Failure(RuntimeError("an iteration of a parallel loop failed"), op.loc, replay=True))
    em.line(f"if {fails}.any():")
    em.line(f"    raise CheckFailed({code})")


def emit_while(em: Emitter, op: Op) -> None:
    cond, body = op.blocks
    owned = _init_lines(em, op, body.args, list(op.inputs))
    products = reusable_products(em, op, body, body.args)
    _allocate_rows(em, products)
    reserve_rows(em, op, body, body.args, products)
    header, first = len(em.lines), int(em.fresh("w")[1:-1])  # (names made from here on are the test's own)
    em.line("while True:")
    with em.indented(), em.serial(True, body, body.args):
        test: list[str] = []
        for ca, ba in zip(cond.args, body.args):
            if _by_reference(ca):
                # the condition reads the carried array under the carry's own name: the cond
                # block owns none of its arguments, so nothing writes it there. A new variable
                # bound to it at the top of every step made Numba count a reference per step
                # across the branches (not pruned): insertion sort's shift loop ran 10 ns a
                # step against 0.3 without (numba.njit of the same function: 0.3)
                em.share_name(ca, ba)
            else:
                em.line(f"{em.name(ca)} = {em.name(ba)}")
        em.emit_block(cond, finish=lambda: test.append(em.name(cond.results[0])))
        expr = _test_expression(em.lines[header + 1:], test[0], _own_names(em, cond, first)) \
            if _pure_test(cond) else None
        if expr is not None:  # `while a and b:`, the test's lines gone
            del em.lines[header + 1:], em.line_ops[header + 1:]
            em.lines[header] = em.lines[header].replace("while True:", f"while {expr}:")
        else:
            em.line(f"if not {test[0]}:")
            with em.indented():
                em.line("break")
        em.emit_block(body, owned, finish=lambda: _assign_carries(em, body.args, body.results),
                      adjust=serial_branches(em, body))
    _bind_outputs(em, op.outputs, body.args)


# A while loop's test written as the `while` line's expression where it is
# scalar code that raises and writes nothing, its `and`/`or` kept short-circuit:
# as `while True:` with the test's bool made through if/else and `if not c:
# break`, LLVM rotated insertion sort's shift loop less well (corpus
# insertion_sort 0.55 ms, the user's `while j >= 0 and a[j] > key:` 0.47,
# numba.njit 0.43). The text is the emitted lines' own: assignments
# substituted into their readers, an if/else that assigns a value on both
# arms a conditional expression (`c and x` where the other arm is c).
_TEST_CHARS = 600  # the longest test written inline (a value read twice is written twice)


def _pure_test(cond: Block) -> bool:
    """Is every op of the test (and of its arms) a scalar op that writes
    nothing? (What it may raise, a read's bounds check, shows in its text:
    `_test_expression`.)"""
    for o in cond.ops:
        if o.prim.name == "cond":
            if not all(_pure_test(b) for b in o.blocks):
                return False
        elif o.blocks or o.prim.effectful or o.prim.raises:
            return False
        if any(v.dtype == RNG or any(d != 1 for d in v.shape) for v in o.outputs):  # (x[j:j + 1]: one element)
            return False
    return True


def _own_names(em: Emitter, cond: Block, first: int):
    """Is a name one the test's lines may assign and drop: a value of the
    test (a carry copied in, an op's output), or a name made while it was
    emitted? Never a variable read after it (a deferred check's flag)."""
    values = [a for a in cond.args if not _by_reference(a)]
    values += [v for o in walk(cond) for v in o.outputs] + [a for o in walk(cond) for b in o.blocks for a in b.args]
    names = {em.name(v) for v in values if v.id in em.renamed or v.id in em._local}

    def own(name: str) -> bool:
        made = re.fullmatch(r"[a-z]+(\d+)_", name)
        return name in names or made is not None and int(made.group(1)) > first
    return own


_ASSIGN = re.compile(r"(\w+) = (.+)")
_IF = re.compile(r"if (\w+):")


def _test_expression(lines: list[str], result: str, own=lambda name: True) -> str | None:
    """The expression of `result` computed by `lines` (one level of indent
    deeper than the `while`), or None where they are more than
    assignments (to names `own` accepts) and if/else arms."""
    from .emitter import may_raise

    if not lines or may_raise(lines) or any("#" in ln for ln in lines):
        return None
    depth = len(lines[0]) - len(lines[0].lstrip())
    env: dict[str, str] = {}
    if not _substitute_block([ln[depth:] for ln in lines], env, set(), own):
        return None
    expr = env.get(result, result)
    return expr if len(expr) <= _TEST_CHARS else None


def _substitute_block(lines: list[str], env: dict[str, str], hidden: set[str], own) -> bool:
    """Fold `lines` (statements at indent 0) into env (name -> expression);
    hidden: names assigned on one arm only, which no later line may read."""
    k = 0
    while k < len(lines):
        line = lines[k]
        if line != line.lstrip() or not line:
            return False
        m = _IF.fullmatch(line)
        if m is None:
            k += 1
            if line == "pass":  # (an empty block's: `Emitter.block_ended`)
                continue
            m = _ASSIGN.fullmatch(line)
            if m is None or " = " in m.group(2) or not own(m.group(1)) or not _readable(m.group(2), hidden):
                return False
            env[m.group(1)] = _inline(m.group(2), env)
            if len(env[m.group(1)]) > _TEST_CHARS:
                return False
            continue
        arms, k = _arms(lines, k + 1)
        if arms is None or not _readable(m.group(1), hidden):
            return False
        test = _inline(m.group(1), env)
        envs = []
        for arm in arms:
            e = dict(env)
            if not _substitute_block(arm, e, hidden, own):
                return False
            envs.append(e)
        yes, no = envs
        for name in set(yes) | set(no):
            if name in yes and name in no and (yes[name] != env.get(name) or no[name] != env.get(name)):
                env[name] = _joined(test, yes[name], no[name])
            elif yes.get(name) != env.get(name) or no.get(name) != env.get(name):
                hidden.add(name)
    return True


def _arms(lines: list[str], k: int) -> tuple[list[list[str]] | None, int]:
    """The `if` arm starting at lines[k] and its `else:` arm (dedented), and the line after them."""
    arms = []
    for head in (None, "else:"):
        if head is not None:
            if k >= len(lines) or lines[k] != head:
                return None, k
            k += 1
        arm = []
        while k < len(lines) and lines[k].startswith("    "):
            arm.append(lines[k][4:])
            k += 1
        if not arm:
            return None, k
        arms.append(arm)
    return arms, k


def _readable(text: str, hidden: set[str]) -> bool:
    return not any(re.search(rf"(?<![\w.]){re.escape(name)}\b", text) for name in hidden)


def _inline(text: str, env: dict[str, str]) -> str:
    def value(m: re.Match) -> str:
        name = m.group(1)
        if name not in env:
            return name
        e = env[name]
        return e if re.fullmatch(r"\w+|\((?:[^()]|\([^()]*\))*\)", e) else f"({e})"
    return re.sub(r"(?<![\w.])([A-Za-z_]\w*)\b", value, text)


def _joined(test: str, yes: str, no: str) -> str:
    """`yes if test else no`, as `test and yes` (`test or no`) where the other arm is the test's bool."""
    own = (f"({test})", f"np.bool(({test}))", f"np.bool({test})", test)
    flag = test if re.fullmatch(r"\((?:[^()]|\([^()]*\))*(>=|<=|==|!=|<|>)(?:[^()]|\([^()]*\))*\)", test) \
        else f"np.bool({test})"  # (a bool on both sides of `and`: Numba unifies no int with a bool)
    if no in own and yes.startswith("np.bool("):
        return f"({flag} and {yes})"
    if yes in own and no.startswith("np.bool("):
        return f"({flag} or {no})"
    return f"({yes} if {test} else {no})"


def emit_cond(em: Emitter, op: Op) -> None:
    (pred,) = op.inputs
    if _as_picks(em, op):
        chosen = []
        for block in op.blocks:  # both arms, then one select per result
            names: list[str] = []
            em.emit_block(block, em.consumable_free(block), free=list(free_values(block)),
                          finish=lambda block=block, names=names: names.extend(
                              em.result_copy(r, set()) for r in block.results))
            chosen.append(names)
        for out, a, b in zip(op.outputs, *chosen):
            em.line(f"{em.name(out)} = pick({em.name(pred)}, {a}, {b})")
            em.define(out)
        return
    lent = _lent_outputs(em, op)
    for k, block in enumerate(op.blocks):
        em.line(f"if {em.name(pred)}:" if k == 0 else "else:")
        with em.indented():
            _emit_branch(em, op, block, lent)
    for k, out in enumerate(op.outputs):
        em.define(out, owned=_is_array(out) and k not in lent)


# An arm that passes an array it does not own through unchanged (an argument
# of the function, on the path of an early `return 0` before in-place work)
# would copy it, so that the output is ours on both arms; the host then
# copied it back into the argument (corpus flood_fill_stack: 73 us a call on
# its early return against 1 us for the plain function). Where nothing after
# the cond can write the output's memory (only reads, views and the kernel's
# return follow it), the arm hands the array itself on and the output is not
# ours: a write after it would copy it first (Emitter.writable_copy).
def _lent_outputs(em: Emitter, op: Op) -> frozenset[int]:
    """Positions of op's array outputs that no later code writes in place."""
    block = em.scope.block
    top = block is em.program.body
    lent = set()
    for k, out in enumerate(op.outputs):
        if not _is_array(out):
            continue
        shared = sharing(block, out)
        if shared is None or not top and shared & {v.id for v in block.results}:
            continue
        if all(o.prim.fresh or o.prim.view or all(v.ndim == 0 for v in o.outputs)
               for o in block.ops if o is not op and any(v.id in shared for v in o.inputs)):
            lent.add(k)
    return frozenset(lent)


_PICK_OPS = 4  # the most cheap ops both arms of a scalar `cond` may hold to run as selects


def _as_picks(em: Emitter, op: Op) -> bool:
    """Is op a `cond` of scalars in a serial loop whose arms hold only a few
    cheap scalar ops (vectorize/branches.py: a type tag's update `s = s + x`
    under `if x > 0`) and whose test is not computed from a carry? Both
    arms then run and selects pick the results: a branch on data that
    changes at random mispredicts, and LLVM, which folds such a diamond into
    selects itself when it is alone, kept it a branch beside another kept
    branch and turned the step's other select on the same test into it too
    (probe V's int_float_mixing_acc, 10^5 random floats: 0.43 ms, 0.054 as
    selects; numba.njit 0.048). A test of a carry (`if v > best: best = v`)
    stays a branch: it is taken rarely and the next step need not wait; so
    does an arm holding a select (a nested `if current > longest:` on a
    carry: streak_stats of the corpus ran 1.3-1.5x slower as selects)."""
    if not em.serial_loops or any(v.ndim or v.dtype == RNG for v in op.outputs):
        return False
    if em.carried and op.inputs[0].id in em.carried[-1]:
        return False
    n = 0
    for block in op.blocks:
        for o in block.ops:
            if (o.blocks or not o.prim.elementwise or not o.prim.cheap or o.prim.effectful or o.prim.may_raise
                    or o.prim.raises or o.prim.name == "select" or any(v.ndim for v in o.outputs)):
                return False
            n += 1
        if any(r.ndim or r.dtype != out.dtype for r, out in zip(block.results, op.outputs)):
            return False
    return n <= _PICK_OPS


def _an_argument(em: Emitter, r: Value) -> bool:
    """Is r (a view of) an argument of the function, which the kernel does not
    own and so never writes (nothing else can write it while r is read)?"""
    root = em.scope.root.get(r.id)
    return (r.const is None and root is not None and root not in em.scope.owned
            and any(a.id == root for a in em.program.body.args))


def _emit_branch(em: Emitter, op: Op, block: Block, lent: frozenset[int] = frozenset()) -> None:
    free = [v for v in free_values(block)]
    consumable = em.consumable_free(block)

    def finish() -> None:
        used: set[int] = set()
        texts = [em.name(r) if k in lent and _an_argument(em, r) else em.result_copy(r, used)
                 for k, r in enumerate(block.results)]
        for k, (out, r, text) in enumerate(zip(op.outputs, block.results, texts)):
            ours = (em.scope.root.get(r.id) in em.scope.owned if out.dtype == RNG or k in lent
                    else _is_array(out))
            if ours and text == em.name(r):  # an array or generator of ours: its variable (the first arm's)
                em.take_name(out, r)
        pairs = [(em.name(out), text) for out, text in zip(op.outputs, texts) if em.name(out) != text]
        read = {w for _, text in pairs for w in re.findall(r"\w+", text)}
        if any(name in read for name, _ in pairs):  # an arm's result under another output's name
            _assign(em, *zip(*pairs))  # one statement: every result is read before any is bound
            return
        for name, text in pairs:
            em.line(f"{name} = {text}")

    em.emit_block(block, consumable, free=free, finish=finish)


TARGET.register("for_loop", RegionRule(emit_for))
TARGET.register("while_loop", RegionRule(emit_while))
TARGET.register("cond", RegionRule(emit_cond))
