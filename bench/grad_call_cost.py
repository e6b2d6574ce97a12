"""What a warm gradient call costs beside the jitted call and the plain one.

An optimization loop calls `looptrace.grad(loss)` thousands of times, often
on small arrays, so the call path matters as much as the kernel. In one
process, interleaved rounds, medians of per-call times (us) over batches of
calls back to back:
  - plain: the undecorated function (NumPy);
  - jit: `looptrace.jit(f)`;
  - grad / value_and_grad / vjp pullback of the same function;
  - cases: a small map-reduce, a logistic loss with (w, X, y), argnums=(0, 1),
    a function reading a global array, a dict argument.

    python bench/grad_call_cost.py [--rounds 9] [--calls 2000]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import looptrace as lt

rng = np.random.default_rng(0)
X, Y = rng.standard_normal((32, 4)), (rng.random(32) > 0.5).astype(np.float64)
G = rng.standard_normal(10)


def tanh_sq(x):
    return np.sum(np.tanh(x) ** 2)


def logistic(w, X, y):
    z = X @ w
    return np.sum(np.logaddexp(0.0, z) - y * z)


def two_args(x, s):
    return np.sum(x * s + np.sin(x))


def reads_global(x):
    return np.sum((x - G) ** 2)


def dict_arg(p):
    return np.sum(p["a"] ** 2) + np.sum(p["b"])


x10 = rng.standard_normal(10)
CASES = {
    "tanh_sq": (tanh_sq, (x10,), 0),
    "logistic": (logistic, (rng.standard_normal(4), X, Y), 0),
    "argnums01": (two_args, (x10, rng.standard_normal(10)), (0, 1)),
    "global": (reads_global, (x10,), 0),
    "dict": (dict_arg, ({"a": x10, "b": rng.standard_normal(3)},), 0),
}


def per_call(fn, args, calls: int) -> float:
    t = time.perf_counter()
    for _ in range(calls):
        fn(*args)
    return (time.perf_counter() - t) / calls * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--calls", type=int, default=2000)
    a = ap.parse_args()
    for name, (f, args, argnums) in CASES.items():
        _, pullback = lt.vjp(f, *args)
        runs = {"plain": f, "jit": lt.jit(f), "grad": lt.grad(f, argnums=argnums),
                "value_and_grad": lt.value_and_grad(f, argnums=argnums)}
        for fn in runs.values():
            fn(*args)
        pull_args = (np.float64(1.0),)
        pullback(*pull_args)
        times: dict[str, list[float]] = {k: [] for k in [*runs, "vjp_pullback"]}
        for _ in range(a.rounds):
            for k, fn in runs.items():
                times[k].append(per_call(fn, args, a.calls))
            times["vjp_pullback"].append(per_call(pullback, pull_args, a.calls))
        print(f"{name:10s} " + "  ".join(f"{k} {statistics.median(v):7.2f} us" for k, v in times.items()), flush=True)


if __name__ == "__main__":
    main()
