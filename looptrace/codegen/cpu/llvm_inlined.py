"""mathlib's inline="always" functions as kernels call them
(`llvm_inlined.tanh_f64(x)`, kernel.py `llvm_inlined`): each wrapped in
a helper compiled once per signature on a machine (disk cache) that LLVM
inlines into the kernel (`_inline_into_callers`), as templates.py's max_nan
and nprules.py's integer rules.

Why: Numba's inline="always" runs the callee's untyped passes, copies its
IR into the caller and types and lowers it again at every call site of every
kernel: cabs_c128 was 11% of mandelbrot's kernel compile, tanh_f64 and sin_f64
65-100 ms a site (bench/compile_cost_s54.py). Here Numba inlines the
function once, into the wrapper, and the kernel's loop gets the same
instructions from LLVM's inliner (the same vector code).

sin, cos and tan too (mathlib_trig.py, and the float32 ones in mathlib.py),
and the float32 exp2/log2/log10 (mathlib_exp.py), whose rare path is a call with
vector variants (mathlib.py `_rare_symbol`): the kernel's loop is the same
(np.tanh(x) * np.sin(y) + np.cos(x): 841 instructions against 839). Session
54's 5790 lines of assembly against 3817 were copies of the variants, which
were internal to each module that defined them, so each wrapper linked in
brought its own set; they are linkonce_odr now (one copy a kernel). Also
nprules.py's gcd_int/lcm_int (codegen/scalar_algorithms.py's, which the cuda
target compiles as it is) and specialfn.py's functions.

Invariant: used only by kernels without fastmath (kernel.py `llvm_inlined`):
in a fastmath kernel Numba's inlining gives the function's body the
kernel's fastmath flags, which these wrappers (compiled without) would not.
Each wrapper is a def of its own: Numba's disk cache keys a function by its
name and line, so wrappers made in a loop would share entries."""
from __future__ import annotations

import numpy as np

from looptrace.codegen.cpu.helper import kernel_helper
from looptrace.codegen.cpu import mathlib, mathlib_exp, mathlib_trig, nprules, specialfn
from looptrace.codegen.cpu.mathlib import _inline_into_callers

_helper = kernel_helper(error_model="numpy")


@_helper
def tanh_f64(x):
    _inline_into_callers()
    return mathlib.tanh_f64(x)


@_helper
def tanh_f32(x):
    _inline_into_callers()
    return mathlib.tanh_f32(x)


@_helper
def expm1_f64(x):
    _inline_into_callers()
    return mathlib.expm1_f64(x)


@_helper
def log_f32(x):
    _inline_into_callers()
    return mathlib.log_f32(x)


@_helper
def cabs_c64(z):
    _inline_into_callers()
    return mathlib.cabs_c64(z)


@_helper
def cabs_c128(z):
    _inline_into_callers()
    return mathlib.cabs_c128(z)


@_helper
def pow3_f64(x):
    _inline_into_callers()
    return mathlib.pow3_f64(x)


@_helper
def pow4_f64(x):
    _inline_into_callers()
    return mathlib.pow4_f64(x)


@_helper
def floordiv_f(a, b):
    _inline_into_callers()
    return nprules.floordiv_f(a, b)


@_helper
def remainder_f(a, b):
    _inline_into_callers()
    return nprules.remainder_f(a, b)


@_helper
def sign_f(x):
    _inline_into_callers()
    return nprules.sign_f(x)


@_helper
def csqrt(z):
    _inline_into_callers()
    return nprules.csqrt(z)


@_helper
def cdiv(a, b, one):
    _inline_into_callers()
    return nprules.cdiv(a, b, one)


@_helper
def sin_f64(x):
    _inline_into_callers()
    return mathlib_trig.sin_f64(x)


@_helper
def cos_f64(x):
    _inline_into_callers()
    return mathlib_trig.cos_f64(x)


@_helper
def tan_f64(x):
    _inline_into_callers()
    return mathlib_trig.tan_f64(x)


@_helper
def tan_f32(x):
    _inline_into_callers()
    return mathlib_trig.tan_f32(x)


@_helper
def sin_f32(x):
    _inline_into_callers()
    return mathlib.sin_f32(x)


@_helper
def cos_f32(x):
    _inline_into_callers()
    return mathlib.cos_f32(x)


@_helper
def exp2_f32(x):
    _inline_into_callers()
    return mathlib_exp.exp2_f32(x)


@_helper
def log2_f32(x):
    _inline_into_callers()
    return mathlib_exp.log2_f32(x)


@_helper
def log10_f32(x):
    _inline_into_callers()
    return mathlib_exp.log10_f32(x)


@_helper
def powc_f32(x, y):
    _inline_into_callers()
    return mathlib.powc_f32(x, y)


@_helper
def gcd_int(a, b):
    _inline_into_callers()
    return nprules.gcd_int(a, b)


@_helper
def lcm_int(a, b):
    _inline_into_callers()
    return nprules.lcm_int(a, b)


@_helper
def digamma(x):
    _inline_into_callers()
    return specialfn.digamma(x)


@_helper
def trigamma(x):
    _inline_into_callers()
    return specialfn.trigamma(x)


@_helper
def math_erf(x):
    _inline_into_callers()
    return specialfn.math_erf(x)


@_helper
def math_erfc(x):
    _inline_into_callers()
    return specialfn.math_erfc(x)


@_helper
def math_gamma(x):
    _inline_into_callers()
    return specialfn.math_gamma(x)


@_helper
def math_lgamma(x):
    _inline_into_callers()
    return specialfn.math_lgamma(x)


@_helper
def cmul_c128(z, w):
    """z * w of complex128s: Numba's complex multiply is compiled at run
    time (context.compile_internal), ~0.3 s of the first complex kernel of
    each process, for each complex dtype; this is its formula (CPython's
    before 3.14 and NumPy's: no recovery of infinities computed as nan),
    compiled once on a machine."""
    _inline_into_callers()
    a, b, c, d = z.real, z.imag, w.real, w.imag
    return complex(a * c - b * d, a * d + b * c)


@_helper
def cmul_c64(z, w):
    """z * w of complex64s, as cmul_c128, in float32 (as Numba's)."""
    _inline_into_callers()
    a, b, c, d = z.real, z.imag, w.real, w.imag
    return np.complex64(complex(a * c - b * d, a * d + b * c))  # (float32 parts: exact)


WRAPPED = ("cmul_c128", "cmul_c64", "tanh_f64", "tanh_f32", "expm1_f64", "log_f32", "cabs_c64", "cabs_c128", "pow3_f64", "pow4_f64",
           "floordiv_f", "remainder_f", "sign_f", "csqrt", "cdiv", "sin_f64", "cos_f64", "tan_f64",
           "tan_f32", "sin_f32", "cos_f32", "exp2_f32", "log2_f32", "log10_f32", "powc_f32", "gcd_int",
           "lcm_int", "digamma", "trigamma", "math_erf", "math_erfc", "math_gamma", "math_lgamma")  # (nprules.py's float rules and gcd/lcm, specialfn.py's too)
__all__: list[str] = []  # (kernels call them as `llvm_inlined.tanh_f64`: templates.py exports the module)

from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
