"""Check mathlib's float32 exp, log, tanh, asin and acos over every float32 input.

Each result is compared with NumPy's float64 function of the same input
rounded to float32; prints, per function, the largest distance in ulps (0
for matching NaNs), the input where it occurs, and how many inputs are 0, 1
and 2 or more ulps away. About 2 minutes per function on one core.

    python tools/check_float32_math.py [exp] [log] [tanh] [asin] [acos]

(asin_f32 and acos_f32, December 2026: 0 ulp from the float64 result rounded
for every input; NumPy's own float32 arcsin/arccos: up to 3 ulp.)
"""
from __future__ import annotations

import sys
import time

import numba
import numpy as np

from looptrace.codegen.cpu import mathlib


_NUMPY_NAMES = {"asin": "arcsin", "acos": "arccos"}


def _ordered(a: np.ndarray) -> np.ndarray:
    ints = a.view(np.int32).astype(np.int64)
    return np.where(ints < 0, -(ints & (2**31 - 1)), ints)


def _ulps(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    d = np.abs(_ordered(got) - _ordered(ref)).astype(np.float64)
    d[np.isnan(got) & np.isnan(ref)] = 0
    d[np.isnan(got) != np.isnan(ref)] = np.inf
    return d


def _applier(fn):
    @numba.njit(error_model="numpy", boundscheck=False)
    def apply(x, out):
        for i in range(x.shape[0]):
            out[i] = fn(x[i])

    return apply


def check(name: str, chunk: int = 1 << 26) -> None:
    apply, ref_fn = _applier(getattr(mathlib, f"{name}_f32")), getattr(np, _NUMPY_NAMES.get(name, name))
    worst, where, counts = 0.0, None, np.zeros(3, dtype=np.int64)
    start = time.perf_counter()
    for lo in range(0, 1 << 32, chunk):
        x = np.arange(lo, lo + chunk, dtype=np.uint64).astype(np.uint32).view(np.float32)
        out = np.empty_like(x)
        apply(x, out)
        with np.errstate(all="ignore"):
            ref = ref_fn(x.astype(np.float64)).astype(np.float32)
        d = _ulps(out, ref)
        counts += [np.sum(d == 0), np.sum(d == 1), np.sum(d >= 2)]
        i = int(np.argmax(d))
        if d[i] > worst:
            worst, where = d[i], (x[i], out[i], ref[i])
    print(f"{name}_f32: max {worst:g} ulp at {where}; inputs 0/1/>=2 ulp away: {counts.tolist()} "
          f"({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    for name in sys.argv[1:] or ["exp", "log", "tanh"]:
        check(name)
