"""Branch-free exp2, log2, log10, cbrt, sinh, cosh, arcsinh, arccosh and arctanh of
float32/float64 that LLVM can vectorize (mathlib.py's rules: no libm call, no fastmath,
within NumPy's accuracy).

CALLS maps (NumPy ufunc name, dtype name) to the element expression a kernel
uses (scalar.py `_mathlib_call`); costs.py counts those as mathlib's cost,
and templates.py exports `__all__` into every kernel's namespace.

Numba lowers each of these to a libm call per element, which keeps LLVM from
vectorizing the loop (10^6 float64 cbrt: 38 ms, NumPy's SIMD loop 1.1 ms).
The functions here are mathlib.py's kind: multiplies, fused multiply-adds
(`_muladd`), at most a square root and two divides, selects and bit
reinterpretations, each `@njit(cache=True, error_model="numpy")`, the float64
ones `alwaysinline` for LLVM (`_inline_into_callers`: compiled once, inlined
into each kernel loop).

Error bounds, asserted by tests/codegen/test_mathlib_exp_s50.py. float64:
within 1 ulp of the correctly rounded result (measured with mpmath over each
function's ranges: at most 0.50-0.63 ulp from the exact value, 0-1.6% of
results not the correctly rounded one; sinh's and cosh's since session 50:
0.87 ulp, 7% and 13%), so <= 1 ulp from NumPy's AVX-512 loops (measured)
and from glibc's where glibc is itself within 1/2 ulp. glibc's log10, sinh,
arcsinh, arctanh (~1.5 ulp), arccosh (1.8) and cbrt (2.7) are not, and
there ours is up to 2 (cbrt 3) ulp from glibc's (sinh(710.4), cbrt(5e-324) =
2**-358: glibc's one ulp off). float32: <= 1 ulp of the float64 result
rounded (checked over every 17th float32 bit pattern: 0.36% of exp2's
results, 0.29% of sinh's and cosh's (every 97th; 0.56% of those from 2**-126
to 92), < 0.01% of the others' are one ulp from it; log2's and log10's since
session 52: ~4%, every 97th pattern and 10^7 points in [1/2, 2]).

- `log2_f64`, `log10_f64`: fdlibm's reduction x = 2**k * (1 + f) and
  polynomial (mathlib.py `_split_log_arg`), log(1 + f) = hi + lo with
  hi = f - f*f/2 (f - hi exact) and the square's rounding kept, times
  1/ln2 (1/ln10) in double-double, plus k (k*log10(2): a 41-bit part, exact)
  by Fast2Sum, one final rounding: exact at powers of two (of ten).
- `exp2_f64`: x = k + r exactly, e**(r*ln2) with r*ln2 in double-double,
  1 + r + r*r/2 summed in double-double and the Taylor tail to r**14 on top
  (mathlib.py `_exp_r_dd`, pow's), times 2**k in two exact steps (inf from 1024 on, gradual
  underflow rounded once). Exact at integers.
- `cbrt_f64`: 1/cbrt(|x|) from the bits (the high word divided by 3 by a
  multiply, within 3.5%), a third- and a second-order step to ~2**-45,
  t = |x|*y*y, then t + (|x| - t**3)*y*y/3 with t**3 in double-double:
  exact for perfect cubes. Below 2**-800 scaled by 2**180 first, above 2**1000
  by 2**-180.
- `sinh_f64`, `cosh_f64`: |x| = k*ln2 + r (exp's reduction, its rounding
  kept; for sinh k = 0 below 1/2: there it is the Taylor series), e**r and
  e**-r from one series' even and odd parts (no divide), the sum
  e**r +- 2**-2k * e**-r with two roundings, times 2**(k-1) exactly: at most
  0.87 ulp from the exact value (measured with mpmath over 150k arguments in
  session 50; 7% (sinh), 13% (cosh) of results not the correctly rounded
  one, all within 1 ulp of it and of NumPy's); overflow from 710.48 on.
  (Session 50: the double-double exp and its divide took 2.2 ms for 10^6,
  one thread, against NumPy's 1.2; now 1.2 (sinh), 0.96 (cosh).)
- `arcsinh_f64`, `arccosh_f64`, `arctanh_f64`: the log (`_log_hi_lo`, k*ln2
  added exactly) of an argument kept in double-double: |x| + sqrt(x*x +- 1)
  (the square, the sum and the square root each with their rounding),
  (1 + |x|)/(1 - |x|); x itself below 2**-28 (asinh, atanh), log|x| + ln2
  above 2**28 (asinh, acosh).
- float32: exp2, log2, log10 in float32 arithmetic (16 lanes to a zmm
  register): mathlib.py's float32 exp polynomial with the product by ln2 in
  double-float (exact at integers; since session 52 one scaling step, only on
  [-126, 127], the rest out of line: 0.30 -> 0.23 ms, NumPy 0.23); log2 and
  log10 (session 52) as
  k + f*C + f*Q(f) (k*log10(2) in two parts), Q of degree 8, only for a positive
  normal x, the others out of line (log2_f64, log10_f64 rounded; exact at powers
  of two and ten, ~4% of results one ulp from the float64 result rounded, 0.06%
  before; 10^6 elements, one thread: 0.49 -> 0.23, 0.52 -> 0.25 ms, NumPy's SVML
  loops 0.25, 0.23); since session 50 sinh and cosh too,
  sinh_f64's scheme in float32 steps (0.56% of results one ulp from the
  float64 result rounded over [2**-126, 92]; in float64 they were 0.002%, at
  0.88 and 0.68 ms for 10^6, one thread: now 0.53 and 0.40). cbrt, arcsinh,
  arccosh, arctanh in float64 with shorter steps (pow_f32's log2(m); cbrt_f64's
  first steps) and one final rounding.
"""
from __future__ import annotations

