"""NumPy's transcendental ufuncs against the same call under @looptrace.jit
(cpu backend, default threading), one process, interleaved, medians.

    python bench/ufunc_speed.py [--n 1000000] [--repeats 9] [--dtypes float64,float32] [--serial]
                                [--lo 0.05 --hi 0.95] [name ...]

Prints, per dtype and function, NumPy's and looptrace's median times and the
ratio NumPy / looptrace (above 1: looptrace faster). Inputs are uniform in
[--lo, --hi], by default [0.05, 0.95] (inside every function's domain; arccosh
takes 1 + x). --serial: looptrace on one thread (parallel=False) and both timed
in the calling thread's CPU time (time.thread_time), which other processes'
load does not inflate: the comparison to use on a shared machine, where a
2-thread kernel waits for its slower thread.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import looptrace as lt

FUNCTIONS = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
    "arctan2": lambda x: np.arctan2(x, 1.0 - x), "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "arcsinh": np.arcsinh, "arccosh": lambda x: np.arccosh(1 + x), "arctanh": np.arctanh,
    "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2, "log10": np.log10,
    "log1p": np.log1p, "sqrt": np.sqrt, "cbrt": np.cbrt, "pow1.7": lambda x: x ** 1.7,
    "hypot": lambda x: np.hypot(x, 2 * x),
}


def _median_ms(fn, x, repeats: int, other, other_times: list, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        t = clock(); fn(x); times.append(clock() - t)
        t = clock(); other(x); other_times.append(clock() - t)
    return float(np.median(times)) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--serial", action="store_true", help="one thread, thread CPU time")
    ap.add_argument("--lo", type=float, default=0.05)
    ap.add_argument("--hi", type=float, default=0.95)
    a = ap.parse_args()
    clock = time.thread_time if a.serial else time.perf_counter
    for dt in a.dtypes.split(","):
        x = (np.random.default_rng(0).random(a.n) * (a.hi - a.lo) + a.lo).astype(dt)
        for name in a.names or FUNCTIONS:
            plain = FUNCTIONS[name]
            jitted = lt.jit(lambda x, plain=plain: plain(x), backend="cpu", **({"parallel": False} if a.serial else {}))
            jitted(x)
            plain(x)
            lt_times: list = []
            np_ms = _median_ms(plain, x, a.repeats, jitted, lt_times, clock)
            lt_ms = float(np.median(lt_times)) * 1e3
            print(f"{dt:8s} {name:8s} numpy {np_ms:8.3f} ms  looptrace {lt_ms:8.3f} ms  ratio {np_ms / lt_ms:5.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
