"""Corpus kernels hand-written numba.njit beat (helper K3, s54): a rule off
(old) and on (new), side by side with njit, in one process.

where_one_arg: a returned np.nonzero(c)[k] picked from the mask after the run
by NumPy's nonzero (tracer/trace.py `_positions_axis`); old = the rule off at
trace time (the kernel stores an int64 index array, compacted by the mask
after the run).

histogram_numpy: np.histogram's bin index in int32 (tracer/np_stats.py
`_bin_dtype`), whose conversions from and to float64 vectorize on AVX2, and
a smaller index array for the scatter to read; old = int64 as before.

CPU time (time.process_time: wall time lies on a loaded machine) and wall
time, the kernels' calls interleaved round-robin (bench/_timing.compare),
medians; ratios only within one run. Say the load (`uptime`) with the
numbers. usage: python bench/corpus_losses_s54.py [--repeats 20] [--only a,b]
"""
import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import looptrace as lt  # noqa: E402
from bench import _timing as T  # noqa: E402
from bench.corpus import all_kernels  # noqa: E402
from looptrace.tracer import np_stats as ST  # noqa: E402
from looptrace.tracer import trace as TR  # noqa: E402


def _cpu_time(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def _wall_time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _positions_off():
    """A returned np.nonzero(c)[k] picked from its stored index array, as before."""
    keep = TR._positions_axis
    TR._positions_axis = lambda sel: None
    return lambda: setattr(TR, "_positions_axis", keep)


def _int64_bins():
    """np.histogram's bin index computed and stored as int64, as before."""
    keep = ST._bin_dtype
    ST._bin_dtype = lambda nb: np.dtype(np.int64)
    return lambda: setattr(ST, "_bin_dtype", keep)


# (the corpus kernels whose traced program the rules change, all 510 traced with each rule off
# and on: these four alone)
CASES = (("where_one_arg", _positions_off), ("histogram_numpy", _int64_bins),
         ("histogram_digitize", _int64_bins), ("histogram_edges", _int64_bins))


def _compiled(fn, args, off=None):
    restore = off() if off else None
    try:
        j = lt.jit(lambda *a: fn(*a), backend="cpu")  # (a new function: its own kernel)
        j(*args)
        return j
    finally:
        if restore:
            restore()


def _parts(r):
    return r if isinstance(r, tuple) else (r,)


def _check(new, old, nj, args, ref):
    """Every compiled version gives the plain function's values (floats within
    1e-12, reassociated sums; the rest exact); old and new the same bits."""
    for f in (new, old, nj):
        for got, want in zip(_parts(f(*args)), _parts(ref)):
            if np.asarray(want).dtype.kind in "fc":
                np.testing.assert_allclose(got, want, rtol=1e-12)
            else:
                np.testing.assert_array_equal(got, want)
    for a, b in zip(_parts(new(*args)), _parts(old(*args))):
        assert np.asarray(a).dtype == np.asarray(b).dtype and np.asarray(a).tobytes() == np.asarray(b).tobytes()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--only", default="")
    opts = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"load: {os.getloadavg()}")
    for name, off in CASES:
        if opts.only and name not in opts.only.split(","):
            continue
        k = next(k for k in all_kernels() if k.name == name)
        args = k.make(np.random.default_rng(1), "bench")
        new, old, nj = _compiled(k.fn, args), _compiled(k.fn, args, off), numba.njit(k.fn)
        _check(new, old, nj, args, k.fn(*args))
        calls = {"old": lambda: old(*args), "new": lambda: new(*args), "njit": lambda: nj(*args)}
        for clock, timer in (("cpu", _cpu_time), ("wall", _wall_time)):
            T._time_once = timer
            m = T.compare(calls, repeats=opts.repeats, warmup=2)
            print(f"{name} [{clock}]: ms old {m['old'] * 1e3:.4f} new {m['new'] * 1e3:.4f} "
                  f"njit {m['njit'] * 1e3:.4f}  old/new {m['old'] / m['new']:.2f}  "
                  f"njit/new {m['njit'] / m['new']:.2f}  njit/old {m['njit'] / m['old']:.2f}", flush=True)


if __name__ == "__main__":
    main()
