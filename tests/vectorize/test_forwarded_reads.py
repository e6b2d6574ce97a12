"""A slice read of a buffer just written through a slice takes the written
and the old values directly (vectorize/forward.py): a delay line's buffer is
never made when nothing else reads it. Checked against the plain function on
random data, including buffers that start non-zero, buffers returned as
well, row buffers, and generated delays and read windows."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.ir.core import walk
from tests.tracer.test_varying_slices import cholesky as cholesky_in_place  # npbench's, in place


def echo(x, gain):
    n = x.shape[0]
    buf = np.zeros(n + 7)
    y = np.empty(n)
    for t in range(n):
        buf[t + 7] = x[t]
        y[t] = x[t] + gain * buf[t]
    return y


def echo_from(x, start):
    """The buffer starts as the caller's data (not one value) and is returned too."""
    buf = start.copy()
    y = np.empty(x.shape[0])
    for t in range(x.shape[0]):
        buf[t + 3] = x[t] * 2.0
        y[t] = buf[t] - x[t]
    return y, buf


def row_delay(X):
    n, m = X.shape
    buf = np.ones((n + 2, m))
    Y = np.empty((n, m))
    for t in range(n):
        buf[t + 2] = X[t] * 0.5
        Y[t] = X[t] + buf[t]
    return Y


def _prims(f, *args):
    return [op.prim.name for op in walk(f.explain(*args).program.body)]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_echo_never_makes_its_buffer(backend, rng):
    x = rng.standard_normal(30)
    f = looptrace.jit(echo, backend=backend)
    np.testing.assert_allclose(f(x, 0.6), echo(x, 0.6), rtol=1e-12)
    assert "update_slice" not in _prims(f, x, 0.6)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_buffer_of_data_that_is_also_returned(backend, rng):
    x, start = rng.standard_normal(12), rng.standard_normal(15)
    got = looptrace.jit(echo_from, backend=backend)(x, start)
    want = echo_from(x, start)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_row_buffers(backend, rng):
    X = rng.standard_normal((9, 4))
    np.testing.assert_allclose(looptrace.jit(row_delay, backend=backend)(X), row_delay(X), rtol=1e-12)


def _delay_program(delay: int, lo: int, hi: int):
    def f(x, start):
        buf = start.copy()
        y = np.zeros(x.shape[0])
        for t in range(x.shape[0]):
            buf[t + delay] = x[t] + 1.0
            y[t] = buf[t + lo:t + hi].sum() if hi > lo else buf[t + lo]
        return y, buf

    return f


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 10), delay=st.integers(0, 4), lo=st.integers(0, 4), width=st.integers(0, 3),
       seed=st.integers(0, 2**16))
def test_generated_delays_match_the_plain_loop(n, delay, lo, width, seed):
    r = np.random.default_rng(seed)
    x, start = r.standard_normal(n), r.standard_normal(n + 8)
    f = _delay_program(delay, lo, lo + width)
    want = f(x, start)
    got = looptrace.jit(f, backend="interpret")(x, start)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


# --- a traced read beside a traced write of the same buffer (forward.py `_read_past`) -------------------
def thomas_forward(a, b, c, d):
    """A Thomas sweep along the last axis, written as npbench's vadv writes it:
    each column k first gets a value, then is rescaled, and reads column k - 1."""
    n, K = a.shape
    cp = np.empty((n, K))
    dp = np.empty((n, K))
    cp[:, 0] = c[:, 0] / b[:, 0]
    dp[:, 0] = d[:, 0] / b[:, 0]
    for k in range(1, K):
        cp[:, k] = c[:, k]
        dp[:, k] = d[:, k]
        m = 1.0 / (b[:, k] - a[:, k] * cp[:, k - 1])
        cp[:, k] = cp[:, k] * m
        dp[:, k] = (dp[:, k] - a[:, k] * dp[:, k - 1]) * m
    return cp, dp


