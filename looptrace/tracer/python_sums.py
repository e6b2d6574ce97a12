"""Python-int accumulators, exact or an OverflowError, at no cost to their
vectorization.

`s = 0; for k in range(n): s += k ** 3` makes a big integer in plain Python
once the sum passes 2 ** 63; the compiled int64 sum wraps around. A check
after each addition reads every partial sum, which makes every such loop a
scan. Only the final value matters, though: int64 arithmetic is exact modulo
2 ** 64, so the wrapped result is the true one whenever the true one fits.

So a carried Python int whose only uses in its loop are additions of terms
that do not depend on it (under `if`s, through selects, reset to other values)
gets two shadow carries, `h` and `l`, with `2 ** 32 * h + l` the exact sum:
each term t adds `t >> 32` to h and `t & 0xFFFFFFFF` to l (a difference adds
those of -t). Both are ordinary int64 sums, which the vectorizer turns into
reductions beside the accumulator's own. Neither overflows before 2 ** 31
terms. After the loop, `q = h + (l >> 32)` is the true sum divided by 2 ** 32,
rounded down: it fits in 32 bits exactly where the true sum fits in 64, else
an OverflowError names the user's line.

A term may be a constant (`s += 1` from 2**63 - 1, `s -= 2**62`); a counter
from a small start by small constant steps (`n += 1`) gets no exact sum (it
is 2**47 steps from leaving 64 bits), nor does a sum whose terms' ranges and
static trip count bound it (`_bounded`).

An accumulator with any other use in the loop (compared, stored, multiplied,
copied into another carry, passed into an inner loop) keeps a check after each
of its additions (python_numbers._check_ops), and after each of its constant
steps unless it starts small.
"""
from __future__ import annotations

import numpy as np

from looptrace.errors import BigIntError
from looptrace.ir.core import Block, Op, Value, literal, walk
from looptrace.ops import get as prim
from looptrace.ops.check import Failure

_I64 = np.dtype(np.int64)
_LOW = np.int64(0xFFFFFFFF)


def shadow_accumulators(body: Block, traced: dict[int, str], steps: dict[int, str], message: str,
                        fits: dict) -> set[int]:
    """Give each pure Python-int accumulator of the loops in `body` its
    shadow sums and exit check (module docstring); `traced` are the ids of the
    Python-int sums and differences of two traced values, `steps` those and
    the ones with a constant operand (`n += 1`); `fits` the known ranges of
    values (ir/ranges.py `nested_ranges`). Returns the ids of the sums and differences so covered, and
    those to check where they run (a constant step of a carried int that starts large or unknown and
    has other uses: `s = 2**63 - 1`, then `s += 1`)."""
    covered: set[int] = set()
    marks: dict[int, str] = {}
    _shadow_block(body, traced, steps, message, covered, fits, marks)
    return covered, marks


def _shadow_block(block: Block, traced: dict, steps: dict, message: str, covered: set[int], fits: dict,
                  marks: dict) -> None:
    ops: list[Op] = []
    for op in block.ops:
        for sub in op.blocks:
            _shadow_block(sub, traced, steps, message, covered, fits, marks)
        if op.prim.name in ("for_loop", "while_loop"):
            pre, post = _shadow_loop(op, traced, steps, message, covered, fits, marks)
            ops += pre + [op] + post
        else:
            ops.append(op)
    block.ops = ops


