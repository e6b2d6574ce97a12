"""Residual scans that need no loop (the pass after `vectorize`).

The vectorize pass leaves a for_loop holding only its recurrences. Two kinds
of recurrence are rewritten here, innermost loops first:
  linear   every carry h is float and its update is affine in h,
               h' = A_t * h + B_t   (also h * A_t, B_t + A_t * h, h + B_t,
                                     A_t * h, differences, negations, / w)
           with A_t, B_t independent of every carry (per-iteration values
           the vectorizer stacked, or invariants): one `linear_scan` per
           carry (a parallel prefix scan, ops/scan.py), when the static trip
           count is at least `min_trips()`; values the loop stacked from
           its carries are computed batched afterwards from the history.
  product  the only carry P is updated P' = P @ A or A @ P (any einsum
           spelling, A or A.T) with A loop invariant, the loop stacks
           nothing and P is read by that product alone: one
           `matrix_power_apply(P0, A, n)` (repeated squaring), the trip count
           n static or computed at run time. The elementwise analogue
           p' = p * a (a invariant) becomes p0 * a ** n (np.power: about one
           ulp for a ** n, against the loop's n roundings).
Both stay kind "scan" in `explain`; the reason says how the scan runs.

Invariant: a rewrite happens only when every carry matches; otherwise the
loop is left exactly as it was (nothing is emitted before the match is
complete). Results equal the loop's within the bounds in ops/scan.py.

LOOPTRACE_NO_PREFIX_SCAN=1 / LOOPTRACE_NO_REPEATED_SQUARING=1 turn off each
rewrite (benchmarks compare); LOOPTRACE_PREFIX_SCAN_MIN_TRIPS overrides the
trip-count threshold; LOOPTRACE_NO_VECTORIZE=1 turns off both.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

from looptrace.ir.affine import static_bounds
from looptrace.ir.builder import IRBuilder
from looptrace.ir.core import Block, Dim, Op, Program, Value
from looptrace.ir.rewrite import substitute
from looptrace.ir.uses import operands
from looptrace.ops.batching_helpers import NotBatchable, expand_to_rank
from looptrace.ops.control import split_for_results, trip_count
from looptrace.ops.linalg import parse_spec
from looptrace.ops.shape_arith import size_of

from .analysis import Carry, LoopFacts, carries_of, loop_var_name
from .batch_interpreter import BatchEnv, memory_budget
from .delay import kept_notes
from . import loop_rewrite

# Below this many steps a linear recurrence stays a loop. Measured
# (bench/vectorize_beyond.py, /tmp timing in the session): on the interpreter
# the scan is 1.6x faster at 2 steps, 3-5x at 8, 7-15x at 32; on the CPU backend
# both run the same sequential loop (within 1 us at 8 to 128 steps).
MIN_TRIPS = 8


def min_trips() -> int:
    env = os.environ.get("LOOPTRACE_PREFIX_SCAN_MIN_TRIPS")
    return int(env) if env else MIN_TRIPS


def prefix_scan_enabled() -> bool:
    return not (os.environ.get("LOOPTRACE_NO_PREFIX_SCAN") or os.environ.get("LOOPTRACE_NO_VECTORIZE"))


def squaring_enabled() -> bool:
    return not (os.environ.get("LOOPTRACE_NO_REPEATED_SQUARING") or os.environ.get("LOOPTRACE_NO_VECTORIZE"))


def linear_scans(program: Program) -> Program:
    """The pass: rewrite every matching for_loop, innermost first."""
    from .driver import for_each_loop

    for_each_loop(program.body, lambda op, block, outer: _guarded(op, block) if op.prim.name == "for_loop" else None)
    return program


def _guarded(loop: Op, block: Block) -> None:
    """Try both rewrites; an internal error leaves the loop as it was (a
    rewrite changes nothing before its match is complete) and warns, unless
    LOOPTRACE_VECTORIZE_STRICT=1 (tests) asks to raise."""
    try:
        if squaring_enabled() and rewrite_product_chain(loop, block):
            return
        if prefix_scan_enabled():
            rewrite_linear(loop, block)
    except Exception as e:
        if os.environ.get("LOOPTRACE_VECTORIZE_STRICT"):
            raise
        warnings.warn(f"looptrace: the linear-scan pass skipped the loop at line {loop.loc.line}: {e!r}",
                      stacklevel=2)


def _note(loop: Op, facts: LoopFacts, carries: list[Carry], what: str, how: str) -> None:
    """The loop's explain entry: still a scan, and how it runs now."""
    info = loop.attrs.get("loop")
    if info is None:
        return
    parts = []
    for c in carries:
        op = facts.defs.get(c.result.id)
        where = f" (line {op.loc.line}: {op.loc.text.strip()})" if op is not None and op.loc.line else ""
        parts.append(f"`{loop_var_name(c, facts)}` is {what}{where}")
    info.kind = "scan"
    info.reason = "; ".join(parts) + f": {how}" + kept_notes(info.reason)


