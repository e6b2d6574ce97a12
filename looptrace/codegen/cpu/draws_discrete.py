"""Numba helpers for Generator.poisson and Generator.binomial, which kernels
call through templates.py (codegen/cpu/random.py writes the calls).

These are NumPy's algorithms (numpy/random/src/distributions/distributions.c:
random_poisson's multiplication method below lam = 10 and Hoermann's PTRS
from there; random_binomial's inversion where min(p, 1 - p) * n <= 30 and
Kachitvichyanukul and Schmeiser's BTPE otherwise, on min(p, 1 - p) and then
flipped), written again for Numba on the caller's own bit generator: each
uniform is `next_double`, each operation is the C code's in its order, so
the values and the generator's final state equal NumPy's
(tests/tracer/test_random_poisson_binomial.py). NumPy's per-Generator
binomial cache only memoizes the setup constants that (n, p) decide: here
they are recomputed per draw, which changes no value.

The parameters were checked by the tracer (lam in [0, POISSON_LAM_MAX],
n >= 0, p in [0, 1]): the draws never raise. They are compiled with NumPy's
error model (a division by zero is IEEE's, as in C, not a ZeroDivisionError:
PTRS divides by 0.5 - |U| with U = -0.5 once in 2**53 draws).

Invariant: every helper is `@njit(cache=True)` with no global state, as in
templates.py; the algorithms are inlined into the kernel-facing helpers
(`poisson_*`, `binomial_*`), which kernels call.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba.core import types
from numba.extending import overload
from numpy.lib import NumpyVersion
from numba.np.random.generator_core import next_double

from looptrace.codegen.cpu.helper import kernel_helper

# NumPy 2.5 corrected BTPE's Stirling terms (numpy#31238: 13860, the last two subtracted; before,
# 13680 and all four added): kernels pass the running NumPy's choice, written into their source (so
# a kernel compiled under another NumPy is another kernel)
BTPE_CORRECTED = NumpyVersion(np.__version__) >= "2.5.0rc1"
_LOGGAM_A = (8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04, -5.952380952380952e-04,
             8.417508417508418e-04, -1.917526917526918e-03, 6.410256410256410e-03, -2.955065359477124e-02,
             1.796443723688307e-01, -1.39243221690590e+00)


def _kernel_helper(fn):
    """helper.kernel_helper with NumPy's error model: cached on disk, no
    CPython or C wrapper, typed on the arguments' unliteral types (one
    version per rank, not per shape)."""
    return kernel_helper(fn, error_model="numpy")


_inline = numba.njit(cache=True, inline="always", error_model="numpy")


# --- Poisson ----------------------------------------------------------------------------------------
@_inline
def _loggam(x):
    """random_loggam: log(gamma(x)) for x >= 1 (SPECFUN's series)."""
    if x == 1.0 or x == 2.0:
        return 0.0
    n = np.int64(7 - x) if x < 7.0 else np.int64(0)
    x0 = x + n
    x2 = (1.0 / x0) * (1.0 / x0)
    gl0 = _LOGGAM_A[9]
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += _LOGGAM_A[k]
    gl = gl0 / x0 + 0.5 * 1.8378770664093453 + (x0 - 0.5) * math.log(x0) - x0
    if x < 7.0:
        for _ in range(n):
            gl -= math.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@_inline
def _poisson_mult(gen, lam):
    """random_poisson_mult: the count of uniforms whose running product stays above exp(-lam)."""
    enlam = math.exp(-lam)
    x = np.int64(0)
    prod = 1.0
    while True:
        prod *= next_double(gen.bit_generator)
        if prod > enlam:
            x += 1
        else:
            return x


@_inline
def _poisson_ptrs(gen, lam):
    """random_poisson_ptrs: Hoermann's transformed rejection, lam >= 10."""
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = next_double(gen.bit_generator) - 0.5
        v = next_double(gen.bit_generator)
        us = 0.5 - abs(u)
        k = np.int64(np.floor((2 * a / us + b) * u + lam + 0.43))
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= \
                (-lam + np.float64(k) * loglam - _loggam(np.float64(k) + 1)):
            return k


@_inline
def _poisson(gen, lam):
    """random_poisson."""
    if lam >= 10:
        return _poisson_ptrs(gen, lam)
    if lam == 0:
        return np.int64(0)
    return _poisson_mult(gen, lam)


# --- binomial ---------------------------------------------------------------------------------------
@_inline
def _binomial_inversion(gen, n, p):
    """random_binomial_inversion, p <= 0.5 and n * p <= 30."""
    q = 1.0 - p
    qn = math.exp(n * math.log1p(-p))
    np_ = n * p
    bound = np.int64(min(np.float64(n), np_ + 10.0 * math.sqrt(np_ * q + 1)))
    x = np.int64(0)
    px = qn
    u = next_double(gen.bit_generator)
    while u > px:
        x += 1
        if x > bound:
            x = np.int64(0)
            px = qn
            u = next_double(gen.bit_generator)
        else:
            u -= px
            px = (np.float64(n - x + 1) * p * px) / (x * q)
    return x


@_inline
def _binomial_f(a, s, lo, hi):
    """The product of (a / i - s) over i in (lo, hi] (BTPE's step 50)."""
    f = 1.0
    for i in range(lo + 1, hi + 1):
        f *= a / i - s
    return f


@_inline
def _stirling_tail(x, first):
    """(first - (462 - (132 - (99 - 140 / x^2) / x^2) / x^2) / x^2) / x / 166320, as BTPE writes it."""
    x2 = x * x
    return (first - (462. - (132. - (99. - 140. / x2) / x2) / x2) / x2) / x / 166320.


@_inline
def _btpe_accept_squeeze(n, r, q, m, xm, y, v, nrq, corrected):
    """BTPE's steps 50 and 52 for a candidate y: True to accept, False to draw again."""
    k = abs(y - m)
    if not (k > 20 and k < nrq / 2.0 - 1):
        s = r / q
        a = s * (n + 1)
        if m < y:
            f = _binomial_f(a, s, m, y)
        elif m > y:
            f = _binomial_f_div(a, s, y, m)
        else:
            f = 1.0
        return not (v > f)
    rho = (k / nrq) * ((k * (k / 3.0 + 0.625) + 0.16666666666666666) / nrq + 0.5)
    t = -k * k / (2 * nrq)
    big_a = math.log(v)
    if big_a < t - rho:
        return True
    if big_a > t + rho:
        return False
    x1 = np.float64(y) + 1
    f1 = np.float64(m) + 1
    z = np.float64(n) + 1 - np.float64(m)
    w = np.float64(n) - np.float64(y) + 1
    first, sign = (13860., -1.0) if corrected else (13680., 1.0)  # (adding -t is subtracting t, exactly)
    bound = (xm * math.log(f1 / x1) + (n - m + 0.5) * math.log(z / w) + (y - m) * math.log(w * r / (x1 * q))
             + _stirling_tail(f1, first) + _stirling_tail(z, first) + sign * _stirling_tail(x1, first)
             + sign * _stirling_tail(w, first))
    return not (big_a > bound)


@_inline
def _binomial_f_div(a, s, lo, hi):
    """1 divided by each (a / i - s) over i in (lo, hi], in turn (BTPE's step 50 for y < m)."""
    f = 1.0
    for i in range(lo + 1, hi + 1):
        f /= a / i - s
    return f


@_inline
def _binomial_btpe(gen, n, p, corrected):
    """random_binomial_btpe, p <= 0.5 and n * p > 30."""
    r = min(p, 1.0 - p)
    q = 1.0 - r
    fm = n * r + r
    m = np.int64(np.floor(fm))
    p1 = np.floor(2.195 * math.sqrt(n * r * q) - 4.6 * q) + 0.5
    xm = m + 0.5
    xl = xm - p1
    xr = xm + p1
    c = 0.134 + 20.5 / (15.3 + m)
    a = (fm - xl) / (fm - xl * r)
    laml = a * (1.0 + a / 2.0)
    a = (xr - fm) / (xr * q)
    lamr = a * (1.0 + a / 2.0)
    p2 = p1 * (1.0 + 2.0 * c)
    p3 = p2 + c / laml
    p4 = p3 + c / lamr
    nrq = n * r * q
    while True:
        u = next_double(gen.bit_generator) * p4
        v = next_double(gen.bit_generator)
        if u <= p1:  # step 10: the triangle, accepted at once
            return np.int64(np.floor(xm - p1 * v + u))
        if u <= p2:  # step 20: the parallelograms
            x = xl + (u - p1) / c
            v = v * c + 1.0 - abs(m - x + 0.5) / p1
            if v > 1.0:
                continue
            y = np.int64(np.floor(x))
        elif u <= p3:  # step 30: the left tail
            y = np.int64(np.floor(xl + math.log(v) / laml))
            if y < 0 or v == 0.0:
                continue
            v = v * (u - p2) * laml
        else:  # step 40: the right tail
            y = np.int64(np.floor(xr - math.log(v) / lamr))
            if y > n or v == 0.0:
                continue
            v = v * (u - p3) * lamr
        if _btpe_accept_squeeze(n, r, q, m, xm, y, v, nrq, corrected):
            return y


@_inline
def _binomial(gen, n, p, corrected):
    """random_binomial: 0 for n == 0 or p == 0; the smaller of p and 1 - p drawn, flipped where p > 0.5.
    Each algorithm written once (NumPy's code calls each for p and for 1 - p: inlined so, twice,
    they were twice the compile, 6.7 s of a machine's first binomial_draw)."""
    if n == 0 or p == 0.0:
        return np.int64(0)
    r = p if p <= 0.5 else 1.0 - p
    if r * n <= 30.0:
        x = _binomial_inversion(gen, n, r)
    else:
        x = _binomial_btpe(gen, n, r, corrected)
    return x if p <= 0.5 else n - x


# --- what kernels call ------------------------------------------------------------------------------
@_kernel_helper
def poisson_draw(gen, lam):
    """gen.poisson(lam) of a float64 lam, as an int64."""
    return _poisson(gen, lam)


@_kernel_helper
def binomial_draw(gen, n, p, corrected):
    """gen.binomial(n, p) of an int64 n and a float64 p (`corrected`: BTPE_CORRECTED)."""
    return _binomial(gen, np.int64(n), p, corrected)


@_kernel_helper
def poisson_draws(gen, lam, size):
    """gen.poisson(lam, size) of a flat draw: `lam` a float64, or a flat array
    of one lam per draw or one for all (codegen/cpu/random.py passes every
    parameter of a draw as a scalar where all are, else flat: two versions
    of this helper for all shapes, where each kind of parameter and each rank
    was one, some 5 s of a first compile each)."""
    out = np.empty(size, np.int64)
    step = _step(lam)
    for i in range(size):
        out[i] = _poisson(gen, _at(lam, i * step))
    return out


@_kernel_helper
def binomial_draws(gen, n, p, size, corrected):
    """gen.binomial(n, p, size) of a flat draw: n (int64) and p (float64) both
    scalars (whose setup LLVM computes once, out of the loop: 7 ms for 2*10^5
    BTPE draws, 11-13 ms read from arrays) or both flat arrays, each of one
    value per draw or one for all (as poisson_draws)."""
    out = np.empty(size, np.int64)
    step_n, step_p = _step(n), _step(p)
    for i in range(size):
        out[i] = _binomial(gen, np.int64(_at(n, i * step_n)), _at(p, i * step_p), corrected)
    return out


def _step(x):
    """How far a flat parameter moves per draw: 1, or 0 for one value for
    all draws (an array of one, or a scalar)."""


@overload(_step, inline="always")
def _ov_step(x):
    if isinstance(x, types.Array):
        return lambda x: 1 if x.size > 1 else 0
    return lambda x: 0


def _at(x, k):
    """x[k] of a flat parameter, or the scalar itself."""


@overload(_at, inline="always")
def _ov_at(x, k):
    if isinstance(x, types.Array):
        return lambda x, k: x[k]
    return lambda x, k: x


from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
