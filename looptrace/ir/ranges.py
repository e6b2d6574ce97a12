"""Integer ranges: the smallest and largest value an integer array (or
scalar) can hold, by interval arithmetic over constants, iota, broadcasts,
reshapes, integer converts (from a narrower dtype: that dtype's range at
most), +, -, *, ** and << by non-negative amounts,
minimum and maximum, and floor division
and modulo by a positive constant; a read of an array's elements (a slice,
a dynamic slice, a gather, a transpose) holds what the array holds, and an
array with a part written holds what either held.

Float values get ranges too, as far as integers become floats and back
(`int(i * scale)`, a resampling grid): a convert of an integer range,
+, - and * of ranges, trunc, floor and ceil, and pyint or a convert back to
an integer. IEEE rounding is monotone, so each rule evaluates the op at the
corners of its inputs' ranges, in the op's own dtype; the result of an
arithmetic op is widened by one unit in the last place on each side (a
target may contract a * b + c into one fused rounding). A float range is
finite: where a corner is not, there is none (a range never holds a NaN).

Users: the vectorizer decides clamps, comparisons and checks with the ranges
a loop's static bounds give (vectorize/bounds.py) and converts conditionals
whose reads stay in bounds (vectorize/select.py); a target skips the bounds
check of a gather whose index range lies inside the axis
(codegen/cpu/indexing.py).

Invariant: a range is exact or wider, never narrower: every element of the
value lies in [lo, hi] whenever the ranges of the leaves hold. An op whose
result could wrap around its dtype has no range.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .affine import affine_form, static_bounds, value_range
from .core import Block, Op, Value, walk

Interval = tuple[int, int]

ARITHMETIC = ("add", "subtract", "multiply", "minimum", "maximum")
PASS_THROUGH = ("broadcast_to", "reshape", "convert")
ELEMENTS_OF_FIRST = ("slice", "dynamic_slice", "gather", "transpose")  # some elements of input 0
WRITTEN = {"dynamic_update_slice": 1, "update_slice": 1}  # input 0 with input k written into it


def is_integer(v: Value) -> bool:
    return isinstance(v.dtype, np.dtype) and v.dtype.kind in "iu"


def dtype_range(dtype) -> Interval | None:
    """[min, max] of every value of an integer or bool dtype (None for others)."""
    if not isinstance(dtype, np.dtype) or dtype.kind not in "iub":
        return None
    if dtype.kind == "b":
        return (0, 1)
    info = np.iinfo(dtype)
    return (int(info.min), int(info.max))


def const_range(v: Value) -> Interval | None:
    """[min, max] of an integer constant, or of a float constant that is finite
    (None for anything else, or an empty one)."""
    if not v.is_const or not has_range(v):
        return None
    c = np.asarray(v.const)
    if not c.size:
        return None
    if is_float(v):
        return _finite((float(c.min()), float(c.max())))
    return (int(c.min()), int(c.max()))


def progression(v: Value) -> tuple[int, int] | None:
    """(start, step) of a 1-d integer constant that is start + step * k, else None."""
    if not v.is_const or not is_integer(v) or v.ndim != 1:
        return None
    c = np.asarray(v.const).astype(np.int64)
    if c.size < 2:
        return None
    start, step = int(c[0]), int(c[1] - c[0])
    return (start, step) if np.array_equal(c, start + step * np.arange(c.size, dtype=np.int64)) else None


def op_range(op: Op, of: Callable[[Value], Interval | None]) -> Interval | None:
    """The range of op's integer (or float) output from its inputs' ranges (`of`)."""
    if len(op.outputs) != 1:
        return None
    if is_float(op.out):
        return _float_range(op, of)
    if not is_integer(op.out):
        return None
    name = op.prim.name
    if (name == "pyint" or name == "convert") and is_float(op.inputs[0]):  # toward zero: monotone
        r = of(op.inputs[0])
        return None if r is None else _fitting((int(r[0]), int(r[1])), op.out.dtype)
    if name == "iota":
        return (0, max(int(op.attrs["shape"][op.attrs["axis"]]) - 1, 0))
    if name in PASS_THROUGH:
        r = of(op.inputs[0])
        if r is None and name == "convert":  # whatever it holds, it held in its own dtype
            r = dtype_range(op.inputs[0].dtype)
        return _fitting(r, op.out.dtype)
    if name in ELEMENTS_OF_FIRST and op.out.dtype == op.inputs[0].dtype:
        return of(op.inputs[0])
    if name in WRITTEN or (name == "scatter" and op.attrs.get("mode") != "add"):
        a, b = of(op.inputs[0]), of(op.inputs[WRITTEN.get(name, 2)])
        return _union(a, b, op.out.dtype)
    if name == "concatenate":
        rs = [of(v) for v in op.inputs]
        return None if any(r is None for r in rs) else _fitting((min(r[0] for r in rs), max(r[1] for r in rs)),
                                                                op.out.dtype)
    if name == "floor_divide" and len(op.inputs) == 2:  # by a positive constant: monotone
        a, d = of(op.inputs[0]), const_range(op.inputs[1])
        if a is None or d is None or d[0] != d[1] or d[0] <= 0:
            return None
        return (a[0] // d[0], a[1] // d[0])
    if name == "right_shift" and len(op.inputs) == 2:  # by a non-negative constant: monotone
        a, k = of(op.inputs[0]), const_range(op.inputs[1])
        if a is None or k is None or k[0] != k[1] or k[0] < 0:
            return None
        return (a[0] >> k[0], a[1] >> k[0])
    if name == "select" and len(op.inputs) == 3:  # either operand
        a, b = of(op.inputs[1]), of(op.inputs[2])
        return None if a is None or b is None else (min(a[0], b[0]), max(a[1], b[1]))
    if name == "remainder" and len(op.inputs) == 2:  # floor modulo by a positive constant
        d = const_range(op.inputs[1])
        return (0, d[0] - 1) if d is not None and d[0] == d[1] and d[0] > 0 else None
    if name in ("power", "left_shift") and len(op.inputs) == 2:
        return _fitting(_growth_range(name, of(op.inputs[0]), of(op.inputs[1])), op.out.dtype)
    if name not in ARITHMETIC or len(op.inputs) != 2:
        return None
    a, b = (of(v) for v in op.inputs)
    if name in ("minimum", "maximum") and (a is None) != (b is None) and op.out.dtype.kind in "iu":
        whole = np.iinfo(op.out.dtype)  # a clip by a bound: the other side may be anything
        a, b = (r if r is not None else (int(whole.min), int(whole.max)) for r in (a, b))
    if a is None or b is None:
        return None
    if name == "add":
        r = (a[0] + b[0], a[1] + b[1])
    elif name == "subtract":
        r = (a[0] - b[1], a[1] - b[0])
    elif name == "multiply":
        ps = [x * y for x in a for y in b]
        r = (min(ps), max(ps))
    elif name == "minimum":
        r = (min(a[0], b[0]), min(a[1], b[1]))
    else:
        r = (max(a[0], b[0]), max(a[1], b[1]))
    return _fitting(r, op.out.dtype)


_FLOAT_ARITHMETIC = ("add", "subtract", "multiply")
_FLOAT_ROUNDING = ("trunc", "floor", "ceil")


def is_float(v: Value) -> bool:
    return isinstance(v.dtype, np.dtype) and v.dtype.kind == "f"


def has_range(v: Value) -> bool:
    """Can `v` have a range (an integer or a float value)?"""
    return is_integer(v) or is_float(v)


def _float_range(op: Op, of: Callable) -> Interval | None:
    """A float op's range: its value at the corners of its inputs' ranges
    (module docstring)."""
    name, dtype = op.prim.name, op.out.dtype
    if name in PASS_THROUGH and (name != "convert" or has_range(op.inputs[0])):
        r = of(op.inputs[0])
        if r is None:
            return None
        return _finite((float(np.asarray(r[0], dtype)), float(np.asarray(r[1], dtype))))
    if name in _FLOAT_ROUNDING and len(op.inputs) == 1:
        r = of(op.inputs[0])
        return None if r is None else _finite(_corners(op, [r]))
    if name in _FLOAT_ARITHMETIC and len(op.inputs) == 2:
        rs = [of(v) for v in op.inputs]
        if any(r is None for r in rs):
            return None
        r = _finite(_corners(op, rs))
        if r is None:
            return None
        lo, hi = np.asarray(r[0], dtype), np.asarray(r[1], dtype)
        return _finite((float(np.nextafter(lo, -np.inf)), float(np.nextafter(hi, np.inf))))
    return None


def _corners(op: Op, ranges: list) -> Interval:
    """min and max of op at every corner of its inputs' ranges, each input in its dtype."""
    import itertools

    ends = []
    with np.errstate(all="ignore"):
        for corner in itertools.product(*ranges):
            args = [np.asarray(x, v.dtype) for x, v in zip(corner, op.inputs)]
            ends.append(float(np.asarray(op.prim.impl(*args, **op.attrs))))
    return min(ends), max(ends)


