"""Kernel helpers for argmax and argmin along one axis of a 2-d array
(reductions.py `_helper_arg` calls them on each 2-d slab of its operand):
compiled once per dtype and layout on a machine and cached on disk, so a
kernel calling them compiles none of their loops, and never inlined into a
kernel (`_kept_apart`).

`argmax_rows(x, out, lo, hi)`: out[i] = x[i].argmax() for rows lo..hi.
Each row is taken in blocks of ROW_BLOCK elements (in the L1 cache): the
best of a block as a max (min) of integer keys ordered as the floats are
(`_key`), a NaN's key the extreme one, a reduction LLVM vectorizes in
registers; the first block whose best beats all before it (or that holds
a NaN); then the first position in it holding the best, a min reduction
over the positions that match. Keys and positions are as wide as the
elements (float32: int32), so that a vector holds as many of them.

`argmax_cols(x, out, lo, hi)`: out[j] = x[:, j].argmax() for columns
lo..hi, in tiles of COL_TILE columns whose best and position stay in the
cache, each row of a tile a select LLVM vectorizes across the columns; a
C-contiguous x of fewer than NARROW columns, several rows at a time as one
vector of lanes (`_narrow_cols`).

NumPy's semantics: the first occurrence of the best; for floats the first
NaN (of either sign) wins; +0.0 and -0.0 are equal; of bools the first True
(False). The caller guarantees a non-empty reduced axis. Measured against
NumPy 2.4 (one thread, AMD EPYC with AVX-512), float64: rows of 4000 x 300
0.20 ms (NumPy 0.19-0.21), 100000 x 8 0.39 (2.1); columns of 4000 x 300
0.35 (1.5), 100000 x 8 0.12-0.15 (0.6-0.7). float32 rows: 300 x 4000 0.065
ms (NumPy 0.058), 1000 x 2000 0.12-0.13 (0.10).
"""
from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir as llvmir
from numba.core import types
from numba.extending import intrinsic, overload

from looptrace.codegen.cpu.helper import empty, kernel_helper
from looptrace.codegen.cpu.helper import nonneg as _nonneg  # (templates.py's, which this module cannot import)
from looptrace.codegen.cpu.mathlib import pick, wide_vectors

ROW_BLOCK = 2048  # elements of a row whose best is taken at once (16 KiB of float64)
# elements searched at once for the first position of the best (no early exit within); above
# ROW_BLOCK, one chunk. Written as a loop of chunks all the same: as one loop, 100000 x 8 took
# 1.3 ms against 0.39 (and chunks of half a row, 0.28 ms against 0.20 for 4000 x 300; chunks of
# 256, 1.4 ms again)
FIND_CHUNK = 4096
COL_TILE = 512  # columns whose running best and position stay in the cache together
NARROW = 64  # fewer columns than this: several rows at a time as one vector of lanes




def _key(v):
    """v as an integer ordered as v is (floats by `_float_key`; others as they are)."""


@overload(_key)
def _ov_key(v):
    if isinstance(v, types.Float):
        return lambda v: _float_key(v)
    return lambda v: v


def _value_of(k, like):
    """The value whose `_key` is k."""


@overload(_value_of)
def _ov_value_of(k, like):
    if isinstance(like, types.Float):
        return lambda k, like: _float_of(k, like)
    return lambda k, like: k


@intrinsic
def _float_key(typingctx, v):
    """An integer of v's width ordered as the floats are (its bits, the
    magnitude bits flipped where the sign is set): -0.0 just below +0.0,
    NaNs beyond the infinities (by sign). LLVM vectorizes an integer max or
    min reduction in registers; a float one that propagates NaN only through
    an array of lanes, its masked stores each read back by the next round
    (a row's max, 4000 x 300: 0.33 ms against NumPy's whole argmax 0.24)."""
    if not isinstance(v, types.Float):
        return None
    key = types.int64 if v.bitwidth == 64 else types.int32

    def codegen(context, builder, sig, args):
        ty = llvmir.IntType(v.bitwidth)
        bits = builder.bitcast(args[0], ty)
        flip = builder.and_(builder.ashr(bits, ty(v.bitwidth - 1)), ty((1 << (v.bitwidth - 1)) - 1))
        return builder.xor(bits, flip)

    return key(v), codegen


@intrinsic
def _float_of(typingctx, k, like):
    """The float whose `_key` is k (the flip is its own inverse)."""
    def codegen(context, builder, sig, args):
        ty = llvmir.IntType(like.bitwidth)
        k = args[0]
        flip = builder.and_(builder.ashr(k, ty(like.bitwidth - 1)), ty((1 << (like.bitwidth - 1)) - 1))
        return builder.bitcast(builder.xor(k, flip), context.get_value_type(like))

    return like(k, like), codegen


