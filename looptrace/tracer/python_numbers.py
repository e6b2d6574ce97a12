"""Python numbers where NumPy's differ: a run-time check where the compiled
code would wrap an int around, or divide by zero, and plain Python would not
(int() of a float is the `pyint` primitive's, tracer/pymath.py).

The same pass checks the divisions of two Python numbers (`1.0 / (i - k)`,
`7 % (i - k)`) whose divisor may be 0: Python raises ZeroDivisionError (with
its own message, made here by Python), NumPy gives inf or 0; and a float
power of two Python numbers whose base may be 0.0 and exponent negative
(`float(x[i]) ** -1`: Python raises ZeroDivisionError, NumPy gives inf). A divisor whose
integer range excludes 0 (`i + 1`, also converted to float) gets no check;
NumPy scalars (`x[i] / 0.0`) keep NumPy's inf.

Python's ints have no size; a traced one is an int64. A product, power or
shift of two Python ints (`s *= i` for a factorial, `3 ** (5 * i)`, an FNV
hash `h * 1099511628211`) whose value leaves 64 bits would make a big
integer in the plain function and wrap in the compiled one: a wrong answer.
The tracer records each such op (semantics.ufunc: `TraceState.python_ints`);
after the trace, `guard` adds a check right after every recorded op whose
result range (ir/ranges.py `nested_ranges`: constants, loop indices over
static bounds, an enclosing index read in a nested loop, and arithmetic on
them) is not known to fit. Index arithmetic such as `i * m + j` over static
bounds gets none, so the common kernel is unchanged. `guard` runs at the
end of the trace (tracer/trace.py), not as a pass of pipeline.py: its marks
are value ids of the traced program, which a program transform (grad)
renames; the checks it adds are ordinary `check` ops from then on.

The check raises OverflowError at run time, naming the user's line. Its test
is in float64 (|a * b|, |a| ** b, |a| * 2 ** b against 2 ** 63): exact but
for a result within about 2 ** 10 of 2 ** 63, which it may refuse. A sum or
difference of two traced Python ints is checked exactly (the result's sign
against its operands'), except an offset from a for loop's index (`x[i + k]`:
bounded by the loop's stop, it leaves 64 bits only for an offset within the
trip count of 2 ** 63) and an accumulator's (`s += int(x[i])`, `s -= k`):
a check there would read every partial sum and keep the loop a scan, so
tracer/python_sums.py checks its exact sum once, after the loop. A counter
(`n += 1`, a constant step) is not checked.

A result nothing reads (but ops nothing reads) is not checked; one that is
only a branch's or a loop's result is checked where it is read
(`_Deferred`): Fibonacci's `a, b = b, a + b` makes a last b past 2 ** 63
that only the next iteration would read, in a `for` or a `while`, with a
`break`, under an `if`, in a nest, and returns a.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.errors import BigIntError
from looptrace.ir.core import Block, Op, Program, Value, literal, walk
from looptrace.ir.ranges import nested_ranges
from looptrace.ops import get as prim
from looptrace.ops.check import Failure

from .python_sums import shadow_accumulators

_TWO63 = float(2**63)
MESSAGE = ("a Python int result past 64 bits: plain Python makes a big integer here, looptrace's compiled code "
           "holds int64; compute it in floats (2.0 * n), or with NumPy int64 values if wrapping around is meant")


def guard(program: Program, marked: dict[int, str], divisions: dict[int, str] | None = None,
          sums: dict[int, str] | None = None, casts: dict | None = None,
          steps: dict[int, str] | None = None) -> None:
    """Add the checks for the recorded ops of `program` that may overflow, and
    for the recorded divisions of Python numbers whose divisor may be 0
    (Python raises ZeroDivisionError where NumPy gives inf or 0), negative
    shift counts, and Python ints converted to a narrower int dtype that
    they may not fit (NumPy 2 raises OverflowError)."""
    divisions, casts, sums, steps = divisions or {}, casts or {}, sums or {}, steps or {}
    if sums or steps:
        covered, step_marks = shadow_accumulators(program.body, sums, {**steps, **sums}, MESSAGE,
                                                  nested_ranges(program.body))
        marked = {**marked, **step_marks}
        made = {v.id: op for op in walk(program.body) for v in op.outputs}
        indices = {b.args[0].id for op in walk(program.body) if op.prim.name == "for_loop" for b in op.blocks}
        # (an offset from a for loop's index, `x[i + k]`: bounded by the loop's stop, not checked)
        marked = {**marked, **{k: v for k, v in sums.items() if k not in covered and not (
                      k in made and any(x.id in indices for x in made[k].inputs))},
                  **_data_steps(program.body, steps, covered)}
    if not marked and not divisions and not casts:
        return
    fits = nested_ranges(program.body)
    made = {v.id: op for op in walk(program.body) for v in op.outputs}
    reads, moved = _Reads(program.body), []
    _guard_block(program.body, marked, divisions, fits, made, casts, reads, moved)
    deferred = _Deferred(reads)
    for v, bad, failures, loc in moved:
        deferred.flow(v, bad, failures, loc)


class _Reads:
    """Where the program reads each value: the ops that take it as an input
    (value id -> [(block, op)]), and the blocks whose results hold it (a
    branch's, a loop body's, the function's)."""

    def __init__(self, body: Block):
        self.readers: dict[int, list[tuple[Block, Op]]] = {}
        self.results: dict[int, list[Block]] = {}
        self.parent: dict[int, tuple[Op, int]] = {}  # id(block) -> (its region op, its position)
        self.dead = _dead_ops(body)
        self._index(body)

    def _index(self, block: Block) -> None:
        for op in block.ops:
            for v in op.inputs if id(op) not in self.dead else ():
                self.readers.setdefault(v.id, []).append((block, op))
            for k, sub in enumerate(op.blocks):
                self.parent[id(sub)] = (op, k)
                self._index(sub)
        for v in block.results:
            held = self.results.setdefault(v.id, [])
            if not any(b is block for b in held):
                held.append(block)

    def when(self, r: Value) -> str:
        """"always": an op reads r, check it where it is made; "never": nothing
        reads r; "moved": r is only a block's result (a branch's, a loop's next
        carry), its check moves to where it is read (_Deferred)."""
        if r.id in self.readers:
            return "always"
        return "moved" if r.id in self.results else "never"


class _Deferred:
    """A Python int past 64 bits raises where it is read, not where it is made:
    `a, b = b, a + b` makes Fibonacci's last b, which passes 2**63 while only a
    is read after the loop (a `for` or a `while`, with a `break`, under an `if`,
    in a nest). A value made only as a block's result has its test (`bad`)
    carried beside it as a bool: a branch gets an output (False where the
    other side yields something else), a loop a carry (False on entry), and
    each value so reached is checked before the first op that reads it in each
    block (a store, a comparison, arithmetic, a loop's init), or at the end of
    the function where it is returned. One flag per check: the error names the
    line that made the big int."""

    def __init__(self, reads: _Reads):
        self.reads = reads
        self.slots: dict[tuple, int] = {}  # (id(region op), carry or output position, id(failures)) -> its flag's

    def flow(self, v: Value, bad: Value, failures: tuple, loc) -> None:
        """Check `bad` (true where v is wrong) where v is read, and carry it on
        where v is a block's result."""
        checked: set[int] = set()
        for block, op in self.reads.readers.get(v.id, []):
            if id(block) not in checked:
                checked.add(id(block))
                block.ops.insert(_index(block, op), _check(bad, failures, loc))
        for block in self.reads.results.get(v.id, []):
            self._through(block, v, bad, failures, loc)

    def _through(self, block: Block, v: Value, bad: Value, failures: tuple, loc) -> None:
        held = self.reads.parent.get(id(block))
        region = held[0].prim.name if held is not None else None
        if region not in ("cond", "for_loop", "while_loop") or region == "while_loop" and held[1] == 0:
            _check_after(block, bad, failures, loc)  # the function's result (or any other): checked there
            return
        op = held[0]
        n_carry = len(block.args) - 1 if region == "for_loop" else len(block.results)  # (before any is added)
        for q in [q for q, r in enumerate(block.results) if r.id == v.id]:
            if region == "for_loop" and q >= n_carry or region != "cond" and self._every(op, q):
                _check_after(block, bad, failures, loc)  # a stacked output (`ys.append(b)`), or read anyway
                continue
            key = (id(op), q, id(failures))
            made = key not in self.slots
            if made:  # (registered before its flows, which may come back to it through a branch)
                self.slots[key] = self._cond_flag(op) if region == "cond" else self._carry_flag(op)
            block.results[self.slots[key]] = bad
            if made and region == "cond":
                self.flow(op.outputs[q], op.outputs[self.slots[key]], failures, loc)
            elif made:
                self._flow_carry(op, q, self.slots[key], failures, loc)

    def _every(self, op: Op, q: int) -> bool:
        """Is every iteration's value of carry q read (by the next iteration
        where it has one, after the loop where not)? Then its check stays where
        it is made: no flag to carry (`s *= i`, read by the next `s * i`)."""
        body = op.blocks[-1]
        if op.prim.name == "for_loop":
            return self._direct(body, body.args[1 + q]) and self._reached(op.outputs[q], set())
        test = op.blocks[0]
        return self._direct(test, test.args[q]) or \
            self._direct(body, body.args[q]) and self._reached(op.outputs[q], set())

    def _direct(self, block: Block, v: Value) -> bool:
        """Does an op of `block` itself (not of a branch in it) read v?"""
        return any(b is block for b, _ in self.reads.readers.get(v.id, []))

    def _reached(self, v: Value, seen: set[int]) -> bool:
        """Is v read, here or where a block's result takes it (conservative)?"""
        if v.id in self.reads.readers:
            return True
        if v.id in seen:
            return False
        seen.add(v.id)
        for block in self.reads.results.get(v.id, []):
            held = self.reads.parent.get(id(block))
            region = held[0].prim.name if held is not None else None
            if region not in ("cond", "for_loop", "while_loop") or region == "while_loop" and held[1] == 0:
                return True
            op = held[0]
            for q in [q for q, r in enumerate(block.results) if r.id == v.id]:
                if region == "cond":
                    nexts = [op.outputs[q]]
                elif region == "for_loop":
                    if q >= len(block.args) - 1:
                        return True
                    nexts = [block.args[1 + q], op.outputs[q]]
                else:
                    nexts = [op.blocks[0].args[q], block.args[q], op.outputs[q]]
                if any(self._reached(n, seen) for n in nexts):
                    return True
        return False

    @staticmethod
    def _cond_flag(op: Op) -> int:
        """A new output of the branch op, false but where a side sets it."""
        at = len(op.outputs)
        for b in op.blocks:
            b.results = list(b.results) + [literal(np.False_)]
        op.outputs = op.outputs + (Value(np.dtype(bool), ()),)
        return at

    @staticmethod
    def _carry_flag(op: Op) -> int:
        """A new carry of the loop op, false on entry: its position among the
        body's results (after the other carries)."""
        is_for = op.prim.name == "for_loop"
        body = op.blocks[-1]
        n_carry = len(body.args) - (1 if is_for else 0)
        body.args.append(Value(np.dtype(bool), ()))
        body.results.insert(n_carry, literal(np.False_))
        op.inputs = op.inputs + (literal(np.False_),)
        op.outputs = op.outputs[:n_carry] + (Value(np.dtype(bool), ()),) + op.outputs[n_carry:]
        if not is_for:
            op.blocks[0].args.append(Value(np.dtype(bool), ()))
        return n_carry

    def _flow_carry(self, op: Op, q: int, at: int, failures: tuple, loc) -> None:
        """The flag of carry q (at `at`) goes with its value into the next
        iteration (the body, a while loop's test) and out of the loop."""
        first = 1 if op.prim.name == "for_loop" else 0
        if not first:
            self.flow(op.blocks[0].args[q], op.blocks[0].args[at], failures, loc)
        body = op.blocks[-1]
        self.flow(body.args[first + q], body.args[first + at], failures, loc)
        self.flow(op.outputs[q], op.outputs[at], failures, loc)


def _dead_ops(body: Block) -> set[int]:
    """The ops (by id) whose results nothing reads but other such ops, and
    that neither raise nor have effects (`c = b * 3` never used): a big int
    they read matters no more than theirs. One backward sweep: a value is
    read after it is made, and a block's result counts as read."""
    from looptrace.ir.dce import is_pure

    ops = list(walk(body))
    read = {v.id for op in walk(body) for b in op.blocks for v in b.results} | {v.id for v in body.results}
    dead: set[int] = set()
    for op in reversed(ops):
        if op.blocks or not is_pure(op) or op.prim.may_raise or any(v.id in read for v in op.outputs):
            read.update(v.id for v in op.inputs)
        else:
            dead.add(id(op))
    return dead


def _index(block: Block, op: Op) -> int:
    return next(k for k, o in enumerate(block.ops) if o is op)


def _check_after(block: Block, bad: Value, failures: tuple, loc) -> None:
    """A check of `bad` right after the op of `block` that makes it, else at its end."""
    at = next((k + 1 for k, o in enumerate(block.ops) if any(v.id == bad.id for v in o.outputs)), len(block.ops))
    block.ops.insert(at, _check(bad, failures, loc))


def _check(bad: Value, failures: tuple, loc) -> Op:
    return Op(prim("check"), (bad,), (), {"failures": failures}, loc)


def _guard_block(block: Block, marked: dict[int, str], divisions: dict[int, str], fits: dict, made: dict,
                 casts: dict, reads: _Reads, moved: list) -> None:
    ops: list[Op] = []
    for op in block.ops:
        ops.append(op)
        for sub in op.blocks:
            _guard_block(sub, marked, divisions, fits, made, casts, reads, moved)
        if len(op.outputs) != 1:
            continue
        if op.out.id in casts and op.prim.name == "convert":
            ops.extend(_narrowing_ops(op, casts[op.out.id], fits))
        if op.out.id in marked and op.out.id not in fits:
            when = reads.when(op.out)
            checks = _check_ops(op, marked[op.out.id]) if when != "never" else []
            if when == "moved":  # (its test now, its check where the value is read: _Deferred)
                moved += [(op.out, c.inputs[0], c.attrs["failures"], c.loc) for c in checks if c.prim.name == "check"]
                checks = [c for c in checks if c.prim.name != "check"]
            ops.extend(checks)
        if op.out.id in divisions and op.prim.name == "power":
            if _may_be_zero(op.inputs[0], fits, made) and _may_be_negative(op.inputs[1], fits):
                ops.extend(_zero_base_ops(op))
            if _may_be_negative(op.inputs[0], fits) and _may_be_fractional(op.inputs[1]):
                ops.extend(_complex_power_ops(op))
            if op.out.dtype.kind == "f":
                ops.extend(_float_overflow_ops(op))
        elif op.out.id in divisions and op.prim.name in ("left_shift", "right_shift"):
            if _may_be_negative(op.inputs[1], fits):  # Python raises; NumPy shifts by a negative count to 0
                ops.extend(_negative_shift_ops(op))
        elif op.out.id in divisions and _may_be_zero(op.inputs[1], fits, made):
            ops.extend(_zero_divisor_ops(op))
    block.ops = ops


def _data_steps(body: Block, steps: dict[int, str], covered: set[int]) -> dict[int, str]:
    """The constant steps of traced Python ints (`int(x[i]) + 1`) to check:
    not an accumulator's (covered), not a counter's (`n += 1`: its operand
    comes from a loop's carried values, and a check would keep the loop a
    scan; it leaves 64 bits only from a start that large), not a for loop
    index's (`i + 1`: bounded by its stop)."""
    carried: set[int] = set()
    indices: set[int] = set()
    out: dict[int, str] = {}

    def visit(block: Block) -> None:
        for op in block.ops:
            if op.prim.name in ("for_loop", "while_loop"):
                first = 1 if op.prim.name == "for_loop" else 0
                for sub in op.blocks:
                    carried.update(a.id for a in sub.args[first:])
                    indices.update(a.id for a in sub.args[:first])
            for sub in op.blocks:
                visit(sub)
            if len(op.outputs) == 1 and op.out.id in steps and op.out.id not in covered \
                    and not any(v.id in carried or v.id in indices for v in op.inputs):
                out[op.out.id] = steps[op.out.id]
            if any(v.id in carried for v in op.inputs) or any(r.id in carried for b in op.blocks for r in b.results):
                carried.update(v.id for v in op.outputs)

    visit(body)
    return out


def _may_be_zero(v: Value, fits: dict, made: dict) -> bool:
    """Is 0 possibly among v's values? An integer range (or a float converted
    from one: `1.0 / (i + 1)`) that excludes 0 says no."""
    if v.is_const:
        return bool(np.any(np.asarray(v.const) == 0))
    src = made.get(v.id)
    if v.id not in fits and src is not None and src.prim.name == "convert":
        v = src.inputs[0]
    r = fits.get(v.id)
    return r is None or r[0] <= 0 <= r[1]


def _may_be_negative(v: Value, fits: dict) -> bool:
    if v.is_const:
        return bool(np.any(np.asarray(v.const) < 0))
    r = fits.get(v.id)
    return r is None or r[0] < 0


def _may_be_fractional(v: Value) -> bool:
    if v.is_const:
        c = np.asarray(v.const)
        return bool(np.any(c != np.floor(c)))
    return v.dtype.kind in "fc"


def _complex_power_ops(op: Op) -> list[Op]:
    """base < 0 and a fractional exponent, then a check: Python's float power
    gives a complex number there (`(-4.0) ** 0.5` is 2j), NumPy's NaN."""
    from looptrace.errors import UnsupportedError

    base, exponent = op.inputs
    negative = _make("less", [base, literal(np.zeros((), base.dtype))], op.loc)
    ops = [negative]
    if exponent.is_const:
        test = negative
    else:
        whole = _make("floor", [exponent], op.loc)
        fractional = _make("not_equal", [exponent, whole.out], op.loc)
        test = _make("logical_and", [negative.out, fractional.out], op.loc)
        ops += [whole, fractional, test]
    exc = UnsupportedError("a negative Python float to a fractional power: Python gives a complex number "
                           "here, looptrace's float result cannot hold it", op.loc,
                           "use complex(base) ** p (or cmath), or np.float64 values for NumPy's NaN")
    ops.append(Op(prim("check"), (test.out,), (), {"failures": (Failure(exc, op.loc),)}, op.loc))
    return ops


def _float_overflow_ops(op: Op) -> list[Op]:
    """A Python float power of finite numbers past the float range raises
    OverflowError in Python (`10.0 ** 400`); NumPy gives inf."""
    ops: list[Op] = []

    def make(n: str, inputs: list) -> Value:
        new = _make(n, inputs, op.loc)
        ops.append(new)
        return new.out

    finite = make("logical_and", [make("isfinite", [op.inputs[0]]), make("isfinite", [op.inputs[1]])])
    bad = make("logical_and", [make("isinf", [op.out]), finite])
    exc = OverflowError(34, "Numerical result out of range")
    ops.append(Op(prim("check"), (bad,), (), {"failures": (Failure(exc, op.loc),)}, op.loc))
    return ops


def _zero_base_ops(op: Op) -> list[Op]:
    """base == 0 and exponent < 0, then a check raising Python's
    ZeroDivisionError for a float power (NumPy gives inf)."""
    base, exponent = op.inputs
    zero = _make("equal", [base, literal(np.zeros((), base.dtype))], op.loc)
    negative = _make("less", [exponent, literal(np.zeros((), exponent.dtype))], op.loc)
    both = _make("logical_and", [zero.out, negative.out], op.loc)
    exc = ZeroDivisionError("0.0 cannot be raised to a negative power")
    check = Op(prim("check"), (both.out,), (), {"failures": (Failure(exc, op.loc),)}, op.loc)
    return [zero, negative, both, check]


def _narrowing_ops(op: Op, dtype: np.dtype, fits: dict) -> list[Op]:
    """A check that the Python int converted by `op` fits `dtype` (none where
    its range says so): NumPy 2's OverflowError otherwise."""
    x = op.inputs[0]
    info = np.iinfo(dtype)
    r = fits.get(x.id)
    if x.is_const or r is not None and info.min <= r[0] and r[1] <= info.max:
        return []
    low = _make("less", [x, literal(np.asarray(max(info.min, -2**63), x.dtype))], op.loc)
    high = _make("greater", [x, literal(np.asarray(min(info.max, 2**63 - 1), x.dtype))], op.loc)
    bad = _make("logical_or", [low.out, high.out], op.loc)
    exc = OverflowError(f"a Python integer out of bounds for {dtype.name}")
    return [low, high, bad, Op(prim("check"), (bad.out,), (), {"failures": (Failure(exc, op.loc),)}, op.loc)]


def _negative_shift_ops(op: Op) -> list[Op]:
    count = op.inputs[1]
    test = _make("less", [count, literal(np.zeros((), count.dtype))], op.loc)
    check = Op(prim("check"), (test.out,), (), {"failures": (Failure(ValueError("negative shift count"), op.loc),)},
               op.loc)
    return [test, check]


def _zero_divisor_ops(op: Op) -> list[Op]:
    """divisor == 0, then a check raising Python's ZeroDivisionError for this
    operation and dtype (its message made by Python itself)."""
    divisor = op.inputs[1]
    exc = zero_division(op.prim.name, op.inputs[0].dtype, divisor.dtype)
    test = _make("equal", [divisor, literal(np.zeros((), divisor.dtype))], op.loc)
    check = Op(prim("check"), (test.out,), (), {"failures": (Failure(exc, op.loc),)}, op.loc)
    return [test, check]


def zero_division(name: str, *dtypes) -> ZeroDivisionError:
    """What Python raises for `name` ("divide", "floor_divide", "remainder")
    of two Python numbers of these dtypes' kinds by zero (Python's message)."""
    kinds = "".join(np.dtype(d).kind for d in dtypes)
    one, zero = (1j, 0j) if "c" in kinds else (1.0, 0.0) if "f" in kinds else (1, 0)
    try:
        {"divide": lambda: one / zero, "floor_divide": lambda: one // zero,
         "remainder": lambda: one % zero}[name]()
    except (ZeroDivisionError, TypeError) as e:  # complex has no // or %: its TypeError is not this
        if isinstance(e, ZeroDivisionError):
            return ZeroDivisionError(*e.args)
    return ZeroDivisionError("division by zero")


# --- values that are Python numbers on some runs only -------------------------------
# `v = x[0] if c > 0 else 1.5` is a NumPy float64 where c > 0 and a Python float
# elsewhere: its dtype is float64 either way, but `v / 0.0` raises
# ZeroDivisionError only where it is the Python float. Such a scalar is traced
# as a NumPy one (weak=False) with `pyflag`, a traced bool, true where it is the
# Python number: set where a traced condition picks between a Python number and
# a NumPy scalar (tracer/control.py), kept by arithmetic with Python numbers
# (semantics.ufunc), and read by the division checks below, made while
# tracing. A flag not visible where the value is used (made in a branch that a
# `cond` holds), or a value carried around a loop, loses it: the value is then
# a NumPy scalar, as before flags were kept.

def side_flag(x: Any) -> Any:
    """True: x is a Python number; False: a NumPy value; a traced bool: a
    Python number where it is true (visible in the current frame)."""
    from . import context as ctx
    from . import semantics as sem
    from .array import _visible, is_tracer

    if sem.is_weak(x):
        return True
    if is_tracer(x) and x.pyflag is not None and x.ndim == 0 and _visible(x.pyflag._box.frame, ctx.state().frame):
        return x.pyflag
    from . import kinds

    tagged = kinds.kinds_of(x) if is_tracer(x) and x.ndim == 0 else None
    if tagged is not None:  # its type chosen at run time (`s = 0.0`, then `s += v` only in an `if`)
        tag, keys = tagged
        flag = None
        for k, key in enumerate(keys):
            if key[1]:  # a Python number where the tag names this key
                hit = sem.ufunc("equal", tag, k)
                flag = hit if flag is None else sem.ufunc("logical_or", flag, hit)
        if flag is not None:
            return flag
    return False


def chosen_flag(pred: Any, a: Any, b: Any) -> Any:
    """The flag of `a if pred else b` (a scalar), from its sides': None where
    it is always or never a Python number (the sides agree)."""
    from . import semantics as sem

    fa, fb = side_flag(a), side_flag(b)
    if fa is fb:  # (`in (True, False)` asked a traced flag for its truth)
        return None if fa is True or fa is False else fa
    return sem.select(pred, fa, fb)


def set_flag(out: Any, flag: Any) -> None:
    if flag is not None and out.ndim == 0 and not out.weak and not out.array0d:
        out.pyflag = flag


def mixed_ufunc(name: str, args: tuple, out: Any) -> None:
    """`out = name(*args)` of Python numbers and scalars that are Python
    numbers on some runs (no NumPy value): `out` is one where all are; a
    division there by zero raises Python's ZeroDivisionError, as does 0.0 to a
    negative power."""
    from . import semantics as sem
    from .checks import emit_check

    if out.ndim != 0 or any(np.ndim(a) != 0 for a in args):
        return
    flags = [side_flag(a) for a in args]
    if any(f is False for f in flags) or all(f is True for f in flags):
        return
    flag = None
    for f in flags:
        if f is not True:
            flag = f if flag is None else sem.ufunc("logical_and", flag, f)
    out.pyflag = flag
    dtypes = [sem.dtype_of(a) for a in args]
    if name in ("divide", "floor_divide", "remainder"):
        test = _zero_test(args[1], flag)
        if test is not None:
            emit_check(test, zero_division(name, *dtypes))
    elif name == "power" and np.dtype(out.dtype).kind == "f":
        test = _zero_test(args[0], flag)
        if test is not None and (not isinstance(args[1], (int, float)) or args[1] < 0):
            if not isinstance(args[1], (int, float)):
                test = sem.ufunc("logical_and", test, sem.ufunc("less", args[1], 0))
            emit_check(test, ZeroDivisionError("0.0 cannot be raised to a negative power"))


def _zero_test(x: Any, flag: Any) -> Any:
    """flag and x == 0 (None where x is a nonzero constant)."""
    from . import semantics as sem
    from .array import is_tracer

    if not is_tracer(x):
        return flag if x == 0 else None
    return sem.ufunc("logical_and", sem.ufunc("equal", x, 0), flag)


def _make(name: str, inputs: list[Value], loc, **attrs) -> Op:
    p = prim(name)
    avals = p.abstract(*inputs, **attrs)
    return Op(p, tuple(inputs), tuple(Value(dt, tuple(shape)) for dt, shape in avals), dict(attrs), loc)


def _check_ops(op: Op, name: str) -> list[Op]:
    """convert both operands to float64, the result's size, the test, the check."""
    loc, out = op.loc, []

    def make(n: str, inputs: list[Value], **attrs) -> Value:
        new = _make(n, inputs, loc, **attrs)
        out.append(new)
        return new.out

    if name == "floor_divide":  # -2**63 // -1 only
        x, y = op.inputs
        if any(v.is_const and np.all(np.asarray(v.const) != c) for v, c in ((x, -2**63), (y, -1))):
            return []
        bad = make("logical_and", [make("equal", [x, literal(np.int64(-2**63))]),
                                   make("equal", [y, literal(np.int64(-1))])])
        out.append(Op(prim("check"), (bad,), (), {"failures": (Failure(BigIntError(MESSAGE, loc), loc),)}, loc))
        return out
    if name in ("negative", "absolute"):  # of -2**63 only
        bad = make("equal", [op.inputs[0], literal(np.int64(-2**63))])
        out.append(Op(prim("check"), (bad,), (), {"failures": (Failure(BigIntError(MESSAGE, loc), loc),)}, loc))
        return out
    x, c = op.inputs
    if name == "add" and x.is_const:
        x, c = c, x
    if name in ("add", "subtract") and c.is_const and not x.is_const:
        step = int(np.asarray(c.const)) * (1 if name == "add" else -1)  # a constant step: one comparison
        if step == 0:
            return []
        bad = make("greater" if step > 0 else "less",
                   [x, literal(np.int64(2**63 - 1 - step if step > 0 else -2**63 - step))])
        out.append(Op(prim("check"), (bad,), (), {"failures": (Failure(BigIntError(MESSAGE, loc), loc),)}, loc))
        return out
    if name in ("add", "subtract"):  # exact: the result's sign differs from what both operands say
        x, y, r = op.inputs[0], op.inputs[1], op.out
        other = make("bitwise_xor", [x, y]) if name == "subtract" else make("bitwise_xor", [y, r])
        bad = make("less", [make("bitwise_and", [make("bitwise_xor", [x, r]), other]), literal(np.int64(0))])
        out.append(Op(prim("check"), (bad,), (), {"failures": (Failure(BigIntError(MESSAGE, loc), loc),)}, loc))
        return out
    a, b = (make("convert", [v], dtype=np.dtype(np.float64)) for v in op.inputs)
    if name == "multiply":
        size = make(name, [a, b])
    elif name == "power":
        size = make("power", [make("absolute", [a]), b])
    else:
        size = make("multiply", [a, make("exp2", [b])])
    bad = make("greater_equal", [make("absolute", [size]), literal(np.float64(_TWO63))])
    out.append(Op(prim("check"), (bad,), (), {"failures": (Failure(BigIntError(MESSAGE, loc), loc),)}, loc))
    return out