def _finite(r: Interval | None) -> Interval | None:
    if r is None or not all(np.isfinite(x) for x in r):
        return None
    return r


def _growth_range(name: str, a: Interval | None, b: Interval | None) -> Interval | None:
    """a ** b or a << b for non-negative b (None otherwise): for a >= 0
    monotone in each operand, so the corners bound it; a negative base gives
    both signs up to the largest magnitude."""
    if a is None or b is None or b[0] < 0 or b[1] > 4096:
        return None
    if name == "left_shift":
        ends = [x << y for x in a for y in b]
        return (min(ends), max(ends))
    if a[0] >= 0:
        ends = [x ** y for x in a for y in b]
        return (min(ends), max(ends))
    top = max(abs(a[0]), abs(a[1]))
    m = top ** b[1] if top > 1 else 1
    return (-m, m)


def _union(a: Interval | None, b: Interval | None, dtype) -> Interval | None:
    return None if a is None or b is None else _fitting((min(a[0], b[0]), max(a[1], b[1])), dtype)


def _fitting(r: Interval | None, dtype) -> Interval | None:
    if r is None:
        return None
    info = np.iinfo(dtype)
    return r if info.min <= r[0] and r[1] <= info.max else None


def range_in_block(v: Value, producer: dict[int, Op], depth: int = 256, memo: dict | None = None) -> Interval | None:
    """The range of v from the ops of one block (`producer`: value id -> op);
    arguments and values made elsewhere have none. Each value is looked at
    once (`memo`: a binary search's bounds are read by both halves of every
    step); bounded depth: a long chain only costs a check."""
    r = const_range(v)
    if r is not None or depth == 0:
        return r
    memo = {} if memo is None else memo
    if v.id in memo:
        return memo[v.id]
    op = producer.get(v.id)

    def of(u: Value) -> Interval | None:
        return range_in_block(u, producer, depth - 1, memo) if has_range(u) else None

    if op is None:
        found = None
    elif op.prim.name == "select" and len(op.outputs) == 1:
        found = select_range(op, of, producer.get)
    else:
        found = op_range(op, of)
    memo[v.id] = found
    return found


