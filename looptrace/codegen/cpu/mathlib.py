"""Branch-free exp, expm1, tanh, log, log1p, hypot, atan2, pow, asin and acos that LLVM can vectorize.

Numba lowers `np.exp`, `np.tanh`, `np.log`, ... to libm calls, and LLVM
cannot vectorize a loop around a libm call (pip's llvmlite has no SVML), so a
fused loop that applies tanh costs ~12-14 ns per element. The functions here
are plain arithmetic (multiplies, adds, at most one divide, selects, integer
shifts and bit reinterpretations): inlined into a kernel's loop, LLVM turns
them into packed SIMD code (zmm/ymm on AVX-512/AVX2; 200k float64 tanh: 1.9 ns per
element against 13.6 ns for np.tanh in a Numba loop). They are not fastmath:
each result is within 2 ulp of NumPy's.

Error bounds (float64: against NumPy's result; float32: against the float64
result rounded to float32, since NumPy's own float32 exp/tanh are up to ~2.5
ulp from it), asserted by tests/codegen/test_mathlib.py:

- `exp_f64`: <= 1 ulp. Cody-Waite reduction x = k*ln2 + r with |r| <= ln2/2
  (ln2 split in a hi part, exact times any k used here, and a lo part), a
  degree-13 Taylor polynomial for e**r (Horner, in fused multiply-adds where
  the CPU has FMA: `_muladd`), then a scale by 2**k done as two exact
  multiplies by 2**(k//2) and 2**(k - k//2), so that overflow (x > 709.78)
  gives inf and gradual underflow rounds once into a subnormal.
- `exp_f32`: <= 1 ulp of float32, in float32 arithmetic (the same
  reduction with a 9-bit ln2 hi part, a degree-6 fitted polynomial; over all
  2**32 inputs 0.35% are one ulp from the float64 result rounded).
- `tanh_f64`: <= 2 ulp. |x| < 0.625: x + x*z*P(z)/Q(z) with z = x*x (Cephes'
  rational); otherwise 1 - 2/(exp(2|x|) + 1); computed on |x|, then the sign
  bit of x is copied in. It saturates to +-1, keeps tanh(-0.0) = -0.0 and
  propagates NaN.
- `tanh_f32`: <= 1 ulp of float32, in float32 arithmetic (a degree-4
  polynomial in x*x below 0.625, exp_f32's steps above; checked over every
  input).
- `log_f64`: <= 1 ulp. fdlibm's e_log.c (x = 2**k * (1 + f), s = f/(2 + f),
  a degree-14 minimax polynomial in s) with its two final branches both
  computed and selected; subnormals are scaled by 2**54 first. log(0) = -inf,
  log(x < 0) = nan, log(inf) = inf. `log_f32`: <= 1 ulp of float32, in
  float32 arithmetic (x = 2**k * (1 + f), f + f*f*S(f), S a degree-7 fit,
  2**-25 relative; since session 52 only for a positive normal x, the others
  out of line (`_rare_call`): log_f64 rounded; over every 97th float32 bit
  pattern and 10^7 points in [1/2, 2] ~4% one ulp from the float64 result
  rounded (0.64% before, at 0.41 ms for 10^6 elements, one thread: now 0.23).
- `expm1_f64`: <= 2 ulp: the reduction of exp, q = e**r - 1 as r + r*r*P(r),
  then 2**k*q + (2**k - 1) (2**k - 1 exact) for k <= 52, else 2**k*(1+q) - 1.
  `expm1_f32`: float64 inside with a shorter, fitted polynomial (2**-43.5,
  since session 51); <= 1 ulp of NumPy's float64 expm1 rounded to float32
  (over every 7th float32: 9 of 6.1e8 1 ulp off).
- `log1p_f64`: <= 2 ulp (1 measured): log(u) + (x - (u - 1))/u, u = 1 + x.
  `log1p_f32`: float64 inside, pow_f32's table-free log2 (~2**-37); <= 1 ulp
  of NumPy's float64 log1p rounded (over 1/7 of all float32: 5e-6 1 ulp off).

- `cabs_c128`: <= 2 ulp from hypot (sqrt of the sum of squares, <= 1 ulp, or
  hi*sqrt(1 + (lo/hi)**2) where the squares would overflow or underflow;
  NumPy's own SIMD loop is the scaled form everywhere, itself <= 2 ulp).
  `cabs_c64`: float64 inside, one rounding.

- `atan2_f64`: <= 2 ulp of NumPy's (measured over the exponent range and
  around its reductions' edges, tests/codegen/test_mathlib.py): t = min/max
  of |x|, |y|, past 1/2 u = (lo - hi)/(lo + hi), a degree-27 Taylor series
  in u*u for atan(u), then a multiple of pi/4 (split in two doubles) plus or
  minus it; C99's signed zeros, infinities and NaNs exactly. `atan2_f32`: in
  float64 with one divide (float32 values: every sum exact) and a degree-6
  polynomial (2**-36); <= 1 ulp of the float64 result rounded.

- `pow_f64`: <= 1 ulp from NumPy's and from glibc's (correctly rounded) pow,
  measured over 2M-point grids each (tests/codegen/test_mathlib_pow.py;
  0.2% of results one ulp from glibc's): exp(y*log|x|) with log in double-
  double (~2**-68; table-free: s = (m - c)/(m + c), c = 1 or 1.5, atanh's
  series with its first two terms in double-double, exact products by
  `_mul_err`: an FMA, or Dekker's split without FMA) and exp taking the
  product's low part (the reduced argument's rounding kept, 1 + r + r*r/2
  summed in double-double): before its last rounding within ~2**-56 of
  x**y. C99's special values (pow(x, 0) = pow(1, y) = 1, NaN for x < 0 and a
  non-integer y, the sign for an odd integer y, zeros, infinities, overflow,
  gradual underflow) selected around it, since session 52 out of line (`_rare_call`
  with two arguments) where |x| is not a normal number or y*log|x| is not finite or past 708.
  `pow_f32` (and `powc_f32`, y a
  constant): 2**(y*log2|x|) in float64, table-free polynomials to ~2**-35
  (Estrin's scheme), one rounding: <= 1 ulp of the float64 result rounded.
- `sin_f32`, `cos_f32`: <= 1 ulp of float32 from the float64 result (over all
  2**32 inputs at most 0.5001, and 9646 (sin), 9562 (cos) not that result
  rounded: near-ties; NumPy's own are up to ~1.5 ulp off): Cody-Waite's
  reduction in float64 for |x| < 2**30, Payne-Hanek's exact one above it out
  of line (`_rare_call`), polynomials in float64 (since session 51 fitted,
  2**-37: every 5th float32 below 2**30 at most 0.50007 ulp), one final
  rounding.
- `asin_f64`, `acos_f64`: <= 1 ulp from NumPy's and glibc's (correctly
  rounded at pi/3 where NumPy's SVML is not): fdlibm's rational for
  asin(t) = t + t*R(t*t) on |t| <= 1/2; past 1/2 asin(|x|) = pi/2 -
  2*asin(sqrt((1 - |x|)/2)) with the square root's rounding (an exact
  remainder) carried; the constant plus the leading term summed exactly
  (Fast2Sum), one final rounding. acos likewise (pi/2 - asin(x), 2*asin(s),
  pi - 2*asin(s)). `asin_f32`, `acos_f32`: the same steps in float32
  arithmetic with a degree-5 polynomial for R (session 51: 10^6 elements, one
  thread, 1.0 -> 0.40 and 1.07 -> 0.43 ms, NumPy 0.42 and 0.40); <= 1 ulp of
  NumPy's float64 result rounded (checked over every float32 in [-1, 1]:
  0.036% and 0.013% one ulp off; NumPy's own float32 loops are up to 3 ulp
  from it).

The CPU backend lowers np.exp/expm1/tanh/log/log1p of float32/float64 (and
np.abs of complex64/complex128 and np.hypot of float64, to cabs; np.arctan2
of float64, to atan2_f64; np.arcsin/arccos and np.power, to asin/acos/pow)
to these (codegen/cpu/scalar.py `_mathlib_call`); LOOPTRACE_LIBM=1 in the
environment when a kernel is generated restores the np.<name> (libm) calls.

Special values: exp(nan) = nan, exp(inf) = inf, exp(-inf) = 0; tanh(nan) =
nan, tanh(+-inf) = +-1.

Invariant: every function is `@njit(cache=True, error_model="numpy")`, tanh's
and expm1's with inline="always" (`_JIT_INLINE`; the two private intrinsics
`_bits`/`_from_bits` are LLVM bitcasts); pow's, asin's and acos's are plain
calls that mark themselves `alwaysinline` for LLVM (`_inline_into_callers`):
compiled once (disk cache), inlined and vectorized into each kernel loop,
uses no global state and calls no libm function (sin_f32/cos_f32 call their
own exact reduction, a C callback, for |x| >= 2**30, inf and NaN only; the
float32 logs call their float64 function, rounded, for their rare arguments); its
value depends only on its argument (no fastmath, no FMA contraction by LLVM;
the explicit fused multiply-adds of `_muladd` round once in scalar and SIMD
code alike), so the result is the same whether or not LLVM vectorizes the
caller. It may differ in the last place between a CPU with FMA and one
without (exp's polynomial).
"""
from __future__ import annotations

import math
import os

import numba
import numpy as np
from llvmlite import binding as llvm_binding
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

__all__ = ["pick", "exp_f32", "exp_f64", "expm1_f32", "expm1_f64", "log1p_f32", "log1p_f64", "log_f32",
           "log_f64", "tanh_f32", "tanh_f64", "atan2_f64", "atan2_f32", "sin_f32", "cos_f32", "powc_f32",
           "pow_f64", "pow_f32", "pow3_f64", "pow4_f64", "asin_f64", "asin_f32", "acos_f64", "acos_f32"]

_JIT = dict(cache=True, error_model="numpy")
# tanh's and expm1's functions are inlined into the kernel by Numba: as calls
# LLVM does not inline them (exp inside makes them too long), and the loop
# stays scalar (tanh over 10^6 float64: 21 ms against 4.7 ms;
# test_mathlib.py checks that each loop is vectorized). The others are calls that
# LLVM inlines (same run time) and that Numba compiles once, from the disk
# cache, instead of once per call site (black_scholes_numpy, 6 exp/log: kernel
# compile 5.5 -> 2.4 s).
_JIT_INLINE = dict(cache=True, inline="always", error_model="numpy")

# --- a branch-free choice (an LLVM select: vectorizable) ---
@intrinsic
def pick(typingctx, cond, a, b):
    """`a if cond else b` with both already evaluated, as one LLVM `select`.
    Numba lowers a conditional expression to branches, which LLVM keeps when
    an arm reads memory: a masked sum (`x if m else 0.0` in 8 chains) then
    mispredicts on random masks and never vectorizes (1e6 elements: 5.7 ms as
    branches, 0.40 ms as selects)."""
    ty = typingctx.unify_pairs(a, b)
    if ty is None or not isinstance(ty, (types.Number, types.Boolean)):
        return None

    def codegen(context, builder, sig, args):
        c, x, y = args
        c = context.cast(builder, c, sig.args[0], types.boolean)
        x = context.cast(builder, x, sig.args[1], ty)
        y = context.cast(builder, y, sig.args[2], ty)
        return builder.select(c, x, y)

    return ty(cond, a, b), codegen


# --- bit reinterpretation (an LLVM bitcast: free, and vectorizable) ---
@intrinsic
def _bits(typingctx, x):
    """The int64 with the same bits as the float64 x."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, n):
    """The float64 with the same bits as the int64 n."""
    if n != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _bits32(typingctx, x):
    """The bits of the float32 x as an int32, sign-extended to int64 (Numba's
    integer arithmetic is int64; LLVM narrows it back where it can)."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.sext(builder.bitcast(args[0], ir.IntType(32)), ir.IntType(64))

    return types.int64(types.float32), codegen


@intrinsic
def _from_bits32(typingctx, n):
    """The float32 whose bits are the low 32 bits of the int64 n."""
    if n != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(builder.trunc(args[0], ir.IntType(32)), ir.FloatType())

    return types.float32(types.int64), codegen


@intrinsic
def _int32(typingctx, n):
    """n wrapped to int32 and sign-extended back to int64: the same value for
    an n that fits, and LLVM then knows the steps after it can run in 32-bit
    lanes (16 to a zmm register) instead of Numba's int64."""
    if n != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.sext(builder.trunc(args[0], ir.IntType(32)), ir.IntType(64))

    return types.int64(types.int64), codegen


@intrinsic
def _float32_of(typingctx, n):
    """float32(n) for an int64 n that fits int32, as one 32-bit conversion (vcvtdq2ps: Numba's
    float32(n) converts the int64, and the magic-number route takes an add and a subtract)."""
    if n != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.sitofp(builder.trunc(args[0], ir.IntType(32)), ir.FloatType())

    return types.float32(types.int64), codegen


# --- what the host CPU offers ---
_HOST_FEATURES = llvm_binding.get_host_cpu_features().flatten().split(",")
_HOST_FMA = "+fma" in _HOST_FEATURES