def _shadow_loop(op: Op, traced: dict, steps: dict, message: str, covered: set[int],
                 fits: dict, marks: dict) -> tuple[list[Op], list[Op]]:
    is_for = op.prim.name == "for_loop"
    body = op.blocks[-1]
    first, base = (1, 3) if is_for else (0, 0)

    def init_of(k: int) -> Value:
        return op.inputs[base + k]

    pre: list[Op] = []
    post: list[Op] = []
    for k in range(len(body.args) - first):
        a = body.args[first + k]
        if a.dtype != _I64 or a.shape != ():
            continue
        if not is_for and _reads(op.blocks[0], op.blocks[0].args[k]):
            continue  # the loop's condition reads it (`while s < limit`)
        chain = _chain(body, a, steps)
        small = _small(init_of(k))
        if chain is None:  # read otherwise too: `s += 1` of it checked where it runs, unless it starts small
            if not small:
                marks.update({o.out.id: steps[o.out.id] for o in walk(body) if len(o.outputs) == 1
                              and o.out.id in steps and any(v.id == a.id for v in o.inputs)})
            continue
        if small and all(o.out.id not in traced and _small_step(o) for o in chain.ops):
            continue  # a counter from a small start by small steps (`n += 1`): 2**47 steps from leaving 64 bits
        n_carry = len(body.args) - first
        if any(r.id in chain.values and j != k for j, r in enumerate(body.results)) \
                or body.results[k].id not in chain.values:
            continue
        covered.update(o.out.id for o in chain.ops)
        if is_for and _bounded(op, init_of(k), chain, fits):
            continue  # its terms' ranges and the trip count keep every partial sum in 64 bits
        loc = chain.ops[0].loc
        init = init_of(k)
        h0, l0 = _split(init, pre, loc)
        h_arg, l_arg = Value(_I64, ()), Value(_I64, ())
        env = {a.id: (h_arg, l_arg)}
        _thread(body, chain, env, loc)
        h1, l1 = env[body.results[k].id]
        body.args += [h_arg, l_arg]
        if not is_for:
            op.blocks[0].args += [Value(_I64, ()), Value(_I64, ())]
        body.results[n_carry:n_carry] = [h1, l1]
        h_out, l_out = Value(_I64, ()), Value(_I64, ())
        op.inputs = op.inputs + (h0, l0)
        op.outputs = op.outputs[:n_carry] + (h_out, l_out) + op.outputs[n_carry:]
        shadows = getattr(op.attrs.get("loop"), "shadows", None)
        if shadows is not None:  # explain names the accumulator, not these
            shadows[h_arg.id] = shadows[l_arg.id] = a.id
        post += _exit_check(h_out, l_out, loc, message)
    return pre, post


def _small_step(op: Op) -> bool:
    c = next((v for v in op.inputs if v.is_const), None)
    return c is not None and abs(int(np.asarray(c.const))) < 2**16


def _small(init: Value) -> bool:
    return init.is_const and np.asarray(init.const).shape == () and abs(int(np.asarray(init.const))) < 2**32


def _bounded(op: Op, init: Value, chain: "_Chain", fits: dict) -> bool:
    """Do the ranges of the accumulator's entry value and terms bound it
    within int64 over the loop's static trip count?"""
    start, stop, step = op.inputs[:3]
    if not all(v.is_const for v in (start, stop, step)):
        return False
    n = len(range(int(start.const), int(stop.const), int(step.const)))
    total = _magnitude(init, fits)
    for c in chain.ops:
        term = c.inputs[1] if c.inputs[0].id in chain.values else c.inputs[0]
        total += n * (_magnitude(term, fits) + 1)
    return total < 2**63


def _magnitude(v: Value, fits: dict) -> float:
    if v.is_const:
        return float(np.max(np.abs(np.asarray(v.const, dtype=object))))
    r = fits.get(v.id)
    return float("inf") if r is None else max(abs(int(r[0])), abs(int(r[1])))


class _Chain:
    """An accumulator's values in its loop body and the ops that add terms to it."""

    def __init__(self, a: Value):
        self.values: set[int] = {a.id}
        self.ops: list[Op] = []
        self.selects: set[int] = set()
        self.conds: set[int] = set()


def _chain(body: Block, a: Value, steps: dict[int, str]) -> _Chain | None:
    """The chain of `a` in `body`, or None where a value of it has another use."""
    chain = _Chain(a)
    return chain if _follow(body, chain, steps) and chain.ops else None


def _follow(block: Block, chain: _Chain, steps: dict[int, str]) -> bool:
    vals = chain.values
    for op in block.ops:
        name = op.prim.name
        if name == "cond":
            if op.inputs[0].id in vals:
                return False
            before = len(chain.ops)
            if not all(_follow(b, chain, steps) for b in op.blocks):
                return False
            hit = [j for j in range(len(op.outputs)) if any(b.results[j].id in vals for b in op.blocks)]
            if hit or len(chain.ops) > before:
                chain.conds.add(id(op))
            vals.update(op.outputs[j].id for j in hit)
            continue
        inside = [v.id for v in op.inputs if v.id in vals]
        if op.blocks and _captures(op, vals):
            return False  # read in a loop's body: not a sum's term only
        if not inside:
            continue
        if name == "select" and op.inputs[0].id not in vals:
            chain.selects.add(id(op))
            vals.add(op.out.id)
            continue
        if len(op.outputs) == 1 and op.out.id in steps and len(inside) == 1 \
                and (name == "add" or op.inputs[0].id in vals):
            chain.ops.append(op)
            vals.add(op.out.id)
            continue
        return False
    return True


