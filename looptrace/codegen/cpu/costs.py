"""What one element of a loop nest costs on this target, for the decision to
run the nest on several threads (emitter.PARALLEL_MIN_WORK is in element-ops
of about one instruction each).

A nest's work is the elements it touches (planning/fusion.py `nest_work`)
times a factor for its costly operations: 1 plus, for each op, its cost per
element in cheap-op units minus one. A nest of cheap ops keeps factor 1.
Costs, measured serial on this machine over 10^6 float64 elements
(ns/element): add, multiply, divide, sqrt, floor about 0.7-1 (memory-bound);
exp, log, tanh 2.9-4.5 (the branch-free SIMD versions of mathlib.py); sin,
arctan, power 15-21 (libm calls, one element at a time; weighted 24). So a
360,000 element map of sqrt, exp and sin (6 ms serial) now goes parallel,
while a copy or an add stays serial until far more elements.

A chain of gathers where each index comes from an earlier gather of the
same element is neither memory-bound nor vectorized (np.searchsorted and
np.interp were one, n.bit_length() unrolled halvings of a gather,
comparisons and selects, until searchsorted became a primitive of its own
with a binary search per element: codegen/cpu/sort.py): 160 ops whose loads
wait on each other. np.interp of 10^6 points into 1000 took 110 ms serial
(110 ns an element, about 0.7 ns an op) and 53-64 ms on 2 threads
(2026-12-03), while its factor was 1 and its 10^6 elements stayed under the
threshold. So in a nest with such a chain, the cheap ops past the first
CHEAP_FREE count too, CHEAP_PER_UNIT of them a unit. Elsewhere they do not:
LLVM vectorizes a chain of cheap arithmetic across elements (a 16-tap moving
sum of 10^6 counted so went threaded: 2.8 -> 4.8 ms). A nest that gathers
at an index it computes (an image sampled at rounded coordinates) is not
vectorized either: there GATHER_CHEAP_PER_UNIT cheap ops make a unit.

Invariant: a factor is >= 1, so weighting only ever moves a nest towards
threads, never a cheap nest away from them.
"""
from __future__ import annotations

import numpy as np

from looptrace.codegen.planning.fusion import BlockPlan, nest_ops
from looptrace.ir.core import Op

from .scalar import MORE_MATHLIB

MORE_MATHLIB_NAMES = frozenset(name for name, _ in MORE_MATHLIB)

MATHLIB = 4  # exp, log, tanh, expm1, log1p, |complex|: vectorized versions (mathlib.py)
# a call per element that LLVM cannot vectorize: 15-21 ns against 0.7-1 ns for an add, 15-30
# units. 16 kept numpy-benchmarks' arc_distance (10^4 elements of sin, cos, arctan2: 0.5 ms
# serial, 0.28 ms on 2 threads, NumPy 0.40 ms) just under the threshold.
LIBM = 24

ELEMENT_COST = {
    **dict.fromkeys(("exp", "log", "tanh", "expm1", "log1p"), MATHLIB),
    **dict.fromkeys(("sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh",
                     "arcsinh", "arccosh", "arctanh", "power", "cbrt", "exp2", "log2", "log10", "hypot",
                     "erf", "erfc", "gamma", "lgamma", "digamma", "trigamma", "logaddexp", "fmod",
                     "remainder"), LIBM),
}


# Integer division and remainder are no libm call: by a constant LLVM turns
# them into a multiply and shifts (about an add: `(i + j) % 2` over 512x512
# int64 took 0.086 ms against 0.051 for the add alone), by a variable they are
# one hardware division per element (0.65 ms: about 3 units). Float fmod and
# remainder are libm calls (5.9 ms).
INT_DIVISION = ("remainder", "fmod", "floor_divide")
INT_DIVISION_BY_VARIABLE = 3