# --- 512-bit vectors in looptrace's own functions ---
# LLVM's X86 backend "prefers" 256-bit vectors on AVX-512 CPUs (the
# prefer-256-bit tuning of Skylake-SP onwards: 512-bit instructions once
# lowered the clock of the whole core), so Numba's loops vectorize 4 float64
# wide where the CPU holds 8. NUMBA_CPU_FEATURES=...,-prefer-256-bit changes
# that for every function of the process; the function attributes below change
# it for the function they are set on only. A looptrace kernel calls
# `wide_vectors()` at the top of each of its functions and prange bodies
# (codegen/cpu/emitter.py), so its loops, and the math functions LLVM inlines
# into them, use zmm registers. The exp loop of bench/README.md (seventeenth
# session) went 220 -> 160 us for 10^5 float64 on the Sapphire Rapids Xeon.
# ("min-legal-vector-width"="512" beside it made no difference: the same
# code, 1130 zmm references in gbm_paths' kernel either way.) Kernels whose
# loops lose with 512-bit steps keep 256 (nest.py `_sum_with_inner_fold`).
WIDE_VECTORS = "+avx512f" in _HOST_FEATURES and not os.environ.get("LOOPTRACE_NO_WIDE_VECTORS")
_WIDE_ATTRIBUTE = '"prefer-vector-width"="512"'


@intrinsic
def wide_vectors(typingctx):
    """No code: marks the function it is called in (after inlining, the one
    LLVM vectorizes) to use 512-bit vectors. llvmlite's FunctionAttributes
    knows only LLVM's enum attributes, so the string attribute goes into its
    set directly; it is written into the `define` line as it is."""

    def codegen(context, builder, signature, args):
        set.add(builder.function.attributes, _WIDE_ATTRIBUTE)
        return context.get_dummy_value()

    return types.none(), codegen


# --- no gathers on AMD Zen ---
# With a kernel's shapes constants (`same_shape`), LLVM knows the stride of a
# loop over a strided axis and vectorizes it with vgather/vscatter, which the
# Zen 4 of bench/README.md runs slower than scalar loads and stores:
# numba-benchmark's centered difference on a Fortran-ordered 250 x 250 array,
# read along its rows, took 145 us with 20 gathers and 4 scatters, 81.5 us
# without (numba.njit: 81). On AMD Zen hosts a kernel's functions get LLVM's
# prefer-no-gather and prefer-no-scatter tunings (those LLVM itself sets for
# Intel CPUs with the Gather Data Sampling fix); LOOPTRACE_GATHERS=1 keeps
# LLVM's choice. Like `wide_vectors`, a call at the top of each function.
NO_GATHERS = llvm_binding.get_host_cpu_name().startswith("znver") and "+avx2" in _HOST_FEATURES and \
    not os.environ.get("LOOPTRACE_GATHERS")


@intrinsic
def no_gathers(typingctx):
    """No code: the function it is called in prefers no gathers and scatters
    (its target features are the target machine's plus those two tunings: a
    function's "target-features" attribute replaces the machine's, not adds)."""

    def codegen(context, builder, signature, args):
        codegen_ = context.codegen()
        features = getattr(codegen_, "_tm_features", None) or llvm_binding.get_host_cpu_features().flatten()
        set.add(builder.function.attributes,
                f'"target-features"="{features},+prefer-no-gather,+prefer-no-scatter"')
        return context.get_dummy_value()

    return types.none(), codegen


# --- long functions LLVM inlines all the same ---
@intrinsic
def _inline_into_callers(typingctx):
    """No code: gives the function it is called in LLVM's `alwaysinline`, so that
    a kernel's loop that calls it inlines it (and can vectorize) however long it
    is, while Numba compiles it once, from the disk cache, and not at every call
    site as with inline="always" (pow_f64: cold kernel compile 14 -> ~3 s)."""

    def codegen(context, builder, signature, args):
        builder.function.attributes.add("alwaysinline")
        return context.get_dummy_value()

    return types.none(), codegen


# --- a multiply-add, fused where the CPU has FMA ---
@intrinsic
def _muladd(typingctx, a, b, c):
    """a*b + c for three float64 or three float32: one `llvm.fma` (one
    rounding) where the host CPU has FMA, else a multiply then an add. Either
    way the same in scalar and SIMD code (LLVM never contracts unfused
    arithmetic without fastmath, and a vector fma rounds each lane as the
    scalar one does). exp's Horner polynomial with it: 411 -> 269 us for 10^5
    float64 on the 2-vCPU Xeon of bench/README.md (sixteenth session), and
    1.15 -> 0.87 ulp at most from the exact value (2 million arguments)."""
    kind = a if a in (types.float64, types.float32) else None
    if kind is None or b != kind or c != kind:
        return None
    lltype = ir.DoubleType() if kind == types.float64 else ir.FloatType()

    def codegen(context, builder, signature, args):
        x, y, z = args
        if not _HOST_FMA:
            return builder.fadd(builder.fmul(x, y), z)
        fma = builder.module.declare_intrinsic("llvm.fma", [lltype], ir.FunctionType(lltype, [lltype] * 3))
        return builder.call(fma, [x, y, z])

    return kind(kind, kind, kind), codegen


# --- exp ---
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # low 32 bits zero: k * _LN2_HI is exact for |k| < 2**32
_LN2_LO = 1.90821492927058770002e-10
_ROUND_MAGIC = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer (in the low bits)
_MAGIC_BITS = 0x4338000000000000  # bits of _ROUND_MAGIC
_EXP_HI = 710.0  # exp(710) overflows: clamping there keeps k small and still gives inf
_EXP_LO = -746.0  # exp(-746) underflows to 0


@numba.njit(**_JIT)
def _pow2(k):
    """2.0**k for an int64 -1022 <= k <= 1023, built from its bits."""
    return _from_bits((k + 1023) << 52)


@numba.njit(**_JIT)
def _reduce(x):
    """(k, r) with x = k*ln2 + r, |r| <= ln2/2 (plus rounding), k an int64.

    x must already be clamped to [_EXP_LO, _EXP_HI] (or be NaN: then r is NaN
    and k is garbage but harmless).
    """
    t = _muladd(x, _LOG2E, _ROUND_MAGIC)
    kf = t - _ROUND_MAGIC
    k = _bits(t) - _MAGIC_BITS
    r = _muladd(-kf, _LN2_LO, _muladd(-kf, _LN2_HI, x))  # the inner one exact
    return k, r


@numba.njit(**_JIT)
def _clamp_exp_arg(x):
    """x clamped to [_EXP_LO, _EXP_HI]; NaN stays NaN."""
    x = _EXP_HI if x > _EXP_HI else x
    return _EXP_LO if x < _EXP_LO else x


@numba.njit(**_JIT)
def _scale(p, k):
    """p * 2**k for |k| <= 1100, in two exact steps (one rounding if subnormal)."""
    k1 = k >> 1
    return (p * _pow2(k1)) * _pow2(k - k1)


@numba.njit(**_JIT)
def _exp_tail(p, r):
    """e**r from p = (e**r - sum of r**k/k! for k < 8) / r**8, Horner on
    down: the last seven coefficients, then 1 + p*r."""
    p = _muladd(p, r, 1.0 / 5040.0)
    p = _muladd(p, r, 1.0 / 720.0)
    p = _muladd(p, r, 1.0 / 120.0)
    p = _muladd(p, r, 1.0 / 24.0)
    p = _muladd(p, r, 1.0 / 6.0)
    p = _muladd(p, r, 0.5)
    p = _muladd(p, r, 1.0)
    return _muladd(p, r, 1.0)


@numba.njit(**_JIT)
def _expm_poly13(r):
    """e**r for |r| <= 0.35, Taylor to degree 13 (truncation < 2**-57)."""
    p = 1.0 / 6227020800.0
    p = _muladd(p, r, 1.0 / 479001600.0)
    p = _muladd(p, r, 1.0 / 39916800.0)
    p = _muladd(p, r, 1.0 / 3628800.0)
    p = _muladd(p, r, 1.0 / 362880.0)
    p = _muladd(p, r, 1.0 / 40320.0)
    return _exp_tail(p, r)


@numba.njit(**_JIT)
def exp_f64(x):
    """np.exp for a float64, <= 1 ulp."""
    k, r = _reduce(_clamp_exp_arg(np.float64(x)))
    return _scale(_expm_poly13(r), k)


# --- tanh ---
_TANH_SMALL = 0.625  # below: rational in x*x; above: 1 - 2/(exp(2|x|) + 1)
_SIGN_BIT = np.int64(-0x8000000000000000)


