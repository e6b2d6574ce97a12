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

Not sin, cos and tan (mathlib_trig.py and the float32 ones): their rare
path is a call with vector variants (mathlib.py `_rare_symbol`), and a kernel
calling sin and cos through wrappers came out otherwise (5790 lines of
assembly against 3817; the same values), where each alone is the same code.

Invariant: used only by kernels without fastmath (kernel.py `llvm_inlined`):
in a fastmath kernel Numba's inlining gives the function's body the
kernel's fastmath flags, which these wrappers (compiled without) would not.
Each wrapper is a def of its own: Numba's disk cache keys a function by its
name and line, so wrappers made in a loop would share entries."""
from __future__ import annotations

from looptrace.codegen.cpu.helper import kernel_helper
from looptrace.codegen.cpu import mathlib, nprules
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

WRAPPED = ("tanh_f64", "tanh_f32", "expm1_f64", "log_f32", "cabs_c64", "cabs_c128", "pow3_f64", "pow4_f64",
           "floordiv_f", "remainder_f", "sign_f", "csqrt", "cdiv")  # (nprules.py's float rules too)
__all__: list[str] = []  # (kernels call them as `llvm_inlined.tanh_f64`: templates.py exports the module)

from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
