"""Sorting and selection of one contiguous lane, for the sort/argsort rules
(codegen/cpu/sort.py). Real Python compiled by Numba, `@njit(cache=True)`,
no global state (the invariant of templates.py, which re-exports them).

The order is NumPy's: NaNs last; argsort is the stable order, i.e. the order
of the distinct keys (x[i], i). Selection (`select_lane`, `argselect_lane`)
puts the right element at each requested position (and, between two of
them, only elements that belong between), by quickselect that descends only
into the parts holding a requested position: about 2n comparisons for one
position, a full quicksort's work at most. A part that partitions badly
(deeper than 2 log2 n + 8) is sorted outright, so the worst case stays
O(n log n).
"""
from __future__ import annotations

import numba
import numpy as np

_SMALL = 16  # ranges this short are insertion-sorted


@numba.njit(cache=True, inline="always")
def val_less(a, b):
    """a before b in NumPy's sort order (NaN after every number)."""
    return a < b or (b != b and a == a)


@numba.njit(cache=True, inline="always")
def key_less(x, i, j):
    """(x[i], i) before (x[j], j): the stable order, NaNs last."""
    a, b = x[i], x[j]
    if a < b:
        return True
    if b < a:
        return False
    an, bn = a != a, b != b
    if an != bn:
        return bn
    return i < j


@numba.njit(cache=True)
def _insertion_vals(a, lo, hi):
    for i in range(lo + 1, hi + 1):
        v = a[i]
        j = i - 1
        while j >= lo and val_less(v, a[j]):
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@numba.njit(cache=True)
def _insertion_keys(x, idx, lo, hi):
    for i in range(lo + 1, hi + 1):
        v = idx[i]
        j = i - 1
        while j >= lo and key_less(x, v, idx[j]):
            idx[j + 1] = idx[j]
            j -= 1
        idx[j + 1] = v


@numba.njit(cache=True)
def _partition_vals(a, lo, hi):
    """Hoare partition of a[lo..hi] (hi - lo >= 2) around a median of three:
    returns j with lo <= j < hi, a[lo..j] <= a[j+1..hi] in the sort order."""
    mid = (lo + hi) >> 1
    if val_less(a[mid], a[lo]):
        a[mid], a[lo] = a[lo], a[mid]
    if val_less(a[hi], a[mid]):
        a[hi], a[mid] = a[mid], a[hi]
        if val_less(a[mid], a[lo]):
            a[mid], a[lo] = a[lo], a[mid]
    p = a[mid]
    i, j = lo - 1, hi + 1
    while True:
        i += 1
        while val_less(a[i], p):
            i += 1
        j -= 1
        while val_less(p, a[j]):
            j -= 1
        if i >= j:
            return j
        a[i], a[j] = a[j], a[i]


@numba.njit(cache=True)
def _partition_keys(x, idx, lo, hi):
    """_partition_vals on the keys (x[idx[k]], idx[k])."""
    mid = (lo + hi) >> 1
    if key_less(x, idx[mid], idx[lo]):
        idx[mid], idx[lo] = idx[lo], idx[mid]
    if key_less(x, idx[hi], idx[mid]):
        idx[hi], idx[mid] = idx[mid], idx[hi]
        if key_less(x, idx[mid], idx[lo]):
            idx[mid], idx[lo] = idx[lo], idx[mid]
    p = idx[mid]
    i, j = lo - 1, hi + 1
    while True:
        i += 1
        while key_less(x, idx[i], p):
            i += 1
        j -= 1
        while key_less(x, p, idx[j]):
            j -= 1
        if i >= j:
            return j
        idx[i], idx[j] = idx[j], idx[i]


@numba.njit(cache=True)
def _depth_limit(n):
    d = 8
    while n > 1:
        n >>= 1
        d += 2
    return d


