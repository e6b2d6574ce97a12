"""cuda rules of the special functions and complex parts (ops/special.py),
plus the ufuncs whose device expression is not an operator or a `math`
call (fmod, conjugate); each a `ScalarRule`.

  erf, erfc, gamma, lgamma   numba.cuda's `math` (libdevice erf, erfc,
                             tgamma, lgamma); where Python raises a domain
                             or range error they give the IEEE value, as
                             the reference does (ops/special.py)
  digamma, trigamma          device functions digamma_ / trigamma_ of the
                             module's header (module.py): the definitions
                             the CPU target compiles too
                             (codegen/scalar_algorithms.py), in float64 like
                             the CPU's, rounded by the cast
  fmod                       C's fmod (the sign of the dividend): `math.fmod`
                             on floats (libdevice fmod); integers through
                             fmod_i (the floored remainder corrected to the
                             dividend's sign; 0 for a zero divisor, as NumPy)
  conjugate, real, imag      the complex scalar's fields; on a real dtype
                             conjugate and real are the value, imag is 0
  make_complex               complex(re, im): no arithmetic, so inf and nan
                             parts stay as they are

Inputs already have the computation's dtype (the tracer converts them), and
the fused nest casts each result to the op's dtype.
"""
from __future__ import annotations

import numpy as np

from looptrace.codegen.target import ScalarRule

from ...cpu.text import literal
from ..target import TARGET

MATH = {"erf": "erf", "erfc": "erfc", "gamma": "gamma", "lgamma": "lgamma"}
HELPERS = {"digamma": "digamma_", "trigamma": "trigamma_"}


def _special(name: str):
    def expr(args: list[str], in_dtypes, out_dtype) -> str:
        if name in MATH:
            return f"math.{MATH[name]}({args[0]})"
        return f"{HELPERS[name]}({args[0]})"

    return expr


def _is_complex(dt) -> bool:
    return np.dtype(dt).kind == "c"


def _real(args, in_dtypes, out_dtype) -> str:
    return f"({args[0]}).real" if _is_complex(in_dtypes[0]) else args[0]


def _imag(args, in_dtypes, out_dtype) -> str:
    return f"({args[0]}).imag" if _is_complex(in_dtypes[0]) else literal(0, out_dtype)


def _conjugate(args, in_dtypes, out_dtype) -> str:
    return f"({args[0]}).conjugate()" if _is_complex(in_dtypes[0]) else args[0]


def _make_complex(args, in_dtypes, out_dtype) -> str:
    return f"complex({args[0]}, {args[1]})"


def _fmod(args, in_dtypes, out_dtype) -> str:
    dt = np.dtype(in_dtypes[0])
    if dt.kind == "f":
        return f"math.fmod({args[0]}, {args[1]})"
    return f"fmod_i({args[0]}, {args[1]})"


for _name in list(MATH) + list(HELPERS):
    TARGET.register(_name, ScalarRule(_special(_name)))
TARGET.register("real", ScalarRule(_real))
TARGET.register("imag", ScalarRule(_imag))
TARGET.register("make_complex", ScalarRule(_make_complex))
TARGET.register("conjugate", ScalarRule(_conjugate))
TARGET.register("fmod", ScalarRule(_fmod))
