"""A select in a scan's body whose operands read the scan's arrays computes
each operand only on its branch (target-neutral: changes a BlockPlan).

`if a[i - 1] == b[j - 1]: L[i, j] = L[i - 1, j - 1] + 1 else: L[i, j] =
max(L[i - 1, j], L[i, j - 1])` is traced as a select of two computed values,
so every step reads all three neighbours and the select joins both chains:
the next step waits for max(L[i - 1, j], L[i, j - 1]) even where the match
made L[i, j] without it. As an if/else with each operand's reads and
arithmetic on its own branch (what numba.njit compiles from the plain
function), a match breaks the dependence on the previous step. lcs_length
(500 x 505): 0.32 ms as a select, 0.20 as branches, numba.njit 0.18.

Only in the body of a serial loop (the caller says so), for a select of one
element, and only when an operand's ops include a read of an array element
(`reads`: the target says which read cannot fail, so that moving it onto a
branch drops no error); an operand's ops are those that nothing but the
select (through that operand) reads: scalar elementwise roots and element
reads. A read moves to the select's place only when no op in between may
write an array (an update, a scatter, a region), so it sees what it saw.

A select whose condition is computed from a carry of the loop (`branches`,
the target's say) and whose arm holds another select (`elif_chain`: an
if/elif chain, `if cnt == 0: ... elif x == cand: cnt += 1 else: cnt -= 1`,
traced as nested selects) is a branch even where its operands read no
element: the else arm's compare and add run only where the first test
fails, and the target keeps it a branch, as numba.njit compiles the plain
chain (a two-way select on a carry is left to the target's compiler, which
makes it a select where its arms are cheap, as for the plain `if`: a
branch on data that changes at random mispredicts). Ops that may raise stay
where they are (on a branch, the untaken one would drop the error).
"""
from __future__ import annotations

from collections.abc import Callable

from looptrace.ir.core import Block, Op, Value
from looptrace.ir.uses import Use, use_map
from looptrace.ops.shape import is_reshape_like

from .fusion import BlockPlan

_WRITERS = ("dynamic_update_slice", "update_slice", "scatter")


def _one_element(v: Value) -> bool:
    return all(d == 1 for d in v.shape)


def unit_source(plan: BlockPlan, v: Value) -> Value:
    """v without the unit-axes reshapes the plan never makes (a scalar made
    (1, 1) for an element write)."""
    while True:
        made = plan.producer.get(v.id)
        if made is None or made.prim.name != "reshape" or id(made) not in plan.unit_reshapes:
            return v
        if not _one_element(made.inputs[0]):
            return v
        v = made.inputs[0]


def lazy_reads(block: Block, plan: BlockPlan, reads: Callable[[Op], bool],
               branches: Callable[[Op], bool] = lambda op: False) -> None:
    """Mark the selects of `block` to emit as branches (`plan.lazy`): `reads(op)`
    says whether op is an element read that cannot fail; `branches(select)`,
    whether the select, heading an if/elif chain, is a branch even with no
    read on its arms."""
    uses = use_map(block)
    index = {id(op): i for i, op in enumerate(block.ops)}
    writes = [index[id(op)] for op in block.ops if op.prim.name in _WRITERS or op.blocks]
    for op in block.ops:
        if op.prim.name != "select" or not _one_element(op.out) or id(op) in plan.lazy:
            continue
        if op.out.ndim and not all(_takes_element(u, op.out) for u in uses.get(op.out.id, [])):
            continue  # an array someone needs as an array (a carry, a nested body)
        cond, a, b = op.inputs
        sources = [unit_source(plan, v) for v in (a, b)]
        chains = []
        for v, other in ((sources[0], (cond, sources[1])), (sources[1], (cond, sources[0]))):
            chain = _only_for(plan, uses, op, v, reads) if all(v is not o for o in other) else []
            chain = [o for o in chain if not any(index[id(o)] < w < index[id(op)] for w in writes) or not reads(o)]
            chains.append(chain)
        branch = branches(op)
        if branch:
            chains = [[o for o in chain if not (o.prim.may_raise or o.prim.raises)] for chain in chains]
        if not branch and not any(reads(o) for chain in chains for o in chain):
            continue
        chains = [_closed(chain, v, uses, op, plan) for chain, v in zip(chains, sources)]
        if not any(reads(o) for chain in chains for o in chain) and not (branch and elif_chain(chains)):
            continue
        if not _nest_in_lazy(plan, op, {id(o) for chain in chains for o in chain}):
            continue
        for chain in chains:
            for o in chain:
                plan.skip.add(id(o))
                plan.position[id(o)] = index[id(op)]
                if o.prim.name == "dynamic_slice":  # read as its element on the branch
                    plan.element_reads.add(id(o))
        if op.out.id in plan.inlined:  # computed where it is, its consumer reads the element
            plan.inlined.discard(op.out.id)
            plan.skip.discard(id(op))
            plan.fused_roots.add(id(op))
        plan.lazy[id(op)] = tuple(sorted(chain, key=lambda o: index[id(o)]) for chain in chains)


