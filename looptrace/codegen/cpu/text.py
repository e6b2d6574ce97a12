"""Numba source text of scalar constants, casts and dtypes."""
from __future__ import annotations

import numpy as np


def literal(x, dtype) -> str:
    """Source text of a scalar constant of `dtype`, exact and typed."""
    dt = np.dtype(dtype)
    x = np.asarray(x).reshape(()).item()
    if dt.kind == "b":
        return "True" if x else "False"
    if dt.kind == "f":
        text = _float_text(float(x))
        return text if dt == np.float64 else f"np.{dt.name}({text})"
    if dt == np.int64 and -2 ** 63 <= int(x) < 2 ** 63:
        return f"({int(x)})" if int(x) < 0 else str(int(x))  # Numba types an int literal as int64
    if dt.kind in "iu":
        return f"np.{dt.name}({int(x)})"
    if dt.kind == "c":  # (parts by _float_text: repr gives `inf`, `nan`, names Numba does not know)
        z = complex(x)
        return f"np.{dt.name}(complex({_float_text(z.real)}, {_float_text(z.imag)}))"
    raise TypeError(f"no literal for dtype {dt}")


def _float_text(f: float) -> str:
    if f != f:
        return "np.nan"
    if f in (float("inf"), float("-inf")):
        return "np.inf" if f > 0 else "(-np.inf)"
    return repr(f)


def cast(expr: str, dtype) -> str:
    """`expr` converted to `dtype` as a Numba scalar."""
    dt = np.dtype(dtype)
    return f"np.{dt.name}({expr})"


def as_int64(expr: str, dtype) -> str:
    """`expr`, of `dtype` in Numba, as an int64 (a cast only when it is not one)."""
    return expr if np.dtype(dtype) == np.int64 else f"np.int64({expr})"


def dtype_text(dtype) -> str:
    return f"np.{np.dtype(dtype).name}"
