"""Gaps the session-34 realistic-programs probe found, each against the plain
function: the length of a slice that may run past the end, copy.copy and
copy.deepcopy of traced arrays, a list of arrays grown for a run-time count,
a generator seeded from an int argument, and more of the Generator API
(exponential, integers, permutation, shuffle) drawing NumPy's own streams."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import looptrace

from ._compare import assert_same


def batch_count(X, bs):
    n = 0
    for s in range(0, X.shape[0], bs):
        n += len(X[s:s + bs])
    return n


def batch_means(X):
    tot = 0.0
    for s in range(0, 10, 4):
        xb = X[s:s + 4]
        tot += xb.sum() / xb.shape[0]
    return tot


def column_length(X, s):
    return X[s:s + 4, 0].shape[0] + X[s:s + 4][:, 1].size


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_the_length_of_a_slice_past_the_end_is_never_its_static_length(backend):
    X = np.arange(1.0, 11.0)
    assert looptrace.jit(batch_count, backend=backend)(X, 5) == batch_count(X, 5)  # the slices fit
    # NumPy's last slice has 2 elements, not 4: that iteration runs on its own (s36: SliceOverrunError before)
    assert looptrace.jit(batch_count, backend=backend)(X, 4) == batch_count(X, 4) == 10
    assert looptrace.jit(batch_means, backend=backend)(X) == pytest.approx(batch_means(X), rel=1e-12)


def test_the_length_of_views_of_a_slice_past_the_end():
    X = np.arange(20.0).reshape(10, 2)
    f = looptrace.jit(column_length, backend="interpret")
    assert f(X, 2) == column_length(X, 2)
    with pytest.raises(IndexError):
        f(X, 8)


def copies(x):
    y = copy.deepcopy(x)
    y += 1
    z = copy.copy(x)
    z *= 2
    return y, z, x, copy.copy(x[0])


def test_copy_and_deepcopy_of_traced_arrays():
    x = np.random.default_rng(0).random(3)
    assert_same(looptrace.jit(copies, backend="interpret")(x.copy()), copies(x.copy()))


def test_grad_through_deepcopy():
    x, v = np.random.default_rng(1).random(3), np.random.default_rng(2).random(3)
    g = looptrace.grad(lambda x, v: np.sum(copy.deepcopy(x) * v))(x, v)
    np.testing.assert_allclose(g, v)


def halvings(x0, steps):
    xs = [x0]
    x = x0
    for _ in range(steps):
        x = 0.5 * x
        xs.append(x)
    return np.stack(xs)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_stack_of_a_list_grown_for_a_count_from_an_argument(backend):
    x0 = np.random.default_rng(3).random(3) + 1
    assert_same(looptrace.jit(halvings, backend=backend)(x0, 4), halvings(x0, 4))


def seeded(x, seed):
    rng = np.random.default_rng(seed)
    return x + rng.random(x.shape[0])


def test_a_generator_seeded_from_an_int_argument_is_specialized():
    x = np.random.default_rng(4).random(3)
    f = looptrace.jit(seeded, backend="interpret")
    assert_same(f(x, 5), seeded(x, 5))
    assert_same(f(x, 6), seeded(x, 6))
    assert any("specialized on `seed`" in n for n in looptrace.explain(seeded, x, 5).notes)


def gillespie(rate, tmax, rng):
    t = 0.0
    n = 0
    while t < tmax:
        t += rng.exponential(1.0 / rate)
        n += 1
    return n, t


def bootstrap(x, rng, B):
    out = np.empty(B)
    for b in range(B):
        idx = rng.integers(0, x.shape[0], x.shape[0])
        out[b] = x[idx].mean()
    return out


def epochs(X, rng):
    tot = 0.0
    for _ in range(3):
        perm = rng.permutation(X.shape[0])
        for k in range(X.shape[0]):
            tot += X[perm[k]] * (k + 1)
    return tot


def fisher_yates(x, rng):
    y = x.copy()
    for i in range(y.shape[0] - 1, 0, -1):
        j = rng.integers(0, i + 1)
        t = y[i]
        y[i] = y[j]
        y[j] = t
    return y


def rows_and_bounds(A, rng):
    B = rng.permutation(A)
    rng.shuffle(A)
    return B, rng.integers(5, size=3, dtype=np.int32), rng.integers(1, 6, endpoint=True), rng.standard_exponential(2)


X10 = np.random.default_rng(5).random(10)
CASES = [(gillespie, lambda: (2.0, 5.0, np.random.default_rng(1))),
         (bootstrap, lambda: (X10, np.random.default_rng(2), 5)),
         (epochs, lambda: (X10, np.random.default_rng(3))),
         (fisher_yates, lambda: (X10, np.random.default_rng(4))),
         (rows_and_bounds, lambda: (np.arange(12.0).reshape(4, 3), np.random.default_rng(5)))]


# epochs on cpu with -m slow (8.6 s of CPU in session 48); on the interpreter always
@pytest.mark.parametrize("fn, make, backend", [
    pytest.param(fn, make, be, marks=pytest.mark.slow, id=f"{fn.__name__}-{be}") if (fn is epochs and be == "cpu")
    else pytest.param(fn, make, be, id=f"{fn.__name__}-{be}") for be in ("interpret", "cpu") for fn, make in CASES])
def test_generator_draws_match_numpys_streams(fn, make, backend):
    plain_args, jit_args = make(), make()
    expected = fn(*plain_args)
    got = looptrace.jit(fn, backend=backend)(*jit_args)
    assert_same(got, expected, rtol=1e-12)
    for p, j in zip(plain_args, jit_args):  # arguments written, and each generator's final state
        if isinstance(p, np.ndarray):
            np.testing.assert_array_equal(j, p)
        if isinstance(p, np.random.Generator):
            assert j.random() == p.random()


def test_integers_refuses_what_it_cannot_draw_alike():
    with pytest.raises(looptrace.UnsupportedError, match="dtype"):
        looptrace.jit(lambda x, rng: x + rng.integers(0, 5, 3, dtype=np.uint8), backend="interpret")(
            np.ones(3), np.random.default_rng(0))
    with pytest.raises(ValueError, match="low >= high"):
        looptrace.jit(lambda x, rng: x + rng.integers(3, 3), backend="interpret")(np.ones(3), np.random.default_rng(0))


ARGS = (np.ones(3), np.arange(3.0))


def from_a_copied_global(x):
    w = list(ARGS)[1].copy()
    w += x
    a, b = tuple(ARGS)
    return np.sum(w ** 2) + np.sum(a * b)


def test_list_of_a_global_container_reads_its_arrays_through_their_source():
    global ARGS
    x = np.full(3, 0.5)
    f = looptrace.jit(from_a_copied_global, backend="interpret")
    assert f(x) == from_a_copied_global(x)
    saved, ARGS = ARGS, (np.ones(3) * 2, np.arange(3.0))
    try:
        assert f(x) == from_a_copied_global(x)  # the arrays are implicit arguments: the new ones are read
    finally:
        ARGS = saved


def squares_by_comprehension(x):
    return sum(x[i] * x[i] for i in range(len(x)))


def scaled_by_comprehension(x):
    return np.array([x[i] * i for i in range(x.shape[0])])


def few_items(x):
    return [x[i] + 1 for i in range(3)], np.array([[x[i] * x[j] for j in range(3)] for i in range(4)])


def filtered_by_comprehension(x):
    return {i: x[i] * 2 for i in range(x.shape[0])}[x.shape[0] - 1]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn, kind", [(squares_by_comprehension, "reduction"),
                                      (scaled_by_comprehension, "vectorized")])
def test_a_comprehension_over_a_range_is_a_loop_traced_once(fn, kind, backend):
    x = np.random.default_rng(7).random(150)
    got = looptrace.jit(fn, backend=backend)(x)
    np.testing.assert_allclose(got, fn(x), rtol=1e-12)
    (loop,) = looptrace.explain(fn, x).loops
    assert loop.kind == kind and "unrolled" not in loop.reason


def test_a_few_items_stay_python_lists():
    x = np.random.default_rng(8).random(4)
    assert_same(looptrace.jit(few_items, backend="interpret")(x), few_items(x))


def test_other_comprehensions_warn_past_100_items_and_explain_says_they_were_unrolled():
    x = np.random.default_rng(9).random(150)
    with pytest.warns(looptrace.UnrollWarning, match="comprehension"):
        got = looptrace.jit(filtered_by_comprehension, backend="interpret")(x)
    assert got == filtered_by_comprehension(x)
    (loop,) = looptrace.explain(filtered_by_comprehension, x).loops
    assert "unrolled while tracing (a comprehension): 150 iterations" in loop.reason


def test_grad_of_a_jitted_varargs_function_counts_the_arguments_passed():
    x, y = np.random.default_rng(8).random(3), np.random.default_rng(9).random(3)
    f = looptrace.jit(lambda *a: np.sum(a[0] * a[1]), backend="interpret")
    np.testing.assert_allclose(looptrace.grad(f, argnums=1)(x, y), x)
    gx, gy = looptrace.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, y)
    np.testing.assert_allclose(gy, x)


def size_of_copy(X, s):
    return np.size(X[s:s + 4].copy())


def transposed_length(X, s):
    return X[s:s + 4].T.shape[1] + len(X[s:s + 4].T.T)


def row_sums_length(X, s):
    return X[s:s + 4].sum(axis=1).shape[0] + np.shape(X[s:s + 4])[0] + np.diff(X[s:s + 4], axis=0).shape[0]


def window_mean(X, s):
    return X[s:s + 4].mean() + X[s:s + 4].sum(axis=0)[0]


@pytest.mark.parametrize("fn", [size_of_copy, transposed_length, row_sums_length])
def test_lengths_of_values_computed_from_a_slice_past_the_end_are_checked(fn):
    X = np.random.default_rng(10).random((10, 2))
    f = looptrace.jit(fn, backend="interpret")
    assert f(X, 2) == fn(X, 2)
    with pytest.raises(looptrace.SliceOverrunError):
        f(X, 8)  # NumPy's slice has 2 rows there


def test_reductions_of_a_slice_past_the_end_stay_exact():
    X = np.random.default_rng(11).random((10, 2))
    f = looptrace.jit(window_mean, backend="interpret")
    for s in (2, 8):
        assert f(X, s) == pytest.approx(window_mean(X, s), rel=1e-12)
