"""Sibling folds in one pass (codegen/cpu/siblings.py, fold_groups.py): each
workload compiled with the shared loops ("looptrace") and with the separate
passes ("separate", LOOPTRACE_NO_SIBLING_FOLDS=1 while it compiles), timed
round-robin in one process (bench/_timing.py) beside plain NumPy and, for the
loop, numba.njit of the same function. Results are bit-identical
(tests/codegen/test_sibling_reductions.py); only the passes over memory differ.

    python bench/sibling_folds.py [--repeats 25]
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp())

import numpy as np  # noqa: E402


def nanmin_max_loop(X):
    lo = np.inf
    hi = -np.inf
    for v in X.flat:
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    return lo, hi


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
    return {"nanmin_max_loop": (nanmin_max_loop, (X,), True), "min_and_max": (min_and_max, (x,), False),
            "masked_sum_and_count": (masked_sum_and_count, (x, m), False), "four_folds": (four_folds, (x,), False)}


def main() -> None:
    import numba

    import looptrace
    from bench._timing import compare, print_table

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=25)
    opts = ap.parse_args()
    rows = {}
    for name, (f, args, loop) in _workloads(np.random.default_rng(0)).items():
        shared = looptrace.jit(f, backend="cpu")
        shared(*args)
        os.environ["LOOPTRACE_NO_SIBLING_FOLDS"] = "1"
        try:
            separate = looptrace.jit(f, backend="cpu")
            separate(*args)
        finally:
            del os.environ["LOOPTRACE_NO_SIBLING_FOLDS"]
        cases = {"plain": f, "separate": separate, "looptrace": shared}
        if loop:
            cases["numba"] = numba.njit(f)
            cases["numba"](*args)
        rows[name] = compare({k: (lambda g=g: g(*args)) for k, g in cases.items()}, repeats=opts.repeats)
    print_table(rows, baseline="separate")


if __name__ == "__main__":
    main()
