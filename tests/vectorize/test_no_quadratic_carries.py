"""No loop compiles to a copy of a whole carried array per iteration.

Two ways it did:
  - a DP whose running max reads the cell just written, under an `if`
    (`if dp[i + 1, j + 1] > best`): the reads of the carried array after its
    write were batched after the scan, from a (trips, *dp.shape) history of
    dp (vectorize/loop_rewrite.py `_partial_accesses`), and the scan copied
    dp at every iteration to keep the old version for a read placed after
    the write (`reads_before_writes`);
  - a write through a view (`v = a[1:]; v[i] = ...`): traced as the view
    with one element replaced, written back over the whole view of `a`
    at every iteration (vectorize/view_writes.py: now one element of `a`).
Values and effects on the arguments are compared with the plain function."""

import time

import numpy as np
import pytest

import looptrace
from looptrace.ir.core import walk


# --- dynamic programs -----------------------------------------------------------------------
def max_square(g):
    m, n = g.shape
    dp = np.zeros((m + 1, n + 1), dtype=np.int64)
    best = 0
    for i in range(m):
        for j in range(n):
            if g[i, j] > 2:
                dp[i + 1, j + 1] = min(dp[i, j], dp[i, j + 1], dp[i + 1, j]) + 1
                if dp[i + 1, j + 1] > best:
                    best = dp[i + 1, j + 1]
    return best


def max_square_unconditional(g):
    m, n = g.shape
    dp = np.zeros((m + 1, n + 1), dtype=np.int64)
    best = 0
    for i in range(m):
        for j in range(n):
            if g[i, j] > 2:
                dp[i + 1, j + 1] = min(dp[i, j], dp[i, j + 1], dp[i + 1, j]) + 1
            best = max(best, dp[i + 1, j + 1])
    return best, dp


def squares_over_two(g):
    m, n = g.shape
    dp = np.zeros((m + 1, n + 1), dtype=np.int64)
    count = 0
    for i in range(m):
        for j in range(n):
            if g[i, j] > 2:
                dp[i + 1, j + 1] = min(dp[i, j], dp[i, j + 1], dp[i + 1, j]) + 1
            count += dp[i + 1, j + 1] >= 2  # a sum of the cell just written
            count += dp[i, j + 1] == 1  # and of a cell an earlier iteration wrote
    return count


def lcs_total(a, b):
    m, n = len(a), len(b)
    L = np.zeros((m + 1, n + 1))
    total = 0.0
    for i in range(m):
        for j in range(n):
            if a[i] == b[j]:
                L[i + 1, j + 1] = L[i, j] + 1.0
            else:
                L[i + 1, j + 1] = max(L[i, j + 1], L[i + 1, j])
            total += L[i + 1, j + 1] * 0.5
    return total, L


def kadane_1d(x):
    n = x.shape[0]
    dp = np.zeros(n + 1)
    best = -1.0
    for i in range(n):
        if x[i] > -0.5:
            dp[i + 1] = max(dp[i] + x[i], x[i])
            if dp[i + 1] > best:
                best = dp[i + 1]
    return best, dp


def longest_run_1d(x):
    n = x.shape[0]
    dp = np.zeros(n + 1, dtype=np.int64)
    best = 0  # a Python int until the first new maximum: a type tag beside the running max
    for i in range(n):
        if x[i] > 3:
            dp[i + 1] = dp[i] + 1
            if dp[i + 1] > best:
                best = dp[i + 1]
    return best, dp


def _grid(rng, m, n):
    return (rng.integers(0, 10, (m, n)),)


DP_CASES = [
    (max_square, lambda rng: _grid(rng, 9, 11)),
    (max_square_unconditional, lambda rng: _grid(rng, 8, 7)),
    (squares_over_two, lambda rng: _grid(rng, 7, 9)),
    (lcs_total, lambda rng: (rng.integers(0, 3, 9), rng.integers(0, 3, 12))),
    (kadane_1d, lambda rng: (rng.standard_normal(40),)),
    (longest_run_1d, lambda rng: (rng.integers(0, 10, 50),)),
]


# --- writes through views ---------------------------------------------------------------------
def view_tail(a):
    v = a[1:]
    for i in range(len(v)):
        v[i] = v[i] * 2 + a[i]
    return a


