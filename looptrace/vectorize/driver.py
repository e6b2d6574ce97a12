"""The vectorize pass: every loop of the program, innermost first, goes
through the per-loop steps that looptrace/pipeline.py lists (counted loops
through `COUNTED_LOOP_STEPS`, while loops through `WHILE_LOOP_STEPS`).

A failure inside the steps of one loop (an internal error, never a user's)
restores that loop as it was traced and warns; LOOPTRACE_VECTORIZE_STRICT=1
(tests) raises instead. LOOPTRACE_NO_VECTORIZE=1 skips the pass (benchmarks
compare both).
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Callable

from looptrace.ir.affine import static_bounds, value_range
from looptrace.ir.clone import copy_region
from looptrace.ir.core import Block, Op, Program
from looptrace.ir.verify import VerifyError, verify_scoping

from looptrace.ops.control import trip_count

from .loop_rewrite import LoopJob
from .simplify import hoist_invariants
from .view_writes import writes_through_views


@dataclass(frozen=True)
class Step:
    """One named step of the per-loop sequence: `run(job)` rewrites job.loop."""

    name: str
    run: Callable[[LoopJob], None]


def enabled() -> bool:
    return not os.environ.get("LOOPTRACE_NO_VECTORIZE")


def for_each_loop(block: Block, visit: Callable[..., None], outer: dict | None = None) -> None:
    """Call `visit(loop, block, outer)` on every loop op, innermost first; a
    loop a visit removed (rewrote away) is not visited. `outer` maps the index
    of each enclosing counted loop with static bounds to its [lo, hi]."""
    outer = {} if outer is None else outer
    for op in list(block.ops):
        inner = outer
        if op.prim.name == "for_loop":
            bounds = static_bounds(op)
            if bounds is not None and trip_count(*bounds) > 0:
                start, _, step = bounds
                inner = {**outer, op.blocks[0].args[0].id: value_range((step, start), trip_count(*bounds))}
        for sub in op.blocks:
            for_each_loop(sub, visit, inner)
        if op.prim.name in ("for_loop", "while_loop") and op in block.ops:
            visit(op, block, outer)


def each_loop(counted: tuple[Step, ...], while_steps: tuple[Step, ...],
              after: Callable[[str, Program], None]) -> Callable[[Program], Program]:
    """The vectorize pass running these steps; `after(step name, program)`
    is called after every step (the pipeline's verifier and IR dump)."""

    def vectorize(program: Program) -> Program:
        if not enabled():
            return program
        # A loop whose steps fail is restored as it came (`_guarded`), which is valid only if the
        # program came valid: an invalid one (a value the tracer left outside the block defining it)
        # is reported here, as what it is, not as a skipped loop that keeps it (probe Q: the
        # interpreter then read the value before it was defined, a KeyError)
        try:
            verify_scoping(program)
        except VerifyError as e:
            raise VerifyError(f"{e}\n(in the program as traced, before the vectorizer ran)") from None

        writes_through_views(program.body)  # v[i] = x into a view: one element of its base, not the view

        def visit(loop: Op, block: Block, outer: dict | None = None) -> None:
            steps = counted if loop.prim.name == "for_loop" else while_steps
            _guarded(LoopJob(loop, block, program, vectorize_loop=visit, outer=outer or {}), steps, after)

        for_each_loop(program.body, visit)
        return program

    return vectorize


def _guarded(job: LoopJob, steps: tuple[Step, ...], after: Callable[[str, Program], None]) -> None:
    """Run the steps on one loop; on an internal error keep the loop as traced."""
    block, loop = job.parent, job.loop
    strict = bool(os.environ.get("LOOPTRACE_VECTORIZE_STRICT"))
    # (strict raises instead of restoring: no copy to restore from, which was a tenth of the pass)
    saved_ops, saved_loop = list(block.ops), None if strict else copy_region(loop)
    try:
        for step in steps:
            step.run(job)
            after(f"vectorize.{step.name}", job.program)
            if job.done:
                break
        verify_scoping(job.program)  # a rewrite that lost a definition: the loop stays as traced
    except Exception as e:
        if strict:
            raise
        block.ops = saved_ops
        block.ops[block.ops.index(loop)] = saved_loop
        info = saved_loop.attrs.get("loop")
        if info is not None:
            info.kind, info.reason = "scan", f"not vectorized: internal error in the vectorizer ({e})"
        warnings.warn(f"looptrace: the vectorizer skipped the loop at line {loop.loc.line}: {e!r}", stacklevel=2)


def hoist_while_invariants(job: LoopJob) -> None:
    """A loop with a data-dependent exit stays a loop; its loop-invariant work
    moves before it."""
    moved = hoist_invariants(job.loop, job.parent.ops)
    info = job.loop.attrs.get("loop")
    if info is not None and not info.reason:
        info.reason = "its exit test reads values the loop computes, so it stays a while loop"
        if moved:
            info.reason += f"; {moved} loop-invariant op(s) moved before it"
