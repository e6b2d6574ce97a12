"""Masked folds that skip the runs their mask selects nothing of (session
46, codegen/cpu/sparse_folds.py): `data[mask].mean()` per row (npbench
azimint_naive), `x[mask].sum()`, `.max()`, `.min()`, counts, the mask a
comparison chain. The values are the plain function's (NumPy sums the
selected elements pairwise, looptrace in 8 lanes by position: to 1e-12
relative; max, min and counts exactly; a mean of nothing is NaN, where
plain warns); on cpu the kernel with the skipping gives the same bits as
the loops before it (LOOPTRACE_NO_SPARSE_FOLDS=1 while compiling), and its
text guards the term's loops by the mask. The same kernel checks `x ** -1.0`
(scalar.py `small_power`): NumPy's own reciprocal, the same bits, float32
and float64, at 0, -0.0, inf and NaN."""
import os
import warnings

import numpy as np
import pytest

import looptrace as lt


def masked_stats(x, y, z, lo, hi, lo2, hi2):
    m = (lo <= y) & (y < hi)
    k = np.logical_and(lo2 <= y, y < hi2)  # (never empty in the data below: max and min of it)
    rmax = y.max()
    rows = np.zeros(16)
    for i in range(16):
        r1 = rmax * i / 16
        r2 = rmax * (i + 1) / 16
        rows[i] = x[np.logical_and(r1 <= y, y < r2)].mean()
    return (x[m].sum(), np.count_nonzero(m), x[m].mean(), x[k].max(), x[k].min(), z[k].max(),
            z[m].sum(), (x * 2.0)[k].sum(), rows, x ** -1.0, z ** -1.0)


def _data(rng, n, density, specials):
    """y with a gap (rows of nothing), x with NaN, infinities and -0.0 where `specials`."""
    y = rng.random(n)
    y[(y > 0.5) & (y < 0.7)] += 0.25
    x = rng.standard_normal(n)
    if specials:
        x[rng.random(n) < 0.002] = np.nan
        x[rng.random(n) < 0.002] = -0.0
        x[rng.random(n) < 0.001] = np.inf
    z = rng.standard_normal(n).astype(np.float32)
    z[:4] = [0.0, -0.0, np.inf, np.nan]
    lo = float(rng.uniform(0.05, 0.45))
    k = int(rng.integers(0, n))
    return x, y, z, lo, lo + density, y[k], y[k] + density / 2 + 1e-9


def _plain(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (the mean of an empty selection)
        return masked_stats(*args)


def _close(got, want):
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (g, w)
        if w.dtype.kind == "f" and w.dtype != np.float32:
            assert np.allclose(g, w, rtol=1e-12, atol=1e-12, equal_nan=True), (g, w)
        elif w.dtype == np.float32:
            assert np.allclose(g, w, rtol=1e-5, atol=1e-5, equal_nan=True), (g, w)
        else:
            assert np.array_equal(g, w), (g, w)


CASES = [(5037, 0.0, False), (5037, 0.001, True), (5037, 0.02, False), (4096 + 64, 0.3, True),
         (6000, 1.5, False)]


@pytest.mark.parametrize("n,density,specials", CASES)
def test_masked_stats_interpret(n, density, specials):
    rng = np.random.default_rng(4600 + n)
    args = _data(rng, n, density, specials)
    _close(lt.jit(masked_stats, backend="interpret")(*args), _plain(*args))


def test_masked_stats_cpu_skips_and_keeps_bits():
    rng = np.random.default_rng(46)
    first = _data(rng, 5037, 0.01, True)
    fast = lt.jit(masked_stats, backend="cpu")
    fast(*first)
    os.environ["LOOPTRACE_NO_SPARSE_FOLDS"] = "1"
    try:
        before = lt.jit(masked_stats, backend="cpu")
        before(*first)
    finally:
        del os.environ["LOOPTRACE_NO_SPARSE_FOLDS"]
    text, old = fast.explain(*first).kernel_source, before.explain(*first).kernel_source
    assert "hit" in text and "hit" not in old  # the term's loops behind a run's flag
    for density, specials in [(0.0, False), (0.0005, True), (0.001, True), (0.02, False), (0.3, True), (1.5, True)]:
        args = _data(rng, 5037, density, specials)  # (one compile: the shapes of the first call)
        got = fast(*args)
        want = _plain(*args)
        assert got[-2].tobytes() == want[-2].tobytes() and got[-1].tobytes() == want[-1].tobytes()
        assert all(np.atleast_1d(g).tobytes() == np.atleast_1d(w).tobytes() for g, w in zip(got, before(*args)))
        _close(got, want)
