"""Generator.binomial/poisson arrays of draws on cpu: run time of three
shapes of parameters (array n and p, scalar n and p, array lam), medians of
9 warm calls after one compile, and the cold compile of the draw helpers.
Run it under each tree to compare (session 49: the helpers take flat
parameters; scalars stay scalars so the BTPE setup is hoisted):

    PYTHONPATH=<tree> python bench/discrete_draws.py <label>
"""
import sys
import tempfile
import time

import numpy as np

import looptrace as lt


def binom_arr(g, n, p):
    return g.binomial(n, p)


def binom_scalar(g):
    return g.binomial(1000, 0.4, size=200_000)


def pois(g, lam):
    return g.poisson(lam)


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else lt.__file__
    r = np.random.default_rng(1)
    n, p, lam = r.integers(0, 100, 200_000), r.random(200_000), r.random(1_000_000) * 20
    out = []
    for f, a in [(binom_arr, (n, p)), (binom_scalar, ()), (pois, (lam,))]:
        j = lt.jit(f, backend="cpu")
        t = time.perf_counter()
        j(np.random.default_rng(0), *a)
        first = time.perf_counter() - t
        ts = []
        for _ in range(9):
            g = np.random.default_rng(0)
            t = time.perf_counter()
            j(g, *a)
            ts.append(time.perf_counter() - t)
        out.append(f"{f.__name__} {np.median(ts) * 1e3:.2f} ms (first call {first:.1f} s)")
    print(label, " | ".join(out))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        import os

        os.environ.setdefault("LOOPTRACE_CACHE_DIR", d)
        main()
