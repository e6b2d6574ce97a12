"""Small Numba helpers that generated kernels call (real Python, compiled by
Numba, each exercised by tests/codegen). Generated modules import them all
with `from looptrace.codegen.templates import *`.

Invariant: every helper is `@njit(cache=True)` with no global state, so a
kernel loaded from the disk cache links against the same code. The SIMD-able
math functions (`exp_f64`, `tanh_f32`, ...) live in codegen/mathlib.py, which
keeps the same invariant, and are re-exported here.
"""
from __future__ import annotations

import numba
import numpy as np

from looptrace.codegen.mathlib import (exp_f32, exp_f64, expm1_f32, expm1_f64, log1p_f32, log1p_f64,
                                       log_f32, log_f64, tanh_f32, tanh_f64)

__all__ = ["CheckFailed", "check_elem", "check_start", "exp_f32", "exp_f64", "expm1_f32", "expm1_f64", "log1p_f32",
           "log1p_f64", "log_f32", "log_f64", "max_nan", "min_nan", "np", "numba", "tanh_f32",
           "tanh_f64", "trip_count"]


class CheckFailed(Exception):
    """Raised by a kernel's `check` (looptrace/ops/check.py) with the code of
    the failure; the kernel's caller raises the user's exception instead."""


@numba.njit(cache=True, inline="always")
def check_start(i, n, size, code):
    """A dynamic slice start, normalized as NumPy does; raises IndexError(code, i, n)
    with the index as given."""
    j = i + n if i < 0 and size == 1 else i
    if j < 0 or j > n - size:
        raise IndexError(code, i, n)
    return j


@numba.njit(cache=True, inline="always")
def check_elem(i, n, code):
    """An element index of a gather/scatter (negative counts from the end)."""
    if i < -n or i >= n:
        raise IndexError(code, i, n)
    if i < 0:
        return i + n
    return i


@numba.njit(cache=True, inline="always")
def trip_count(start, stop, step):
    """len(range(start, stop, step)) for a nonzero step."""
    if step > 0:
        n = (stop - start + step - 1) // step
    else:
        n = (start - stop - step - 1) // (-step)
    return max(n, 0)


@numba.njit(cache=True, inline="always")
def max_nan(acc, x):
    """np.maximum: NaN propagates."""
    if x > acc or x != x:
        return x
    return acc


@numba.njit(cache=True, inline="always")
def min_nan(acc, x):
    """np.minimum: NaN propagates."""
    if x < acc or x != x:
        return x
    return acc


def _harden_helpers() -> None:
    """Their disk cache is read through verified files too (codegen/cache.py)."""
    import sys

    from looptrace.codegen.cache import harden_module

    harden_module(sys.modules[__name__])


_harden_helpers()
