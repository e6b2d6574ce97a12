"""Wrong answers the session-34 generated-nest probe found, each against the
plain function (interpret and cpu): a read through an index that wraps to the
end in a loop running down, a Python float chosen against a float32 element,
writes and int() conversions nothing reads (they still raise), a loop of no
iterations (nothing of its body runs), and rewrites that lost a definition
(the loop stays as traced)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import looptrace

BACKENDS = ["interpret", "cpu"]


def _same(got, expected):
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected):
            _same(g, e)
        return
    assert type(got) is type(expected) or np.asarray(got).dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))


def _check(fn, *args, backend="interpret"):
    expected = fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    jit_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        got = looptrace.jit(fn, backend=backend)(*jit_args)
    _same(got, expected)


def down_in_place(x):
    for i in range(x.shape[0] - 1, -1, -1):
        x[i] += x[i - 1]
    return x


def down_two_lines(x, y):
    for i in range(x.shape[0] - 1, -1, -1):
        y[i] = x[i - 1]
        x[i] = 0.0
    return x, y


def down_copy(x):
    out = x.copy()
    for i in range(x.shape[0] - 1, -1, -1):
        out[i] = out[i - 1] * 2.0
    return out


def down_to_one(x):
    for i in range(x.shape[0] - 1, 0, -1):
        x[i] += x[i - 1]
    return x


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", [down_in_place, down_copy, down_to_one])
def test_a_read_that_wraps_to_the_end_in_a_loop_running_down(fn, backend):
    _check(fn, np.random.default_rng(1).random(5) + 1, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_read_that_wraps_on_another_line(backend):
    rng = np.random.default_rng(2)
    _check(down_two_lines, rng.random(4) + 1, rng.random(4), backend=backend)


def test_the_wrapping_loop_is_a_scan_the_other_vectorized():
    x = np.random.default_rng(3).random(5)
    assert looptrace.explain(down_in_place, x).loops[0].kind == "scan"
    assert looptrace.explain(down_to_one, x).loops[0].kind == "vectorized"


def python_float_or_element(y):
    out = np.zeros(y.shape[0])
    for i in range(y.shape[0]):
        out[i] = (i * 0.1 if i % 2 == 0 else y[i])
    return out


def third_or_element(y):
    out = np.zeros(y.shape[0])
    for i in range(y.shape[0]):
        out[i] = (i / 3 if i % 2 == 0 else y[i]) + 0.0
    return out


def sum_if_positive(y):
    s = 0.0
    for i in range(y.shape[0]):
        if y[i] > 0:
            s += y[i]
    return s


def tenth_plus_float32(x, y32):
    s = 0.1
    for i in range(x.shape[0]):
        if x[i] > 10.0:
            s += y32[i]
    return s


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", [python_float_or_element, third_or_element, sum_if_positive])
def test_a_python_float_chosen_against_a_float32_keeps_its_precision(fn, backend):
    _check(fn, np.array([1.5, -2.25, 3.0, -4.5, 0.1, 7.0], dtype=np.float32), backend=backend)


def test_a_python_float_no_float32_add_reached_stays_the_float():
    x = np.random.default_rng(4).random(6)
    y = np.random.default_rng(5).random(6).astype(np.float32)
    got = looptrace.jit(tenth_plus_float32, backend="interpret")(x, y)
    assert type(got) is float and got == 0.1


def dead_write(x):
    h = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        h[i + 1] = x[i]
    return x.sum()


def dead_nan_store(x, y):
    c = np.zeros(x.shape[0], dtype=np.int64)
    for i in range(x.shape[0]):
        c[i] = np.nan * x[i]
        y[i] -= 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_writes_nothing_reads_still_raise(backend):
    with pytest.raises(IndexError, match="out of bounds"):
        looptrace.jit(dead_write, backend=backend)(np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        looptrace.jit(dead_nan_store, backend=backend)(np.ones(3), np.ones(3))


def scatter_no_trips(B, idx):
    n = B.shape[0]
    out = np.zeros(n)
    for i in range(n):
        for j in range(1, n):
            out[idx[j]] += B[i, i + 1]
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loop_of_no_iterations_reads_nothing(backend):
    _check(scatter_no_trips, np.ones((1, 1)), np.array([0]), backend=backend)
    with pytest.raises(IndexError):
        looptrace.jit(scatter_no_trips, backend=backend)(np.ones((3, 3)), np.array([0, 2, 1]))


def rebound_or_written(x, A):
    acc = np.zeros(A.shape[1])
    for i in range(x.shape[0]):
        if x[i] > 0:
            acc = np.maximum(acc, A[i])
        else:
            acc[0] -= 1.0
    return acc


def dead_gather_deep(x, idm):
    n = x.shape[0]
    for i in range(n):
        for j in range(n):
            for k in range(j):
                t0 = x[idm[i]]  # noqa: F841
    return x


@pytest.mark.parametrize("backend", BACKENDS)
def test_rewrites_that_lose_a_definition_keep_the_loop(backend):
    rng = np.random.default_rng(6)
    _check(rebound_or_written, rng.standard_normal(5), rng.standard_normal((5, 3)), backend=backend)
    _check(dead_gather_deep, rng.random(3), np.array([0, 2, 1]), backend=backend)


def conditional_scatter(x, idx):
    h = np.zeros(4)
    for i in range(x.shape[0]):
        if x[i] > 0:
            h[idx[i]] += x[i]
    return h


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_conditional_scatter_add_is_a_reduction(backend):
    rng = np.random.default_rng(10)
    x, idx = rng.standard_normal(50), rng.integers(0, 4, 50)
    np.testing.assert_allclose(looptrace.jit(conditional_scatter, backend=backend)(x, idx),
                               conditional_scatter(x, idx), rtol=1e-12)
    assert looptrace.explain(conditional_scatter, x, idx).loops[0].kind == "reduction"
    # a position out of range where the branch is not taken reads nothing; where it is, IndexError
    x2 = np.array([1.0, -1.0])
    _check(conditional_scatter, x2, np.array([1, 99]), backend=backend)
    with pytest.raises(IndexError):
        looptrace.jit(conditional_scatter, backend=backend)(x2, np.array([99, 1]))


def shift_rows_nested(B):
    n = B.shape[0]
    for i in range(n):
        for j in range(n - 1):
            B[i, j] = B[i, j + 1] * 0.5
    return B


def shift_rows(B):
    for i in range(B.shape[0]):
        B[i, 1:] = B[i, :-1] + 1.0
    return B


def shift_from_row_above(B):
    for i in range(1, B.shape[0]):
        B[i, 1:] = B[i - 1, :-1] + 1.0
    return B


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn, kind", [(shift_rows_nested, "vectorized"), (shift_rows, "vectorized"),
                                      (shift_from_row_above, "scan")])
def test_rows_read_beside_their_own_writes(fn, kind, backend):
    B = np.random.default_rng(11).random((5, 5))
    _check(fn, B, backend=backend)
    assert looptrace.explain(fn, B).loops[0].kind == kind


def clipped_histogram(x):
    h = np.zeros(4)
    for v in x:
        if v != 0:
            h[min(int(v * 2), 3)] += 1
    return h


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_conditional_histogram_with_int_bins_is_a_reduction(backend):
    x = np.abs(np.random.default_rng(12).standard_normal(40))
    x[::7] = 0.0
    _check(clipped_histogram, x, backend=backend)
    assert looptrace.explain(clipped_histogram, x).loops[0].kind == "reduction"
    with pytest.raises(ValueError, match="NaN"):
        looptrace.jit(clipped_histogram, backend=backend)(np.array([1.0, np.nan, 0.7]))


def hmm_forward(logA, logB, obs, lp0):
    T, K = obs.shape[0], logA.shape[0]
    la = np.empty((T, K))
    la[0] = lp0 + logB[:, obs[0]]
    for t in range(1, T):
        for j in range(K):
            v = la[t - 1] + logA[:, j]
            m = v.max()
            la[t, j] = m + np.log(np.exp(v - m).sum()) + logB[j, obs[t]]
    return la


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loop_reading_the_row_before_the_one_it_writes_is_a_map(backend):
    r = np.random.default_rng(13)
    K, T = 4, 9
    args = (np.log(r.dirichlet(np.ones(K), K)), np.log(r.dirichlet(np.ones(3), K)), r.integers(0, 3, T),
            np.log(np.ones(K) / K))
    np.testing.assert_allclose(looptrace.jit(hmm_forward, backend=backend)(*args), hmm_forward(*args), rtol=1e-12)
    outer, inner = looptrace.explain(hmm_forward, *args).loops
    assert outer.kind == "scan" and inner.kind == "vectorized"


def branch_decided(v, z):
    for i in range(v.shape[0]):
        if (v[i + 1] % 3) >= 0:
            z[0] = 1.0


def count_decided(v):
    c = 0
    for i in range(v.shape[0] + 1):
        c += (v[i] % 3) >= 0
    return c


def never_written_test(x):
    cnt = np.zeros(x.shape[0], dtype=np.int64)
    for i in range(x.shape[0]):
        if cnt[i + 1] >= 2:
            break
    return 0


def overwritten_store(x):
    h = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        h[i] = x[i + 2]
        h[i] = 1.0
    return h


def dead_beside_live(x):
    n = x.shape[0]
    out = np.zeros(n)
    tot = 0.0
    for i in range(n):
        for j in range(n):
            tot += x[j]
            out[j + 1] = x[j]
    return tot


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn, args", [
    (branch_decided, lambda: (np.array([0, 5, -2, 1]), np.zeros(1))),
    (count_decided, lambda: (np.array([0, 5, -2, 1]),)),
    (never_written_test, lambda: (np.ones(3),)),
    (overwritten_store, lambda: (np.ones(3),)),
    (dead_beside_live, lambda: (np.ones(4),)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_reads_a_pass_made_dead_still_raise(fn, args, backend):
    with pytest.raises(IndexError):
        fn(*args())
    with pytest.raises(IndexError):
        looptrace.jit(fn, backend=backend)(*args())
