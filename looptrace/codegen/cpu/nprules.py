"""Element functions as NumPy defines them where Numba's own differ (found by
comparing with the plain function: wrong answers before these).

- fmod_int(a, b): C's remainder, the sign of the dividend (np.fmod(-7, 2) is
  -1; Numba's np.fmod of integers gave Python's 1), and 0 for b == 0.
- shl(a, b, bits) / shr(a, b, bits): a shift by the type's width or more, or
  by a negative count, gives 0 (and -1 for a negative a shifted right), as
  NumPy's npy_lshift/npy_rshift; LLVM leaves such a shift undefined and x86
  masks the count (1 << 64 gave 1).
- ipow(a, b): NumPy's integer power by repeated squaring, wrapping as its
  multiplications do (3 ** 50 in int64: Numba's np.power went through a
  float and lost the low bits). A negative b is caught before by the
  tracer's run-time check (tracer/semantics.py); here it gives 0.
- floordiv_int(a, b): the smallest integer // -1 is itself (NumPy wraps;
  Numba's gave 0), for a divisor that is not a positive literal.
- remainder_int(a, b): 0 for b == -1 or 0; the CPU's division traps on the
  smallest integer % -1 (SIGFPE killed the process), NumPy gives 0.
- floordiv_f(a, b) / remainder_f(a, b): NumPy's npy_divmod for floats: the
  quotient from (a - fmod(a, b)) / b snapped to an integer, the remainder
  fmod's moved to b's sign, zeros signed as NumPy signs them, a zero b
  giving a / b and fmod's NaN. Numba's floor(a / b) gave 890 for
  89.0 // 0.1 (NumPy and Python 889), -inf for inf // -1e-310 (NaN) and
  0.0 for the remainder where NumPy gives -0.0.
- gcd_int(a, b) / lcm_int(a, b): np.gcd and np.lcm, codegen/scalar_algorithms.py's
  (|a| and |b| as uint64, so gcd(INT64_MIN, 0) is INT64_MIN and an lcm
  wraps, as NumPy's); Numba's np.gcd is not used.
- cdiv(a, b, one): NumPy's complex division (Smith's); by zero NumPy divides part by part
  by |0|
- cpow(a, b, one): NumPy's complex power (npy_cpow): a zero base is 0 for b.real > 0,
  small integer exponents by its products (Numba's gave nan for 0 ** (1+2j), and nan for
  a complex64 power that overflows where NumPy's is inf). Called, not inlined: its
  exp/log cost some 5 s of compile in every kernel that inlined it
- csqrt(z): complex square root that does not overflow past 1e308 (Numba's does)
  ((1+1j)/0 is inf+infj, 0j/0 nan+nanj) where Numba's raised
  ZeroDivisionError.
- wrap_add / wrap_sub / wrap_mul / wrap_neg: int64 arithmetic that wraps
  as NumPy's does. Numba marks a signed `+` `nsw` (no signed wrap), so
  LLVM may fold as if it never wrapped: `x + (-2**63)` became `x | -2**63`
  and `x + (2**63 - 1) < 0` became `x < -(2**63 - 1)` (wrong answers where
  the plain function wraps). These are the same instructions without the
  flag (an intrinsic: cheaper for Numba to type than the operator).
- sign_f(x): np.sign of a float: +0.0 for either zero (Numba's gave -0.0
  for -0.0); of an unsigned integer the emitter writes `x > 0` (Numba's
  np.sign read 200 as a uint8 as negative: 255).

Each but cpow is inlined where it is called: a few integer instructions, no calls.
The integer ones (fmod_int, shl, shr, ipow, floordiv_int, remainder_int) are
compiled once per signature (disk cache) and inlined by LLVM
(`_inline_into_callers`), as templates.py's max_nan: Numba's inline="always"
ran the callee's untyped passes, copied its IR and typed and lowered it again
at every call site, ~65 ms of compile each (a stepped slice's bounds call
remainder_int; bench/compile_cost_s54.py). The float ones stay inline="always":
a kernel's fastmath flags reach their body there.
"""
from __future__ import annotations

import numba
import numpy as np
from numba.core import types
from numba.extending import intrinsic

from looptrace.codegen import scalar_algorithms
from looptrace.codegen.cpu.helper import kernel_helper
from looptrace.codegen.cpu.mathlib import _inline_into_callers


@kernel_helper(error_model="numpy")
def fmod_int(a, b):
    _inline_into_callers()
    if b == 0 or b == -1:  # (the smallest integer by -1 would trap: SIGFPE)
        return a - a
    r = a % b  # the sign of b (Python's rule): moved to the sign of a
    if r != 0 and (r < 0) != (a < 0):
        r -= b
    return r


@kernel_helper(error_model="numpy")
def shl(a, b, bits):
    _inline_into_callers()
    if b < 0 or b >= bits:
        return a - a
    return a << b


