"""Which positions of a sort's result are ever read (target-neutral).

`np.median`, `np.percentile` and `np.argsort(d)[:k]` sort whole lanes and
then read a few static positions of them. When every use of a `sort` /
`argsort` result is a static slice or a gather with constant indices (along
any axes; chains of those too), only those positions along the sorted axis
are observable, and a target may compute them by selection (O(n) per run of
positions, like NumPy's `np.partition`) instead of a full sort. The sorted
order is a function of the lane alone, so the values at those positions are
exactly the full sort's: for argsort the keys (value, original index) are
distinct, so each position's index is unique (the stable order); for sort
the values there are the order statistics.

Invariant: `sort_positions(op, uses)` returns None unless every element the
program can read of op's result lies at one of the returned positions of the
sorted axis. A static slice or constant gather narrows the positions; any
other use of a value (a block result, a use in a nested block, a reshape, an
in-place update) may read all of that value, but only that value: a slice's
other uses read only the slice's positions.
"""
from __future__ import annotations

from looptrace.ir.core import Dim, Op, Value
from looptrace.ir.uses import Use


def sort_positions(op: Op, uses: dict[int, list[Use]]) -> tuple | None:
    """The sorted, distinct positions along op's sorted axis that are read, or
    None when everything may be read (or the axis length is not static)."""
    v, axis = op.out, op.attrs["axis"]
    n = v.shape[axis]
    if isinstance(n, Dim):
        return None
    read = _read(v, axis, tuple(range(n)), uses, depth=0)
    if read is None or len(read) >= n:
        return None
    return tuple(sorted(read))


_MAX_DEPTH = 8  # slices of slices: enough for any spelling people write


def _read(v: Value, axis: int, where: tuple, uses: dict[int, list[Use]], depth: int) -> set | None:
    """Positions of the sort's lane read through `v`, whose `axis` holds the
    lane's positions `where` (where[k] is the lane position of v's index k)."""
    if depth > _MAX_DEPTH:
        return set(where)
    out: set = set()
    for u in uses.get(v.id, []):
        got = None if u.op is None or u.nested else _read_by(u.op, v, axis, where, uses, depth)
        if got is None:  # any other use reads (or returns, or aliases) all of v, no more
            got = set(where)
        out |= got
    return out


def _read_by(op: Op, v: Value, axis: int, where: tuple, uses, depth: int) -> set | None:
    name = op.prim.name
    if name == "slice" and op.inputs[0] is v:
        starts, stops, steps = op.attrs["starts"], op.attrs["stops"], op.attrs["steps"]
        if axis >= len(starts):
            return _read(op.out, axis, where, uses, depth + 1)
        kept = tuple(where[k] for k in range(starts[axis], stops[axis], steps[axis]))
        if not kept:
            return set()
        return _read(op.out, axis, kept, uses, depth + 1)
    if name == "gather" and op.inputs[0] is v and op.inputs[1] is not v and op.attrs["axis"] == axis:
        idx = op.inputs[1]
        if idx.const is None:
            return None
        m = len(where)
        flat = [int(i) for i in idx.const.reshape(-1)]
        if any(i < -m or i >= m for i in flat):
            return None  # the gather raises its own IndexError; keep the full sort
        return {where[i % m] for i in flat}
    return None
