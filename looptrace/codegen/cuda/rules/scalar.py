"""cuda rules of the elementwise primitives: each a `ScalarRule`, the device
expression of one element from its inputs' element expressions.

The CPU's expressions (codegen/cpu/scalar.py) are reused where numba.cuda
compiles them the same way (operators, comparisons, `abs`, select, convert);
the rest are overridden here, because numba-cuda 0.30 cannot type NumPy
ufuncs such as np.exp on scalars inside a kernel (seen: KeyError during
typing) and the CPU's branch-free mathlib is host code:
  math.<f>    libdevice through numba's `math` support (exp, log, tanh, ...)
  lib.<f>     numba.cuda.libdevice where `math` has no float-valued twin
              (floor, ceil, trunc, rint, cbrt: `f` suffix for float32)
  helpers     max_nan, min_nan, fmax_, fmin_, logaddexp_ (device functions in
              the generated module's header, codegen/cuda/module.py)
Under the simulator the module's `math` and `lib` are NumPy-backed shims, so
a domain error gives NaN as on the device instead of Python's ValueError.

Inputs already have the NumPy loop's dtypes (the tracer converts them), and
the Fuser casts every result to the op's dtype, so an expression only has to
be right in value. Integer division and remainder by zero give 0, as NumPy's.
"""
from __future__ import annotations

import math

import numpy as np

from looptrace.codegen.target import IndexRule, ScalarRule
from looptrace.ops import elementwise

from ...cpu.scalar import INFIX, TEMPLATES, small_power
from ...cpu.text import literal
from ..target import TARGET

MATH = {
    "exp": "exp", "exp2": "exp2", "expm1": "expm1", "log": "log", "log2": "log2", "log10": "log10",
    "log1p": "log1p", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin",
    "arccos": "acos", "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "arctan2": "atan2", "hypot": "hypot",
    "copysign": "copysign", "isnan": "isnan", "isinf": "isinf", "isfinite": "isfinite",
}
LIBDEVICE = {"floor": "floor", "ceil": "ceil", "trunc": "trunc", "rint": "rint", "cbrt": "cbrt"}
HELPERS = {"maximum": "max_nan", "minimum": "min_nan", "fmax": "fmax_", "fmin": "fmin_", "logaddexp": "logaddexp_",
           "gcd": "gcd_", "lcm": "lcm_"}


def _is_float(dt) -> bool:
    return np.dtype(dt).kind == "f"


def ufunc_expr(name: str):
    def expr(args: list[str], in_dtypes, out_dtype) -> str:
        dt = np.dtype(in_dtypes[0])
        special = _special(name, args, dt)
        if special is not None:
            return special
        if name in MATH and (dt.kind in "fiub"):
            return f"math.{MATH[name]}({', '.join(args)})"
        if name in LIBDEVICE:
            if not _is_float(dt):
                return args[0]  # floor/ceil/trunc/rint of an integer is itself
            return f"lib.{LIBDEVICE[name]}{'f' if dt == np.float32 else ''}({args[0]})"
        if name in HELPERS:
            return f"{HELPERS[name]}({', '.join(args)})"
        if name in INFIX:
            return f"({args[0]} {INFIX[name]} {args[1]})"
        if name in TEMPLATES:
            return TEMPLATES[name].format(*args)
        raise NotImplementedError(f"no cuda expression for np.{name} on {dt}")

    return expr


