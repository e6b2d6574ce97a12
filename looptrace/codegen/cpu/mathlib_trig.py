"""Branch-free tan and arctan of float32/float64, sin and cos of float64, that LLVM can vectorize
(mathlib.py's rules: no libm call, no fastmath, within NumPy's accuracy; tan's
arguments past 2**30, inf and NaN call libm's tan out of line, as sin_f32's
call their exact reduction, so the loop around stays vectorized).

CALLS maps (NumPy ufunc name, dtype name) to the element expression a kernel
uses (scalar.py `_mathlib_call`); costs.py counts those as mathlib's cost,
and templates.py exports `__all__` into every kernel's namespace.

Numba lowers np.tan and np.arctan to a libm call per element, which no loop
vectorizes (10^6 float64: tan 27 ms, arctan 24 ms against NumPy's SIMD loops'
1.8 and 1.3). Error bounds, asserted by tests/codegen/test_mathlib_trig_s50.py:

- `atan_f64`: <= 1 ulp from glibc's (correctly rounded) atan and from NumPy's.
  fdlibm's s_atan.c without its branches: |x| split at 7/16, 11/16, 19/16 and
  39/16 into atan(c) + atan(u), c = 0, 1/2, 1, 3/2, inf, u = (|x| - c)/(1 +
  c|x|) (one divide of selected operands, |u| <= 7/16), fdlibm's degree-22
  minimax polynomial in fused multiply-adds, atan(c) in two doubles; then x's
  sign (atan(-0.0) = -0.0, atan(+-inf) = +-pi/2, NaN through).
- `tan_f64`: <= 1 ulp from glibc's tan. Cody-Waite's reduction for |x| <
  2**30 with pi/2 in three doubles and the remainder kept as a double-double
  (r1 = x - n*pi/2's first part is exact in one fused multiply-add), then
  fdlibm's k_tan.c without its branches: its polynomial, tan(pi/4 - y) past
  |r| = 0.6744, and -1/tan for odd n with the reciprocal's error corrected,
  one divide of selected operands. |x| >= 2**30, inf and NaN: libm's tan out of
  line (`_rare_call`, mathlib.py), so the loop stays vectorized.
- `tan_f32`: <= 1 ulp of the float64 result rounded: sin_f32's reduction in
  float64 (exact enough below 2**30), a degree-2/2 rational (2**-35.4), r*P/Q
  or -Q/(r*P) in one divide; above 2**30, inf and NaN libm's float64 tan out
  of line.
- `sin_f64`, `cos_f64` (session 53): <= 1 ulp from glibc's (~1.4% of results one ulp off; over
  4.5e6 points, every exponent and around 3000 multiples of pi/2 up to 2**34). tan_f64's reduction
  (n mod 4 from the same rounding), fdlibm's k_sin.c and FreeBSD's branch-free k_cos.c on the
  double-double remainder, both computed and the quadrant's selected; libm's sin/cos out of line
  past 2**30 (2**20 without FMA), for inf and NaN. Numba's np.sin/np.cos of a float64 was a libm call
  per element, as NumPy's own loop on AVX2 CPUs (10^6 elements, one thread, Zen 3: 10-20 ms).
- `atan_f32`: <= 1 ulp of the float64 result rounded (0.03% of inputs 1 ulp
  off; NumPy's own float32 loop is up to 2 ulp from it), in float32 arithmetic
  (sixteen lanes to a zmm register): see the comment above it.

Speed (a loop of 10^5 elements, one thread, Zen 4 with AVX-512, loaded 2-vCPU
machine, medians; NumPy's SIMD loop, then this): float64 tan 0.139 / 0.230 ms,
arctan 0.121 / 0.116; float32 tan 0.044 / 0.079, arctan 0.046 / 0.063 (libm
per element, LOOPTRACE_LIBM=1: 0.80-0.99 ms each). tan_f64's loop spent ~20%
in the rare path's call (a vector variant called every step, its registers
spilled around it): 0.18 ms without. Session 51 (10^6 elements, one thread):
tan_f64's rare path has its own 8-wide variant (it had only the 16-wide one of
float32 loops, so every lane was tested and called apart) and the variants keep
zmm16-31 (mathlib.py `_RARE_CC`): 2.46 -> 2.01 ms (~1.9 without the rare path,
NumPy 1.37); tan_f32 (its own 16-wide symbol) 0.78 -> 0.66 (~0.58, NumPy 0.41).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from looptrace.codegen.cpu.mathlib import (
    _HOST_FMA, _JIT, _JIT_INLINE, _PI_2_A, _PI_2_B, _PI_2_C, _RARE_WIDTHS_64, _ROUND_MAGIC, _TRIG_QUICK, _bits, _bits32,
    _copysign, _from_bits, _from_bits32, _inline_into_callers, _mul_err, _mul_err_dekker, _muladd, _quick_remainder,
    _rare_call, _rare_symbol, _two_sum, pick)

CALLS: dict[tuple[str, str], str] = {
    ("tan", "float64"): "tan_f64({0})", ("tan", "float32"): "tan_f32({0})",
    ("arctan", "float64"): "atan_f64({0})", ("arctan", "float32"): "atan_f32({0})",
    ("sin", "float64"): "sin_f64({0})", ("cos", "float64"): "cos_f64({0})",
}
__all__: list[str] = ["tan_f64", "tan_f32", "atan_f64", "atan_f32", "sin_f64", "cos_f64"]


# --- arctan -----------------------------------------------------------------------------------------
# atan(c) for c = 1/2, 1, 3/2, inf in two doubles (hi rounded, lo the rest)
_ATAN_HALF_HI, _ATAN_HALF_LO = 0.4636476090008061, 2.2698777452961687e-17
_ATAN_ONE_HI, _ATAN_ONE_LO = 0.7853981633974483, 3.061616997868383e-17
_ATAN_1_5_HI, _ATAN_1_5_LO = 0.982793723247329, 1.3903311031230998e-17
_PI_2_HI, _PI_2_LO = 1.5707963267948966, 6.123233995736766e-17
# fdlibm's minimax coefficients: atan(u) = u - u*(z*(A0 + w*A2 + ...) + w*(A1 + w*A3 + ...)), z = u*u,
# w = z*z, on |u| <= 7/16
_A0, _A1, _A2, _A3 = 3.3333333333332932e-01, -1.9999999999876483e-01, 1.4285714272503466e-01, -1.1111110405462356e-01
_A4, _A5, _A6, _A7 = 9.0908871334365066e-02, -7.6918762050448300e-02, 6.6610731373875312e-02, -5.8335701337905735e-02
_A8, _A9, _A10 = 4.9768779946159324e-02, -3.6531572744216916e-02, 1.6285820115365782e-02


@numba.njit(**_JIT_INLINE)
def _atan_reduce(ax):
    """(u, hi, lo) with atan(ax) = (hi + lo) + atan(u), |u| <= 7/16, for ax = |x| (or NaN):
    u = (ax - c)/(1 + c*ax) for the c of ax's range (fdlibm's exact forms of it), one divide."""
    r1 = ax >= 0.4375
    r2 = ax >= 0.6875
    r3 = ax >= 1.1875
    r4 = not (ax < 2.4375)  # NaN: u = -1/NaN
    num = -1.0 if r4 else (ax - 1.5 if r3 else (ax - 1.0 if r2 else (2.0 * ax - 1.0 if r1 else ax)))
    den = ax if r4 else (_muladd(1.5, ax, 1.0) if r3 else (ax + 1.0 if r2 else (2.0 + ax if r1 else 1.0)))
    hi = _PI_2_HI if r4 else (_ATAN_1_5_HI if r3 else (_ATAN_ONE_HI if r2 else (_ATAN_HALF_HI if r1 else 0.0)))
    lo = _PI_2_LO if r4 else (_ATAN_1_5_LO if r3 else (_ATAN_ONE_LO if r2 else (_ATAN_HALF_LO if r1 else 0.0)))
    return num / den, hi, lo


@numba.njit(**_JIT_INLINE)
def _atan_poly(u):
    """u*(z*P(z)) with atan(u) = u - that, |u| <= 7/16 (fdlibm's two interleaved Horner chains)."""
    z = u * u
    w = z * z
    s1 = _muladd(w, _A10, _A8)
    s1 = _muladd(s1, w, _A6)
    s1 = _muladd(s1, w, _A4)
    s1 = _muladd(s1, w, _A2)
    s1 = _muladd(s1, w, _A0)
    s2 = _muladd(w, _A9, _A7)
    s2 = _muladd(s2, w, _A5)
    s2 = _muladd(s2, w, _A3)
    s2 = _muladd(s2, w, _A1)
    return u * _muladd(z, s1, w * s2)


@numba.njit(**_JIT)
def atan_f64(x):
    """np.arctan for a float64, <= 1 ulp from the correctly rounded result: hi - ((u*z*P(z) - lo) - u),
    x's sign bit copied in (atan(-0.0) = -0.0, atan(+-inf) = +-pi/2, NaN through)."""
    _inline_into_callers()
    x = np.float64(x)
    u, hi, lo = _atan_reduce(abs(x))
    return _copysign(hi - ((_atan_poly(u) - lo) - u), x)


# --- arctan of a float32, in float32 arithmetic (sixteen lanes to a zmm register) --------------------
# atan_f64's reduction with u's two roundings (the denominator's and the quotient's) carried as
# ul: den + dl exact (Fast2Sum, or the product's error by a fused multiply-add), the remainder
# num - u*den exact (a fused multiply-add), ul = (rem - u*dl)/den (a second float32 divide, half
# a float64 one's cost); atan(u + ul) = atan(u) + ul to 2**-26 of ul. atan(u) = u + u*z*P(z), P of
# degree 4 (a fit of our own, float32 coefficients: 2**-28 relative), atan(c) as two float32.
# The denominator 1 + c*ax for every range at once (c = 0, 1/2, 1, 3/2 selected; -1/ax past 39/16)
# keeps the selects few, and hi + u is summed exactly (Fast2Sum) so that the result rounds once:
# 54 vector instructions a step of 16 where the float64 version took 44 a step of 8 (10^5 float32,
# one thread: 0.117 -> 0.060 ms; NumPy's 0.050). Bound: <= 1 ulp of the
# float64 result rounded (checked over 1/7 of all float32 and the test's grids).
_F32 = np.float32
_AF0, _AF1, _AF2, _AF3, _AF4 = (_F32(c) for c in (-0.3333330452442169, 0.19997738301753998, -0.14229580760002136,
                                                   0.10490801930427551, -0.05819089710712433))
_AH_HALF, _AL_HALF = _F32(0.46364760398864746), _F32(5.01215868808913e-09)
_AH_ONE, _AL_ONE = _F32(0.7853981852531433), _F32(-2.1855694143368964e-08)
_AH_1_5, _AL_1_5 = _F32(0.9827937483787537), _F32(-2.5131424052915463e-08)
_AH_INF, _AL_INF = _F32(1.5707963705062866), _F32(-4.371138828673793e-08)
_B1, _B2, _B3, _B4 = _F32(0.4375), _F32(0.6875), _F32(1.1875), _F32(2.4375)
_ZERO_32, _HALF_32, _ONE_32, _ONE_HALF_32, _TWO_32 = _F32(0.0), _F32(0.5), _F32(1.0), _F32(1.5), _F32(2.0)
_INF_32 = _F32(np.inf)
_SIGN_32 = -0x80000000


@numba.njit(**_JIT)
def atan_f32(x):
    """np.arctan for a float32, in float32 arithmetic (see above); atan(-0.0) = -0.0, atan(+-inf) =
    +-pi/2 rounded, NaN through."""
    _inline_into_callers()
    x = _F32(x)
    ax = abs(x)
    r1 = ax >= _B1
    r2 = ax >= _B2
    r3 = ax >= _B3
    r4 = not (ax < _B4)  # NaN too
    c = _ONE_HALF_32 if r3 else (_ONE_32 if r2 else (_HALF_32 if r1 else _ZERO_32))
    p = c * ax
    pe = _muladd(c, ax, -p)  # c*ax = p + pe exactly (p is exact but for c = 3/2)
    big = max(p, _ONE_32)
    small = min(p, _ONE_32)
    d = big + small
    num = -_ONE_32 if r4 else ax - c  # exact (Sterbenz)
    den = ax if r4 else d
    dl = _ZERO_32 if r4 else (small - (d - big)) + pe  # Fast2Sum: 1 + c*ax = den + dl exactly
    u = num / den
    rem = _muladd(-u, den, num)  # exact
    ul = (rem - u * dl) / den
    ul = _ZERO_32 if ax == _INF_32 else ul
    hi = _AH_INF if r4 else (_AH_1_5 if r3 else (_AH_ONE if r2 else (_AH_HALF if r1 else _ZERO_32)))
    lo = _AL_INF if r4 else (_AL_1_5 if r3 else (_AL_ONE if r2 else (_AL_HALF if r1 else _ZERO_32)))
    z = u * u
    p = _muladd(z, _AF4, _AF3)
    p = _muladd(p, z, _AF2)
    p = _muladd(p, z, _AF1)
    p = _muladd(p, z, _AF0)
    h = hi + u  # Fast2Sum (|hi| > |u| or hi = 0): hi + u = h + e exactly
    e = u - (h - hi)
    v = h + (e + _muladd(u * z, p, lo + ul))  # hi + lo + atan(u + ul), one rounding of weight
    return _from_bits32(_bits32(v) | (_bits32(x) & _SIGN_32))


# --- tan of a float64 -------------------------------------------------------------------------------
# n = round(x * 2/pi), x - n*pi/2 with pi/2 = _PI_2_HI + _PI_2_LO + _PI_2_LO2: x - n*_PI_2_HI is a
# multiple of 2**-52 (|x| >= 1; below, n is 0 or +-1 and it is one of 2**-53) below 2 in magnitude, so
# one fused multiply-add computes it exactly; n*_PI_2_LO exactly as a product and its error (`_mul_err`
# with FMA, Dekker's split without), so the remainder is a double-double within ~n * 2**-160 of the
# true one: for |x| < 2**30 (n < 2**30) far below the closest a double comes to a multiple of pi/2.
_PI_2_LO2 = -1.4973849048591698e-33
_INV_PI_2 = 0.6366197723675814
_MAGIC_BITS = 0x4338000000000000
_PI_2_D = 1.0085854035872483e-37  # pi/2 - _PI_2_A - _PI_2_B - _PI_2_C (mathlib's split without FMA)
# fdlibm's k_tan.c: tan(x) = x + x**3 * (T0 + x**2 * T1 + ...) on |x| <= 0.6744 (2**-59.2)
_T0, _T1, _T2, _T3 = 3.33333333333334091986e-01, 1.33333333333201242699e-01, 5.39682539762260521377e-02, \
    2.18694882948595424599e-02
_T4, _T5, _T6, _T7 = 8.86323982359930005737e-03, 3.59207910759131235356e-03, 1.45620945432529025516e-03, \
    5.88041240820264096874e-04
_T8, _T9, _T10, _T11 = 2.46463134818469906812e-04, 7.81794442939557092300e-05, 7.14072491382608190305e-05, \
    -1.85586374855275456654e-05
_T12 = 2.59073051863633712884e-05
_PI_4_HI, _PI_4_LO = 0.7853981633974483, 3.061616997868383e-17
_TAN_BIG = 0.6743354797363281  # fdlibm's 0x3FE59428: past it, tan(pi/4 - y)


@numba.njit(**_JIT_INLINE)
def _tan_reduce_fma(x):
    """(rh, rl, q): x = n*pi/2 + rh + rl to ~n * 2**-160, |rh| <= pi/4 (plus rounding), |rl| <<
    |rh|, q = n mod 4, for |x| < 2**30 (garbage above, selected away)."""
    t = _muladd(x, _INV_PI_2, _ROUND_MAGIC)
    n = t - _ROUND_MAGIC
    r1 = _muladd(-n, _PI_2_HI, x)  # exact
    p = n * _PI_2_LO
    pe = _mul_err(n, _PI_2_LO, p)  # n*_PI_2_LO = p + pe
    rh, e = _two_sum(r1, -p)
    # not normalized: near a pole (rh tiny, n large) rl may be ~2**-17 of rh, which the kernel's
    # first-order use of it takes as well (its square is dropped)
    return rh, _muladd(-n, _PI_2_LO2, e - pe), (_bits(t) - _MAGIC_BITS) & 3


@numba.njit(**_JIT_INLINE)
def _tan_reduce_split(x):
    """`_tan_reduce_fma` without FMA, for |x| < 2**20: pi/2 = A + B + C + D, n*A and n*B exact (A and
    B of 31 and 32 bits), x - n*A exact (Sterbenz), then exact sums (TwoSum) and n*C's error
    (Dekker's product)."""
    t = x * _INV_PI_2 + _ROUND_MAGIC
    n = t - _ROUND_MAGIC
    s, e = _two_sum(x - n * _PI_2_A, -(n * _PI_2_B))
    p = n * _PI_2_C
    pe = _mul_err_dekker(n, _PI_2_C, p)
    rh, e2 = _two_sum(s, -p)
    return rh, ((e + e2) - pe) - n * _PI_2_D, (_bits(t) - _MAGIC_BITS) & 3


_tan_reduce = _tan_reduce_fma if _HOST_FMA else _tan_reduce_split
_TAN_QUICK = 2.0**30 if _HOST_FMA else 2.0**20


@numba.njit(**_JIT_INLINE)
def _tan_kernel(x, y, odd, fma):
    """tan(x + y) (odd false) or -1/tan(x + y) (odd true) for |x| <= pi/4 + a little, |y| << |x|:
    fdlibm's __kernel_tan with its branches computed and selected, and its two divides one."""
    big = abs(x) >= _TAN_BIG
    neg = x < 0.0
    xs = -x if neg else x
    ys = -y if neg else y
    x = ((_PI_4_HI - xs) + (_PI_4_LO - ys)) if big else x  # tan(pi/4 - y) past 0.6744
    y = 0.0 if big else y
    z = x * x
    w = z * z
    r = _muladd(w, _T11, _T9)
    r = _muladd(r, w, _T7)
    r = _muladd(r, w, _T5)
    r = _muladd(r, w, _T3)
    r = _muladd(r, w, _T1)
    v = _muladd(w, _T12, _T10)
    v = _muladd(v, w, _T8)
    v = _muladd(v, w, _T6)
    v = _muladd(v, w, _T4)
    v = _muladd(v, w, _T2)
    s = z * x
    r = _muladd(z, _muladd(s, _muladd(z, v, r), y), y)
    r = _muladd(_T0, s, r)
    w = x + r  # tan(x + y) = w + wl, wl = r - (w - x) (Fast2Sum: |x| > |r|)
    iy = -1.0 if odd else 1.0
    q = (w * w if big else -1.0) / ((w + iy) if big else w)
    big_v = iy - 2.0 * (x - (q - r))
    big_v = -big_v if neg else big_v
    # -1/(w + wl) = q * (1 + e + q*wl) to second order, e = 1 + q*w (exact in a fused multiply-add)
    wl = r - (w - x)
    if fma:  # (a constant: the other branch is folded away)
        e = _muladd(q, w, 1.0)
        inv = _muladd(q, _muladd(q, wl, e), q)
    else:  # fdlibm's: the high halves' product exact
        zh = _from_bits(_bits(w) & -0x100000000)
        th = _from_bits(_bits(q) & -0x100000000)
        inv = th + q * ((1.0 + th * zh) + th * (r - (zh - x)))
    return big_v if big else (inv if odd else w)


@numba.njit(**_JIT)
def _tan_f64_quick(x):
    """tan(x) for |x| < 2**30 (garbage above): `_tan_reduce`, `_tan_kernel`; tan(-0.0) = -0.0."""
    _inline_into_callers()
    rh, rl, q = _tan_reduce(x)
    return pick(x == 0.0, x, _tan_kernel(rh, rl, (q & 1) != 0, _HOST_FMA))


@numba.njit(**_JIT)
def _tan_f64_split(x):
    """`_tan_f64_quick`'s steps where the CPU has no FMA, for |x| < 2**20 (tested on any CPU)."""
    rh, rl, q = _tan_reduce_split(x)
    return pick(x == 0.0, x, _tan_kernel(rh, rl, (q & 1) != 0, False))


def _tan_f64_libm(x):
    return math.tan(x)


_tan_f64_huge = _rare_call(_rare_symbol("looptrace_tan_f64_huge", _tan_f64_libm, _RARE_WIDTHS_64))
_tan_f32_huge = _rare_call(_rare_symbol("looptrace_tan_f32_huge", _tan_f64_libm))  # float32 loops' widths


@numba.njit(**_JIT_INLINE)
def tan_f64(x):
    """np.tan for a float64, <= 1 ulp from glibc's: the quick reduction below 2**30, libm's tan
    above (and for inf, NaN: nan) out of line."""
    xd = np.float64(x)
    v = _tan_f64_quick(xd)
    if not (abs(xd) < _TAN_QUICK):
        v = _tan_f64_huge(xd)
    return v


# --- sin and cos of a float64 -------------------------------------------------------------------------
# tan_f64's reduction (x = n*pi/2 + rh + rl, |x| < 2**30, n's low two bits from t), then fdlibm's
# k_sin.c and (FreeBSD's branch-free) k_cos.c on rh + rl, both computed and the quadrant's selected, so
# that the loop vectorizes: Numba lowers np.sin/np.cos of a float64 to a libm call per element (10^6
# elements, one thread, Zen 3 with AVX2: sin 10.3 ms, NumPy's 10.4; bench/ufunc_speed.py). |x| >= 2**30
# (2**20 without FMA), inf and NaN: libm's sin/cos out of line (`_rare_call`).
# fdlibm's minimax coefficients: sin(x) = x + x**3 * (S1 + z*S2 + ...), z = x*x, on |x| <= pi/4 (2**-58)
_S1, _S2, _S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
_S4, _S5, _S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10
# cos(x) = 1 - z/2 + z*z*(C1 + z*C2 + ...) on |x| <= pi/4 (2**-58)
_C1, _C2, _C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
_C4, _C5, _C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11


@numba.njit(**_JIT_INLINE)
def _sin_kernel(x, y):
    """sin(x + y) for |x| <= pi/4 + a little, |y| << |x| (fdlibm's __kernel_sin with iy = 1)."""
    z = x * x
    v = z * x
    r = _muladd(_muladd(_muladd(_muladd(_S6, z, _S5), z, _S4), z, _S3), z, _S2)
    return x - ((z * (0.5 * y - v * r) - y) - v * _S1)


@numba.njit(**_JIT_INLINE)
def _cos_kernel(x, y):
    """cos(x + y) for |x| <= pi/4 + a little, |y| << |x| (FreeBSD's k_cos.c: 1 - z/2 summed with
    its rounding error, so that no branch picks a split point)."""
    z = x * x
    w = z * z
    r = _muladd(z, _muladd(_muladd(_C3, z, _C2), z, _C1), w * w * _muladd(_muladd(_C6, z, _C5), z, _C4))
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + _muladd(z, r, -x * y))


