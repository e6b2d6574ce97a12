"""Machine-learning building blocks in plain NumPy: logistic regression by
gradient descent over epochs, matrix factorization by SGD over rating
triples, a Kalman filter with small matrices and @, stable row-wise softmax
and log-sum-exp, scaled dot-product attention, layer norm, an Adam loop,
an einsum contraction, and signal odds and ends (Goertzel, autocorrelation,
cumulative trapezoid and Simpson's rule)."""
import math

import numpy as np

from . import Kernel


def logistic_regression_gd(X, y, lr, n_epochs, l2):
    """Full-batch gradient descent on the L2-regularized logistic loss; the loss per epoch."""
    n, d = X.shape
    w = np.zeros(d)
    b = 0.0
    losses = np.empty(n_epochs)
    for epoch in range(n_epochs):
        z = X @ w + b
        p = 1.0 / (1.0 + np.exp(-z))
        losses[epoch] = -np.mean(y * np.log(p + 1e-12) + (1.0 - y) * np.log(1.0 - p + 1e-12)) + 0.5 * l2 * (w @ w)
        g = p - y
        w -= lr * (X.T @ g / n + l2 * w)
        b -= lr * g.mean()
    return w, b, losses


def matrix_factorization_sgd(users, items, ratings, P0, Q0, lr, reg, n_epochs):
    """Funk-SVD style: one SGD update of a user row and an item row per observed rating."""
    P = P0.copy()
    Q = Q0.copy()
    for epoch in range(n_epochs):
        for k in range(ratings.shape[0]):
            u = users[k]
            i = items[k]
            err = ratings[k] - P[u] @ Q[i]
            pu = P[u].copy()
            P[u] += lr * (err * Q[i] - reg * P[u])
            Q[i] += lr * (err * pu - reg * Q[i])
    pred = np.sum(P[users] * Q[items], axis=1)
    return P, Q, np.sqrt(np.mean((ratings - pred) ** 2))


def kalman_filter(zs, F, H, Qn, Rn, x0, P0):
    """A linear Kalman filter over a series of observations; the filtered states and the log likelihood."""
    n_t = zs.shape[0]
    x = x0.copy()
    P = P0.copy()
    out = np.empty((n_t, x.shape[0]))
    loglik = 0.0
    I = np.eye(x.shape[0])
    for t in range(n_t):
        x = F @ x
        P = F @ P @ F.T + Qn
        innov = zs[t] - H @ x
        S = H @ P @ H.T + Rn
        K = P @ H.T @ np.linalg.inv(S)
        x = x + K @ innov
        P = (I - K @ H) @ P
        out[t] = x
        loglik += -0.5 * (innov @ np.linalg.solve(S, innov) + np.log(np.linalg.det(S)) + len(innov) * np.log(2 * np.pi))
    return out, loglik


def softmax_logsumexp(Z):
    """Row-wise stable softmax and log-sum-exp."""
    m = Z.max(axis=1, keepdims=True)
    e = np.exp(Z - m)
    s = e.sum(axis=1, keepdims=True)
    return e / s, (m + np.log(s))[:, 0]


def attention(Q, K, V):
    """Scaled dot-product attention for a batch of heads, with a causal mask."""
    d = Q.shape[-1]
    scores = Q @ K.transpose(0, 2, 1) / np.sqrt(d)
    n = Q.shape[1]
    causal = np.triu(np.ones((n, n), dtype=np.bool_), k=1)
    scores = np.where(causal, -np.inf, scores)
    scores = scores - scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w /= w.sum(axis=-1, keepdims=True)
    return w @ V


