"""Numba-era odds and ends: Monte Carlo pi, integration, prefix sums, power iteration, runs."""
import numpy as np

from . import Kernel


def pi_monte_carlo(xs, ys):
    inside = 0
    for i in range(xs.shape[0]):
        if xs[i] * xs[i] + ys[i] * ys[i] <= 1.0:
            inside += 1
    return 4.0 * inside / xs.shape[0]


def trapezoid(y, dx):
    s = 0.0
    for i in range(1, y.shape[0]):
        s += 0.5 * (y[i] + y[i - 1]) * dx
    return s


def prefix_sum_loop(x):
    out = np.empty_like(x)
    acc = 0.0
    for i in range(x.shape[0]):
        acc += x[i]
        out[i] = acc
    return out


def power_iteration(A, v, iters):
    for _ in range(iters):
        w = A @ v
        v = w / np.linalg.norm(w)
    return v, v @ A @ v


def longest_run(x):
    """The longest run of increasing values."""
    best = 1
    cur = 1
    for i in range(1, x.shape[0]):
        if x[i] > x[i - 1]:
            cur += 1
        else:
            cur = 1
        if cur > best:
            best = cur
    return best


def polynomial_horner(coef, x):
    """Horner's rule per point, vectorized over the points."""
    y = np.zeros_like(x)
    for k in range(coef.shape[0]):
        y = y * x + coef[k]
    return y


def mlp_params(params, X):
    """A small MLP whose parameters come as a list of dicts (the JAX habit);
    tanh layers, then a softmax per row."""
    h = X
    for layer in params[:-1]:
        h = np.tanh(h @ layer["W"] + layer["b"])
    logits = h @ params[-1]["W"] + params[-1]["b"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _mlp(r, m):
    n, sizes = (8, (6, 5, 4, 3)) if m == "test" else (20_000, (64, 128, 128, 10))
    params = [{"W": r.standard_normal((a, b)) / np.sqrt(a), "b": r.standard_normal(b) * 0.1}
              for a, b in zip(sizes[:-1], sizes[1:])]
    return params, r.standard_normal((n, sizes[0]))


def bisection_history(lo, hi, target, tol):
    """Bisection for x**3 + x = target, keeping every midpoint in a list (a
    while loop that appends, then the list as an array)."""
    mids = []
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        mids.append(mid)
        if mid ** 3 + mid > target:
            hi = mid
        else:
            lo = mid
    return np.array(mids), len(mids)


def newton_sqrt(a):
    """Newton iterations for sqrt, a fixed count, element by element."""
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        x = a[i]
        for _ in range(20):
            x = 0.5 * (x + a[i] / x)
        out[i] = x
    return out


KERNELS = [
    Kernel("pi_monte_carlo", pi_monte_carlo,
           lambda r, m: (r.random(100 if m == "test" else 200_000), r.random(100 if m == "test" else 200_000)),
           "loop", "monte carlo"),
    Kernel("trapezoid", trapezoid, lambda r, m: (r.standard_normal(50 if m == "test" else 200_000), 0.01), "loop",
           "integration"),
    Kernel("prefix_sum_loop", prefix_sum_loop, lambda r, m: (r.standard_normal(50 if m == "test" else 200_000),),
           "loop", "scan", rtol=1e-8),
    Kernel("power_iteration", power_iteration,
           lambda r, m: (np.cov(r.standard_normal((6, 40))) if m == "test" else np.cov(r.standard_normal((300, 600))),
                         np.ones(6 if m == "test" else 300), 10 if m == "test" else 100), "mixed", "linear algebra",
           rtol=1e-7),
    Kernel("longest_run", longest_run, lambda r, m: (r.standard_normal(50 if m == "test" else 200_000),), "loop",
           "scan"),
    Kernel("polynomial_horner", polynomial_horner,
           lambda r, m: (r.standard_normal(8), r.uniform(-1, 1, 40 if m == "test" else 1_000_000)), "mixed",
           "polynomial"),
    Kernel("mlp_params", mlp_params, _mlp, "array", "machine learning", rtol=1e-7),
    Kernel("bisection_history", bisection_history, lambda r, m: (-10.0, 10.0, float(r.uniform(-5, 5)), 1e-12),
           "loop", "root finding"),
    Kernel("newton_sqrt", newton_sqrt, lambda r, m: (r.uniform(0.5, 4.0, 30 if m == "test" else 20_000),), "loop",
           "iteration"),
]
