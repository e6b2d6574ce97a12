"""Bound checks of a counted loop decided once, before the loop.

A dynamic start `s` of a read or a write in a loop body that is affine in the
loop's index, `s = a*i + b` with a constant `a` and `b` computed before the
loop (`best[c - w]` in `for c in range(capacity, w - 1, -1)`, w read from the
data), is inside its axis at every iteration when it is at the first and at
the last one. One test before the loop (`guard_line`) then says whether any
start of the body can fail; the body reads `s` itself where it holds and calls
`check_start` (as before) where it does not:

    ok = trips <= 0 or (0 <= s(first) <= n - k and trips - 1 <= n and 0 <= s(first) + a*step*(trips - 1) <= n - k)
    for i in range(...):
        s5 = s if ok else check_start(s, n, k, code)

LLVM takes the loop-invariant test out of the loop. knapsack_01 (200 items,
capacity 5000): two `check_start` a step made it 0.90 ms against numba.njit's
0.48; guarded, 0.45.

Exact, not approximate: the start is a sum of products by constants of int64
values, computed modulo 2**64 as the test computes s(first); the start at
step k is s(first) + a*step*k modulo 2**64, and s(first) and
s(first) + a*step*(trips - 1) both in [0, n - k] (with trips - 1 <= n, so
that a*step*(trips - 1) cannot wrap) put every step's start in [0, n - k]
without wrapping. Where the test fails every check runs as it did, so the
same IndexError comes from the same step.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.affine import const_int
from looptrace.ir.core import Block, Op, Value, free_values, walk

from .text import literal

# |a * step| at most this: a*step*(trips - 1) with trips - 1 <= n cannot wrap
MAX_SLOPE = 1 << 16

# a start's form: (slope a, {value id: coefficient}, constant); b = sum(coef * value) + constant
Form = tuple[int, dict[int, int], int]


def _is_int64(v: Value) -> bool:
    return v.shape == () and isinstance(v.dtype, np.dtype) and v.dtype == np.int64


def affine_starts(body: Block) -> dict[int, Form]:
    """value id -> (a, terms, c): the value equals a*i + sum(coef * term) + c
    at every iteration, i the body's index, the terms int64 values computed
    before the loop."""
    index = body.args[0]
    outside = {v.id for v in free_values(body) if _is_int64(v) and v.const is None}
    forms: dict[int, Form] = {index.id: (1, {}, 0)}

    def form(v: Value) -> Form | None:
        c = const_int(v)
        if c is not None:
            return (0, {}, c)
        if v.id in outside:
            return (0, {v.id: 1}, 0)
        return forms.get(v.id)

    for op in walk(body):
        if op.prim.name not in ("add", "subtract", "multiply") or not _is_int64(op.out):
            continue
        fs = [form(v) for v in op.inputs]
        if len(fs) != 2 or any(f is None for f in fs):
            continue
        (a1, t1, c1), (a2, t2, c2) = fs
        if op.prim.name in ("add", "subtract"):
            sign = 1 if op.prim.name == "add" else -1
            terms = dict(t1)
            for k, m in t2.items():
                terms[k] = terms.get(k, 0) + sign * m
            forms[op.out.id] = (a1 + sign * a2, {k: m for k, m in terms.items() if m}, c1 + sign * c2)
        else:  # by a constant only
            if not t2 and a2 == 0:
                k = c2
                forms[op.out.id] = (a1 * k, {t: m * k for t, m in t1.items() if m * k}, c1 * k)
            elif not t1 and a1 == 0:
                k = c1
                forms[op.out.id] = (a2 * k, {t: m * k for t, m in t2.items() if m * k}, c2 * k)
    return forms


def checked_starts(body: Block) -> list[tuple[Value, int, int]]:
    """(start, axis length, slice size) of the dynamic slices and updates in
    the body (nested blocks too) whose axis length is static."""
    found = []
    for op in walk(body):
        name = op.prim.name
        if name == "dynamic_slice":
            sizes = op.attrs["sizes"]
        elif name == "dynamic_update_slice":
            sizes = op.inputs[1].shape
        else:
            continue
        x = op.inputs[0]
        starts = op.inputs[2:] if name == "dynamic_update_slice" else op.inputs[1:]
        for axis, (s, k) in enumerate(zip(starts, sizes)):
            n = x.shape[axis]
            if isinstance(n, int) and isinstance(k, int) and s.const is None:
                found.append((s, n, k))
    return found


def _text(form: Form, em, at: str, values: dict[int, Value]) -> str:
    """a*at + sum(coef * term) + c as source text (int64 arithmetic)."""
    a, terms, c = form
    parts = [(a, at)] + [(m, em.name(values[t])) for t, m in sorted(terms.items())]
    text = " + ".join(x if m == 1 else f"{literal(m, np.dtype(np.int64))} * {x}" for m, x in parts if m)
    return f"({text} + {literal(c, np.dtype(np.int64))})" if c else f"({text})"


def plan_guard(em, op: Op) -> tuple[str, list[str]] | None:
    """For a counted loop with a constant step: the guard variable and the
    tests it needs (None when no start of the body qualifies); registers
    each guarded (start, n, size) in `em.guarded`."""
    start, stop, step = op.inputs[:3]
    by = const_int(step)
    if by is None or by == 0:
        return None
    (body,) = op.blocks
    forms = affine_starts(body)
    wanted = []
    for s, n, k in checked_starts(body):
        f = forms.get(s.id)
        if f is None or f[0] == 0 or abs(f[0] * by) > MAX_SLOPE or n < k:
            continue
        if em.start_in_bounds(s, str(n), k) is not None or (s.id, str(n), str(k)) in em.guarded:
            continue
        wanted.append((s, n, k, f))
    if not wanted:
        return None
    values = {v.id: v for v in free_values(body)}
    ok, trips = em.fresh("ok"), em.fresh("nt")
    bounds = f"{em.name(start)}, {em.name(stop)}, {by}"
    tests, seen = [], set()
    for s, n, k, f in wanted:
        key = (s.id, str(n), str(k))
        em.guarded[key] = ok
        if key in seen:
            continue
        seen.add(key)
        first = _text(f, em, f"np.int64({em.name(start)})", values)
        span = f"{f[0] * by} * ({trips} - 1)"
        tests.append(f"np.uint64({first}) <= np.uint64({n - k})")
        tests.append(f"np.uint64({first} + {span}) <= np.uint64({n - k})")
        tests.append(f"np.uint64({trips} - 1) <= np.uint64({n})")
    lines = [f"{trips} = trip_count({bounds})",
             f"{ok} = {trips} <= 0 or ({' and '.join(dict.fromkeys(tests))})"]
    return ok, lines
