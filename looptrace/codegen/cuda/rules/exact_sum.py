"""cuda rule of fsum (ops/fsum.py): refused when compiling, with an
UnsupportedError that names math.fsum and the user's line. CPython's
algorithm keeps a list of partials that grows as it needs (no bound is
assumed on the cpu either: codegen/cpu/exact_sum.py), which a thread's
fixed local array does not hold; a compensated sum is not Python's answer."""
from __future__ import annotations

from looptrace.codegen.target import StatementRule
from looptrace.errors import UnsupportedError

from ..target import TARGET


def _refuse(em, op) -> None:
    raise UnsupportedError("math.fsum() is not supported by the cuda backend", op.loc,
                           "use backend='cpu' or 'interpret', or np.sum / sum() if its rounding is acceptable")


TARGET.register("fsum", StatementRule(_refuse))
