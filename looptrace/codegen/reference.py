"""The reference backend: run the IR op by op with NumPy (loops as Python
loops). Slow and obviously correct; every other backend is tested against it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.errors import format_message
from looptrace.ir.core import Block, Dim, Op, Value
from looptrace.ops.control import split_for_results


class Env:
    """Values of SSA names; nested scopes see their parents' values."""

    __slots__ = ("vals", "parent")

    def __init__(self, parent: "Env | None" = None):
        self.vals: dict[int, Any] = {}
        self.parent = parent

    def read(self, v: Value) -> Any:
        if v.const is not None:
            return v.const
        env: Env | None = self
        while env is not None:
            if v.id in env.vals:
                return env.vals[v.id]
            env = env.parent
        raise KeyError(f"value {v} read before it is defined")

    def write(self, v: Value, x: Any) -> None:
        self.vals[v.id] = x


def run_block(block: Block, args: list, parent: Env | None = None) -> list:
    env = Env(parent)
    for v, x in zip(block.args, args):
        env.write(v, x)
    for op in block.ops:
        outs = run_op(op, env)
        for v, x in zip(op.outputs, outs):
            env.write(v, x)
    return [env.read(v) for v in block.results]


def run_op(op: Op, env: Env) -> list:
    ins = [env.read(v) for v in op.inputs]
    if op.prim.region:
        return REGION_RULES[op.prim.name](op, ins, env)
    try:
        out = op.prim.impl(*ins, **op.attrs)
    except IndexError as e:
        if getattr(e, "looptrace_located", False):
            raise
        located = IndexError(format_message(str(e), op.loc))
        located.looptrace_located = True
        raise located from None
    return list(out) if op.prim.multiple_results else [out]


def _for_loop(op: Op, ins: list, env: Env) -> list:
    start, stop, step, *carry = ins
    (body,) = op.blocks
    n_carry, n_ys = split_for_results(op)
    ys: list[list] = [[] for _ in range(n_ys)]
    for i in range(int(start), int(stop), int(step)):
        res = run_block(body, [np.int64(i), *carry], env)
        carry = res[:n_carry]
        for acc, y in zip(ys, res[n_carry:]):
            acc.append(y)
    stacked = [_stack(acc, v) for acc, v in zip(ys, op.outputs[n_carry:])]
    return [*carry, *stacked]


def _stack(items: list, out: Value) -> np.ndarray:
    if items:
        return np.stack(items)
    shape = tuple(0 if isinstance(d, Dim) else d for d in out.shape)
    return np.zeros((0,) + shape[1:], dtype=out.dtype)


def _while_loop(op: Op, ins: list, env: Env) -> list:
    cond, body = op.blocks
    carry = ins
    while bool(run_block(cond, carry, env)[0]):
        carry = run_block(body, carry, env)
    return carry


def _cond(op: Op, ins: list, env: Env) -> list:
    then, other = op.blocks
    return run_block(then if bool(ins[0]) else other, [], env)


REGION_RULES = {"for_loop": _for_loop, "while_loop": _while_loop, "cond": _cond}


def run_program(program, args: list) -> list:
    return run_block(program.body, args)
