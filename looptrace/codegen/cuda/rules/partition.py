"""cuda rules of partition and argpartition (ops/sort.py): refused when
compiling, with an UnsupportedError that names the NumPy function and the
user's line. The elements off `kth` must come in NumPy's introselect order
(the plain function is the specification), which a GPU kernel does not
reproduce; np.sort, whose result is fully defined, has a rule (sort.py)."""
from __future__ import annotations

from looptrace.codegen.target import StatementRule
from looptrace.errors import UnsupportedError

from ..target import TARGET


def _refuse(em, op) -> None:
    raise UnsupportedError(f"np.{op.prim.name} is not supported by the cuda backend", op.loc,
                           "use np.sort (whose result is defined), or backend='cpu' or 'interpret'")


for _name in ("partition", "argpartition"):
    TARGET.register(_name, StatementRule(_refuse))
