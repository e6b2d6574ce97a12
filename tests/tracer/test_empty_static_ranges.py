"""A loop over a range that shapes make empty (`range(n - 2)` for n < 3)
runs no iteration in Python, so nothing its body would do with an index
can fail: a window `w[i:i + 3]` longer than the array, an element `x[i + 4]`
past its end. looptrace traced the body with a symbolic index anyway and
refused the valid program with a ShapeError (found by generated programs:
`for i in range(n - 2): o1[i] = w[i:i + 3].sum()` with n = 1 or 2)."""

import numpy as np
import pytest

import looptrace


def windows(w, o):
    n = w.shape[0]
    acc = 0.0
    for i in range(n - 2):
        o[i] = w[i:i + 3].sum()
        acc += np.max(w[i:i + 3])
    return o, acc


def past_the_end(x, o):
    for i in range(x.shape[0] - 4):
        o[i] = x[i + 4] - x[i]
    for j in range(2, x.shape[0] - 3):
        o[j] += x[j - 2:j + 3].mean()
    return o


def nested(X, o):
    n, m = X.shape
    for i in range(n):
        for j in range(m - 3):
            o[i] += X[i, j:j + 4].sum()
    return o


@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("f", [windows, past_the_end])
def test_window_loops_of_any_trip_count(f, n):
    r = np.random.default_rng(n)
    args = [r.standard_normal(n), r.standard_normal(n)]
    plain, comp = [a.copy() for a in args], [a.copy() for a in args]
    want = f(*plain)
    got = looptrace.jit(f, backend="interpret")(*comp)
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    for g, w in zip(comp, plain):
        np.testing.assert_allclose(g, w, rtol=1e-12)


@pytest.mark.parametrize("m", [2, 3, 5])
def test_empty_inner_loop(m):
    r = np.random.default_rng(m)
    X, o = r.standard_normal((3, m)), r.standard_normal(3)
    np.testing.assert_allclose(looptrace.jit(nested, backend="interpret")(X, o.copy()), nested(X, o.copy()))


def test_a_name_set_only_in_an_empty_loop_is_unbound_after_it():
    def f(x):
        for i in range(x.shape[0] - 5):
            last = x[i]
        return last  # noqa: F821 - unbound when the loop runs no iteration, as intended

    with pytest.raises(UnboundLocalError):
        f(np.ones(3))
    with pytest.raises((UnboundLocalError, looptrace.TraceError)):
        looptrace.jit(f, backend="interpret")(np.ones(3))
