"""Corpus losses against numba.njit of the same function (session s53).

A loop kept in its loop whose iterations are independent runs on the threads
when its work is large (regions.py `_parallel_map`); a while loop inside it
whose trips are data counts as _UNKNOWN_TRIPS trips. A while loop that only
counts is no loop for LLVM: a popcount (`while x: x &= x - 1; c += 1`) or a
counter stepped by a constant towards a constant bound (`_closed_form_count`).
Counted as one trip, corpus bit_tricks' 10^5 popcounts (0.1 ms) no longer wake
the threads. Checked against the plain function on interpret and cpu, with the
decision read from `explain`: such maps serial, a while loop that branches
(Collatz steps) still threaded, and near misses (a shift loop, a popcount
with more work in its body) still counted as guessed trips."""
import inspect

import numpy as np
import pytest

import looptrace as lt

BACKENDS = ["interpret", "cpu"]
PARALLEL = "in parallel on the cores"


def _counts(v, w):
    """Two maps at the kernel's top level: closed-form counts, then Collatz steps."""
    pop = np.zeros(v.shape[0], dtype=np.int64)
    sevens = np.zeros(v.shape[0], dtype=np.int64)
    for i in range(v.shape[0]):
        x = int(v[i])
        c = 0
        while x:  # a popcount: one instruction
            x &= x - 1
            c += 1
        pop[i] = c
        y = int(v[i]) >> 10
        k = 0
        while y > 0:  # a count computed in closed form
            y -= 7
            k += 1
        sevens[i] = k
    steps = np.zeros(w.shape[0], dtype=np.int64)
    for i in range(w.shape[0]):
        n = int(w[i])
        s = 0
        while n != 1:  # branches: a real loop per element
            if n % 2 == 0:
                n = n // 2
            else:
                n = 3 * n + 1
            s += 1
        steps[i] = s
    return pop, sevens, steps, (v >> 3) ^ (v << 2)


def _near_misses(v):
    """While loops that are not closed-form counts: a shift loop, a popcount that also sums."""
    width = np.zeros(v.shape[0], dtype=np.int64)
    for i in range(v.shape[0]):
        x = int(v[i])
        c = 0
        while x:
            x >>= 1
            c += 1
        width[i] = c
    weighted = np.zeros(v.shape[0], dtype=np.int64)
    for i in range(v.shape[0]):
        x = int(v[i])
        c = 0
        t = 0
        while x:
            t += x
            x &= x - 1
            c += 1
        weighted[i] = c * 1000 + t % 1000
    return width, weighted


def _parallel_lines(fn, *args):
    """The source lines of fn's loops that run on the threads (explain's reasons)."""
    e = lt.explain(lt.jit(fn, backend="cpu"), *args)
    return {r.line for r in e.loops if PARALLEL in r.reason}


def _lines(fn, text):
    """The source lines of fn that hold `text`."""
    source, first = inspect.getsourcelines(fn)
    return {first + k for k, line in enumerate(source) if text in line}


def test_closed_form_while_maps_stay_serial_and_a_branching_one_is_threaded():
    rng = np.random.default_rng(53)
    v = rng.integers(0, 2**20, 50_000)  # guessed at 16 trips, 6.6M element-ops: threaded
    w = rng.integers(1, 40, 20_000)
    assert _parallel_lines(_counts, v, w) == _lines(_counts, "range(w.shape[0])")
    assert _parallel_lines(_near_misses, v) == _lines(_near_misses, "range(v.shape[0])")


@pytest.mark.parametrize("backend", BACKENDS)
def test_closed_form_while_counts_match_python(backend):
    rng = np.random.default_rng(5301)
    n = 3000 if backend == "cpu" else 40  # (the plain function's loops are slow in Python)
    v = rng.integers(0, 2**20, n)
    v[:3] = [0, 1, 2**20 - 1]  # no trip, one trip, every bit
    w = rng.integers(1, 40, 20_000 if backend == "cpu" else 30)
    v0, w0 = v.copy(), w.copy()
    jf = lt.jit(_counts, backend=backend)
    for got, want in zip(jf(v, w), _counts(v0, w0)):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    assert np.array_equal(v, v0) and np.array_equal(w, w0)
    v2 = rng.integers(0, 2**12, n)  # fresh data: most sevens counts 0
    for got, want in zip(jf(v2, w), _counts(v2.copy(), w)):
        assert np.array_equal(got, want)


def test_near_miss_while_loops_match_python():
    rng = np.random.default_rng(5302)
    v = rng.integers(0, 2**30, 50)
    for got, want in zip(lt.jit(_near_misses, backend="interpret")(v), _near_misses(v.copy())):
        assert np.array_equal(got, want)