Leaf = Callable[[Value], Interval | None]


class Ranges:
    """Ranges of a block's integer values, learned op by op in program order
    (no recursion, however long the body): `leaf` gives the values the block
    does not compute (a loop index, an enclosing loop's index)."""

    def __init__(self, leaf: Leaf = lambda v: None):
        self.leaf = leaf
        self.known: dict[int, Interval] = {}
        self.reals: dict[int, Interval] = {}  # float values' ranges
        self.made: dict[int, Op] = {}

    def of(self, v: Value) -> Interval | None:
        if v.is_const:
            return const_range(v)
        if is_float(v):
            return self.reals.get(v.id)
        if not is_integer(v):
            return None
        r = self.leaf(v)
        return r if r is not None else self.known.get(v.id)

    def learn(self, op: Op) -> None:
        if len(op.outputs) != 1:
            return
        self.made[op.out.id] = op
        r = select_range(op, self.of, self.made.get) if op.prim.name == "select" else op_range(op, self.of)
        if r is not None:
            (self.reals if is_float(op.out) else self.known)[op.out.id] = r

    def learn_all(self, block: Block) -> Ranges:
        for op in walk(block):
            self.learn(op)
        return self


def select_range(op: Op, of: Callable[[Value], Interval | None], made: Callable[[int], Op | None]) -> Interval | None:
    """select(u < k, u + n, u) and the like: each branch's range with u
    restricted to where that branch is taken (NumPy's negative-index wrap is
    in range although u + n and u are not, each alone). `made`: value id ->
    the op computing it, where known."""
    if not is_integer(op.out):
        return None
    c, *branches = op.inputs
    test = made(c.id)
    parts = []
    for x, taken in zip(branches, (True, False)):
        r = _restricted(x, test, taken, of, made)
        if r is None:
            return None
        if r[0] <= r[1]:  # an empty range: the branch is never taken
            parts.append(r)
    if not parts:
        return None
    return min(p[0] for p in parts), max(p[1] for p in parts)


