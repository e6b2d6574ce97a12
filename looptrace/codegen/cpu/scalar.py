"""CPU rules of the elementwise primitives: each is a `ScalarRule`, the Numba
expression of one element from its inputs' element expressions.

nest.py places the expression inside a loop nest and casts it to the op's
dtype, so an expression only has to be right in value (Numba's own scalar
promotion may differ from NumPy's; the cast restores the dtype). tanh, exp,
expm1, log, log1p, arcsin, arccos and power of float32/float64, and the absolute value of a complex, call mathlib.py (branch-free, no libm
call, so LLVM vectorizes the loop around them; <= 2 ulp from NumPy);
LOOPTRACE_LIBM=1, read when a kernel is generated, restores the np.<name>
calls (libm).
"""
from __future__ import annotations

import os

import numpy as np

from looptrace.codegen.target import IndexRule, ScalarRule
from looptrace.ops import elementwise

from . import mathlib_exp, mathlib_trig
from .target import TARGET

INFIX = {
    "add": "+", "subtract": "-", "multiply": "*", "divide": "/", "equal": "==",
    "not_equal": "!=", "less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">=",
    "bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "^", "left_shift": "<<",
    "right_shift": ">>",
}
TEMPLATES = {
    "negative": "(-{0})", "positive": "(+{0})", "square": "({0} * {0})",
    "absolute": "abs({0})", "logical_not": "(not {0})", "logical_and": "({0} and {1})",
    "logical_or": "({0} or {1})", "logical_xor": "(bool({0}) != bool({1}))",
    # np.maximum(a, b): b where they are equal (+0.0 and -0.0: the sign of b), a where a is NaN,
    # else b where b is NaN: max_nan(b, a) (NumPy's SIMD loops, `_mm_max_pd` then a's NaN)
    "maximum": "max_nan({1}, {0})", "minimum": "min_nan({1}, {0})",
}
# integer rules as NumPy's where Numba's differ (nprules.py); `bits`: the width of the first operand
INT_HELPERS = {"fmod": "fmod_int({0}, {1})", "left_shift": "shl({0}, {1}, {bits})",
               "right_shift": "shr({0}, {1}, {bits})", "power": "ipow({0}, {1}, np.{dtype}(1))",
               "gcd": "gcd_int({0}, {1})", "lcm": "lcm_int({0}, {1})"}
FLOAT_HELPERS = {"floor_divide": "floordiv_f({0}, {1})", "remainder": "remainder_f({0}, {1})", "sign": "sign_f({0})"}  # nprules.py
MATHLIB = {"tanh": "tanh_f", "exp": "exp_f", "expm1": "expm1_f", "log": "log_f", "log1p": "log1p_f",
           "arcsin": "asin_f", "arccos": "acos_f"}  # 2M float64 arccos, one thread: 28 -> 1.3 ms


MORE_MATHLIB = {**mathlib_exp.CALLS, **mathlib_trig.CALLS}  # (ufunc, dtype name) -> its call


def _complex_product(name: str, args: list[str], in_dtypes, out_dtype) -> str | None:
    """z * w (and z * z) of one complex dtype as llvm_inlined.py's cmul_c128 /
    cmul_c64 (templates.py's of the same names in a fastmath kernel: Numba's
    z * w), not the operator, whose implementation Numba compiles at run
    time in each process; None for other operations and mixed dtypes."""
    out = np.dtype(out_dtype)
    if name not in ("multiply", "square") or out not in (np.complex64, np.complex128) or \
            any(np.dtype(d) != out for d in in_dtypes):
        return None
    return f"cmul_c{out.itemsize * 8}({args[0]}, {args[-1]})"