@numba.njit(cache=True)
def _heapsort_vals(a, lo, hi):
    """Sort a[lo..hi] in place in the sort order (NaNs last): O(n log n) for
    a part that partitions badly. Ours rather than Numba's `.sort()`, whose
    quicksort Numba compiles anew on a machine's first use of each dtype
    (1.3 s of column_quantiles' 3.4 s first compile). One function: each
    step sifts one root down a max-heap of a[lo:lo + size], first building
    the heap (roots n/2 - 1 .. 0), then moving its top behind it (a separate
    sift function was another 0.3 s of that first compile)."""
    n = hi - lo + 1
    half = n // 2
    for step in range(half + n - 1):
        if step < half:
            root, size = half - 1 - step, n
        else:
            size = n - 1 - (step - half)
            a[lo], a[lo + size] = a[lo + size], a[lo]
            root = 0
        while True:
            child = 2 * root + 1
            if child >= size:
                break
            if child + 1 < size and val_less(a[lo + child], a[lo + child + 1]):
                child += 1
            if not val_less(a[lo + root], a[lo + child]):
                break
            a[lo + root], a[lo + child] = a[lo + child], a[lo + root]
            root = child


@numba.njit(cache=True)
def select_lane(a, pos):
    """Reorder the contiguous 1-d `a` in place so that a[p] is its p-th
    element in sorted order for every p of `pos` (sorted, distinct, in range)."""
    limit = _depth_limit(a.shape[0])
    stack = np.empty((limit + 4, 5), np.int64)  # lo, hi, first pos, end pos, depth
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3], stack[0, 4] = 0, a.shape[0] - 1, 0, pos.shape[0], 0
    top = 1
    while top > 0:
        top -= 1
        lo, hi, plo, phi, depth = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3], stack[top, 4]
        if phi <= plo:
            continue
        if hi - lo < _SMALL:
            _insertion_vals(a, lo, hi)
            continue
        if depth > limit:
            _heapsort_vals(a, lo, hi)
            continue
        j = _partition_vals(a, lo, hi)
        m = plo
        while m < phi and pos[m] <= j:
            m += 1
        stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3], stack[top, 4] = j + 1, hi, m, phi, depth + 1
        stack[top + 1, 0], stack[top + 1, 1], stack[top + 1, 2], stack[top + 1, 3], stack[top + 1, 4] = \
            lo, j, plo, m, depth + 1
        top += 2


@numba.njit(cache=True)
def argselect_lane(x, out, pos):
    """out[p] = the stable argsort of the 1-d `x` at position p, for every p
    of `pos` (sorted, distinct, in range); other entries of `out` hold the
    remaining indices in no particular order."""
    n = x.shape[0]
    for i in range(n):
        out[i] = i
    limit = _depth_limit(n)
    stack = np.empty((limit + 4, 5), np.int64)
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3], stack[0, 4] = 0, n - 1, 0, pos.shape[0], 0
    top = 1
    while top > 0:
        top -= 1
        lo, hi, plo, phi, depth = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3], stack[top, 4]
        if phi <= plo:
            continue
        if hi - lo < _SMALL:
            _insertion_keys(x, out, lo, hi)
            continue
        if depth > limit:
            argsort_range(x, out, lo, hi + 1)
            continue
        j = _partition_keys(x, out, lo, hi)
        m = plo
        while m < phi and pos[m] <= j:
            m += 1
        stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3], stack[top, 4] = j + 1, hi, m, phi, depth + 1
        stack[top + 1, 0], stack[top + 1, 1], stack[top + 1, 2], stack[top + 1, 3], stack[top + 1, 4] = \
            lo, j, plo, m, depth + 1
        top += 2


@numba.njit(cache=True)
def argtopk_lane(x, out, k):
    """out[:k] = the first k of the stable argsort of the 1-d `x` (k >= 1),
    by one pass that keeps the k smallest keys seen, in order: n comparisons
    against the current k-th key plus an insertion for each key that beats
    it (about k ln(n/k) on unordered data, at most n k)."""
    n = x.shape[0]
    m = 0  # keys held in out[:m], sorted
    for i in range(n):
        if m == k:
            w = x[out[k - 1]]
            v = x[i]
            # i comes after every held index, so it goes in only if strictly smaller
            if not (v < w or (w != w and v == v)):
                continue
            j = k - 1
        else:
            j = m
            m += 1
        while j > 0 and key_less(x, i, out[j - 1]):
            out[j] = out[j - 1]
            j -= 1
        out[j] = i


