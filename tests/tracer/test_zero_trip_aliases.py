"""A name that enters a loop holding an array something else sees (an
argument, another name) and that the body rebinds to a fresh array still
holds that array after a loop that ran no iteration. Writes through it then
reach the argument, as in Python. Found by a generated program: with n = 1,
`for i in range(1, n): oc = np.maximum(oc, ...)`, then `oc[j] = ...` after
the loop: looptrace wrote a fresh array and left the argument unchanged, on
every backend, whether the range's length was known while tracing or not."""

import numpy as np
import pytest

import looptrace


def static_range(X, oc):
    n = X.shape[0]
    for i in range(1, n):
        oc = np.maximum(oc, np.tanh(X[i]))
    for j in range(oc.shape[0]):
        oc[j] = oc[j] * 2.0 + 1.0
    return oc.sum()


def traced_range(X, oc, n):
    for i in range(1, n):
        oc = np.maximum(oc, np.tanh(X[i]))
    oc[1:] += 3.0
    return oc


def other_name_written(X, oc, n):
    keep = oc
    for i in range(n):
        oc = oc * 0.5 + X[i]
    keep *= 2.0  # reaches `oc` too where the loop ran no iteration
    return oc.sum(), keep.sum()


def while_loop(X, oc, n):
    i = 0
    while i < n:
        oc = oc + X[i]
        i += 1
    oc[0] = -1.0
    return oc


def while_with_break(X, oc, n):
    i = 0
    while i < n:
        oc = oc * 0.5 + X[i]
        if oc[1] > 1.5:
            break
        i += 1
    oc[2:] = 0.25
    return oc


def loop_with_break(X, oc, n):
    for i in range(n):
        oc = oc - X[i]
        if oc[0] < -2.0:
            break
    oc[-1] = 5.0
    return oc


def reversed_range(X, oc, n):
    for i in range(n - 1, -1, -1):
        oc = np.minimum(oc, X[i])
    oc += 1.0
    return oc


def local_array(X, n):
    h = np.ones(X.shape[1])
    for i in range(n):
        h = np.tanh(h + X[i])
    h[0] = 2.0  # nothing else sees the array `h` entered with: no link needed, same answer
    return h


def _check(f, backend, *args):
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    comp = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    want = f(*plain)
    got = looptrace.jit(f, backend=backend)(*comp)
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    for g, w in zip(comp, plain):
        np.testing.assert_allclose(g, w, rtol=1e-12, err_msg="arguments after the call")


TRACED = [traced_range, other_name_written, while_loop, while_with_break, loop_with_break, reversed_range]


@pytest.mark.parametrize("n", [0, 1, 3])
@pytest.mark.parametrize("f", TRACED, ids=lambda f: f.__name__)
def test_traced_trip_counts(f, n):
    r = np.random.default_rng(n + 10)
    _check(f, "interpret", r.standard_normal((4, 5)), r.standard_normal(5), n)


@pytest.mark.parametrize("rows", [1, 2, 4])
def test_static_range(rows):
    r = np.random.default_rng(rows)
    _check(static_range, "interpret", r.standard_normal((rows, 5)), r.standard_normal(5))


@pytest.mark.parametrize("n", [0, 2])
def test_local_array(n):
    _check(local_array, "interpret", np.random.default_rng(n).standard_normal((3, 4)), n)


@pytest.mark.parametrize("n", [0, 1, 3])
@pytest.mark.parametrize("f", [traced_range, other_name_written], ids=lambda f: f.__name__)
def test_cpu(f, n):
    r = np.random.default_rng(n + 20)
    _check(f, "cpu", r.standard_normal((4, 5)), r.standard_normal(5), n)


def test_cpu_static_range():
    r = np.random.default_rng(3)
    _check(static_range, "cpu", r.standard_normal((1, 5)), r.standard_normal(5))
