"""Special functions that generated CPU kernels call (ops/special.py lowers
to them): thin wrappers of Numba's `math.erf`, `erfc`, `gamma`, `lgamma`, and
digamma / trigamma, which Numba has neither of: compiled here from
codegen/scalar_algorithms.py, whose definitions the cuda target compiles too.

Invariant: every function is `@njit(cache=True, inline="always",
error_model="numpy")`, with no global state, like templates.py's.
"""
from __future__ import annotations

import math

import numba

from looptrace.codegen import scalar_algorithms

_JIT = {"cache": True, "inline": "always", "error_model": "numpy"}


@numba.njit(**_JIT)
def math_erf(x):
    return math.erf(x)


@numba.njit(**_JIT)
def math_erfc(x):
    return math.erfc(x)


@numba.njit(**_JIT)
def math_gamma(x):
    return math.gamma(x)


@numba.njit(**_JIT)
def math_lgamma(x):
    return math.lgamma(x)


digamma = numba.njit(**_JIT)(scalar_algorithms.digamma)
trigamma = numba.njit(**_JIT)(scalar_algorithms.trigamma)
