"""Branch-free tan and arctan of float32/float64 that LLVM can vectorize
(mathlib.py's rules: no libm call, no fastmath, within NumPy's accuracy).

CALLS maps (NumPy ufunc name, dtype name) to the element expression a kernel
uses (scalar.py `_mathlib_call`); costs.py counts those as mathlib's cost,
and templates.py exports `__all__` into every kernel's namespace.
"""
from __future__ import annotations

CALLS: dict[tuple[str, str], str] = {}
__all__: list[str] = []