@numba.njit(**_JIT_INLINE)
def _quadrant_sin(rh, rl, q):
    """sin(q*pi/2 + rh + rl) from both kernels, q's low two bits selecting."""
    s = _sin_kernel(rh, rl)
    c = _cos_kernel(rh, rl)
    v = c if (q & 1) != 0 else s
    return -v if (q & 2) != 0 else v


@numba.njit(**_JIT)
def _sin_f64_quick(x, shift):
    """sin(x + shift * pi/2) for |x| < _TAN_QUICK (garbage above): shift 0 sin, 1 cos."""
    _inline_into_callers()
    rh, rl, q = _tan_reduce(x)
    return _quadrant_sin(rh, rl, q + shift)


@numba.njit(**_JIT)
def _sin_f64_split(x, shift):
    """`_sin_f64_quick`'s steps where the CPU has no FMA, for |x| < 2**20 (tested on any CPU)."""
    rh, rl, q = _tan_reduce_split(x)
    return _quadrant_sin(rh, rl, q + shift)


def _sin_f64_libm(x):
    return math.sin(x)


def _cos_f64_libm(x):
    return math.cos(x)


_sin_f64_huge = _rare_call(_rare_symbol("looptrace_sin_f64_huge", _sin_f64_libm, _RARE_WIDTHS_64))
_cos_f64_huge = _rare_call(_rare_symbol("looptrace_cos_f64_huge", _cos_f64_libm, _RARE_WIDTHS_64))