def written_once(x, k):
    buf = x.copy()
    buf[:, k] = 1.0
    return buf[:, k - 1] * 2.0


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_column_written_twice_is_read_beside_without_a_copy(backend, rng):
    args = [rng.random((30, 9)) + (2.0 if i == 1 else 0.0) for i in range(4)]
    f = looptrace.jit(thomas_forward, backend=backend)
    got, want = f(*args), thomas_forward(*args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    body = next(op for op in walk(f.explain(*args).program.body) if op.prim.name == "for_loop").blocks[0]
    writes = [op for op in body.ops if op.prim.name == "dynamic_update_slice"]
    assert len(writes) == 2  # the first write of each column is dead: no copy of the buffer per step


def test_a_write_read_only_beside_keeps_its_bound_check(rng):
    """No second write checks the same bounds: the read stays on the written
    buffer, so an index out of range still raises as in NumPy."""
    x = rng.random((3, 4))
    f = looptrace.jit(written_once, backend="interpret")
    np.testing.assert_allclose(f(x, 2), written_once(x, 2))
    with pytest.raises(IndexError):
        written_once(x, 4)
    with pytest.raises(IndexError):
        f(x, 4)


def wrapped_alias(x, shift):
    """x[k - n] is x[k]: the read between two writes of x[k] is the first write."""
    for k in range(x.shape[0]):
        x[k] = x[k] + 1.0
        y = x[k - shift]
        x[k] = y * 2.0 + x[k]
    return x


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_element_updates_read_their_neighbours_without_a_copy(backend, rng):
    """npbench's cholesky: A[i, j] -= ... then A[i, j] /= A[j, j] reads an
    element beside the one just written (j < i): no copy of A per element."""
    n = 12
    M = rng.random((n, n))
    A = M @ M.T + n * np.eye(n)
    got, want = A.copy(), A.copy()
    f = looptrace.jit(cholesky_in_place, backend=backend)
    f(got)
    cholesky_in_place(want)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    if backend == "cpu":
        assert "copied(" not in f.explain(A.copy()).kernel_source.split("\n    for ", 1)[1]
    x = rng.standard_normal(5)
    for shift in (5, 1, 3):  # 5: x[k - 5] is x[k] itself (negative, from the end)
        a, b = x.copy(), x.copy()
        looptrace.jit(wrapped_alias, backend=backend)(a, shift)
        wrapped_alias(b, shift)
        np.testing.assert_allclose(a, b, rtol=1e-12)


def grid_rows(x):
    i, j = np.mgrid[0:7, 0:5]  # a stack of two grids, unpacked into its rows
    s = np.stack([x, 2.0 * x, x + 1.0])
    return i * x[0] + j, s[1:3] - s[2], s[0:2]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_slices_of_a_concatenation_read_its_pieces(backend, rng):
    x = rng.standard_normal(5)
    f = looptrace.jit(grid_rows, backend=backend)
    for g, w in zip(f(x), grid_rows(x)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    prims = _prims(f, x)
    assert prims.count("concatenate") == 1  # s[1:3] spans two pieces: made; the grid's stack is not


def gaussian_on_mgrid(n, width):
    i, j = np.mgrid[0:n, 0:n]
    c = (n - 1) / 2.0
    return np.exp(-((i - c) ** 2 + (j - c) ** 2) / (2.0 * width ** 2))


def reshaped_twice(x):
    y = x.reshape(1, 6, 4).reshape(6, 4)  # back to x's shape: x itself
    z = (x * 2.0).reshape(24, 1).reshape(4, 6)
    return y + 1.0, z - x.reshape(2, 12).reshape(4, 6), y


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_reshape_of_a_reshape_reshapes_the_first_input(backend, rng):
    """np.mgrid's rows are the broadcasts themselves (broadcast -> (1, n, n) ->
    (n, n) folds): the cpu kernel reads them in place, no int64 grid is
    made; values as the plain function's, for mgrid and for chains of
    reshapes written out, including one that returns to the input's shape."""
    f = looptrace.jit(gaussian_on_mgrid, backend=backend)
    np.testing.assert_allclose(f(40, 7.5), gaussian_on_mgrid(40, 7.5), rtol=1e-14)
    assert _prims(f, 40, 7.5).count("reshape") == 0
    if backend == "cpu":
        assert "np.int64)" not in f.explain(40, 7.5).kernel_source  # no grid of indices allocated
    x = rng.standard_normal((6, 4))
    g = looptrace.jit(reshaped_twice, backend=backend)
    for got, want in zip(g(x), reshaped_twice(x)):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    assert _prims(g, x).count("reshape") == 2  # one per chain that changes the shape


def guarded_segment_sums(ptr, vals):
    out = np.zeros(ptr.size - 1)
    for i in range(ptr.size - 1):
        seg = vals[ptr[i]:ptr[i + 1]]
        if ptr[i + 1] > ptr[i]:  # the mask is read in this branch only (vectorize/sink.py)
            out[i] = seg.sum() + seg.max(initial=-np.inf)
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_mask_read_in_one_branch_is_computed_there(backend, rng, monkeypatch):
    """(The loop is kept a loop here, as one whose batched masks would not
    fit the memory budget is.)"""
    monkeypatch.setenv("LOOPTRACE_NO_VECTORIZE", "1")
    ptr = np.concatenate([[0], np.cumsum(rng.integers(0, 4, 30))])
    vals = rng.standard_normal(ptr[-1])
    f = looptrace.jit(guarded_segment_sums, backend=backend)
    np.testing.assert_allclose(f(ptr, vals), guarded_segment_sums(ptr, vals), rtol=1e-12)
    body = next(op for op in walk(f.explain(ptr, vals).program.body) if op.prim.name == "for_loop").blocks[0]
    assert not any(op.prim.name == "logical_and" for op in body.ops)  # moved into the cond's branch
