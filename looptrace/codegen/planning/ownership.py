"""Ownership and last uses: when may generated code update an array in place?

A block's `Scope` records, for every value, the alias root whose memory it
shares (a view shares its base's root) and which roots the code owns (it
allocated them, or was handed them to consume). An op may overwrite a value's
memory only when the code owns the root and no value sharing it is used
after the op (`Scope.can_consume`). Arguments of the user's function are never
owned, so they are never written.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from looptrace.ir.core import Block, Value, free_values


@dataclass
class Scope:
    """Ownership facts for one block: who may be mutated in place."""

    block: Block
    last_use: dict[int, int]
    owned: set[int] = field(default_factory=set)  # roots whose memory is ours
    root: dict[int, int] = field(default_factory=dict)  # value id -> alias root id
    members: dict[int, list[int]] = field(default_factory=dict)
    values: dict[int, Value] = field(default_factory=dict)  # value id -> the value
    pos: int = 0

    def define(self, v: Value, owned: bool = False, alias_of: Value | None = None) -> None:
        r = self.root.get(alias_of.id, alias_of.id) if alias_of is not None else v.id
        self.root[v.id] = r
        self.members.setdefault(r, []).append(v.id)
        self.values[v.id] = v
        if owned and alias_of is None:
            self.owned.add(v.id)

    def can_consume(self, v: Value, disjoint: set[int] = frozenset()) -> bool:
        """May the op at `pos` overwrite v's memory? Only when we own it and
        nothing aliasing it is used after this op (or by this op elsewhere,
        unless it is a view in `disjoint`: read away from what the op writes)."""
        return self.blockers(v, disjoint) == []

    def blockers(self, v: Value, disjoint: set[int] = frozenset()) -> list[Value] | None:
        """The values sharing v's memory that keep the op at `pos` from
        overwriting it (`can_consume`): used after it, or by it elsewhere.
        None when the memory is not ours."""
        r = self.root.get(v.id)
        if r is None or r not in self.owned:
            return None
        out = []
        for m in self.members[r]:
            last = self.last_use.get(m, -1)
            if last > self.pos or (m != v.id and last == self.pos and m not in disjoint):
                out.append(self.values[m])
        return out

    def detach(self, v: Value) -> None:
        """v now has memory of its own (the code copied it): it no longer
        shares its old root's."""
        r = self.root[v.id]
        self.members[r].remove(v.id)
        self.root[v.id] = v.id
        self.members[v.id] = [v.id]
        self.owned.add(v.id)


def last_uses(block: Block, position: dict[int, int]) -> dict[int, int]:
    """Value id -> index of the last op of `block` that uses it (uses inside a
    region op's bodies count at that op; an op fused into a later one counts at
    the later one, `position`); block results count at len(ops)."""
    last: dict[int, int] = {}
    for i, op in enumerate(block.ops):
        at = position.get(id(op), i)
        for v in op.inputs:
            last[v.id] = max(last.get(v.id, -1), at)
        for sub in op.blocks:
            for v in free_values(sub):
                last[v.id] = max(last.get(v.id, -1), at)
    for v in block.results:
        last[v.id] = len(block.ops)
    return last
