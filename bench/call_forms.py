"""What a warm call costs in the ways people call a small jitted function:
by position, with keywords, relying on defaults, reading a module's array,
writing into an argument, and 10^5-element single ufuncs. For each form, in
one process and interleaved (bench/_timing.compare's balanced order), the
median time of the plain function, looptrace (cpu) and numba.njit of the
same function, and the ratios. Small arrays (100 elements) unless said, so
that what is measured is mostly the call.

    python bench/call_forms.py [--repeats 2000]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

W = np.random.default_rng(1).random(100)


def shifted(x, a=0.5, n=3):
    return x * a + n


def with_global(x):
    return x * W + 1.0


def in_place(x, out):
    for i in range(x.shape[0]):
        out[i] = x[i] * 2.0 + out[i]


def add(a, b):
    return a + b


def square(a, b):
    return a ** 2


def forms(rng):
    x, o = rng.random(100), rng.random(100)
    a32, b32 = (rng.uniform(1.0, 2.0, 100_000).astype(np.float32) for _ in range(2))
    a64, b64 = (rng.uniform(1.0, 2.0, 100_000) for _ in range(2))
    return [
        ("by position", shifted, (x, 0.5, 3), {}),
        ("keywords", shifted, (x,), {"a": 0.25, "n": 3}),
        ("defaults", shifted, (x,), {}),
        ("a module's array", with_global, (x,), {}),
        ("in place", in_place, (x, o), {}),
        ("10^5 float32 a + b", add, (a32, b32), {}),
        ("10^5 float64 a + b", add, (a64, b64), {}),
        ("10^5 float32 a ** 2", square, (a32, b32), {}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2000)
    opts = parser.parse_args()
    import time

    import numba

    import looptrace

    rng = np.random.default_rng(0)
    print("| call | plain | looptrace | numba.njit | plain / looptrace | njit / looptrace |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, fn, args, kwargs in forms(rng):
        cases = {"plain": fn, "looptrace": looptrace.jit(fn, backend="cpu"), "numba": numba.njit(fn)}
        for f in cases.values():
            for _ in range(3):
                f(*args, **kwargs)
        times: dict[str, list[float]] = {k: [] for k in cases}
        order = list(cases.items())
        for r in range(opts.repeats):
            for name, f in (order if r % 2 else order[::-1]):
                t = time.perf_counter()
                f(*args, **kwargs)
                times[name].append(time.perf_counter() - t)
        med = {k: float(np.median(v)) * 1e6 for k, v in times.items()}
        print(f"| {label} | {med['plain']:.2f} us | {med['looptrace']:.2f} us | {med['numba']:.2f} us | "
              f"{med['plain'] / med['looptrace']:.2f}x | {med['numba'] / med['looptrace']:.2f}x |")


if __name__ == "__main__":
    main()
