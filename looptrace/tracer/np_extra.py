"""More of the NumPy surface under tracing: compositions of `semantics`
operations for functions kernels use that the other np_* modules do not
cover.

Invariant: compositions only (no primitives of their own); results, dtypes,
shapes and errors are NumPy's for the arguments looptrace supports, and
anything else raises UnsupportedError naming the argument.
"""
from __future__ import annotations

from typing import Any

TABLE: dict[str, Any] = {}  # np.<name>
LINALG_TABLE: dict[str, Any] = {}  # np.linalg.<name>
