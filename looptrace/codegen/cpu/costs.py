"""What one element of a loop nest costs on this target, for the decision to
run the nest on several threads (emitter.PARALLEL_MIN_WORK is in element-ops
of about one instruction each).

A nest's work is the elements it touches (planning/fusion.py `nest_work`)
times a factor for its costly operations: 1 plus, for each op, its cost per
element in cheap-op units minus one. A nest of cheap ops keeps factor 1.
Costs, measured serial on this machine over 10^6 float64 elements
(ns/element): add, multiply, divide, sqrt, floor about 0.7-1 (memory-bound);
exp, log, tanh 2.9-4.5 (the branch-free SIMD versions of mathlib.py); sin,
arctan, power 15-21 (libm calls, one element at a time). So a 360,000
element map of sqrt, exp and sin (6 ms serial) now goes parallel, while a
copy or an add stays serial until far more elements.

Invariant: a factor is >= 1, so weighting only ever moves a nest towards
threads, never a cheap nest away from them.
"""
from __future__ import annotations

from looptrace.codegen.planning.fusion import BlockPlan, nest_ops
from looptrace.ir.core import Op

MATHLIB = 4  # exp, log, tanh, expm1, log1p: vectorized polynomial versions (mathlib.py)
LIBM = 16  # a call per element that LLVM cannot vectorize

ELEMENT_COST = {
    **dict.fromkeys(("exp", "log", "tanh", "expm1", "log1p"), MATHLIB),
    **dict.fromkeys(("sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh",
                     "arcsinh", "arccosh", "arctanh", "power", "cbrt", "exp2", "log2", "log10", "hypot",
                     "erf", "erfc", "gamma", "lgamma", "digamma", "trigamma", "logaddexp", "fmod",
                     "remainder"), LIBM),
}


def element_cost(op: Op) -> int:
    """Cost of one element of op, in cheap-op units (1 for anything not listed)."""
    return ELEMENT_COST.get(op.prim.name, 1) if op.prim.elementwise else 1


def cost_factor(root: Op, plan: BlockPlan) -> int:
    """How many cheap element-ops one element of root's nest is worth."""
    return 1 + sum(element_cost(o) - 1 for o in nest_ops(root, plan))
