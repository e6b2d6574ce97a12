"""cuda rules of slogdet, eigh, eigvalsh, svd, svdvals, qr and pinv
(ops/factorizations.py): refused when compiling, with an UnsupportedError
that names the NumPy function and the user's line (no one-thread-per-matrix
Jacobi or Householder code here yet; rules/decomp.py shows the pattern such a
rule would follow). lstsq, matrix_rank and the 2/-2/'nuc' matrix norms are
compositions over these, so they are refused the same way.
"""
from __future__ import annotations

from looptrace.codegen.target import StatementRule
from looptrace.errors import UnsupportedError

from ..target import TARGET

NUMPY_NAMES = {"slogdet": "np.linalg.slogdet", "eigh": "np.linalg.eigh", "eigvalsh": "np.linalg.eigvalsh",
               "svd": "np.linalg.svd", "svdvals": "np.linalg.svd(..., compute_uv=False) / svdvals",
               "qr": "np.linalg.qr", "pinv": "np.linalg.pinv"}


def _refuse(em, op) -> None:
    raise UnsupportedError(f"{NUMPY_NAMES[op.prim.name]} is not supported by the cuda backend", op.loc,
                           "use backend='cpu' or 'interpret' for this function")


for _name in NUMPY_NAMES:
    TARGET.register(_name, StatementRule(_refuse))
