"""Scalar algorithms every code-generating target compiles for itself.

Plain Python on `math` (and NumPy's scalar types, for gcd/lcm's uint64),
so that one definition serves Numba's CPU
target (`numba.njit(...)(digamma)`, codegen/cpu/specialfn.py) and numba.cuda
(`jit(device=True)(digamma)`, codegen/cuda/module.py), and the two targets
give the same bits.

digamma(x): for x <= 0 the reflection psi(x) = psi(1 - x) - pi cot(pi x),
with x reduced first to r in (-1/2, 1/2] with x - r an integer, exactly,
so large |x| keeps its accuracy;
the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10; then the asymptotic
series ln x - 1/(2x) - sum B_2k / (2k x^2k) to x^-14, whose first omitted
term is below 5e-17 there. trigamma(x) likewise: reflection
psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x), recurrence psi1(x) = psi1(x + 1)
+ 1/x^2, series 1/x + 1/(2x^2) + sum B_2k / x^(2k+1). Both agree with
scipy.special to ~1e-15 relative (absolutely near digamma's root at 1.4616),
tests/codegen/test_specialfn.py. Poles: nan at the negative integers, at 0
digamma is -inf/+inf by the sign of zero and trigamma +inf (as scipy); nan
for nan and -inf.

gcd(a, b) / lcm(a, b): np.gcd and np.lcm of integers of one dtype
(tests/tracer/test_np_bincount_gcd.py compares them with NumPy on every
integer width, at the extremes).

Invariant: no function here calls another (a compiled function cannot call
a plain one, so the reduction is written in each), and none
converts a float to an integer (math.floor would, overflowing past 2**63):
integers are recognized by the float remainder, which Numba, numba.cuda and
Python compute alike (`%` on floats; Numba's CPU target has no math.fmod).
"""
from __future__ import annotations

import math

import numpy as np


def digamma(x):
    x = x * 1.0
    if math.isnan(x) or x == -math.inf:
        return math.nan
    if x == math.inf:
        return math.inf
    if x == 0.0:
        return -math.inf if math.copysign(1.0, x) > 0 else math.inf
    acc = 0.0
    if x < 0.0:
        # r in (-1/2, 1/2] with x - r an integer, exactly: x % 1.0 is exact for
        # |x| >= 1 (a multiple of x's ulp, at least 2**-52), each +-1 is exact
        r = x % 1.0 if x <= -1.0 else x
        if r > 0.5:
            r -= 1.0
        elif r <= -0.5:
            r += 1.0
        if r == 0.0:
            return math.nan
        acc = -math.pi / math.tan(math.pi * r)
        x = 1.0 - x
    while x < 10.0:
        acc -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (
        -1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12)))))))
    return acc + (math.log(x) - 0.5 / x + series)


def trigamma(x):
    x = x * 1.0
    if math.isnan(x) or x == -math.inf:
        return math.nan
    if x == math.inf:
        return 0.0
    if x == 0.0:
        return math.inf
    acc = 0.0
    sign = 1.0
    if x < 0.0:
        # r in (-1/2, 1/2] with x - r an integer, exactly: x % 1.0 is exact for
        # |x| >= 1 (a multiple of x's ulp, at least 2**-52), each +-1 is exact
        r = x % 1.0 if x <= -1.0 else x
        if r > 0.5:
            r -= 1.0
        elif r <= -0.5:
            r += 1.0
        if r == 0.0:
            return math.nan
        s = math.sin(math.pi * r)
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


def gcd(a, b):
    """np.gcd of two integers of one dtype: Euclid on |a| and |b| as uint64,
    so |INT64_MIN| = 2**63 is a value (NumPy's npy_gcd computes in the
    unsigned type of the width; the result, cast back by the caller, is
    INT_MIN for gcd(INT_MIN, 0), as NumPy's). |a| of a negative a is
    -(a + 1) + 1, which never overflows the signed type and needs no
    wrapping cast (the CUDA simulator runs this on NumPy scalars, which
    refuse to wrap a negative into uint64)."""
    x = np.uint64(a) if a >= 0 else np.uint64(-(a + 1)) + np.uint64(1)
    y = np.uint64(b) if b >= 0 else np.uint64(-(b + 1)) + np.uint64(1)
    while x != 0:
        x, y = y % x, x
    return y


def lcm(a, b):
    """np.lcm: |a| // gcd * |b| in uint64, wrapping as NumPy's unsigned
    product does; 0 when either is 0. Euclid is written out again here
    (a compiled function cannot call a plain one)."""
    x = np.uint64(a) if a >= 0 else np.uint64(-(a + 1)) + np.uint64(1)
    y = np.uint64(b) if b >= 0 else np.uint64(-(b + 1)) + np.uint64(1)
    p, q = x, y
    while p != 0:
        p, q = q % p, p
    if q == 0:
        return q
    return x // q * y