@numba.njit(**_JIT_INLINE)
def sin_f64(x):
    """np.sin for a float64, <= 1 ulp from glibc's: the quick reduction below 2**30, libm's sin
    above (and for inf, NaN: nan) out of line; sin(-0.0) = -0.0."""
    xd = np.float64(x)
    v = pick(xd == 0.0, xd, _sin_f64_quick(xd, 0))
    if not (abs(xd) < _TAN_QUICK):
        v = _sin_f64_huge(xd)
    return v


@numba.njit(**_JIT_INLINE)
def cos_f64(x):
    """np.cos for a float64, <= 1 ulp from glibc's: as sin_f64, a quarter turn on."""
    xd = np.float64(x)
    v = _sin_f64_quick(xd, 1)
    if not (abs(xd) < _TAN_QUICK):
        v = _cos_f64_huge(xd)
    return v


# --- tan of a float32 -------------------------------------------------------------------------------
# tan(r) = r*P(z)/Q(z), z = r*r, P and Q of degree 2 on |r| <= pi/4 (+0.1%): 2**-35.4 relative (a fit
# of our own, iterated linearized least squares on the relative error), where sin_f32's sin and cos
# series took 11 fused multiply-adds; -1/tan(r) = -Q/(r*P) for odd n, one divide either way.
_TP0, _TP1, _TP2 = 1.0000000000223261, -0.11136195027985132, 0.0010751898242712377
_TQ1, _TQ2 = -0.44469528193733415, 0.015973597065004487