def restricted_range(x: Value, test: Op | None, taken: bool, of: Callable, made: Callable) -> Interval | None:
    """The range of x where `test` is `taken` (the comparisons it cuts x or
    x -/+ k with), else x's own range; (1, 0), empty, where it never is."""
    return _restricted(x, test, taken, of, made)


def _restricted(x: Value, test: Op | None, taken: bool, of: Callable, made: Callable) -> Interval | None:
    own = of(x)
    cuts = _cuts(test, of, made, taken) if test is not None else {}
    if not cuts:
        return own
    if x.id in cuts:  # the test bounds x itself (on both sides: x of unknown range, a bin index)
        lo, hi = cuts[x.id][1]
        if own is None:
            whole = np.iinfo(x.dtype)
            own = (int(whole.min), int(whole.max))
        return (max(own[0], lo), min(own[1], hi))
    shifted = made(x.id)
    if shifted is None or shifted.prim.name not in ("add", "subtract") or not is_integer(x):
        return own
    a, b = shifted.inputs
    shift = u = None
    if a.id in cuts and b.is_const and np.ndim(b.const) == 0:
        u, shift = a, int(b.const) if shifted.prim.name == "add" else -int(b.const)
    elif shifted.prim.name == "add" and b.id in cuts and a.is_const and np.ndim(a.const) == 0:
        u, shift = b, int(a.const)
    if shift is None or u.dtype != x.dtype:
        return own
    known = of(u)
    ru = known or dtype_range(u.dtype)  # (of unknown range, u is where the cut puts it)
    lo, hi = cuts[u.id][1]
    lo, hi = max(ru[0], lo), min(ru[1], hi)
    if lo > hi:
        return (1, 0)
    whole = dtype_range(x.dtype)
    if own is None and not (known is not None or ru[0] < lo and hi < ru[1]) \
            or not (whole[0] <= lo + shift and hi + shift <= whole[1]):
        return own  # (a cut on one side of a u of unknown range; or u + shift wraps in the cut)
    return (lo + shift, hi + shift)


_CUTS = {  # u OP k taken (True) or not: the range of u, as (lo, hi) offsets from k
    "less": ((None, -1), (0, None)),
    "less_equal": ((None, 0), (1, None)),
    "greater": ((1, None), (None, 0)),
    "greater_equal": ((0, None), (None, -1)),
}
_MIRRORED = {"less": "greater", "less_equal": "greater_equal", "greater": "less", "greater_equal": "less_equal"}


def _cuts(test: Op, of: Callable, made: Callable, taken: bool, depth: int = 8) -> dict[int, tuple[Value, Interval]]:
    """value id -> (u, [lo, hi]) that u lies in when `test` is `taken`: a
    comparison of an integer u with an integer constant scalar (either side),
    and the cuts of both sides of an `and` taken (`or` not taken; a select
    with a constant False or True branch is one)."""
    name = test.prim.name
    if name in _CUTS and len(test.inputs) == 2:
        cut = _comparison_cut(test, taken)
        return {cut[0].id: cut} if cut is not None else {}
    if name == "logical_not" and depth:  # (`not (i0 < 0 or i0 >= h - 1)`: the guard of a masked read)
        inner = made(test.inputs[0].id)
        return _cuts(inner, of, made, not taken, depth - 1) if inner is not None else {}
    sides = None
    if name in ("logical_and", "logical_or") and len(test.inputs) == 2 and taken == (name == "logical_and"):
        sides = test.inputs
    elif name == "select" and len(test.inputs) == 3:
        c, a, b = test.inputs
        if taken and (_is_flag(b, False) or b.id == c.id):  # c and a
            sides = (c, a)
        elif not taken and (_is_flag(a, True) or a.id == c.id):  # c or b (Python's `c or b`: c if c else b)
            sides = (c, b)
    if sides is None or depth == 0:
        return {}
    found: dict[int, tuple[Value, Interval]] = {}
    for side in sides:
        op = made(side.id)
        for vid, (u, (lo, hi)) in (_cuts(op, of, made, taken, depth - 1) if op is not None else {}).items():
            if vid in found:
                lo, hi = max(lo, found[vid][1][0]), min(hi, found[vid][1][1])
            found[vid] = (u, (lo, hi))
    return found