@kernel_helper(error_model="numpy")
def shr(a, b, bits):
    _inline_into_callers()
    if b < 0 or b >= bits:
        return ~(a - a) if a < 0 else a - a  # ~0: -1 of a's type (a literal -1 would make it a float)
    return a >> b


@kernel_helper(error_model="numpy")
def ipow(a, b, one):
    """`one`: 1 of the operands' dtype (a literal 1 with a uint64 would make Numba's arithmetic float64)."""
    _inline_into_callers()
    if b < 0:
        return a - a
    out = a if b & one else one
    b >>= one
    while b > 0:
        a *= a
        if b & one:
            out *= a
        b >>= one
    return out


@kernel_helper(error_model="numpy")
def floordiv_int(a, b):
    """np.floor_divide of integers: the smallest integer divided by -1 wraps
    to itself, as NumPy's (Numba's gave 0); a zero divisor gives 0."""
    _inline_into_callers()
    if b == -1:
        return -a
    return np.floor_divide(a, b)


@kernel_helper(error_model="numpy")
def remainder_int(a, b):
    """np.remainder of signed integers: 0 for b == -1 (the smallest integer
    % -1 traps in the CPU's division: SIGFPE, NumPy gives 0) and b == 0."""
    _inline_into_callers()
    if b == 0 or b == -1:
        return a - a
    return a % b


@numba.njit(cache=True, inline="always")
def floordiv_f(a, b):
    if b == 0:
        return a / b
    mod = np.fmod(a, b)
    div = (a - mod) / b
    if mod != 0 or mod != mod:  # NaN counts as nonzero, as C's `if (mod)`
        if (b < 0) != (mod < 0):
            div -= 1.0
    if div != 0 or div != div:
        floordiv = np.floor(div)
        if div - floordiv > 0.5:
            floordiv += 1.0
        return floordiv
    return np.copysign(div - div, a / b)  # a zero signed as a / b


@numba.njit(cache=True, inline="always")
def remainder_f(a, b):
    mod = np.fmod(a, b)
    if b == 0:
        return mod
    if mod != 0 or mod != mod:
        if (b < 0) != (mod < 0):
            mod += b
        return mod
    return np.copysign(mod - mod, b)


@numba.njit(cache=True, inline="always")
def sign_f(x):
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    if x != x:
        return x + 0.0  # NaN
    return 0.0  # +0.0 for either zero


# np.gcd / np.lcm of integers: one definition for the CPU and cuda targets (codegen/scalar_algorithms.py)
gcd_int = numba.njit(cache=True, inline="always")(scalar_algorithms.gcd)
lcm_int = numba.njit(cache=True, inline="always")(scalar_algorithms.lcm)


@numba.njit(cache=True, inline="always", error_model="numpy")
def csqrt(z):
    """np.sqrt of a complex: Numba's overflows |z| past about 1e308 (sqrt(-1e308) gave 5e153j);
    a quarter of z there, its root doubled (exact: powers of two)."""
    if abs(z.real) > 1e300 or abs(z.imag) > 1e300:
        return np.sqrt(z * 0.25) * 2.0
    return np.sqrt(z)


@numba.njit(cache=True, inline="always", error_model="numpy")
def cdiv(a, b, one):
    """NumPy's complex division (Smith's, with 1/denominator): Numba's is CPython's (which
    divides by the denominator, an ulp apart) and raises on zero; `one` is 1 in the parts'
    type, so a complex64 divides in float32 as NumPy's does."""
    br, bi = b.real, b.imag
    if abs(br) >= abs(bi):
        if br == 0.0 and bi == 0.0:
            return complex(a.real / abs(br), a.imag / abs(br))  # by |0|: 1/-0j is inf+nanj
        rat = bi / br
        scl = one / (br + bi * rat)
        return complex((a.real + a.imag * rat) * scl, (a.imag - a.real * rat) * scl)
    rat = br / bi  # also where a part is NaN
    scl = one / (bi + br * rat)
    return complex((a.real * rat + a.imag) * scl, (a.imag * rat - a.real) * scl)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _cdiv_parts(ar, ai, br, bi, one):
    """cdiv on the parts, kept in their type (a complex64's in float32)."""
    if abs(br) >= abs(bi):
        if br == 0.0 and bi == 0.0:
            return ar / abs(br), ai / abs(br)
        rat = bi / br
        scl = one / (br + bi * rat)
        return (ar + ai * rat) * scl, (ai - ar * rat) * scl
    rat = br / bi
    scl = one / (bi + br * rat)
    return (ar * rat + ai) * scl, (ai * rat - ar) * scl


