"""Kernel helpers for the NaN-propagating max or min of a float vector
(np.max, np.min): compiled once and cached on disk, so that a kernel calling
them compiles none of their loops (written into the kernel, x.max() of a
matrix took 2.5 s of cold compile against 2.0 s for the serial loop).

The best is taken in `lanes`, a scratch array of LANES accumulators (the
caller's), each updated by a loop that LLVM vectorizes; NaN-propagating
selects in a tuple of 8 lanes stayed scalar code, 2 cycles an element (max
of 1.2M float64, one thread: 0.27 ms so, 0.13-0.15 ms in lanes, NumPy
0.11-0.13). Max and min are exact in any order; of +0.0 and -0.0 they keep
whichever the lanes meet first.
"""
from __future__ import annotations

import numba
import numpy as np
from numba.extending import overload

from looptrace.codegen.cpu.mathlib import wide_vectors

LANES = 128  # accumulators: 512 bytes of float32 use 128 of them, of float64 the first 64


def _width(x):
    """The accumulators for x's dtype, a constant of its type (512 bytes of them)."""


@overload(_width, inline="always")
def _ov_width(x):
    w = 512 // x.dtype.bitwidth * 8  # (`x.itemsize` is read at run time: the loops over it stayed scalar)
    return lambda x: w


@numba.njit(cache=True, nogil=True, inline="always")
def _best(x, lanes, upper):
    """The NaN-propagating max (`upper`) or min of the vector x."""
    n, w = x.shape[0], _width(x)
    init = -np.inf if upper else np.inf
    for j in range(w):
        lanes[j] = init
    cut = n - n % w
    for b in range(0, cut, w):
        for j in range(w):
            lanes[j] = _better(lanes[j], x[b + j], upper)
    for j in range(cut, n):
        lanes[j - cut] = _better(lanes[j - cut], x[j], upper)
    half = w // 2
    while half >= 8:
        for j in range(half):
            lanes[j] = _better(lanes[j], lanes[j + half], upper)
        half //= 2
    best = lanes[0]
    for j in range(1, 8):
        best = _better(best, lanes[j], upper)
    return best


@numba.njit(cache=True, nogil=True, inline="always")
def _better(acc, v, upper):
    if (v > acc if upper else v < acc) or v != v:
        return v
    return acc


@numba.njit(cache=True, nogil=True)
def max_lanes(x, lanes):
    """np.max(x) of a float vector of at least 8 elements."""
    wide_vectors()
    return _best(x, lanes, True)


@numba.njit(cache=True, nogil=True)
def min_lanes(x, lanes):
    """np.min(x) of a float vector of at least 8 elements."""
    wide_vectors()
    return _best(x, lanes, False)


from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