def _mathlib_call(name: str, args: list[str], in_dtypes) -> str | None:
    dt = np.dtype(in_dtypes[0])
    if os.environ.get("LOOPTRACE_LIBM", "") == "1":
        return None
    if (form := MORE_MATHLIB.get((name, dt.name))) is not None and all(np.dtype(d) == dt for d in in_dtypes):
        return form.format(*args)
    if name == "absolute" and dt in (np.complex64, np.complex128):
        return f"cabs_c{dt.itemsize * 8}({args[0]})"
    if name == "hypot" and all(np.dtype(d) == np.float64 for d in in_dtypes):
        # mathlib's hypot, which vectorizes (libm's is a call per element): sobel_edges' np.hypot
        # of 10^6 elements 12.6 ms in NumPy, 0.5 ms so
        return f"cabs_c128(complex({args[0]}, {args[1]}))"
    if name == "arctan2" and all(np.dtype(d) == np.float64 for d in in_dtypes):
        return f"atan2_f64({args[0]}, {args[1]})"  # mathlib's, vectorized: 10^6 elements 3.1 ms, libm's 16.5
    if all(np.dtype(d) == np.float32 for d in in_dtypes) and (call := _float32_call(name, args)) is not None:
        return call
    if name not in MATHLIB or dt not in (np.float32, np.float64):
        return None
    return f"{MATHLIB[name]}{dt.itemsize * 8}({args[0]})"


# float32 functions that Numba lowers to a libm call per element (sinf, atan2f, powf), as
# mathlib's vectorized ones: 2M elements, sin 12.5 -> 3.5 ms, arctan2 36 -> 2.3 ms (one thread)
FLOAT32_MATHLIB = {"sin": "sin_f32({0})", "cos": "cos_f32({0})", "arctan2": "atan2_f32({0}, {1})"}


def _logical_expr(name: str, args: list[str], in_dtypes) -> str:
    """np.logical_and / np.logical_or as `&` / `|` of bools: both sides are
    evaluated anyway, and Python's short-circuit `and` / `or` is a branch per
    element that mispredicts on random masks and keeps LLVM from vectorizing
    (forest_fire's 300x300 update, one thread: 15 -> 3.1 ms over 30 steps)."""
    bools = [a if np.dtype(d) == np.bool_ else f"({a} != 0)" for a, d in zip(args, in_dtypes)]
    return f"({bools[0]} {'&' if name == 'logical_and' else '|'} {bools[1]})"


def _float32_call(name: str, args: list[str]) -> str | None:
    if name == "power":
        y = _float_literal(args[1])
        # not at an integer (pow's sign rules) nor 0.5 (NumPy's sqrt: (-0.0)**0.5 is -0.0)
        ok = y is not None and np.isfinite(y) and y != np.floor(y) and y != 0.5
        return f"powc_f32({args[0]}, {args[1]})" if ok else None
    form = FLOAT32_MATHLIB.get(name)
    return form.format(*args) if form else None


def power_call(args: list[str], in_dtypes, out_dtype) -> str | None:
    """np.power of a float32/float64 base and a float or integer exponent as
    mathlib's pow_f64 / pow_f32 (vectorizable, <= 1 ulp; Numba's np.power is
    a libm pow call per element): powc_f32 for a float32 result and a literal
    exponent that is not an integer; None (np.power) for a literal 0.5
    (NumPy's `x ** 0.5` is its sqrt: (-0.0) ** 0.5 is -0.0), where
    small_power writes products (x ** 3, x ** 4), and with LOOPTRACE_LIBM=1.
    A complex power: nprules.py's cpow (NumPy's rules), whatever the setting."""
    x, y, out = (np.dtype(d) for d in (*in_dtypes, out_dtype))
    if out.kind == "c":  # NumPy's complex power (nprules.py cpow: Numba's gave nan for 0 ** (1+2j))
        one = "np.float32(1.0)" if out == np.complex64 else "1.0"
        return f"cpow(np.{out.name}({args[0]}), np.{out.name}({args[1]}), {one})"
    if os.environ.get("LOOPTRACE_LIBM", "") == "1":
        return None
    if x.kind != "f" or y.kind not in "fiu" or out not in (np.float32, np.float64):
        return None
    literal = _float_literal(args[1])
    if literal == 0.5 or small_power(args, in_dtypes, out_dtype) is not None:
        return None
    if out == np.float32 and literal is not None and np.isfinite(literal) and literal != np.floor(literal):
        return f"powc_f32({args[0]}, {args[1]})"
    return f"pow_f{out.itemsize * 8}({args[0]}, {args[1]})"