@numba.njit(cache=True)
def topk_lane(a, k):
    """a[:k] = the k smallest values of the 1-d `a` in sorted order (NaNs
    last), by the one pass of argtopk_lane on values; a[k:] is left as it
    was (callers read only a[:k])."""
    n = a.shape[0]
    best = np.empty(k, a.dtype)
    m = 0
    for i in range(n):
        v = a[i]
        if m == k:
            if not val_less(v, best[k - 1]):
                continue
            j = k - 1
        else:
            j = m
            m += 1
        while j > 0 and val_less(v, best[j - 1]):
            best[j] = best[j - 1]
            j -= 1
        best[j] = v
    for i in range(k):  # the rest of `a` is left as it was: nothing reads it
        a[i] = best[i]


@numba.njit(cache=True)
def argsort_range(x, idx, lo, hi):
    """Sort idx[lo:hi] by the keys (x[i], i): insertion-sorted runs of 32,
    then bottom-up merges (O(n log n) always)."""
    run = 32
    for s in range(lo, hi, run):
        _insertion_keys(x, idx, s, min(s + run, hi) - 1)
    n = hi - lo
    if n <= run:
        return
    tmp = np.empty(n, np.int64)
    src, dst = idx[lo:hi], tmp
    width, passes = run, 0
    while width < n:
        start = 0
        while start < n:
            mid, end = min(start + width, n), min(start + 2 * width, n)
            i, j, k = start, mid, start
            while i < mid and j < end:
                if key_less(x, src[j], src[i]):
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < end:
                dst[k] = src[j]
                j += 1
                k += 1
            start += 2 * width
        src, dst = dst, src
        width *= 2
        passes += 1
    if passes % 2 == 1:
        for k in range(n):
            idx[lo + k] = tmp[k]


@numba.njit(cache=True, inline="always")
def _narrow_range(x):
    """(narrow, lo, hi): the least and greatest of the 1-D integers x as int64, and whether they
    span fewer integers than x's length (hi - lo < n; an empty x is narrow: nothing to sort)."""
    n = x.shape[0]
    if n == 0:
        return True, np.int64(0), np.int64(-1)
    lo = np.int64(x[0])
    hi = lo
    for i in range(n):
        v = np.int64(x[i])
        lo = min(lo, v)
        hi = max(hi, v)
    return np.uint64(hi) - np.uint64(lo) < np.uint64(n), lo, hi  # (exact modulo 2^64: 0 <= hi - lo < 2^64)


@numba.njit(cache=True)
def small_range_sort(x, out):
    """Sort the integers of the 1-D `x` into `out` (which may be `x`) by
    counting, when their range is narrower than their number (hi - lo < n,
    so the table of counts is no longer than `x`); False, `out` untouched,
    otherwise. For int8-int64 and uint8-uint32 (every value an int64).
    Integers equal are indistinguishable, so this is the sort's exact
    result. bench/array_speed.py, 10^6 int64 in 0..999, a loaded machine:
    np.sort 4.1 ms against NumPy's SIMD quicksort's 104 ms."""
    n = x.shape[0]
    narrow, lo, hi = _narrow_range(x)
    if not narrow:
        return False
    counts = np.zeros(hi - lo + 1, np.int64)
    for i in range(n):
        counts[np.int64(x[i]) - lo] += 1
    k = 0
    for j in range(hi - lo + 1):
        value = lo + j
        for _ in range(counts[j]):
            out[k] = value
            k += 1
    return True



@numba.njit(cache=True)
def small_range_argsort(x, out):
    """The stable argsort of the integers of the 1-D `x` into `out` (int64)
    by counting, under `small_range_sort`'s condition (hi - lo < n); False,
    `out` untouched, otherwise: each value's first slot from the counts'
    running sum, then the positions dealt out in order, so ties keep their
    order (NumPy's kind='stable')."""
    n = x.shape[0]
    narrow, lo, hi = _narrow_range(x)
    if not narrow:
        return False
    slot = np.zeros(hi - lo + 1, np.int64)
    for i in range(n):
        slot[np.int64(x[i]) - lo] += 1
    total = 0
    for j in range(hi - lo + 1):
        c = slot[j]
        slot[j] = total
        total += c
    for i in range(n):
        k = np.int64(x[i]) - lo
        out[slot[k]] = i
        slot[k] += 1
    return True

from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