import numba
import numpy as np

from looptrace.codegen.cpu.mathlib import (_E0, _E1, _E2, _E3, _E4, _E5, _E6, _HALF_32, _JIT, _JIT_INLINE,
                                           _LG1, _LG2, _LG3, _LG4, _LG5, _LG6, _LG7, _LN2_HI, _LN2_HI_32, _LN2_LO,
                                           _LN2_LO_32, _LOG2E, _LOG2E_32, _MAGIC_32, _MAGIC_BITS, _MAGIC_BITS_32,
                                           _MANTISSA, _MIN_NORMAL, _ONE_32, _Q0, _Q1, _Q2, _Q3, _Q4, _ROUND_MAGIC,
                                           _SQRT_HALF_BITS, _TWO54, _bits, _bits32, _copysign, _fast_two_sum,
                                           _exp_r_dd, _from_bits, _from_bits32, _inline_into_callers, _int32,
                                           _log32_split, _mul_err, _muladd, _pow2, _rare_call, _rare_symbol, _scale,
                                           _split_log_arg, _two_sum)

CALLS: dict[tuple[str, str], str] = {}
__all__: list[str] = []


def _register(ufunc: str, *funcs) -> None:
    """CALLS and __all__ entries for `ufunc`'s float64 and float32 functions."""
    for fn in funcs:
        dtype = "float64" if fn.__name__.endswith("f64") else "float32"
        CALLS[(ufunc, dtype)] = f"{fn.__name__}({{0}})"
        __all__.append(fn.__name__)


_F32 = np.float32
_INV_LN2_HI, _INV_LN2_LO = 1.4426950408889634, 2.0355273740931033e-17
_INV_LN10_HI, _INV_LN10_LO = 0.4342944819032518, 1.098319650216765e-17
_LOG10_2_HI, _LOG10_2_LO = 0.30102999566361177, 3.694239077158931e-13  # hi: 41 bits, k * hi exact
_LN2_FULL, _LN2_TAIL = 0.6931471805599453, 2.3190468138462996e-17  # ln2 rounded, and the rest


# --- log2 and log10 ---------------------------------------------------------------------------------
@numba.njit(**_JIT_INLINE)
def _log_hi_lo(x):
    """(dk, hi, lo) with log(x) = dk*ln2 + hi + lo to ~2**-60 of hi, for a positive normal x:
    fdlibm's log(1 + f) = f - f*f/2 + s*(f*f/2 + R), hi = f - f*f/2 rounded (f - hi is exact:
    Sterbenz) and lo the rest, the square's rounding included."""
    k, f, hx = _split_log_arg(x)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * _muladd(w, _muladd(w, _LG6, _LG4), _LG2)
    r = _muladd(z, _muladd(w, _muladd(w, _muladd(w, _LG7, _LG5), _LG3), _LG1), t1)
    hf = 0.5 * f
    hfsq = hf * f
    hi = f - hfsq
    lo = (((f - hi) - hfsq) - _mul_err(hf, f, hfsq)) + s * (hfsq + r)
    dk = _from_bits(k + _MAGIC_BITS) - _ROUND_MAGIC  # float64(k) without cvtqq2pd
    return dk, hi, lo


@numba.njit(**_JIT_INLINE)
def _log_special(x, y):
    """y (log_b of a positive normal or subnormal x) with the special values: -inf at 0, nan below,
    x itself for inf and nan."""
    y = -np.inf if x == 0.0 else y
    y = np.nan if x < 0.0 else y
    return y if x < np.inf else x


@numba.njit(**_JIT)
def log2_f64(x):
    """np.log2 for a float64, <= 1 ulp; exact at powers of two."""
    _inline_into_callers()
    x = np.float64(x)
    sub = x < _MIN_NORMAL
    dk, hi, lo = _log_hi_lo(x * _TWO54 if sub else x)
    dk = dk - 54.0 if sub else dk
    ph = hi * _INV_LN2_HI
    pl = _mul_err(hi, _INV_LN2_HI, ph) + _muladd(hi, _INV_LN2_LO, lo * _INV_LN2_HI)
    w, e = _fast_two_sum(dk, ph)  # |k| >= 1 > 1/2 >= |ph|, or k = 0
    return _log_special(x, w + (e + pl))


