"""Reads whose value nothing uses keep their bounds check (and an int() of a
float nothing uses keeps its test).

`x[i]` with i out of range raises IndexError in the plain function even when
the value read is never used. In the IR that read is a `dynamic_slice` or a
`gather` (ops that may raise), and dead-code elimination, which runs in many
passes, drops an unused op whatever it may raise. So, first of all the
passes, each such read that nothing uses (in the traced program, with the
user's code as written) gets beside it a `check` op (ops/check.py) with the
same condition and NumPy's message; a check is never dropped. Reads that are
used are left alone: their own bounds check runs where they run. A `pyint`
(int() of a float) that nothing uses gets the check of its own failures.

Exact: the check raises for exactly the indices the read raises for, with the
message `check_index` (ops/indexing.py) gives. Only element and row reads
(every dynamic size 1) and gathers: what a slice of static length running
past the end means is tracer/windows.py's business (a shorter window).
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.builder import IRBuilder
from looptrace.ir.core import Block, Op, Program, Value, literal, walk
from looptrace.ir.dce import is_pure
from looptrace.ir.uses import used_values
from looptrace.ops.check import Failure

_OUT_OF_BOUNDS = "index {{value}} is out of bounds for axis {axis} with size {n}"


def check_dead_reads(program: Program) -> Program:
    _float_round_trips(program.body)
    _visit(program.body, set(range(len(program.body.results))), {})
    return program


# float(int(x)) of a float x (`dx - box * round(dx / box)`: Python's round()
# of a float is an int, read as a float again) is x's integer part as a float
# wherever int(x) does not raise: trunc(x) + 0.0 (+ 0.0: int() gives 0 for
# -0.3, which is +0.0 again; round(-0.3) is -0.0 as rint). Where x is whole
# already (rint, floor, ceil, trunc) it is x + 0.0. The int() stays, for its
# failures only (NaN, an infinity, past int64), as a check once nothing reads
# it (_visit, below): no float -> int -> float conversions and no raise in the
# middle of the arithmetic (corpus lj_periodic, three minimum-image round()s
# per pair: 0.82 ms, njit 0.63).
_WHOLE = ("rint", "floor", "ceil", "trunc")


def _float_round_trips(body: Block) -> None:
    reads: dict[int, int] = {}
    for op in walk(body):
        for v in op.inputs:
            reads[v.id] = reads.get(v.id, 0) + 1
    for b in _blocks(body):
        for v in b.results:
            reads[v.id] = reads.get(v.id, 0) + 1
    _round_trips_in(body, {}, reads)


def _blocks(block: Block) -> list[Block]:
    return [block] + [b for op in block.ops for sub in op.blocks for b in _blocks(sub)]


def _round_trips_in(block: Block, made: dict[int, Op], reads: dict[int, int]) -> None:
    ops: list[Op] = []
    for op in block.ops:
        src = made.get(op.inputs[0].id) if op.prim.name == "convert" and op.inputs else None
        if src is not None and src.prim.name == "pyint" and src.inputs[0].dtype == op.out.dtype \
                and op.out.dtype.kind == "f":
            x = src.inputs[0]
            b = IRBuilder(op.loc, ops=ops)
            at = next((k for k, o in enumerate(ops) if o is src), None)
            if at is not None and reads.get(src.out.id) == 1:  # read by this float() only: its check stays
                checks: list[Op] = []
                _pyint_check(IRBuilder(src.loc, ops=checks), src)
                ops[at:at + 1] = checks
            whole = made.get(x.id)
            if whole is None or whole.prim.name not in _WHOLE:
                x = b.op("trunc", x)
            b.op_into("add", (x, literal(np.zeros((), x.dtype))), op.outputs)
            continue
        ops.append(op)
        for v in op.outputs:
            made[v.id] = op
        for sub in op.blocks:
            _round_trips_in(sub, made, reads)
    block.ops = ops


def _visit(block: Block, live_results: set[int], memo: dict) -> None:
    """`live_results`: the positions of the block's results something reads
    (a loop body's carry that only feeds itself is dead: `h[i + 1] = x[i]`
    into an array never returned; a loop nothing uses has none). `memo`:
    `_dead`'s answers so far in this pass (each block is asked again by the
    blocks around it, once per level: nested loops multiplied the walks);
    a block is asked only before its checks are added, while it is as traced."""
    dead, live = _dead(block, live_results, memo)
    ops: list[Op] = []
    for op in block.ops:
        if id(op) in dead and op.prim.name in ("dynamic_slice", "gather") and _checkable(op):
            b = IRBuilder(op.loc, ops=ops)
            (_slice_checks if op.prim.name == "dynamic_slice" else _gather_checks)(b, op)
        elif id(op) in dead and op.prim.name == "dynamic_update_slice" and _checkable(op):
            _update_checks(IRBuilder(op.loc, ops=ops), op)
        elif id(op) in dead and op.prim.name == "scatter" and _checkable(op):
            _gather_checks(IRBuilder(op.loc, ops=ops), op)
        elif id(op) in dead and op.prim.name == "pyint":
            _pyint_check(IRBuilder(op.loc, ops=ops), op)
        ops.append(op)
        if op.blocks:  # a loop nothing uses still raises where its reads and writes do
            outs = set() if id(op) in dead else {k for k, v in enumerate(op.outputs) if v.id in live}
            for sub, results in _live_in_bodies(op, outs, memo):
                _visit(sub, results, memo)
    block.ops = ops


def _dead(block: Block, live_results: set[int], memo: dict) -> tuple[set[int], set[int]]:
    """(ids of the ops of block that dead-code elimination would drop, given
    which results are read (ir/dce.py); ids of the values live). Not to be
    changed by the caller: `memo` keeps them (by the block's id and
    `live_results`, with the block, so the id is not reused)."""
    key = (id(block), frozenset(live_results))
    known = memo.get(key)
    if known is not None:
        return known[1]
    live = {v.id for k, v in enumerate(block.results) if k in live_results}
    dead: set[int] = set()
    for op in reversed(block.ops):
        if not is_pure(op) or any(v.id in live for v in op.outputs):
            if op.blocks:
                live.update(v.id for v in _read_by(op, live, memo))
            else:  # (most ops: their non-constant inputs, without used_values' closures)
                live.update(v.id for v in op.inputs if v.const is None)
        else:
            dead.add(id(op))
    memo[key] = (block, (dead, live))
    return dead, live


def _read_by(op: Op, live: set[int], memo: dict) -> list[Value]:
    """The values a live op reads: for a loop, the entry values of the carries
    something reads (an array a first loop writes, passed through a second
    loop that writes an argument but never reads the array: its writes are
    dead, their checks stay, probe Q: a lost IndexError), what its bodies read."""
    if op.prim.name not in ("for_loop", "while_loop"):
        return used_values([op])
    outs = {k for k, v in enumerate(op.outputs) if v.id in live}
    carried = set()
    for body, results in _live_in_bodies(op, outs, memo):
        if body is op.blocks[-1]:
            carried = results
    first = 3 if op.prim.name == "for_loop" else 0
    inputs = [v for k, v in enumerate(op.inputs) if k < first or k - first in carried]
    return [v for v in inputs if not v.is_const] + used_values([o for b in op.blocks for o in b.ops],
                                                                [r for b in op.blocks for r in b.results])


def checks_of(op: Op) -> list[Op]:
    """The checks that raise what `op` (an element read or write, a gather,
    a scatter, an int() of a float) raises, for dead-code elimination to
    leave where it drops the op (ir/dce.py)."""
    ops: list[Op] = []
    name = op.prim.name
    if name in ("dynamic_slice", "gather", "dynamic_update_slice", "scatter") and not _checkable(op):
        return ops
    b = IRBuilder(op.loc, ops=ops)
    if name == "dynamic_slice":
        _slice_checks(b, op)
    elif name in ("gather", "scatter"):
        _gather_checks(b, op)
    elif name == "dynamic_update_slice":
        _update_checks(b, op)
    elif name == "pyint":
        _pyint_check(b, op)
    return ops


def _live_in_bodies(op: Op, outs: set[int], memo: dict) -> list[tuple[Block, set[int]]]:
    """Each body of region op `op` with the positions of its results that are
    read, given the positions `outs` of op's outputs that are: a carry is read
    where its output is, or where the body (or a while loop's test) reads it."""
    name = op.prim.name
    if name == "cond":
        return [(b, set(outs)) for b in op.blocks]
    if name == "for_loop":
        (body,) = op.blocks
        n_carry = len(body.args) - 1
        live = set(outs)
        while True:
            _, values = _dead(body, live, memo)
            more = {k for k in range(n_carry) if k not in live and body.args[1 + k].id in values}
            if not more:
                return [(body, live)]
            live |= more
    if name == "while_loop":
        test, body = op.blocks
        live = set(outs)
        _, read_by_test = _dead(test, set(range(len(test.results))), memo)
        live |= {k for k, a in enumerate(test.args) if a.id in read_by_test}
        while True:
            _, values = _dead(body, live, memo)
            more = {k for k, a in enumerate(body.args) if k not in live and a.id in values}
            if not more:
                return [(test, set(range(len(test.results)))), (body, live)]
            live |= more
    return [(b, set(range(len(b.results)))) for b in op.blocks]  # (any other region: all read)


def _update_checks(b: IRBuilder, op: Op) -> None:
    """A write nothing reads (`h[i + 1] = x[i]` into an array never returned)
    still raises where its position is out of range: the checks of a read of
    the same element."""
    x, update, starts = op.inputs[0], op.inputs[1], op.inputs[2:]
    _element_checks(b, op, x, starts, tuple(update.shape[:len(starts)]))


def _checkable(op: Op) -> bool:
    x = op.inputs[0]
    return all(isinstance(d, (int, np.integer)) for d in x.shape)


def _slice_checks(b: IRBuilder, op: Op) -> None:
    _element_checks(b, op, op.inputs[0], op.inputs[1:], tuple(op.attrs["sizes"]))


def _element_checks(b: IRBuilder, op: Op, x: Value, starts, sizes: tuple) -> None:
    """The IndexError of reading (or writing) the element of `x` at `starts`."""
    preds, values, failures = [], [], []
    if any(k != 1 for k in sizes):
        return  # a slice of static length: tracer/windows.py decides what one past the end means
    for axis, s in enumerate(starts):
        n = int(x.shape[axis])
        if s.is_const:
            continue  # a constant start was checked when traced
        s64 = s if s.dtype == np.int64 else b.op("convert", s, dtype=np.dtype(np.int64))
        preds.append(_outside(b, s64, -n, n - 1))
        values.append(s64)
        failures.append(Failure(IndexError(), op.loc, _OUT_OF_BOUNDS.format(axis=axis, n=n)))
    if preds:
        b.op("check", *preds, *values, failures=tuple(failures))


def _gather_checks(b: IRBuilder, op: Op) -> None:
    x, idx, axis = op.inputs[0], op.inputs[1], op.attrs["axis"]
    if idx.is_const or idx.dtype.kind not in "iu":
        return
    n = int(x.shape[axis])
    i64 = idx if idx.dtype == np.int64 else b.op("convert", idx, dtype=np.dtype(np.int64))
    failure = Failure(IndexError(), op.loc, _OUT_OF_BOUNDS.format(axis=axis, n=n))
    b.op("check", _outside(b, i64, -n, n - 1), i64, failures=(failure,))


def _pyint_check(b: IRBuilder, op: Op) -> None:
    """int(x) of a float nothing reads still raises for NaN, an infinity or a
    float past int64 (ops/elementwise.py `pyint`): the same failures, in its
    order (an infinity is past int64 too; the lower failure wins)."""
    x = op.inputs[0]
    limit = literal(np.asarray(2.0**63, x.dtype))
    big = b.op("logical_or", b.op("greater_equal", x, limit), b.op("less", x, b.op("negative", limit)))
    b.op("check", b.op("isnan", x), b.op("isinf", x), big, failures=op.attrs["failures"])


def _outside(b: IRBuilder, v: Value, low: int, high: int) -> Value:
    return b.op("logical_or", b.op("less", v, literal(np.int64(low))), b.op("greater", v, literal(np.int64(high))))