@intrinsic
def _kept_apart(typingctx):
    """No code: the function it is called in is never inlined into its
    caller. Inlined into a kernel, whose shapes are constants
    (`same_shape`), LLVM compiled the loops again for those shapes, and
    worse: a (4000, 300) argmax 0.28 ms against the helper's own 0.20."""

    def codegen(context, builder, signature, args):
        builder.function.attributes.add("noinline")
        return context.get_dummy_value()

    return types.none(), codegen


# The helpers below read x[i, lo + j] for j in 0..n through `_nonneg`, not
# views of x: each view of a row is a reference count taken and dropped,
# two atomic operations per row and block. Each loop is a reduction without
# an early exit, which LLVM vectorizes (a search that stops at the first
# hit stayed scalar code).
@numba.njit(cache=True, nogil=True, inline="always")
def _beats(v, best, upper):
    """v is strictly better than best: larger (upper) or smaller, or the first NaN."""
    return (v > best if upper else v < best) or (v != v and best == best)


def _nan_key(like, upper):
    """The key a NaN counts as in `_block_best`: the largest key of like's
    width (upper) or the smallest; both are keys of NaNs, of no other value,
    so the best is a NaN exactly where the block holds one."""


@overload(_nan_key)
def _ov_nan_key(like, upper):
    if not isinstance(like, types.Float):
        return lambda like, upper: _key(like)  # (no NaNs: never compared equal to the best)
    if like.bitwidth == 64:
        return lambda like, upper: np.int64(0x7FFFFFFFFFFFFFFF) if upper else np.int64(-0x8000000000000000)
    return lambda like, upper: np.int32(0x7FFFFFFF) if upper else np.int32(-0x80000000)


@numba.njit(cache=True, nogil=True, inline="always")
def _block_best(x, i, lo, n, upper):
    """(the best of x[i, lo:lo + n], whether the block holds a NaN): one max
    or min of keys of the element's width, a NaN's key `_nan_key` (with a
    count of NaNs beside it, an int64, float32 lanes went 8 to a vector
    instead of 16: (300, 4000) 0.098 ms against NumPy's 0.062, now 0.065)."""
    first = x[i, lo]
    top = _nan_key(first, upper)
    best = _key(first)
    for j in range(n):
        v = x[i, _nonneg(lo + j)]
        k = pick(v != v, top, _key(v))
        best = max(best, k) if upper else min(best, k)
    value = _value_of(best, first)
    return value, value != value


def _position(j, like):
    """j (< FIND_CHUNK) as an integer of like's width where that is 32 bits
    or less (int32), else int64: a position in `_first_equal`'s min reduction
    takes vector lanes as wide as the elements' (as int64, float32 rows ran 8
    lanes to a vector, not 16)."""


@overload(_position)
def _ov_position(j, like):
    if isinstance(like, (types.Float, types.Integer)) and like.bitwidth <= 32 or isinstance(like, types.Boolean):
        return lambda j, like: np.int32(j)
    return lambda j, like: np.int64(j)


@numba.njit(cache=True, nogil=True, inline="always")
def _first_equal(x, i, lo, n, best, nan):
    """The first j >= lo with x[i, j] equal to best (NaN where `nan`);
    there is one before lo + n. Searched FIND_CHUNK elements at a time, each
    chunk a min reduction over the positions that match."""
    for c in range(0, n, FIND_CHUNK):
        m = _position(min(FIND_CHUNK, n - c), best)
        first = m
        if nan:
            for j in range(m):
                v = x[i, _nonneg(lo + c + j)]
                first = min(first, pick(v != v, _position(j, best), m))
        else:
            for j in range(m):
                first = min(first, pick(x[i, _nonneg(lo + c + j)] == best, _position(j, best), m))
        if first < m:
            return lo + c + first
    return lo


@numba.njit(cache=True, nogil=True, inline="always")
def _row_arg(x, i, upper):
    """x[i].argmax() (upper) or x[i].argmin() of a non-empty row."""
    n = x.shape[1]
    if n < 1:
        return 0  # (never: the caller's axis is not empty; LLVM vectorizes the loops below better knowing it)
    if n <= ROW_BLOCK:
        best, nan = _block_best(x, i, 0, n, upper)
        return _first_equal(x, i, 0, n, best, nan)
    best, nan, at = x[i, 0], False, 0
    for lo in range(0, n, ROW_BLOCK):
        b, b_nan = _block_best(x, i, lo, min(ROW_BLOCK, n - lo), upper)
        if b_nan:
            best, nan, at = b, True, lo
            break  # the first NaN is in this block: none after it wins
        if (b > best if upper else b < best) or lo == 0:
            best, at = b, lo
    return _first_equal(x, i, at, min(ROW_BLOCK, n - at), best, nan)


