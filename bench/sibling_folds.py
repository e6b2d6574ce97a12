"""Sibling folds in one pass (codegen/cpu/siblings.py, fold_groups.py): each
workload compiled with the shared loops ("looptrace") and with the separate
passes ("separate", LOOPTRACE_NO_SIBLING_FOLDS=1 while it compiles), timed
round-robin in one process (bench/_timing.py) beside plain NumPy and, for the
loops, numba.njit of the same function (viterbi: of its loops as njit users
write them, njit refusing np.argmax with an axis). Results are bit-identical
(tests/codegen/test_sibling_reductions.py); only the passes over memory differ.

    python bench/sibling_folds.py [--repeats 25] [--only nanmin_max_loop,viterbi]
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from bench.corpus.algorithms import viterbi  # noqa: E402  (the corpus kernel: an argmax and a max of the same scores each step)


def nanmin_max_loop(X):
    lo = np.inf
    hi = -np.inf
    for v in X.flat:
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    return lo, hi


def viterbi_loops(log_a, log_b, log_pi, obs):
    """viterbi as an njit user writes it (njit refuses np.argmax with an axis): one pass per column."""
    S = log_a.shape[0]
    T = obs.shape[0]
    delta = np.empty((T, S))
    psi = np.zeros((T, S), dtype=np.int64)
    for j in range(S):
        delta[0, j] = log_pi[j] + log_b[j, obs[0]]
    for t in range(1, T):
        for j in range(S):
            best = delta[t - 1, 0] + log_a[0, j]
            arg = 0
            for i in range(1, S):
                s = delta[t - 1, i] + log_a[i, j]
                if s > best:
                    best = s
                    arg = i
            psi[t, j] = arg
            delta[t, j] = best + log_b[j, obs[t]]
    path = np.empty(T, dtype=np.int64)
    path[T - 1] = np.argmax(delta[T - 1])
    for t in range(T - 2, -1, -1):
        path[t] = psi[t + 1, path[t + 1]]
    return path, delta[T - 1].max()


def min_and_max(x):
    return x.min(), x.max()


def masked_sum_and_count(x, m):
    return (x * m).sum(), m.sum()


def four_folds(x):
    return x.min(), x.max(), x.sum(), (x > 0).sum()


def _workloads(rng):
    X = rng.standard_normal((20000, 50))
    X[rng.random(X.shape) < 0.05] = np.nan
    x = rng.standard_normal(10**6)
    m = (rng.random(10**6) < 0.3).astype(np.float64)
    a, b, pi = rng.random((16, 16)) + 0.1, rng.random((16, 32)) + 0.1, rng.random(16) + 0.1
    hmm = (np.log(a / a.sum(1, keepdims=True)), np.log(b / b.sum(1, keepdims=True)), np.log(pi / pi.sum()),
           rng.integers(0, 32, 20_000))
    return {"nanmin_max_loop": (nanmin_max_loop, (X,), nanmin_max_loop), "viterbi": (viterbi, hmm, viterbi_loops),
            "min_and_max": (min_and_max, (x,), None), "masked_sum_and_count": (masked_sum_and_count, (x, m), None),
            "four_folds": (four_folds, (x,), None)}


def main() -> None:
    os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp())  # (here: tests import the kernels)
    import numba

    import looptrace
    from bench._timing import compare, print_table

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=25)
    ap.add_argument("--only", default="", help="workloads to run, comma-separated")
    opts = ap.parse_args()
    rows = {}
    for name, (f, args, loop) in _workloads(np.random.default_rng(0)).items():
        if opts.only and name not in opts.only.split(","):
            continue
        shared = looptrace.jit(f, backend="cpu")
        shared(*args)
        os.environ["LOOPTRACE_NO_SIBLING_FOLDS"] = "1"
        try:
            separate = looptrace.jit(f, backend="cpu")
            separate(*args)
        finally:
            del os.environ["LOOPTRACE_NO_SIBLING_FOLDS"]
        cases = {"plain": f, "separate": separate, "looptrace": shared}
        if loop is not None:  # numba.njit of the loop (viterbi: of its loops as njit users write them)
            cases["numba"] = numba.njit(loop)
            cases["numba"](*args)
        rows[name] = compare({k: (lambda g=g: g(*args)) for k, g in cases.items()}, repeats=opts.repeats)
    print_table(rows, baseline="separate")


if __name__ == "__main__":
    main()