def _captures(op: Op, vals: set[int]) -> bool:
    for b in op.blocks:
        for inner in b.ops:
            if any(v.id in vals for v in inner.inputs) or _captures(inner, vals):
                return True
        if any(r.id in vals for r in b.results):
            return True
    return False


def _reads(block: Block, v: Value) -> bool:
    return any(v.id == x.id for inner in block.ops for x in inner.inputs) \
        or any(r.id == v.id for r in block.results) or any(_captures(o, {v.id}) for o in block.ops)


def _thread(block: Block, chain: _Chain, env: dict, loc) -> None:
    """Add the shadow sums of the chain's values in `block` (env: value id ->
    (h, l)), and extra results to the conds it passes through."""
    ops: list[Op] = []
    for op in block.ops:
        ops.append(op)
        if op.prim.name == "cond" and id(op) in chain.conds:
            hit = [j for j in range(len(op.outputs)) if any(b.results[j].id in chain.values for b in op.blocks)]
            for b in op.blocks:
                _thread(b, chain, env, loc)
                extra = []
                for j in hit:
                    extra += _shadow_of(b.results[j], chain, env, b.ops, loc)
                b.results = list(b.results) + extra
            outs = []
            for j in hit:
                h, l = Value(_I64, ()), Value(_I64, ())
                env[op.outputs[j].id] = (h, l)
                outs += [h, l]
            op.outputs = op.outputs + tuple(outs)
        elif op.prim.name == "select" and id(op) in chain.selects:
            p, x, y = op.inputs
            hx, lx = _shadow_of(x, chain, env, ops, loc)
            hy, ly = _shadow_of(y, chain, env, ops, loc)
            env[op.out.id] = (_emit(ops, "select", [p, hx, hy], loc), _emit(ops, "select", [p, lx, ly], loc))
        elif any(op is c for c in chain.ops):
            x, t = op.inputs
            if t.id in chain.values:
                x, t = t, x
            h, l = env[x.id]
            th = _emit(ops, "right_shift", [t, literal(np.int64(32))], loc)
            tl = _emit(ops, "bitwise_and", [t, literal(_LOW)], loc)
            if op.prim.name == "add":  # t = 2**32 th + tl
                env[op.out.id] = (_emit(ops, "add", [h, th], loc), _emit(ops, "add", [l, tl], loc))
            else:  # -t = 2**32 (-th - 1) + (2**32 - tl): added as terms, as a conditional `s -= t` is
                nh = _emit(ops, "subtract", [literal(np.int64(-1)), th], loc)
                nl = _emit(ops, "subtract", [literal(np.int64(2**32)), tl], loc)
                env[op.out.id] = (_emit(ops, "add", [h, nh], loc), _emit(ops, "add", [l, nl], loc))
    block.ops = ops


def _shadow_of(v: Value, chain: _Chain, env: dict, ops: list[Op], loc) -> list[Value]:
    if v.id in chain.values:
        return list(env[v.id])
    return list(_split(v, ops, loc))


def _split(v: Value, ops: list[Op], loc) -> tuple[Value, Value]:
    """(v >> 32, v & 0xFFFFFFFF): a value from outside the chain, exact."""
    if v.is_const:
        c = int(np.asarray(v.const))
        return literal(np.int64(c >> 32)), literal(np.int64(c & 0xFFFFFFFF))
    return (_emit(ops, "right_shift", [v, literal(np.int64(32))], loc),
            _emit(ops, "bitwise_and", [v, literal(_LOW)], loc))


def _exit_check(h: Value, l: Value, loc, message: str) -> list[Op]:
    ops: list[Op] = []
    q = _emit(ops, "add", [h, _emit(ops, "right_shift", [l, literal(np.int64(32))], loc)], loc)
    low = _emit(ops, "less", [q, literal(np.int64(-2**31))], loc)
    high = _emit(ops, "greater_equal", [q, literal(np.int64(2**31))], loc)
    bad = _emit(ops, "logical_or", [low, high], loc)
    ops.append(Op(prim("check"), (bad,), (), {"failures": (Failure(BigIntError(message, loc), loc),)}, loc))
    return ops


def _emit(ops: list[Op], name: str, inputs: list[Value], loc) -> Value:
    p = prim(name)
    ((dt, shape),) = p.abstract(*inputs)
    op = Op(p, tuple(inputs), (Value(dt, tuple(shape)),), {}, loc)
    ops.append(op)
    return op.out