def _replace(loop: Op, parent: Block, new_ops: list[Op], mapping: dict[int, Value]) -> None:
    at = parent.ops.index(loop)
    parent.ops[at:at + 1] = new_ops
    substitute(parent, mapping)


# --- linear recurrences ----------------------------------------------------------------------
Coef = Value | float  # a per-iteration value of the body, or a Python constant


@dataclass
class Affine:
    """value = a * h + b for the carry h being matched."""

    a: Coef
    b: Coef


class Coefs:
    """Builds coefficient arithmetic on body values, folding the constants."""

    def __init__(self, loc, dtype: np.dtype):
        self.b = IRBuilder(loc)
        self.dtype = dtype

    def _lit(self, x: Coef) -> Value:
        return x if isinstance(x, Value) else self.b.const(np.asarray(x, dtype=self.dtype))

    def add(self, x: Coef, y: Coef) -> Coef:
        if not isinstance(x, Value) and not isinstance(y, Value):
            return x + y
        if isinstance(x, float) and x == 0.0:
            return y
        if isinstance(y, float) and y == 0.0:
            return x
        return self.b.op("add", self._lit(x), self._lit(y))

    def neg(self, x: Coef) -> Coef:
        return -x if not isinstance(x, Value) else self.b.op("negative", x)

    def mul(self, x: Coef, w: Value) -> Coef:
        if isinstance(x, float):
            if x == 0.0:
                return 0.0
            if x == 1.0:
                return w
        return self.b.op("multiply", self._lit(x), w)

    def div(self, x: Coef, w: Value) -> Coef:
        if isinstance(x, float) and x == 0.0:
            return 0.0
        return self.b.op("divide", self._lit(x), w)


class LinearMatch:
    """Matches each carry's update as a * h + b with carry-free a and b."""

    def __init__(self, facts: LoopFacts, carries: list[Carry]):
        self.facts = facts
        self.dep = _carry_dependent(facts, carries)
        self.coefs: Coefs | None = None

    def carry(self, c: Carry) -> Affine | None:
        h = c.arg
        if not isinstance(h.dtype, np.dtype) or h.dtype.kind != "f":
            return None  # integers and generators keep their loop
        self.coefs = Coefs(self.facts.op.loc, h.dtype)
        return self._match(c.result, h)

    def _match(self, v: Value, h: Value) -> Affine | None:
        if v.id == h.id:
            return Affine(1.0, 0.0)
        if v.id not in self.dep:
            return Affine(0.0, v) if v.dtype == h.dtype else None
        op = self.facts.defs.get(v.id)
        if op is None or v.dtype != h.dtype or tuple(v.shape) != tuple(h.shape):
            return None
        rule = getattr(self, "_" + op.prim.name, None)
        return rule(op, h) if rule is not None else None

    def _add(self, op: Op, h: Value) -> Affine | None:
        x, y = (self._match(v, h) for v in op.inputs)
        if x is None or y is None:
            return None
        return Affine(self.coefs.add(x.a, y.a), self.coefs.add(x.b, y.b))

    def _subtract(self, op: Op, h: Value) -> Affine | None:
        x, y = (self._match(v, h) for v in op.inputs)
        if x is None or y is None:
            return None
        c = self.coefs
        return Affine(c.add(x.a, c.neg(y.a)), c.add(x.b, c.neg(y.b)))

    def _negative(self, op: Op, h: Value) -> Affine | None:
        x = self._match(op.inputs[0], h)
        return None if x is None else Affine(self.coefs.neg(x.a), self.coefs.neg(x.b))

    def _multiply(self, op: Op, h: Value) -> Affine | None:
        x, y = op.inputs
        if x.id in self.dep and y.id in self.dep:
            return None  # h * h, or two carries multiplied: not linear
        dep, w = (x, y) if x.id in self.dep else (y, x)
        f = self._match(dep, h)
        if f is None or w.dtype != h.dtype:
            return None
        return Affine(self.coefs.mul(f.a, w), self.coefs.mul(f.b, w))

    def _divide(self, op: Op, h: Value) -> Affine | None:
        x, w = op.inputs
        if w.id in self.dep or w.dtype != h.dtype:
            return None
        f = self._match(x, h)
        return None if f is None else Affine(self.coefs.div(f.a, w), self.coefs.div(f.b, w))


