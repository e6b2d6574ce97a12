"""cuda rules of print() (ops/io.py): refused.

numba.cuda's print formats numbers with C's printf, whose text is not
Python's (`0.30000000000000004`, `np.float32(0.1)` as '0.1', NumPy's array
text), and prints from every thread in no set order: the program would not
print what the plain function prints. The cpu and interpret backends do.
"""
from __future__ import annotations

from looptrace.codegen.target import StatementRule
from looptrace.errors import UnsupportedError

from ..target import TARGET


def _refuse_print(em, op) -> None:
    raise UnsupportedError("print() of traced values is not supported by the cuda backend: a GPU kernel "
                           "cannot print Python's text in the plain function's order", op.loc,
                           "use backend='cpu' or 'interpret' to debug with print(), or return the values "
                           "and print them outside")


for _name in ("print_token", "print"):  # ops/io.py
    TARGET.register(_name, StatementRule(_refuse_print))
