"""Check mathlib's float64 pow, asin and acos against NumPy and libm (glibc's
pow is correctly rounded but for rare cases) over millions of random points.

Prints, per function and input range, the largest distance in ulps from
NumPy's result and from libm's, the fraction of results 1 ulp or more from
libm's, and the worst input. About 20 s per function on one core.

    python tools/check_float64_math.py [pow] [asin] [acos] [-n POINTS]

(December 2026, 2M points per range: pow_f64, asin_f64 and acos_f64 all at
most 1 ulp from NumPy's and from glibc's; pow 0.2% of results one ulp from
glibc's, NumPy's own (SVML) 5%.)
"""
from __future__ import annotations

import math
import sys

import numba
import numpy as np

from looptrace.codegen.cpu import mathlib


def _ordered(a: np.ndarray) -> np.ndarray:
    ints = a.view(np.int64)
    return np.where(ints < 0, -(ints & (2**63 - 1)), ints)


def _ulps(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    d = np.abs(_ordered(got) - _ordered(ref)).astype(np.float64)
    d[np.isnan(got) & np.isnan(ref)] = 0
    d[np.isnan(got) != np.isnan(ref)] = np.inf
    return d


@numba.njit(error_model="numpy")
def _pow_loops(x, y, ours, libm):
    for i in range(x.shape[0]):
        ours[i] = mathlib.pow_f64(x[i], y[i])
        libm[i] = math.pow(x[i], y[i])


@numba.njit(error_model="numpy")
def _asin_loops(x, ours, libm):
    for i in range(x.shape[0]):
        ours[i] = mathlib.asin_f64(x[i])
        libm[i] = math.asin(x[i])


@numba.njit(error_model="numpy")
def _acos_loops(x, ours, libm):
    for i in range(x.shape[0]):
        ours[i] = mathlib.acos_f64(x[i])
        libm[i] = math.acos(x[i])


def _pow_ranges(r, n):
    x = np.exp(r.uniform(-700, 700, n))
    yield "x in [0, 4), y ~ 10 N(0, 1)", r.random(n) * 4, r.standard_normal(n) * 10
    yield "x over the exponent range, |y| < 1", x, r.uniform(-1, 1, n)
    yield "results from 1e-323 to 1e308", x, r.uniform(-745, 709.7, n) / np.log(x)
    yield "x near 1, |y| ~ 1e9", 1 + r.standard_normal(n) * 1e-8, r.standard_normal(n) * 1e9
    yield "negative x, integer y", -r.random(n) * 10, np.round(r.standard_normal(n) * 20)
    yield "subnormal x", 10.0 ** r.uniform(-323, -300, n), r.uniform(0.5, 1.1, n)


def _unit_ranges(r, n):
    yield "uniform [-1, 1]", r.uniform(-1, 1, n)
    yield "near +-1", (1 - 10.0 ** r.uniform(-17, -1, n)) * r.choice([-1, 1], n)
    yield "near +-1/2", (0.5 + r.standard_normal(n) * 1e-3) * r.choice([-1, 1], n)
    yield "tiny", 10.0 ** r.uniform(-320, -1, n) * r.choice([-1, 1], n)


def _report(name, label, ours, libm, numpy_result, where):
    dn, dl = _ulps(ours, numpy_result), _ulps(ours, libm)
    i = int(np.argmax(dl))
    print(f"{name} {label}: max {dn.max():g} ulp from NumPy, {dl.max():g} from libm "
          f"({np.mean(dl >= 1):.2e} >= 1); worst {where(i)}", flush=True)


def check(name: str, n: int) -> None:
    r = np.random.default_rng(2026)
    with np.errstate(all="ignore"):
        if name == "pow":
            for label, x, y in _pow_ranges(r, n):
                ours, libm = np.empty_like(x), np.empty_like(x)
                _pow_loops(x, y, ours, libm)
                _report(name, label, ours, libm, np.power(x, y), lambda i: (x[i], y[i]))
            return
        loops, ufunc = {"asin": (_asin_loops, np.arcsin), "acos": (_acos_loops, np.arccos)}[name]
        for label, x in _unit_ranges(r, n):
            ours, libm = np.empty_like(x), np.empty_like(x)
            loops(x, ours, libm)
            _report(name, label, ours, libm, ufunc(x), lambda i: x[i])


if __name__ == "__main__":
    args = sys.argv[1:]
    points = 2_000_000
    if "-n" in args:
        k = args.index("-n")
        points = int(args[k + 1])
        del args[k:k + 2]
    for fn in args or ["pow", "asin", "acos"]:
        check(fn, points)
