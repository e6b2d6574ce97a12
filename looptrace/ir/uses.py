"""Who reads a value: the one use map every pass and target shares.

A `Use` is one read of a value within a block: by a top-level op of the block
(as a direct input, or from inside one of the op's bodies, `nested`), or as
one of the block's results (`op is None`). An op reading a value twice as an
input counts once; a nested body counts once per body.
"""
from __future__ import annotations

from dataclasses import dataclass

from .core import Block, Op, Value, free_values


@dataclass(frozen=True, slots=True)
class Use:
    op: Op | None  # None: the value is a result of the block
    nested: bool = False  # read inside one of `op`'s bodies


def use_map(block: Block) -> dict[int, list[Use]]:
    """value id -> its uses in `block`, in program order."""
    uses: dict[int, list[Use]] = {}
    for op in block.ops:
        direct = Use(op)  # one (immutable) Use per op and kind, shared by the values it reads
        for v in op.inputs:
            seen = uses.get(v.id)
            if seen is None:
                uses[v.id] = [direct]
            elif seen[-1] is not direct:  # (an input read twice by the op counts once)
                seen.append(direct)
        if op.blocks:
            nested = Use(op, nested=True)
            for sub in op.blocks:
                for v in free_values(sub):
                    uses.setdefault(v.id, []).append(nested)
    for v in block.results:
        uses.setdefault(v.id, []).append(_RESULT)
    return uses


_RESULT = Use(None)


def users(block: Block) -> dict[int, list[Op]]:
    """value id -> the distinct top-level ops of `block` that read it (a read
    inside a region op's body counts for the region op)."""
    out: dict[int, list[Op]] = {}  # (in use_map's order, without its Use records: passes ask it often)
    for op in block.ops:
        for v in op.inputs:
            _add_user(out, v.id, op)
        for sub in op.blocks:
            for v in free_values(sub):
                _add_user(out, v.id, op)
    for v in block.results:
        if v.id not in out:
            out[v.id] = []
    return out


def _add_user(out: dict[int, list[Op]], vid: int, op: Op) -> None:
    ops = out.get(vid)
    if ops is None:
        out[vid] = [op]
    elif ops[-1] is not op:  # an op's reads come together: it is listed once
        ops.append(op)


def only_consumer(uses: dict[int, list[Use]], v: Value) -> Op | None:
    """The op that reads `v`, when that is its only use and a direct input."""
    us = uses.get(v.id, [])
    return us[0].op if len(us) == 1 and us[0].op is not None and not us[0].nested else None


def operands(op: Op) -> list[Value]:
    """The values an op reads: its inputs, then the free values of its bodies."""
    vals = list(op.inputs)
    for b in op.blocks:
        vals.extend(free_values(b))
    return vals


def result_uses(block: Block, v: Value) -> int:
    return sum(1 for r in block.results if r.id == v.id)


def producers(block: Block) -> dict[int, Op | None]:
    """value id -> the op of `block` that defines it (None for block arguments)."""
    d: dict[int, Op | None] = {v.id: None for v in block.args}
    for op in block.ops:
        for v in op.outputs:
            d[v.id] = op
    return d


def used_values(ops: list[Op], results: list[Value] = ()) -> list[Value]:
    """Non-constant values read by `ops` (nested blocks included) or `results`,
    in first-use order."""
    seen: dict[int, Value] = {}

    def use(v: Value) -> None:
        if not v.is_const:
            seen.setdefault(v.id, v)

    def visit(op_list: list[Op]) -> None:
        for op in op_list:
            for v in op.inputs:
                use(v)
            for b in op.blocks:
                visit(b.ops)
                for v in b.results:
                    use(v)

    visit(ops)
    for v in results:
        use(v)
    return list(seen.values())