def element_cost(op: Op) -> int:
    """Cost of one element of op, in cheap-op units (1 for anything not listed)."""
    if not op.prim.elementwise:
        return 1
    if op.prim.name in INT_DIVISION and all(getattr(u.dtype, "kind", "O") in "iub" for u in op.inputs):
        return 1 if op.inputs[-1].is_const else INT_DIVISION_BY_VARIABLE
    if op.prim.name == "absolute" and getattr(op.inputs[0].dtype, "kind", "O") == "c":
        return MATHLIB  # mathlib.py's cabs: a divide and two square roots, vectorized
    if op.prim.name in ("hypot", "arctan2") and all(u.dtype == np.float64 for u in op.inputs):
        return MATHLIB  # mathlib.py's too (scalar.py): 0.5 and 3.1 ns an element, vectorized
    if op.prim.name in MORE_MATHLIB_NAMES and (op.prim.name, getattr(op.inputs[0].dtype, "name", "")) in MORE_MATHLIB:
        return MATHLIB  # mathlib_exp.py / mathlib_trig.py: vectorized (scalar.py)
    if op.prim.name == "power" and _small_power(op):
        return 1  # x ** 3, x ** 4 of floats are two or three multiplies (scalar.py small_power), not pow:
        # weighted as pow, numba-benchmark's `a ** 3` over 10^5 went threaded at 110 us, serial 60-70
    return ELEMENT_COST.get(op.prim.name, 1)


def _small_power(op: Op) -> bool:
    """A float power the CPU backend writes as products or 1 / x (scalar.py `small_power`)."""
    x, e = op.inputs[0], op.inputs[1]
    if not e.is_const or e.ndim or getattr(x.dtype, "kind", "O") != "f" or getattr(op.out.dtype, "kind", "O") != "f":
        return False
    return float(e.const) in (3.0, 4.0) or (float(e.const) == -1.0 and x.dtype == op.out.dtype)


# the cheap ops a nest holds for free (a memory-bound map of a few ops), and how
# many further ones make a unit
CHEAP_FREE = 8
CHEAP_PER_UNIT = 4


# A nest that gathers at an index it computes itself from arithmetic (an image
# sampled at rounded coordinates, np.roll's wrapped shifts) is not a
# memory-bound chain that LLVM vectorizes either: corpus affine_warp_bilinear,
# 66 cheap ops and 4 such gathers a pixel, took 1.66 ms serial over 500 x 500
# (6.6 ns a pixel, about 8 of its ops a unit), 0.83 ms on 2 threads, njit
# 1.27 (2026-12-06, load 1.4; bench/parallel_work.py). Its loads do not wait
# on each other (no `_chases`), so its ops overlap: twice as many a unit.
GATHER_CHEAP_PER_UNIT = 8


def cost_factor(root: Op, plan: BlockPlan) -> int:
    """How many cheap element-ops one element of root's nest is worth."""
    ops = nest_ops(root, plan)
    costs = [element_cost(o) for o in ops]
    factor = 1 + sum(c - 1 for c in costs)
    per_unit = CHEAP_PER_UNIT if _chases(ops, plan) else GATHER_CHEAP_PER_UNIT if _computed_gather(ops, plan) else 0
    if per_unit:
        computed = sum(1 for o, c in zip(ops, costs) if c == 1 and not o.prim.view and o.prim.name != "broadcast_to")
        factor += max(0, computed - CHEAP_FREE) // per_unit
    return factor


def _computed_gather(ops: list[Op], plan: BlockPlan) -> bool:
    """Does a gather of the nest read at an index computed inside the nest
    (not a view of an array or a loop index)?"""
    inside = {id(o) for o in ops}
    return any(o.prim.name == "gather" and any(id(p) in inside and not p.prim.view
                                               for p in _producers(o, plan, index_only=True)) for o in ops)


def _chases(ops: list[Op], plan: BlockPlan) -> bool:
    """Does a gather of the nest read at an index computed, inside the nest,
    from another gather (a search: loads that wait on loads)?"""
    inside = {id(o) for o in ops}
    after_gather: dict[int, bool] = {}  # id(op) -> its value depends on a gather in the nest

    def depends(o: Op) -> bool:
        stack, order, queued = [o], [], set()
        while stack:  # producers first, without recursion (chains are long)
            x = stack.pop()
            if id(x) in after_gather or id(x) in queued:
                continue
            queued.add(id(x))
            order.append(x)
            stack.extend(p for p in _producers(x, plan) if id(p) in inside)
        for x in reversed(order):
            after_gather[id(x)] = x.prim.name == "gather" or any(
                after_gather.get(id(p), False) for p in _producers(x, plan) if id(p) in inside)
        return after_gather[id(o)]

    return any(o.prim.name == "gather" and any(depends(p) for p in _producers(o, plan, index_only=True)
                                               if id(p) in inside) for o in ops)


def _producers(o: Op, plan: BlockPlan, index_only: bool = False) -> list[Op]:
    inputs = o.inputs[1:] if index_only else o.inputs
    return [plan.producer[u.id] for u in inputs if u.id in plan.inlined]
