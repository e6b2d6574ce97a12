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

from bench.corpus import domains  # noqa: E402  (the kernels and their input builders, as the corpus runs them)

KERNELS = {k.name: (k.fn, k.make) for k in domains.KERNELS
           if k.name in ("lbm_d2q9", "forest_fire", "logreg_sgd_minibatch")}


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
