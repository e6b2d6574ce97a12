"""A Python list of numbers as an argument: unrolled while tracing (before)
against passed as one array and traced once (after, pytree.number_list).
One process, the two paths alternating; cold compile (a fresh kernel cache
and a new jit object each time) and warm call medians, with the plain
function beside them.

    python bench/list_arguments_s55.py [--backend cpu] [--sizes 100,1000,10000] [--before-max 100] [--repeats 5]

"before" sets pytree.NUMBER_LIST_FROM past every size: each number is an
argument of its own and every loop over the list is unrolled (issue 11: 10000
numbers did not finish a cpu compile in 6 minutes), so it runs only up to
--before-max numbers. Reports seconds and after/before ratios (below 1:
faster); the load (`uptime`) belongs beside any number quoted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings

os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp(prefix="lt_list_args_"))

import numpy as np  # noqa: E402

import looptrace as lt  # noqa: E402
from looptrace import pytree  # noqa: E402


def squares(xs):
    s = 0.0
    for v in xs:
        s += v * v
    return s


def weighted(xs, w):
    acc = 0.0
    for i in range(len(xs)):
        acc += xs[i] * w[i]
    return acc


def enumerated(xs, w):
    best, at = xs[0], 0
    for i, v in enumerate(xs):
        if v * w[i] > best:
            best, at = v * w[i], i
    return best, at


KERNELS = {"squares": squares, "weighted": weighted, "enumerated": enumerated}


def _args(name: str, n: int) -> tuple:
    rng = np.random.default_rng(n)
    xs = [float(v) for v in rng.standard_normal(n)]
    return (xs,) if name == "squares" else (xs, rng.standard_normal(n))


def _with_path(before: bool):
    pytree.NUMBER_LIST_FROM = 1 << 62 if before else _AFTER


_AFTER = pytree.NUMBER_LIST_FROM


def cold(name: str, n: int, backend: str, before: bool) -> float:
    """Seconds of the first call of a new jit object (trace, compile, run);
    NaN where that path refuses the kernel (before: a list read at a traced
    index past the 64 iterations a loop is unrolled for)."""
    try:
        return _cold(name, n, backend, before)
    except lt.errors.LooptraceError as e:
        print(f"  ({name} {n} {'before' if before else 'after'}: {type(e).__name__})")
        return float("nan")


def _cold(name: str, n: int, backend: str, before: bool) -> float:
    _with_path(before)
    os.environ["LOOPTRACE_CACHE_DIR"] = tempfile.mkdtemp(prefix="lt_list_args_")
    fn, args = KERNELS[name], _args(name, n)
    jf = lt.jit(fn, backend=backend)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the unrolled path warns past 100 iterations)
        got = jf(*args)
    dt = time.perf_counter() - t
    want = fn(*args)
    assert type(got) is type(want) and np.allclose(got, want, rtol=1e-9), (name, n, got, want)
    return dt


def warm(name: str, n: int, backend: str, before: bool, calls: int = 20) -> float:
    """Median seconds of a call after the first."""
    _with_path(before)
    fn, args = KERNELS[name], _args(name, n)
    jf = lt.jit(fn, backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jf(*args)
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        jf(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def plain(name: str, n: int, calls: int = 20) -> float:
    fn, args = KERNELS[name], _args(name, n)
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--before-max", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    names = a.only.split(",") if a.only else list(KERNELS)
    print(f"load: {os.getloadavg()}  backend: {a.backend}")
    cold("squares", 70, a.backend, False)  # (Numba's own start-up, paid once)
    print(f"{'kernel':11s} {'n':>6s}  {'cold before':>11s} {'cold after':>10s} {'ratio':>6s}   "
          f"{'warm before':>11s} {'warm after':>10s} {'plain':>9s}")
    for name in names:
        for n in sizes:
            runs_before = n <= a.before_max
            cb, ca = [], []
            for _ in range(a.repeats):  # alternating
                if runs_before:
                    cb.append(cold(name, n, a.backend, True))
                ca.append(cold(name, n, a.backend, False))
            runs_before = runs_before and not all(np.isnan(cb))
            wb = warm(name, n, a.backend, True) if runs_before else float("nan")
            wa = warm(name, n, a.backend, False)
            cbm = statistics.median(cb) if cb else float("nan")
            cam = statistics.median(ca)
            print(f"{name:11s} {n:6d}  {cbm:10.3f}s {cam:9.3f}s {cam / cbm:6.3f}   "
                  f"{wb * 1e6:9.1f}us {wa * 1e6:8.1f}us {plain(name, n) * 1e6:7.1f}us", flush=True)
    _with_path(False)


if __name__ == "__main__":
    main()