def _float_literal(text: str) -> float | None:
    """The value of a literal exponent, `1.7` or `np.float32(1.7000000476837158)`; else None."""
    inner = text[len("np.float32("):-1] if text.startswith("np.float32(") and text.endswith(")") else text
    try:
        return float(inner)
    except ValueError:
        return None


LIBM_FOR_LATENCY = ("exp", "expm1", "log", "log1p")  # tanh: mathlib's is as quick as libm's in a chain


def latency_call(op, args: list[str], waits_on_carry: bool = False) -> str | None:
    """The form of a scalar op in a serial loop's body, where its latency is
    on the critical path (Emitter.latency_bound): the libm call for a float64
    exp/expm1/log/log1p and pow (mathlib's pow_f64, made for SIMD loops, is
    branchy scalar code: metropolis_hastings' scan 1.08 -> 6 ms with it), a
    conditional expression for a select; None otherwise.

    A select whose condition is computed from a carried value
    (`waits_on_carry`: `lo = v if v < lo else lo`) there is Python's `a if c
    else b`, which Numba lowers to a branch, not `pick`'s LLVM select: the
    select makes the next step wait for its condition (a compare of the
    carry) and its arms, where a predicted branch lets the steps overlap. The if-converted `elif` of stock_max_profit (`lo`,
    `best` carried) ran 3.5 ns a step with selects, 0.5 with branches
    (numba.njit of the plain loop: 0.36). Other selects stay selects: a
    branch on random data mispredicts (histogram2d_loop's bin tests, 1.43 ->
    2.44 ms as branches). LLVM may still fold a small one into a select, as
    it does numba.njit's `if` of the plain loop; an if/elif chain on a carry
    is kept as branches (nest.py `_emit_lazy_select`)."""
    if op.prim.name == "select":
        return f"({args[1]} if {args[0]} else {args[2]})" if waits_on_carry else None
    if op.prim.name == "power" and all(v.dtype == np.float64 for v in (*op.inputs, op.out)) \
            and not op.attrs.get("scalar_exponent") \
            and small_power(args, [v.dtype for v in op.inputs], op.out.dtype) is None:
        return f"np.power({args[0]}, {args[1]})"  # libm's pow: mathlib's pow_f64 is for SIMD loops
    if op.prim.name not in LIBM_FOR_LATENCY or op.inputs[0].dtype != np.float64 or op.out.dtype != np.float64:
        return None
    return f"np.{op.prim.name}({args[0]})"


# x ** 2, x ** 3 and x ** 4 of a float as products (x * x is what NumPy computes for x ** 2; Numba's np.power is a libm pow call per element,
# which no loop around it vectorizes): <= 2 ulp from pow; inf, nan, -0.0 and overflow as pow.
# paths' `x ** 3` over 10^8 elements: 2.3 s with pow. NumPy's own SIMD pow is faster than libm.
_SMALL_POWERS = {"2.0": "({0} * {0})", "3.0": "({0} * {0} * {0})", "4.0": "(({0} * {0}) * ({0} * {0}))"}


_MINUS_ONE = ("-1.0", "np.float32(-1.0)", "-1", "(-1.0)", "(-1)")


def small_power(args: list[str], in_dtypes, out_dtype) -> str | None:
    if np.dtype(out_dtype).kind != "f" or np.dtype(in_dtypes[0]).kind != "f":
        return None
    exponent = args[1]
    if exponent in _MINUS_ONE and np.dtype(in_dtypes[0]) == np.dtype(out_dtype):
        # NumPy's own `x ** -1` (its fast path for a scalar exponent, np.reciprocal): the
        # correctly rounded 1 / x, one division (pow_f64: <= 1 ulp, ~2.5 ns an element);
        # +-0 -> +-inf, +-inf -> +-0, NaN, as pow
        return f"(np.{np.dtype(out_dtype).name}(1) / {args[0]})"
    for text, form in _SMALL_POWERS.items():
        if exponent in (text, f"np.float32({text})", text[:-2]):
            return form.format(args[0])
    return None


