"""Moving medians and percentiles written as loops (`np.median(x[max(0, i - k):i + 1])`),
against the plain loop, NumPy's sliding_window_view with np.nanmedian /
np.nanpercentile over a NaN-padded window (the vectorized rewrite people are
told to write) and scipy.ndimage.median_filter where it computes the same
thing (the centered median with the window clipped at the edges has no
scipy mode: scipy is timed for the interior-equivalent 'nearest' mode only
as a reference of speed, not of value). One process, round-robin medians
(bench/_timing.py); compile time (first call minus a warm one) apart.

    python bench/moving_order_stats.py [--n 100000] [--k 5] [--repeats 9]
"""
import argparse
import os
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp())

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402


def moving_median(x, k):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        lo = max(0, i - k)
        out[i] = np.median(x[lo:i + 1])
    return out


def moving_p90(x, k):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = np.percentile(x[max(0, i - k):i + 1], 90)
    return out


def _padded(x, k):
    return sliding_window_view(np.concatenate([np.full(k, np.nan), x]), k + 1)


def numpy_median(x, k):
    return np.nanmedian(_padded(x, k), axis=1)


def numpy_p90(x, k):
    return np.nanpercentile(_padded(x, k), 90, axis=1)


def main() -> None:
    import scipy.ndimage

    import looptrace
    from bench._timing import compare, print_table

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--plain-n", type=int, default=5_000, help="the plain loop is timed at this n and scaled")
    opts = ap.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)
    x = np.random.default_rng(0).standard_normal(opts.n)
    rows = {}
    for name, loop, vectorized in (("moving_median", moving_median, numpy_median),
                                   ("moving_p90", moving_p90, numpy_p90)):
        jitted = looptrace.jit(loop)
        t0 = time.perf_counter()
        got = jitted(x, opts.k)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        jitted(x, opts.k)
        warm = time.perf_counter() - t0
        small = x[:opts.plain_n]
        assert np.array_equal(got[:opts.plain_n], loop(small, opts.k)), name
        assert np.allclose(got, vectorized(x, opts.k)), name
        cases = {"looptrace": lambda: jitted(x, opts.k), "numpy_sliding": lambda: vectorized(x, opts.k)}
        if name == "moving_median":
            cases["scipy_median_filter"] = lambda: scipy.ndimage.median_filter(x, size=opts.k + 1, mode="nearest")
        rows[name] = compare(cases, repeats=opts.repeats)
        t0 = time.perf_counter()
        loop(small, opts.k)
        rows[name]["plain (scaled)"] = (time.perf_counter() - t0) * opts.n / opts.plain_n
        print(f"{name}: compile {first - warm:.2f} s (first call {first:.2f} s)")
    print(f"n = {opts.n}, k = {opts.k}")
    print_table(rows, baseline="looptrace")


if __name__ == "__main__":
    main()
