"""Kernel helpers for the NaN-propagating max or min of a float vector
(np.max, np.min), of each row of a matrix (m.max(axis=1)), and for the
argmax or argmin of a long float vector: compiled once and cached on disk, so
that a kernel calling them compiles none of their loops (written into the
kernel, x.max() of a matrix took 2.5 s of cold compile against 2.0 s for the
serial loop).

A contiguous vector's best is the max (min) of integer keys of its floats
(`_by_keys_64`), an integer fold LLVM vectorizes with its accumulators in
registers; any other's is taken in `lanes`, a scratch array of accumulators,
each updated by a loop that LLVM vectorizes (`_by_lanes`). NaN-propagating
selects in a tuple of 8 lanes stayed scalar code, 2 cycles an element (max
of 1.2M float64, one thread: 0.27 ms so, 0.13-0.15 ms in lanes, NumPy
0.11-0.13). Max and min are exact in any order; of +0.0 and -0.0 the keys
take +0.0 for the max and -0.0 for the min, the lanes whichever they meet
first (NumPy leaves it open: nest.py `tied` says where a fold must choose).
"""
from __future__ import annotations

import numba
import numpy as np
from numba.extending import overload

from looptrace.codegen.cpu.helper import nonneg
from looptrace.codegen.cpu.mathlib import wide_vectors

LANES = 256  # accumulators: 1024 bytes of float32 use 256 of them, of float64 the first 128
# (s51, one process, medians of 81, in lanes: max of 1.2M float64 0.214 ms in 64, 0.167 in 128,
# NumPy 0.153; float32 0.103 in 128, 0.072 in 256, NumPy 0.063)


def _width(x):
    """The accumulators for x's dtype, a constant of its type (1024 bytes of them)."""


@overload(_width, inline="always")
def _ov_width(x):
    w = 1024 // x.dtype.bitwidth * 8  # (`x.itemsize` is read at run time: the loops over it stayed scalar)
    return lambda x: w


def _best(x, lanes, upper):
    """The NaN-propagating max (`upper`) or min of the vector x (`lanes`: a
    scratch array of its dtype, LANES long): `_by_keys` where x is
    contiguous, else `_by_lanes`."""


@overload(_best, inline="always")
def _ov_best(x, lanes, upper):
    if x.layout == "C":
        return _by_keys_64 if x.dtype.bitwidth == 64 else _by_keys_32
    return _by_lanes


def _by_lanes(x, lanes, upper):
    """`_best` in `_width(x)` accumulators of `lanes`, each row of them
    updated by a loop that vectorizes, folded in halves."""
    n, w = x.shape[0], _width(x)
    init = -np.inf if upper else np.inf
    for j in range(w):
        lanes[j] = init
    cut = n - n % w
    for b in range(0, cut, w):
        for j in range(w):
            lanes[j] = _better(lanes[j], x[nonneg(b + j)], upper)
    if cut < n and cut:  # the last w elements, some again: max and min are idempotent
        for j in range(w):
            lanes[j] = _better(lanes[j], x[nonneg(n - w + j)], upper)
    elif cut < n:
        for j in range(n):
            lanes[j] = _better(lanes[j], x[j], upper)
    half = w // 2
    while half >= 8:
        for j in range(half):
            lanes[j] = _better(lanes[j], lanes[j + half], upper)
        half //= 2
    best = lanes[0]
    for j in range(1, 8):
        best = _better(best, lanes[j], upper)
    return best


# `_by_keys`: the bits of each float as a signed integer, the magnitude bits flipped where the sign
# is set (`b ^ ((b >> 63) & MAX)`), order as the floats do (-0.0 just below +0.0), a NaN's above
# +inf's (a positive NaN) or below -inf's (a negative one). Their max and min are integer folds
# LLVM vectorizes with the accumulators in registers; a NaN is where either passes an infinity's.
# One process, medians of 101, rows of 1000 float64: 0.146 ms against 0.174 in `_by_lanes` (NumPy
# 0.154); 10^6 float64: 0.104 (0.135 with a count of NaNs, x != x, instead; NumPy 0.091).
def _key_bounds(bits: int, int_dtype) -> tuple:
    """The keys of +inf and -inf, of floats of `bits` bits."""
    f = np.float64 if bits == 64 else np.float32
    inf = np.array([np.inf, -np.inf], f).view(int_dtype)
    top = np.iinfo(int_dtype).max
    return int_dtype(inf[0]), int_dtype(inf[1] ^ top)


_PINF64, _NINF64 = _key_bounds(64, np.int64)
_PINF32, _NINF32 = _key_bounds(32, np.int32)


def _by_keys_64(x, lanes, upper):
    """`_best` of a contiguous float64 vector, from keys (above); lanes[0] holds the result's bits."""
    keys, top = x.view(np.int64), np.int64(0x7FFFFFFFFFFFFFFF)
    hi, lo = -top - np.int64(1), top
    for j in range(x.shape[0]):
        b = keys[j]
        key = b ^ ((b >> np.int64(63)) & top)
        hi = max(hi, key)
        lo = min(lo, key)
    if hi > _PINF64 or lo < _NINF64:
        return np.float64(np.nan)
    best = hi if upper else lo
    lanes.view(np.int64)[0] = best ^ ((best >> np.int64(63)) & top)
    return lanes[0]