def exact_small_power(args: list[str], out_dtype) -> str | None:
    """small_power's x ** 3 and x ** 4 on the CPU within 1 ulp of pow (the plain products round
    twice: up to 2 ulp): float64 by mathlib's pow3_f64 / pow4_f64 (x*x as a double-double, one
    final rounding), float32 as products in float64 (exact but the last, then rounded to float32)."""
    n = next((int(t[0]) for t in ("3.0", "4.0") if args[1] in (t, f"np.float32({t})", t[:-2])), None)
    out = np.dtype(out_dtype)
    if n is None or out not in (np.float32, np.float64):
        return None
    if out == np.float64:
        return f"pow{n}_f64(np.float64({args[0]}))"
    xd = f"np.float64({args[0]})"
    return f"np.float32({xd} * {xd} * {xd})" if n == 3 else f"np.float32(({xd} * {xd}) * ({xd} * {xd}))"


def _positive_literal(text: str) -> bool:
    return text.isdigit() and int(text) > 0


# uint64 against a signed integer: Numba compares the two as float64 (2**63 == 2**63 - 1), NumPy
# exactly. A negative signed side is below every uint64; otherwise both compare as uint64.
_BELOW = {"equal": False, "not_equal": True, "less": True, "less_equal": True, "greater": False,
          "greater_equal": False}  # what `s OP u` is for a negative s


def _exact_unsigned_comparison(name: str, args: list[str], in_dtypes) -> str:
    signed_left = np.dtype(in_dtypes[0]).kind == "i"
    s, u = (args[0], args[1]) if signed_left else (args[1], args[0])
    when_negative = _BELOW[name] if signed_left else {"less": False, "less_equal": False, "greater": True,
                                                       "greater_equal": True}.get(name, _BELOW[name])
    a, b = (f"np.uint64({s})", u) if signed_left else (u, f"np.uint64({s})")
    return f"({when_negative} if {s} < 0 else ({a} {INFIX[name]} {b}))"


_WRAPPING = {"add": "wrap_add({0}, {1})", "subtract": "wrap_sub({0}, {1})", "multiply": "wrap_mul({0}, {1})",
             "negative": "wrap_neg({0})", "square": "wrap_mul({0}, {0})"}


def element_expr(em, op, args: list[str]) -> str:
    """The element expression of the elementwise `op`: its rule's, or, for
    int64 arithmetic that may wrap (codegen/wrapping.py), one with no `nsw`
    flag for LLVM to fold (nprules.py `wrap_add`)."""
    if id(op) in em.wrapping:
        return _WRAPPING[op.prim.name].format(*args)
    if op.prim.name == "power" and op.attrs.get("scalar_exponent") and \
            (expr := scalar_exponent_power(args, [u.dtype for u in op.inputs], op.out.dtype)) is not None:
        return expr
    return TARGET.rule(op.prim).expr(args, [u.dtype for u in op.inputs], op.out.dtype)


def scalar_exponent_power(args: list[str], in_dtypes, out_dtype) -> str | None:
    """`x ** p` of a float array and one exponent for all its elements (the op's
    `scalar_exponent`, tracer/methods.py): NumPy's loop then computes x * x at
    p == 2, 1 / x at -1 and sqrt(x) at 0.5 (-0.0 at -0.0, nan at -inf), pow
    otherwise. A run-time p: mathlib's spow_f32 / spow_f64, whose tests on p
    LLVM unswitches out of the loop; a literal 0.5: the sqrt; other literals
    the rule's (products, 1 / x, pow: x ** 1.0 and x ** 0.0 are exact there)."""
    out = np.dtype(out_dtype)
    if out not in (np.float32, np.float64) or any(np.dtype(d) != out for d in in_dtypes):
        return None
    literal = _float_literal(args[1])
    if literal is not None:
        return f"np.sqrt({args[0]})" if literal == 0.5 else None
    return f"spow_f{out.itemsize * 8}({args[0]}, {args[1]})"


