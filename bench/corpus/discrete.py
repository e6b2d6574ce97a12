"""Discrete algorithms from textbooks and programming courses: LCS and
Smith-Waterman tables, 0/1 knapsack, longest increasing subsequence by
patience sorting, insertion and bubble sort on a copy, the sieve of
Eratosthenes, Collatz stopping times, run-length streak statistics and
an elementary cellular automaton."""
import numpy as np

from . import Kernel, error


def lcs_length(a, b):
    """Length of the longest common subsequence (full integer DP table)."""
    n, m = a.shape[0], b.shape[0]
    L = np.zeros((n + 1, m + 1), dtype=np.int64)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if a[i - 1] == b[j - 1]:
                L[i, j] = L[i - 1, j - 1] + 1
            else:
                L[i, j] = max(L[i - 1, j], L[i, j - 1])
    return L[n, m], L


def smith_waterman(a, b, match, mismatch, gap):
    """Local alignment score with a linear gap penalty; the best score and where it ends."""
    n, m = a.shape[0], b.shape[0]
    H = np.zeros((n + 1, m + 1))
    best = 0.0
    bi, bj = 0, 0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            s = match if a[i - 1] == b[j - 1] else mismatch
            h = max(0.0, H[i - 1, j - 1] + s, H[i - 1, j] - gap, H[i, j - 1] - gap)
            H[i, j] = h
            if h > best:
                best = h
                bi, bj = i, j
    return best, bi, bj


def knapsack_01(weights, values, capacity):
    """0/1 knapsack: one row of the DP table per item, capacities swept downwards in place."""
    best = np.zeros(capacity + 1)
    for i in range(weights.shape[0]):
        w = weights[i]
        for c in range(capacity, w - 1, -1):
            cand = best[c - w] + values[i]
            if cand > best[c]:
                best[c] = cand
    return best[capacity]


def knapsack_01_rows(weights, values, capacity):
    """0/1 knapsack with each item's row computed from the previous one by slicing."""
    best = np.zeros(capacity + 1)
    for i in range(weights.shape[0]):
        w = weights[i]
        shifted = np.full(capacity + 1, -np.inf)
        shifted[w:] = best[:capacity + 1 - w] + values[i]
        best = np.maximum(best, shifted)
    return best


def lis_patience(x):
    """Longest strictly increasing subsequence length: pile tops kept sorted, binary search by hand."""
    n = x.shape[0]
    tops = np.empty(n)
    piles = 0
    for i in range(n):
        lo, hi = 0, piles
        while lo < hi:
            mid = (lo + hi) // 2
            if tops[mid] < x[i]:
                lo = mid + 1
            else:
                hi = mid
        tops[lo] = x[i]
        if lo == piles:
            piles += 1
    return piles


def insertion_sort(x):
    a = x.copy()
    for i in range(1, a.shape[0]):
        key = a[i]
        j = i - 1
        while j >= 0 and a[j] > key:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = key
    return a


def bubble_sort(x):
    """Bubble sort with the early exit when a pass swaps nothing; the sorted copy and the swap count."""
    a = x.copy()
    n = a.shape[0]
    swaps = 0
    for i in range(n - 1):
        swapped = False
        for j in range(n - 1 - i):
            if a[j] > a[j + 1]:
                a[j], a[j + 1] = a[j + 1], a[j]
                swaps += 1
                swapped = True
        if not swapped:
            break
    return a, swaps


def sieve(n):
    """Primes below n by the sieve of Eratosthenes on a boolean array."""
    is_prime = np.ones(n, dtype=np.bool_)
    is_prime[:2] = False
    p = 2
    while p * p < n:
        if is_prime[p]:
            is_prime[p * p::p] = False
        p += 1
    return np.count_nonzero(is_prime), is_prime


def collatz_lengths(starts):
    """Number of Collatz steps to reach 1 from each start."""
    out = np.zeros(starts.shape[0], dtype=np.int64)
    for i in range(starts.shape[0]):
        v = starts[i]
        steps = 0
        while v != 1:
            if v % 2 == 0:
                v = v // 2
            else:
                v = 3 * v + 1
            steps += 1
        out[i] = steps
    return out


def streak_stats(x):
    """Longest run of consecutive positive values, the number of runs, and the mean run length."""
    longest = 0
    current = 0
    n_runs = 0
    total = 0
    for i in range(x.shape[0]):
        if x[i] > 0:
            current += 1
            if current == 1:
                n_runs += 1
            total += 1
            if current > longest:
                longest = current
        else:
            current = 0
    mean_run = total / n_runs if n_runs > 0 else 0.0
    return longest, n_runs, mean_run


def cellular_automaton(init, rule, n_steps):
    """An elementary (1-d, two-state, radius-1) cellular automaton with periodic edges; the spacetime diagram."""
    n = init.shape[0]
    table = np.array([(rule >> k) & 1 for k in range(8)], dtype=np.uint8)
    hist = np.zeros((n_steps + 1, n), dtype=np.uint8)
    hist[0] = init
    cells = init.copy()
    for t in range(n_steps):
        left = np.roll(cells, 1)
        right = np.roll(cells, -1)
        cells = table[4 * left + 2 * cells + right]
        hist[t + 1] = cells
    return hist


def _seqs(r, m):
    n = 9 if m == "test" else 500
    return r.integers(0, 4, n), r.integers(0, 4, n + 5)


def _knap(r, m):
    n, cap = (8, 30) if m == "test" else (200, 5000)
    return r.integers(1, cap // 4, n), r.random(n) * 10.0, cap


KERNELS = [
    Kernel("lcs_length", lcs_length, _seqs, "loop", "dynamic programming"),
    Kernel("smith_waterman", smith_waterman, lambda r, m: (*_seqs(r, m), 2.0, -1.0, 1.5), "loop",
           "dynamic programming"),
    Kernel("knapsack_01", knapsack_01, _knap, "loop", "dynamic programming"),
    Kernel("knapsack_01_rows", knapsack_01_rows, _knap, "mixed", "dynamic programming",
           note="shifted[w:] = best[:capacity + 1 - w] with w = weights[i] read from the data: a loop over "
           "the written window reading the value's window shifted (tracer/stepped.py)"),
    Kernel("lis_patience", lis_patience, lambda r, m: (r.standard_normal(30 if m == "test" else 200_000),), "loop",
           "searching"),
    Kernel("insertion_sort", insertion_sort, lambda r, m: (r.standard_normal(20 if m == "test" else 2000),), "loop",
           "sorting"),
    Kernel("bubble_sort", bubble_sort, lambda r, m: (r.standard_normal(20 if m == "test" else 1000),), "loop",
           "sorting"),
    Kernel("sieve", sieve, lambda r, m: (100 if m == "test" else 2_000_000,), "mixed", "number theory"),
    Kernel("collatz_lengths", collatz_lengths, lambda r, m: (r.integers(1, 10_000, 20 if m == "test" else 20_000),),
           "loop", "number theory"),
    Kernel("streak_stats", streak_stats, lambda r, m: (r.standard_normal(50 if m == "test" else 1_000_000) + 0.3,),
           "loop", "run lengths"),
    Kernel("cellular_automaton", cellular_automaton,
           lambda r, m: (r.integers(0, 2, 16 if m == "test" else 1000).astype(np.uint8), 30 if m == "test" else 110,
                         10 if m == "test" else 1000), "array", "cellular automata"),
]
