"""Generic IR utilities the reverse-mode transform is built from: cloning ops
with fresh values, the values a list of ops reads, backward slices, dead-code
removal, and pruning unused carries of a for_loop.

Invariant: every function here returns new ops/blocks (inputs are never
mutated), and clones define fresh values, so a cloned region may sit next to
its original in one program without breaking SSA.
"""
from __future__ import annotations

from looptrace.ir.core import Block, Op, Value
from looptrace.ops.control import split_for_results


def fresh(v: Value, mapping: dict[int, Value]) -> Value:
    new = Value(v.dtype, v.shape)
    mapping[v.id] = new
    return new


def clone_ops(ops: list[Op], mapping: dict[int, Value]) -> list[Op]:
    """Copies of `ops` reading `mapping[v]` for mapped values; `mapping` gains
    the fresh outputs."""
    out = []
    for op in ops:
        ins = tuple(mapping.get(v.id, v) for v in op.inputs)
        blocks = tuple(clone_block(b, mapping) for b in op.blocks)
        outs = tuple(fresh(v, mapping) for v in op.outputs)
        out.append(Op(op.prim, ins, outs, dict(op.attrs), op.loc, blocks))
    return out


def clone_block(block: Block, mapping: dict[int, Value]) -> Block:
    args = [fresh(v, mapping) for v in block.args]
    ops = clone_ops(block.ops, mapping)
    return Block(args, ops, [mapping.get(v.id, v) for v in block.results])


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


def is_effectful(op: Op) -> bool:
    if op.prim.effectful:
        return True
    return any(is_effectful(o) for b in op.blocks for o in b.ops)


def _raises(op: Op) -> bool:
    """A run-time check (ops/check.py), here or nested: never dead."""
    return op.prim.raises or any(_raises(o) for b in op.blocks for o in b.ops)


def backward_slice(ops: list[Op], wanted: list[Value]) -> list[Op]:
    """The ops of `ops` (in order) that `wanted` values depend on."""
    need = {v.id for v in wanted}
    keep = []
    for op in reversed(ops):
        if any(v.id in need for v in op.outputs):
            keep.append(op)
            need.update(v.id for v in used_values([op]))
    return keep[::-1]


def dce(block: Block) -> Block:
    """`block` without ops whose results nothing reads (effects are kept)."""
    live = {v.id for v in block.results}
    kept: list[Op] = []
    for op in reversed(block.ops):
        if is_effectful(op) or _raises(op) or any(v.id in live for v in op.outputs):
            op = _dce_region(op)
            kept.append(op)
            live.update(v.id for v in used_values([op]))
    return Block(block.args, kept[::-1], block.results)


def _dce_region(op: Op) -> Op:
    if not op.blocks:
        return op
    return Op(op.prim, op.inputs, op.outputs, op.attrs, op.loc, tuple(dce(b) for b in op.blocks))


def prune_for_loop(op: Op, needed: set[int]) -> Op:
    """`op` (a for_loop) keeping only the carries and stacked outputs that the
    output ids in `needed` depend on; their output values are kept as is."""
    (body,) = op.blocks
    n_carry, _ = split_for_results(op)
    keep_c = {j for j in range(n_carry) if op.outputs[j].id in needed}
    keep_y = [k for k in range(n_carry, len(body.results)) if op.outputs[k].id in needed]
    while True:
        wanted = [body.results[j] for j in keep_c] + [body.results[k] for k in keep_y]
        reads = {v.id for v in used_values(backward_slice(body.ops, wanted), wanted)}
        grown = keep_c | {j for j in range(n_carry) if body.args[1 + j].id in reads}
        if grown == keep_c:
            break
        keep_c = grown
    cs = sorted(keep_c)
    ops = [o for o in backward_slice(body.ops, wanted)]
    new_body = Block([body.args[0]] + [body.args[1 + j] for j in cs], ops,
                     [body.results[j] for j in cs] + [body.results[k] for k in keep_y])
    inputs = op.inputs[:3] + tuple(op.inputs[3 + j] for j in cs)
    outputs = tuple(op.outputs[j] for j in cs) + tuple(op.outputs[k] for k in keep_y)
    return Op(op.prim, inputs, outputs, op.attrs, op.loc, (new_body,))
