"""What a scan step makes and keeps (probe W):
  - viterbi's max/argmax over a K x K score per step: the argmax's mask is
    computed in the scan (loop_rewrite `_shrinking_post`: the mask chain of a
    large stacked value), so no (T, K, K) score is stacked, and the row the
    group holds is allocated once before the scan, not once a row a step
    (nest.py `_row_before_loop`);
  - a scalar pushed on two stacks (`lo.append(bi); hi.append(bi)`) is written
    as the scalar, no one-element array a push (planning/fusion.py
    `_element_reads`).
Values against the plain function, and the kernel's shape."""
import re

import numpy as np
import pytest

import looptrace as lt

from .test_cpu_shared_variables import viterbi  # (the same HMM decoder)


def split_segments(x, eps):
    n = x.shape[0]
    keep = np.zeros(n, dtype=np.bool_)
    los = [0]
    his = [n - 1]
    while los:
        lo = los.pop()
        hi = his.pop()
        best = -1.0
        bi = -1
        for i in range(lo + 1, hi):
            d = abs(x[i] - 0.5 * (x[lo] + x[hi]))
            if d > best:
                best = d
                bi = i
        if best > eps:
            keep[bi] = True
            los.append(lo)
            his.append(bi)
            los.append(bi)
            his.append(hi)
    return keep


def _hmm(T, K, seed=3):
    r = np.random.default_rng(seed)
    A = r.random((K, K)) + 0.1
    A /= A.sum(1, keepdims=True)
    B = r.random((K, 4)) + 0.1
    B /= B.sum(1, keepdims=True)
    return r.integers(0, 4, T), A, B, np.full(K, 1.0 / K)


def _same(fn, *args, backend):
    want, got = fn(*args), lt.jit(fn, backend=backend)(*args)
    for g, w in zip(got if isinstance(want, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_viterbi_keeps_no_score_per_step():
    """The kernel's source read through explain (no Numba compile), its values on the interpreter;
    the cpu kernel's values in test_viterbi_values_on_cpu (-m slow)."""
    args = _hmm(20000, 8)
    # the interpreter on 200 steps, not 20000 (most of this test's 9.5 s in session 54's CI): the same passes
    _same(viterbi, *_hmm(200, 8), backend="interpret")
    _same(viterbi, *_hmm(5, 3, seed=9), backend="interpret")
    src = lt.explain(lt.jit(viterbi, backend="cpu"), *args).kernel_source
    assert not re.search(r"alloc\(\(19999, 8, 8", src)  # the scores are not stacked
    scan = src[src.index("for d"):]
    scan = scan[:scan.index("\n    for ", 1)] if "\n    for " in scan[1:] else scan
    assert "alloc(" not in scan  # nothing allocated per step


# slow (3.8 s of session 55's CI): the same program's cpu kernel, its scores and masks made once before the
# scan, checked bit for bit by test_cpu_shared_variables.py::test_scan_temporaries_are_allocated_once (60 x 4)
@pytest.mark.slow
def test_viterbi_values_on_cpu():
    _same(viterbi, *_hmm(20000, 8), backend="cpu")


def test_a_scalar_pushed_twice_is_no_array():
    x = np.random.default_rng(2).standard_normal(3000).cumsum()
    _same(split_segments, x[:600], 0.5, backend="interpret")  # (the interpreter: 8 s for all 3000)
    _same(split_segments, x, 0.5, backend="cpu")
    src = lt.explain(lt.jit(split_segments, backend="cpu"), x, 0.5).kernel_source
    assert "filled((1, )" not in src
