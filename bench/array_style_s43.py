"""Issue 11's array-style kernels that ran slower than plain NumPy (probe W2:
lbm_d2q9, forest_fire; logreg_sgd_minibatch against numba.njit), at W2's
"bench" sizes: medians of round-robin runs (bench/_timing.py) of the plain
function, looptrace (cpu) and, for logreg, numba.njit. Run it once with the
default NUMBA_NUM_THREADS and once with NUMBA_NUM_THREADS=1.

    python bench/array_style_s43.py [--repeats 15] [--only lbm_d2q9,...]
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp())

import numpy as np  # noqa: E402



def lbm_d2q9(f, n_steps, omega):
    """Lattice Boltzmann D2Q9 with BGK collision and periodic streaming by np.roll."""
    cx = np.array([0, 1, 0, -1, 0, 1, -1, -1, 1])
    cy = np.array([0, 0, 1, 0, -1, 1, 1, -1, -1])
    wts = np.array([4 / 9, 1 / 9, 1 / 9, 1 / 9, 1 / 9, 1 / 36, 1 / 36, 1 / 36, 1 / 36])
    f = f.copy()
    for _ in range(n_steps):
        rho = f.sum(axis=0)
        ux = (f * cx[:, None, None]).sum(axis=0) / rho
        uy = (f * cy[:, None, None]).sum(axis=0) / rho
        usq = ux * ux + uy * uy
        for k in range(9):
            cu = cx[k] * ux + cy[k] * uy
            feq = wts[k] * rho * (1.0 + 3.0 * cu + 4.5 * cu * cu - 1.5 * usq)
            f[k] = f[k] + omega * (feq - f[k])
        for k in range(9):
            f[k] = np.roll(np.roll(f[k], cx[k], axis=1), cy[k], axis=0)
    return f


def _lbm(r, m):
    s = (8, 10) if m == "test" else (200, 200)
    return 1.0 / 9 + 0.01 * r.random((9,) + s), 3 if m == "test" else 20, 1.2


def logreg_sgd_minibatch(X, y, perm, lr, batch, n_epochs):
    """Logistic regression by minibatch SGD over epochs; the order of each epoch passed in (perm)."""
    n, d = X.shape
    w = np.zeros(d)
    b = 0.0
    losses = np.zeros(n_epochs)
    for ep in range(n_epochs):
        order = perm[ep]
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            xb = X[idx]
            yb = y[idx]
            z = xb @ w + b
            p = 1.0 / (1.0 + np.exp(-z))
            g = p - yb
            w -= lr * (xb.T @ g) / idx.shape[0]
            b -= lr * g.mean()
        z = X @ w + b
        losses[ep] = np.mean(np.logaddexp(0.0, z) - y * z)
    return w, b, losses


def _lr(r, m):
    n, d = (64, 3) if m == "test" else (20000, 20)
    X = r.standard_normal((n, d))
    y = (X @ r.standard_normal(d) + 0.5 * r.standard_normal(n) > 0).astype(np.float64)
    E = 2 if m == "test" else 5
    return X, y, np.stack([r.permutation(n) for _ in range(E)]), 0.1, 32, E


def forest_fire(grid, u_grow, u_light, p_grow, p_light):
    """Drossel-Schwabl forest fire CA on a periodic grid (0 empty, 1 tree, 2 burning); uniforms passed in."""
    g = grid.copy()
    burned = np.zeros(u_grow.shape[0], dtype=np.int64)
    for t in range(u_grow.shape[0]):
        burning = g == 2
        nb = (np.roll(burning, 1, 0) | np.roll(burning, -1, 0) | np.roll(burning, 1, 1) | np.roll(burning, -1, 1))
        new = g.copy()
        new[burning] = 0
        tree = g == 1
        new[tree & (nb | (u_light[t] < p_light))] = 2
        new[(g == 0) & (u_grow[t] < p_grow)] = 1
        burned[t] = burning.sum()
        g = new
    return g, burned


def _ff(r, m):
    s = (10, 12) if m == "test" else (300, 300)
    T = 4 if m == "test" else 30
    g = r.integers(0, 3, s)
    return g, r.random((T,) + s), r.random((T,) + s), 0.05, 0.001


KERNELS = {"lbm_d2q9": (lbm_d2q9, _lbm), "forest_fire": (forest_fire, _ff),
           "logreg_sgd_minibatch": (logreg_sgd_minibatch, _lr)}


def main() -> None:
    import numba

    import looptrace
    from bench._timing import compare, print_table

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--only", default="")
    opts = ap.parse_args()
    rows = {}
    for name, (f, make) in KERNELS.items():
        if opts.only and name not in opts.only.split(","):
            continue
        args = make(np.random.default_rng(0), "bench")
        cases = {"plain": f, "looptrace": looptrace.jit(f)}
        if name == "logreg_sgd_minibatch":
            cases["numba"] = numba.njit(f)
        for g in cases.values():
            g(*args)
        rows[name] = compare({k: (lambda g=g: g(*args)) for k, g in cases.items()}, repeats=opts.repeats)
    print(f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}")
    print_table(rows, baseline="plain")


if __name__ == "__main__":
    main()
