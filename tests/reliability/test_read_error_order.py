"""Reads out of range in a batched loop raise what the plain loop raises
first: the first failing iteration (in the order of the loop nest), and
within it the first failing read in program order. Each read's bound check
is batched over the iterations; the checks of one iteration are one check
(vectorize/batch_interpreter.py `_order_checks`), so a later read failing
at an earlier iteration is not beaten by an earlier read failing later.

The plain function is the specification: on hypothesis-drawn index arrays
whose values stray out of range at different iterations, the jitted
function raises the same exception class, with the same message, naming
the same line."""

import functools
import traceback

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from tests.marks import INTERPRET_AND_SLOW_CPU


def three_flat_reads(a, b, c, p, q, r):
    out = np.zeros(p.shape[0])
    for i in range(p.shape[0]):
        u = a[p[i]]
        v = b[q[i]]
        w = c[r[i]]
        out[i] = u + v * w
    return out


def two_grid_reads(img, p, q):
    out = np.zeros(p.shape[0])
    for i in range(p.shape[0]):
        s = img[p[i], q[i]]
        t = img[q[i] - 1, p[i] + 1]
        out[i] = s - t
    return out


def nested_reads(img, vec, rows, cols):
    out = np.zeros((rows.shape[0], cols.shape[0]))
    for i in range(rows.shape[0]):
        r = rows[i]
        for j in range(cols.shape[0]):
            a = img[cols[j], r]
            b = vec[r + cols[j]]
            c = img[r, cols[j] - 2]
            out[i, j] = a + b * c
    return out


def reads_around_an_assert(a, b, p, q):
    out = np.zeros(p.shape[0])
    for i in range(p.shape[0]):
        u = a[p[i]]
        assert q[i] != 3, "q hit 3"
        v = b[q[i]]
        out[i] = u - v
    return out


def _outcome(fn, *args):
    """("ok", result) or (exception class, its first message line, the user's line)."""
    try:
        return "ok", fn(*args)
    except (IndexError, AssertionError) as e:
        line = traceback.extract_tb(e.__traceback__)[-1].line
        return type(e), str(e).splitlines()[0] if str(e) else "", line, e


@functools.cache
def _jitted(fn, backend):
    """One jit per function and backend for all the examples: each traces (and compiles) a
    signature once, where a new jit per hypothesis example traced all 40 (test_three_flat_reads[cpu]
    was 4.5 s of CI until session 54)."""
    return looptrace.jit(fn, backend=backend)


def _assert_same(fn, backend, *args):
    want = _outcome(fn, *args)
    got = _outcome(_jitted(fn, backend), *args)
    assert got[0] == want[0], (got, want)
    if want[0] == "ok":
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
        return
    assert got[1] == want[1], (got[1], want[1])
    told = str(got[3]) + "\n".join(getattr(got[3], "__notes__", []))  # looptrace names the user's line
    assert want[2] in told, (told, want[2])


def _indices(lo, hi, n_min=0, n_max=6):
    return st.lists(st.integers(lo, hi), min_size=n_min, max_size=n_max).map(lambda v: np.array(v, dtype=np.int64))


BACKENDS = ["interpret", "cpu"]


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_three_flat_reads(backend, data):
    n = data.draw(st.integers(0, 6))
    p, q, r = (data.draw(_indices(-8, 8, n, n)) for _ in range(3))
    a, b, c = np.arange(5.0), np.arange(6.0) + 10, np.arange(7.0) - 3
    _assert_same(three_flat_reads, backend, a, b, c, p, q, r)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_two_grid_reads(backend, data):
    n = data.draw(st.integers(0, 6))
    p, q = (data.draw(_indices(-7, 7, n, n)) for _ in range(2))
    img = np.arange(30.0).reshape(5, 6)
    _assert_same(two_grid_reads, backend, img, p, q)


@pytest.mark.parametrize("backend", INTERPRET_AND_SLOW_CPU)
@settings(max_examples=40, deadline=None)
@given(rows=_indices(-6, 6, 0, 4), cols=_indices(-6, 8, 0, 4))
def test_nested_reads(backend, rows, cols):
    img = np.arange(30.0).reshape(6, 5)
    vec = np.arange(9.0)
    _assert_same(nested_reads, backend, img, vec, rows, cols)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_reads_around_an_assert(backend, data):
    n = data.draw(st.integers(0, 6))
    p, q = (data.draw(_indices(-6, 6, n, n)) for _ in range(2))
    _assert_same(reads_around_an_assert, backend, np.arange(5.0), np.arange(4.0), p, q)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_later_read_failing_earlier_wins(backend):
    a, b, c = np.arange(5.0), np.arange(6.0), np.arange(7.0)
    # c[9] at i = 0 before a[5] at i = 1 and b[6] at i = 2
    p, q, r = np.array([0, 5, 0]), np.array([0, 0, 6]), np.array([9, 0, 0])
    _assert_same(three_flat_reads, backend, a, b, c, p, q, r)