def _is_flag(v: Value, flag: bool) -> bool:
    return v.is_const and v.dtype == np.bool_ and np.ndim(v.const) == 0 and bool(v.const) is flag


def _comparison_cut(test: Op, taken: bool):
    """(u, [lo, hi]) that u lies in when `test` (u OP k or k OP u, k an
    integer constant scalar) is `taken`; None for any other test."""
    u, k = test.inputs
    name = test.prim.name
    if u.is_const and not k.is_const:
        u, k, name = k, u, _MIRRORED[name]
    if not (k.is_const and np.ndim(k.const) == 0 and is_integer(k)) or not is_integer(u):
        return None
    lo, hi = _CUTS[name][0 if taken else 1]
    big = 1 << 126
    k = int(k.const)
    return u, (-big if lo is None else k + lo, big if hi is None else k + hi)


def loop_leaf(aff: dict, trips: int, outer: dict[int, Interval]) -> Leaf:
    """The leaves of a loop body: scalars affine in its index (exact over its
    `trips` iterations) and the indices of the loops around it (`outer`)."""
    def leaf(v: Value) -> Interval | None:
        if v.shape == () and trips > 0:
            form = affine_form(v, aff)
            if form is not None:
                return value_range(form, trips)
        return outer.get(v.id)

    return leaf


def index_range(loop: Op, of: Callable[[Value], Interval | None]) -> Interval | None:
    """The range of a for_loop's index, None where the loop never runs or
    the range is unknown: from its constant bounds, or, for an ascending
    loop (a step of at least 1) with traced bounds, from the ranges of its
    start and stop (a stepped slice's write, tracer/stepped.py)."""
    bounds = static_bounds(loop)
    if bounds is not None:
        trips = len(range(*bounds)) if bounds[2] != 0 else 0
        return value_range((bounds[2], bounds[0]), trips) if trips > 0 else None
    start, stop, step = (of(v) for v in loop.inputs[:3])
    if start is None or stop is None or step is None or step[0] < 1 or start[0] > stop[1] - 1:
        return None
    return start[0], stop[1] - 1


def nested_ranges(block: Block, accumulators: bool = True) -> dict[int, Interval]:
    """value id -> range, for every integer value of block and of the blocks
    in it, learned in program order: a counted loop with constant bounds
    gives its index the range it runs over, and a carry its body yields
    unchanged (an enclosing loop's index read inside) the range of its entry
    value (an ascending one with traced bounds, the hull of its start and stop: `index_range`).
    An int64 accumulator of such a loop (`accumulators`: `s += int(img[i, j])`,
    nested loops adding to it too) has the range its entry value and its
    terms' ranges give over the trip count (`_accumulated`); a while loop's
    counter stepped one way only while its test bounds it (`_while_counters`)
    the hull of its entry value and that bound; other block arguments
    (carries, a while loop's other state) have none. Codegen reads it to drop the bounds
    checks of reads at starts it proves inside the axis (`v = perm[i]` for a
    perm computed as (iota + 1) % n, then x[v])."""
    return _visit_ranges(block, lambda v: None, None, accumulators)


_LIMIT = 2 ** 62  # (a range near the int64 limits is no use, and its arithmetic could leave them)
_ACCUMULATOR_DEPTH = 3  # loops whose accumulators a body's own pass looks into (each level a pass more)