@numba.njit(**_JIT)
def log10_f64(x):
    """np.log10 for a float64, <= 1 ulp; exact at powers of ten."""
    _inline_into_callers()
    x = np.float64(x)
    sub = x < _MIN_NORMAL
    dk, hi, lo = _log_hi_lo(x * _TWO54 if sub else x)
    dk = dk - 54.0 if sub else dk
    ph = hi * _INV_LN10_HI
    pl = _mul_err(hi, _INV_LN10_HI, ph) + _muladd(hi, _INV_LN10_LO, lo * _INV_LN10_HI)
    w, e = _fast_two_sum(dk * _LOG10_2_HI, ph)  # |k*log10(2)| >= 0.301 > 0.151 >= |ph|, or k = 0
    return _log_special(x, w + (e + _muladd(dk, _LOG10_2_LO, pl)))


# --- exp2 -------------------------------------------------------------------------------------------
_EXP2_HI = 1025.0  # 2**1025 overflows: clamping there keeps k small and still gives inf
_EXP2_LO = -1100.0  # 2**-1100 underflows to 0


@numba.njit(**_JIT)
def exp2_f64(x):
    """np.exp2 for a float64, <= 1 ulp: x = k + r (exact, |r| <= 1/2), e**(r*ln2) with r*ln2 in
    double-double (`_exp_r_dd`), times 2**k in two exact steps (one rounding)."""
    _inline_into_callers()
    x = np.float64(x)
    xc = _EXP2_HI if x > _EXP2_HI else x
    xc = _EXP2_LO if xc < _EXP2_LO else xc  # NaN stays
    t = xc + _ROUND_MAGIC
    k = _bits(t) - _MAGIC_BITS
    r = xc - (t - _ROUND_MAGIC)
    th = r * _LN2_FULL
    h, lo = _exp_r_dd(th, _muladd(r, _LN2_TAIL, _mul_err(r, _LN2_FULL, th)))
    return _scale(h + lo, k)


