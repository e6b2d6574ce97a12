"""Numba helpers for NumPy's legacy global random state (np.random.seed,
random, randn, randint, ...), which kernels call through templates.py.

The state is the uint32 array of ops/random.py (`LEGACY_WORDS`): MT19937's
key (624 words) and position, then RandomState's gaussian cache (has_gauss,
and gauss as the two words of a float64). These are NumPy's algorithms
(numpy/random/src/mt19937/mt19937.[ch], legacy/legacy-distributions.c,
distributions.c `random_bounded_uint64_fill` with use_masked), written again
for Numba on that array: the values and the final state equal NumPy's
(tests/codegen/test_cpu_legacy_random.py). The 32-bit words are held in
int64, exact for NumPy's uint32 xors, shifts and masks (and the seeding
product, below 2**63), and compiled by Numba 8x faster than uint64's
arithmetic (14 ns a word against 1.7 ns); 64-bit draws use uint64.

Invariant: every helper is `@njit(cache=True)` with no global state, as in
templates.py. Everything under the kernel-facing helpers (`legacy_*`) is
inlined into them (`inline="always"`), and they are not inlined into the
kernel: a call costs about 1 ns a draw more than inlining (4.8 against 3.6
ns), while Numba's inlining at every draw of a kernel cost about 1 s of
compile time each.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from looptrace.codegen.cpu.helper import unliteral_typing
from looptrace.codegen.cpu.mathlib import _inline_into_callers

_N = 624
_M = 397
_POS = 624
_HAS_GAUSS = 625
_MASK32 = 0xFFFFFFFF
_MATRIX_A = 0x9908B0DF
_UPPER = 0x80000000
_LOWER = 0x7FFFFFFF


def _drawn(fn):
    """What kernels call (and the tests, from Python): cached, typed on the
    arguments' plain types (helper.unliteral_typing: one version per rank of
    the shape drawn, not per size)."""
    return unliteral_typing(numba.njit(cache=True, error_model="numpy")(fn))


@numba.njit(cache=True, error_model="numpy")
def _mt_twist(state):
    """mt19937_gen: the next 624 words of the key, position 0. Compiled once
    and inlined by LLVM (mathlib._inline_into_callers), not by Numba into
    each copy of _next32 (one a helper, or two: _next64's)."""
    _inline_into_callers()
    for i in range(_N - 1):  # NumPy's three loops in one: the words i + M wrap around
        _twist_word(state, i, i + 1, (i + _M) % _N)
    _twist_word(state, _N - 1, 0, _M - 1)
    state[_POS] = 0


@numba.njit(cache=True, inline="always", error_model="numpy")
def _twist_word(state, i, nxt, far):
    y = (np.int64(state[i]) & _UPPER) | (np.int64(state[nxt]) & _LOWER)
    twisted = (y >> 1) ^ (-(y & 1) & _MATRIX_A)
    state[i] = np.uint32(np.int64(state[far]) ^ twisted)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _next32(state):
    """mt19937_next: the next tempered word (in an int64)."""
    pos = np.int64(state[_POS])  # (a uint32 index cost 40 ns a draw)
    if pos >= _N:
        _mt_twist(state)
        pos = 0
    y = np.int64(state[pos])
    state[_POS] = pos + 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y


@numba.njit(cache=True, inline="always", error_model="numpy")
def _next64(state):
    high = np.uint64(_next32(state))
    return (high << np.uint64(32)) | np.uint64(_next32(state))


@numba.njit(cache=True, inline="always", error_model="numpy")
def _next_double(state):
    """mt19937_next_double: 53 random bits in [0, 1)."""
    a = _next32(state) >> 5
    b = _next32(state) >> 6
    return (a * 67108864.0 + b) / 9007199254740992.0


@numba.njit(cache=True, inline="always", error_model="numpy")
def _gauss_cache(state):
    return state[_HAS_GAUSS + 1:_HAS_GAUSS + 3].view(np.float64)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _gauss(state):
    """legacy_gauss: the polar method, the second value kept for the next call."""
    cache = _gauss_cache(state)
    if state[_HAS_GAUSS] != 0:
        state[_HAS_GAUSS] = 0
        value = cache[0]
        cache[0] = 0.0
        return value
    while True:
        x1, x2 = 0.0, 0.0
        for _ in range(2):  # (one inlined `_next_double` to compile, not two: each about 0.5 s)
            x1, x2 = x2, 2.0 * _next_double(state) - 1.0
        r2 = x1 * x1 + x2 * x2
        if r2 < 1.0 and r2 != 0.0:
            break
    f = math.sqrt(-2.0 * math.log(r2) / r2)
    cache[0] = f * x1
    state[_HAS_GAUSS] = 1
    return f * x2


@numba.njit(cache=True, inline="always", error_model="numpy")
def _mask_of(rng):
    """gen_mask: the smallest all-ones mask covering rng."""
    mask = rng
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> np.uint64(shift)
    return mask


@numba.njit(cache=True, inline="always", error_model="numpy")
def _masked_bounded(state, rng):
    """A uniform integer in [0, rng] by masked rejection: 32-bit draws where
    the range fits in 32 bits (random_bounded_uint64_fill, use_masked). Each
    kind of draw written once (`_next32` is inlined, the twist with it: each
    copy was about 0.6 s of a helper's first compile); the full 64-bit range
    is the 64-bit loop, which accepts its first draw."""
    if rng == np.uint64(0):
        return np.uint64(0)
    if rng <= np.uint64(_MASK32):
        small = np.int64(rng)
        mask = np.int64(_mask_of(rng))
        while True:
            value = _next32(state) & mask
            if value <= small:
                return np.uint64(value)
    mask = _mask_of(rng)
    while True:
        value = _next64(state) & mask
        if value <= rng:
            return value


@_drawn
def legacy_uniform_draw(state):
    """np.random.random_sample()."""
    return _next_double(state)


@_drawn
def legacy_uniform_draws(state, size):
    """np.random.random_sample(size) of a flat size: codegen/cpu/random.py
    reshapes the draws, so one compiled version serves every shape and rank
    (one per rank cost 2.5-3 s of a machine's first compile each)."""
    out = np.empty(size, np.float64)
    for i in range(size):
        out[i] = _next_double(state)
    return out


@_drawn
def legacy_normal_draw(state):
    """np.random.standard_normal()."""
    return _gauss(state)


@_drawn
def legacy_normal_draws(state, size):
    """np.random.standard_normal(size) of a flat size (as legacy_uniform_draws)."""
    out = np.empty(size, np.float64)
    for i in range(size):
        out[i] = _gauss(state)
    return out


@_drawn
def legacy_randint_draw(state, low, high):
    """np.random.randint(low, high) for int64 low < high (checked by the tracer)."""
    rng = np.uint64(high - 1) - np.uint64(low)
    return np.int64(np.uint64(low) + _masked_bounded(state, rng))


@_drawn
def legacy_randint_draws(state, low, high, size):
    """np.random.randint(low, high, size) of a flat size (as legacy_uniform_draws)."""
    rng = np.uint64(high - 1) - np.uint64(low)
    out = np.empty(size, np.int64)
    for i in range(size):
        out[i] = np.int64(np.uint64(low) + _masked_bounded(state, rng))
    return out


@_drawn
def legacy_seed(state, seed):
    """np.random.seed(seed) for 0 <= seed < 2**32 (checked by the tracer):
    mt19937_seed, then RandomState's gaussian cache cleared."""
    word = np.int64(seed) & _MASK32
    for pos in range(_N):
        state[pos] = np.uint32(word)
        word = (1812433253 * (word ^ (word >> 30)) + pos + 1) & _MASK32
    state[_POS] = _N
    state[_HAS_GAUSS] = 0
    _gauss_cache(state)[0] = 0.0


from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
