"""Beyond the anchors (issue 3): each rewrite of looptrace/vectorize/linear.py
on and off, on the interpret and cpu backends, at several trip counts.

Workloads:
  scalar      h = a[t] * h + b[t], the final h returned (T steps)
  ema16       h = 0.9 * h + 0.1 * x[t] on 16 channels, every h stacked (T steps)
  ema256      the same on 256 channels (wide enough for a prange over channels)
  matpow50    P = P @ A, 50 x 50, A row-stochastic (looptrace.examples.matrix_power;
              n is read at run time)
"off" compiles with LOOPTRACE_NO_PREFIX_SCAN=1 (the linear recurrences) or
LOOPTRACE_NO_REPEATED_SQUARING=1 (the product chain): the loop stays the
sequential scan the vectorizer leaves. Times are interleaved medians
(`_timing.compare`); a case slower than --slow seconds per call is timed
once. "err" is the largest |on - plain| / max|plain| against the undecorated
function (the sequential loop in NumPy).

    python bench/vectorize_beyond.py [--repeats 7] [--quick] [--slow 2]
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import compare

import looptrace
from looptrace.examples import matrix_power


def scalar(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
    return h


def ema16(x, h0):
    h = h0
    Y = np.empty_like(x)
    for t in range(x.shape[0]):
        h = 0.9 * h + 0.1 * x[t]
        Y[t] = h
    return Y


def _scalar_args(rng, T):
    return rng.uniform(-1, 1, T), rng.standard_normal(T), 0.5


def _ema_args(rng, T):
    return rng.standard_normal((T, 16)), rng.standard_normal(16)


def _ema256_args(rng, T):
    return rng.standard_normal((T, 256)), rng.standard_normal(256)


def _matpow_args(rng, n):
    A = rng.random((50, 50))
    return A / A.sum(axis=1, keepdims=True), n


WORKLOADS = {
    "scalar": (scalar, _scalar_args, "LOOPTRACE_NO_PREFIX_SCAN", [10**3, 10**5, 10**6]),
    "ema16": (ema16, _ema_args, "LOOPTRACE_NO_PREFIX_SCAN", [10**3, 10**5, 10**6]),
    "ema256": (ema16, _ema256_args, "LOOPTRACE_NO_PREFIX_SCAN", [10**3, 10**4, 10**5]),
    "matpow50": (matrix_power, _matpow_args, "LOOPTRACE_NO_REPEATED_SQUARING", [10, 1000, 10**6]),
}


def compiled(fn, args, backend: str, off_var: str | None):
    """A jitted function traced (on its first call) with one rewrite off, or all on."""
    jf = looptrace.jit(fn, backend=backend)
    if off_var:
        os.environ[off_var] = "1"
    try:
        jf(*args)
    finally:
        if off_var:
            os.environ.pop(off_var, None)
    return jf


def rel_err(got, want) -> float:
    got, want = np.asarray(got), np.asarray(want)
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-300))


def timed(cases: dict, repeats: int, slow: float) -> dict[str, float]:
    """Medians; a case slower than `slow` seconds is timed once."""
    single = {}
    for name, fn in cases.items():
        start = time.perf_counter()
        fn()
        single[name] = time.perf_counter() - start
    fast = {k: f for k, f in cases.items() if single[k] < slow}
    medians = compare(fast, repeats=repeats, warmup=0) if fast else {}
    return {k: medians.get(k, single[k]) for k in cases}


def run(name: str, size: int, backend: str, repeats: int, slow: float) -> dict:
    fn, make, off_var, _ = WORKLOADS[name]
    args = make(np.random.default_rng(0), size)
    on, off = compiled(fn, args, backend, None), compiled(fn, args, backend, off_var)
    t = timed({"on": lambda: on(*args), "off": lambda: off(*args)}, repeats, slow)
    return {"on": t["on"], "off": t["off"], "err": rel_err(on(*args), fn(*args))}


def fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--slow", type=float, default=2.0, help="time cases slower than this once")
    parser.add_argument("--quick", action="store_true", help="skip the largest size of each workload")
    parser.add_argument("--backends", default="interpret,cpu")
    opts = parser.parse_args()
    print("| workload | size | backend | rewrite on | rewrite off | off / on | max rel. error vs plain |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, (_, _, _, sizes) in WORKLOADS.items():
        for size in sizes[:-1] if opts.quick else sizes:
            for backend in opts.backends.split(","):
                r = run(name, size, backend, opts.repeats, opts.slow)
                print(f"| {name} | {size:.0e} | {backend} | {fmt(r['on'])} | {fmt(r['off'])} | "
                      f"{r['off'] / r['on']:.3g}x | {r['err']:.1e} |", flush=True)


if __name__ == "__main__":
    main()