def _carry_dependent(facts: LoopFacts, carries: list[Carry]) -> set[int]:
    """Ids of body values that depend on some carry."""
    dep = {c.arg.id for c in carries}
    for op in facts.body.ops:
        if any(v.id in dep for v in operands(op)):
            dep.update(v.id for v in op.outputs)
    return dep


def rewrite_linear(loop: Op, parent: Block) -> bool:
    """for_loop whose carries are all affine in themselves -> linear_scan each."""
    bounds = static_bounds(loop)
    if bounds is None:
        return False
    n = trip_count(*bounds)
    if n < max(min_trips(), 1):
        return False
    facts = LoopFacts(loop, n, bounds[0], bounds[2])
    carries = carries_of(loop)
    if not carries or any(not isinstance(c.arg.dtype, np.dtype) for c in carries) or not _fits_budget(carries, n):
        return False  # (a generator's state is no linear recurrence)
    match = LinearMatch(facts, carries)
    forms, coef_ops = [], []
    for c in carries:
        f = match.carry(c)
        if f is None:
            return False
        forms.append(f)
        coef_ops.extend(match.coefs.b.ops)
    if _history_outweighs_stack(loop, facts, carries, match.dep):
        return False
    try:
        new_ops, mapping = LinearRewrite(loop, facts, carries, match.dep).run(forms, coef_ops)
    except NotBatchable:
        return False
    _replace(loop, parent, new_ops, mapping)
    _note(loop, facts, carries, "a linear recurrence h = a[t] * h + b[t]",
          f"runs as a parallel prefix scan over its {n} steps (O(log T) depth; looptrace/ops/scan.py)")
    return True


def _history_outweighs_stack(loop: Op, facts: LoopFacts, carries: list[Carry], dep: set[int]) -> bool:
    """Values the loop stacks from its carries come from the scan's history,
    every step's state: where that is large and the loop itself stacks far
    less (brownian_trap's per-step mean of a (2000, 3) state: 48 MB of
    history for 8 KB of means), the loop stays. Its state is as wide as
    the history's rows, so the loop has the same parallelism per step; the
    scan would write the history and the batched coefficients out to memory
    and read them back."""
    n_carry, _ = split_for_results(loop)
    ys = [y for y in facts.body.results[n_carry:] if y.id in dep]
    if not ys or any(isinstance(d, Dim) for c in carries for d in c.arg.shape):
        return False
    history = sum(facts.n * size_of(c.arg.shape) * c.arg.dtype.itemsize for c in carries)
    stacked = sum(facts.n * size_of(y.shape) * np.dtype(y.dtype).itemsize for y in ys)
    if history <= loop_rewrite.STACKED_FEEDER_BYTES or 4 * stacked > history:
        return False
    info = loop.attrs.get("loop")
    if info is not None:
        info.reason += (f"; linear in its carries, but left a loop: the prefix scan's history would be "
                        f"{_size(history)}, the loop stacks {_size(stacked)}")
    return True


def _size(nbytes: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes} B"


def _fits_budget(carries: list[Carry], n: int) -> bool:
    """The coefficients and the history are stacked: 4 arrays of (n, *h)."""
    nbytes = sum(4 * n * size_of(c.arg.shape) * c.arg.dtype.itemsize for c in carries)
    return nbytes <= memory_budget()


