"""CPU rules of the special functions and complex parts (ops/special.py):
scalar expressions, as for the ufuncs. erf, erfc, gamma and lgamma are Numba's
`math` functions; digamma and trigamma are specialfn.py's; the parts read the
complex scalar's fields."""
from __future__ import annotations

from looptrace.codegen.target import ScalarRule

from .target import TARGET

TEMPLATES = {
    "erf": "math_erf({0})", "erfc": "math_erfc({0})", "gamma": "math_gamma({0})",
    "lgamma": "math_lgamma({0})", "digamma": "digamma({0})", "trigamma": "trigamma({0})",
    "real": "({0}).real", "imag": "({0}).imag", "make_complex": "complex({0}, {1})",
}


def _template_expr(template: str):
    return lambda args, in_dtypes, out_dtype: template.format(*args)


for _name, _template in TEMPLATES.items():
    TARGET.register(_name, ScalarRule(_template_expr(_template)))
