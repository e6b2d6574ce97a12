"""Textbook algorithms as scientists write them: dynamic programming
(Viterbi, edit distance, Floyd-Warshall), k-means steps, an RK4 integrator
with the right-hand side as an inner function, per-element bisection,
compensated (Kahan) summation, a COO sparse product and a 2-d histogram
written as loops, and particle deposition onto a grid."""

import numpy as np

from . import Kernel


def viterbi(log_a, log_b, log_pi, obs):
    """The most likely hidden state path of an HMM (max-product, then backtracking)."""
    n_states = log_a.shape[0]
    T = obs.shape[0]
    delta = np.empty((T, n_states))
    psi = np.zeros((T, n_states), dtype=np.int64)
    delta[0] = log_pi + log_b[:, obs[0]]
    for t in range(1, T):
        scores = delta[t - 1][:, None] + log_a
        psi[t] = np.argmax(scores, axis=0)
        delta[t] = np.max(scores, axis=0) + log_b[:, obs[t]]
    path = np.empty(T, dtype=np.int64)
    path[T - 1] = np.argmax(delta[T - 1])
    for t in range(T - 2, -1, -1):
        path[t] = psi[t + 1, path[t + 1]]
    return path, delta[T - 1].max()


def edit_distance(a, b):
    """Levenshtein distance of two integer sequences (the full DP table)."""
    n, m = a.shape[0], b.shape[0]
    D = np.zeros((n + 1, m + 1))
    for i in range(n + 1):
        D[i, 0] = i
    for j in range(m + 1):
        D[0, j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = 0.0 if a[i - 1] == b[j - 1] else 1.0
            D[i, j] = min(D[i - 1, j] + 1.0, D[i, j - 1] + 1.0, D[i - 1, j - 1] + cost)
    return D[n, m]


def floyd_warshall(W):
    """All-pairs shortest paths, one relaxation of the whole matrix per intermediate node."""
    D = W.copy()
    n = D.shape[0]
    for k in range(n):
        D = np.minimum(D, D[:, k:k + 1] + D[k:k + 1, :])
    return D


def kmeans_steps(X, centers, n_iter):
    """Lloyd's k-means: assign every point to its nearest center, move the centers to the means."""
    C = centers.copy()
    k = C.shape[0]
    labels = np.zeros(X.shape[0], dtype=np.int64)
    for _ in range(n_iter):
        d = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
        labels = np.argmin(d, axis=1)
        for c in range(k):
            members = labels == c
            count = members.sum()
            if count > 0:
                C[c] = (X * members[:, None]).sum(axis=0) / count
    return C, labels


def rk4_lorenz(y0, dt, n_steps):
    """The Lorenz system integrated with classic RK4; the right-hand side is an inner function."""
    def f(y):
        return np.array([10.0 * (y[1] - y[0]), y[0] * (28.0 - y[2]) - y[1], y[0] * y[1] - 8.0 / 3.0 * y[2]])

    y = y0.copy()
    out = np.empty((n_steps, 3))
    for t in range(n_steps):
        k1 = f(y)
        k2 = f(y + 0.5 * dt * k1)
        k3 = f(y + 0.5 * dt * k2)
        k4 = f(y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        out[t] = y
    return out


def bisection_roots(c, tol):
    """The root of x**3 + x - c in [-|c| - 1, |c| + 1] for every c, by bisection, each to tol."""
    out = np.empty(c.shape[0])
    for i in range(c.shape[0]):
        lo, hi = -abs(c[i]) - 1.0, abs(c[i]) + 1.0
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            if mid ** 3 + mid - c[i] > 0.0:
                hi = mid
            else:
                lo = mid
        out[i] = 0.5 * (lo + hi)
    return out


def kahan_sum(x):
    """Compensated summation: the running error is carried along with the sum."""
    s = 0.0
    comp = 0.0
    for i in range(x.shape[0]):
        y = x[i] - comp
        t = s + y
        comp = (t - s) - y
        s = t
    return s


def coo_matvec(rows, cols, vals, x, n_rows):
    """A COO sparse matrix times a vector, one nonzero at a time."""
    y = np.zeros(n_rows)
    for k in range(vals.shape[0]):
        y[rows[k]] += vals[k] * x[cols[k]]
    return y


def histogram2d_loop(x, y, n_bins):
    """A 2-d histogram of points in the unit square, counted in a loop."""
    H = np.zeros((n_bins, n_bins))
    for i in range(x.shape[0]):
        bx = int(x[i] * n_bins)
        by = int(y[i] * n_bins)
        if 0 <= bx < n_bins and 0 <= by < n_bins:
            H[bx, by] += 1.0
    return H


def deposit_cic(pos, q, n_cells):
    """Cloud-in-cell charge deposition of particles onto a periodic 1-d grid."""
    rho = np.zeros(n_cells)
    cell = np.floor(pos).astype(np.int64)
    frac = pos - cell
    np.add.at(rho, cell % n_cells, q * (1.0 - frac))
    np.add.at(rho, (cell + 1) % n_cells, q * frac)
    return rho


def assign_nearest(X, C):
    """k-means assignment as scalar loops: for each point, the nearest center and its distance."""
    n, k, d = X.shape[0], C.shape[0], X.shape[1]
    labels = np.empty(n, dtype=np.int64)
    dist = np.empty(n)
    for p in range(n):
        best = np.inf
        bj = -1
        for j in range(k):
            s = 0.0
            for q in range(d):
                diff = X[p, q] - C[j, q]
                s += diff * diff
            if s < best:
                best = s
                bj = j
        labels[p] = bj
        dist[p] = best
    return labels, dist


def peak_with_index(x, t):
    """The largest sample, where it happens, and when."""
    best = -np.inf
    at = -1
    when = 0.0
    for i in range(x.shape[0]):
        if x[i] > best:
            best = x[i]
            at = i
            when = t[i]
    return best, at, when


def _hmm(r, m):
    s, o, T = (3, 4, 12) if m == "test" else (16, 32, 20_000)
    a = r.random((s, s)) + 0.1
    b = r.random((s, o)) + 0.1
    pi = r.random(s) + 0.1
    return (np.log(a / a.sum(1, keepdims=True)), np.log(b / b.sum(1, keepdims=True)), np.log(pi / pi.sum()),
            r.integers(0, o, T))


def _sequences(r, m):
    n, k = (9, 4) if m == "test" else (600, 4)
    return r.integers(0, k, n), r.integers(0, k, n + 3)


def _graph(r, m):
    n = 7 if m == "test" else 300
    W = r.random((n, n)) * 10.0
    W[r.random((n, n)) < 0.5] = np.inf
    np.fill_diagonal(W, 0.0)
    return (W,)


def _points(r, m):
    n, d, k = (30, 2, 3) if m == "test" else (50_000, 4, 8)
    X = r.standard_normal((n, d))
    return X, X[r.choice(n, k, replace=False)] + 0.01, 3 if m == "test" else 10


def _coo(r, m):
    n, nnz = (6, 20) if m == "test" else (50_000, 1_000_000)
    return r.integers(0, n, nnz), r.integers(0, n, nnz), r.standard_normal(nnz), r.standard_normal(n), n


KERNELS = [
    Kernel("viterbi", viterbi, _hmm, "mixed", "dynamic programming"),
    Kernel("edit_distance", edit_distance, _sequences, "loop", "dynamic programming"),
    Kernel("floyd_warshall", floyd_warshall, _graph, "mixed", "dynamic programming"),
    Kernel("kmeans_steps", kmeans_steps, _points, "mixed", "clustering"),
    Kernel("assign_nearest", assign_nearest,
           lambda r, m: (r.standard_normal((30, 3) if m == "test" else (100_000, 4)),
                         r.standard_normal((4, 3) if m == "test" else (16, 4))), "loop", "clustering"),
    Kernel("peak_with_index", peak_with_index,
           lambda r, m: (r.standard_normal(40 if m == "test" else 2_000_000),
                         np.cumsum(r.random(40 if m == "test" else 2_000_000))), "loop", "signal"),
    Kernel("rk4_lorenz", rk4_lorenz, lambda r, m: (r.standard_normal(3), 0.001, 20 if m == "test" else 100_000),
           "mixed", "ode"),
    Kernel("bisection_roots", bisection_roots,
           lambda r, m: (r.standard_normal(8 if m == "test" else 20_000) * 5.0, 1e-10), "loop", "root finding"),
    Kernel("kahan_sum", kahan_sum, lambda r, m: (r.standard_normal(50 if m == "test" else 2_000_000) * 1e3,),
           "loop", "summation"),
    Kernel("coo_matvec", coo_matvec, _coo, "loop", "sparse"),
    Kernel("histogram2d_loop", histogram2d_loop,
           lambda r, m: (r.random(40 if m == "test" else 1_000_000) * 1.1, r.random(40 if m == "test" else 1_000_000),
                         8 if m == "test" else 64), "loop", "histogram"),
    Kernel("deposit_cic", deposit_cic,
           lambda r, m: (r.random(30 if m == "test" else 1_000_000) * 16.0, r.standard_normal(30 if m == "test"
                                                                                             else 1_000_000),
                         16 if m == "test" else 4096), "array", "particles"),
]
