"""float32 sin/cos/pow and float64 pow: NumPy against looptrace and mathlib.

Issue 11 (wrapping vectorized NumPy in @lt.jit must never make it slower).
For each function, 1M elements, one process, round-robin medians
(bench/_timing.compare): NumPy's ufunc, looptrace's cpu kernel (one thread,
parallel=False, and the default), and the mathlib function in a bare Numba
loop (what LLVM makes of the function alone). Ratios are NumPy's time over
the case's (above 1: faster than NumPy).

    python bench/mathlib_speed.py [--repeats 9] [--n 1000000] [--only sin32,pow64]
    python bench/mathlib_speed.py --before /tmp/mathlib_head.py  # also the bare loops of another
                                                                 # mathlib.py (git show HEAD:...)
    python bench/mathlib_speed.py --asm         # vector widths of the bare loops
    python bench/mathlib_speed.py --exhaustive  # every float32 through sin_f32/cos_f32

--exhaustive checks sin_f32 and cos_f32 on all 2**32 float32 inputs against
NumPy's float64 sin/cos (in chunks; a few minutes on 2 cores) and prints the
largest error in float32 ulps and how many are not the float64 result
rounded.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import looptrace as lt  # noqa: E402
from looptrace.codegen.cpu import mathlib  # noqa: E402
from _timing import compare  # noqa: E402


def _sin(x):
    return np.sin(x)


def _cos(x):
    return np.cos(x)


def _pow(x, y):
    return np.power(x, y)


def _pow_const(x):
    return x ** 0.45


_LOOPS: dict = {}


def _loop(f, nargs: int):
    """A Numba loop applying f (a free variable, so that Numba inlines it as in a kernel; passed
    as an argument it stays a call), with 512-bit vectors as looptrace's kernels."""
    if (f, nargs) not in _LOOPS:
        if nargs == 1:
            def loop(x, y, out):
                mathlib.wide_vectors()
                for i in range(x.shape[0]):
                    out[i] = f(x[i])
        else:
            def loop(x, y, out):
                mathlib.wide_vectors()
                for i in range(x.shape[0]):
                    out[i] = f(x[i], y[i])
        _LOOPS[f, nargs] = numba.njit(error_model="numpy", boundscheck=False)(loop)
    return _LOOPS[f, nargs]


def _load_before(path: str):
    """Another version of mathlib.py (say `git show HEAD:looptrace/codegen/cpu/mathlib.py`), loaded
    under its own name, so that its bare loops are timed in this process beside the current ones."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mathlib_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["mathlib_before"] = module  # (its cache hardening looks itself up there)
    spec.loader.exec_module(module)
    return module


def _cases(n: int):
    rng = np.random.default_rng(0)
    x32 = rng.uniform(-10.0, 10.0, n).astype(np.float32)
    px32 = rng.uniform(0.1, 10.0, n).astype(np.float32)
    py32 = rng.uniform(-3.0, 3.0, n).astype(np.float32)
    px64 = rng.uniform(0.1, 10.0, n)
    py64 = rng.uniform(-3.0, 3.0, n)
    return {
        "sin32": (_sin, (x32,), mathlib.sin_f32),
        "cos32": (_cos, (x32,), mathlib.cos_f32),
        "pow32": (_pow, (px32, py32), mathlib.pow_f32),
        "powc32": (_pow_const, (px32,), None),
        "pow64": (_pow, (px64, py64), mathlib.pow_f64),
    }


def _bare(fn, args):
    out = np.empty_like(args[0])
    loop = _loop(fn, len(args))
    return lambda: loop(args[0], args[-1], out)


def bench(n: int, repeats: int, only: list[str] | None, before=None) -> None:
    print(f"n={n}, repeats={repeats}, numba {numba.__version__}, numpy {np.__version__}")
    print(f"{'case':8} {'numpy':>9} {'lt 1thr':>9} {'lt dflt':>9} {'bare':>9} {'before':>9}   "
          "ratios numpy/x (lt 1thr, lt dflt, bare, bare before)")
    for name, (fn, args, helper) in _cases(n).items():
        if only and name not in only:
            continue
        one = lt.jit(fn, backend="cpu", parallel=False)
        dflt = lt.jit(fn, backend="cpu")
        want = fn(*args)
        for f in (one, dflt):
            got = f(*args)
            assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
        cases = {"numpy": lambda: fn(*args), "lt1": lambda: one(*args), "ltd": lambda: dflt(*args)}
        if helper is not None:
            cases["bare"] = _bare(helper, args)
            if before is not None:
                cases["before"] = _bare(getattr(before, helper.__name__), args)
        med = compare(cases, repeats=repeats, warmup=2)
        base = med["numpy"]
        cols = [med.get(k) for k in ("numpy", "lt1", "ltd", "bare", "before")]
        text = " ".join(f"{c * 1e3:8.3f}m" if c else f"{'-':>9}" for c in cols)
        ratios = ", ".join(f"{base / c:.2f}" if c else "-" for c in cols[1:])
        print(f"{name:8} {text}   {ratios}", flush=True)


def asm() -> None:
    for name, (fn, args, helper) in _cases(4096).items():
        if helper is None:
            continue
        _bare(helper, args)()
        loop = _loop(helper, len(args))
        text = loop.inspect_asm(loop.signatures[0])
        zmm = len(re.findall(r"%zmm", text))
        ymm = len(re.findall(r"%ymm", text))
        vdiv = len(re.findall(r"vdivp[sd]", text))
        cvt = len(re.findall(r"vcvt\w+", text))
        print(f"{name:6}: zmm refs {zmm}, ymm refs {ymm}, packed divides {vdiv}, conversions {cvt}, "
              f"lines {text.count(chr(10))}")


def exhaustive(only: list[str] | None) -> None:
    total = 1 << 32
    chunk = 1 << 24
    for name, ref in (("sin_f32", np.sin), ("cos_f32", np.cos)):
        if only and name[:3] not in only:
            continue
        fn = getattr(mathlib, name)
        worst, off = 0.0, 0
        out = np.empty(chunk, np.float32)
        for start in range(0, total, chunk):
            x = np.arange(start, start + chunk, dtype=np.uint64).astype(np.uint32).view(np.float32)
            _loop(fn, 1)(x, x, out)
            with np.errstate(all="ignore"):
                want = ref(x.astype(np.float64))
                r32 = want.astype(np.float32)
                bad = ~((out == r32) | (np.isnan(out) & np.isnan(r32)))
                if bad.any():
                    d = np.abs(out[bad].astype(np.float64) - want[bad])
                    d /= np.spacing(np.abs(r32[bad])).astype(np.float64)
                    worst = max(worst, float(np.nanmax(d)) if d.size else 0.0)
                    off += int(bad.sum())
                    if np.isnan(d).any():
                        print(f"{name}: NaN mismatch near {x[bad][np.isnan(d)][:4]}")
        print(f"{name}: max {worst:.4f} ulp of float32 from the float64 result; {off} of 2**32 not it rounded",
              flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--only", default="")
    ap.add_argument("--asm", action="store_true")
    ap.add_argument("--exhaustive", action="store_true")
    ap.add_argument("--before", default="", help="another mathlib.py whose bare loops to time too")
    a = ap.parse_args()
    if a.asm:
        asm()
    elif a.exhaustive:
        exhaustive([s for s in a.only.split(",") if s] or None)
    else:
        bench(a.n, a.repeats, [s for s in a.only.split(",") if s] or None,
              _load_before(a.before) if a.before else None)


if __name__ == "__main__":
    main()
