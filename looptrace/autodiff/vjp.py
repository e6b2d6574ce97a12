"""Reverse mode as an IR -> IR transform.

`gradient_program(p, wrt)` returns a Program that takes p's arguments plus one
cotangent per output and returns p's outputs followed by the cotangents of the
arguments in `wrt`. It is built in two sweeps over the ops, in the
read-env / apply-rule / write-env shape:

1. forward: the ops themselves, except that loops and conditionals whose
   inputs are active (depend on a differentiated argument) are replaced by
   versions that also output the residuals their adjoint reads; each active
   op leaves a *pullback*.
2. backward: the pullbacks in reverse order, each reading the cotangents of
   its op's outputs from `cts` and adding the cotangents of its inputs.

Invariant: only active float values get cotangents; a missing entry in `cts`
means zero. The output is plain IR made of existing primitives.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from looptrace.ir.core import Block, Op, Program, Value, free_values
from looptrace.ir.dce import dce
from looptrace.ir.primitive import NOT_DIFFERENTIABLE
from looptrace.ops.vjp_helpers import Builder, Ct, add_cts, dense, is_float

Pullback = Callable[[Builder, dict], None]


@dataclass(frozen=True)
class Options:
    checkpoint: int | None = None  # segment length for top-level counted loops


# --- activity ---------------------------------------------------------------------------------
def op_reads(op: Op) -> list[Value]:
    """Inputs of `op`, plus the outer values its blocks capture."""
    reads = list(op.inputs)
    for b in op.blocks:
        reads += free_values(b)
    return reads


def is_active_op(op: Op, active: set[int]) -> bool:
    return op.prim.vjp != NOT_DIFFERENTIABLE and any(v.id in active for v in op_reads(op))


def mark_outputs(op: Op, active: set[int]) -> None:
    active.update(v.id for v in op.outputs if is_float(v))


def propagate_activity(ops: list[Op], active: set[int]) -> None:
    """Conservatively mark the float outputs of ops that read active values."""
    for op in ops:
        if is_active_op(op, active):
            mark_outputs(op, active)


# --- cotangent environment -------------------------------------------------------------------
def accumulate(b: Builder, cts: dict, v: Value, ct: Ct | None) -> None:
    if ct is None or v.is_const or not is_float(v):
        return
    cts[v.id] = add_cts(b, cts.get(v.id), ct)


def read_ct(b: Builder, cts: dict, v: Value) -> Value | None:
    ct = dense(b, cts.get(v.id))
    if ct is not None:
        cts[v.id] = ct
    return ct


def read_ct_or_zeros(b: Builder, cts: dict, v: Value) -> Value:
    ct = read_ct(b, cts, v)
    return ct if ct is not None else b.zeros_like(v)


# --- the two sweeps --------------------------------------------------------------------------
def transform_ops(ops: list[Op], active: set[int], opts: Options) -> tuple[list[Op], list[Pullback]]:
    """Forward ops (active regions augmented) and the pullbacks, in op order."""
    from . import loop_adjoint

    fwd: list[Op] = []
    pullbacks: list[Pullback] = []
    for op in ops:
        if not is_active_op(op, active):
            fwd.append(op)
            continue
        if op.prim.region:
            new_ops, pb = loop_adjoint.REGION_FORWARD[op.prim.name](op, active, opts)
        else:
            new_ops, pb = [op], primitive_pullback(op, active)
        mark_outputs(op, active)
        fwd.extend(new_ops)
        if pb is not None:
            pullbacks.append(pb)
    return fwd, pullbacks


def primitive_pullback(op: Op, active: set[int]) -> Pullback:
    wanted = [v.id in active and is_float(v) for v in op.inputs]

    def pullback(b: Builder, cts: dict) -> None:
        g = read_ct(b, cts, op.out)
        if g is None:
            return
        b.loc = op.loc
        for v, ct in zip(op.inputs, op.prim.vjp(b, op, g, wanted)):
            accumulate(b, cts, v, ct)

    return pullback


def run_pullbacks(b: Builder, pullbacks: list[Pullback], cts: dict) -> None:
    for pb in reversed(pullbacks):
        pb(b, cts)


# --- programs ----------------------------------------------------------------------------------
def gradient_program(p: Program, wrt: list[int], opts: Options = Options()) -> Program:
    """(outputs, cotangents of args[wrt]) given the args and output cotangents."""
    n_out = len(p.body.results) - len(p.writebacks)
    outputs = p.body.results[:n_out]
    wrt_vals = [p.body.args[i] for i in wrt]
    active = {v.id for v in wrt_vals}
    fwd_ops, pullbacks = transform_ops(p.body.ops, active, opts)
    b = Builder()
    cts: dict = {}
    out_cts = [Value(v.dtype, v.shape) for v in outputs]
    for v, g in zip(outputs, out_cts):
        accumulate(b, cts, v, g)
    run_pullbacks(b, pullbacks, cts)
    grads = [read_ct_or_zeros(b, cts, v) for v in wrt_vals]
    body = Block(list(p.body.args) + out_cts, fwd_ops + b.ops, list(outputs) + grads)
    return Program(dce(body), p.name + "_vjp", out_tree=p.out_tree, loops=p.loops,
                   arg_specs=p.arg_specs)
