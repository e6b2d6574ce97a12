"""A running maximum or minimum written as a comparison, `if v > best:
best = v` (or np.where(A[i] > best, A[i], best)), is a max/min reduction
(vectorize/masked.py `_running_extreme`): a NaN v, which the comparison
skips, is replaced by the identity; a NaN best stays NaN on both sides. Each
against the plain function on values with NaNs, ties and signed zeros."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt
from bench.corpus.finance import max_drawdown as drawdown


def first_is_best(x):
    best = x[0]
    for v in x:
        if v > best:
            best = v
    return best


def smallest(x):
    best = np.float64(np.inf)
    for i in range(x.shape[0]):
        if x[i] <= best:
            best = x[i]
    return best


def reversed_comparison(x):
    best = x[0]
    for i in range(x.shape[0]):
        if best < x[i]:
            best = x[i]
    return best


def where_kept(x, c):
    best = x[0]
    for i in range(x.shape[0]):
        if c[i] > 0 and x[i] >= best:
            best = x[i]
    return best


def column_maxima(A):
    best = np.full(A.shape[1], -np.inf)
    for i in range(A.shape[0]):
        best = np.where(A[i] > best, A[i], best)
    return best


def integer_minimum(x):
    best = x[0]
    for v in x:
        if v < best:
            best = v
    return best


def _kinds(fn, *args):
    return [r.kind for r in lt.explain(lt.jit(fn, backend="interpret"), *args).loops]


def _same(fn, *args, backend="interpret", jitted=None):
    want = fn(*args)
    got = (jitted or lt.jit(fn, backend=backend))(*args)
    assert type(got) is type(want)
    np.testing.assert_array_equal(got, want)


values = st.lists(st.sampled_from([np.nan, -np.inf, np.inf, 0.0, -0.0, 1.5, -2.0, 3.25, 3.25, 7.0]),
                  min_size=1, max_size=12).map(lambda v: np.array(v))


# one jitted function each, shared by every example: a length traced once, not once per example (the
# program depends on the shapes only; 60 examples of 4 functions, each traced anew, were 3 s of the suite)
_INTERPRETED = {fn: lt.jit(fn, backend="interpret") for fn in (first_is_best, smallest, reversed_comparison,
                                                              where_kept)}


@settings(max_examples=60, deadline=None)
@given(values, st.integers(0, 2**31))
def test_same_as_the_comparison(x, seed):
    c = np.random.default_rng(seed).standard_normal(x.shape[0])
    for fn in (first_is_best, smallest, reversed_comparison):
        _same(fn, x, jitted=_INTERPRETED[fn])
    _same(where_kept, x, c, jitted=_INTERPRETED[where_kept])


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_reductions(backend):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(500)
    x[[0, 40, 300]] = np.nan
    y = rng.standard_normal(500)
    A = rng.standard_normal((30, 6))
    A[3, 2] = np.nan
    for fn, args in ((first_is_best, (x,)), (first_is_best, (y,)), (smallest, (x,)),
                     (reversed_comparison, (y,)), (where_kept, (y, x)), (column_maxima, (A,)),
                     (integer_minimum, (rng.integers(-9, 9, 40),))):
        # reversed_comparison's cpu kernel is first_is_best's (explain: the same lane_max and max_nan
        # fold; 0.5-1 s of Numba's compile): its values on the interpreter only
        _same(fn, *args, backend="interpret" if fn is reversed_comparison else backend)
        assert _kinds(fn, *args) == ["reduction"], fn.__name__


def test_a_running_value_the_step_reads_stays_a_comparison():
    """The running peak is read by the step (a scan either way): rewritten
    into a NaN-aware maximum it only lengthened the scan's chain (the corpus'
    max_drawdown 0.34 -> 0.84 ms); neither `peak` nor `worst` (its terms
    come from the scan) is rewritten."""
    x = np.abs(np.random.default_rng(8).standard_normal(200)) + 1
    _same(drawdown, x)
    text = str(lt.explain(lt.jit(drawdown, backend="interpret"), x))
    assert "float64[] = maximum(" not in text and "isnan(" not in text  # (the type tag is an int maximum)


# slow: the test above checks the same program (an IR decision) on the interpreter; scans on cpu are
# tests/codegen/test_cpu_pointwise_scan.py's (2.6 s of the suite, a compile of its own)
@pytest.mark.slow
def test_a_running_value_the_step_reads_on_cpu():
    x = np.abs(np.random.default_rng(8).standard_normal(200)) + 1
    _same(drawdown, x, backend="cpu")