@numba.njit(**_JIT)
def _tan_f32_quick(xd):
    """tan(xd) for |xd| < _TRIG_QUICK, xd a float32 widened: sin_f32's reduction, the rational."""
    _inline_into_callers()
    t = _muladd(xd, _INV_PI_2, _ROUND_MAGIC)
    r = _quick_remainder(xd, t - _ROUND_MAGIC)
    z = r * r
    rp = r * _muladd(_muladd(_TP2, z, _TP1), z, _TP0)
    q = _muladd(_muladd(_TQ2, z, _TQ1), z, 1.0)
    odd = (_bits(t) & 1) != 0  # t's low bits: n's
    v = (-q if odd else rp) / (rp if odd else q)
    return pick(xd == 0.0, xd, v)  # tan(-0.0) = -0.0


@numba.njit(**_JIT_INLINE)
def tan_f32(x):
    """np.tan for a float32, <= 1 ulp of the float64 result rounded: the quick reduction below
    2**30, libm's float64 tan above (and for inf, NaN: nan) out of line (its own float32 exact
    reduction, as sin_f32's, cost ~2 s of cold compile at every first import)."""
    xd = np.float64(x)
    v = _tan_f32_quick(xd)
    if not (abs(xd) < _TRIG_QUICK):
        v = _tan_f32_huge(xd)  # libm's tan of the float64: exact reduction, < 1 ulp of float64
    return np.float32(v)


from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