def _visit_ranges(block: Block, leaf: Callable[[Value], Interval | None], depth: int | None,
                  accumulators: bool = True) -> dict[int, Interval]:
    """nested_ranges of `block`, whose free values `leaf` gives; accumulators
    of the loops down to _ACCUMULATOR_DEPTH levels below `depth` (all where
    depth is None: the program's own pass; a loop body's pass for its
    accumulators' terms looks a few levels into the loops it holds)."""
    found: dict[int, Interval] = {}
    deeper = None if depth is None else depth + 1

    def visit(b: Block, ranges: Ranges) -> None:
        for op in b.ops:
            ranges.learn(op)
            counters = _while_counters(op, ranges.of) if op.prim.name == "while_loop" else {}
            for k, r in counters.items():
                ranges.known[op.outputs[k].id] = r
            for sub in op.blocks:
                index: dict[int, Interval] = {sub.args[k].id: r for k, r in counters.items()}
                r = index_range(op, ranges.of) if op.prim.name == "for_loop" else None
                if r is not None:
                    index[sub.args[0].id] = r
                if op.prim.name == "for_loop":
                    if depth is None:  # a carry the body yields unchanged holds its entry value
                        for arg, init, out in zip(sub.args[1:], op.inputs[3:], sub.results):
                            r = ranges.of(init) if out is arg else None
                            if r is not None:
                                index[arg.id] = r
                    if accumulators and (deeper is None or deeper < _ACCUMULATOR_DEPTH):
                        for arg, out, r in _accumulated(op, ranges.of, index, deeper):
                            index[arg.id] = r
                            ranges.known[out.id] = r
                if depth is None:
                    found.update(index)
                visit(sub, Ranges(lambda v, index=index, outer=ranges: index.get(v.id, outer.of(v))))
        found.update(ranges.known)

    visit(block, Ranges(leaf))
    return found


def _while_counters(loop: Op, of: Callable[[Value], Interval | None]) -> dict[int, Interval]:
    """position -> range of each integer scalar carry of a while loop whose
    body steps it by a term of known sign only (result = carry +/- t) and
    whose test, where it holds, bounds it on the side it steps toward
    (insertion sort's `while j >= 0 and a[j] > key: ...; j -= 1`): it never
    passes its entry value on the other side, nor the test's bound by more
    than one step: j lies in [min(entry's least, -1), entry's largest]. The
    reads at j and j + 1 then need no bounds check (codegen/cpu
    `Emitter.start_in_bounds`), and the test raises nothing."""
    cond, body = loop.blocks
    if len(cond.results) != 1 or len(cond.args) != len(loop.inputs) or len(body.results) != len(body.args):
        return {}
    made_in_cond = {v.id: o for o in cond.ops for v in o.outputs}
    cuts = _test_cuts(cond.results[0], of, made_in_cond.get)
    made_in_body = {v.id: o for o in body.ops for v in o.outputs}
    found = {}
    for k, (arg, init) in enumerate(zip(cond.args, loop.inputs)):
        if arg.id not in cuts or not is_integer(arg) or arg.shape != () or body.args[k].dtype != arg.dtype:
            continue
        start, step = of(init), _step(made_in_body.get(body.results[k].id), body.args[k], of)
        if start is None or step is None:
            continue
        lo, hi = cuts[arg.id][1]
        if step[1] <= 0 and -_LIMIT < lo + step[0]:  # never rises; falls below the test's bound by one step at most
            r = (min(start[0], lo + step[0]), start[1])
        elif step[0] >= 0 and hi + step[1] < _LIMIT:
            r = (start[0], max(start[1], hi + step[1]))
        else:
            continue
        whole = dtype_range(arg.dtype)
        if whole[0] <= r[0] and r[1] <= whole[1]:
            found[k] = r
    return found


def _test_cuts(r: Value, of: Callable, made: Callable) -> dict[int, tuple[Value, Interval]]:
    """_cuts of a while loop's test r taken, where r is a comparison, an `and`
    of them, or `c and x` traced as a cond whose other arm yields c itself
    (or False): r holds only where c does."""
    test = made(r.id)
    if test is None:
        return {}
    if test.prim.name == "cond" and len(test.outputs) == 1 and len(test.blocks) == 2:
        c, other = test.inputs[0], test.blocks[1].results[0]
        return _test_cuts(c, of, made) if other.id == c.id or _is_flag(other, False) else {}
    return _cuts(test, of, made, True)


