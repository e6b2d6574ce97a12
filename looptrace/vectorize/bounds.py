"""What a loop's static bounds decide: the range of every integer value of the
body, and the clamps, comparisons and run-time checks that range settles.

Windows (tracer/windows.py) read `x[s:s+k]` padded and masked, at rows
min(s + j, n - 1) where s + j < n, and write `y[s:s+k]` at min(s, n - k), so
that a window running past the end behaves as NumPy's shortened slice. In
the loops people write, the bounds keep every window inside its axis
(`for i in range(n - k + 1): x[i:i + k].mean()`); there the clamp is the
identity, the mask is all true and the check of a negative start never
fires. This step proves it and removes them, leaving a plain read at an
affine position (which the classifier and the fuser see through) and a mean
divided by the constant k.

Integer ranges come from the loop index (its static bounds), the indices of
the loops around it (`outer`: their static bounds), the carries that stay in
a range (`carry_ranges`: a type tag in [0, 1]), constants, and
+, -, *, minimum, maximum, integer converts and broadcasts of those (interval
arithmetic, ir/ranges.py; a scalar affine in the loop index uses its exact
affine range).
Decided, in order:
  - minimum(a, b) / maximum(a, b) whose one side always wins -> that side;
  - a comparison (<, <=, >, >=, ==, !=) whose answer is the same at every
    iteration -> a constant;
  - ops whose inputs are all constants -> their constant (small results);
    elementwise ops whose inputs are each one value everywhere -> that
    value everywhere (a broadcast where large);
  - select(all true, a, b) -> a, select(all false, a, b) -> b,
    select(p, a, a) -> a; `and`/`or`
    with an all-true or all-false side;
  - a check's predicate that is constantly false is dropped (and the check
    with its last predicate).
Exact: each replaced value equals what it replaces at every iteration the
loop runs.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.builder import derived
from looptrace.ir.core import Block, Op, Program, Value, literal
from looptrace.ir.dce import dce
from looptrace.ir.ranges import Interval, Ranges, index_range, is_integer, loop_leaf, restricted_range
from looptrace.ir.rewrite import substitute
from looptrace.ops.check import join_inputs, split_inputs

from .analysis import LoopFacts
from .dead_reads import checks_of

_FOLD_LIMIT = 4096  # elements: larger constants stay computed
_COMPARE = {
    "less": lambda a, b: (a[1] < b[0], a[0] >= b[1]),
    "less_equal": lambda a, b: (a[1] <= b[0], a[0] > b[1]),
    "greater": lambda a, b: (a[0] > b[1], a[1] <= b[0]),
    "greater_equal": lambda a, b: (a[0] >= b[1], a[1] < b[0]),
    "equal": lambda a, b: (a[0] == a[1] == b[0] == b[1], a[1] < b[0] or b[1] < a[0]),
    "not_equal": lambda a, b: (a[1] < b[0] or b[1] < a[0], a[0] == a[1] == b[0] == b[1]),
}


def drop_clamps_in_range(loop: Op, facts: LoopFacts, outer: dict[int, Interval]) -> bool:
    """Decide what the loop's bounds decide (module docstring); True if anything was."""
    if not facts.n:
        return False
    leaf = loop_leaf(facts.aff, facts.n, outer)
    carried = carry_ranges(loop, leaf)
    checks = [(op, op.inputs) for op in loop.blocks[0].ops if op.prim.name == "check"]
    changed = decide_block(loop.blocks[0], Ranges(lambda v: carried.get(v.id) or leaf(v)))
    if changed or any(op.inputs is not before for op, before in checks):  # (a check that lost some predicates)
        facts.refresh()
    return changed


def carry_ranges(loop: Op, leaf) -> dict[int, Interval]:
    """Carry id -> range, for the integer scalar carries whose values stay in
    a range: H holding the entry value, with the body's result in H wherever
    the carry is in H, holds at every iteration (induction). Found by joining
    the entry range with the result's until it stops growing (a type tag
    `tag = maximum(tag, select(p, 1, 0))` stays in [0, 1]; a sum keeps
    growing and gets none)."""
    body = loop.blocks[0]
    entry = Ranges(leaf)
    hyp: dict[int, Interval] = {}
    results: dict[int, Value] = {}
    for arg, init, res in zip(body.args[1:], loop.inputs[3:], body.results):
        r = entry.of(init)
        if r is not None and is_integer(arg) and arg.shape == () and res.id != arg.id:
            hyp[arg.id], results[arg.id] = r, res
    for round_ in range(len(hyp) + _CARRY_ROUNDS):
        ranges = Ranges(lambda v: hyp.get(v.id) or leaf(v)).learn_all(body)
        grown = {a: _joined(r, ranges.of(results[a])) for a, r in hyp.items()}
        if grown == hyp:
            return hyp
        growing = round_ >= _CARRY_ROUNDS - 1  # (from then on a carry still growing is dropped)
        hyp = {a: r for a, r in grown.items() if r is not None and not (growing and r != hyp[a])}
    return {}


