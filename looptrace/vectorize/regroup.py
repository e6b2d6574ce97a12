"""Regroup sums so that terms free of the recurrence are added first.

`tanh(W1 @ y + W2 @ x[t] + W3 @ x[t-1])` is `(W1 @ y) + (W2 @ x[t] + W3 @ x[t-1])`
after this rewrite, so the second group can leave the loop as one batched
add. Only floating-point add/subtract trees whose inner nodes are used once
are regrouped (a change of rounding only); trees touching a non-recurrent
carry (a reduction's accumulator) are left alone.
"""
from __future__ import annotations

from looptrace.ir.builder import derived
from looptrace.ir.core import Op, Value
from looptrace.ir.uses import operands

from .analysis import Carry, LoopFacts

SUMS = ("add", "subtract")


def regroup_sums(facts: LoopFacts, rec: list[Carry], carries: list[Carry]) -> bool:
    if not rec:
        return False
    hot = _hot_values(facts, rec)
    other_args = {c.arg.id for c in carries if c.kind != "rec"}
    changed = False
    for op in list(facts.body.ops):
        if op in facts.body.ops and _is_root(facts, op):
            changed |= _regroup(facts, op, hot, other_args)
            facts.refresh()
    return changed


def _hot_values(facts: LoopFacts, rec: list[Carry]) -> set[int]:
    hot = {c.arg.id for c in rec}
    for op in facts.body.ops:
        if any(v.id in hot for v in operands(op)):
            hot.update(v.id for v in op.outputs)
    return hot


def _sum_op(facts: LoopFacts, v: Value, dtype) -> Op | None:
    op = facts.defs.get(v.id)
    if op is None or op.prim.name not in SUMS or op.out.dtype != dtype or facts.n_uses(v) != 1:
        return None
    return op


def _is_root(facts: LoopFacts, op: Op) -> bool:
    if op.prim.name not in SUMS or op.out.dtype.kind not in "fc":
        return False
    us = facts.users.get(op.out.id, [])
    inner = len(us) == 1 and facts.n_uses(op.out) == 1 and us[0].prim.name in SUMS \
        and us[0].out.dtype == op.out.dtype
    return not inner


def _leaves(facts: LoopFacts, op: Op, sign: int, out: list, interior: list) -> None:
    interior.append(op)
    a, b = op.inputs
    for v, s in ((a, sign), (b, sign if op.prim.name == "add" else -sign)):
        inner = _sum_op(facts, v, op.out.dtype)
        if inner is not None:
            _leaves(facts, inner, s, out, interior)
        else:
            out.append((v, s))


def _regroup(facts: LoopFacts, root: Op, hot: set[int], other_args: set[int]) -> bool:
    leaves: list[tuple[Value, int]] = []
    interior: list[Op] = []
    _leaves(facts, root, 1, leaves, interior)
    if any(v.id in other_args for v, _ in leaves):
        return False
    cold = [(v, s) for v, s in leaves if v.id not in hot]
    warm = [(v, s) for v, s in leaves if v.id in hot]
    if not warm or len(cold) < 2 or _already_grouped(interior, cold):
        return False
    new_ops: list[Op] = []
    cold_sum = _signed_sum(cold, new_ops, root)
    warm_sum = _signed_sum(warm, new_ops, root)
    derived(root, new_ops).op_into("add", (warm_sum, cold_sum), root.outputs)
    ops = facts.body.ops
    at = ops.index(root)
    gone = {id(op) for op in interior}
    facts.body.ops = [op for op in ops[:at] if id(op) not in gone] + new_ops + ops[at + 1:]
    return True


def _already_grouped(interior: list[Op], cold: list) -> bool:
    """The cold leaves already form one subtree of the root."""
    cold_ids = {v.id for v, _ in cold}
    for op in interior[1:]:
        if {v.id for v in op.inputs} == cold_ids and len(cold) == 2:
            return True
    return False


def _signed_sum(leaves: list[tuple[Value, int]], new_ops: list[Op], root: Op) -> Value:
    def emit(name: str, *ins: Value) -> Value:
        from looptrace.ops.shape_arith import broadcast_shapes

        shape = broadcast_shapes(*(v.shape for v in ins))
        out = Value(root.out.dtype, shape)
        derived(root, new_ops).op_into(name, ins, (out,))
        return out

    (v0, s0), rest = leaves[0], leaves[1:]
    acc = v0 if s0 > 0 else emit("negative", v0)
    for v, s in rest:
        acc = emit("add" if s > 0 else "subtract", acc, v)
    return acc
