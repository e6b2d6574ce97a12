"""Special functions that generated CPU kernels call (ops/special.py lowers
to them): thin wrappers of Numba's `math.erf`, `erfc`, `gamma`, `lgamma`, and
digamma / trigamma written out here, since Numba has neither.

digamma(x): for x <= 0 the reflection psi(x) = psi(1 - x) - pi / tan(pi x)
(with pi x reduced by its integer part first, so large |x| keeps its
accuracy); the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10; then the
asymptotic series ln x - 1/(2x) - sum B_2k / (2k x^2k) to x^-14, whose first
omitted term is below 5e-17 there. trigamma(x) likewise: reflection
psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x), recurrence psi1(x) = psi1(x+1) +
1/x^2, series 1/x + 1/(2x^2) + sum B_2k / x^(2k+1). Both agree with
scipy.special to ~1e-15 relative (absolutely near digamma's root at 1.4616),
tests/codegen/test_specialfn.py. Poles: nan at the non-positive integers
(scipy gives -inf/+inf at 0 for digamma/trigamma: so do these, by the sign
of zero), nan for nan and -inf.

Invariant: every function is `@njit(cache=True, inline="always",
error_model="numpy")`, with no global state, like templates.py's.
"""
from __future__ import annotations

import math

import numba

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


@numba.njit(**_JIT)
def _cot_pi(x):
    """cot(pi x) with the argument reduced exactly to (-1/2, 1/2]."""
    r = x - math.floor(x + 0.5)
    return 1.0 / math.tan(math.pi * r)


@numba.njit(**_JIT)
def digamma(x):
    x = float(x)
    if math.isnan(x) or x == -math.inf:
        return math.nan
    if x == math.inf:
        return math.inf
    if x == 0.0:
        return -math.inf if math.copysign(1.0, x) > 0 else math.inf
    acc = 0.0
    if x < 0.0:
        if x == math.floor(x):
            return math.nan
        acc = -math.pi * _cot_pi(x)
        x = 1.0 - x
    while x < 10.0:
        acc -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (
        -1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12)))))))
    return acc + (math.log(x) - 0.5 / x + series)


@numba.njit(**_JIT)
def trigamma(x):
    x = float(x)
    if math.isnan(x) or x == -math.inf:
        return math.nan
    if x == math.inf:
        return 0.0
    if x == 0.0:
        return math.inf
    acc = 0.0
    sign = 1.0
    if x < 0.0:
        if x == math.floor(x):
            return math.nan
        s = math.sin(math.pi * (x - math.floor(x + 0.5)))
        acc = math.pi * math.pi / (s * s)
        sign = -1.0
        x = 1.0 - x
    small = 0.0
    while x < 10.0:
        small += 1.0 / (x * x)
        x += 1.0
    f = 1.0 / (x * x)
    tail = 1.0 / 6 + f * (-1.0 / 30 + f * (1.0 / 42 + f * (-1.0 / 30 + f * (
        5.0 / 66 + f * (-691.0 / 2730 + f * (7.0 / 6))))))
    series = (1.0 + (0.5 + tail / x) / x) / x
    return acc + sign * (small + series)
