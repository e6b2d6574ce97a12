"""Masked reductions whose mask selects a few positions: npbench's
azimint_naive (a mean of `data[mask]` per row, the mask a comparison chain
on `radius`) and lone masked folds, timed against NumPy and numba.njit of
the same function, and looptrace with the runs its mask selects nothing of
skipped (codegen/cpu/sparse_folds.py) against the loops before
(LOOPTRACE_NO_SPARSE_FOLDS=1 while compiling: the emission of the tree
before, the same kernel text), interleaved in one process (bench/_timing.py
`compare`), medians.

    python bench/masked_rows.py [--repeats 9] [--n 400000] [--npt 1000]
    NUMBA_NUM_THREADS=1 python bench/masked_rows.py      # one thread

Each result is checked first: looptrace with and without the skipping give
the same bits; NumPy's values (its pairwise sums of the selected elements
against looptrace's 8 lanes by position) agree to 1e-12 relative, max and
min and counts exactly.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._timing import compare  # noqa: E402


def azimint_naive(data, radius, npt):
    rmax = radius.max()
    res = np.zeros(npt, dtype=np.float64)
    for i in range(npt):
        r1 = rmax * i / npt
        r2 = rmax * (i + 1) / npt
        mask_r12 = np.logical_and((r1 <= radius), (radius < r2))
        values_r12 = data[mask_r12]
        res[i] = values_r12.mean()
    return res


def band_sum(x, y, lo, hi):
    return x[(lo <= y) & (y < hi)].sum()


def band_max(x, y, lo, hi):
    return x[(lo <= y) & (y < hi)].max()


def band_mean_dense(x, y, lo, hi):
    return x[(lo <= y) & (y < hi)].mean()


def _compiled(f, args, sparse: bool):
    import looptrace as lt

    if not sparse:
        os.environ["LOOPTRACE_NO_SPARSE_FOLDS"] = "1"
    try:
        jf = lt.jit(f, backend="cpu")
        jf(*args)
        source = jf.explain(*args).kernel_source
    finally:
        os.environ.pop("LOOPTRACE_NO_SPARSE_FOLDS", None)
    return jf, source


def _njit(f):
    import numba

    return numba.njit(f)


def _agree(got, want) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    assert np.allclose(got, want, rtol=1e-12, atol=0, equal_nan=True), np.abs(got - want).max()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--n", type=int, default=400_000)
    ap.add_argument("--npt", type=int, default=1000)
    a = ap.parse_args()
    os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp(prefix="masked_rows_"))
    import numba

    rng = np.random.default_rng(46)
    data, radius = rng.random(a.n), rng.random(a.n)
    cases = [("azimint_naive", azimint_naive, (data, radius, a.npt)),
             ("sum, 0.1% selected", band_sum, (data, radius, 0.4, 0.401)),
             ("max, 0.1% selected", band_max, (data, radius, 0.4, 0.401)),
             ("mean, 50% selected", band_mean_dense, (data, radius, 0.25, 0.75)),
             ("sum, 50% selected", band_sum, (data, radius, 0.25, 0.75))]
    print(f"threads {numba.config.NUMBA_NUM_THREADS}, n {a.n}, npt {a.npt}, medians of {a.repeats} (ms)")
    print(f"{'case':24} {'numpy':>8} {'before':>8} {'after':>8} {'njit':>8}  after/before  numpy/after  njit/after")
    for name, f, args in cases:
        after, src_after = _compiled(f, args, True)
        before, src_before = _compiled(f, args, False)
        assert src_after != src_before, "the skipping did not apply"
        nj = _njit(f)
        want = f(*args)
        assert np.atleast_1d(after(*args)).tobytes() == np.atleast_1d(before(*args)).tobytes()
        _agree(after(*args), want)
        _agree(nj(*args), want)
        t = compare({"numpy": lambda: f(*args), "before": lambda: before(*args),
                     "after": lambda: after(*args), "njit": lambda: nj(*args)}, repeats=a.repeats)
        ms = {k: 1e3 * v for k, v in t.items()}
        print(f"{name:24} {ms['numpy']:8.2f} {ms['before']:8.2f} {ms['after']:8.2f} {ms['njit']:8.2f}"
              f"  {t['before'] / t['after']:11.2f}x {t['numpy'] / t['after']:11.2f}x {t['njit'] / t['after']:10.2f}x")


if __name__ == "__main__":
    main()
