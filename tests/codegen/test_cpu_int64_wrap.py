"""int64 arithmetic that wraps, on the cpu backend, as the plain function's
NumPy ints wrap. Numba marks a signed sum `nsw` (no signed wrap) and LLVM
folded with that: `x + (-2**63)` became `x | -2**63`, `x + (2**63 - 1) < 0`
became `x < -(2**63 - 1)` (probe N W5-W7; codegen/wrapping.py)."""
import warnings

import numpy as np
import pytest

import looptrace


def sentinel_plus_sum(x):
    s = np.int64(-2**63)
    for i in range(x.shape[0]):
        s = s + x[i]
    return s


def count_past_max(x):
    c = 0
    for i in range(x.shape[0]):
        if x[i] + np.int64(2**63 - 1) < 0:
            c += 1
    return c


def shifted_compare(x, y):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = (x[i] + np.int64(-2**63)) > y[i]
    return out


def counter_from_near_the_top(x, start):
    c = start
    n = 0
    for i in range(x.shape[0]):
        c = c + x[i]
        if c < 0:
            break
        n += 1
    return c, n


def hash_sign_counts(x):
    h = np.int64(-3750763034362895579)
    neg = 0
    for i in range(x.shape[0]):
        h = (h ^ x[i]) * np.int64(1099511628211)
        if h < 0:
            neg += 1
    return h, neg


def reading_back(x):
    s = np.int64(2**63 - 5)
    t = np.int64(0)
    for i in range(x.shape[0]):
        s = s + x[i]
        t = t + (s + 1 > s)
    return s, t


CASES = [
    (sentinel_plus_sum, lambda r: (r.integers(-5, 5, 12),)),
    (count_past_max, lambda r: (r.integers(-5, 5, 12),)),
    (shifted_compare, lambda r: (r.integers(-5, 5, 12), r.integers(-5, 5, 12))),
    (counter_from_near_the_top, lambda r: (r.integers(0, 4, 12), np.int64(2**63 - 9))),
    (hash_sign_counts, lambda r: (r.integers(-2**40, 2**40, 16),)),
    (reading_back, lambda r: (r.integers(0, 3, 12),)),
]


@pytest.mark.parametrize("fn,make", CASES, ids=[c[0].__name__ for c in CASES])
def test_int64_wraps_as_numpy(fn, make, rng):
    args = make(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = fn(*args)
        got = looptrace.jit(fn, backend="cpu")(*args)
    np.testing.assert_array_equal(np.asarray(got, dtype=object), np.asarray(want, dtype=object))


def index_sums(ptr, vals):
    out = np.empty(ptr.shape[0] - 1)
    for i in range(ptr.shape[0] - 1):
        out[i] = vals[ptr[i]:ptr[i + 1]].sum()
    return out


def test_index_arithmetic_keeps_the_flag():
    """`ptr[i + 1] - ptr[i]` and the like never wrap in a valid program:
    LLVM's no-wrap assumption lets it drop negative-index handling, so they
    stay plain operators (every int64 sum unflagged made csr_matvec_slices 3x slower)."""
    ptr = np.array([0, 2, 5, 9])
    vals = np.arange(9.0)
    src = looptrace.jit(index_sums, backend="cpu").explain(ptr, vals).kernel_source
    assert "wrap_" not in src
    src = looptrace.jit(sentinel_plus_sum, backend="cpu").explain(ptr).kernel_source
    assert "wrap_add" in src