class LinearRewrite:
    """Emits the batched coefficients, one linear_scan per carry, and the
    stacked outputs computed from the histories."""

    def __init__(self, loop: Op, facts: LoopFacts, carries: list[Carry], dep: set[int]):
        self.loop, self.facts, self.carries, self.dep = loop, facts, carries, dep
        self.n = facts.n
        self.b = IRBuilder(loop.loc, axis_size=self.n)
        self.env = BatchEnv(self.b, self.n, facts.aff)
        self.histories: dict[int, Value] = {}  # id(carry) -> its linear_scan history

    def run(self, forms: list[Affine], coef_ops: list[Op]) -> tuple[list[Op], dict[int, Value]]:
        # checks on the carries (ops/check.py) run batched over the history, after the scan
        late = [op for op in self.facts.body.ops if not op.outputs and any(v.id in self.dep for v in op.inputs)]
        for op in self.facts.body.ops:
            if op not in late and not any(v.id in self.dep for v in op.outputs):
                self.env.emit(op)
        for op in coef_ops:
            self.env.emit(op)
        mapping: dict[int, Value] = {}
        n_carry, _ = split_for_results(self.loop)
        ys = self.facts.body.results[n_carry:]
        history = any(y.id in self.dep for y in ys) or bool(late)  # else only the final carries are used
        history = history or any(isinstance(d, Dim) for c in self.carries for d in c.arg.shape)
        for c, f in zip(self.carries, forms):
            a, b = self._coef(f.a, c), self._coef(f.b, c)
            self.b.loc = self.loop.loc  # (the scan is the loop's: a backend's note on it is the loop's, explain)
            if a.ndim <= c.arg.ndim and b.ndim <= c.arg.ndim:  # neither varies: B gets the time axis
                b = self.b.op("broadcast_to", b, shape=(self.n, *c.arg.shape))
            if not history:
                mapping[c.out.id] = self.b.op("linear_scan", a, b, c.init, history=False)
                continue
            hist = self.b.op("linear_scan", a, b, c.init, history=True)
            self.env.bind(c.result, hist, 0)
            self.histories[id(c)] = hist  # (a constant result, `yield 0.0`, is not bound by its value)
            mapping[c.out.id] = self._last(hist, c)
        if history:
            self._emit_from_histories(ys + [v for op in late for v in op.inputs])
        for op in late:
            self.env.emit(op)
        for y, o in zip(ys, self.loop.outputs[n_carry:]):
            mapping[o.id] = self.env.batched(y)
        return self.b.ops, mapping

    def _coef(self, coef: Coef, c: Carry) -> Value:
        """A coefficient for linear_scan: (n, 1.., *v) when it varies with the
        step, its own shape (broadcast by the scan, never stored) when not."""
        if not isinstance(coef, Value):
            return self.b.const(np.asarray(coef, dtype=c.arg.dtype))
        w, d = self.env.get(coef)
        return w if d is None else expand_to_rank(self.b, w, c.arg.ndim)

    def _last(self, hist: Value, c: Carry) -> Value:
        row = self.b.op("slice", hist, starts=(self.n - 1,), stops=(self.n,), steps=(1,))
        return self.b.op("reshape", row, shape=tuple(c.arg.shape))

    def _bind_previous(self, wanted: set[int]) -> None:
        """Each carry argument at step t is the history at t - 1 (h0 first)."""
        for c in self.carries:
            if c.arg.id not in wanted:
                continue
            hist = self.histories[id(c)]
            head = self.b.op("reshape", c.init, shape=(1, *c.arg.shape))
            before = self.b.op("slice", hist, starts=(0,), stops=(self.n - 1,), steps=(1,))
            self.env.bind(c.arg, self.b.op("concatenate", head, before, axis=0), 0)

    def _emit_from_histories(self, ys: list[Value]) -> None:
        """Batch the carry-dependent ops the stacked outputs need."""
        needed: set[int] = set()
        read: set[int] = set()
        stack = list(ys)
        while stack:
            v = stack.pop()
            read.add(v.id)
            op = self.facts.defs.get(v.id)
            if v.id in self.env.env or op is None or v.id not in self.dep or id(op) in needed:
                continue
            needed.add(id(op))
            stack.extend(op.inputs)
        self._bind_previous(read)
        for op in self.facts.body.ops:
            if id(op) in needed:
                if op.blocks:
                    raise NotBatchable("a region op computes a stacked output from the carries")
                self.env.emit(op)


