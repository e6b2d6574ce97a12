"""np.searchsorted (and ndarray.searchsorted, np.digitize, np.isin's search,
np.interp) is one `searchsorted` op (ops/sort.py): a binary search per value
written in the kernel. Plain vs interpret and cpu on random sorted arrays
with duplicates and NaNs (last), values out of range, both sides, 0-d and
n-d values, empty arrays, int/float/bool dtypes and `sorter`; a value that
varies per loop iteration (the batching rule, with one array and with an
array per iteration); and the compiled program holds one searchsorted op.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

import looptrace

from ._compare import check

BACKENDS = ["interpret", "cpu"]


def _sorted(r, n, dtype, nans=0):
    if np.dtype(dtype).kind == "f":
        a = np.round(r.standard_normal(n) * 2, 0).astype(dtype)  # duplicates
        if nans and n:
            a[: min(nans, n)] = np.nan
    elif dtype == "bool":
        a = r.random(n) > 0.5
    else:
        a = r.integers(-5, 6, n).astype(dtype)
    return np.sort(a)


def _values(r, shape, dtype, nans=False):
    if np.dtype(dtype).kind == "f":
        v = np.round(r.standard_normal(shape) * 3, 0).astype(dtype)  # ties with a, and beyond both ends
        if nans and v.size:
            v.flat[0] = np.nan
        return v
    if dtype == "bool":
        return r.random(shape) > 0.5
    return r.integers(-8, 9, shape).astype(dtype)


def _both(x, y):
    return np.searchsorted(x, y), np.searchsorted(x, y, side="right"), x.searchsorted(y, "right")


def _value_cases():
    """Every (dtype, n, shape) on the interpreter; on cpu one per dtype (each
    n and shape still met: the dtype's index picks them), the rest marked
    slow: each cpu case is a compile of its own, 80 of them were 40 s of the
    suite's CPU, the quarter that ran until session 54 still 16.5 s."""
    for b in BACKENDS:
        for i, dtype in enumerate(["float64", "float32", "int64", "int32", "bool"]):
            for j, n in enumerate([0, 1, 7, 1000]):
                for k, shape in enumerate([(), (0,), (5,), (3, 4)]):
                    slow = b != "interpret" and (j, k) != (i % 4, (i + 1) % 4)
                    yield pytest.param(b, dtype, n, shape, marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("backend, dtype, n, shape", list(_value_cases()))
def test_values_match_numpy(backend, dtype, n, shape):
    r = np.random.default_rng(zlib.crc32(repr((dtype, n, shape)).encode()))
    for nans in (0, 1, 3):
        a = _sorted(r, n, dtype, nans)
        v = _values(r, shape, dtype, nans=bool(nans))
        check(_both, a, v, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_mixed_dtypes_scalars_and_sorter(backend, rng):
    a = np.sort(rng.integers(-5, 6, 40))
    v = np.round(rng.standard_normal((3, 5)) * 4, 1)
    check(lambda x, y: (np.searchsorted(x, y), np.searchsorted(x, 0.5, "right"), np.searchsorted(x, 3)),
          a, v, backend=backend)  # int array, float values: searched as float64, as NumPy does
    u = rng.standard_normal(30)
    u[[3, 9]] = np.nan
    order = np.argsort(u)
    check(lambda x, s, y: (np.searchsorted(x, y, sorter=s), np.searchsorted(x, y, "right", sorter=s)),
          u, order, v, backend=backend)
    if backend == "interpret":  # (cpu: the two above, a compile each; these two were 3 s of the suite more,
        # an argsort (tests/codegen/test_cpu_numpy_sort.py) and the 0-d values of test_values_match_numpy's shape ())
        check(lambda x, y: np.searchsorted(x, y, sorter=np.argsort(x)), u, v, backend=backend)
        check(lambda x, y: np.searchsorted(x, y[0, 0]), np.sort(u), v, backend=backend)  # a 0-d value


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("right", [False, True])
def test_digitize_and_interp(backend, right, rng):
    x = np.round(rng.standard_normal((4, 6)), 1)
    x[0, 0] = np.nan
    bins = np.round(np.sort(rng.standard_normal(9)), 1)
    bins[2] = bins[3]
    check(lambda a, b: (np.digitize(a, b, right), np.digitize(a, b[::-1], right)), x, bins, backend=backend)
    if not right:  # (np.interp has no `right`: one compile of it per backend, not two)
        check(lambda a, b: np.interp(a, b, b * 2.0), x, np.sort(np.unique(bins)), backend=backend)


def resample_rows(cum, u):
    """A query array that changes every iteration, one array searched."""
    out = np.empty((u.shape[0], u.shape[1]), dtype=np.int64)
    for i in range(u.shape[0]):
        out[i] = np.searchsorted(cum, u[i] * 1.5 - 0.2)
    return out


def search_each_row(rows, v):
    """A different sorted array every iteration, each with its own values."""
    out = np.zeros((rows.shape[0], v.shape[1]), dtype=np.int64)
    for i in range(rows.shape[0]):
        out[i] = np.searchsorted(rows[i], v[i], side="right") + np.searchsorted(rows[i], v[i, 0])
    return out


def scan_with_search(cum, steps):
    """A search inside a true recurrence (the value depends on the carry)."""
    x = 0.0
    total = 0
    for i in range(steps.shape[0]):
        x = (x + steps[i]) % 1.0
        total += np.searchsorted(cum, x)
    return total, x


@pytest.mark.parametrize("backend", BACKENDS)
def test_in_loops(backend, rng):
    cum = np.cumsum(rng.random(50))
    cum /= cum[-1]
    cum[10:13] = cum[10]  # duplicates
    u = rng.random((7, 9))
    u[2, 3] = np.nan
    check(resample_rows, cum, u, backend=backend)
    rows = np.sort(np.round(rng.standard_normal((6, 11)), 1), axis=1)
    rows[1, -2:] = np.nan
    v = np.round(rng.standard_normal((6, 5)), 1)
    check(search_each_row, rows, v, backend=backend)
    check(scan_with_search, cum, rng.random(40), backend=backend)


def test_one_op_in_the_compiled_program(rng):
    a, v = np.sort(rng.standard_normal(5000)), rng.standard_normal(3000)
    for fn in (lambda x, y: np.searchsorted(x, y, "right"), resample_rows):
        y = v if fn is not resample_rows else v.reshape(30, 100)
        text = str(looptrace.explain(looptrace.jit(fn), a, y))
        assert text.count("= searchsorted(") == 1 and "gather" not in text, text
    text = str(looptrace.explain(looptrace.jit(search_each_row), np.sort(rng.random((6, 11)), axis=1), rng.random((6, 5))))
    assert text.count("= searchsorted(") == 2 and "for_loop" not in text, text  # batched: no loop left


# cpu with -m slow (4.3 s of session 55's CI): both kernels are a cumsum's scan and one searchsorted of
# sorted keys, whose cpu search test_sorted_keys_gallop_from_the_previous_key[float64] and
# test_values_match_numpy[cpu-*] compile by default (test_one_op_in_the_compiled_program: one search)
@pytest.mark.parametrize("backend", ["interpret", pytest.param("cpu", marks=pytest.mark.slow)])
def test_systematic_resample_kernel(backend, rng):
    from bench.corpus.stochastic import particle_filter_step, systematic_resample

    w = rng.random(2000)
    check(systematic_resample, w, 0.37, backend=backend)
    args = (rng.standard_normal(500), rng.random(500), 0.3, rng.standard_normal(500) * 0.1, 0.61, 0.5)
    check(particle_filter_step, *args, backend=backend)


def test_no_gradient_through_the_positions(rng):
    """An integer result: the gradient flows through what it gathers, not the search."""
    a = np.sort(rng.random(20))
    v = rng.random(8)

    def f(x, y):
        return np.sum(x[np.searchsorted(x, y).clip(0, 19)] * y)

    g = looptrace.grad(looptrace.jit(f, backend="interpret"), argnums=(0, 1))(a, v)
    idx = np.searchsorted(a, v).clip(0, 19)
    ga = np.zeros_like(a)
    np.add.at(ga, idx, v)
    np.testing.assert_allclose(g[0], ga)
    np.testing.assert_allclose(g[1], a[idx])


# int64: slow, the same galloping search (codegen/cpu/sort.py) as float64's, which adds the NaNs
@pytest.mark.parametrize("dtype", ["float64", pytest.param("int64", marks=pytest.mark.slow)])
def test_sorted_keys_gallop_from_the_previous_key(dtype, rng):
    """cpu searches keys along the last axis in runs of SEARCH_RUN, galloping
    from the previous key's point when the key does not come before it: keys
    sorted, sorted with drops back, with ties, NaNs (after every number) and
    keys past both ends, over several runs and on threads; rows too."""
    from looptrace.codegen.cpu.sort import SEARCH_RUN

    n = 3 * SEARCH_RUN + 17
    if dtype == "float64":
        a = np.sort(np.round(rng.standard_normal(5000) * 50, 0))
        a[-3:] = np.nan
        v = np.sort(np.round(rng.standard_normal(n) * 60, 0))
        v[SEARCH_RUN - 2] = np.nan  # then numbers again: a drop back after a NaN
        v[n // 2: n // 2 + 40] = v[n // 2: n // 2 + 40][::-1].copy()  # a descending stretch
        v[-5:] = np.nan
    else:
        a = np.sort(rng.integers(-200, 200, 5000))
        v = np.sort(rng.integers(-300, 300, n))
        v[n // 3: n // 3 + 40] = rng.integers(-300, 300, 40)  # unsorted keys among sorted ones
    check(_both, a, v, backend="cpu")
    check(_both, a, v[::-1].copy(), backend="cpu")  # every key before the previous one
    check(_both, a, np.full(n, a[2500]), backend="cpu")  # one repeated key
    rows = np.sort(rng.standard_normal((4, 300)), axis=1)
    keys = np.sort(rng.standard_normal((4, SEARCH_RUN + 9)), axis=1)
    keys[1] = keys[1, ::-1]
    check(search_each_row, rows, keys, backend="cpu")
