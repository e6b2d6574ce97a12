"""Signed zeros in max/min: a Python loop keeps the element its comparison
keeps (`if v > m` the first of equal values, `if v >= m` the last, the
builtin max(a, b) a), np.maximum(a, b) gives b of equal values, as NumPy
does; compared bit for bit (np.signbit) on zeros of random signs mixed with
random values and NaNs."""
import math

import numpy as np
import pytest

import looptrace as lt


def _data(seed: int, n: int, nan: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.where(rng.random(n) < 0.5, 0.0, -rng.random(n) * 3)  # zeros are the maximum
    x = np.where(x == 0.0, np.where(rng.random(n) < 0.5, 0.0, -0.0), x)
    if nan:
        x[rng.integers(1, n)] = np.nan  # (x[0] is the initial value: a NaN there stays)
    return x


def _same(got, want) -> None:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert np.array_equal(got, want, equal_nan=True), (got, want)
    real = ~np.isnan(want)
    assert np.array_equal(np.signbit(got[real]), np.signbit(want[real])), (got, want)


def min_if(x):
    m = x[0]
    for v in x:
        if v < m:
            m = v
    return m


def max_if(x):
    m = x[0]
    for v in x:
        if v > m:
            m = v
    return m


def min_if_le(x):  # keeps the last of equal values
    m = x[0]
    for v in x:
        if v <= m:
            m = v
    return m


def max_if_ge(x):
    m = x[0]
    for v in x:
        if v >= m:
            m = v
    return m


def max_builtin(x):  # max(a, b) is a of equal values
    m = x[0]
    for v in x:
        m = max(m, v)
    return m


def min_builtin_swapped(x):  # min(v, m): v of equal values, the last
    m = x[0]
    for v in x:
        m = min(v, m)
    return m


def max_from_zero(x):  # the initial value ties with the elements
    m = 0.0
    for v in x:
        if v > m:
            m = v
    return m


def argmax_loop(x):
    m = x[0]
    k = 0
    for i in range(x.shape[0]):
        if x[i] > m:
            m = x[i]
            k = i
    return m, k


def row_max(a):
    out = np.empty(a.shape[0])
    for r in range(a.shape[0]):
        m = a[r, 0]
        for c in range(a.shape[1]):
            if a[r, c] > m:
                m = a[r, c]
        out[r] = m
    return out


LOOPS = [min_if, max_if, min_if_le, max_if_ge, max_builtin, min_builtin_swapped, max_from_zero, argmax_loop]


@pytest.mark.parametrize("f", LOOPS, ids=lambda f: f.__name__)
def test_loop_extremes_interpret(f):
    jf = lt.jit(f, backend="interpret")
    for seed in range(12):
        for n in (2, 3, 17, 40):
            x = _data(seed, n, nan=seed % 3 == 0)
            if f is min_if or f is min_if_le or f is min_builtin_swapped:
                x = np.where(np.isnan(x), x, -x)  # zeros are the minimum
            _same(jf(x.copy()), f(x.copy()))


def test_row_max_interpret():
    jf = lt.jit(row_max, backend="interpret")
    for seed in range(6):
        a = _data(seed, 6 * 7, nan=seed % 2 == 0).reshape(6, 7)
        _same(jf(a.copy()), row_max(a.copy()))


@pytest.mark.parametrize("f", [max_if, min_builtin_swapped, max_from_zero], ids=lambda f: f.__name__)
def test_loop_extremes_cpu_short(f):
    # (a short loop: the cpu fold's 8 lanes hold one element each)
    jf = lt.jit(f, backend="cpu")
    for x in (np.array([0.0, -0.0]), np.array([-0.0, 0.0]), np.array([-1.0, -0.0, 0.0, -2.0])):
        x = -x if f is min_builtin_swapped else x
        _same(jf(x.copy()), f(x.copy()))


def np_maximum_pair(a, b):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = np.maximum(a[i], b[i])
    return out, np.maximum(a, b), np.minimum(a, b), np.minimum(b, a)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_np_maximum_takes_second_of_equal(backend):
    rng = np.random.default_rng(5)
    a, b = _data(1, 40, nan=True), _data(2, 40, nan=True)
    a[:8] = [0.0, -0.0, 0.0, -0.0, np.nan, 1.0, -np.nan, 2.0]
    b[:8] = [-0.0, 0.0, 0.0, -0.0, 1.0, np.nan, np.nan, rng.random()]
    got = lt.jit(np_maximum_pair, backend=backend)(a.copy(), b.copy())
    for g, w in zip(got, np_maximum_pair(a, b)):
        _same(g, w)


def test_np_max_interpret_follows_numpy():
    def f(x):
        return np.max(x), np.min(x)

    jf = lt.jit(f, backend="interpret")
    for seed in range(10):
        x = _data(seed, 33, nan=False)
        for g, w in zip(jf(x.copy()), f(x.copy())):
            _same(g, w)


def test_copysign_of_running_min():
    def f(x):
        m = x[0]
        for v in x:
            if v < m:
                m = v
        return math.copysign(1.0, m)

    for x in (np.array([0.0, -0.0]), np.array([-0.0, 0.0])):
        assert lt.jit(f, backend="interpret")(x) == f(x)
