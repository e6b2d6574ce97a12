"""int64 `//` and `%` by a positive literal are Python's operators in the kernel (codegen/cpu/scalar.py).

Numba's scalar np.floor_divide and np.remainder cost about 4x the operator in
a data-dependent loop (the corpus' collatz_lengths: 5.4 ms against numba.njit's
1.4, now 1.4); by a positive constant the operator's floor semantics are
NumPy's, and there is no zero or -1 divisor to handle. Checked against the
plain function on negative and positive values, in a loop and vectorized;
other divisors keep their NumPy helpers.
"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.discrete import collatz_lengths as collatz


def by_three(x):
    q = np.empty_like(x)
    r = np.empty_like(x)
    for i in range(x.shape[0]):
        q[i] = x[i] // 3
        r[i] = x[i] % 3
    return q, r


def by_n(x, n):
    return x // n, x % n


_cpu = {}


def cpu(fn):
    if fn not in _cpu:
        _cpu[fn] = looptrace.jit(fn, backend="cpu")
    return _cpu[fn]


def test_collatz_uses_the_operators(rng=np.random.default_rng(0)):
    starts = rng.integers(1, 3000, 50)
    np.testing.assert_array_equal(cpu(collatz)(starts), collatz(starts))
    src = cpu(collatz).explain(starts).kernel_source
    assert "% 2)" in src and "// 2)" in src and "np.remainder" not in src and "np.floor_divide" not in src


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-2**62, 2**62), min_size=1, max_size=12))
def test_floor_semantics_of_negative_values(values):
    x = np.array(values, dtype=np.int64)
    for got, want in zip(cpu(by_three)(x), by_three(x), strict=True):
        np.testing.assert_array_equal(got, want)


def test_other_divisors_keep_numpy_s_rules():
    x = np.array([-7, -1, 0, 5, np.iinfo(np.int64).min], dtype=np.int64)
    for n in (-1, -3, 4):
        with np.errstate(divide="ignore", over="ignore"):
            want = by_n(x, n)
        for got, w in zip(cpu(by_n)(x, n), want, strict=True):
            np.testing.assert_array_equal(got, w)


def all_of_them(a, b):
    return a % b, np.fmod(a, b), a // b, np.divmod(a, b)


def remainder_in_a_loop(a, b):
    out = np.zeros_like(a)
    for i in range(a.shape[0]):
        out[i] = a[i] % b[i]
    return out


def test_smallest_integer_by_minus_one_does_not_trap():
    """INT_MIN % -1 (and fmod) trapped in the CPU's division: SIGFPE killed
    the process. NumPy gives 0 (and INT_MIN for //)."""
    for dt in (np.int64, np.int32, np.int8):
        a = np.array([np.iinfo(dt).min, 5, -7, 7, np.iinfo(dt).min], dt)
        b = np.array([-1, -1, 2, 0, 3], dt)
        with np.errstate(all="ignore"):
            want, got = all_of_them(a, b), cpu(all_of_them)(a, b)
            for w, g in zip(want[:3] + want[3], got[:3] + got[3]):
                np.testing.assert_array_equal(g, w)
                assert g.dtype == w.dtype
            np.testing.assert_array_equal(cpu(remainder_in_a_loop)(a, b), remainder_in_a_loop(a, b))