_CARRY_ROUNDS = 3  # joins a carry's range may take before it is taken as growing


def _joined(r: Interval, got: Interval | None) -> Interval | None:
    return None if got is None else (min(r[0], got[0]), max(r[1], got[1]))


def decide_ranges(program: Program) -> Program:
    """The same decisions on the whole program after vectorization, where the
    batched ops compute positions from iotas (`iota - k >= 0`, the bounds
    checks of batched reads): every block, with the index of each counted
    loop around it."""
    _decide_nested(program.body, Ranges())
    return program


def _decide_nested(block: Block, ranges: Ranges) -> None:
    decide_block(block, ranges)
    for op in block.ops:
        for sub in op.blocks:
            index: dict[int, Interval] = {}
            r = index_range(op, ranges.of) if op.prim.name == "for_loop" else None
            if r is not None:
                index[sub.args[0].id] = r
            _decide_nested(sub, Ranges(lambda v, index=index: index.get(v.id, ranges.of(v))))


def decide_block(body: Block, ranges: Ranges) -> bool:
    """Replace what `ranges` decides in body's own ops (uses in nested blocks
    follow); True if anything was."""
    mapping: dict[int, Value] = {}
    kept: list[Op] = []
    changed = False
    for op in body.ops:
        if mapping:
            op.inputs = tuple(mapping.get(v.id, v) for v in op.inputs)
            for sub in op.blocks:
                substitute(sub, mapping)
        if op.prim.name == "check":
            if not _prune_check(op, ranges):
                changed = True
                continue
            kept.append(op)
            continue
        made = len(kept)
        new = _decide(op, ranges, kept)
        for o in kept[made:]:  # a splat made for the decision
            ranges.learn(o)
        if new is not None:
            mapping[op.out.id] = new
            changed = True
        else:
            ranges.learn(op)
        kept.append(op)
    body.ops = kept
    body.results = [mapping.get(v.id, v) for v in body.results]
    if changed:
        body.ops = dce(body, regions=False, checks=checks_of).ops
    return changed


def _decide(op: Op, ranges: Ranges, kept: list[Op]) -> Value | None:
    """The value that replaces op's output, or None (ops it needs go to `kept`)."""
    if len(op.outputs) != 1 or op.blocks or op.prim.effectful or op.prim.raises:
        return None
    name, out = op.prim.name, op.out
    if name in ("minimum", "maximum") and out.dtype.kind in "iu":
        a, b = op.inputs
        ra, rb = ranges.of(a), ranges.of(b)
        if ra is not None and rb is not None:
            lower_wins = name == "minimum"
            for x, rx, ry in ((a, ra, rb), (b, rb, ra)):
                wins = rx[1] <= ry[0] if lower_wins else rx[0] >= ry[1]
                if wins and _same_type(x, out):
                    return x
    if name in _COMPARE and len(op.inputs) == 2:
        ra, rb = (ranges.of(v) for v in op.inputs)
        if ra is not None and rb is not None:
            true, false = _COMPARE[name](ra, rb)
            if true or false:
                return _filled(bool(true), op, kept)
    if name == "select":
        c, a, b = op.inputs
        if a.id == b.id and _same_type(a, out):
            return a
        flag = _uniform(c, ranges)
        if flag is not None:
            pick = a if flag else b
            if _same_type(pick, out):
                return pick
    if name == "logical_and" and out.dtype == np.bool_ and len(op.inputs) == 2:
        for guard, p in (op.inputs, op.inputs[::-1]):
            if _false_under(p, ranges.made.get(guard.id), ranges):
                return _filled(False, op, kept)
    if name in ("logical_and", "logical_or") and out.dtype == np.bool_:
        absorbing = name == "logical_or"  # x or True is True; x and False is False
        for x, other in (op.inputs, op.inputs[::-1]):
            flag = _uniform(other, ranges)
            if flag is None:
                continue
            if bool(flag) == absorbing:
                return _filled(absorbing, op, kept)
            if _same_type(x, out):
                return x
    if all(v.is_const for v in op.inputs) and op.inputs and op.prim.impl is not None:
        return _fold(op)
    if op.prim.elementwise and op.inputs and op.prim.impl is not None:
        return _fold_uniform(op, ranges, kept)
    return None