def _rows_any(x, out, lo, hi, upper):
    """out[i] = the argmax (upper) or argmin of x[i] for i in lo..hi; of an
    F-contiguous x (a transposed C array), the columns of x.T."""


@overload(_rows_any)
def _ov_rows_any(x, out, lo, hi, upper):
    if x.layout == "F":
        return lambda x, out, lo, hi, upper: _tiled_cols(x.T, out, lo, hi, upper)
    return lambda x, out, lo, hi, upper: _rows(x, out, lo, hi, upper)


@numba.njit(cache=True, nogil=True, inline="always")
def _rows(x, out, lo, hi, upper):
    """out[i] = the argmax (upper) or argmin of x[i] for i in lo..hi."""
    for i in range(lo, hi):
        out[_nonneg(i)] = _row_arg(x, _nonneg(i), upper)


def _cols(x, out, lo, hi, upper):
    """out[j] = the argmax (upper) or argmin of x[:, j] for j in lo..hi:
    whole rows of a C-contiguous x narrower than NARROW by `_narrow_cols`,
    others by `_tiled_cols`."""


@overload(_cols)
def _ov_cols(x, out, lo, hi, upper):
    if x.layout == "F":  # a transposed C array (x.T.argmax(axis=0)): its rows
        return lambda x, out, lo, hi, upper: _rows(x.T, out, lo, hi, upper)
    if x.layout != "C":
        return lambda x, out, lo, hi, upper: _tiled_cols(x, out, lo, hi, upper)

    def cols(x, out, lo, hi, upper):
        n, c = x.shape
        if c < NARROW and lo == 0 and hi == c and n >= 2 * NARROW:
            _narrow_cols(x.reshape(n * c), n, c, out, upper)
        else:
            _tiled_cols(x, out, lo, hi, upper)
    return cols


@numba.njit(cache=True, nogil=True, inline="always")
def _tiled_cols(x, out, lo, hi, upper):
    n = x.shape[0]
    best = empty(COL_TILE, x.dtype)
    for t in range(lo, hi, COL_TILE):
        m = min(COL_TILE, hi - t)
        for j in range(m):
            best[j] = x[0, _nonneg(t + j)]
            out[_nonneg(t + j)] = 0
        for i in range(1, n):
            for j in range(m):
                v, b = x[i, _nonneg(t + j)], best[j]
                take = _beats(v, b, upper)
                best[j] = v if take else b
                out[_nonneg(t + j)] = i if take else out[_nonneg(t + j)]


@numba.njit(cache=True, nogil=True, inline="always")
def _narrow_cols(flat, n, c, out, upper):
    """The columns of the (n, c) array `flat` (its elements in order), c
    below NARROW (a row of them is too short a loop for vectors): k rows at
    a time, their c * k elements a vector of lanes, lane p holding column
    p % c's best over rows p // c, p // c + k, ... (the first of them: a
    lane takes only what beats it) and the step it was found at; then each
    column's lanes merged (the best, the first row among equals), then the
    last n % k rows one by one."""
    k = max(1, NARROW // c)
    w = k * c
    best, step = empty(w, flat.dtype), empty(w, np.int64)
    for p in range(w):
        best[p] = flat[p]
        step[p] = 0
    for s in range(k, n - k + 1, k):
        base = s * c
        for p in range(w):
            v, b = flat[_nonneg(base + p)], best[p]
            take = _beats(v, b, upper)
            best[p] = v if take else b
            step[p] = s if take else step[p]
    for j in range(c):
        b, at = best[j], step[j]
        for r in range(1, k):
            v, row = best[r * c + j], step[r * c + j] + r
            if _beats(v, b, upper) or ((v == b or (v != v and b != b)) and row < at):
                b, at = v, row
        for i in range(n - n % k, n):
            if _beats(flat[i * c + j], b, upper):
                b, at = flat[i * c + j], i
        out[j] = at


@kernel_helper
def argmax_rows(x, out, lo, hi):
    """out[i] = x[i].argmax() for i in lo..hi (x 2-d, rows non-empty)."""
    wide_vectors()
    _kept_apart()
    _rows_any(x, out, lo, hi, True)


@kernel_helper
def argmin_rows(x, out, lo, hi):
    """out[i] = x[i].argmin() for i in lo..hi (x 2-d, rows non-empty)."""
    wide_vectors()
    _kept_apart()
    _rows_any(x, out, lo, hi, False)


@kernel_helper
def argmax_cols(x, out, lo, hi):
    """out[j] = x[:, j].argmax() for j in lo..hi (x 2-d with rows)."""
    wide_vectors()
    _kept_apart()
    _cols(x, out, lo, hi, True)


@kernel_helper
def argmin_cols(x, out, lo, hi):
    """out[j] = x[:, j].argmin() for j in lo..hi (x 2-d with rows)."""
    wide_vectors()
    _kept_apart()
    _cols(x, out, lo, hi, False)


from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
