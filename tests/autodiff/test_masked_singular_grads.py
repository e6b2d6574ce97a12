"""Gradients where a side that is not taken overflows, and log-space
recursions through unreachable states (probe L): no NaN where finite
differences are finite."""
import numpy as np
import pytest

import looptrace


def central(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[idx] = eps
        g[idx] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


def safe_softplus(x):
    return np.sum(np.where(x < 50, np.log1p(np.exp(x)), x))


def capped_cosh(x):
    return np.sum(np.where(np.abs(x) < 100, np.cosh(x), 0.0) + np.where(x < 700, np.expm1(x), x))


def unreachable_start(x):
    a = -np.inf + x[0]
    v = np.logaddexp(-np.inf, a)
    return np.logaddexp(v, x[1])


def ctc_like(logp, ext):
    T, S = logp.shape[0], ext.shape[0]
    a = np.full(S, -np.inf)
    a[0] = logp[0, ext[0]]
    a[1] = logp[0, ext[1]]
    for t in range(1, T):
        na = np.full(S, -np.inf)
        for s in range(S):
            v = a[s]
            if s >= 1:
                v = np.logaddexp(v, a[s - 1])
            if s >= 2 and ext[s] != 0 and ext[s] != ext[s - 2]:
                v = np.logaddexp(v, a[s - 2])
            na[s] = v + logp[t, ext[s]]
        a = na
    return -np.logaddexp(a[S - 1], a[S - 2])


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,x", [(safe_softplus, np.array([0.5, 800.0, -3.0])),
                                  (capped_cosh, np.array([0.5, 800.0, -3.0])),
                                  (unreachable_start, np.array([0.3, -0.2]))])
def test_no_nan_from_a_side_not_taken(fn, x, backend):
    g = looptrace.grad(looptrace.jit(fn, backend=backend))(x)
    np.testing.assert_allclose(g, central(fn, x), rtol=1e-6, atol=1e-9)


def test_a_log_space_recursion_through_unreachable_states(rng):
    lp = rng.normal(size=(6, 4))
    lp = lp - np.log(np.exp(lp).sum(1, keepdims=True))
    ext = np.array([0, 1, 0, 2, 0, 2, 0])
    f = looptrace.jit(ctc_like, backend="interpret")
    g = looptrace.grad(f)(lp, ext)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, central(lambda p: ctc_like(p, ext), lp), rtol=1e-5, atol=1e-8)


def _prod_all(x):
    return np.prod(x)


def _prod_rows(X):
    return np.sum(np.prod(X, axis=1) * np.arange(1.0, X.shape[0] + 1))


def _prod_in_loop(X):
    s = 0.0
    for i in range(X.shape[0]):
        s += np.prod(X[i, :i + 1])
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,shape,zeros", [
    (_prod_all, (5,), [1]), (_prod_all, (5,), [1, 3]), (_prod_rows, (3, 4), [(0, 2), (2, 0), (2, 3)]),
    (_prod_in_loop, (4, 4), [(1, 0), (3, 2)])])
def test_product_gradient_at_zeros(backend, fn, shape, zeros, rng):
    """np.prod's gradient was out / x: NaN at an element that is 0 (probe P
    C1); the product of the others is finite there."""
    x = rng.uniform(0.5, 2.0, shape)
    for z in zeros:
        x[z] = 0.0
    g = looptrace.grad(looptrace.jit(fn, backend=backend))(x)
    h = 1e-6
    fd = np.zeros_like(x)
    for k in np.ndindex(*shape):
        e = np.zeros_like(x)
        e[k] = h
        fd[k] = (fn(x + e) - fn(x - e)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
