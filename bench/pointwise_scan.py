"""Scans whose body updates each point of the state from that point only
(codegen/cpu/pointwise.py): looptrace run point by point (blocks of points,
each through all the steps), the same kernel written step by step
(LOOPTRACE_NO_POINTWISE=1: every step streams the whole state), the plain
NumPy function, and numba.njit of the plain function (one process,
interleaved medians, `_timing.compare`). Compile times are reported apart.

Workloads:
  quadratic   z = z*z*0.5 + c over 10^6 points, 100 steps
  mandelbrot  live = |z| <= 2; z = where(live, z*z + c, z); n += live over
              10^6 complex points, 50 steps (the counts and the last z)

The three programs are also the tests' (tests/codegen/test_cpu_pointwise_scan.py,
tests/codegen/cuda/test_cuda_points.py).
  paths       x += dt*(-x**3 + sin(0.1 t)*drift) + 0.3*noise[t], 2000 x 256 paths, 200 steps, history kept
  xyz         the quadratic map over a (10^5, 3) state, 100 steps (a short last axis)

    python bench/pointwise_scan.py [--repeats 7] [--quick]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import compare

os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp())  # cold compiles
import looptrace  # noqa: E402


def quadratic(c):
    z = np.zeros_like(c)
    for _ in range(100):
        z = z * z * 0.5 + c
    return z


def mandelbrot(c):
    z = np.zeros_like(c)
    n = np.zeros(c.shape, np.int64)
    for _ in range(50):
        live = np.abs(z) <= 2.0
        z = np.where(live, z * z + c, z)
        n += live
    return n, z


def paths(x0, noise, dt, drift):
    x = x0.copy()
    hist = np.empty(noise.shape)
    for t in range(noise.shape[0]):
        x = x + dt * (-x ** 3 + np.sin(0.1 * t) * drift) + 0.3 * noise[t]
        hist[t] = x
    return x, hist


def xyz(x0, c):
    """The quadratic map over a (N, 3) state: a short last axis (SHORT_AXIS)."""
    x = x0.copy()
    for _ in range(100):
        x = x * x * 0.5 + c
    return x


def _workloads(rng, quick: bool):
    n = 10 ** 5 if quick else 10 ** 6
    c = rng.uniform(-0.4, 0.4, n)
    cz = rng.uniform(-2, 0.6, n) + 1j * rng.uniform(-1.2, 1.2, n)
    p = (2000, 256) if not quick else (200, 256)
    x0, noise, drift = rng.normal(size=p), rng.normal(size=(200, *p)), rng.normal(size=p[1])
    c3 = rng.uniform(-0.4, 0.4, (n // 10, 3))
    return {"quadratic": (quadratic, (c,)), "mandelbrot": (mandelbrot, (cz,)),
            "paths": (paths, (x0, noise, 0.01, drift)), "xyz": (xyz, (np.zeros_like(c3), c3))}


def _compiled(fn, args, off: bool):
    """A fresh jit of fn (step by step with `off`), called once; (jit, seconds of that first call)."""
    if off:
        os.environ["LOOPTRACE_NO_POINTWISE"] = "1"
    try:
        f = looptrace.jit(fn, backend="cpu")
        t = time.perf_counter()
        f(*args)
        return f, time.perf_counter() - t
    finally:
        os.environ.pop("LOOPTRACE_NO_POINTWISE", None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    import numba

    rng = np.random.default_rng(0)
    looptrace.jit(lambda x: np.sin(x) + 1.0, backend="cpu")(np.ones(3))  # Numba's own start-up, not counted
    print(f"{'workload':<11} {'case':<14} {'median ms':>10} {'vs numpy':>9} {'compile s':>10}")
    for name, (fn, args) in _workloads(rng, a.quick).items():
        on, c_on = _compiled(fn, args, False)
        off, c_off = _compiled(fn, args, True)
        nb = numba.njit(fn)
        t = time.perf_counter()
        nb(*args)
        c_nb = time.perf_counter() - t
        want = fn(*args)
        for f in (on, off, nb):  # every case gives the plain function's values
            got = f(*args)
            for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
                # 1e-6: Mandelbrot's z after 50 steps near the set's boundary amplifies the last bit by
                # which Numba's complex product differs from NumPy's (tests compare it bit for bit
                # with the step-by-step kernel)
                np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-9)
        times = compare({"point by point": lambda: on(*args), "step by step": lambda: off(*args),
                         "numpy": lambda: fn(*args), "numba.njit": lambda: nb(*args)}, repeats=a.repeats, warmup=1)
        compile_s = {"point by point": c_on, "step by step": c_off, "numba.njit": c_nb}
        for case, s in times.items():
            c = f"{compile_s[case]:.2f}" if case in compile_s else ""
            print(f"{name:<11} {case:<14} {s * 1e3:>10.2f} {times['numpy'] / s:>8.2f}x {c:>10}")


if __name__ == "__main__":
    main()