@numba.njit(cache=True, error_model="numpy")
def cpow(a, b, one):
    """np.power of complex numbers as NumPy's npy_cpow: 1 at b == 0; a zero
    base gives 0 where b.real > 0, else nan+nanj (Numba's, CPython's rule,
    gave nan at any b with an imaginary part: 0 ** (1+2j)); an integer b
    with |b| < 100 by NumPy's products (b == 1: a; 2, 3: a*a, a*(a*a);
    else its repeated squaring, and 1 / that by NumPy's division for a
    negative b), in the parts' type, so a complex64 overflows to inf as
    NumPy's (Numba's went through double and gave nan); else exp(b * log(a))
    as glibc's cpow (bit-equal to NumPy's for 95% of a random grid, within
    3e-14 (complex128) and 9e-6 (complex64) elsewhere; Numba's np.power was
    off by up to 1e-13, for complex64 by up to the value itself, and gave
    nan for infinite bases where NumPy gives inf+nanj). `one`: 1 in the
    parts' type."""
    ar, ai, br, bi = a.real, a.imag, b.real, b.imag
    zero = one - one
    if br == 0.0 and bi == 0.0:
        return complex(one, zero)
    if ar == 0.0 and ai == 0.0:
        if br > 0.0:
            return complex(zero, zero)
        return complex(np.nan, np.nan)
    if bi == 0.0 and br > -100.0 and br < 100.0 and br == np.trunc(br):
        n = int(br)
        if n == 1:
            return complex(ar, ai)
        sr, si = ar * ar - ai * ai, ar * ai + ai * ar
        if n == 2:
            return complex(sr, si)
        if n == 3:
            return complex(ar * sr - ai * si, ar * si + ai * sr)
        m = abs(n)
        xr, xi, pr, pi = one, zero, ar, ai
        mask = 1
        while True:
            if m & mask:
                xr, xi = xr * pr - xi * pi, xr * pi + xi * pr
            mask <<= 1
            if m < mask:
                break
            pr, pi = pr * pr - pi * pi, pr * pi + pi * pr
        if n < 0:
            xr, xi = _cdiv_parts(one, zero, xr, xi, one)
        return complex(xr, xi)
    return np.exp(b * np.log(a))  # glibc's cpow, which NumPy calls (Numba's np.power: 1e-13 off, complex64 worse)


def _wrapping(name: str):
    def typer(typingctx, *operands):
        if not all(isinstance(t, (types.Integer, types.Boolean)) for t in operands):
            return None

        def codegen(context, builder, sig, args):
            xs = [context.cast(builder, a, t, types.int64) for a, t in zip(args, sig.args)]
            if name == "neg":
                return builder.neg(xs[0])
            return getattr(builder, name)(xs[0], xs[1])

        return types.int64(*operands), codegen

    return typer


@numba.njit(cache=True)
def float_to_int32(x):
    """A float to int32 as x86's 32-bit cvttsd2si does, and with it NumPy's
    casts of a float to int8, uint8, int16, uint16 and int32 (the narrower
    ones then wrap): toward zero, and -2**31 (the "integer indefinite") for
    NaN, the infinities and anything outside int32. LLVM's own conversion to
    a narrower type is poison there, and a vectorized loop saturated: uint8
    of 216 * 1.7 gave 255 where NumPy gives 111. Marked alwaysinline for
    LLVM (mathlib._inline_into_callers): as a call, a serial loop paid it at
    every step (a scan converting its carry: 0.15 -> 0.42 ms); Numba's own
    inlining would cost compile time at every call site."""
    _inline_into_callers()
    if x > -2147483649.0 and x < 2147483648.0:
        return np.int32(x)
    return np.int32(-2147483648)


@numba.njit(cache=True)
def float_to_int64(x):
    """float_to_int32's rule for int64: -2**63 outside int64 (and NaN, the infinities)."""
    _inline_into_callers()
    if x >= -9.223372036854775808e18 and x < 9.223372036854775808e18:
        return np.int64(x)
    return np.int64(-9223372036854775808)


@numba.njit(cache=True)
def float_to_uint32(x):
    """A float to uint32 as NumPy's scalar cast does on x86-64 (C's, as gcc
    compiles it): through int64, then wrapped (2**32 + 5 gives 5, -3e9 gives
    2**32 - 3e9; NaN, the infinities and anything outside int64 give 0), as
    ops/elementwise.py `float_to_int`. (NumPy's SIMD astype differs out of
    range, for some elements of an array: its scalar rule is the one kept.)"""
    _inline_into_callers()
    return np.uint32(float_to_int64(x))


@numba.njit(cache=True)
def float_to_uint64(x):
    """float_to_uint32's rule for uint64, through int64."""
    _inline_into_callers()
    if x >= 9.223372036854775808e18:
        return np.uint64(float_to_int64(x - 9.223372036854775808e18)) ^ np.uint64(9223372036854775808)
    return np.uint64(float_to_int64(x))


@intrinsic
def wrap_add(typingctx, a, b):
    return _wrapping("add")(typingctx, a, b)


@intrinsic
def wrap_sub(typingctx, a, b):
    return _wrapping("sub")(typingctx, a, b)


@intrinsic
def wrap_mul(typingctx, a, b):
    return _wrapping("mul")(typingctx, a, b)


@intrinsic
def wrap_neg(typingctx, a):
    return _wrapping("neg")(typingctx, a)


from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
