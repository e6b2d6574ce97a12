"""Matrix products of NumPy and of a looptrace kernel taken by turns.

Each OpenBLAS library in a process has its own thread pool, whose workers
busy-wait for a while after each call. When a kernel multiplies through a
different OpenBLAS than NumPy's (Numba's np.dot calls SciPy's), a program
that alternates NumPy's `@` and the kernel runs each product with the other
pool's threads spinning on the same cores. looptrace's kernels call NumPy's
own library (codegen/cpu/blas.py); LOOPTRACE_BLAS=numba restores Numba's
np.dot for comparison.

For each BLAS choice (a child process each, so the libraries start fresh),
medians of:
  - numpy alone: `A @ B.T` back to back;
  - kernel alone: looptrace's `cosine`-style kernel (two row norms and the
    product; 1000 x 64 operands) back to back;
  - numpy after kernel / kernel after numpy: one call of the other first,
    then the timed call (what a loop alternating the two sees).

    python bench/blas_pools.py [--rounds 41] [--size 1000]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(rounds: int, size: int) -> dict[str, float]:
    import numpy as np

    sys.path.insert(0, str(ROOT))
    import looptrace
    from looptrace.codegen.cpu import blas

    def cosine(A, B):
        An = A / np.linalg.norm(A, axis=1, keepdims=True)
        Bn = B / np.linalg.norm(B, axis=1, keepdims=True)
        return An @ Bn.T

    r = np.random.default_rng(0)
    A, B = r.standard_normal((size, 64)), r.standard_normal((size, 64))
    kernel = looptrace.jit(cosine, backend="cpu")
    kernel(A, B)

    def numpy_call():
        return A @ B.T

    def kernel_call():
        return kernel(A, B)

    def timed(fn, before=None):
        samples = []
        for _ in range(rounds):
            if before is not None:
                before()
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    out = {"blas": blas.choice()}
    out["numpy alone"] = timed(numpy_call)
    out["kernel alone"] = timed(kernel_call)
    out["numpy after kernel"] = timed(numpy_call, kernel_call)
    out["kernel after numpy"] = timed(kernel_call, numpy_call)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.rounds, args.size)))
        return
    results = {}
    for choice in ("numpy", "numba"):
        env = dict(os.environ, LOOPTRACE_BLAS=choice)
        done = subprocess.run([sys.executable, __file__, "--child", "--rounds", str(args.rounds),
                               "--size", str(args.size)], env=env, capture_output=True, text=True, check=True)
        results[choice] = json.loads(done.stdout.strip().splitlines()[-1])
    cases = [c for c in results["numpy"] if c != "blas"]
    print(f"{'case':22s} " + " ".join(f"{'kernels on ' + c + ' BLAS':>24s}" for c in results))
    for case in cases:
        print(f"{case:22s} " + " ".join(f"{results[c][case] * 1e3:21.3f} ms" for c in results))
    for c, r in results.items():
        print(f"LOOPTRACE_BLAS={c}: {r['blas']}")


if __name__ == "__main__":
    main()