def ufunc_expr(name: str):
    def expr(args: list[str], in_dtypes, out_dtype) -> str:
        if name == "power" and (call := power_call(args, in_dtypes, out_dtype)) is not None:
            return call
        call = _mathlib_call(name, args, in_dtypes)
        if call is not None:
            return call
        if name == "power" and (small := small_power(args, in_dtypes, out_dtype)) is not None:
            return exact_small_power(args, out_dtype) or small
        if np.dtype(out_dtype).kind in "iu" and name in INT_HELPERS:
            return INT_HELPERS[name].format(*args, bits=8 * np.dtype(in_dtypes[0]).itemsize,
                                            dtype=np.dtype(in_dtypes[0]).name)
        if name == "sign" and np.dtype(in_dtypes[0]).kind == "u":
            return f"({args[0]} > 0)"  # Numba's np.sign reads a large unsigned value as negative
        if name in FLOAT_HELPERS and np.dtype(out_dtype).kind == "f":
            return FLOAT_HELPERS[name].format(*args)
        if name in ("floor_divide", "remainder") and _positive_literal(args[1]) and \
                np.dtype(in_dtypes[0]) == np.int64 and np.dtype(out_dtype) == np.int64:
            # int64 by a positive literal: Python's operator is NumPy's floor semantics, and no zero or -1
            # divisor to handle; Numba's scalar np.remainder / np.floor_divide cost 4x the operator in
            # a Collatz loop (bench/corpus collatz_lengths: `v % 2`, `v // 2`)
            return f"({args[0]} {'//' if name == 'floor_divide' else '%'} {args[1]})"
        if name in ("floor_divide", "remainder") and np.dtype(out_dtype).kind == "i" and not args[1].isdigit():
            helper = "floordiv_int" if name == "floor_divide" else "remainder_int"
            return f"{helper}({args[0]}, {args[1]})"  # a divisor that may be -1 (nprules.py)
        if name in _COMPARISONS and len(in_dtypes) == 2 and \
                {np.dtype(d).kind for d in in_dtypes} == {"u", "i"} and np.uint64 in map(np.dtype, in_dtypes):
            return _exact_unsigned_comparison(name, args, in_dtypes)
        if name == "sqrt" and np.dtype(out_dtype).kind == "c":
            return f"csqrt({args[0]})"  # (nprules.py: Numba's overflows past 1e308)
        if name == "divide" and np.dtype(out_dtype).kind == "c":
            one = "np.float32(1.0)" if np.dtype(out_dtype) == np.complex64 else "1.0"
            return f"cdiv({args[0]}, {args[1]}, {one})"  # NumPy's algorithm (nprules.py)
        if (call := _complex_product(name, args, in_dtypes, out_dtype)) is not None:
            return call
        if name in INFIX:
            return f"({args[0]} {INFIX[name]} {args[1]})"
        if name in ("logical_and", "logical_or"):
            return _logical_expr(name, args, in_dtypes)
        if name == "invert" and np.dtype(in_dtypes[0]) == np.bool_:
            return f"(not {args[0]})"
        if name == "reciprocal" and np.dtype(out_dtype).kind == "f":
            return f"(1.0 / {args[0]})"
        if name in ("maximum", "minimum") and all(np.dtype(d).kind in "iub" for d in in_dtypes):
            # no NaN nor signed zero: either order gives the same value, and in the IR's
            # (`min(min(a, b), c)` as Python folds it) the chain through a loop's carried
            # operand is the shorter (corpus levenshtein_rows: 1.69 -> 1.16 ms, numba.njit 1.16)
            return f"{name[:3]}_nan({args[0]}, {args[1]})"
        if name in TEMPLATES:
            return TEMPLATES[name].format(*args)
        return f"np.{name}({', '.join(args)})"

    return expr


for _name in elementwise.UNARY + elementwise.BINARY:
    TARGET.register(_name, ScalarRule(ufunc_expr(_name)))
# both arms are evaluated anyway (array reads and temporaries): one LLVM select, not branches (mathlib.pick)
TARGET.register(elementwise.select, ScalarRule(lambda args, in_dtypes, out_dtype: f"pick({args[0]}, {args[1]}, {args[2]})"))


