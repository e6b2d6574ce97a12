"""The batching interpreter: emit a loop body's ops once, batched over the
iteration axis.

Invariant: `env[v.id] = (w, d)` where w is the new value standing for body
value v at every iteration: d == 0 means w stacks the n per-iteration values
along axis 0, d is None means w is the same at every iteration. Affine
integer scalars (a*k + b) stay symbolic until an op needs them, so reads at
affine positions become static slices instead of gathers.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from looptrace.ir.builder import IRBuilder, derived, rebuilt
from looptrace.ir.core import Block, Dim, Op, Value
from looptrace.ops.batching_helpers import NotBatchable, apply_rule, move_axis
from looptrace.ops.shape_arith import size_of


class OverBudget(NotBatchable):
    """Batching this op would materialize more than the memory budget."""

    def __init__(self, op: Op, nbytes: int, budget: int):
        super().__init__(f"{op.prim.name} at line {op.loc.line} would materialize {nbytes} bytes "
                         f"for all iterations, over the memory budget of {budget} bytes")
        self.op, self.nbytes = op, nbytes


_BUDGET: list[int | None] = [None]


def set_memory_budget(nbytes: int | None) -> None:
    """Largest batched intermediate (bytes) the vectorizer may create; None: default."""
    _BUDGET[0] = nbytes


def memory_budget() -> int:
    if _BUDGET[0] is not None:
        return _BUDGET[0]
    env = os.environ.get("LOOPTRACE_VECTORIZE_BUDGET")
    if env:
        return int(float(env))
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = 8 << 30
    return ram // 8


class BatchEnv:
    """Batched stand-ins for body values, emitted into one builder."""

    def __init__(self, b: IRBuilder, n: int, aff: dict[int, tuple[int, int]], parent: BatchEnv | None = None):
        self.b = b
        self.n = n
        self.aff = aff
        self.env: dict[int, tuple[Value, Any]] = {}
        self.budget = memory_budget()
        self.parent = parent
        # einsums whose batched output is only summed over the batch axis: the
        # fold into one einsum (fold.py) never materializes it
        self.folded: set[int] = set()
        # the check later checks of this batch join (`_order_checks`), or a read that checks
        # its own index (a gather) standing for one, or None
        self.open: Op | None = None

    def bind(self, v: Value, w: Value, d: Any) -> None:
        self.env[v.id] = (w, d)

    def get(self, v: Value) -> tuple[Value, Any]:
        if v.is_const:
            return v, None
        if v.id in self.env:
            return self.env[v.id]
        if v.id in self.aff:
            w = self.materialize(*self.aff[v.id])
            self.env[v.id] = (w, 0)
            return w, 0
        if self.parent is not None:
            return self.parent.get(v)
        return v, None  # defined outside the loop

    def batched(self, v: Value) -> Value:
        """v with the batch axis in front, broadcast if it is invariant."""
        w, d = self.get(v)
        if d is None:
            return self.b.op("broadcast_to", w, shape=(self.n, *w.shape))
        return w

    def materialize(self, a: int, b0: int) -> Value:
        ramp = self.b.op("iota", shape=(self.n,), dtype=np.dtype(np.int64), axis=0)
        scaled = self.b.op("multiply", ramp, self.b.const(np.int64(a)))
        return self.b.op("add", scaled, self.b.const(np.int64(b0)))

    # ops --------------------------------------------------------------------------------------
    def emit(self, op: Op, token_dims: dict[int, Any] | None = None) -> None:
        """Emit op batched; its run-time checks join the open check (`_order_checks`)."""
        start = len(self.b.ops)
        self._emit(op)
        self._order_checks(op, start)

    def _emit(self, op: Op) -> None:
        self.b.loc = op.loc
        name = op.prim.name
        if name in ("add", "subtract", "multiply") and op.out.id in self.aff:
            return  # stays symbolic
        if name == "dynamic_slice" and self._affine_read(op):
            return  # a view of the operand: costs no memory
        if not (op.prim.view and len(op.inputs) == 1):  # a view at a static position: no new memory
            self._check_budget(op)
        if name == "for_loop":
            self._for_loop(op)
            return
        if op.prim.region:
            raise NotBatchable(f"a {name} at line {op.loc.line} stays in the loop")
        if op.prim.effectful:  # a draw from a generator
            self._draw(op)
            return
        args, dims = zip(*(self.get(v) for v in op.inputs)) if op.inputs else ((), ())
        if op.prim.raises:  # a check runs once per iteration: never once for a loop of zero trips
            self.b.axis_size = self.n
            op.prim.batch(self.b, list(args), list(dims), **op.attrs)
            return
        outs, out_dims = apply_rule(self.b, op.prim, list(args), list(dims), dict(op.attrs))
        for v, w, d in zip(op.outputs, outs, out_dims):
            self.bind(v, w, d)

    # run-time checks in iteration order ---------------------------------------------------------
    def _order_checks(self, op: Op, start: int) -> None:
        """Each check a batched op made joins the open check of this batch:
        check(p) ... check(q) over the iterations -> one check(p, q) where
        check(p) was, q's predicate computed before it. Batched alone, each
        would scan every iteration and the first in program order would win;
        joined, the first failing iteration raises, and within it the first
        failure in program order, as the loop does. A gather of x[s] per
        iteration checks s itself: it joins as the check of s, made before
        it (only when there is something to join). An op that may raise
        otherwise (an int() of a float, a loop) closes the open check: what
        fails at an iteration before it stays before it. A read's own reads
        after its checks cannot raise (they read at indices its checks passed)."""
        checked = False
        for made in self.b.ops[start:]:
            if made.prim.name == "check":
                checked = True
                if not self._join(made):
                    self.open = made
            elif _self_checking(op, made) and not checked:
                if self.open is None or not self._join(made):
                    self.open = made
            elif made.blocks or made.prim.raises or (made.prim.may_raise and not checked):
                self.open = None

    def _join(self, late: Op) -> bool:
        """Merge the check `late` (or a self-checking gather's check) into the
        open check; False, with the ops as they were, where it cannot be."""
        ops, head = self.b.ops, self.open
        if head is None or not any(o is head for o in ops) or _check_shape(head) != _check_shape(late):
            return False
        before = list(ops)
        if head.prim.name == "gather":
            head = self._check_own_index(head)
        if late.prim.name == "gather":
            late = self._check_own_index(late)
        at, end = _index(ops, head), _index(ops, late)
        between = ops[at + 1:end]
        made_by = {v.id: o for o in between for v in o.outputs}
        needed: set[int] = set()
        stack = list(late.inputs)
        while stack:
            o = made_by.get(stack.pop().id)
            if o is None or id(o) in needed:
                continue
            if o.blocks or o.prim.effectful or o.prim.raises or o.prim.may_raise:
                ops[:] = before  # q is computed from what may fail first: it stays where it is
                return False
            needed.add(id(o))
            stack.extend(o.inputs)
        from looptrace.ops.check import join_inputs, split_inputs

        failures = (*head.attrs["failures"], *late.attrs["failures"])
        (p, u), (q, w) = (split_inputs(c.inputs, c.attrs["failures"]) for c in (head, late))
        merged = derived(head, []).op_into(head.prim, join_inputs(p + q, u + w, failures), (), failures=failures)
        moved = [o for o in between if id(o) in needed]
        ops[at:end + 1] = moved + [merged] + [o for o in between if id(o) not in needed]
        self.open = merged
        return True

    def _check_own_index(self, read: Op) -> Op:
        """The check a gather of x[s] per iteration makes of s, as a check op
        before it; returns that op."""
        from looptrace.ops.batching_helpers import check_index_range

        x, idx = read.inputs
        b = derived(read, [])
        check_index_range(b, b.op("reshape", idx, shape=(idx.shape[0],)), x.shape[0], 1, 0)
        at = _index(self.b.ops, read)
        self.b.ops[at:at] = b.ops
        return b.ops[-1]

    def _check_budget(self, op: Op) -> None:
        if op.prim.name == "einsum" and op.out.id in self.folded:
            return
        nbytes = 0
        for v in op.outputs:
            if isinstance(v.dtype, np.dtype):
                if any(isinstance(d, Dim) and d.bound is None for d in v.shape):
                    raise NotBatchable("a value whose length only the run knows (an inner loop's record)")
                nbytes += self.n * size_of(v.shape) * v.dtype.itemsize
        if nbytes > self.budget:
            raise OverBudget(op, nbytes, self.budget)

    def _draw(self, op: Op) -> None:
        token, d = self.get(op.inputs[0])
        if d != "stream":
            raise NotBatchable("a draw from a generator that is not a per-iteration stream")
        params = [self.get(v) for v in op.inputs[1:]]  # (rng.integers' bounds)
        self.b.axis_size = self.n
        try:  # (parameters that change between iterations: the rule takes them, rng.poisson(lam[i]), or not)
            outs, _ = apply_rule(self.b, op.prim, [token, *(p for p, _ in params)], [0, *(d for _, d in params)],
                                 dict(op.attrs))
        except NotBatchable:
            if not any(pd is not None for _, pd in params):
                raise
            raise NotBatchable(f"a draw whose parameters change between iterations at line {op.loc.line}") from None
        self.bind(op.outputs[0], outs[0], "stream-done")
        self.bind(op.outputs[1], outs[1], 0)

    # x[a*k + b] over a static range is one static slice ---------------------------------------
    def _affine_read(self, op: Op) -> bool:
        x, *starts = op.inputs
        sizes = tuple(op.attrs["sizes"])
        xw, xd = self.get(x)
        if xd is not None:
            return False
        forms = [self._form(s) for s in starts]
        walking = [ax for ax, f in enumerate(forms) if f is not None and f[0] != 0]
        if len(walking) != 1 or any(f is None and self.get(s)[1] is not None for s, f in zip(starts, forms)):
            return False
        ax = walking[0]
        a, b0 = forms[ax]
        dim = x.shape[ax]
        if sizes[ax] != 1 or not isinstance(dim, int):
            return False
        if self.n:
            ends = (b0, b0 + a * (self.n - 1))  # the positions are monotonic in k
            lo, hi = min(ends), max(ends)
            if hi < 0 and lo >= -dim:
                b0 += dim
            elif lo < 0 or hi >= dim:
                return False
        self.bind(op.out, self._slice_walk(op, xw, starts, forms, ax, a, b0), 0)
        return True

    def _form(self, s: Value):
        if s.is_const:
            return (0, int(s.const))
        return self.aff.get(s.id)

    def _slice_walk(self, op, xw, starts, forms, ax, a, b0) -> Value:
        sizes = tuple(op.attrs["sizes"])
        dyn = [k for k, f in enumerate(forms) if f is None]
        src = xw
        if dyn:  # cut the invariant dynamic starts first, keeping axis ax whole
            dstarts = [s if k in dyn else self.b.const(np.int64(0)) for k, s in enumerate(starts)]
            dsizes = tuple(sizes[k] if k in dyn else xw.shape[k] for k in range(len(starts)))
            src = self.b.op("dynamic_slice", xw, *dstarts, sizes=dsizes)
        lo = [0 if k in dyn else forms[k][1] for k in range(len(starts))]
        hi = [lo[k] + sizes[k] for k in range(len(starts))]
        steps = [1] * len(starts)
        lo[ax], steps[ax] = b0, a
        hi[ax] = b0 + a * (self.n - 1) + (1 if a > 0 else -1)
        if not self.n:  # no iteration: an empty cut at 0 (b0 may lie outside the axis: y[n - 2 - i] for n = 1)
            lo[ax] = hi[ax] = 0
        cut = self.b.op("slice", src, starts=tuple(lo), stops=tuple(hi), steps=tuple(steps))
        front = move_axis(self.b, cut, ax, 0)
        return self.b.op("reshape", front, shape=(self.n, *op.out.shape))

    # a loop inside the batched body: one loop over batched carries --------------------------
    def _for_loop(self, op: Op) -> None:
        if any(self.get(v)[1] is not None for v in op.inputs[:3]):
            raise NotBatchable(f"the trip count of the loop at line {op.loc.line} varies with the index")
        (body,) = op.blocks
        if any(not isinstance(v.dtype, np.dtype) for v in body.args[1:]):
            raise NotBatchable(f"the loop at line {op.loc.line} carries a generator")
        inner = BatchEnv(IRBuilder(op.loc, axis_size=self.n), self.n, {}, parent=self)
        index = Value(body.args[0].dtype, ())
        inner.bind(body.args[0], index, None)
        args = [Value(v.dtype, (self.n, *v.shape)) for v in body.args[1:]]
        for a, w in zip(body.args[1:], args):
            inner.bind(a, w, 0)
        for sub in body.ops:
            inner.emit(sub)
        results = [inner.batched(r) for r in body.results]
        inits = [self.batched(v) for v in op.inputs[3:]]
        n_carry = len(args)
        outs = [Value(v.dtype, (self.n, *v.shape)) for v in op.outputs[:n_carry]]
        outs += [Value(v.dtype, (v.shape[0], self.n, *v.shape[1:])) for v in op.outputs[n_carry:]]
        new_body = Block([index, *args], inner.b.ops, results)
        bounds = [self.get(v)[0] for v in op.inputs[:3]]  # (an enclosing loop's index, as re-emitted)
        self.b.ops.append(rebuilt(op, inputs=(*bounds, *inits), outputs=tuple(outs), attrs=op.attrs,
                                  blocks=(new_body,)))
        for v, w in zip(op.outputs[:n_carry], outs[:n_carry]):
            self.bind(v, w, 0)
        for v, w in zip(op.outputs[n_carry:], outs[n_carry:]):
            self.bind(v, move_axis(self.b, w, 1, 0), 0)


def _index(ops: list[Op], op: Op) -> int:
    return next(k for k, o in enumerate(ops) if o is op)


def _check_shape(op: Op) -> tuple:
    """The shape of a check's predicates; of a self-checking gather's, its index's rows."""
    return tuple(op.inputs[1].shape[:1]) if op.prim.name == "gather" else tuple(op.inputs[0].shape)


def _self_checking(read: Op, made: Op) -> bool:
    """Is `made` the gather of x[s] per iteration that batching `read` gave
    (ops/indexing.py: it checks and wraps s itself)?"""
    x, idx = (made.inputs + (None, None))[:2]
    return (read.prim.name == "dynamic_slice" and made.prim.name == "gather" and made.attrs.get("axis") == 0
            and len(read.inputs) == 2 and tuple(read.attrs["sizes"]) == (1,) and idx is not None
            and idx.ndim == 2 and idx.shape[1] == 1 and isinstance(x.shape[0], int))
