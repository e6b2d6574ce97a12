"""Which strategy runs each top-level loop on the GPU, and why (for `explain`).

Five strategies (issue 12; the figures behind them are in
../shared/research/gpu-and-ad.md):
  points  a pointwise scan (each point of the state updated from that point
          only, planning/pointwise.py): one thread per point runs every
          step, in one launch, with no barrier (points.py); chosen whenever
          the loop is one, since it launches once and never synchronizes
  iterations  a loop whose iterations are independent (no carried value; the
          vectorizer's scan of ops it could not batch, e.g. a `while` per
          pixel) and whose body one thread can run: one grid-stride kernel,
          one thread per iteration (iterations.py), a perfect nest flattened
          into one range; chosen whenever the loop is one (one launch, no
          barrier, every thread busy), after points
  single  a persistent kernel of ONE block runs every step in one launch:
          state in shared memory, a block barrier between dependent ops
  coop    a persistent cooperative kernel: the whole grid runs every step,
          a grid sync between dependent ops (for steps too wide for a block)
  host    host-driven steps: the body's kernels launched every step
Otherwise a loop can run persistently only if every op of its body can run inside a
kernel: no random draw (the generator lives on the host), no run-time
shape, no repeated squaring (host-driven products). Among the strategies it
can use, the cost model below picks the cheapest per step, with one rule
from measurement over it: where the cost model picks a single block but the
loop-invariant operands of the step's products do not fit that block's
shared memory (they would be read from L2 every step) and a step has at
least SPREAD_WORK multiply-adds, the loop runs as a cooperative grid. On the
H200 (2026-12-04, bench/README.md) the hand-written kernels said so twice:
float64 W 200x200 (320 KB) 11.6 us per step over 2 blocks against 21.8 in
one, float32 W 512x512 12.8 over 5 blocks against 50.9; with W in shared
memory (float32 200x200) one block and one cooperative block were equal.

The cost model (per step, microseconds). Assumptions, not measurements (no
GPU was available when it was written; bench/bench_gpu.py measures):
  single: barriers * BARRIER_US + work / threads(<= 1024) * MAC_NS / 1000
  coop:   barriers * GRID_SYNC_US + work / (blocks * 256) * MAC_NS / 1000
  host:   launches * LAUNCH_US + work / GPU_THREADS * MAC_NS / 1000
where work is the multiply-adds and element updates of one step and
barriers (launches) the ops of the body that write memory. LAUNCH_US is
numba-cuda's measured launch cost with array arguments (6.6-14 us, numba-
cuda#288); GRID_SYNC_US is a guess (no Hopper figure was found); a block
barrier costs tens of cycles. LOOPTRACE_CUDA_SCAN=single|coop|host|iterations forces a
strategy where the loop allows it (tests use it to run each one; "points"
only where the loop is pointwise, "iterations" only where its iterations are
independent).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from math import prod

from looptrace.ir.core import RNG, Dim, Op, walk
from looptrace.ir.primitive import folded_axes
from looptrace.ops.linalg import parse_spec

from .limits import HOPPER

BARRIER_US = 0.05
GRID_SYNC_US = 3.0
LAUNCH_US = 10.0
MAC_NS = 1.0  # one dependent multiply-add (an L2 or shared-memory read) per thread
SPREAD_WORK = 16384  # multiply-adds per step from which operands in L2 send a loop to the grid
GPU_THREADS = HOPPER.sm_count * 2048
COOP_MAX_THREADS = HOPPER.sm_count * 256  # one 256-thread block per SM: always co-resident
NOT_IN_A_KERNEL = {"random_normal": "draws from the host's generator",
                   "random_uniform": "draws from the host's generator",
                   "random_exponential": "draws from the host's generator",
                   "random_integers": "draws from the host's generator",
                   "random_permutation": "draws from the host's generator",
                   "matrix_power_apply": "repeated squaring is host-driven",
                   "dynamic_prefix": "has a run-time length"}


@dataclass(frozen=True)
class ScanPlan:
    kind: str  # "points" | "iterations" | "single" | "coop" | "host"
    reason: str


@dataclass(frozen=True)
class StepCost:
    work: int  # multiply-adds and element writes per step
    width: int  # the widest op (elements one parallel loop covers)
    writes: int  # ops that write memory (barriers in a kernel, launches on the host)


def choose(em, op: Op) -> ScanPlan:
    """The strategy for a top-level loop."""
    blocker = _blocker(op)
    forced = os.environ.get("LOOPTRACE_CUDA_SCAN", "")
    if blocker is not None:
        return ScanPlan("host", f"GPU: host-driven steps, because {blocker}")
    cost = step_cost(op)
    if forced in ("", "points") and _points(em, op):
        why = "forced by LOOPTRACE_CUDA_SCAN" if forced else "each point of its state is updated from that point only"
        return ScanPlan("points", f"GPU: a points kernel (one thread per point runs every step, in one launch, "
                                  f"with no barrier); {why}")
    if forced in ("", "iterations"):
        levels = _iterations(em, op)
        if levels is not None:
            return ScanPlan("iterations", _iterations_reason(levels, bool(forced)))
    est = {"single": _single_us(cost), "coop": _coop_us(cost), "host": _host_us(cost)}
    kind = forced if forced in est else min(est, key=est.get)
    why = "forced by LOOPTRACE_CUDA_SCAN" if forced in est else "the cheapest by the cost model"
    outside = _operands_outside_shared(op) if forced not in est and kind == "single" else 0
    if outside and cost.work >= SPREAD_WORK:
        kind = "coop"
        why = (f"{outside} B of the step's loop-invariant operands do not fit one block's shared memory, "
               f"so the grid reads them from L2 in parallel (measured on the H200, hand kernels: W 200x200 "
               f"float64 over 2 blocks 11.6 us/step against 21.8 in one block; W 512x512 float32 over 5 "
               f"blocks 12.8 against 50.9)")
    figures = ", ".join(f"{k} {v:.2f} us" for k, v in est.items())
    what = {"single": "a persistent single-block kernel (every step in one launch, state in shared memory)",
            "coop": "a persistent cooperative kernel (every step in one launch, a grid sync between ops)",
            "host": "host-driven steps (the body's kernels launched every step)"}[kind]
    return ScanPlan(kind, f"GPU: {what}; {why}: {cost.work} multiply-adds, {cost.writes} writes per step, "
                          f"widest op {cost.width} elements; estimated per step: {figures}")


def _operands_outside_shared(op: Op) -> int:
    from .persistent import operands_outside_shared

    return operands_outside_shared(op)


def _points(em, op: Op) -> bool:
    """May this loop run as a points kernel (points.py)? A pointwise scan
    (planning/pointwise.py) with points to run: carried scalars are stored
    by the thread of the first point."""
    from .points import points_ops

    if points_ops(em, op) is None:
        return False
    arrays = [a for a in op.blocks[0].args[1:] if a.ndim]
    return prod(arrays[0].shape) > 0 or all(a.ndim for a in op.blocks[0].args[1:])


def _iterations(em, op: Op):
    """The loop nest as one flat range of independent iterations (iterations.py), or None."""
    from .iterations import iteration_levels

    return iteration_levels(em, op)


def _iterations_reason(levels, forced: bool) -> str:
    inner = [str(lv.op.loc.line) for lv in levels[1:]]
    nest = f"; the nested loop{'s' * (len(inner) > 1)} at line{'s' * (len(inner) > 1)} {', '.join(inner)} " \
           f"flattened into one range" if inner else ""
    why = "; forced by LOOPTRACE_CUDA_SCAN" if forced else ""
    return (f"GPU: one thread per iteration ({prod(lv.trips for lv in levels)} iterations, independent{nest}{why}): "
            f"one grid-stride kernel, each thread runs its iterations' inner loops serially in registers")


def _blocker(op: Op) -> str | None:
    """Why this loop cannot run inside a kernel (None when it can)."""
    for inner in walk_with(op):
        if inner.prim.name in NOT_IN_A_KERNEL:
            return f"`{inner.prim.name}` at line {inner.loc.line} {NOT_IN_A_KERNEL[inner.prim.name]}"
        for v in [*inner.inputs, *inner.outputs]:
            if v.dtype == RNG:
                return f"a generator is carried through it (line {inner.loc.line})"
            if any(isinstance(d, Dim) for d in v.shape):
                return f"`{inner.prim.name}` at line {inner.loc.line} has a run-time shape"
    return None


def walk_with(op: Op):
    yield op
    for b in op.blocks:
        yield from walk(b)


def step_cost(op: Op) -> StepCost:
    work, width, writes = 0, 1, 0
    for inner in (o for b in op.blocks for o in walk(b)):
        if inner.prim.region or not inner.outputs:
            continue
        out = inner.outputs[-1]
        n = prod(d for d in out.shape if isinstance(d, int)) if out.ndim else 1
        width = max(width, n)
        work += n * _inner_length(inner)
        if out.ndim and not inner.prim.view and inner.prim.name not in ("reshape", "transpose"):
            writes += 1
    return StepCost(work, width, max(writes, 1))


def _inner_length(op: Op) -> int:
    """Multiply-adds per output element (1 for elementwise ops)."""
    if op.prim.name == "einsum":
        ins, out = parse_spec(op.attrs["spec"])
        size = {c: d for letters, x in zip(ins, op.inputs) for c, d in zip(letters, x.shape) if isinstance(d, int)}
        return prod(size[c] for c in set(size) - set(out)) if set(size) - set(out) else 1
    axes = folded_axes(op) if op.prim.reduction is not None else None
    if axes:
        return prod(op.inputs[0].shape[k] for k in axes if isinstance(op.inputs[0].shape[k], int))
    return 1


def _single_us(c: StepCost) -> float:
    threads = min(1024, max(32, c.width))
    return c.writes * BARRIER_US + c.work / threads * MAC_NS / 1000


def _coop_us(c: StepCost) -> float:
    threads = min(COOP_MAX_THREADS, max(256, c.width))
    return c.writes * GRID_SYNC_US + c.work / threads * MAC_NS / 1000


def _host_us(c: StepCost) -> float:
    threads = min(GPU_THREADS, max(256, c.width))
    return c.writes * LAUNCH_US + c.work / threads * MAC_NS / 1000