def view_reversed(a):
    v = a[::-1]
    for i in range(len(a) // 2):
        v[i] = a[i]
    return a


def view_middle(a):
    v = a[2:-1]
    for i in range(len(v)):
        v[i] = v[i] + a[i] * 0.5
    return a


def view_strided(a):
    v = a[1::2]
    for i in range(len(v)):
        v[i] = v[i] - a[2 * i]
    return a


def view_negative(a):
    v = a[1:]
    for i in range(len(v)):
        v[-1 - i] = v[-1 - i] + a[i]
    return a


def view_conditional(a):
    v = a[1:]
    for i in range(len(v)):
        if a[i] > 0:
            v[i] = v[i] + a[i]
    return a


def view_in_while(a):
    v = a[::-1]
    i = 0
    while v[i] > -10.0 and i < len(a) - 1:
        v[i] = v[i] * 0.5 + a[i]
        i += 1
    return a


def row_view(X):
    r = X[1]
    for j in range(X.shape[1]):
        r[j] = r[j] * 3.0 + X[0, j]
    return X


def column_view(X):
    c = X[:, 2]
    for i in range(1, X.shape[0]):
        c[i] = c[i - 1] * 0.5 + X[i, 0]
    return X


def row_views_of_a_loop(X):
    for i in range(X.shape[0]):
        r = X[i]  # a view at a traced row
        for j in range(1, X.shape[1]):
            r[j] = r[j - 1] * 0.5 + r[j]
    return X


VIEW_CASES = [
    (view_tail, (30,)), (view_reversed, (31,)), (view_middle, (25,)), (view_strided, (21,)),
    (view_negative, (17,)), (view_conditional, (23,)), (view_in_while, (19,)),
    (row_view, (4, 9)), (column_view, (12, 5)), (row_views_of_a_loop, (5, 8)),
]


def _same(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-12, atol=1e-12)
    assert np.asarray(a).dtype == np.asarray(b).dtype


def _check(f, args, backend):
    want_args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    want = f(*want_args)
    got_args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    got = looptrace.jit(f, backend=backend)(*got_args)
    _same(want, got)
    for w, g in zip(want_args, got_args):  # effects on the arguments
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("f,make", DP_CASES, ids=[f.__name__ for f, _ in DP_CASES])
def test_dp_interpret(f, make):
    rng = np.random.default_rng(3)
    for _ in range(3):
        _check(f, make(rng), "interpret")


@pytest.mark.parametrize("f,make", DP_CASES, ids=[f.__name__ for f, _ in DP_CASES])
def test_dp_cpu(f, make):
    _check(f, make(np.random.default_rng(4)), "cpu")


@pytest.mark.parametrize("f,shape", VIEW_CASES, ids=[f.__name__ for f, _ in VIEW_CASES])
def test_view_writes_interpret(f, shape):
    rng = np.random.default_rng(5)
    for _ in range(3):
        _check(f, (rng.standard_normal(shape),), "interpret")


@pytest.mark.parametrize("f,shape", VIEW_CASES, ids=[f.__name__ for f, _ in VIEW_CASES])
def test_view_writes_cpu(f, shape):
    _check(f, (np.random.default_rng(6).standard_normal(shape),), "cpu")


# --- no per-iteration copy of a carried array ---------------------------------------------------
def _largest(program) -> int:
    """Elements of the largest value anywhere in the program (loop bodies included)."""
    sizes = [int(np.prod(v.shape)) for op in walk(program.body) for v in (*op.inputs, *op.outputs)
             if all(isinstance(d, (int, np.integer)) for d in v.shape)]
    return max(sizes, default=0)


@pytest.mark.parametrize("f,make", DP_CASES, ids=[f.__name__ for f, _ in DP_CASES])
def test_dp_keeps_no_history_of_the_table(f, make):
    """The compiled program holds no value of (trips, *dp.shape): nothing larger
    than the DP table itself (what the plain function holds)."""
    args = make(np.random.default_rng(7))
    jf = looptrace.jit(f, backend="interpret")
    program = jf.explain(*args).program
    table = max(int(np.prod(np.shape(a))) for a in args)
    table = max(table, *(int(np.prod(v.shape)) for op in walk(program.body) if op.prim.name == "for_loop"
                         for v in op.blocks[0].args[1:]))
    assert _largest(program) <= table


@pytest.mark.parametrize("f,shape", VIEW_CASES, ids=[f.__name__ for f, _ in VIEW_CASES])
def test_view_write_is_one_element(f, shape):
    """The loop writes one element of the base per iteration: no write of a
    whole view back into it (a dynamic_update_slice or update_slice whose
    update is more than one element)."""
    x = np.random.default_rng(8).standard_normal(shape)
    program = looptrace.jit(f, backend="interpret").explain(x.copy()).program
    for op in walk(program.body):
        if op.prim.name in ("for_loop", "while_loop"):
            for inner in walk(op.blocks[-1]):
                if inner.prim.name in ("dynamic_update_slice", "update_slice"):
                    assert int(np.prod(inner.inputs[1].shape)) == 1, inner


def test_dp_scan_updates_the_table_in_place():
    """The scan's write of dp[i + 1, j + 1] does not copy dp: the reads of the
    old table come before the write (the cpu kernel has no copy in its loops)."""
    g = np.random.default_rng(9).integers(0, 10, (6, 7))
    jf = looptrace.jit(max_square, backend="cpu")
    assert jf(g) == max_square(g)
    src = jf.explain(g).kernel_source
    lines = src.splitlines()
    first_loop = next(k for k, line in enumerate(lines) if line.lstrip().startswith("for "))
    assert not any("copied(" in line for line in lines[first_loop:])


def test_view_write_out_of_bounds_raises_as_numpy():
    def past_the_view(a):
        v = a[2:-1]
        for i in range(len(v) + 1):  # v[7] is a[9], inside a but past the view
            v[i] = a[i] + 1.0
        return a

    x = np.random.default_rng(10).standard_normal(10)
    with pytest.raises(IndexError) as want:
        past_the_view(x.copy())
    for backend in ("interpret", "cpu"):
        with pytest.raises(IndexError) as got:
            looptrace.jit(past_the_view, backend=backend)(x.copy())
        assert str(want.value) in str(got.value)


@pytest.mark.parametrize("k", [3, -1, 6, 7, -8])
def test_row_view_at_a_traced_row(k):
    def bump_row(X, k):
        r = X[k]
        for j in range(X.shape[1]):
            r[j] = r[j] + 1.0
        return X

    X = np.random.default_rng(13).standard_normal((7, 6))
    if -7 <= k < 7:
        for backend in ("interpret", "cpu"):
            _check(bump_row, (X, np.int64(k)), backend)
        return
    with pytest.raises(IndexError) as want:
        bump_row(X.copy(), k)
    for backend in ("interpret", "cpu"):
        with pytest.raises(IndexError) as got:
            looptrace.jit(bump_row, backend=backend)(X.copy(), k)
        assert str(want.value) in str(got.value)


def rnn_readout(h0, x, W, a):
    h = h0.copy()
    out = np.empty((x.shape[0], W.shape[0]))
    for t in range(x.shape[0]):
        h = np.tanh(a * h + x[t])
        out[t] = W @ h  # read whole after the scan: h stacked for every step
    return out, h


def test_stacked_carry_over_budget_stays_in_the_scan(monkeypatch):
    """A scan value stacked for every iteration past the memory budget (here
    the carried h, 40 x 50 floats) is not stacked: its reader runs in the scan."""
    from looptrace.vectorize import batch_interpreter

    rng = np.random.default_rng(14)
    args = (rng.standard_normal(50), rng.standard_normal((40, 50)), rng.standard_normal((3, 50)), 0.5)
    monkeypatch.setattr(batch_interpreter, "_BUDGET", [8000])
    for backend in ("interpret", "cpu"):
        _check(rnn_readout, args, backend)
    program = looptrace.jit(rnn_readout, backend="interpret").explain(*args).program
    stacked = [v.shape for op in walk(program.body) if op.prim.name == "for_loop" for v in op.outputs]
    assert (40, 50) not in stacked


# --- large sizes: linear work (a copy per iteration would take minutes, or terabytes) -----------
def test_large_view_write_runs():
    x = np.random.default_rng(11).standard_normal(200_000)
    jf = looptrace.jit(view_tail, backend="cpu")
    t0 = time.perf_counter()
    got = jf(x.copy())
    took = time.perf_counter() - t0
    np.testing.assert_array_equal(got, view_tail(x.copy()))
    assert took < 60  # (compile included; quadratic: over 120 s)


def test_large_dp_runs():
    g = np.random.default_rng(12).integers(0, 10, (300, 400))
    jf = looptrace.jit(max_square, backend="cpu")
    t0 = time.perf_counter()
    got = jf(g)
    took = time.perf_counter() - t0
    assert got == max_square(g)
    assert took < 60  # (compile included; with a history of dp: about 1.4e10 elements)


def test_empty_and_unit_view_writes():
    """Writes of no element into a view of one (`v[1:] = ...` at length 1),
    and into a unit axis of a view, are left to the write-back (or placed
    exactly)."""
    def shifted(out, x):
        v = out[::-1]
        v[0] = x[0] + 1.0
        v[1:] = v[:-1] * 0.5
        return out

    def unit_rows(X):
        r = X[1:2]
        for j in range(X.shape[1]):
            r[0, j] = r[0, j] + X[0, j]
        return X

    rng = np.random.default_rng(15)
    for n in (1, 2, 5):
        for backend in ("interpret", "cpu"):
            _check(shifted, (rng.standard_normal(n), rng.standard_normal(n)), backend)
    for backend in ("interpret", "cpu"):
        _check(unit_rows, (rng.standard_normal((3, 4)),), backend)
