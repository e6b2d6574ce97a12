"""Checkpointing a counted loop: T steps become T // k segments of k steps
(an outer loop over segments whose body is an inner k-step loop) plus a
remainder loop. The outer loop's adjoint saves only its carries at segment
entry and recomputes each segment (its inner loop saving its own residuals)
before running that segment's adjoint, so memory is O(T/k + k) instead of O(T).

Invariant: the rewritten loops compute exactly the original loop's outputs
(same output values), in the same order of steps.
"""
from __future__ import annotations

from looptrace.ir.builder import derived, rebuilt
from looptrace.ir.clone import clone_block
from looptrace.ir.core import Block, Op, Value
from looptrace.ir.dce import is_pure
from looptrace.ops.control import split_for_results
from looptrace.ops.vjp_helpers import Builder


def segmented(op: Op, k: int, active: set[int]):
    """(forward ops, pullback) of `op` checkpointed every `k` steps, or None
    when the trip count is not static or not longer than k."""
    from .loop_adjoint import _static_trips
    from .vjp import Options, run_pullbacks, transform_ops

    n = _static_trips(op)
    if n is None or n <= k or any(not is_pure(o) for o in op.blocks[0].ops):
        return None
    start, _, step = (int(v.const) for v in op.inputs[:3])
    b = Builder(op.loc)
    n_seg, rem = divmod(n, k)
    outer = _outer_loop(op, k, n_seg, start, step)
    carries, stacks = _split_outputs(op, outer)
    pieces = [b.reshape(s, (n_seg * k,) + tuple(s.shape[2:])) for s in stacks]
    if rem:
        tail = _loop_copy(op, start + n_seg * k * step, step, rem, carries)
        carries, tail_stacks = _split_outputs(op, tail)
        pieces = [b.emit("concatenate", p, t, axis=0) for p, t in zip(pieces, tail_stacks)]
    b.ops += _rename(op, carries + pieces)
    ops = [outer] + ([tail] if rem else []) + b.ops
    fwd, pullbacks = transform_ops(ops, active, Options())
    return fwd, lambda bb, cts: run_pullbacks(bb, pullbacks, cts)


def _outer_loop(op: Op, k: int, n_seg: int, start: int, step: int) -> Op:
    """for s in range(n_seg): carries = inner k-step loop from start + s*k*step."""
    from .loop_adjoint import INT, int_lit

    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    s = Value(INT, ())
    args = [Value(a.dtype, a.shape) for a in body.args[1:]]
    b = Builder(op.loc)
    i0 = b.add(int_lit(start), b.mul(s, int_lit(k * step)))
    inner = _loop_copy(op, i0, step, k, args, stop=b.add(i0, int_lit(k * step)))
    b.ops.append(inner)
    outer_body = Block([s] + args, b.ops, list(inner.outputs))
    outs = [Value(v.dtype, v.shape) for v in op.outputs[:n_carry]]
    outs += [Value(v.dtype, (n_seg, k) + tuple(v.shape[1:])) for v in op.outputs[n_carry:]]
    attrs = dict(op.attrs, recompute=True, trips=n_seg)
    return rebuilt(op, inputs=(int_lit(0), int_lit(n_seg), int_lit(1), *args_init(op)), outputs=tuple(outs),
                   attrs=attrs, blocks=(outer_body,))


def args_init(op: Op) -> tuple:
    return tuple(op.inputs[3:])


def _loop_copy(op: Op, start, step: int, trips: int, init: list, stop=None) -> Op:
    """A copy of `op` running `trips` steps from `start` with carries `init`."""
    from .loop_adjoint import int_lit

    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    mapping: dict[int, Value] = {}
    new_body = clone_block(body, mapping)
    start_v = start if isinstance(start, Value) else int_lit(start)
    stop_v = stop if stop is not None else int_lit(start + trips * step)
    outs = [Value(v.dtype, v.shape) for v in op.outputs[:n_carry]]
    outs += [Value(v.dtype, (trips,) + tuple(v.shape[1:])) for v in op.outputs[n_carry:]]
    return rebuilt(op, inputs=(start_v, stop_v, int_lit(step), *init), outputs=tuple(outs),
                   attrs=dict(op.attrs, trips=trips), blocks=(new_body,))


def _split_outputs(op: Op, loop: Op) -> tuple[list[Value], list[Value]]:
    n_carry, _ = split_for_results(op)
    return list(loop.outputs[:n_carry]), list(loop.outputs[n_carry:])


def _rename(op: Op, values: list[Value]) -> list[Op]:
    """Ops defining op's own output values from `values` (so the rest of the
    program reads them unchanged)."""
    b = derived(op)
    for orig, v in zip(op.outputs, values):
        b.op_into("reshape", (v,), (orig,), shape=tuple(orig.shape))
    return b.ops