def convert_expr(args: list[str], in_dtypes, out_dtype) -> str:
    """The cast itself is the nest's; from complex NumPy keeps the real part
    (to bool: whether either part is nonzero); from a float to an integer,
    through nprules' conversions, which give NumPy's results (x86's) out of
    range, where LLVM's own conversion is poison (a vectorized loop
    saturated: uint8 of 216 * 1.7 gave 255, NumPy 111)."""
    src, out = np.dtype(in_dtypes[0]), np.dtype(out_dtype)
    arg = args[0]
    if src.kind == "c" and out.kind != "c":
        if out == np.bool_:
            return f"({arg} != 0)"
        src, arg = np.dtype(np.float64), f"({arg}).real"
    if src.kind == "f" and out.kind in "iu":
        return f"{_FLOAT_TO_INT.get(out.name, 'float_to_int32')}({arg})"
    return arg


# the conversion each integer type takes a float through (int8 ... int32: int32's, then wrapped)
_FLOAT_TO_INT = {"int64": "float_to_int64", "uint32": "float_to_uint32", "uint64": "float_to_uint64"}


TARGET.register(elementwise.convert, ScalarRule(convert_expr))

def _pyint_element(fz, op, idx: list[str]) -> str:
    """Python's int() of a whole float (ops/elementwise.py `pyint`), tested
    where it is read. Where the nest counts failures (`Emitter.int_flag`,
    nest.py `counting_int_failures`) the test adds to the count, branch-free,
    so the loop stays SIMD and parallel; otherwise a failing test raises at
    once (`check_int`)."""
    em = fz.em
    x = fz.value_at(op.inputs[0], idx)
    if not x.isidentifier():
        x, text = em.fresh(), x
        em.line(f"{x} = {text}")
    bad = f"not (abs({x}) < 9.223372036854775808e18)"  # NaN too; -2**63 fits, check_int knows
    if em.int_flag is not None:
        em.line(f"{em.int_flag} += {bad}")
    else:
        codes = [em.check_code(f) for f in op.attrs["failures"]]  # consecutive, as check_int reads them
        em.line(f"if {bad}:")
        em.line(f"    check_int({x}, {codes[0]})")
    t = em.fresh()
    em.line(f"{t} = np.int64({x})")
    return t


TARGET.register(elementwise.pyint, IndexRule(_pyint_element))

# Elementwise primitives whose expression above, on float64 operands, Numba
# types as float64 already: a float64 result needs no np.float64(...) around
# it. Each such call is a global lookup, an attribute and a call for Numba to
# type and lower: about 10 ms of compile time per element expression
# (harris_response, 38 of them: 0.35-0.5 s).
_FLOAT64_CLOSED = frozenset([*elementwise.UNARY, *elementwise.BINARY, "select", "convert"])


# The same for int64 (integer arithmetic of int64 operands is int64 in Numba; a
# literal int is an int64) and for bool results (comparisons of real numbers,
# logic of bools). Integer index arithmetic is most of a stencil's or a
# gather's element expressions: life_loops' kernel compiled 2.6 -> 2.1 s.
_INT64_CLOSED = frozenset(["add", "subtract", "multiply", "negative", "positive", "square", "remainder",
                           "floor_divide", "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift",
                           "right_shift", "maximum", "minimum", "select", "convert"])
_COMPARISONS = frozenset(["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"])
_BOOL_CLOSED = frozenset(["logical_and", "logical_or", "logical_not", "logical_xor", "select", "convert"])


def float64_closed(op) -> bool:
    """Does Numba type this op's element expression as its dtype already, so
    that it needs no cast (operands typed as their own dtypes)?"""
    out = op.out.dtype
    data = op.inputs[1 if op.prim.name == "select" else 0:]
    if out == np.float64:
        return op.prim.name in _FLOAT64_CLOSED and all(u.dtype == np.float64 for u in data)
    if out == np.int64:
        return op.prim.name in _INT64_CLOSED and all(u.dtype == np.int64 for u in data)
    if out == np.bool_:
        if op.prim.name in _COMPARISONS:
            return all(u.dtype.kind in "iuf" for u in data)
        return op.prim.name in _BOOL_CLOSED and all(u.dtype == np.bool_ for u in data)
    return False
