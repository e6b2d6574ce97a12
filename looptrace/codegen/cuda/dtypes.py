"""Which dtypes the cuda target computes in, op by op.

float16 is refused everywhere (numba.cuda has no float16 arithmetic the
generated code could rely on). Complex arrays (complex64, complex128) travel
in and out of kernels and through every op that only moves, selects or
combines them with the arithmetic numba.cuda implements for complex scalars
(+, -, *, /, abs, ==, !=, conjugate, the parts); sums, products and
contractions accumulate in the complex dtype (the generic contraction: the
cuBLAS path takes real dtypes only). What numba.cuda cannot type on complex
(math.* functions, comparisons that order, atomics, sorting) is refused up
front with an UnsupportedError naming the dtype, the primitive and the
user's line, never a numba traceback.

Invariant: `check_program` runs before anything is emitted, so a rule may
assume its complex inputs are of a kind listed here.
"""
from __future__ import annotations

import numpy as np

from looptrace.errors import UnsupportedError
from looptrace.ir.core import Program, walk

FLOAT16 = np.dtype(np.float16)

# elementwise ops numba.cuda computes on complex scalars
COMPLEX_ELEMENTWISE = {
    "add", "subtract", "multiply", "divide", "negative", "positive", "square", "reciprocal",
    "absolute", "equal", "not_equal", "conjugate", "real", "imag", "make_complex", "select",
    "convert",
}
# other ops that take complex values: data movement, folds by + and *, products, loops
COMPLEX_REFUSED = {"sort", "argsort", "reduce_max", "reduce_min", "argmax", "argmin", "reduce_all",
                   "reduce_any", "linear_scan", "matrix_power_apply", "solve", "inv", "det", "cholesky"}


def _complex(dt) -> bool:
    return np.dtype(dt).kind == "c" if dt is not None and hasattr(dt, "kind") else False


def check_program(program: Program) -> None:
    """Refuse float16 anywhere, and complex where the cuda target cannot compute it."""
    for v in program.body.args:
        if getattr(v, "dtype", None) == FLOAT16:
            raise UnsupportedError("float16 arrays are not supported by the cuda backend", None,
                                   "convert to float32/float64, or use backend='cpu' or 'interpret'")
    for op in walk(program.body):
        for v in op.outputs:
            if v.dtype == FLOAT16:
                raise UnsupportedError("this computes in float16, which the cuda backend does not support",
                                       op.loc, "convert to float32/float64 first, or use backend='interpret'")
        values = [*op.inputs, *op.outputs]
        if not any(_complex(getattr(v, "dtype", None)) for v in values):
            continue
        name = op.prim.name
        refused = name in COMPLEX_REFUSED or (op.prim.elementwise and name not in COMPLEX_ELEMENTWISE)
        if refused:
            dt = next(v.dtype for v in values if _complex(getattr(v, "dtype", None)))
            raise UnsupportedError(f"`{name}` on {dt} values is not supported by the cuda backend "
                                   "(numba.cuda has no complex version of it)", op.loc,
                                   "use backend='cpu' or 'interpret' for this function, or compute on "
                                   "the real and imaginary parts")