def layer_norm(X, gamma, beta, eps):
    mu = X.mean(axis=-1, keepdims=True)
    var = ((X - mu) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


def adam_rosenbrock(x0, lr, n_steps):
    """Adam on the n-d Rosenbrock function with its analytic gradient; the path of the loss."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    x = x0.copy()
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    loss = np.empty(n_steps)
    for t in range(1, n_steps + 1):
        g = np.zeros_like(x)
        g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
        g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1 ** t)
        vhat = v / (1 - b2 ** t)
        x -= lr * mhat / (np.sqrt(vhat) + eps)
        loss[t - 1] = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    return x, loss


def einsum_bilinear(A, B, W):
    """A bilinear layer out[b, k] = sum_ij A[b, i] W[k, i, j] B[b, j], plus a trace of the Gram tensor."""
    out = np.einsum("bi,kij,bj->bk", A, W, B)
    gram = np.einsum("bk,ck->bc", out, out)
    return out, np.einsum("ii->", gram)


def goertzel(x, freqs, fs):
    """The power at a few frequencies by the Goertzel recurrence, one scalar loop per frequency."""
    n = x.shape[0]
    power = np.empty(freqs.shape[0])
    for f in range(freqs.shape[0]):
        k = int(0.5 + n * freqs[f] / fs)
        w = 2.0 * math.pi * k / n
        coeff = 2.0 * math.cos(w)
        s1 = 0.0
        s2 = 0.0
        for i in range(n):
            s0 = x[i] + coeff * s1 - s2
            s2 = s1
            s1 = s0
        power[f] = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return power


def autocorrelation_loops(x, max_lag):
    """Sample autocorrelation for lags 0..max_lag, by a double loop."""
    n = x.shape[0]
    mu = x.mean()
    var = 0.0
    for i in range(n):
        var += (x[i] - mu) ** 2
    acf = np.empty(max_lag + 1)
    for lag in range(max_lag + 1):
        s = 0.0
        for i in range(n - lag):
            s += (x[i] - mu) * (x[i + lag] - mu)
        acf[lag] = s / var
    return acf


def cumulative_integrals(y, dx):
    """Cumulative trapezoid (as a running loop) and composite Simpson's rule (slices) of samples."""
    n = y.shape[0]
    cum = np.zeros(n)
    for i in range(1, n):
        cum[i] = cum[i - 1] + 0.5 * dx * (y[i] + y[i - 1])
    m = n - 1 if (n - 1) % 2 == 0 else n - 2
    simpson = dx / 3.0 * (y[0] + y[m] + 4.0 * y[1:m:2].sum() + 2.0 * y[2:m - 1:2].sum())
    return cum, simpson


def _classif(r, m):
    n, d = (30, 3) if m == "test" else (20_000, 20)
    X = r.standard_normal((n, d))
    y = (X @ r.standard_normal(d) + 0.5 * r.standard_normal(n) > 0).astype(np.float64)
    return X, y, 0.5, 5 if m == "test" else 50, 1e-3


def _ratings(r, m):
    nu, ni, k, nnz = (5, 6, 3, 20) if m == "test" else (500, 400, 8, 20_000)
    return (r.integers(0, nu, nnz), r.integers(0, ni, nnz), r.random(nnz) * 4 + 1,
            0.1 * r.standard_normal((nu, k)), 0.1 * r.standard_normal((ni, k)), 0.01, 0.02, 2 if m == "test" else 3)


def _kalman(r, m):
    n_t = 10 if m == "test" else 5000
    dt = 0.1
    F = np.array([[1.0, dt, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, dt], [0.0, 0.0, 0.0, 1.0]])
    H = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    return (r.standard_normal((n_t, 2)).cumsum(axis=0), F, H, 0.01 * np.eye(4), 0.5 * np.eye(2), np.zeros(4),
            np.eye(4))


def _attn(r, m):
    b, n, d = (2, 5, 4) if m == "test" else (8, 256, 64)
    return r.standard_normal((b, n, d)), r.standard_normal((b, n, d)), r.standard_normal((b, n, d))


def _ln(r, m):
    n, d = (6, 8) if m == "test" else (4096, 512)
    return r.standard_normal((n, d)) * 3 + 1, r.random(d) + 0.5, r.standard_normal(d), 1e-5


def _bilinear(r, m):
    b, i, j, k = (4, 3, 5, 2) if m == "test" else (2000, 32, 32, 16)
    return r.standard_normal((b, i)), r.standard_normal((b, j)), r.standard_normal((k, i, j))


KERNELS = [
    Kernel("logistic_regression_gd", logistic_regression_gd, _classif, "mixed", "machine learning"),
    Kernel("matrix_factorization_sgd", matrix_factorization_sgd, _ratings, "mixed", "machine learning"),
    Kernel("kalman_filter", kalman_filter, _kalman, "mixed", "filtering", rtol=1e-8),
    Kernel("softmax_logsumexp", softmax_logsumexp,
           lambda r, m: (r.standard_normal((5, 7) if m == "test" else (4000, 1000)) * 20,), "array",
           "machine learning"),
    Kernel("attention", attention, _attn, "array", "machine learning"),
    Kernel("layer_norm", layer_norm, _ln, "array", "machine learning"),
    Kernel("adam_rosenbrock", adam_rosenbrock,
           lambda r, m: (r.standard_normal(6 if m == "test" else 1000), 1e-3, 20 if m == "test" else 2000),
           "mixed", "optimization", rtol=1e-8),
    Kernel("einsum_bilinear", einsum_bilinear, _bilinear, "array", "tensor contraction"),
    Kernel("goertzel", goertzel, lambda r, m: (r.standard_normal(64 if m == "test" else 200_000),
                                               np.array([50.0, 120.0, 440.0]), 1000.0), "loop", "signal"),
    Kernel("autocorrelation_loops", autocorrelation_loops,
           lambda r, m: (r.standard_normal(40 if m == "test" else 20_000), 5 if m == "test" else 50), "loop",
           "signal"),
    Kernel("cumulative_integrals", cumulative_integrals,
           lambda r, m: (np.sin(np.linspace(0.0, 3.0, 21 if m == "test" else 1_000_001)), 3.0 / (20 if m == "test"
                                                                                                  else 1_000_000)),
           "mixed", "integration"),
]
