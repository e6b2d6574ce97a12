"""Work kept at the shape it varies over (vectorize/narrow.py): after a loop
nest is batched, what depends on the outer index alone (a row's position, its
bound checks, its wraparound) is computed over the rows and broadcast after,
not over every element. Each program is checked against the plain function
on random data; reads out of range still raise the IndexError the loop
raises first, with its message and line."""

import traceback

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.imaging import bilinear_resize
from looptrace.ir.core import walk

ROW_WORK = {"less", "greater_equal", "logical_and", "logical_not", "select", "pyint", "check"}


def spread_rows(img, rows, cols):
    out = np.empty((rows.shape[0], cols.shape[0]))
    for i in range(rows.shape[0]):
        r = rows[i] * 2 - 1
        for j in range(cols.shape[0]):
            a = img[r, cols[j]]
            b = img[r + 1, cols[j]]
            out[i, j] = a - b
    return out


def scaled_rows(x, k):
    n, m = x.shape
    out = np.empty((n, m))
    for i in range(n):
        s = int(i * k)
        for j in range(m):
            out[i, j] = x[i, j] * (s % 3 + 1) + x[s, j]
    return out


def _full_ops(program, shape, names):
    """The ops named in `names` that run over `shape` (a check: its predicates' shape)."""
    found = []
    for op in walk(program.body):
        if op.prim.name not in names:
            continue
        out = op.inputs[0] if op.prim.name == "check" else op.out
        if tuple(out.shape) == tuple(shape):
            found.append(op)
    return found


def _outcome(fn, *args):
    """The result, or (the IndexError's message, the source line that raised it)."""
    try:
        return fn(*args)
    except IndexError as e:
        return str(e), traceback.extract_tb(e.__traceback__)[-1].line


@settings(max_examples=12, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), new_h=st.integers(2, 30), new_w=st.integers(2, 30),
       seed=st.integers(0, 2**32 - 1))
def test_bilinear_resize_matches_and_computes_rows_per_row(h, w, new_h, new_w, seed):
    img = np.random.default_rng(seed).random((h, w))
    f = looptrace.jit(bilinear_resize, backend="interpret")
    np.testing.assert_allclose(f(img, new_h, new_w), bilinear_resize(img, new_h, new_w), rtol=1e-12)
    program = f.explain(img, new_h, new_w).program
    full = _full_ops(program, (new_h, new_w), ROW_WORK - {"check"})
    assert not full, [op.prim.name for op in full]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_bilinear_resize_row_checks_run_over_rows(backend, rng):
    img = rng.random((23, 31))
    f = looptrace.jit(bilinear_resize, backend=backend)
    np.testing.assert_allclose(f(img, 17, 29), bilinear_resize(img, 17, 29), rtol=1e-12)
    program = f.explain(img, 17, 29).program
    full = _full_ops(program, (17, 29), ROW_WORK)
    # at most the check that pairs a row's bound with a column's: it varies over both
    assert len(full) <= 1 and all(op.prim.name == "check" for op in full), [op.prim.name for op in full]
    rows = [op for shape in ((17, 1), (17,)) for op in _full_ops(program, shape, {"pyint", "select"})]
    assert rows, "the rows' positions are computed per row"


CASES = [
    ([1, 2, 3], [0, 1, 2]),  # every read in range
    ([1, 2, 9, 3], [0, 1, 2]),  # row 17 at i = 2 (a)
    ([1, 2, 3], [0, 8, 2]),  # column 8 at j = 1 (a)
    ([1, 6, 3], [0, 1, -9]),  # column -9 at j = 2 (a)
    ([-4, 2], [0, 1]),  # rows -9 and -8: in range, from the end
    ([-5, 2], [0, 1]),  # row -11 at i = 0 (a)
    ([2, 5], [0, 1]),  # row 9 in range at i = 1 (a), row 10 not (b)
    ([5, 9], [0, 1]),  # row 10 at i = 0 (b) before row 17 at i = 1 (a)
    ([5], [0, 8]),  # row 10 at j = 0 (b) before column 8 at j = 1 (a)
    ([1, 2, 9], [0, 7, 1]),  # row 17 at i = 2, column 7 at j = 1: the column (i = 0) first
    ([9, 2], [0, 7]),  # row 17 and column 7 both at i = 0: the row (j = 0) first
]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("rows, cols", CASES)
def test_out_of_range_raises_what_the_loop_raises_first(backend, rows, cols, rng):
    img = rng.random((10, 7))
    rows, cols = np.array(rows), np.array(cols)
    want = _outcome(spread_rows, img, rows, cols)
    got = _outcome(looptrace.jit(spread_rows, backend=backend), img, rows, cols)
    if isinstance(want, np.ndarray):
        np.testing.assert_allclose(got, want, rtol=1e-12)
        return
    message, line = want
    assert isinstance(got, tuple), got
    assert got[0].startswith(message), (got[0], message)  # looptrace adds the user's line
    assert line in got[0], (got[0], line)


def test_row_values_and_row_checks_run_per_row(rng):
    img = rng.random((10, 7))
    rows, cols = rng.integers(1, 5, 6), rng.integers(-7, 7, 5)
    program = looptrace.jit(spread_rows, backend="interpret").explain(img, rows, cols).program
    full = _full_ops(program, (6, 5), {"less", "greater_equal", "select", "multiply", "logical_not"})
    assert not full, [op.prim.name for op in full]
    # the rows' and the columns' bounds are one check over (i, j), so that the first failing
    # iteration raises (a row at i = 0 before a column at i = 1); its predicates are
    # computed per row and per column and only broadcast to it
    checks = [op for op in walk(program.body) if op.prim.name == "check"]
    assert len(checks) == 1, [op.inputs[0].shape for op in checks]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("k", [0.5, float("nan"), float("inf")])
def test_a_row_int_that_cannot_be_made_raises_as_python(backend, k, rng):
    x = rng.random((5, 4))
    f = looptrace.jit(scaled_rows, backend=backend)
    try:
        want = scaled_rows(x, k)
    except (ValueError, OverflowError) as e:
        with pytest.raises(type(e)):
            f(x, k)
        return
    np.testing.assert_allclose(f(x, k), want, rtol=1e-12)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_no_rows_raise_nothing(backend, rng):
    img = rng.random((4, 3))
    rows, cols = np.array([], dtype=np.int64), np.array([0, 9])
    out = looptrace.jit(spread_rows, backend=backend)(img, rows, cols)
    assert out.shape == (0, 2)