def _by_keys_32(x, lanes, upper):
    """`_by_keys_64` of a contiguous float32 vector."""
    keys, top = x.view(np.int32), np.int32(0x7FFFFFFF)
    hi, lo = np.int32(-top - np.int32(1)), top
    for j in range(x.shape[0]):
        b = keys[j]
        key = np.int32(b ^ ((b >> np.int32(31)) & top))
        hi = max(hi, key)
        lo = min(lo, key)
    if hi > _PINF32 or lo < _NINF32:
        return np.float32(np.nan)
    best = hi if upper else lo
    lanes.view(np.int32)[0] = np.int32(best ^ ((best >> np.int32(31)) & top))
    return lanes[0]


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


@numba.njit(cache=True, nogil=True, inline="always")
def _rows(x, out, upper):
    """out[i] = the best of row i of the 2-d x (`lanes` of its own: in
    the caller's, which LLVM must assume may overlap x, rows of 1000 float64
    not contiguous took 12% longer)."""
    lanes = np.empty(LANES, x.dtype)
    for i in range(x.shape[0]):
        out[i] = _best(x[i], lanes, upper)
    return 0


@numba.njit(cache=True, nogil=True)
def max_rows(x, out):
    """out[i] = np.max(x[i]) of each row of the 2-d float array x: m.max(axis=1)
    in one call, its loops compiled once (reductions.py `row_extremes`).
    1000 x 1000 float64, one process, medians of 101: 0.120 ms (NumPy 0.154;
    8 lanes of a tuple in the kernel 0.23); float32 0.072 (NumPy 0.111).
    Written into the kernel, 128 accumulators in an array folded in halves
    ran 0.19 ms and cost its compile 1.6 s more than the tuple."""
    wide_vectors()
    return _rows(x, out, True)


@numba.njit(cache=True, nogil=True)
def min_rows(x, out):
    """out[i] = np.min(x[i]) of each row of the 2-d float array x, rows of at least 8 elements."""
    wide_vectors()
    return _rows(x, out, False)


# --- argmax, argmin of a long float vector (reductions.py `_blocked_arg`) ---
ARG_BLOCK = 8192  # elements per block
# s51, argmax of 10^6 float64 (one process, medians of 41), written into the kernel in blocks of
# 4096: 0.190 ms in 64 lanes, 0.135 in 128 (which cost the kernel 0.8 s more of compile); here,
# each block's best from keys, in blocks of 8192: 0.109 (NumPy 0.128); float32 0.049 (NumPy 0.061)


@numba.njit(cache=True, nogil=True, inline="always")
def _block_bests(x, bm, b0, b1, upper):
    """bm[b] = the NaN-propagating best of x's block b, for b in [b0, b1)."""
    lanes = np.empty(LANES, x.dtype)
    for b in range(b0, b1):
        bm[b] = _best(x[b * ARG_BLOCK:(b + 1) * ARG_BLOCK], lanes, upper)
    return 0


@numba.njit(cache=True, nogil=True)
def max_blocks(x, bm, b0, b1):
    """bm[b] = np.max of x's block b of ARG_BLOCK elements, b0 <= b < b1."""
    wide_vectors()
    return _block_bests(x, bm, b0, b1, True)


@numba.njit(cache=True, nogil=True)
def min_blocks(x, bm, b0, b1):
    """bm[b] = np.min of x's block b of ARG_BLOCK elements, b0 <= b < b1."""
    wide_vectors()
    return _block_bests(x, bm, b0, b1, False)


@numba.njit(cache=True, nogil=True, inline="always")
def _beats(e, best, upper):
    """Does e take the place of the best so far in a serial argmax (argmin)? NaN wins, the first of ties stays."""
    return (e > best if upper else e < best) or (e != e and best == best)


@numba.njit(cache=True, nogil=True)
def arg_of_blocks(x, bm, upper):
    """The argmax (`upper`) or argmin of x, from the bests of its blocks `bm`
    (one at least): the first block whose best beats all before it, NaN
    first, as in the serial loop; the elements after the last block, in
    order; then the first position in the winning block equal to its best
    (or NaN where that is NaN). Ties keep the first: blocks compare strictly
    and the search stops at the first match (+0.0 and -0.0 are equal, as
    NumPy compares them)."""
    nb, n = bm.shape[0], x.shape[0]
    best, blk = bm[0], 0
    for k in range(1, nb):
        if _beats(bm[k], best, upper):
            best, blk = bm[k], k
    for k in range(nb * ARG_BLOCK, n):
        if _beats(x[k], best, upper):
            best, blk = x[k], -1 - k
    if blk < 0:
        return -1 - blk
    for k in range(blk * ARG_BLOCK, blk * ARG_BLOCK + ARG_BLOCK):
        if x[k] == best or (best != best and x[k] != x[k]):
            return k
    return blk * ARG_BLOCK


from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