def _special(name: str, args: list[str], dt: np.dtype) -> str | None:
    x = args[0]
    if name == "reciprocal":
        if dt.kind in "fc":
            return f"({literal(1, dt)} / {x})"
        low = literal(np.iinfo(dt).min, dt) if dt.kind in "iu" else "0"
        return f"({low} if {x} == 0 else (1 // {x} if {x} > 0 else -(1 // -{x})))"
    if name == "sign":
        one, zero = literal(1, dt), literal(0, dt)
        if _is_float(dt):
            return f"({x} if ({x} != {x} or {x} == 0) else ({one} if {x} > 0 else -{one}))"
        return f"({one} if {x} > 0 else ({literal(-1, dt) if dt.kind == 'i' else zero} if {x} < 0 else {zero}))"
    if name in ("floor_divide", "remainder") and not _is_float(dt):
        op = "//" if name == "floor_divide" else "%"
        return f"({literal(0, dt)} if {args[1]} == 0 else {x} {op} {args[1]})"
    if name in ("floor_divide", "remainder"):
        return f"({x} {'//' if name == 'floor_divide' else '%'} {args[1]})"
    if name == "power":
        small = small_power(args, [dt], dt) if _is_float(dt) else None  # x**3, x**4: products, as on CPU
        return small if small is not None else f"({x} ** {args[1]})"
    if name == "divide":
        return f"({x} / {args[1]})"
    if name == "invert":
        return f"(not {x})" if dt == np.bool_ else f"(~{x})"
    if name in ("deg2rad", "rad2deg"):
        k = math.pi / 180 if name == "deg2rad" else 180 / math.pi
        return f"({x} * {literal(k, dt)})"
    if name == "absolute" and dt == np.bool_:
        return x
    return None


def element_expr(op, args: list[str]) -> str:
    """The device expression of elementwise `op` (its rule's), where a power
    of an array by one exponent for all elements (`scalar_exponent`,
    tracer/methods.py) takes NumPy's shortcuts on p at run time: x * x at 2,
    1 / x at -1, sqrt at 0.5 ((-0.0) ** 0.5 is -0.0, (-inf) ** 0.5 nan)."""
    in_dtypes = [u.dtype for u in op.inputs]
    expr = TARGET.rule(op.prim).expr(args, in_dtypes, op.out.dtype)
    dt = np.dtype(op.out.dtype)
    if op.prim.name != "power" or not op.attrs.get("scalar_exponent") or dt not in (np.float32, np.float64) \
            or any(np.dtype(d) != dt for d in in_dtypes):
        return expr
    x, p = args
    return (f"({x} * {x} if {p} == {literal(2.0, dt)} else ({literal(1.0, dt)} / {x} if {p} == {literal(-1.0, dt)} "
            f"else (math.sqrt({x}) if {p} == {literal(0.5, dt)} else {expr})))")


OWN_MODULE = {"fmod", "conjugate"}  # rules/special.py


for _name in elementwise.UNARY + elementwise.BINARY:
    if _name not in OWN_MODULE:
        TARGET.register(_name, ScalarRule(ufunc_expr(_name)))
TARGET.register(elementwise.select, ScalarRule(lambda args, in_dtypes, out_dtype: f"({args[1]} if {args[0]} else {args[2]})"))


def convert_expr(args: list[str], in_dtypes, out_dtype) -> str:
    """The cast itself is the nest's; from complex NumPy keeps the real part
    (to bool: whether either part is nonzero), as the CPU's convert."""
    if np.dtype(in_dtypes[0]).kind != "c" or np.dtype(out_dtype).kind == "c":
        return args[0]
    return f"({args[0]} != 0)" if np.dtype(out_dtype) == np.bool_ else f"({args[0]}).real"


TARGET.register(elementwise.convert, ScalarRule(convert_expr))


def _pyint_element(fz, op, idx: list[str]) -> str:
    """Python's int() of a whole float, tested where it is read: a failure is
    reported into the call's error flag (module.py `check_int`)."""
    em, code = fz.em, fz.code
    x = fz.value_at(op.inputs[0], idx)
    codes = [em.check_code(f) for f in op.attrs["failures"]]  # consecutive, as check_int reads them
    t = em.fresh()
    code.line(f"{t} = check_int({x}, {codes[0]}, {code.err()})")
    return t


TARGET.register(elementwise.pyint, IndexRule(_pyint_element))