def _step(new: Op | None, arg: Value, of: Callable[[Value], Interval | None]) -> Interval | None:
    """The range of new's output - arg, where new is arg + t, t + arg or arg - t."""
    if new is None or new.prim.name not in ("add", "subtract") or len(new.inputs) != 2:
        return None
    a, b = new.inputs
    if new.prim.name == "add" and b.id == arg.id:
        a, b = b, a
    if a.id != arg.id or b.id == arg.id:
        return None
    t = of(b)
    if t is None:
        return None
    return t if new.prim.name == "add" else (-t[1], -t[0])


def _accumulated(loop: Op, outer: Callable[[Value], Interval | None], index: dict, depth: int | None) -> list:
    """(carry, loop output, range) of each int64 scalar carry of a counted
    loop with constant bounds whose next value is its value plus terms that
    do not read it (+, -, a select between such values, a nested counted loop
    accumulating it in turn): over n trips it stays within its entry value's
    range widened by n times the per-trip increment's."""
    bounds = static_bounds(loop)
    if bounds is None or bounds[2] == 0:
        return []
    trips = len(range(*bounds))
    body = loop.blocks[0]
    carried = [(k, a) for k, a in enumerate(body.args[1:]) if is_integer(a) and a.shape == ()
               and a.dtype == np.int64 and a.id not in index]
    if not carried:
        return []
    leaf = {**index}
    terms = _visit_ranges(body, lambda v: leaf.get(v.id, outer(v)), depth or 0)
    out = []
    for k, a in carried:
        init = outer(loop.inputs[3 + k])
        step = _increment(body, a, body.results[k], lambda v: terms.get(v.id, leaf.get(v.id, outer(v))))
        if init is None or step is None:
            continue
        lo, hi = init[0] + min(0, trips * step[0]), init[1] + max(0, trips * step[1])
        if -_LIMIT < lo and hi < _LIMIT:
            out.append((a, loop.outputs[k], (lo, hi)))
    return out


def _increment(body: Block, arg: Value, result: Value, of: Callable[[Value], Interval | None]) -> Interval | None:
    """The range of result - arg over one trip of `body`, where result is arg
    plus terms not read from it; None otherwise."""
    inc: dict[int, Interval] = {arg.id: (0, 0)}
    for op in body.ops:
        ins = [v for v in op.inputs if v.id in inc]
        if not ins or len(op.outputs) != 1 and op.prim.name != "for_loop":
            continue
        name = op.prim.name
        if name in ("add", "subtract") and len(ins) == 1 and op.out.shape == ():
            x, t = op.inputs
            if t.id in inc:
                if name == "subtract":
                    continue
                x, t = t, x
            elif x.id not in inc:
                continue
            r = of(t)
            if r is None:
                continue
            d = inc[x.id]
            inc[op.out.id] = (d[0] + r[0], d[1] + r[1]) if name == "add" else (d[0] - r[1], d[1] - r[0])
        elif name == "select" and op.inputs[0].id not in inc and all(v.id in inc for v in op.inputs[1:]):
            (a0, a1), (b0, b1) = inc[op.inputs[1].id], inc[op.inputs[2].id]
            inc[op.out.id] = (min(a0, b0), max(a1, b1))
        elif name == "for_loop":
            bounds = static_bounds(op)
            if bounds is None or bounds[2] == 0:
                continue
            n = len(range(*bounds))
            inner = op.blocks[0]
            for k, init in enumerate(op.inputs[3:]):
                if init.id not in inc or inner.args[1 + k].shape != ():
                    continue
                step = _increment(inner, inner.args[1 + k], inner.results[k], of)
                if step is not None:
                    d = inc[init.id]
                    inc[op.outputs[k].id] = (d[0] + min(0, n * step[0]), d[1] + max(0, n * step[1]))
        if any(abs(x) >= _LIMIT for r in inc.values() for x in r):
            return None
    return inc.get(result.id)
