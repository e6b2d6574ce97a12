"""The whole compiler, top to bottom.

    user function
      -> tracer/ (api.py traces it once per signature)        Program
      -> an optional program transform (grad: autodiff/vjp.py) Program
      -> PASSES, in order (below)                             Program
      -> a target's lowering (codegen/<target>/)              Runner

`compile(program, target, options)` runs the passes and the target; both
`jit` and `grad` reach it through `JitFunction.compiled_for` (api.py), which
traces, applies the transform (if any) and caches per signature.

Every pass is Program -> Program and can be run alone. The vectorize pass
first turns writes through views into writes into their base arrays
(vectorize/view_writes.py, from driver.each_loop), then takes each loop,
innermost first, through its own list of named steps.
LOOPTRACE_DUMP=<name>[,<name>...] prints the IR after those passes or steps
("trace", "vectorize", "vectorize.rewrite", "linear_scans", ...; "all" for
every one), and LOOPTRACE_VERIFY=1 runs the verifier after each of them
(LOOPTRACE_VERIFY=stages: after tracing and after the last pass only; the test
suite runs one or the other, tests/conftest.py).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable

from looptrace.codegen import get_target
from looptrace.codegen.target import CompileOptions, Runner
from looptrace.ir.core import Program
from looptrace.ir.dce import dce
from looptrace.ir.printer import print_program
from looptrace.ir.small_vectors import scalarize_small_vectors
from looptrace.ir.verify import verify
from looptrace.vectorize import driver
from looptrace.vectorize.bounds import decide_ranges
from looptrace.vectorize.dead_reads import check_dead_reads
from looptrace.vectorize import loop_rewrite as per_loop
from looptrace.vectorize.driver import Step
from looptrace.vectorize.fold import fold_reduce_einsum
from looptrace.vectorize.branches import branch_carries
from looptrace.vectorize.gathered import gather_elements
from looptrace.vectorize.forward import forward_slice_reads
from looptrace.vectorize.sink import sink_into_bodies
from looptrace.vectorize.fused_products import fused_products
from looptrace.vectorize.scaled_products import scaled_products
from looptrace.vectorize.iotas import canonical_iotas
from looptrace.vectorize.group_sums import group_sums
from looptrace.vectorize.narrow import narrow_broadcasts
from looptrace.vectorize.transposes import push_transposes
from looptrace.vectorize.linear_recurrence import linear_scans


def after(name: str, program: Program, stage_end: bool = False) -> None:
    """What runs after every pass and step: the verifier and the IR dump.
    LOOPTRACE_VERIFY=stages verifies only where a stage ends (the traced program,
    the passes' result): the test suite's cheaper default where no pass is under test."""
    verifying = os.environ.get("LOOPTRACE_VERIFY")
    if verifying and (verifying != "stages" or stage_end):
        verify(program)
    dump = os.environ.get("LOOPTRACE_DUMP", "")
    if dump and (dump == "all" or name in dump.split(",")):
        print(f"--- IR after {name} ---\n{print_program(program)}", file=sys.stderr)


# What a counted loop goes through (vectorize/loop_rewrite.py), in order.
COUNTED_LOOP_STEPS = (
    Step("zero_trips", per_loop.zero_trips),  # no iteration: the initial values, nothing of the body
    Step("simplify", per_loop.simplify),  # forwarding, dead ops, invariant motion (exact)
    Step("traced_trip_count", per_loop.traced_trip_count),  # a data-dependent trip count stops here
    Step("if_convert", per_loop.if_convert_body),  # pure conditionals -> selects, masked writes
    Step("mask_conditional_sums", per_loop.mask_conditional_sums),  # if c: acc += f -> acc += where(c, f, 0)
    Step("simplify_converted", per_loop.simplify),
    Step("induction_variables", per_loop.induction_variables),  # k += 1 read in the body: init + k0 * iterations
    Step("merge_checks", per_loop.merge_run_time_checks),  # raise/assert in the body: one check
    Step("promote_blocks", per_loop.promote),  # a block read and written in place -> a carry
    Step("hoist_invariants", per_loop.hoist),
    Step("drop_clamps", per_loop.drop_clamps),  # min(s, n - k) the loop's bounds decide -> s
    Step("split_delay_lines", per_loop.split_delays),  # buf[t+k] = s[t]; ... buf[t]: a writer loop of its own
    Step("merge_row_writes", per_loop.merge_rows),  # out[i, 0] = a; out[i, 1] = b -> one row write
    Step("classify_carries", per_loop.classify),  # map, reduction, scatter-add, stream, recurrence
    Step("regroup_sums", per_loop.regroup),  # recurrence-free terms of a sum added first
    Step("rewrite", per_loop.rewrite),  # batched before / scan / batched after / sinks
)
# What a while loop goes through: it stays a loop.
WHILE_LOOP_STEPS = (
    Step("hoist_while_invariants", driver.hoist_while_invariants),
)


@dataclass(frozen=True)
class Pass:
    name: str
    run: Callable[[Program], Program]


def _fold_einsums(program: Program) -> Program:
    if driver.enabled():
        fold_reduce_einsum(program.body)
    return program


def _fused_products(program: Program) -> Program:
    if driver.enabled():
        fused_products(program.body)
    return program


def _scaled_products(program: Program) -> Program:
    if driver.enabled():
        scaled_products(program.body)
    return program


def _drop_dead(program: Program) -> Program:
    """Ops nothing reads, in every block, except those that may raise (the
    plain function's read out of bounds raises though nothing uses it).
    thomas_columns (bench/corpus/sparse.py) kept a strided copy of a
    (4096, 79) input that a body had stopped reading after vectorization."""
    program.body = dce(program.body, keep_raising=True)
    return program


def _aliased_fresh_results(program: Program) -> Program:
    """Of the results the plain function makes anew (tracer/trace.py
    `_fresh_results`), those whose value is an argument, or a view of one,
    in the program: `x.copy()` is x's value in SSA, `np.array([x[0], x[2],
    x[4]])` a strided slice of x after vectorizing. The kernel gives the
    argument's memory for them, and a write into the result reached the
    caller's array (probe R); the call copies them (api.py). Also those whose
    value is, or views, an earlier result's."""
    body = program.body
    made = {op.outputs[0].id: op for op in body.ops if len(op.outputs) == 1}
    chosen = _chosen_values(body)
    # an argument the program writes back is left out: the call copies a result sharing its memory
    # already (api.py `_unshared`), and keeps its direct runner
    positions = [i for i, spec in enumerate(program.arg_specs) if spec.kind != "static"]
    written = {argi for argi, _ in program.writebacks}
    args = {a.id for k, a in enumerate(body.args) if k >= len(positions) or positions[k] not in written}

    def reaches_an_argument(v) -> bool:
        while v.id not in args:
            if v.id in chosen:  # `x if c else x.copy()`: x's value either way in SSA (see below)
                return any(reaches_an_argument(w) for w in chosen[v.id])
            op = made.get(v.id)
            if op is None or not op.prim.view or not op.inputs:
                return False
            v = op.inputs[0]
        return True

    def root(v) -> int:
        while (op := made.get(v.id)) is not None and op.prim.view and op.inputs:
            v = op.inputs[0]
        return v.id

    # or another result's memory: `return y, y.flatten()`, `np.array(y)` (copies in NumPy, y's value or a
    # view of it here: the kernel gave one buffer twice, and a write into one showed in the other)
    roots = [root(v) if v.shape else None for v in body.results]
    program.fresh_results = tuple(k for k in program.fresh_results if reaches_an_argument(body.results[k])
                                  or roots[k] is not None and roots[k] in roots[:k])
    return program


def _chosen_values(block) -> dict:
    """Each output of a traced conditional (cond), in `block` and the
    conditionals inside its branches, -> the values its branches give for
    it. A new array that is chosen (`return x if c else x.copy()`, `if c:
    return x.copy()` then `return x`) is x's value on both sides in SSA,
    and the plain function's copy is not told from its argument: the call
    copies the result on every path where one side reaches an argument
    (probe s48: the interpreter gave x itself, and a write into the result
    changed the caller's x where plain's copy would not). Plain returns
    x itself where the path taken returns it; the call gives a copy there too."""
    chosen: dict = {}
    for op in block.ops:
        if op.prim.name == "cond":
            for k, out in enumerate(op.outputs):
                chosen[out.id] = [b.results[k] for b in op.blocks]
            for b in op.blocks:
                chosen.update(_chosen_values(b))
    return chosen


PASSES: tuple[Pass, ...] = (
    Pass("dead_reads", check_dead_reads),  # a read nothing uses still raises out of bounds: a check
    Pass("small_vectors", scalarize_small_vectors),  # k = np.array([a, b]) read as k[0]: a (ir/small_vectors.py)
    Pass("vectorize", driver.each_loop(COUNTED_LOOP_STEPS, WHILE_LOOP_STEPS, after)),
    Pass("fold_einsums", _fold_einsums),  # reductions of batched products fold into the product
    Pass("fused_products", _fused_products),  # a matrix-vector product of computed elements: a fold
    Pass("scaled_products", _scaled_products),  # (alpha * A) @ B: alpha * (A @ B), fused downstream
    Pass("linear_scans", linear_scans),  # residual linear recurrences -> prefix scans, chains -> squaring
    Pass("forward_updates", forward_slice_reads),  # a slice of a buffer just written: the values written;
    # a slice of a concatenation: its piece; a reshape of a reshape: one reshape (vectorize/forward.py)
    Pass("transposes", push_transposes),  # transpose(f(transpose(a), b)): f(a, transpose(b)), in its reader's layout
    Pass("branches", branch_carries),  # a scan's scalars updated under a condition: updated in a branch
    Pass("sink", sink_into_bodies),  # cheap values read in one branch only: computed there
    Pass("narrow", narrow_broadcasts),  # f(broadcast_to(a)) -> broadcast_to(f(a)): work at the shape it varies over
    Pass("iotas", canonical_iotas),  # iota through reshapes, broadcasts, *1 and +0: a nest's loop variable
    Pass("group_sums", group_sums),  # sums of rows masked by `lab == iota(k)`: one scatter-add over the rows
    Pass("ranges", decide_ranges),  # clamps, comparisons and checks that the positions' ranges decide
    Pass("gathered", gather_elements),  # gather(f(a, b), idx): f(a, b) computed at the positions read only
    Pass("dead_ops", _drop_dead),  # what the passes left unread (a read they moved elsewhere)
    Pass("fresh_results", _aliased_fresh_results),  # new arrays that are an argument's memory: copied by the call
)


def run_passes(program: Program, upto: str | None = None) -> Program:
    after("trace", program, stage_end=True)
    for p in PASSES:
        program = p.run(program)
        after(p.name, program, stage_end=p.name == upto or p is PASSES[-1])
        if p.name == upto:
            break
    return program


@dataclass
class Compiled:
    """A program after the passes and the target's runner for it."""

    program: Program
    run: Runner


def compile(program: Program, target: str, options: CompileOptions = CompileOptions()) -> Compiled:
    """Run the passes on a traced (or transformed) program and lower it."""
    program = run_passes(program)
    return Compiled(program, get_target(target).compile(program, options))