_TESTS = frozenset(["select", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                    "logical_and", "logical_or", "logical_not", "maximum", "minimum", "convert"])


def elif_chain(chains) -> bool:
    """Does an arm of a lazy select (its chains of ops) hold another select
    and arithmetic of its own (`elif x == cand: cnt += 1 else: cnt -= 1`:
    a compare, a select, an add)? An arm of tests and selects only is the
    tracer's bookkeeping of which branch ran (`1 if c else 0`), no elif
    of the user's: as a branch it mispredicts where the data is random
    (stock_max_profit's scan 0.25 -> 0.38 ms so)."""
    ops = [o for chain in chains for o in chain]
    return any(o.prim.name == "select" for o in ops) and any(o.prim.name not in _TESTS for o in ops)


def _nest_in_lazy(plan: BlockPlan, select: Op, ops: set[int]) -> bool:
    """Can `select` compute `ops` on its branches where another lazy select
    (fusion.py `_lazy_selects`: `np.tanh(x * (a if c and x[i] > 1 else b))`)
    already computes some of them on its own? Only where `select` is itself
    on that select's branch: the ops then leave that branch for `select`'s,
    which is emitted inside it (each op once, and defined where it is read)."""
    for key, outer in list(plan.lazy.items()):
        if not any(id(o) in ops for chain in outer for o in chain):
            continue
        if not any(o is select for chain in outer for o in chain):
            return False
        plan.lazy[key] = tuple([o for o in chain if id(o) not in ops] for chain in outer)
    return True


def _takes_element(u: Use, v: Value) -> bool:
    """Does this use read the one-element v only for its element (so that v
    may be held as a scalar)?"""
    op = u.op
    if op is None or u.nested:
        return False
    if op.prim.name == "dynamic_update_slice":
        return op.inputs[1] is v and op.inputs[0] is not v
    return is_reshape_like(op) or op.prim.elementwise


def _only_for(plan: BlockPlan, uses: dict[int, list[Use]], select: Op, v: Value,
              reads: Callable[[Op], bool]) -> list[Op]:
    """The ops of this block computing `v` for the select alone: one-element
    elementwise roots and element reads."""
    chain: dict[int, Op] = {}
    stack = [v]
    while stack:
        u = stack.pop()
        made = plan.producer.get(u.id)
        if made is None or id(made) in chain or len(made.outputs) != 1 or made.prim.effectful:
            continue
        if reads(made):
            chain[id(made)] = made
            continue  # its own inputs (the array, the starts) stay where they are
        if not (made.prim.elementwise and u.ndim == 0 and id(made) in plan.fused_roots):
            continue
        chain[id(made)] = made
        stack.extend(made.inputs)
    return list(chain.values())


def _closed(chain: list[Op], v: Value, uses: dict[int, list[Use]], select: Op, plan: BlockPlan) -> list[Op]:
    """The chain less what is read outside it (and then what only fed that)."""
    kept = {id(o): o for o in chain}
    changed = True
    while changed:
        changed = False
        for key, o in list(kept.items()):
            readers = uses.get(o.out.id, [])
            if any(r.op is None or r.nested or (id(r.op) not in kept and not (r.op is select and o.out is v)
                                                 and not _unit_path(r.op, select, v, plan, uses))
                   for r in readers):
                del kept[key]
                changed = True
    return [o for o in chain if id(o) in kept]


def _unit_path(reader: Op, select: Op, v: Value, plan: BlockPlan, uses: dict[int, list[Use]]) -> bool:
    """Is reader a never-made unit reshape whose only reader is the select (v
    seen through it)?"""
    if id(reader) not in plan.unit_reshapes:
        return False
    rs = uses.get(reader.out.id, [])
    return len(rs) == 1 and rs[0].op is select and not rs[0].nested and unit_source(plan, reader.out) is v