# --- product chains --------------------------------------------------------------------------
def rewrite_product_chain(loop: Op, parent: Block) -> bool:
    """P = P @ A (A invariant, P read only by it) n times -> P0 @ A^n."""
    n_carry, n_ys = split_for_results(loop)
    step = loop.inputs[2]
    if n_carry != 1 or n_ys or not step.is_const or int(step.const) == 0:
        return False
    bounds = static_bounds(loop)
    facts = LoopFacts(loop, trip_count(*bounds) if bounds else None, 0, int(step.const))
    (c,) = carries_of(loop)
    prod = facts.defs.get(c.result.id)
    if prod is None or prod.prim.name not in ("einsum", "multiply") or len(prod.inputs) != 2:
        return False
    if not isinstance(c.arg.dtype, np.dtype) or c.arg.dtype.kind not in "fc":
        return False
    if facts.n_uses(c.arg) != 1 or facts.n_uses(c.result) != 1:
        return False
    if sum(v.id == c.arg.id for v in prod.inputs) != 1:
        return False
    pos = 0 if prod.inputs[0].id == c.arg.id else 1
    mat = prod.inputs[1 - pos]
    if not facts.invariant(mat) or mat.dtype != c.arg.dtype:
        return False
    if prod.prim.name == "multiply":
        return c.arg.dtype.kind == "f" and _rewrite_scaling(loop, parent, facts, c, mat, bounds)
    orient = product_orientation(prod.attrs["spec"], pos, mat)
    if orient is None:
        return False
    side, transposed, batch = orient
    b = IRBuilder(loop.loc)
    if transposed:
        mat = b.op("transpose", mat, perm=(*range(batch), batch + 1, batch))
    count = _trip_value(b, loop.inputs[0], loop.inputs[1], int(step.const), bounds)
    out = b.op("matrix_power_apply", c.init, mat, count, side=side, batch_dims=batch)
    _replace(loop, parent, b.ops, {c.out.id: out})
    where = "P @ A" if side == "right" else "A @ P"
    when = "its trip count read at run time" if bounds is None else f"{facts.n} steps"
    _note(loop, facts, [c], f"a product chain {where} with A loop invariant",
          f"runs by repeated squaring, O(log n) matrix products ({when})")
    return True


def _rewrite_scaling(loop: Op, parent: Block, facts: LoopFacts, c: Carry, a: Value, bounds) -> bool:
    """p = p * a (a invariant, elementwise) n times -> p0 * a ** n."""
    b = IRBuilder(loop.loc)
    count = _trip_value(b, loop.inputs[0], loop.inputs[1], int(loop.inputs[2].const), bounds)
    power = b.op("power", a, b.op("convert", count, dtype=a.dtype))
    out = b.op("multiply", c.init, power)
    _replace(loop, parent, b.ops, {c.out.id: out})
    when = "its trip count read at run time" if bounds is None else f"{facts.n} steps"
    _note(loop, facts, [c], "scaled by the same loop-invariant factor every step",
          f"computed as p0 * a ** n ({when})")
    return True


def product_orientation(spec: str, pos: int, mat: Value) -> tuple[str, bool, int] | None:
    """('right' | 'left', transposed, batch) when the einsum is P @ A, P @ A.T,
    A @ P or A.T @ P for the carry P at operand `pos` and square A, after
    `batch` leading letters shared by P, A and the result (a batched loop)."""
    ins, out = parse_spec(spec)
    cp, ca = ins[pos], ins[1 - pos]
    batch = len(ca) - 2
    if batch < 0 or not (cp[:batch] == ca[:batch] == out[:batch]) or len(cp) - batch not in (1, 2):
        return None
    if len(set(ca)) != len(ca) or len(set(cp)) != len(cp) or mat.shape[-1] != mat.shape[-2]:
        return None
    cp, (x, y), out = cp[batch:], ca[batch:], out[batch:]
    if cp[-1] == x and y not in cp and out == cp[:-1] + y:
        return "right", False, batch
    if cp[-1] == y and x not in cp and out == cp[:-1] + x:
        return "right", True, batch
    if cp[0] == y and x not in cp and out == x + cp[1:]:
        return "left", False, batch
    if cp[0] == x and y not in cp and out == y + cp[1:]:
        return "left", True, batch
    return None


def _trip_value(b: IRBuilder, start: Value, stop: Value, step: int, bounds) -> Value:
    """len(range(start, stop, step)) as an int64 scalar (a constant when static)."""
    if bounds is not None:
        return b.const(np.int64(trip_count(*bounds)))
    i64 = np.dtype(np.int64)
    start = start if start.dtype == i64 else b.op("convert", start, dtype=i64)
    stop = stop if stop.dtype == i64 else b.op("convert", stop, dtype=i64)
    span = b.op("subtract", stop, start) if step > 0 else b.op("subtract", start, stop)
    k = abs(step)
    if k != 1:
        span = b.op("floor_divide", b.op("add", span, b.const(np.int64(k - 1))), b.const(np.int64(k)))
    return b.op("maximum", span, b.const(np.int64(0)))