def _false_under(p: Value, guard: Op | None, ranges: Ranges, depth: int = 6) -> bool:
    """Is p false wherever `guard` holds? Comparisons of integers whose
    ranges the guard's own comparisons cut, and `or`s of them: the bounds
    checks of a read under `if 0 <= i0 < h - 1 and ...` (`i0 + 1 > h - 1`
    never holds there), which batched with the mask computed the check over
    every pixel in a pass of its own (affine_warp_bilinear)."""
    op = ranges.made.get(p.id)
    if guard is None or op is None or depth == 0:
        return False
    name = op.prim.name
    if name == "logical_or" and len(op.inputs) == 2:
        return all(_false_under(x, guard, ranges, depth - 1) for x in op.inputs)
    if name == "logical_and" and len(op.inputs) == 2:
        return any(_false_under(x, guard, ranges, depth - 1) for x in op.inputs)
    if name == "select" and len(op.inputs) == 3 and op.inputs[0].id == op.inputs[1].id:  # c or b
        return _false_under(op.inputs[0], guard, ranges, depth - 1) and \
            _false_under(op.inputs[2], guard, ranges, depth - 1)
    if name not in _COMPARE or len(op.inputs) != 2 or not all(is_integer(v) for v in op.inputs):
        return False
    ra, rb = (restricted_range(v, guard, True, ranges.of, ranges.made.get) for v in op.inputs)
    if ra is None or rb is None or ra[0] > ra[1] or rb[0] > rb[1]:
        return ra is not None and rb is not None  # (an empty range: the guard never holds)
    return bool(_COMPARE[name](ra, rb)[1])


def _fold_uniform(op: Op, ranges: Ranges, kept: list[Op]) -> Value | None:
    """An elementwise op of inputs each one value everywhere (constants and
    broadcasts of a constant, as the decisions above make them): its one
    value everywhere (`not True` over a batched check's rows is False)."""
    scalars = [_uniform(v, ranges) for v in op.inputs]
    if any(s is None for s in scalars):
        return None
    try:
        with np.errstate(all="ignore"):
            res = np.asarray(op.prim.impl(*(np.asarray(s, dtype=v.dtype) for s, v in zip(scalars, op.inputs)),
                                          **op.attrs))
    except Exception:  # an op that raises on its constants raises at run time, as it did
        return None
    if res.shape != () or res.dtype != op.out.dtype:
        return None
    return _filled(res[()], op, kept)


def _filled(value, op: Op, kept: list[Op]) -> Value:
    """`value` everywhere in op's output shape: a constant when small, else a
    broadcast of the scalar (never a large literal passed to the kernel)."""
    out = op.out
    scalar = np.asarray(value, dtype=out.dtype)
    if int(np.prod(out.shape, dtype=np.int64)) <= _FOLD_LIMIT:
        return literal(np.full(out.shape, scalar, dtype=out.dtype))
    return derived(op, kept).op("broadcast_to", literal(scalar), shape=tuple(out.shape))


def _uniform(v: Value, ranges: Ranges):
    """v's one value when every element is the same (a constant or a
    broadcast scalar constant), else None."""
    if not v.is_const:
        made = ranges.made.get(v.id)
        if made is None or made.prim.name != "broadcast_to" or not made.inputs[0].is_const:
            return None
        v = made.inputs[0]
    c = np.asarray(v.const).reshape(-1)
    if c.size == 0 or not (c == c[0]).all():
        return None
    return c[0].item()


def _fold(op: Op) -> Value | None:
    out = op.out
    if op.prim.multiple_results or not all(isinstance(d, int) for d in out.shape) \
            or int(np.prod(out.shape, dtype=np.int64)) > _FOLD_LIMIT:
        return None  # (a length known only at run time: not folded)
    try:
        with np.errstate(all="ignore"):
            res = np.asarray(op.prim.impl(*(np.asarray(v.const) for v in op.inputs), **op.attrs))
    except Exception:  # an op that raises on its constants raises at run time, as it did
        return None
    if res.shape != tuple(out.shape) or res.dtype != out.dtype:
        return None
    return literal(res)


def _same_type(v: Value, out: Value) -> bool:
    return tuple(v.shape) == tuple(out.shape) and v.dtype == out.dtype


def _prune_check(op: Op, ranges: Ranges) -> bool:
    """Drop the predicates that are constantly false; False if none is left."""
    failures = op.attrs["failures"]
    preds, values = split_inputs(op.inputs, failures)
    keep = [j for j, p in enumerate(preds) if _uniform(p, ranges) is not False]
    if len(keep) == len(preds):
        return True
    if not keep:
        return False
    failures = tuple(failures[j] for j in keep)
    op.inputs = join_inputs([preds[j] for j in keep], [values[j] for j in keep], failures)
    op.attrs = {**op.attrs, "failures": failures}
    return True
