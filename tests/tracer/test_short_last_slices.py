"""A counted loop whose last iterations take a slice NumPy shortens
(`for s in range(0, n, bs): X[s:s + bs]` with n % bs != 0, the last
mini-batch): those iterations run on their own, their slices static and
shortened as NumPy's (control._peel_last, windows.last_iterations). Before,
every such program raised SliceOverrunError (probe L: the commonest
research-code loop looptrace refused)."""
import numpy as np
import pytest

import looptrace

BACKENDS = ["interpret", "cpu"]


def minibatch_sgd(X, y, w, lr):
    n, bs = X.shape[0], 4
    for epoch in range(3):
        for s in range(0, n, bs):
            Xb, yb = X[s:s + bs], y[s:s + bs]
            g = Xb.T @ (Xb @ w - yb) / Xb.shape[0]
            w = w - lr * g
    return w


def pair_products(w):
    out = np.zeros(3)
    for i in range(3):
        for s in range(0, w.shape[0], 2):
            out[i] += w[s:s + 2] @ w[s:s + 2] * (i + 1)
    return out


def window_spread(x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        w = x[i:i + 3]
        out[i] = w.max() - w.min() + w.shape[0]
    return out


def permuted_batches(X, perm):
    tot = 0.0
    for s in range(0, X.shape[0], 4):
        idx = perm[s:s + 4]
        tot += X[idx].sum() * len(idx)
    return tot


def row_blocks(X):
    acc = np.zeros(X.shape[1])
    for s in range(0, X.shape[0], 3):
        B = X[s:s + 3, :]
        acc += B.sum(axis=0) / B.shape[0]
    return acc


def long_windows(x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = x[i:i + 8].shape[0]
    return out


def _data(rng):
    X, y, w = rng.standard_normal((10, 3)), rng.standard_normal(10), rng.standard_normal(3)
    return {minibatch_sgd: (X, y, w, 0.1), pair_products: (rng.standard_normal(5),),
            window_spread: (rng.standard_normal(10),), permuted_batches: (X, rng.permutation(10)),
            row_blocks: (X,)}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", [minibatch_sgd, pair_products, window_spread, permuted_batches, row_blocks],
                         ids=lambda f: f.__name__)
def test_short_last_slices_match_numpy(fn, backend, rng):
    args = _data(rng)[fn]
    np.testing.assert_allclose(looptrace.jit(fn, backend=backend)(*args), fn(*args), rtol=1e-12)


def test_the_gradient_through_a_short_last_batch(rng):
    X, y, w, lr = _data(rng)[minibatch_sgd]

    def loss(w):
        return (minibatch_sgd(X, y, w, lr) ** 2).sum()

    g = looptrace.grad(looptrace.jit(loss, backend="interpret"))(w)
    fd = np.array([(loss(w + e) - loss(w - e)) / 2e-6 for e in np.eye(3) * 1e-6])
    np.testing.assert_allclose(g, fd, rtol=1e-6)


def test_more_short_iterations_than_run_on_their_own_still_raise(rng):
    """x[i:i + 8] over 10 elements: 7 last iterations shortened (more than
    windows.PEEL_LAST): the run-time SliceOverrunError as before."""
    x = rng.standard_normal(10)
    with pytest.raises(looptrace.SliceOverrunError):
        looptrace.jit(long_windows, backend="interpret")(x)


def _batches_of(X, w, bs):
    tot = 0.0
    for s in range(0, X.shape[0], bs):
        tot += np.sum((X[s:s + bs] @ w) ** 2)
    return tot


def _windows_of(x):
    tot = 0.0
    for s in range(x.shape[0]):
        tot += np.sum(x[s:s + 3] ** 2)
    return tot


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_batch_longer_than_the_whole_axis(backend, rng):
    """A dataset smaller than one batch, an array shorter than one window:
    every slice is NumPy's shorter one (a ShapeError before, for the
    gradient and the window; probe P E1)."""
    X, w, x = rng.standard_normal((2, 3)), rng.standard_normal(3), rng.standard_normal(2)
    f = looptrace.jit(_batches_of, backend=backend)
    assert f(X, w, 4) == pytest.approx(_batches_of(X, w, 4), rel=1e-12)
    np.testing.assert_allclose(looptrace.grad(f, argnums=1)(X, w, 4), 2 * X.T @ (X @ w), rtol=1e-10)
    assert looptrace.jit(_windows_of, backend=backend)(x) == pytest.approx(_windows_of(x), rel=1e-12)
