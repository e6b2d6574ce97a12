"""The reference target (backend="interpret"): run the IR op by op with
NumPy, loops as Python loops. Slow and obviously correct; every other target
is tested against it.

Its rules are `EvalRule`s: a primitive's own NumPy `impl` for every
primitive that has one, and the region rules below for loops and
conditionals. `run_program` needs no compile step; `TARGET.compile` wraps it
as a Runner.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace import ops
from looptrace.errors import SliceOverrunError, format_message
from looptrace.ir.core import Block, Dim, Op, Program, Value
from looptrace.ir.verify import verify_scoping
from looptrace.ops.control import split_for_results

from .target import CompileOptions, EvalRule, Target


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
    """Run `block`'s ops in order. What `run_op` does, with the block's own values read
    and written in place: a loop body runs once per iteration, and the calls per value
    were a third of the interpreter's own time (session 55)."""
    env = Env(parent)
    vals = env.vals
    for v, x in zip(block.args, args):
        vals[v.id] = x
    rules = TARGET.rules
    for op in block.ops:
        ins = [v.const if v.const is not None else vals[v.id] if v.id in vals else env.read(v)
               for v in op.inputs]
        rule = rules.get(op.prim.name) or TARGET.rule(op.prim)
        for v, x in zip(op.outputs, rule.run(op, ins, env)):
            vals[v.id] = x
    return [env.read(v) for v in block.results]


def run_op(op: Op, env: Env) -> list:
    ins = [env.read(v) for v in op.inputs]
    return TARGET.rule(op.prim).run(op, ins, env)


def _run_impl(op: Op, ins: list, env: Env) -> list:
    try:
        out = op.prim.impl(*ins, **op.attrs)
    except IndexError as e:
        if getattr(e, "looptrace_located", False):
            raise
        cls = SliceOverrunError if isinstance(e, SliceOverrunError) else IndexError
        located = cls(format_message(str(e), op.loc))
        located.looptrace_located = True
        raise located from None
    except np.linalg.LinAlgError as e:  # a singular matrix: the user's line, as the compiled targets say
        if not getattr(e, "looptrace_located", False) and op.loc.line > 0:
            e.add_note(f'raised by looptrace\'s compiled code at\n  File "{op.loc.file}", line {op.loc.line}\n'
                       f"    {op.loc.text.strip()}")
        e.looptrace_located = True
        raise
    return list(out) if op.prim.multiple_results else [out]


def _run_ufunc(op: Op, ins: list, env: Env) -> list:
    """A NumPy ufunc op: its primitive's impl (ops/elementwise.py `_ufunc_impl`)
    without the np.errstate it enters per call (about half of a scalar op's
    time in a loop body): `run_program` runs the whole program under one."""
    return [np.asarray(op.prim.extra["ufunc"](*ins))]


def _plain_ufunc(p) -> bool:
    """Is `p`'s impl the generic one of ops/elementwise.py, np.asarray(ufunc(*xs))
    under np.errstate(all="ignore"), attrs unread? (power's is its own.)"""
    return p.impl is not None and p.extra.get("ufunc") is not None and \
        getattr(p.impl, "__qualname__", "") == "_ufunc_impl.<locals>.impl"


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


def run_program(program: Program, args: list) -> list:
    # NumPy's floating-point warnings off once for the whole run, as the ufunc ops had them (`_run_ufunc`
    # enters no np.errstate of its own); the other ops' (an overflowing float sum) go too: the compiled
    # targets give none, and none is part of what the interpreter is compared on
    with np.errstate(all="ignore"):
        out = run_block(program.body, args)
    # a result NumPy would make writable: not a read-only constant or broadcast view (np.zeros(3) + c)
    out = [np.array(r) if isinstance(r, np.ndarray) and r.ndim and not r.flags.writeable
           and not any(r is a for a in args) else r for r in out]
    return _unshared_undeclared(program, args, out)


def _unshared_undeclared(program: Program, args: list, out: list) -> list:
    """`out` with a copy of each result that is an argument's memory where the
    program does not say it is that argument or a view of one (Program
    result_args, result_views, result_arg_views, result_choices,
    result_subviews, writebacks): in SSA a loop's or a branch's output may be
    its input array object (`cur, nxt = u.copy(), u.copy()` swapped by a loop,
    a while loop of zero trips), where the plain function returns a new array
    (probe R2: the caller's later write into u showed through the result)."""
    declared = {*program.result_args, *program.result_views, *program.result_arg_views,
                *program.result_choices, *program.result_subviews, *(k for _, k in program.writebacks)}
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    if not arrays:
        return out
    return [r.copy() if k not in declared and isinstance(r, np.ndarray)
            and any(r is a or np.may_share_memory(r, a) for a in arrays) else r
            for k, r in enumerate(out)]


class ReferenceRunner:
    """A Program ready to interpret (the reference target's Runner). Its
    values' scoping is verified first: a value read outside the block that
    defines it is an InternalError naming the op, never a KeyError from
    `Env.read` halfway through a run, nor a value left over from an earlier
    iteration or branch (a traced `return` beside a branch that always
    raises passed the returned tuple's values out of their branch, probe Q)."""

    source = None

    def __init__(self, program: Program):
        verify_scoping(program)
        self.program = program

    def __call__(self, args: list) -> list:
        return run_program(self.program, args)


TARGET = Target("interpret", capabilities=frozenset({"float16", "dynamic_shapes"}),
                compile_program=lambda program, options=CompileOptions(): ReferenceRunner(program))
TARGET.register(ops.control.for_loop, EvalRule(_for_loop))
TARGET.register(ops.control.while_loop, EvalRule(_while_loop))
TARGET.register(ops.control.cond, EvalRule(_cond))
TARGET.register([p for p in ops.PRIMITIVES.values() if _plain_ufunc(p)], EvalRule(_run_ufunc))
TARGET.register([p for p in ops.PRIMITIVES.values() if p.impl is not None and not _plain_ufunc(p)],
                EvalRule(_run_impl))
