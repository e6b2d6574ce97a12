"""Resident memory under signature churn, and after jitted closures are dropped.

Part 1 calls one jitted function (CPU backend) with N different input
lengths: every length is a new signature, so a new trace and program, but
only the first two compile a Numba kernel (the first length its own, the
second the shape-generic kernel all later lengths share:
looptrace/codegen/cpu/generic.py). Resident memory (RSS, from
/proc/self/statm) is printed every few signatures; it must stay flat after
the second. The in-memory cache of signatures is bounded too
(`LOOPTRACE_MAX_COMPILED`, default 128; the run below sets it with --max).
`LOOPTRACE_SPECIALIZED_SHAPES=0` gives the old behaviour (a kernel per
signature) for comparison.

Part 2 creates K jitted closures (each with its own captured constant),
calls each once, and drops them; RSS after a garbage collection must stay
flat (their kernels share one generic kernel, or are released).

    python bench/memory_churn.py [--signatures 200] [--closures 300] [--max 32]

Part 3 does part 2's churn with plain `numba.njit`: Numba never frees the
machine code it compiled (LLVM MCJIT; numba#5976, numba#7831), so its growth
per function is the floor for looptrace too.

Kernels compile into a fresh temporary cache directory, so every signature
costs a real compile (the worst case for memory).
"""

import argparse
import gc
import os
import sys
import tempfile
import time

import numpy as np


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def smooth(x):
    y = 0.0
    out = np.empty_like(x)
    for t in range(x.shape[0]):
        y = 0.5 * y + x[t]
        out[t] = np.tanh(y)
    return out


def make_closure(k):
    scale = float(k)

    def f(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += scale * x[i]
        return s

    return f


def signature_churn(n: int, every: int, backend: str) -> list[tuple[int, float, float]]:
    import looptrace

    try:
        from looptrace.sigcache import total_entries
    except ImportError:  # a looptrace without bounded caches (for before/after runs)
        def total_entries():
            return len(f._cache)

    f = looptrace.jit(smooth, backend=backend)
    rows, t0 = [], time.perf_counter()
    for k in range(1, n + 1):
        f(np.linspace(0.0, 1.0, 10 + k))
        if k % every == 0 or k in (1, 2, 3):
            gc.collect()
            rows.append((k, rss_mb(), total_entries(), time.perf_counter() - t0))
    return rows


def closure_churn(n: int, every: int, backend: str) -> list[tuple[int, float]]:
    """A new closure per call, compiled by looptrace and dropped after it."""
    import looptrace

    return _churn(n, every, lambda fn: looptrace.jit(fn, backend=backend))


def numba_floor(n: int, every: int) -> list[tuple[int, float]]:
    """The same closure churn in plain Numba: a new @njit function per call,
    dropped after it. Numba's MCJIT never frees compiled code (numba#5976,
    numba#7831), so this growth is the floor for any in-process compiler on it."""
    import numba

    return _churn(n, every, numba.njit(cache=False))


def _churn(n: int, every: int, compile_fn) -> list[tuple[int, float]]:
    """RSS every `every` closures, each compiled by `compile_fn`, called once, dropped."""
    x = np.linspace(0.0, 1.0, 16)
    rows = []
    for k in range(1, n + 1):
        f = compile_fn(make_closure(k))
        f(x)
        del f
        if k % every == 0:
            gc.collect()
            rows.append((k, rss_mb()))
    return rows


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--signatures", type=int, default=200)
    p.add_argument("--closures", type=int, default=300)
    p.add_argument("--max", type=int, default=32, help="LOOPTRACE_MAX_COMPILED for this run")
    p.add_argument("--backend", default="cpu")
    args = p.parse_args()
    os.environ["LOOPTRACE_MAX_COMPILED"] = str(args.max)
    os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp(prefix="lt_churn_"))
    import looptrace  # noqa: F401  (after the environment is set)

    start = rss_mb()
    print(f"# backend={args.backend} LOOPTRACE_MAX_COMPILED={args.max} "
          f"LOOPTRACE_SPECIALIZED_SHAPES={os.environ.get('LOOPTRACE_SPECIALIZED_SHAPES', '(default)')} "
          f"python={sys.version.split()[0]}")
    print(f"# RSS at start (looptrace and numba imported): {start:.0f} MB")
    print("\n## signature churn: one function, a new input length per call")
    print("| signatures | RSS (MB) | RSS growth (MB) | compiled kept | seconds |")
    print("|---:|---:|---:|---:|---:|")
    for k, mb, kept, secs in signature_churn(args.signatures, max(args.signatures // 10, 1), args.backend):
        print(f"| {k} | {mb:.0f} | {mb - start:+.0f} | {kept} | {secs:.0f} |")
    base = rss_mb()
    print("\n## closure churn: a new jitted closure per call, dropped after it")
    print("| closures | RSS (MB) | growth since part 2 started (MB) |")
    print("|---:|---:|---:|")
    for k, mb in closure_churn(args.closures, max(args.closures // 10, 1), args.backend):
        print(f"| {k} | {mb:.0f} | {mb - base:+.0f} |")
    base = rss_mb()
    print("\n## the floor: the same closure churn in plain numba.njit")
    print("| functions | RSS (MB) | growth since part 3 started (MB) |")
    print("|---:|---:|---:|")
    for k, mb in numba_floor(args.closures, max(args.closures // 10, 1)):
        print(f"| {k} | {mb:.0f} | {mb - base:+.0f} |")


if __name__ == "__main__":
    main()