@numba.njit(**_JIT_INLINE)
def _tanh_abs(ax, e):
    """tanh(ax) for ax = |x| >= 0 (or NaN), given e ~ exp(2*ax), with one divide.

    ax < 0.625: Cephes' ax + (ax*z) * (P(z)/Q(z)), z = ax*ax; otherwise
    1 - 2 * (1/(e + 1)). Both are a + b*(n/d): the operands are selected
    first, so the vectorized loop divides once per element, not twice.
    """
    z = ax * ax
    p = (-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z
    p = p - 1.61468768441708447952e3
    q = ((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z
    q = q + 4.84406305325125486048e3
    small = ax < _TANH_SMALL
    a = ax if small else 1.0
    b = ax * z if small else -2.0
    n = p if small else 1.0
    d = q if small else e + 1.0
    return a + b * (n / d)


@numba.njit(**_JIT_INLINE)
def _copysign(mag, sign):
    """|mag| with the sign bit of `sign` (mag must be >= +0 or NaN)."""
    return _from_bits(_bits(mag) | (_bits(sign) & _SIGN_BIT))


@numba.njit(**_JIT_INLINE)
def tanh_f64(x):
    """np.tanh for a float64, <= 2 ulp."""
    x = np.float64(x)
    ax = abs(x)
    return _copysign(_tanh_abs(ax, exp_f64(ax + ax)), x)


# --- log ---
_TWO54 = 18014398509481984.0  # 2**54: scales a subnormal into the normal range
_MIN_NORMAL = 2.2250738585072014e-308
_LG1 = 6.666666666666735130e-01  # fdlibm's minimax coefficients of log(1+f) in s**2
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


@numba.njit(**_JIT_INLINE)
def _split_log_arg(x):
    """(k, f) with x = 2**k * (1 + f), sqrt(2)/2 <= 1 + f < sqrt(2), for a positive
    normal x (fdlibm's exponent/mantissa split, on the bits). Inlined by Numba
    into `_log_positive`: one compiled function less on a machine's first
    compile of log_f64 (about 0.05 s of its 0.25 s)."""
    bits = _bits(x)
    hx = bits >> 32
    k = (hx >> 20) - 1023
    hx = hx & 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000  # set when the mantissa is >= sqrt(2): halve it
    m = _from_bits(((hx | (i ^ 0x3FF00000)) << 32) | (bits & 0xFFFFFFFF))
    return k + (i >> 20), m - 1.0, hx


@numba.njit(**_JIT)
def _log_positive(x):
    """log(x) for a positive normal x: fdlibm's e_log.c with both of its final
    branches computed and the right one selected (< 1 ulp)."""
    k, f, hx = _split_log_arg(x)
    s = f / (2.0 + f)
    dk = _from_bits(k + _MAGIC_BITS) - _ROUND_MAGIC  # float64(k) without cvtqq2pd (AVX-512 only)
    z = s * s
    w = z * z
    t1 = w * _muladd(w, _muladd(w, _LG6, _LG4), _LG2)
    r = _muladd(z, _muladd(w, _muladd(w, _muladd(w, _LG7, _LG5), _LG3), _LG1), t1)
    hfsq = 0.5 * f * f
    lo = dk * _LN2_LO
    far = _muladd(dk, _LN2_HI, f - (hfsq - _muladd(s, hfsq + r, lo)))  # dk * _LN2_HI is exact
    near = _muladd(dk, _LN2_HI, f - _muladd(s, f - r, -lo))
    return far if ((hx - 0x6147A) | (0x6B851 - hx)) > 0 else near


@numba.njit(**_JIT)
def log_f64(x):
    """np.log for a float64, <= 1 ulp; log(0) = -inf, log(x < 0) = nan
    (`_log_f64_inline`'s steps, compiled as a function of its own)."""
    return _log_f64_inline(np.float64(x))


# --- exp, log and tanh of a float32, in float32 arithmetic -------------------------------------------
# Sixteen float32 lanes to a zmm register, against eight for float64 inside:
# over 2M float32, exp 0.90 -> 0.34 ms, log 1.9 -> 0.67, tanh 1.6 -> 0.51
# (NumPy's AVX-512 loops: 0.70, 0.61, 0.42). The polynomials are near-minimax
# fits of our own (iteratively reweighted least squares on the relative error,
# coefficients rounded to float32), evaluated in fused multiply-adds. Checked
# over every float32 input against the float64 function rounded to float32:
# exp and log within 1 ulp (0.35% and 0.64% of inputs off by one), tanh within
# 1 ulp.
_F32 = np.float32
_LOG2E_32 = _F32(_LOG2E)
_LN2_HI_32 = _F32(0.693359375)  # 9 significant bits: k * _LN2_HI_32 is exact for |k| < 2**15
_LN2_LO_32 = _F32(0.6931471805599453 - 0.693359375)
_MAGIC_32 = _F32(12582912.0)  # 1.5 * 2**23: adding it rounds to an integer (in the low bits)
_MAGIC_BITS_32 = 0x4B400000
_EXP_HI_32 = _F32(89.0)  # exp(89) overflows float32: clamping there keeps k small and still gives inf
_EXP_LO_32 = _F32(-104.0)  # exp(-104) underflows to 0
# e**r on |r| <= ln2/2: degree 6, relative error 1.9e-9 before rounding
_E0, _E1, _E2, _E3, _E4, _E5, _E6 = (_F32(c) for c in (1.0, 1.0, 0.4999999, 0.1666642, 0.041668225,
                                                       0.008374822, 0.0013836805))
_SQRT_HALF_BITS_32 = 0x3F3504F3  # sqrt(1/2) rounded to float32: where the mantissa's range starts
# tanh(x) = x + x**3 * P(x*x) on |x| < _TANH_SMALL: degree 4 in x*x, 4.4e-9
_T0, _T1, _T2, _T3, _T4 = (_F32(c) for c in (-0.3333328, 0.13331442, -0.053739693, 0.020639021, -0.00570492))
_ONE_32, _TWO_32, _HALF_32 = _F32(1.0), _F32(2.0), _F32(0.5)
_INF_32 = _F32(np.inf)
_TANH_SMALL_32 = _F32(_TANH_SMALL)
_SIGN_BIT_32 = -0x80000000


@numba.njit(**_JIT_INLINE)
def _exp32_parts(x):
    """(p, t) with e**x = p * 2**k for a clamped float32 x, k in t's low bits
    (t - _MAGIC_32 = k): x = k*ln2 + r, p a degree-6 polynomial in r."""
    t = _muladd(x, _LOG2E_32, _MAGIC_32)
    kf = t - _MAGIC_32
    r = _muladd(-kf, _LN2_HI_32, x)
    r = _muladd(-kf, _LN2_LO_32, r)
    p = _muladd(_E6, r, _E5)
    p = _muladd(p, r, _E4)
    p = _muladd(p, r, _E3)
    p = _muladd(p, r, _E2)
    p = _muladd(p, r, _E1)
    return _muladd(p, r, _E0), t


@numba.njit(**_JIT_INLINE)
def _exp32(x):
    """e**x of a float32 in float32: x = k*ln2 + r, a degree-6 polynomial in r,
    then two exact scalings by powers of two (overflow to inf, gradual underflow)."""
    x = _EXP_HI_32 if x > _EXP_HI_32 else x
    x = _EXP_LO_32 if x < _EXP_LO_32 else x
    p, t = _exp32_parts(x)
    k = _bits32(t) - _MAGIC_BITS_32
    k1 = k >> 1
    return (p * _from_bits32((k1 + 127) << 23)) * _from_bits32((k - k1 + 127) << 23)


@numba.njit(**_JIT)
def exp_f32(x):
    """np.exp for a float32, <= 1 ulp of the float64 result rounded."""
    return _exp32(_F32(x))


_TANH_EXP_HI_32 = _F32(40.0)  # tanh(x) rounds to 1 in float32 from x = 9.02 on


@numba.njit(**_JIT_INLINE)
def _exp32_tanh(x):
    """`_exp32` for tanh: x >= 0 (or NaN) clamped to 40, so that 2**k is a normal
    float32 and one multiply scales (tanh over 250k float32: 0.057 -> 0.049 ms)."""
    x = _TANH_EXP_HI_32 if x > _TANH_EXP_HI_32 else x
    p, t = _exp32_parts(x)
    return p * _from_bits32((_bits32(t) - _MAGIC_BITS_32 + 127) << 23)


@numba.njit(**_JIT_INLINE)
def tanh_f32(x):
    """np.tanh for a float32, <= 1 ulp of the float64 result rounded: a polynomial
    below |x| = 0.625, 1 - 2/(e**(2|x|) + 1) above, the sign bit of x copied in."""
    x = _F32(x)
    ax = abs(x)
    z = ax * ax
    p = _muladd(_T4, z, _T3)
    p = _muladd(p, z, _T2)
    p = _muladd(p, z, _T1)
    p = _muladd(p, z, _T0)
    small = _muladd(ax * z, p, ax)
    big = _ONE_32 - _TWO_32 / (_exp32_tanh(ax + ax) + _ONE_32)
    v = small if ax < _TANH_SMALL_32 else big
    return _from_bits32(_bits32(v) | (_bits32(x) & _SIGN_BIT_32))


# --- log1p ---
_LOG1P_TINY = 2.0**-54  # below: log1p(x) rounds to x


@numba.njit(**_JIT)
def log1p_f64(x):
    """np.log1p for a float64, <= 2 ulp: log(u) + e/u for u = fl(1 + x), whose
    rounding error e = x - (u - 1) is exact (Fast2Sum) and enters to first order."""
    x = np.float64(x)
    u = 1.0 + x
    lu = log_f64(u)
    y = lu + (x - (u - 1.0)) / u
    y = lu if abs(lu) == np.inf else y  # x = -1 or inf: the correction is nan
    return x if abs(x) < _LOG1P_TINY else y


_LN2 = 0.6931471805599453
_LOG1P_EXACT_32 = 2.0**-29  # |x| above: 1 + x is exact in float64 for a float32 x


@numba.njit(**_JIT)
def log1p_f32(x):
    """np.log1p for a float32, <= 1 ulp of the float64 result rounded: u = 1 + x in float64
    (exact for |x| >= 2**-29; below, x - x*x/2), ln(u) = log2(u) * ln2 with pow_f32's table-free
    log2 (`_log2_f32`, ~2**-37 relative; m - 1 exact, so no cancellation near u = 1), one final
    rounding. log1p_f64 inside took two divides and fdlibm's full-precision steps: 72 -> 37
    vector instructions a step of 8 (10^5 elements, one thread: 0.199 -> 0.082 ms; NumPy 0.044)."""
    _inline_into_callers()
    xd = np.float64(x)
    u = 1.0 + xd
    v = _log2_f32(u) * _LN2
    v = np.nan if xd < -1.0 else v
    return np.float32(_muladd(-0.5 * xd, xd, xd) if abs(xd) < _LOG1P_EXACT_32 else v)


# --- expm1 ---
_EXPM1_LO = -60.0  # expm1(x) rounds to -1 below this


@numba.njit(**_JIT_INLINE)
def _em1_poly13(r):
    """e**r - 1 for |r| <= 0.35 without cancellation: r + r*r*(1/2 + r/6 + ...), Horner in
    fused multiply-adds (`_muladd`: 24 -> 12 vector instructions)."""
    p = 1.0 / 6227020800.0
    p = _muladd(p, r, 1.0 / 479001600.0)
    p = _muladd(p, r, 1.0 / 39916800.0)
    p = _muladd(p, r, 1.0 / 3628800.0)
    p = _muladd(p, r, 1.0 / 362880.0)
    p = _muladd(p, r, 1.0 / 40320.0)
    p = _muladd(p, r, 1.0 / 5040.0)
    p = _muladd(p, r, 1.0 / 720.0)
    p = _muladd(p, r, 1.0 / 120.0)
    p = _muladd(p, r, 1.0 / 24.0)
    p = _muladd(p, r, 1.0 / 6.0)
    p = _muladd(p, r, 0.5)
    return _muladd(r * r, p, r)


@numba.njit(**_JIT_INLINE)
def expm1_f64(x):
    """np.expm1 for a float64, <= 2 ulp: with x = k*ln2 + r and q = e**r - 1,
    2**k*q + (2**k - 1) (exact 2**k - 1) for k <= 52, else 2**k*(1 + q) - 1."""
    x = np.float64(x)
    xc = _clamp_exp_arg(x)
    xc = _EXPM1_LO if xc < _EXPM1_LO else xc
    k, r = _reduce(xc)
    q = _em1_poly13(r)
    s = _pow2(k if k < 53 else 0)
    y = s * q + (s - 1.0) if k < 53 else _scale(1.0 + q, k) - 1.0
    return x if abs(x) < _LOG1P_TINY else y


_EXPM1_HI_32, _EXPM1_LO_32 = 89.0, -104.0  # past them, float32's expm1 is inf, -1
# e**r - 1 = r + r*r*P(r) on |r| <= ln2/2 (+2**-20): P of degree 7, a near-minimax fit of our own
# (iteratively reweighted least squares), 2**-43.5 of e**r - 1 (Taylor's to r**11 before: 2**-40,
# two multiply-adds more)
_EM0, _EM1, _EM2, _EM3 = 0.49999999999812544, 0.16666666666868887, 0.04166666688341008, 0.008333333246378595
_EM4, _EM5, _EM6, _EM7 = 0.0013888822780670856, 0.0001984135973070668, 2.4875679479071517e-05, 2.7560529823067014e-06


@numba.njit(**_JIT)
def expm1_f32(x):
    """np.expm1 for a float32, <= 1 ulp of the float64 result rounded: in float64, x = k*ln2 + r,
    q = e**r - 1 = r + r*r*P(r) (P above, 2**-43.5 of q on |r| <= 0.35), 2**k*q + (2**k -
    1) (2**k - 1 exact: |k| <= 150), one final rounding; expm1(-0.0) = -0.0. expm1_f64 inside
    (degree 13, its k > 52 branch): 61 -> 33 vector instructions a step of 8 (10^5 elements, one
    thread: 0.157 -> 0.067 ms; NumPy 0.037)."""
    _inline_into_callers()
    xd = np.float64(x)
    xc = _EXPM1_HI_32 if xd > _EXPM1_HI_32 else xd
    xc = _EXPM1_LO_32 if xc < _EXPM1_LO_32 else xc  # NaN stays
    k, r = _reduce(xc)
    p = _muladd(_EM7, r, _EM6)
    p = _muladd(p, r, _EM5)
    p = _muladd(p, r, _EM4)
    p = _muladd(p, r, _EM3)
    p = _muladd(p, r, _EM2)
    p = _muladd(p, r, _EM1)
    p = _muladd(p, r, _EM0)
    q = _muladd(r * r, p, r)
    s = _pow2(k)
    return np.float32(pick(xd == 0.0, xd, _muladd(s, q, s - 1.0)))


# --- |z| of a complex z ---
_SQUARE_SAFE_HI = 2.0 ** 500  # hi below: hi*hi does not overflow
_SQUARE_SAFE_LO = 2.0 ** -500  # hi above: hi*hi is normal, and an underflowing lo*lo negligible


@numba.njit(**_JIT_INLINE)
def cabs_c128(z):
    """np.abs of a complex128 (hypot of its parts): sqrt(a*a + b*b) where the
    squares neither overflow nor underflow (<= 1 ulp from hypot), else the
    scaled hi*sqrt(1 + (lo/hi)**2) (<= 2 ulp, as NumPy's own); both are computed and one selected, so a loop
    of them vectorizes (libm's hypot is a call per element: 10^4 elements
    37 us against 6.4 us; NumPy's own SIMD loop 5.8 us). An infinite part
    gives inf (even beside a NaN), else a NaN part gives NaN, as hypot."""
    a = abs(z.real)
    b = abs(z.imag)
    bigger = a > b
    hi = a if bigger else b
    lo = b if bigger else a
    direct = math.sqrt(a * a + b * b)
    r = lo / hi
    scaled = hi * math.sqrt(1.0 + r * r)
    safe = hi < _SQUARE_SAFE_HI and (hi > _SQUARE_SAFE_LO or hi == 0.0)
    res = direct if safe else scaled
    return np.inf if (a == np.inf or b == np.inf) else res


@numba.njit(**_JIT_INLINE)
def cabs_c64(z):
    """np.abs of a complex64: float64 inside (no square can overflow or
    underflow), one final rounding; an infinite part gives inf."""
    a = abs(np.float64(z.real))
    b = abs(np.float64(z.imag))
    res = np.float32(math.sqrt(a * a + b * b))
    return np.float32(np.inf) if (a == np.inf or b == np.inf) else res


# --- atan2 ------------------------------------------------------------------------------------------
# atan(u) = u + u*z*P(z), z = u*u, for |u| <= 1/2 (z <= 1/4): P's coefficients are the
# Taylor series' (-1)**k / (2k + 1), k = 1..27, whose first left-out term is below 1e-18
# of u there. Multiples of pi/4 split in a double and the rest, so that the final
# sum rounds once.
_PI_4_HI, _PI_4_LO = 0.7853981633974483, 3.061616997868383e-17
_PI_2_HI, _PI_2_LO = 1.5707963267948966, 6.123233995736766e-17
_PI3_4_HI, _PI3_4_LO = 2.356194490192345, 9.184850993605148e-17
_PI_HI, _PI_LO = 3.141592653589793, 1.2246467991473532e-16


@numba.njit(**_JIT_INLINE)
def _atan_small(u):
    """atan(u) for |u| <= 1/2: Horner's scheme, written out (a loop
    over a tuple would keep the caller's loop from vectorizing)."""
    z = u * u
    p = -1.0 / 55.0
    p = p * z + 1.0 / 53.0
    p = p * z - 1.0 / 51.0
    p = p * z + 1.0 / 49.0
    p = p * z - 1.0 / 47.0
    p = p * z + 1.0 / 45.0
    p = p * z - 1.0 / 43.0
    p = p * z + 1.0 / 41.0
    p = p * z - 1.0 / 39.0
    p = p * z + 1.0 / 37.0
    p = p * z - 1.0 / 35.0
    p = p * z + 1.0 / 33.0
    p = p * z - 1.0 / 31.0
    p = p * z + 1.0 / 29.0
    p = p * z - 1.0 / 27.0
    p = p * z + 1.0 / 25.0
    return _atan_tail(u, z, p)


@numba.njit(**_JIT_INLINE)
def _atan_tail(u, z, p):
    """The atan series' terms from u**23/23 down, by Horner's scheme, after
    the higher ones left `p` (the coefficient of u**25 on): atan(u)."""
    p = p * z - 1.0 / 23.0
    p = p * z + 1.0 / 21.0
    p = p * z - 1.0 / 19.0
    p = p * z + 1.0 / 17.0
    p = p * z - 1.0 / 15.0
    p = p * z + 1.0 / 13.0
    p = p * z - 1.0 / 11.0
    p = p * z + 1.0 / 9.0
    p = p * z - 1.0 / 7.0
    p = p * z + 1.0 / 5.0
    p = p * z - 1.0 / 3.0
    return u + u * (z * p)


@numba.njit(**_JIT)
def atan2_f64(y, x):
    """np.arctan2(y, x) for float64, branch-free (a loop of it vectorizes;
    Numba's np.arctan2 is a libm call per element: 10^6 elements 16.5 ms
    against NumPy's SIMD loop's 1.6; this one's 2.2). With t = min(|x|,
    |y|) / max(...) in [0, 1] and past 1/2 u = (t - 1)/(t + 1) (atan(t) =
    pi/4 + atan(u)), else u = t, the angle is C + s*atan(u) with C a multiple of
    pi/4 and s = +-1 chosen by which of |x|, |y| is larger and by x's sign
    bit; then y's sign. C99's special values: atan2(+-0, -0) = +-pi,
    atan2(+-inf, +-inf) = +-pi/4 or +-3pi/4, a NaN gives NaN."""
    _inline_into_callers()
    x = np.float64(x)
    y = np.float64(y)
    return _atan2_angle(y, x, _atan_small(_atan2_arg(y, x)))


@numba.njit(**_JIT_INLINE)
def _atan2_arg(y, x):
    """atan2's reduced argument: t = min(|x|, |y|)/max(...), or past 1/2
    u = (lo - hi)/(lo + hi) (atan(t) = pi/4 + atan(u)), |result| <= 1/2."""
    ax = abs(x)
    ay = abs(y)
    swap = ay > ax
    hi = ay if swap else ax
    lo = ax if swap else ay
    t = lo / hi
    t = 0.0 if hi == 0.0 else t  # both zero
    t = 1.0 if lo == np.inf else t  # both infinite
    # past 1/2, u from lo and hi themselves (lo - hi is exact there: one rounding less than
    # through t), halved first where lo + hi would overflow; 0 for both infinite
    half = 0.5 if hi > 2.0 ** 1020 else 1.0
    u = (lo * half - hi * half) / (lo * half + hi * half)
    u = 0.0 if lo == np.inf else u
    return u if t > 0.5 else t


@numba.njit(**_JIT_INLINE)
def _atan2_angle(y, x, r):
    """atan2(y, x) from r = atan of `_atan2_arg(y, x)`: the angle in [0, pi] is
    a = (pi/4 if big else 0) + r; pi/2 - a where |y| > |x|; pi - a where x is
    negative; pi/2 + a where both; then y's sign. A NaN gives NaN."""
    ax = abs(x)
    ay = abs(y)
    swap = ay > ax
    hi = ay if swap else ax
    lo = ax if swap else ay
    t = 0.0 if hi == 0.0 else lo / hi
    big = t > 0.5 or lo == np.inf
    neg = (_bits(x) & _SIGN_BIT) != 0
    r = -r if swap != neg else r
    c_hi = (_PI3_4_HI if neg else _PI_4_HI) if big else (_PI_2_HI if swap else (_PI_HI if neg else 0.0))
    c_lo = (_PI3_4_LO if neg else _PI_4_LO) if big else (_PI_2_LO if swap else (_PI_LO if neg else 0.0))
    r = _copysign(c_hi + (r + c_lo), y)
    return np.nan if (x != x or y != y) else r


# atan(u) = u + u*z*P(z), z = u*u, on |u| <= 1/2 to 2**-36.2 relative: a degree-6 fit of our own
# (Lawson's iteratively reweighted least squares on the relative error) where the Taylor series
# took degree 12 for 2**-30
_AT2_0, _AT2_1, _AT2_2, _AT2_3 = -0.3333333292671268, 0.19999957642543603, -0.14284213226963727, 0.11085643124770457
_AT2_4, _AT2_5, _AT2_6 = -0.0885569772264983, 0.06455269143453418, -0.029922899040409928


@numba.njit(**_JIT)
def atan2_f32(y, x):
    """np.arctan2(y, x) for float32, in float64 (float32 values: every sum and difference below
    exact, none overflows): t = lo/hi of |x|, |y| or past 1/2 u = (lo - hi)/(lo + hi), one divide of
    selected operands (atan2_f64's two: 168 -> 96 vector instructions per 16 elements), a degree-6
    polynomial, the multiple of pi/4 and the signs as atan2_f64's (`_atan2_angle`); one final
    rounding. C99's signed zeros, infinities and NaNs."""
    _inline_into_callers()
    yd = np.float64(y)
    xd = np.float64(x)
    ax = abs(xd)
    ay = abs(yd)
    swap = ay > ax
    hi = ay if swap else ax
    lo = ax if swap else ay
    big = lo + lo > hi  # t > 1/2, exactly
    u = (lo - hi if big else lo) / (lo + hi if big else hi)
    u = 0.0 if (hi == 0.0 or lo == np.inf) else u  # both zero; both infinite (pi/4)
    z = u * u
    p = _muladd(z, _AT2_6, _AT2_5)
    p = _muladd(p, z, _AT2_4)
    p = _muladd(p, z, _AT2_3)
    p = _muladd(p, z, _AT2_2)
    p = _muladd(p, z, _AT2_1)
    p = _muladd(p, z, _AT2_0)
    r = _muladd(u * z, p, u)
    neg = (_bits(xd) & _SIGN_BIT) != 0
    r = -r if swap != neg else r
    c = (_PI3_4_HI if neg else _PI_4_HI) if big or lo == np.inf else (_PI_2_HI if swap else (_PI_HI if neg else 0.0))
    v = _copysign(c + r, yd)
    return np.float32(np.nan if (xd != xd or yd != yd) else v)


# --- sin and cos of a float32 -----------------------------------------------------------------------
# A float32 x is M * 2**(e - 23) with M < 2**24 an integer and -149 <= e <= 127. Its
# angle in quarter turns, x * 2/pi, is taken modulo 4 exactly (Payne-Hanek's idea):
# T = (2/pi * 2**(e - 23)) mod 4 is 2/pi's binary digits from the (e - 24)th on (e >= 25;
# below, 2/pi * 4 scaled by 2**(e - 25): no multiple of 4 to drop), cut out of four 64-bit
# words of them with shifts (`_trig_window`) as t0 + t1 + t2, t0 of 28 bits and t1 of 27,
# so that M*t0 and M*t1 are exact doubles; the rounding left is ~2**-80 of a quarter turn,
# far below what the closest float32 to a multiple of pi/2 cancels. No branch, no libm
# call (a loop of np.sin on float32 is a sinf call per element), no load: with a table
# row per exponent (three doubles, a load per lane where LLVM may not gather), a loop of
# sin over 250k float32 took 0.46 ms, 0.32 so (NumPy's AVX-512 sinf: 0.10).
def _two_over_pi_bits(bits: int) -> int:
    """floor(2/pi * 2**bits), from Machin's formula in integers (guard bits: 64)."""
    one = 1 << (bits + 64)

    def arctan_inv(k: int) -> int:  # atan(1/k) * one
        total, term, n, sign = 0, one // k, 1, 1
        while term:
            total += sign * (term // n)
            term //= k * k
            n, sign = n + 2, -sign
        return total

    pi = 16 * arctan_inv(5) - 4 * arctan_inv(239)
    return (2 * one << bits) // pi


def _int64(v: int) -> np.int64:
    """The int64 with the bits of the unsigned 64-bit v."""
    return np.int64(v - (1 << 64) if v >= 1 << 63 else v)


_TWO_OVER_PI = _two_over_pi_bits(256)
_G0, _G1, _G2, _G3 = (_int64((_TWO_OVER_PI >> (192 - 64 * i)) & ((1 << 64) - 1)) for i in range(4))
_LOW63 = np.int64(0x7FFFFFFFFFFFFFFF)
_INT_BITS = np.int64(0x4330000000000000)  # 2**52's: an integer n < 2**52 in its low bits is 2**52 + n
_TWO52 = 4503599627370496.0
_PI_2 = 1.5707963267948966


@numba.njit(**_JIT_INLINE)
def _shr(v, n):
    """v >> (n + 1) as an unsigned 64-bit shift, 0 <= n <= 63 (two shifts: LLVM's of 64 is poison)."""
    return ((v >> 1) & _LOW63) >> n


@numba.njit(**_JIT_INLINE)
def _small_int_float(n):
    """float64(n) for 0 <= n < 2**52, without cvtqq2pd (AVX-512 only)."""
    return _from_bits(n | _INT_BITS) - _TWO52


@numba.njit(**_JIT_INLINE)
def _trig_window(e):
    """(t0, t1, t2) with t0 + t1 + t2 = (2/pi * 2**(e - 23)) mod 4 to ~2**-105, t0 a
    multiple of 2**-26 below 4 (28 bits), t1 one of 2**-53 below 2**-26, for a float32's
    exponent e (-149..127): the 128 digits of 2/pi from the (max(e, 25) - 24)th on, out of
    the words _G0.._G3, scaled by 2**min(e - 25, 0)."""
    s = e - 25
    sc = max(s, 0)  # <= 102: the words needed are _G0.._G2 or _G1.._G3
    scale = _from_bits((min(s, 0) + 1023) << 52)
    second = (sc >> 6) != 0
    o = sc & 63
    wb = pick(second, _G2, _G1)
    hi = (pick(second, _G1, _G0) << o) | _shr(wb, 63 - o)  # digits sc+1 .. sc+64
    mid = (wb << o) | _shr(pick(second, _G3, _G2), 63 - o)  # sc+65 .. sc+128
    t0 = _small_int_float(_shr(hi, 35)) * (scale * 2.0**-26)
    t1 = _small_int_float(_shr(hi, 8) & 0x7FFFFFF) * (scale * 2.0**-53)
    t2 = _small_int_float(((hi & 0x1FF) << 43) | _shr(mid, 20)) * (scale * 2.0**-105)
    return t0, t1, t2


@numba.njit(**_JIT_INLINE)
def _quarter_turns(ax):
    """(q, r): ax * 2/pi = 4n + q + r exactly enough, q in 0..3, |r| <= 1/2 + 2**-20,
    for ax = |x| of a float32 x widened (0 < ax < inf; others give garbage, selected away)."""
    bits = _bits(ax)
    e = (bits >> 52) - 1023
    m = _from_bits((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000) * 8388608.0  # M, < 2**24
    t0, t1, t2 = _trig_window(e)
    a = m * t0  # exact, < 2**26
    ka = (a + _ROUND_MAGIC) - _ROUND_MAGIC
    b = m * t1  # exact, < 1/4
    a = a - ka
    s = a + b  # Knuth's TwoSum: s + err = a + b exactly
    bb = s - a
    err = (a - (s - bb)) + (b - bb)
    ks = (s + _ROUND_MAGIC) - _ROUND_MAGIC
    r = (s - ks) + (err + m * t2)
    q = (_bits(ka + ks + _ROUND_MAGIC) - _MAGIC_BITS) & 3
    return q, r


# sin(r) = r + r*z*S(z), cos(r) = 1 + z*C(z), z = r*r, |r| <= pi/4 * (1 + 2**-19): near-minimax fits
# of our own (iteratively reweighted least squares on the relative error), S of degree 3 (2**-37.6),
# C of degree 4 (2**-43.6), where Taylor's took one more term each (2**-36)
_SN0, _SN1, _SN2, _SN3 = -0.16666666641624883, 0.008333329385743672, -0.00019839334797327487, 2.718311174516316e-06
_CS0, _CS1, _CS2, _CS3, _CS4 = (-0.4999999999948928, 0.04166666655341798, -0.0013888880658986657,
                                2.479896065178048e-05, -2.7174784470906377e-07)


@numba.njit(**_JIT_INLINE)
def _sin_cos_poly(r):
    """(sin(r), cos(r)) for |r| <= pi/4 (plus a little): the polynomials above in fused
    multiply-adds, errors below 2**-37 of the result (sin_f32 over 10^6 float32, one thread:
    two multiply-adds less a step of 8)."""
    z = r * r
    s = _muladd(_muladd(_muladd(_SN3, z, _SN2), z, _SN1), z, _SN0)
    c = _muladd(_muladd(_muladd(_muladd(_CS4, z, _CS3), z, _CS2), z, _CS1), z, _CS0)
    return _muladd(r, z * s, r), _muladd(z, c, 1.0)


@numba.njit(**_JIT_INLINE)
def _quadrant_value(q, s, c):
    """sin(r + q*pi/2) from s = sin(r), c = cos(r) (q's low two bits)."""
    v = c if (q & 1) != 0 else s
    return -v if (q & 2) != 0 else v


@numba.njit(**_JIT_INLINE)
def _sin_quadrant(ax, shift):
    """sin(ax + shift * pi/2) for ax >= +0 (shift 0: sin, 1: cos); NaN for inf, NaN."""
    q, r = _quarter_turns(ax)
    s, c = _sin_cos_poly(r * _PI_2)
    v = _quadrant_value(q + shift, s, c)
    return np.nan if not (ax < np.inf) else v


# The usual arguments take Cody-Waite's reduction instead, in float64: n = round(x * 2/pi),
# r = x - n*pi/2. With FMA, pi/2 = _PI_2 + _PI_2_TAIL: the first product is exact inside its
# fused multiply-add (x - n*_PI_2 is a multiple of 2**-52 below 2 in magnitude: 53 bits) and
# the second rounded once, so that r is within 2**-52 of its own size plus n * 2**-109 of the
# true remainder; for every float32 below _TRIG_QUICK = 2**30 that keeps sin and cos within
# 2**-36 of the result (all of them checked: bench/mathlib_speed.py --exhaustive). Without
# FMA, pi/2 in three parts, the first two of 33 bits (n * part exact for n < 2**20) and
# _TRIG_QUICK = 2**20 (`_quick_remainder_split`). A loop of sin takes ~90 vector
# instructions per 16 float32 (and a call, `_rare_call`) where the exact reduction inline
# took 225 (1M float32, one thread, Zen 4: 2.3 -> 0.9 ms, NumPy's AVX-512 sinf 0.55).
_PI_2_TAIL = 6.123233995736766e-17  # pi/2 - _PI_2, rounded
_PI_2_A, _PI_2_B, _PI_2_C = 1.5707963267341256, 6.077100506303966e-11, 2.0222662487959506e-21
_INV_PI_2 = 0.6366197723675814  # 2/pi


@numba.njit(**_JIT_INLINE)
def _quick_remainder_fma(xd, n):
    """xd - n*pi/2 for |n| < 2**49 (fused multiply-adds)."""
    return _muladd(-n, _PI_2_TAIL, _muladd(-n, _PI_2, xd))


@numba.njit(**_JIT_INLINE)
def _quick_remainder_split(xd, n):
    """xd - n*pi/2 for |n| < 2**20 without FMA (each product exact but the last)."""
    return ((xd - n * _PI_2_A) - n * _PI_2_B) - n * _PI_2_C


_quick_remainder = _quick_remainder_fma if _HOST_FMA else _quick_remainder_split
_TRIG_QUICK = 2.0**30 if _HOST_FMA else 2.0**20


@numba.njit(**_JIT_INLINE)
def _sin_quick(xd, shift):
    """sin(xd + shift * pi/2) for |xd| < _TRIG_QUICK (garbage above: see sin_f32)."""
    t = _muladd(xd, _INV_PI_2, _ROUND_MAGIC)
    s, c = _sin_cos_poly(_quick_remainder(xd, t - _ROUND_MAGIC))
    return _quadrant_value(_bits(t) + shift, s, c)  # t's low bits: n's (mod 4)


def _sin_f32_exact(xd):
    return _from_bits(_bits(_sin_quadrant(abs(xd), 0)) ^ (_bits(xd) & _SIGN_BIT))  # sin(-x) = -sin(x)


def _cos_f32_exact(xd):
    return _sin_quadrant(abs(xd), 1)


# --- a rare case out of line, in a loop that still vectorizes -----------------------------------------
# Branch-free, the exact reduction would be paid for every lane. As a branch around a call,
# LLVM would not vectorize the loop, unless the call has a vector variant: the scalar function
# (a C callback, registered with LLVM's symbol table by name) carries the attribute
# "vector-function-abi-variant" that names a masked vector function defined in the kernel's
# module (`_vector_variant`), so that the vectorized loop calls that function once per vector
# with the lanes that take the branch; it returns at once when none does, else calls the
# scalar function for its lanes. Kept until the vectorizer runs by @llvm.compiler.used.
# The variant's width is the loop's: 16 for a float32 loop, 8 for a float64 one (512-bit vectors;
# 8 and 4 with AVX). Where none matches, LLVM calls the scalar function lane by lane under a test
# of each lane, every step, with every vector register spilled around the calls: tan_f64 had
# only a 16-wide variant, 10^6 elements, one thread, 3.2 ms, with an 8-wide one 2.5 (1.9 without
# the rare path at all). Offering both widths to one loop made LLVM pick the narrower one for
# float32 (sin_f32: 1.0 -> 1.5 ms): each symbol has its own, by the element type of its callers.
_RARE_WIDTHS = (16,) if WIDE_VECTORS else (8,) if "+avx" in _HOST_FEATURES else (4,)
_RARE_WIDTHS_64 = tuple(w // 2 for w in _RARE_WIDTHS)
_RARE_ATTRIBUTES = ("nounwind", "willreturn", "nosync", "memory(none)")  # not speculatable: stays predicated
# The variants' calling convention, which the vectorizer gives its calls too: Intel's OpenCL one
# keeps zmm16-31 (ymm8-15 with AVX, xmm8-15 without) across the call, so that the loop holds its
# constants there instead of spilling every vector register around the call of every step; the
# variant saves them only where a lane takes the rare path. 10^6 elements, one thread, Zen 4, with
# the 8-wide variant above (A/B in one process): sin_f32 0.88 -> 0.81 ms (0.73-0.80 with no rare
# path), cos_f32 0.90 -> 0.80, tan_f32 0.78 -> 0.66, tan_f64 2.46 -> 2.01 (NumPy 0.53, 0.56, 0.41, 1.37).
# Only with AVX-512 (zmm16-31): on an AVX2 CPU (Zen 3, session 53) the loop around pow_f32 gave
# 0 for lanes 2 and 3 of every later vector once one lane had taken the rare path (2**0 = 0:
# tests/codegen/test_mathlib_pow.py test_pow_special_values[float32]); with the C convention, right.
_RARE_CC = ("intel_ocl_bicc" if llvm_binding.get_process_triple().startswith("x86_64") and "+avx512f" in _HOST_FEATURES
            else "")
_RARE_SYMBOLS: dict[str, tuple[int, ...]] = {}  # symbol -> its vector variants' widths


_RARE_FLOAT32: set[str] = set()  # the symbols that take and return a float32 (the others: float64)
# Every module that makes a rare call defines the variants of the symbols it calls (before session 55:
# of every symbol registered then), and Numba's
# disk cache of a function is keyed on its own file's text only: removing or renaming a symbol here
# leaves cached code of unchanged files (mathlib_exp.py, mathlib_trig.py) calling a missing symbol
# (address 0: a crash). Clear those files' __pycache__ entries when doing so; adding one is harmless.


_RARE_ARITY: dict[str, int] = {}  # symbol -> its number of arguments (1, or 2: pow's)


def _rare_symbol(symbol: str, pyfunc, widths: tuple[int, ...] = _RARE_WIDTHS, kind=types.float64,
                 arity: int = 1) -> str:
    """Register `symbol`, pyfunc (kind -> kind, or (kind, kind) -> kind for arity 2; kind float64 or
    float32) as a C callback for the code that calls it; its vector variants have `widths` lanes
    (those of the loops that call it). The callback is compiled (from the disk cache) when first
    needed (`_need_rare`), not at import: 12 of them cost each process that imports mathlib
    0.14 s, and Numba's first-use costs (~2 s) in one that compiles no kernel (explain)."""
    _RARE_SYMBOLS[symbol] = widths
    _RARE_ARITY[symbol] = arity
    if kind == types.float32:
        _RARE_FLOAT32.add(symbol)
    _RARE_PENDING[symbol] = (pyfunc, kind, arity)
    return symbol


_RARE_PENDING: dict[str, tuple] = {}  # symbol -> (pyfunc, kind, arity): its callback not compiled yet


def _need_rare(symbols=None) -> None:
    """Compile the pending callbacks (of `symbols`, or all) and register their addresses, before
    code that calls them is linked: when a function that makes a rare call is typed (`_rare_call`;
    its module then defines that symbol's variants only) and when cached code
    naming one is read (cache.py `LOAD_HOOKS`: a kernel or helper from the disk cache)."""
    from numba.core.ccallback import CFunc
    from numba.core.compiler_lock import global_compiler_lock

    from looptrace.codegen.cpu.cache import harden, harden_module

    with global_compiler_lock:
        for symbol in [s for s in _RARE_PENDING if symbols is None or s in symbols]:
            entry = _RARE_PENDING.pop(symbol, None)  # (first: the callback's own load may call back)
            if entry is None:
                continue  # (compiled meanwhile, by such a call back)
            pyfunc, kind, arity = entry
            try:
                harden_module(pyfunc.__module__)  # the functions it calls read their disk cache as they wrote it
                cfunc = CFunc(pyfunc, ((kind,) * arity, kind), locals={}, options=dict(error_model="numpy"))
                cfunc.enable_caching()
                harden(cfunc)
                cfunc.compile()
            except BaseException:
                _RARE_PENDING[symbol] = (pyfunc, kind, arity)
                raise
            llvm_binding.add_symbol(symbol, cfunc.address)
            _RARE_CALLBACKS[symbol] = cfunc


_RARE_CALLBACKS: dict = {}  # symbol -> its compiled CFunc (kept: its code lives as long as it does)


def _rare_in_cached_code(payload: bytes) -> None:
    """cache.py's hook on every verified data file read: the callbacks its code names."""
    if _RARE_PENDING:
        named = [s for s in _RARE_PENDING if s.encode() in payload]
        if named:
            _need_rare(named)


from looptrace.codegen.cpu.cache import LOAD_HOOKS  # noqa: E402

LOAD_HOOKS.append(_rare_in_cached_code)


def _rare_lltype(symbol: str):
    """The LLVM element type of symbol's argument and result."""
    return ir.FloatType() if symbol in _RARE_FLOAT32 else ir.DoubleType()


def _vector_variant(module, symbol: str, width: int):
    """`<width x double> symbol_v<width>(<width x double> x, <width x i1> mask)` (float for a
    float32 symbol; x, y for a symbol of two arguments): symbol of every lane of x if any lane of
    mask is set (the others' results are ignored)."""
    vec = ir.VectorType(_rare_lltype(symbol), width)
    arity = _RARE_ARITY.get(symbol, 1)
    fn = ir.Function(module, ir.FunctionType(vec, [vec] * arity + [ir.VectorType(ir.IntType(1), width)]),
                     f"{symbol}_v{width}")
    fn.linkage = "linkonce_odr"  # (one copy where Numba links modules that each define it: the same body)
    if _RARE_CC:
        fn.calling_convention = _RARE_CC
    fn.attributes.add("nounwind")  # (no unwind table: its register saves move into the taken branch)
    scalar = _declare_rare(module, symbol)
    entry, some, done = fn.append_basic_block("entry"), fn.append_basic_block("some"), fn.append_basic_block("done")
    builder = ir.IRBuilder(entry)
    mask = builder.bitcast(fn.args[arity], ir.IntType(width))
    builder.cbranch(builder.icmp_unsigned("!=", mask, ir.Constant(ir.IntType(width), 0)), some, done)
    builder.position_at_end(some)
    out = ir.Constant(vec, ir.Undefined)
    for i in range(width):
        lane = ir.Constant(ir.IntType(32), i)
        lanes = [builder.extract_element(fn.args[j], lane) for j in range(arity)]
        out = builder.insert_element(out, builder.call(scalar, lanes), lane)
    builder.branch(done)
    builder.position_at_end(done)
    result = builder.phi(vec)
    result.add_incoming(ir.Constant(vec, ir.Undefined), entry)
    result.add_incoming(out, some)
    builder.ret(result)
    return fn


def _declare_rare(module, symbol: str):
    """The scalar function's declaration in module, with its vector variants' names."""
    if symbol in module.globals:
        return module.globals[symbol]
    element = _rare_lltype(symbol)
    arity = _RARE_ARITY.get(symbol, 1)
    fn = ir.Function(module, ir.FunctionType(element, [element] * arity), symbol)
    variants = ",".join(f"_ZGV_LLVM_M{w}{'v' * arity}_{symbol}({symbol}_v{w})" for w in _RARE_SYMBOLS[symbol])
    for attribute in (*_RARE_ATTRIBUTES, f'"vector-function-abi-variant"="{variants}"'):
        set.add(fn.attributes, attribute)  # (llvmlite checks names against its own list)
    return fn


def _define_variants(module, symbol: str) -> None:
    """symbol's vector variants, once per module, kept for the vectorizer: only
    the symbols the module calls (the variants of all 24 made each callback
    load with the code, lazily or not: `_rare_in_cached_code`)."""
    if f"{symbol}_v{_RARE_SYMBOLS[symbol][0]}" in module.globals:
        return
    kept = module.globals.get("llvm.compiler.used")
    if kept is not None and not getattr(kept, "looptrace_variants", False):
        return  # (someone else's @llvm.compiler.used: the loop stays scalar, its results the same)
    fns = [_vector_variant(module, symbol, w) for w in _RARE_SYMBOLS[symbol]]
    ptr = ir.IntType(8).as_pointer()
    if kept is None:
        kept = ir.GlobalVariable(module, ir.ArrayType(ptr, 0), "llvm.compiler.used")
        kept.linkage = "appending"
        kept.section = "llvm.metadata"
        kept.initializer = ir.Constant(ir.ArrayType(ptr, 0), [])
        kept.looptrace_variants = True
    _keep_too(kept, [f.bitcast(ptr) for f in fns])


def _keep_too(kept, pointers: list) -> None:
    """Append `pointers` to the @llvm.compiler.used array `kept` (ours: no
    instruction refers to it, so its type may grow with its initializer)."""
    items = [*kept.initializer.constant, *pointers]
    array = ir.ArrayType(ir.IntType(8).as_pointer(), len(items))
    kept.value_type, kept.type = array, array.as_pointer()
    kept.initializer = ir.Constant(array, items)


def _rare_codegen(symbol: str):
    def codegen(context, builder, signature, args):
        _define_variants(builder.module, symbol)
        return builder.call(_declare_rare(builder.module, symbol), list(args))

    return codegen


def _rare_call(symbol: str):
    """An intrinsic f(x) -> x's type (float64, or float32 for a float32 symbol), or f(x, y) for a
    symbol of two arguments, that calls the registered `symbol`, meant for a branch taken by few
    elements (see above)."""
    kind = types.float32 if symbol in _RARE_FLOAT32 else types.float64
    if _RARE_ARITY.get(symbol, 1) == 2:
        @intrinsic
        def call2(typingctx, x, y):
            _need_rare((symbol,))
            return (kind(kind, kind), _rare_codegen(symbol)) if x == kind and y == kind else None

        return call2

    @intrinsic
    def call(typingctx, x):
        _need_rare((symbol,))
        return (kind(kind), _rare_codegen(symbol)) if x == kind else None

    return call


_sin_f32_huge = _rare_call(_rare_symbol("looptrace_sin_f32_huge", _sin_f32_exact))
_cos_f32_huge = _rare_call(_rare_symbol("looptrace_cos_f32_huge", _cos_f32_exact))


@numba.njit(**_JIT_INLINE)
def sin_f32(x):
    """np.sin for a float32: Cody-Waite's reduction in float64 below _TRIG_QUICK, the exact
    one above (and for inf, NaN) out of line; float64 series, one final rounding
    (sin(+-0) = +-0, sin(+-inf) = nan)."""
    xd = np.float64(x)
    v = pick(xd == 0.0, xd, _sin_quick(xd, 0))  # sin(-0.0) = -0.0
    if not (abs(xd) < _TRIG_QUICK):
        v = _sin_f32_huge(xd)
    return np.float32(v)


@numba.njit(**_JIT_INLINE)
def cos_f32(x):
    """np.cos for a float32: as sin_f32, a quarter turn on (cos(+-0) = 1, cos(+-inf) = nan)."""
    xd = np.float64(x)
    v = _sin_quick(xd, 1)
    if not (abs(xd) < _TRIG_QUICK):
        v = _cos_f32_huge(xd)
    return np.float32(v)


@numba.njit(**_JIT_INLINE)
def _log_f64_inline(x):
    """log_f64's steps, inlined by Numba into log_f64."""
    sub = x < _MIN_NORMAL
    y = _log_positive(x * _TWO54 if sub else x)
    y = y - 54.0 * _LN2_HI - 54.0 * _LN2_LO if sub else y
    y = -np.inf if x == 0.0 else y
    y = np.nan if x < 0.0 else y
    return y if x < np.inf else x


# --- log of a float32, in float32 arithmetic, its rare arguments out of line -------------------------
# x = 2**k * (1 + f) from the bits, sqrt(1/2) <= 1 + f < sqrt(2) (f exact), then a polynomial in f
# (for log: ln(1 + f) = f + f*f*S(f), S of degree 7, 2**-25.0 relative; log2 and log10 in
# mathlib_exp.py), and k*ln2 added in double-float. Only a positive normal x takes these steps: 0,
# subnormals, negatives, inf and NaN (bits outside [2**-126, inf)) take the float64 function out of
# line, rounded to float32 (`_rare_call`: the vector loop calls it only where a lane has one). Branch-
# free, their selects and a subnormal's scaling were 13 of the loop's 43 vector instructions.
_LOG32_USUAL_LO, _LOG32_USUAL_HI = 0x00800000, 0x7F800000  # the bits of 2**-126 and inf
# ln(1 + f) = f + f*f*S(f) on sqrt(1/2) - 1 <= f < sqrt(2) - 1: degree 7, 2**-25.0 relative (a fit of our
# own: Lawson's iteration on the relative error, coefficients rounded to float32 one by one, refitted)
_S0, _S1, _S2, _S3, _S4, _S5, _S6, _S7 = (_F32(c) for c in (-0.49999991059303284, 0.33333948254585266,
                                                            -0.25001785159111023, 0.1996215581893921,
                                                            -0.1657002717256546, 0.14916780591011047,
                                                            -0.1430990993976593, 0.08740542083978653))


@numba.njit(**_JIT_INLINE)
def _log32_split(x):
    """(kf, f, usual) for a float32 x: x = 2**k * (1 + f), sqrt(1/2) <= 1 + f < sqrt(2), kf = float32(k),
    where usual (x a positive normal finite float32); kf and f are garbage where not."""
    ix = _bits32(x)
    usual = (ix >= _LOG32_USUAL_LO) & (ix < _LOG32_USUAL_HI)  # (no branch: one unsigned compare)
    iy = _int32(ix - _SQRT_HALF_BITS_32)  # the exponent rolls over at sqrt(2)
    f = _from_bits32((iy & 0x007FFFFF) + _SQRT_HALF_BITS_32) - _ONE_32
    return _float32_of(iy >> 23), f, usual


@numba.njit(**_JIT_INLINE)
def _ln32_usual(kf, f):
    """ln(2**k * (1 + f)) in float32: k*ln2 (ln2 in a 9-bit part, k times it exact, and the rest) +
    f + f*f*S(f), the small terms summed first; < 1 ulp before the final rounding."""
    s = _muladd(_S7, f, _S6)
    s = _muladd(s, f, _S5)
    s = _muladd(s, f, _S4)
    s = _muladd(s, f, _S3)
    s = _muladd(s, f, _S2)
    s = _muladd(s, f, _S1)
    s = _muladd(s, f, _S0)
    return _muladd(kf, _LN2_HI_32, f + _muladd(f * f, s, kf * _LN2_LO_32))


def _log_f32_other(x):
    return np.float32(log_f64(np.float64(x)))


_log_f32_rare = _rare_call(_rare_symbol("looptrace_log_f32_other", _log_f32_other, kind=types.float32))


@numba.njit(**_JIT_INLINE)
def log_f32(x):
    """np.log for a float32, <= 1 ulp of the float64 result rounded: `_ln32_usual` for a positive
    normal x, log_f64 rounded (out of line) for the others (log(0) = -inf, log(x < 0) = nan,
    log(inf) = inf, NaN, subnormals)."""
    x = _F32(x)
    kf, f, usual = _log32_split(x)
    y = _ln32_usual(kf, f)
    if not usual:
        y = _log_f32_rare(x)
    return y


# --- exact products (double-double arithmetic) ------------------------------------------------------
_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitting constant


@numba.njit(**_JIT_INLINE)
def _mul_err_dekker(a, b, p):
    """a*b - p exactly, p = fl(a*b), without FMA: Dekker's product of halves
    (|a|, |b| < 2**995)."""
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


if _HOST_FMA:
    @numba.njit(**_JIT_INLINE)
    def _mul_err(a, b, p):
        """a*b - p exactly, for p = fl(a*b): one fused multiply-add."""
        return _muladd(a, b, -p)
else:
    _mul_err = _mul_err_dekker


# --- x ** 3 and x ** 4 of float64 (scalar.py `exact_small_power`) ----------------------------------
# The plain products x*x*x and (x*x)*(x*x) round twice: up to 2 ulp from NumPy's pow (x ** 4: 38% of
# random arguments off, 2 ulp at most; x ** 3: 20%, 1 ulp). With x*x as a double-double (h + l, an
# FMA) and one final fused rounding they are within ~0.5 ulp of the exact power (<= 1 ulp of NumPy's;
# measured over 3e5 arguments each: 1 ulp at most), at four more vector instructions an element.
@numba.njit(**_JIT_INLINE)
def pow3_f64(x):
    """x ** 3 of a float64, rounded once from h*x + l*x (x*x = h + l exactly); inf, NaN, -0.0,
    overflow and underflow as pow."""
    x = np.float64(x)
    h = x * x
    p = h * x
    v = _muladd(h, x, _mul_err(x, x, h) * x)
    return v if abs(p) < np.inf else p  # (where p overflows, l*x may too, with l's sign)


@numba.njit(**_JIT_INLINE)
def pow4_f64(x):
    """x ** 4 of a float64, rounded once from h*h + 2*h*l (x*x = h + l exactly, l*l < 2**-105 of it
    dropped); inf, NaN, overflow and underflow as pow."""
    x = np.float64(x)
    h = x * x
    p = h * h
    v = _muladd(h, h, 2.0 * h * _mul_err(x, x, h))
    return v if p < np.inf else p


# --- x ** y of float64 ------------------------------------------------------------------------------
# log(x) in double-double: x = 2**k * m, m in [sqrt(3)/2, sqrt(3)), c = 1 or 1.5 (m's side of
# sqrt(3/2)), s = (m - c)/(m + c) as a double-double (|s| <= 0.101), log(m/c) = 2 atanh(s) =
# 2s + 2s**3/3 + s**5 * Q(s*s), the first two terms in double-double and Q (Taylor, to s**21)
# in double; plus k*ln2 + log(c) in double-double. Relative error ~2**-68. No table: a loop of
# it needs no gathers.
_SQRT3_HALF_BITS = 0x3FEBB67AE8584CAA  # sqrt(3)/2: where m's range starts
_SQRT3_2 = 1.224744871391589
_LOG1_5_HI, _LOG1_5_LO = 0.4054651081081644, -2.8811380259626426e-18
_C3_HI, _C3_LO = 0.6666666666666666, 3.700743415417188e-17  # 2/3


@numba.njit(**_JIT_INLINE)
def _two_sum(a, b):
    """(s, e) with s = fl(a + b) and s + e = a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@numba.njit(**_JIT_INLINE)
def _fast_two_sum(a, b):
    """(s, e) with s = fl(a + b) and s + e = a + b exactly, for |a| >= |b| or
    a = 0 (Dekker's Fast2Sum: three additions where `_two_sum` takes six)."""
    s = a + b
    return s, b - (s - a)


@numba.njit(**_JIT_INLINE)
def _log_dd(ax):
    """(hi, lo) with hi + lo = log(ax) to ~2**-68 relative, |lo| <= ulp(hi)/2,
    for 0 < ax < inf (for 0, inf and NaN finite garbage or NaN, without a trap).
    Products plus sums are fused multiply-adds, and each sum whose larger part
    is known a Fast2Sum (`_exp_dd` likewise): an SIMD loop of pow is bound by
    its additions (the Zen 4 of bench/README.md issues two 512-bit adds a
    cycle), 63 of its 184 instructions before, 43 of 165 now (x ** 0.45 over
    250k float64, one thread: 1.10 -> 0.89 ms; NumPy's SVML pow 0.39)."""
    sub = ax < _MIN_NORMAL
    return _log_dd_bits(_bits(ax * _TWO54 if sub else ax), 54 if sub else 0)


@numba.njit(**_JIT_INLINE)
def _log_dd_bits(ix, shift):
    """`_log_dd` of the positive normal float64 with the bits ix, times 2**-shift."""
    # m in [sqrt(3)/2, sqrt(3)) straight from the bits, the exponent rolling over at sqrt(3)/2 (a
    # compare and a multiply less: pow over 10^6 float64, one thread, with `pow_f64`'s selects
    # gone, 5.0 -> 4.6 ms)
    bits = ix - _SQRT3_HALF_BITS
    k = (bits >> 52) - shift
    m = _from_bits((bits & 0x000FFFFFFFFFFFFF) + _SQRT3_HALF_BITS)
    mid = m >= _SQRT3_2
    c = 1.5 if mid else 1.0
    u = m - c  # exact (Sterbenz)
    dh = m + c
    dl = m - (dh - c)  # exact: c's exponent is at least m's
    inv = 1.0 / dh
    sh = u * inv
    p = sh * dh
    sl = _muladd(-sh, dl, (u - p) - _mul_err(sh, dh, p)) * inv  # s = sh + sl
    ah = 2.0 * sh
    zh = sh * sh
    zl = _muladd(ah, sl, _mul_err(sh, sh, zh))  # s**2 = zh + zl
    s3h = zh * sh
    s3l = _mul_err(zh, sh, s3h) + _muladd(zh, sl, zl * sh)  # s**3 = s3h + s3l
    q = _muladd(2.0 / 19.0, zh, 2.0 / 17.0)  # the next term, 2s**21/21 < 2**-72 of log(m/c): dropped
    q = _muladd(q, zh, 2.0 / 15.0)
    q = _muladd(q, zh, 2.0 / 13.0)
    q = _muladd(q, zh, 2.0 / 11.0)
    q = _muladd(q, zh, 2.0 / 9.0)
    q = _muladd(q, zh, 2.0 / 7.0)
    q = _muladd(q, zh, 2.0 / 5.0)
    t3h = _C3_HI * s3h
    t3l = _mul_err(_C3_HI, s3h, t3h) + _muladd(_C3_HI, s3l, _C3_LO * s3h)
    bh, b_err = _fast_two_sum(ah, t3h)  # |2s| > |t3|
    bl = b_err + _muladd(s3h, zh * q, 2.0 * sl + t3l)
    dk = _from_bits(k + _MAGIC_BITS) - _ROUND_MAGIC  # float64(k) without cvtqq2pd
    # |k*ln2 + log(c)| >= 0.287 > 0.203 >= |log(m/c)| where not 0: Fast2Sums
    h1, e1 = _fast_two_sum(dk * _LN2_HI, _LOG1_5_HI if mid else 0.0)  # k*_LN2_HI is exact
    h2, e2 = _fast_two_sum(h1, bh)
    return _fast_two_sum(h2, (e1 + e2) + (_muladd(dk, _LN2_LO, _LOG1_5_LO if mid else 0.0) + bl))  # normalized


@numba.njit(**_JIT_INLINE)
def _exp_dd(th, tl):
    """e**(th + tl) for |tl| <= ~ulp(th), before its final rounding within ~2**-58 relative:
    exp's reduction with the rounding of r kept (r + rl), e**r = 1 + r + r*r/2 + r**3 * P(r)
    summed in double-double, times (1 + rl), then scaled by 2**k (overflow to inf, gradual
    underflow)."""
    x = _clamp_exp_arg(th)
    tl = tl if x == th else 0.0  # clamped (overflow, underflow) or NaN
    t = _muladd(x, _LOG2E, _ROUND_MAGIC)
    kf = t - _ROUND_MAGIC
    k = _bits(t) - _MAGIC_BITS
    r1 = _muladd(-kf, _LN2_HI, x)  # exact
    # Fast2Sum: exact where |r1| >= |k*_LN2_LO| (<= 2**-22); where not, r is below 2**-21 and
    # rl's error below 2**-74
    r, rl = _fast_two_sum(r1, -(kf * _LN2_LO))
    h2, lo = _exp_r_dd(r, rl + tl)
    return _scale(h2 + lo, k)


@numba.njit(**_JIT_INLINE)
def _exp_dd_normal(th, tl):
    """`_exp_dd` for |th| <= _POW_USUAL (a normal result: 2**k one exact multiply, no clamp)."""
    t = _muladd(th, _LOG2E, _ROUND_MAGIC)
    kf = t - _ROUND_MAGIC
    r1 = _muladd(-kf, _LN2_HI, th)  # exact
    r, rl = _fast_two_sum(r1, -(kf * _LN2_LO))
    h2, lo = _exp_r_dd(r, rl + tl)
    return (h2 + lo) * _from_bits((_bits(t) - _MAGIC_BITS + 1023) << 52)


@numba.njit(**_JIT_INLINE)
def _exp_r_dd(r, rl):
    """(h, l) with h + l = e**(r + rl) to ~2**-62 relative, for |r| <= 0.35 and |rl| <= 2**-40:
    1 + r + r*r/2 summed in double-double (Fast2Sums), r**3 * P(r) (Taylor to r**14) on top,
    times (1 + rl): pow's exp, and mathlib_exp.py's exp2."""
    r2h = r * r
    r2l = _mul_err(r, r, r2h)
    p = 1.0 / 87178291200.0
    p = _muladd(p, r, 1.0 / 6227020800.0)
    p = _muladd(p, r, 1.0 / 479001600.0)
    p = _muladd(p, r, 1.0 / 39916800.0)
    p = _muladd(p, r, 1.0 / 3628800.0)
    p = _muladd(p, r, 1.0 / 362880.0)
    p = _muladd(p, r, 1.0 / 40320.0)
    p = _muladd(p, r, 1.0 / 5040.0)
    p = _muladd(p, r, 1.0 / 720.0)
    p = _muladd(p, r, 1.0 / 120.0)
    p = _muladd(p, r, 1.0 / 24.0)
    p = _muladd(p, r, 1.0 / 6.0)
    h, e1 = _fast_two_sum(1.0, r)  # |r| < 1
    h2, e2 = _fast_two_sum(h, 0.5 * r2h)  # h > 0.6 > r*r/2
    c3 = r2h * r * p
    return h2, (e1 + e2) + _muladd(0.5, r2l, _muladd(rl, h2 + c3, c3))  # e**(r + rl) = e**r * (1 + rl)


@numba.njit(**_JIT_INLINE)
def _pow_result(x, y, v):
    """pow(x, y) from v = |x| ** y computed for finite nonzero x and finite
    y: C99's (and NumPy's) special values chosen around it, branch-free."""
    ax = abs(x)
    y_int = np.floor(y) == y  # +-inf count as even integers, as in C99
    half = y * 0.5
    y_odd = y_int and np.floor(half) != half
    # |x| = 0 or inf, or y = +-inf: inf where |x| ** y grows (|x| > 1 and y > 0, or |x| < 1 and
    # y < 0; 0 counts as below 1), else 0; and 1 for |x| = 1 (y = +-inf)
    edge = (np.inf if (ax > 1.0) == (y > 0.0) else 0.0) if ax != 1.0 else 1.0
    v = edge if (ax == 0.0 or ax == np.inf or abs(y) == np.inf) else v
    v = -v if (y_odd and (_bits(x) & _SIGN_BIT) != 0) else v  # (-x)**odd: -(x**odd), -0 and -inf too
    v = np.nan if (x < 0.0 and x > -np.inf and not y_int) else v
    v = np.nan if (x != x or y != y) else v
    return 1.0 if (y == 0.0 or x == 1.0) else v


def _pow_f64_other(x, y):
    """pow_f64 of the arguments `_pow_usual` leaves out (a C callback, `_rare_call`)."""
    ax = abs(x)
    lh, ll = _log_dd(ax)
    th = y * lh
    tl = _muladd(y, ll, _mul_err(y, lh, th))
    return _pow_result(x, y, _exp_dd(th, tl))


_pow_f64_rare = _rare_call(_rare_symbol("looptrace_pow_f64_other", _pow_f64_other, _RARE_WIDTHS_64, arity=2))
# pow_f64 takes its common path, `_log_dd_bits` and `_exp_dd_normal`, where |x| is a normal float64 and
# |y * log|x|| <= _POW_USUAL (the result a normal float64: no clamp, no subnormal scaling, 2**k one
# multiply) and y finite (else y * log|x| is inf or NaN); x < 0 there is a sign or NaN (y not an integer).
# The others (0, subnormals, inf, NaN, huge and tiny results: C99's cases of `_pow_result`) call
# `_pow_f64_other` out of line (`_rare_call`, a symbol of two arguments), the same function as before
# (results bitwise equal over 1.4e7 points, specials included). The branch-free selects, the clamp and
# the subnormal scaling went: the loop of 8 float64 (AVX-512) 174 -> 147 instructions (Zen 4, loaded,
# 10^6 elements, one thread, one process: a ** b 13.1 -> 8.1 ms, x ** 1.7 8.9 -> 7.8; NumPy 3.1, 6.9).
_POW_USUAL = 708.0  # e**-708 > 2**-1022: normal
_ABS_MASK, _MIN_NORMAL_BITS, _INF_BITS = 0x7FFFFFFFFFFFFFFF, 0x0010000000000000, 0x7FF0000000000000


@numba.njit(**_JIT)
def pow_f64(x, y):
    """np.power(x, y) for float64 (any real x and y, converted here): a call of
    _pow_of_floats, whose long body Numba so compiles for (float64, float64)
    only; a kernel's int64, float32 or int32 exponent was each another
    version of it (2.4 s of a first compile each), this one's is ~0.1 s. LLVM
    inlines both into the caller's loop (_inline_into_callers)."""
    _inline_into_callers()
    return _pow_of_floats(np.float64(x), np.float64(y))


@numba.njit(**_JIT)
def _pow_of_floats(x, y):
    """np.power(x, y) of two float64: exp(y * log|x|) with the log in double-
    double and the exp taking the product's low part, so that the result
    before its last rounding is within ~2**-56 of x**y's (<= 1 ulp from the
    correctly rounded result); C99's special values; no libm call (Numba's
    np.power is a pow call per element, which no loop vectorizes)."""
    _inline_into_callers()
    ix = _bits(x) & _ABS_MASK
    lh, ll = _log_dd_bits(ix, 0)
    th = y * lh
    tl = _muladd(y, ll, _mul_err(y, lh, th))
    v = _exp_dd_normal(th, tl)
    y_int = np.floor(y) == y
    half = y * 0.5
    neg = x < 0.0
    v = -v if (neg and y_int and np.floor(half) != half) else v  # (-x)**odd: -(x**odd)
    v = np.nan if (neg and not y_int) else v
    if not ((ix >= _MIN_NORMAL_BITS) & (ix < _INF_BITS) & (abs(th) <= _POW_USUAL)):
        v = _pow_f64_rare(x, y)
    return v


# --- x ** y of float32 ------------------------------------------------------------------------------
# 2**(y * log2|x|) in float64, each step to ~2**-35 relative (minimax fits of
# our own): |y * log2|x|| <= 160 where the result is neither 0 nor inf in float32, so the
# product's error stays below 2**-30 and the result's before its one rounding to float32 far
# below float32's half ulp (2**-24). A float32 x is a normal float64 (or 0, inf, NaN): no
# subnormal scaling, and m = x / 2**k has 24 significant bits, so m - 1 and m + 1 are exact.
# log2(m) = s * Q(s*s), s = (m - 1)/(m + 1), for sqrt(1/2) <= m < sqrt(2) (s*s <= 0.0295):
# degree 4, 2**-37.8 relative. 2**r for |r| <= 1/2: degree 7, 2**-34.5 relative.
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # sqrt(1/2): where the mantissa's range starts
_MANTISSA = 0x000FFFFFFFFFFFFF
_Q0, _Q1, _Q2, _Q3, _Q4 = (2.8853900817900837, 0.9617966733439475, 0.5770835845940832, 0.4116727393645364,
                           0.34072975866761673)
_P0, _P1, _P2, _P3 = 0.9999999999616271, 0.6931471807290073, 0.2402265119870442, 0.05550410351884995
_P4, _P5, _P6, _P7 = 0.009618027178144847, 0.0013333923622105628, 0.0001546931586977416, 1.5201724559433562e-05
_EXP2_HI_32 = 130.0  # 2**130 overflows float32: clamping there keeps 2**k a normal float64
_EXP2_LO_32 = -160.0  # 2**-160 rounds to 0 in float32


@numba.njit(**_JIT_INLINE)
def _log2_f32(ax):
    """log2(ax) in float64 to ~2**-37 relative for ax >= 0 with a normal float64 (or 0, inf,
    NaN): -inf at 0, inf at inf, NaN for NaN."""
    l2 = _log2_normal(ax)
    l2 = -np.inf if ax == 0.0 else l2
    return l2 if ax < np.inf else ax  # inf, NaN


@numba.njit(**_JIT_INLINE)
def _log2_normal(ax):
    """`_log2_f32`'s steps for a positive normal float64 ax (garbage for the others)."""
    bits = _bits(ax) - _SQRT_HALF_BITS  # the exponent rolls over at sqrt(2)
    dk = _from_bits((bits >> 52) + _MAGIC_BITS) - _ROUND_MAGIC  # float64(k) without cvtqq2pd
    m = _from_bits((bits & _MANTISSA) + _SQRT_HALF_BITS)
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    z2 = z * z
    q = _muladd(_muladd(_muladd(_Q4, z, _Q3), z, _Q2), z2, _muladd(_Q1, z, _Q0))  # Estrin's scheme
    return _muladd(s, q, dk)


@numba.njit(**_JIT_INLINE)
def _pow_core_f32(ax, yd):
    """2**(yd * log2(ax)) in float64 for ax = |x| of a float32 x widened: within
    ~2**-30 relative where float32 holds it; 0 or 2**130 where the result is 0
    or inf in float32 (log2 0 = -inf, log2 inf = inf); NaN for a NaN. (x's
    exponent and mantissa split in float32 lanes instead, with a subnormal's
    scaling: 0.31 -> 0.40 ms.)"""
    t = yd * _log2_f32(ax)
    t = _EXP2_HI_32 if t > _EXP2_HI_32 else t
    t = _EXP2_LO_32 if t < _EXP2_LO_32 else t  # NaN stays
    return _exp2_wide(t)


@numba.njit(**_JIT_INLINE)
def _exp2_wide(t):
    """2**t in float64 to ~2**-34 relative for |t| <= 1022 (a normal float64), NaN for a NaN."""
    tk = t + _ROUND_MAGIC
    r = t - (tk - _ROUND_MAGIC)  # exact, |r| <= 1/2
    r2 = r * r
    p = _muladd(_muladd(_P7, r, _P6), r2, _muladd(_P5, r, _P4))  # Estrin's scheme
    p = _muladd(p, r2 * r2, _muladd(_muladd(_P3, r, _P2), r2, _muladd(_P1, r, _P0)))
    return p * _from_bits((_bits(tk) - _MAGIC_BITS + 1023) << 52)  # times 2**k, a normal float64


@numba.njit(**_JIT_INLINE)
def _pow_f32_full(x, y):
    """pow_f32 of every argument, branch-free (before session 52 pow_f32 itself; now its rare path)."""
    xd = np.float64(x)
    y = _F32(y)  # (an integer y as NumPy casts it)
    yd = np.float64(y)
    ax = abs(xd)
    v = _pow_core_f32(ax, yd)
    y_int = np.floor(y) == y  # +-inf count as even integers, as in C99; in float32: half the lanes' work
    half = y * _HALF_32
    y_odd = y_int and np.floor(half) != half
    # x**0 = 1 (a NaN x too) and (+-1)**y = 1 (+-inf and NaN y too: the core's 0*inf NaN away); for
    # x = -1 the sign and the NaN below still apply, as C99 wants ((-1)**nan is nan). One select.
    v = 1.0 if (y == 0.0 or ax == 1.0) else v
    v = -v if (y_odd and (_bits(xd) & _SIGN_BIT) != 0) else v  # (-x)**odd: -(x**odd), -0 and -inf too
    v = np.nan if (xd < 0.0 and xd > -np.inf and not y_int) else v
    return np.float32(v)


def _pow_f32_other(x, y):
    return _pow_f32_full(x, y)


_pow_f32_rare = _rare_call(_rare_symbol("looptrace_pow_f32_other", _pow_f32_other, _RARE_WIDTHS_64,
                                        kind=types.float32, arity=2))
_POW32_USUAL = 1000.0  # |y * log2|x|| below: 2**t a normal float64 (its conversion overflows or underflows)


@numba.njit(**_JIT)
def pow_f32(x, y):
    """np.power(x, y) for float32: 2**(y * log2|x|) in float64 with
    polynomials to ~2**-35 (no double-double, no libm call), one final
    rounding: <= 1 ulp of the float64 result rounded, exact where that is a
    float32. The common path takes a finite nonzero x and |y * log2|x|| <=
    _POW32_USUAL (y finite), a negative x's sign (odd y) or NaN (y not an
    integer) selected; 0, inf, NaN and y*log2|x| past it take `_pow_f32_full`
    out of line (since session 52: C99's special values, the clamps).
    250k elements, one thread, Zen 4: 0.70 -> 0.32 ms (NumPy 0.10); out of line
    the loop of 8 float32 takes 72 instructions, not 79 (results bitwise the
    same over 1.2e7 points; 10^6 elements, loaded, one process: 1.79 -> 1.53 ms,
    NumPy 0.73)."""
    _inline_into_callers()
    x = _F32(x)
    y = _F32(y)  # (an integer y as NumPy casts it)
    xd = np.float64(x)
    ax = abs(xd)
    t = np.float64(y) * _log2_normal(ax)
    v = _exp2_wide(t)
    y_int = np.floor(y) == y  # in float32: half the lanes' work
    half = y * _HALF_32
    neg = xd < 0.0
    v = -v if (neg and y_int and np.floor(half) != half) else v  # (-x)**odd: -(x**odd)
    v = np.nan if (neg and not y_int) else v
    r = np.float32(v)
    if not ((ax > 0.0) & (ax < np.inf) & (abs(t) <= _POW32_USUAL)):
        r = _pow_f32_rare(x, y)
    return r


@numba.njit(**_JIT_INLINE)
def powc_f32(x, y):
    """np.power(x, y) for a float32 x and a finite float32 y that is not an
    integer: pow_f32's core (2**(y*log2|x|) in float64 to ~2**-30), one final
    rounding. C99's cases for such a y: x < 0 (not -inf) gives nan; +-0 gives
    0 (y > 0) or inf; +-inf gives inf (y > 0) or 0; nan gives nan; 1 gives 1."""
    xd = np.float64(x)
    v = _pow_core_f32(abs(xd), np.float64(y))
    return np.float32(np.nan if (xd < 0.0 and xd > -np.inf) else v)


@numba.njit(**_JIT)
def spow_f64(x, p):
    """NumPy's `x ** p` of a float64 array and one run-time exponent p: its
    loop's shortcuts (x * x at p == 2, 1 / x at -1, sqrt at 0.5: (-0.0) ** 0.5
    is -0.0, (-inf) ** 0.5 nan), else pow_f64. p is the same for every
    element, so LLVM unswitches the tests out of the loop, which still
    vectorizes (codegen/cpu/scalar.py `element_expr`)."""
    _inline_into_callers()
    x = np.float64(x)
    p = np.float64(p)
    if p == 2.0:
        return x * x
    if p == -1.0:
        return 1.0 / x
    if p == 0.5:
        return np.sqrt(x)
    return pow_f64(x, p)


@numba.njit(**_JIT)
def spow_f32(x, p):
    """spow_f64 for a float32 array and exponent (pow_f32 otherwise)."""
    _inline_into_callers()
    x = _F32(x)
    p = _F32(p)
    if p == _F32(2.0):
        return x * x
    if p == _F32(-1.0):
        return _F32(1.0) / x
    if p == _F32(0.5):
        return np.sqrt(x)
    return pow_f32(x, p)


# --- arcsin and arccos ------------------------------------------------------------------------------
# asin(t) = t + t*R(t*t) for |t| <= 1/2, R(z) = z*P(z)/Q(z) (fdlibm's rational, 2**-60 relative
# on [0, 1/4]). Past 1/2: asin(|x|) = pi/2 - 2*asin(s), s = sqrt(z), z = (1 - |x|)/2 (exact), with
# s's rounding s_lo = (z - s*s)/(2s) (an exact remainder) carried along. One R for both ranges:
# z is selected first. The final sums are a constant plus a multiple of t (Fast2Sum, exact) plus
# the small terms: one rounding.
_PS0, _PS1, _PS2 = 1.66666666666666657415e-01, -3.25565818622400915405e-01, 2.01212532134862925881e-01
_PS3, _PS4, _PS5 = -4.00555345006794114027e-02, 7.91534994289814532176e-04, 3.47933107596021167570e-05
_QS1, _QS2 = -2.40339491173441421878e+00, 2.02094576023350569471e+00
_QS3, _QS4 = -6.88283971605453293030e-01, 7.70381505559019352791e-02


@numba.njit(**_JIT_INLINE)
def _asin_parts(ax):
    """(big, t, t2l, r) for 0 <= ax <= 1: asin(ax) = t + t*r (big false, t = ax)
    or pi/2 - 2*(t + t*r) - t2l (big: t = sqrt((1 - ax)/2) rounded, t2l twice
    its rounding error)."""
    big = ax > 0.5
    z = (1.0 - ax) * 0.5 if big else ax * ax
    s = math.sqrt(z)
    ss = s * s
    t2l = ((z - ss) - _mul_err(s, s, ss)) / s  # 2*(sqrt(z) - s), to first order
    t2l = t2l if (big and s > 0.0) else 0.0
    return big, (s if big else ax), t2l, _asin_r(z)


@numba.njit(**_JIT_INLINE)
def _asin_r(z):
    """R(z) = z*P(z)/Q(z), asin(t) = t + t*R(t*t) for |t| <= 1/2 (fdlibm's rational)."""
    p = _muladd(z, _PS5, _PS4)
    p = _muladd(p, z, _PS3)
    p = _muladd(p, z, _PS2)
    p = _muladd(p, z, _PS1)
    p = _muladd(p, z, _PS0)
    q = _muladd(z, _QS4, _QS3)
    q = _muladd(q, z, _QS2)
    q = _muladd(q, z, _QS1)
    q = _muladd(q, z, 1.0)
    return (z * p) / q


@numba.njit(**_JIT_INLINE)
def _angle(ch, cl, a, lo):
    """ch + a + (cl + lo) rounded once: ch + a by Fast2Sum (|ch| >= |a| or ch == 0)."""
    h = ch + a
    return h + ((a - (h - ch)) + (cl + lo))


@numba.njit(**_JIT)
def asin_f64(x):
    """np.arcsin for float64, <= 1 ulp from the correctly rounded result
    (vectorizable: Numba's is an asin call per element); asin(+-0) = +-0,
    NaN outside [-1, 1]."""
    _inline_into_callers()
    x = np.float64(x)
    ax = abs(x)
    big, t, t2l, r = _asin_parts(ax)
    a = -2.0 * t if big else t
    v = _angle(_PI_2_HI if big else 0.0, _PI_2_LO if big else 0.0, a, a * r - t2l)
    v = _copysign(v, x)
    return v if ax <= 1.0 else np.nan


@numba.njit(**_JIT)
def acos_f64(x):
    """np.arccos for float64, <= 1 ulp from the correctly rounded result
    (vectorizable); acos(1) = +0, NaN outside [-1, 1]. |x| <= 1/2: pi/2 -
    asin(x); x > 1/2: 2*asin(s); x < -1/2: pi - 2*asin(s)."""
    _inline_into_callers()
    x = np.float64(x)
    ax = abs(x)
    big, t, t2l, r = _asin_parts(ax)
    neg = x < 0.0
    a = (-2.0 * t if neg else 2.0 * t) if big else -x
    ch = (_PI_HI if neg else 0.0) if big else _PI_2_HI
    cl = (_PI_LO if neg else 0.0) if big else _PI_2_LO
    v = _angle(ch, cl, a, a * r + (-t2l if neg else t2l))
    return v if ax <= 1.0 else np.nan


# float32: the same steps in float32 arithmetic (sixteen lanes to a zmm register, a float32 square
# root and divide: 10^6 elements, one thread, arcsin 1.0 -> 0.40 ms, arccos 1.08 -> 0.43, NumPy's
# ~0.40), with a polynomial for R:
# asin(t) = t + t*z*P(z), P of degree 5 on z <= 1/4 (a fit of our own, 2**-24 relative with its
# coefficients rounded), t2l = e/s with e = z - s*s exact. Each term after the constant and a is
# below 0.05 of the result, so its float32 rounding errors stay below ~0.1 ulp of the result:
# <= 1 ulp of the float64 result rounded (checked over every float32 in [-1, 1]; every 7th with
# the multiply-adds unfused, as without FMA).
_AS0, _AS1, _AS2, _AS3, _AS4, _AS5 = (_F32(c) for c in (0.1666666567325592, 0.07500098645687103,
                                                        0.044598113745450974, 0.03111526183784008,
                                                        0.01708189584314823, 0.03379935398697853))
_PI_2_HI_32, _PI_HI_32 = _F32(_PI_2_HI), _F32(_PI_HI)
_PI_2_LO_32, _PI_LO_32 = _F32(_PI_2_HI - float(_PI_2_HI_32)), _F32(_PI_HI - float(_PI_HI_32))
_ZERO_32 = _F32(0.0)

if _HOST_FMA:
    @numba.njit(**_JIT_INLINE)
    def _sq_residual_32(s, z):
        """z - s*s exactly, for float32 s = sqrt(z) rounded: one fused multiply-add."""
        return _muladd(-s, s, z)
else:
    @numba.njit(**_JIT_INLINE)
    def _sq_residual_32(s, z):
        """z - s*s exactly, for float32 s = sqrt(z) rounded (s*s has 48 bits: exact in float64)."""
        sd = np.float64(s)
        return _F32(np.float64(z) - sd * sd)


@numba.njit(**_JIT_INLINE)
def _asin_parts_32(ax):
    """`_asin_parts` in float32 for a float32 0 <= ax (NaN past 1): (big, t, t2l, r), r = z*P(z)."""
    big = ax > _HALF_32
    z = (_ONE_32 - ax) * _HALF_32 if big else ax * ax
    s = np.sqrt(z)
    t2l = _sq_residual_32(s, z) / s  # 2*(sqrt(z) - s), to first order
    t2l = t2l if (big and s > _ZERO_32) else _ZERO_32
    p = _muladd(_muladd(_muladd(_muladd(_muladd(_AS5, z, _AS4), z, _AS3), z, _AS2), z, _AS1), z, _AS0)
    return big, (s if big else ax), t2l, z * p


@numba.njit(**_JIT)
def asin_f32(x):
    """np.arcsin for float32: asin_f64's steps in float32 (`_asin_parts_32`), <= 1 ulp of the
    float64 result rounded; asin(+-0) = +-0, NaN outside [-1, 1]."""
    _inline_into_callers()
    x = _F32(x)
    ax = abs(x)
    big, t, t2l, r = _asin_parts_32(ax)
    a = -_TWO_32 * t if big else t
    v = _angle(_PI_2_HI_32 if big else _ZERO_32, _PI_2_LO_32 if big else _ZERO_32, a, a * r - t2l)
    v = -v if _bits32(x) < 0 else v
    return v if ax <= _ONE_32 else _F32(np.nan)


@numba.njit(**_JIT)
def acos_f32(x):
    """np.arccos for float32: acos_f64's steps in float32, <= 1 ulp of the float64 result
    rounded; acos(1) = +0, NaN outside [-1, 1]. With sg = +-1 x's sign: c*pi/2 + sg*(b + b*r
    + t2l), b = 2t (big) or -|x|, c = 1 - sg (big) or 1 (pi = 2 * pi/2 exactly, in both parts)."""
    _inline_into_callers()
    x = _F32(x)
    ax = abs(x)
    big, t, t2l, r = _asin_parts_32(ax)
    sg = -_ONE_32 if x < _ZERO_32 else _ONE_32
    b = _TWO_32 * t if big else -ax
    c = _ONE_32 - sg if big else _ONE_32
    a = sg * b
    v = _angle(c * _PI_2_HI_32, c * _PI_2_LO_32, a, sg * _muladd(b, r, t2l))
    return v if ax <= _ONE_32 else _F32(np.nan)


from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