# --- float32 exp2, log2 and log10 in float32 arithmetic ---------------------------------------------
# Sixteen float32 lanes to a zmm register instead of eight float64: mathlib.py's float32 exp
# polynomial (`_E0`..), with the product by ln2 in double-float (its rounding kept by fused
# multiply-adds; on a CPU without FMA that correction is lost: up to ~0.35 ulp more, not measured),
# one final rounding.
_LN2_32 = _F32(_LN2_FULL)
_LN2_TAIL_32 = _F32(_LN2_FULL - float(_LN2_32))
_LOG10_2 = 0.30102999566398120
_LOG10_2_HI_32 = _F32(_LOG10_2 * 2**16 // 1 / 2**16)  # 16 bits: k * it exact for |k| < 2**8
_LOG10_2_TAIL_32 = _F32(_LOG10_2 - float(_LOG10_2_HI_32))


_EXP2_USUAL_LO_32, _EXP2_USUAL_HI_32 = _F32(-126.0), _F32(127.0)  # there 2**k and the result are normal


def _exp2_f32_other(x):
    return _F32(exp2_f64(np.float64(x)))


_exp2_f32_rare = _rare_call(_rare_symbol("looptrace_exp2_f32_other", _exp2_f32_other, kind=numba.types.float32))


@numba.njit(**_JIT_INLINE)
def exp2_f32(x):
    """np.exp2 for a float32 in float32 arithmetic, <= 1 ulp of the float64 result rounded:
    x = k + r (exact), e**(r*ln2) with r*ln2 in double-float (degree-6 polynomial, 2**-29),
    times 2**k in one exact step for -126 <= x <= 127; outside (overflow, gradual underflow, inf,
    NaN) exp2_f64 rounded, out of line. Exact at integers. (Session 52: the clamps and the two-step
    scaling in every lane went; a loop over 10^6, one thread: 0.30 -> 0.23 ms, NumPy 0.23.)"""
    x = _F32(x)
    t = x + _MAGIC_32
    r = x - (t - _MAGIC_32)
    th = r * _LN2_32
    tl = _muladd(r, _LN2_TAIL_32, _muladd(r, _LN2_32, -th))
    p = _muladd(_E6, th, _E5)
    p = _muladd(p, th, _E4)
    p = _muladd(p, th, _E3)
    p = _muladd(p, th, _E2)
    p = _muladd(p, th, _E1)
    p = _muladd(p, th, _E0)
    p = _muladd(p, tl, p)
    y = p * _from_bits32(_int32((_bits32(t) - _MAGIC_BITS_32 + 127) << 23))
    if not ((x >= _EXP2_USUAL_LO_32) & (x <= _EXP2_USUAL_HI_32)):
        y = _exp2_f32_rare(x)
    return y


# log2(1 + f) = f*C + f*Q(f) and log10(1 + f) likewise, C = 1/ln2 (1/ln10) rounded to float32 (f*C exact
# in the fused multiply-add), Q of degree 8 on sqrt(1/2) - 1 <= f < sqrt(2) - 1 (2**-25.2 relative to the
# result; fits of our own as log_f32's, Q(0) absorbing C's rounding). Session 52: the double-float
# products by 1/ln2, 1/ln10 and the selects of the special values went (they are out of line, as for
# log_f32); 10^6 elements, one thread, Zen 4: log2 0.49 -> ~0.25 ms, log10 0.52 -> ~0.26 (NumPy's SVML
# loops 0.24, 0.21).
_LOG2_C = _F32(_INV_LN2_HI)
_LOG2_Q = tuple(_F32(c) for c in (-1.7978209143620916e-08, -0.7213473320007324, 0.4809105694293976,
                                  -0.36070433259010315, 0.28791892528533936, -0.2389364242553711,
                                  0.21568526327610016, -0.20730182528495789, 0.12594321370124817))
_LOG10_C = _F32(_INV_LN10_HI)
_LOG10_Q = tuple(_F32(c) for c in (-2.1312757780833635e-08, -0.21714718639850616, 0.14476852118968964,
                                   -0.1085827499628067, 0.08667175471782684, -0.07192762941122055,
                                   0.06493217498064041, -0.06240386515855789, 0.03790305554866791))


@numba.njit(**_JIT_INLINE)
def _log_poly32(f, c, q):
    """f*c + f*(q[0] + q[1]*f + ... + q[8]*f**8) in float32, Horner in fused multiply-adds."""
    p = _muladd(q[8], f, q[7])
    p = _muladd(p, f, q[6])
    p = _muladd(p, f, q[5])
    p = _muladd(p, f, q[4])
    p = _muladd(p, f, q[3])
    p = _muladd(p, f, q[2])
    p = _muladd(p, f, q[1])
    p = _muladd(p, f, q[0])
    return _muladd(f, c, f * p)


def _log2_f32_other(x):
    return _F32(log2_f64(np.float64(x)))


def _log10_f32_other(x):
    return _F32(log10_f64(np.float64(x)))


_log2_f32_rare = _rare_call(_rare_symbol("looptrace_log2_f32_other", _log2_f32_other, kind=numba.types.float32))
_log10_f32_rare = _rare_call(_rare_symbol("looptrace_log10_f32_other", _log10_f32_other, kind=numba.types.float32))


@numba.njit(**_JIT_INLINE)
def log2_f32(x):
    """np.log2 for a float32 in float32 arithmetic, <= 1 ulp of the float64 result rounded: k +
    log2(1 + f) for a positive normal x (exact at powers of two: f = 0), log2_f64 rounded out of line
    for the others (0, subnormals, negatives, inf, NaN)."""
    x = _F32(x)
    kf, f, usual = _log32_split(x)
    y = kf + _log_poly32(f, _LOG2_C, _LOG2_Q)
    if not usual:
        y = _log2_f32_rare(x)
    return y


@numba.njit(**_JIT_INLINE)
def log10_f32(x):
    """np.log10 for a float32 in float32 arithmetic, <= 1 ulp of the float64 result rounded:
    k*log10(2) (a 16-bit part, k times it exact, and the rest) + log10(1 + f) for a positive normal x
    (exact at the powers of ten a float32 holds), log10_f64 rounded out of line for the others."""
    x = _F32(x)
    kf, f, usual = _log32_split(x)
    t = _muladd(kf, _LOG10_2_TAIL_32, _log_poly32(f, _LOG10_C, _LOG10_Q))
    y = _muladd(kf, _LOG10_2_HI_32, t)
    if not usual:
        y = _log10_f32_rare(x)
    return y


_register("log2", log2_f64, log2_f32)
_register("log10", log10_f64, log10_f32)
_register("exp2", exp2_f64, exp2_f32)


# --- cbrt -------------------------------------------------------------------------------------------
_CBRT_MAGIC = 0x553EF000  # high word of 1/cbrt(x) ~ _CBRT_MAGIC - (high word of x)/3: within 3.5%
_THIRD_MUL = 0xAAAAAAAB  # n // 3 == (n * _THIRD_MUL) >> 33 for 0 <= n < 2**32
_CBRT_TINY = 2.0**-800  # below: scaled by 2**180 (t**3's low part stays normal)
_CBRT_HUGE = 2.0**1000  # above: scaled by 2**-180 (t**3 may round past the largest float64)


@numba.njit(**_JIT_INLINE)
def _inv_cbrt(ax):
    """1/cbrt(ax) to ~2**-45 relative for a positive normal ax: from the bits (|e| < 0.1), then
    a third-order and a second-order step of y *= (1 - e)**(-1/3) = 1 + e/3 + 2e**2/9 + 14e**3/81
    + ..., e = 1 - ax*y**3 (|e| < 5e-5 after the first)."""
    hx = (_bits(ax) >> 32) & 0xFFFFFFFF
    y = _from_bits((_CBRT_MAGIC - ((hx * _THIRD_MUL) >> 33)) << 32)
    e = _muladd(-((ax * y) * y), y, 1.0)
    y = _muladd(y * e, _muladd(e, _muladd(e, 14.0 / 81.0, 2.0 / 9.0), 1.0 / 3.0), y)
    e = _muladd(-((ax * y) * y), y, 1.0)
    return _muladd(y * e, _muladd(e, 2.0 / 9.0, 1.0 / 3.0), y)


@numba.njit(**_JIT)
def cbrt_f64(x):
    """np.cbrt for a float64, <= 1 ulp: t = |x| * y * y from y ~ 1/cbrt|x|, then one
    correction by the remainder |x| - t**3 (t**3 in double-double); exact for perfect cubes,
    cbrt(-0.0) = -0.0, +-inf and nan themselves."""
    _inline_into_callers()
    x = np.float64(x)
    ax = abs(x)
    tiny = ax < _CBRT_TINY
    huge = ax > _CBRT_HUGE
    a = ax * (2.0**180 if tiny else (2.0**-180 if huge else 1.0))
    y = _inv_cbrt(a)
    t = (a * y) * y
    t2 = t * t
    t2l = _mul_err(t, t, t2)
    t3 = t2 * t
    t3l = _muladd(t2l, t, _mul_err(t2, t, t3))
    v = _muladd((a - t3) - t3l, (y * y) * (1.0 / 3.0), t)  # a - t3 exact (Sterbenz)
    v = v * (2.0**-60 if tiny else (2.0**60 if huge else 1.0))
    v = _copysign(v, x)
    return v if (ax > 0.0 and ax < np.inf) else x


@numba.njit(**_JIT)
def cbrt_f32(x):
    """np.cbrt for a float32: |x| * y * y in float64 (y ~ 1/cbrt|x| to ~2**-45), one rounding.
    (In float32 arithmetic, sixteen lanes, with cbrt_f64's correction step in double-float: no
    faster, 0.81 against 0.80 ms for 10^6 on the Zen 4 of bench/README.md, one thread.)"""
    xd = np.float64(x)
    ax = abs(xd)
    y = _inv_cbrt(ax)
    v = _copysign((ax * y) * y, xd)
    return _F32(v if (ax > 0.0 and ax < np.inf) else xd)


_register("cbrt", cbrt_f64, cbrt_f32)


# --- sinh and cosh ----------------------------------------------------------------------------------
_HYP_HI = 711.0  # sinh, cosh overflow from 710.48 on; clamping keeps k <= 1026
_SINH_SMALL = 0.5  # below: sinh's Taylor series (above, e**x - e**-x cancels at most 1.6 bits)


@numba.njit(**_JIT_INLINE)
def _hyp_parts(ax, odd15):
    """(k, r, rl, e, o) for 0 <= ax (or NaN): ax = k*ln2 + r + rl (exp's reduction, r's rounding
    kept; k = 0 below 1/2 if odd15), e = E - 1 and o = O - r from the even part E (to r**14) and
    the odd part O (to r**13, r**15 if odd15: |r| < 1/2) of e**r's Taylor series, so that
    e**(r + rl) = (E + O)*(1 + rl) and e**-(r + rl) = (E - O)*(1 - rl) to ~2**-62."""
    ax = _HYP_HI if ax > _HYP_HI else ax
    t = _muladd(ax, _LOG2E, _ROUND_MAGIC)
    t = _ROUND_MAGIC if (odd15 and ax < _SINH_SMALL) else t
    kf = t - _ROUND_MAGIC
    k = _bits(t) - _MAGIC_BITS
    r, rl = _fast_two_sum(_muladd(-kf, _LN2_HI, ax), -(kf * _LN2_LO))  # the first exact
    z = r * r
    e = _muladd(z, 1.0 / 87178291200.0, 1.0 / 479001600.0)
    e = _muladd(e, z, 1.0 / 3628800.0)
    e = _muladd(e, z, 1.0 / 40320.0)
    e = _muladd(e, z, 1.0 / 720.0)
    e = _muladd(e, z, 1.0 / 24.0)
    e = _muladd(e, z, 0.5) * z
    o = _muladd(z, 1.0 / 1307674368000.0, 1.0 / 6227020800.0) if odd15 else 1.0 / 6227020800.0
    o = _muladd(o, z, 1.0 / 39916800.0)
    o = _muladd(o, z, 1.0 / 362880.0)
    o = _muladd(o, z, 1.0 / 5040.0)
    o = _muladd(o, z, 1.0 / 120.0)
    o = _muladd(o, z, 1.0 / 6.0) * (z * r)
    return k, r, rl, e, o


@numba.njit(**_JIT)
def sinh_f64(x):
    """np.sinh for a float64, <= 1 ulp (0.87 from the exact value measured); sinh(-0.0) = -0.0,
    overflow to +-inf. 2**(k - 1) * S, S = e**r - c*e**-r with c = 2**-2k (0 from k = 60 on:
    2**-120 of S): S = (1 - c) + ((1 + c)*(r + rl) + (1 - c)*e + (1 + c)*o), 1 - c exact (c
    moves into the bracket from k = 27 on); below 1/2 (k = 0) that is 2*(r + o), the series."""
    _inline_into_callers()
    x = np.float64(x)
    k, r, rl, e, o = _hyp_parts(abs(x), True)
    c = _pow2(-2 * min(k, 60))
    cb = c if k < 27 else 0.0
    cp = 1.0 + c
    tail = _muladd(1.0 - c, e, _muladd(cp, o, _muladd(rl, cp, cb - c)))
    s = (1.0 - cb) + _muladd(cp, r, tail)
    return _copysign((s * 2.0) * _pow2(k - 2), x)  # s*2 first: exact for a subnormal result


@numba.njit(**_JIT)
def cosh_f64(x):
    """np.cosh for a float64, <= 1 ulp (0.87 from the exact value measured); overflow to inf.
    2**(k - 1) * S, S = e**r + c*e**-r = 1 + (c + (1 - c)*(r + rl) + (1 + c)*e + (1 - c)*o)
    with c = 2**-2k (0 from k = 60 on): two roundings (the bracket's, at most 1/4 ulp of S,
    and S's); times 2**(k - 2) and 2 (exact: S >= 1, k <= 1026)."""
    _inline_into_callers()
    k, r, rl, e, o = _hyp_parts(abs(np.float64(x)), False)
    c = _pow2(-2 * min(k, 60))
    cm = 1.0 - c
    tail = _muladd(1.0 + c, e, _muladd(cm, o, rl * cm))
    s = 1.0 + _muladd(cm, r, tail + c)
    return (s * _pow2(k - 2)) * 2.0


# float32: in float32 arithmetic (sixteen lanes to a zmm register), cosh_f64's scheme: e**r and e**-r
# from one Taylor series' even (to r**8) and odd (to r**7) parts, 2**-30 relative left.
_HYP_HI_F32 = _F32(89.5)  # sinh, cosh overflow float32 from 89.42 on; clamping keeps k <= 129
_C_BIG_K = 12  # below: 1 + 2**-2k exact in float32


@numba.njit(**_JIT_INLINE)
def _exp_pm_f32(ax, sign):
    """(e**ax + sign * e**-ax) / 2 for a float32 0 <= ax (or NaN) in float32 arithmetic, sign =
    +-1: cosh_f64's and sinh_f64's steps, ax = k*ln2 + r + rl (ln2 in a 9-bit and a float32 part:
    r exact before its Fast2Sum; for sinh k = 0 below 1/2), S = (1 + c) + ((1 - c)*(r + rl) +
    (1 + c)*(E - 1) + (1 - c)*(O - r)) with c = sign * 2**-2k (1 + c exact: c moves into the
    bracket from k = 12 on, 0 from k = 30), E to r**8, O to r**7 (r**9 for sinh), times 2 and
    2**(k - 2)."""
    ax = _HYP_HI_F32 if ax > _HYP_HI_F32 else ax
    t = _muladd(ax, _LOG2E_32, _MAGIC_32)
    t = _MAGIC_32 if (sign < 0.0 and ax < _HALF_32) else t
    kf = t - _MAGIC_32
    k = _bits32(t) - _MAGIC_BITS_32
    r, rl = _fast_two_sum(_muladd(-kf, _LN2_HI_32, ax), -(kf * _LN2_LO_32))  # the first exact
    z = r * r
    pe = _muladd(_muladd(_muladd(z, _F32(1.0 / 40320.0), _F32(1.0 / 720.0)), z, _F32(1.0 / 24.0)), z, _HALF_32) * z
    po = _muladd(z, _F32(1.0 / 362880.0), _F32(1.0 / 5040.0)) if sign < 0.0 else _F32(1.0 / 5040.0)
    po = _muladd(_muladd(po, z, _F32(1.0 / 120.0)), z, _F32(1.0 / 6.0)) * (z * r)
    c = _F32(sign) * _from_bits32((127 - 2 * min(k, 30)) << 23)
    cb = c if k < _C_BIG_K else _F32(0.0)
    cm = _ONE_32 - c
    tail = _muladd(_ONE_32 + c, pe, _muladd(cm, po, _muladd(rl, cm, c - cb)))
    s = (_ONE_32 + cb) + _muladd(cm, r, tail)
    return (s * _F32(2.0)) * _from_bits32((k + 125) << 23)


_SINH_TINY_F32 = _F32(2.0**-12)  # below: sinh(x) rounds to x


@numba.njit(**_JIT)
def sinh_f32(x):
    """np.sinh for a float32 in float32 arithmetic, <= 1 ulp of the float64 result rounded (0.56%
    one ulp from it over [2**-126, 92]); x itself below 2**-12 (sinh(-0.0) = -0.0)."""
    x = _F32(x)
    ax = abs(x)
    v = _exp_pm_f32(ax, -1.0)
    v = -v if x < 0.0 else v
    return x if ax < _SINH_TINY_F32 else v


@numba.njit(**_JIT)
def cosh_f32(x):
    """np.cosh for a float32 in float32 arithmetic, <= 1 ulp of the float64 result rounded (0.56%
    one ulp from it over [2**-126, 92])."""
    return _exp_pm_f32(abs(_F32(x)), 1.0)


_register("sinh", sinh_f64, sinh_f32)
_register("cosh", cosh_f64, cosh_f32)


# --- arcsinh, arccosh, arctanh ----------------------------------------------------------------------
_ASINH_TINY = 2.0**-28  # below: asinh(x) and atanh(x) round to x
_ASINH_HUGE = 2.0**28  # above: asinh(x) = acosh(x) = log(2x) to 2**-57


@numba.njit(**_JIT_INLINE)
def _sqrt_dd(h, l):
    """(sh, sl) with sh + sl = sqrt(h + l) to ~2**-100 relative, for h > 0."""
    sh = np.sqrt(h)
    return sh, (_muladd(-sh, sh, h) + l) / (sh + sh)


@numba.njit(**_JIT_INLINE)
def _log_of_dd(uh, ul, k_more):
    """log(uh + ul) + k_more*ln2 for uh >= 1 (normal), |ul| <= ulp(uh): `_log_hi_lo`'s
    k*ln2 + hi + lo plus ul/uh, the leading sum by Fast2Sum, one rounding."""
    dk, hi, lo = _log_hi_lo(uh)
    dk = dk + k_more
    w, e = _fast_two_sum(dk * _LN2_HI, hi)  # exact product; |k*ln2| >= 0.69 > 0.35 >= |hi|, or k = 0
    return w + (e + (lo + _muladd(dk, _LN2_LO, ul / uh)))


@numba.njit(**_JIT)
def arcsinh_f64(x):
    """np.arcsinh for a float64, <= 1 ulp: log(|x| + sqrt(x*x + 1)) with the argument in
    double-double; x for tiny |x| (asinh(-0.0) = -0.0), log(|x|) + ln2 for huge; nan, +-inf
    themselves."""
    _inline_into_callers()
    x = np.float64(x)
    ax = abs(x)
    a = min(ax, _ASINH_HUGE)
    x2 = a * a
    wh, wl = _two_sum(1.0, x2)
    sh, sl = _sqrt_dd(wh, wl + _mul_err(a, a, x2))
    uh, ul = _fast_two_sum(sh, a)  # sh >= a
    huge = ax > _ASINH_HUGE
    v = _log_of_dd(ax if huge else uh, 0.0 if huge else ul + sl, 1.0 if huge else 0.0)
    v = v if (ax >= _ASINH_TINY and ax < np.inf) else ax  # tiny, inf, nan
    return _copysign(v, x)


@numba.njit(**_JIT)
def arccosh_f64(x):
    """np.arccosh for a float64, <= 1 ulp: log(x + sqrt(x*x - 1)) with the argument in
    double-double (x*x - 1 exact near 1); log(x) + ln2 for huge x; nan below 1."""
    _inline_into_callers()
    x = np.float64(x)
    a = min(max(x, 1.0), _ASINH_HUGE)
    x2 = a * a
    wh, wl = _two_sum(x2, -1.0)
    wh, wl = _fast_two_sum(wh, wl + _mul_err(a, a, x2))
    sh, sl = _sqrt_dd(wh, wl)
    sl = sl if wh > 0.0 else 0.0  # x = 1: 0/0
    uh, ul = _fast_two_sum(a, sh)  # a >= sh
    huge = x > _ASINH_HUGE
    v = _log_of_dd(x if huge else uh, 0.0 if huge else ul + sl, 1.0 if huge else 0.0)
    v = x if x == np.inf else v
    return v if x >= 1.0 else np.nan


@numba.njit(**_JIT)
def arctanh_f64(x):
    """np.arctanh for a float64, <= 1 ulp: log((1 + |x|)/(1 - |x|))/2 with the quotient in
    double-double; x for tiny |x| (atanh(-0.0) = -0.0), +-inf at +-1, nan outside."""
    _inline_into_callers()
    x = np.float64(x)
    ax = abs(x)
    a = ax if ax < 1.0 else 0.5  # (|x| >= 1 and nan are selected below: the log's argument stays >= 1)
    ph, pl = _fast_two_sum(1.0, a)
    mh, ml = _fast_two_sum(1.0, -a)  # exact from 1/2 on (ml = 0)
    inv = 1.0 / mh
    qh = ph * inv
    ql = (_muladd(-qh, mh, ph) + (pl - qh * ml)) * inv  # the remainder exact
    v = 0.5 * _log_of_dd(qh, ql, 0.0)
    v = np.inf if ax == 1.0 else v
    v = np.nan if ax > 1.0 else v
    v = ax if (ax < _ASINH_TINY or ax != ax) else v
    return _copysign(v, x)


@numba.njit(**_JIT_INLINE)
def _log2_wide(xd):
    """log2(xd) in float64 to ~2**-37 relative for a positive normal xd (0, inf and nan give
    garbage: the callers select them away): pow_f32's x = 2**k * m, s = (m - 1)/(m + 1),
    log2(m) = s * Q(s*s)."""
    bits = _bits(xd) - _SQRT_HALF_BITS  # the exponent rolls over at sqrt(2)
    dk = _from_bits((bits >> 52) + _MAGIC_BITS) - _ROUND_MAGIC
    m = _from_bits((bits & _MANTISSA) + _SQRT_HALF_BITS)
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    z2 = z * z
    q = _muladd(_muladd(_muladd(_Q4, z, _Q3), z, _Q2), z2, _muladd(_Q1, z, _Q0))  # Estrin's scheme
    return _muladd(s, q, dk)


# float32: in float64 with `_log2_wide` (~2**-37), the series where the log's argument is near 1
@numba.njit(**_JIT_INLINE)
def _ln_wide(u):
    """log(u) in float64 to ~2**-36 relative, for u >= 1 normal."""
    return _log2_wide(u) * _LN2_FULL


@numba.njit(**_JIT)
def arcsinh_f32(x):
    """np.arcsinh for a float32: float64 inside, one rounding: the Taylor series to x**9 below
    1/16, log(|x| + sqrt(x*x + 1)) above (|x|*|x| cannot overflow a float64)."""
    xd = np.float64(x)
    ax = abs(xd)
    z = ax * ax
    p = _muladd(z, 35.0 / 1152.0, -5.0 / 112.0)
    p = _muladd(p, z, 3.0 / 40.0)
    p = _muladd(p, z, -1.0 / 6.0)
    v = _muladd(ax * z, p, ax) if ax < 0.0625 else _ln_wide(ax + np.sqrt(z + 1.0))
    v = v if ax < np.inf else ax
    return _F32(_copysign(v, xd))


@numba.njit(**_JIT)
def arccosh_f32(x):
    """np.arccosh for a float32: log(x + sqrt((x - 1)(x + 1))) in float64 (x - 1 exact), one
    rounding; nan below 1."""
    xd = np.float64(x)
    v = _ln_wide(xd + np.sqrt((xd - 1.0) * (xd + 1.0)))
    v = xd if xd == np.inf else v
    return _F32(v if xd >= 1.0 else np.nan)


# arctanh of a float32: log((1 + a)/(1 - a)) with one divide, not two (a vector divide is the loop's
# slowest instruction): n = 1 + a and d = 1 - a are exact; with their mantissas mn, md in [1, 2),
# w = md or md/2 so that mn/w is in [1, 2), log2(n/d) = k + 1/2 + log2(mn/(w*sqrt2)), the last one
# s*Q(s*s) as `_log2_wide`'s, s = (mn - c)/(mn + c), c = w*sqrt2 rounded (an error of 2**-53 in s: the
# result is at least 0.06; over 7e7 float32 bit patterns and every float32 in [1/32, 1] <= 1 ulp of the
# float64 result rounded, 2.6e-7 and 9e-6 one ulp off). 10^6 elements, one thread, loaded Zen 4 (one
# process, A/B): 1.35 -> 1.29 ms (NumPy 0.62): the loop is float64 inside, 8 lanes a step.
_ONE_BITS = 0x3FF0000000000000
_SQRT2, _SQRT_HALF = 1.4142135623730951, 0.7071067811865476


@numba.njit(**_JIT_INLINE)
def _log2_ratio(n, d):
    """log2(n/d) in float64 to ~2**-37 absolute, for positive normal n and d (one divide)."""
    bn, bd = _bits(n), _bits(d)
    mn = _from_bits((bn & _MANTISSA) | _ONE_BITS)
    md = _from_bits((bd & _MANTISSA) | _ONE_BITS)
    dk = _from_bits((bn >> 52) - (bd >> 52) + _MAGIC_BITS) - _ROUND_MAGIC
    ge = mn >= md
    c = md * (_SQRT2 if ge else _SQRT_HALF)
    s = (mn - c) / (mn + c)
    z = s * s
    z2 = z * z
    q = _muladd(_muladd(_muladd(_Q4, z, _Q3), z, _Q2), z2, _muladd(_Q1, z, _Q0))  # Estrin's scheme
    return _muladd(s, q, dk + (0.5 if ge else -0.5))


@numba.njit(**_JIT)
def arctanh_f32(x):
    """np.arctanh for a float32: float64 inside, one rounding: the Taylor series to x**9 below
    1/16, log((1 + |x|)/(1 - |x|))/2 above (`_log2_ratio`); +-inf at +-1, nan outside."""
    xd = np.float64(x)
    ax = abs(xd)
    z = ax * ax
    p = _muladd(z, 1.0 / 9.0, 1.0 / 7.0)
    p = _muladd(p, z, 1.0 / 5.0)
    p = _muladd(p, z, 1.0 / 3.0)
    a = ax if ax < 1.0 else 0.5
    v = _muladd(ax * z, p, ax) if ax < 0.0625 else (0.5 * _LN2_FULL) * _log2_ratio(1.0 + a, 1.0 - a)
    v = np.inf if ax == 1.0 else v
    v = v if ax <= 1.0 else np.nan
    return _F32(_copysign(v, xd))


_register("arcsinh", arcsinh_f64, arcsinh_f32)
_register("arccosh", arccosh_f64, arccosh_f32)
_register("arctanh", arctanh_f64, arctanh_f32)


from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
