"""Sibling folds in one pass (codegen/cpu/siblings.py, nest.py `Fuser._reduce_group`):
folds over one domain whose terms read the same memory share one set of loops, each
with its own accumulators. Every value is the one the separate passes give, bit for
bit (compiled with LOOPTRACE_NO_SIBLING_FOLDS=1: the emission before), NaN and -0.0
included, and the plain function's to rounding; the kernel holds one loop where there
were two."""
import os
import re

import numpy as np
import pytest

import looptrace as lt
from bench.sibling_folds import nanmin_max_loop

from .kernel_text import _block_after, kernel_body


# --- the functions --------------------------------------------------------------------------
def min_max(x):
    return x.min(), x.max()


def sum_count(x, m):
    return (x * m).sum(), m.sum()


def sum_positives(x):
    return x.sum(), (x > 0).sum(), x.max()


def loop_stats(x):
    s = 0.0
    hi = -np.inf
    lo = np.inf
    for v in x:
        s += v
        if v > hi:
            hi = v
        if v < lo:
            lo = v
    return s, lo, hi


def masked_means(data, radius, npt):
    rmax = radius.max()
    res = np.zeros(npt, dtype=np.float64)
    for i in range(npt):
        r1 = rmax * i / npt
        r2 = rmax * (i + 1) / npt
        mask = np.logical_and((r1 <= radius), (radius < r2))
        res[i] = data[mask].mean()
    return res


def row_spread(x):
    return x.max(axis=1) - x.min(axis=1) + x.sum(axis=1)


def flat_moments(x):
    return x.sum(), (x * x).sum()


def sum_max(x):
    return x.sum(), x.max()


def four_folds(x):
    return x.min(), x.max(), x.sum(), (x > 0.5).sum()


def int_folds(x):
    return x.sum(), x.max(), x.min(), (x > 0).sum()


# --- checks ----------------------------------------------------------------------------------
def _data(rng, shape, dtype, specials=True):
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-1000, 1000, size=shape).astype(dtype)
    x = rng.standard_normal(shape).astype(dtype)
    if specials and x.size:
        flat = x.reshape(-1)
        flat[rng.random(flat.size) < 0.05] = 0.0
        flat[rng.random(flat.size) < 0.05] = -0.0
    return x


def _with_nans(rng, x):
    x = x.copy()
    x.reshape(-1)[rng.integers(0, x.size, size=max(1, x.size // 50))] = np.nan
    return x


def _before(f, *args):
    """f compiled as the separate passes were emitted."""
    os.environ["LOOPTRACE_NO_SIBLING_FOLDS"] = "1"
    try:
        return lt.jit(f, backend="cpu")(*args)
    finally:
        del os.environ["LOOPTRACE_NO_SIBLING_FOLDS"]


def _bits(a) -> list:
    return [(np.asarray(v).dtype, np.asarray(v).tobytes()) for v in (a if isinstance(a, tuple) else (a,))]


def _close(got, want) -> None:
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        g, w = np.asarray(g), np.asarray(w)
        tol = 1e-4 if w.dtype == np.float32 else 1e-9
        scale = float(np.max(np.abs(w[np.isfinite(w)]), initial=1.0)) if w.dtype.kind == "f" else 1.0
        assert np.allclose(g, w, rtol=tol, atol=tol * scale, equal_nan=True), (g, w)


def _check(f, *args, exact=False):
    """Against the plain function, and bit for bit against the separate passes; exact: every
    result is an integer, which must be the plain function's bit for bit (the separate passes
    give those bits too, so their kernel is not compiled: ~0.5 s of CPU a case)."""
    want = f(*args)
    _close(lt.jit(f, backend="interpret")(*args), want)
    got = lt.jit(f, backend="cpu")(*args)
    _close(got, want)
    if exact:
        assert _bits(got) == _bits(want)
    else:
        assert _bits(got) == _bits(_before(f, *args))
    return got


def _source(f, *args, before=False):
    if before:
        os.environ["LOOPTRACE_NO_SIBLING_FOLDS"] = "1"
    try:
        return kernel_body(lt.explain(lt.jit(f, backend="cpu"), *args).kernel_source)
    finally:
        os.environ.pop("LOOPTRACE_NO_SIBLING_FOLDS", None)


# --- values ----------------------------------------------------------------------------------
# Each dtype at one size by default (the same lowering in the other dtype, two kernels a case: -m slow;
# session 54's CI spent 0.3-0.9 s on each case)
def _one_dtype_a_size(first, second, sizes):
    """(dtype, n) cases: first at sizes[0], second at sizes[1] by default,
    the crossed pairs with -m slow."""
    slow = pytest.mark.slow
    return [(first, sizes[0]), (second, sizes[1]), pytest.param(second, sizes[0], marks=slow),
            pytest.param(first, sizes[1], marks=slow)]


# -m slow (1.5 s in 3eb5406's CI, two kernels a case): test_lanes_and_arrays' four_folds (default, 70 float64 and
# 12301 float32, NaNs) runs the same min and max siblings, beside a sum and a count, in lanes and in arrays of
# accumulators, against the separate passes bit for bit; test_one_pass[min_max] reads min_max's one loop
@pytest.mark.slow
@pytest.mark.parametrize("dtype, n", _one_dtype_a_size(np.float32, np.float64, (67, 9000)))
@pytest.mark.parametrize("nan", [True])
def test_min_max(dtype, n, nan):
    rng = np.random.default_rng(n)
    x = _data(rng, n, dtype)
    got = _check(min_max, _with_nans(rng, x) if nan else x)
    if not nan:  # -0.0 and 0.0: the one each fold keeps alone
        assert np.signbit(got[0]) == np.signbit(_before(min_max, x)[0])


@pytest.mark.parametrize("dtype, n", _one_dtype_a_size(np.float64, np.float32, (5, 20000)))
def test_sum_count(dtype, n):
    rng = np.random.default_rng(n)
    x = _data(rng, n, dtype)
    _check(sum_count, x, (rng.random(n) < 0.5).astype(dtype))


# [5000] with -m slow (0.7 s in 3eb5406's CI): [71]'s int64 mask times float64 values in another length; long
# sum_count folds in lanes run in test_sum_count[float32-20000], on threads in test_threaded_sums
@pytest.mark.parametrize("n", [0, 71, pytest.param(5000, marks=pytest.mark.slow)])
def test_sum_count_int_mask(n):
    rng = np.random.default_rng(n + 1)
    _check(sum_count, rng.standard_normal(n), (rng.random(n) < 0.5).astype(np.int64))


@pytest.mark.parametrize("dtype", [np.float32, pytest.param(np.float64, marks=pytest.mark.slow)])
@pytest.mark.parametrize("n", [4101])
def test_float_and_int_folds(dtype, n):
    rng = np.random.default_rng(7)
    _check(sum_positives, _with_nans(rng, _data(rng, n, dtype)))
    _check(sum_positives, _data(rng, n, dtype))


@pytest.mark.parametrize("dtype, n", _one_dtype_a_size(np.float64, np.float32, (70, 12301)))
def test_lanes_and_arrays(dtype, n):
    """Sums in 8 lanes beside long maxima and minima in arrays of accumulators, in blocks."""
    rng = np.random.default_rng(n)
    x = _data(rng, n, dtype)
    _check(sum_max, x)
    _check(four_folds, x)
    _check(four_folds, _with_nans(rng, x))


@pytest.mark.parametrize("dtype, n", _one_dtype_a_size(np.int32, np.int64, (9, 5000)))
def test_int_folds(dtype, n):
    _check(int_folds, _data(np.random.default_rng(n), n, dtype), exact=True)


@pytest.mark.parametrize("n", [65, 1001])
def test_loop_stats(n):
    rng = np.random.default_rng(3)
    x = _data(rng, n, np.float64)
    _check(loop_stats, x)
    _check(loop_stats, _with_nans(rng, x))


@pytest.mark.parametrize("shape", [(200, 50), (1, 100)])
def test_nanmin_max_loop(shape):
    rng = np.random.default_rng(5)
    x = _with_nans(rng, _data(rng, shape, np.float64))
    lo, hi = _check(nanmin_max_loop, x)
    assert lo == np.nanmin(x) and hi == np.nanmax(x)


def test_masked_means_one_pass():
    rng = np.random.default_rng(11)
    data, radius = rng.random(3000), rng.random(3000)
    _check(masked_means, data, radius, 12)
    src = _source(masked_means, data, radius, 12)
    # the masked sum's rows and the count in one loop over the row (before: a second loop of 3000)
    assert "range(3000)" in _source(masked_means, data, radius, 12, before=True)
    assert "range(3000)" not in src


# float64 with -m slow (0.7 s in 3eb5406's CI): [float32]'s kernels with float64 accumulators and allocations (their
# explain sources differ in the dtype only); float64 row_spread runs on cpu in test_row_folds_on_threads
@pytest.mark.parametrize("dtype", [np.float32, pytest.param(np.float64, marks=pytest.mark.slow)])
def test_row_folds(dtype):
    rng = np.random.default_rng(2)
    x = _data(rng, (40, 131), dtype)
    _check(row_spread, x)
    _check(row_spread, _with_nans(rng, x))


def test_row_folds_on_threads():
    """Rows on threads; each row's max and min by extrema.py's row helpers
    first (reductions.py `rows_made_first`), the sum in the nest reading
    them: 3000 x 403, one process, 0.80 -> 0.42 ms (NumPy 0.79) against the
    one pass with 8-lane tuples for the max and min it replaced."""
    rng = np.random.default_rng(9)
    x = _with_nans(rng, _data(rng, (3000, 403), np.float64))
    _check(row_spread, x)
    src = _source(row_spread, x)
    assert "numba.prange" in src and "max_rows(" in src and "min_rows(" in src


def test_flat_folds():
    rng = np.random.default_rng(4)
    x = _data(rng, (300, 41), np.float64)
    _check(flat_moments, x)
    assert _source(flat_moments, x).count("contiguous(") == 1  # one flat view, read by both


def test_threaded_sums():
    """Sums large enough for threads: chunks of steps, each fold's chunk totals added in order."""
    rng = np.random.default_rng(6)
    n = 3 << 20
    x, m = rng.standard_normal(n), (rng.random(n) < 0.5).astype(np.float64)
    _check(sum_count, x, m)
    assert _source(sum_count, x, m).count("numba.prange") == 1


# --- one loop where there were two -----------------------------------------------------------
def _passes(src: str, array: str) -> int:
    """The kernel's outermost loops that read `array` (or a 1-d view of it, read flat), and its
    calls of extrema.py's helpers on it (`max_lanes(v0, ...)`: a loop of their own)."""
    lines = src.splitlines()
    names = [array, *re.findall(rf"(\w+) = contiguous\({array}\)\.reshape", src)]
    heads = [k for k, ln in enumerate(lines) if ln.startswith("    for ")]
    calls = sum(1 for ln in lines if re.search(rf"= m(ax|in)_lanes\(({'|'.join(names)}),", ln))
    return calls + sum(1 for k in heads if any(f"{n}[" in ln for ln in _block_after(lines, k) for n in names))


@pytest.mark.parametrize("f, args, shared", [
    (sum_count, (np.arange(10000.0), np.ones(10000)), "v1"),  # m, read by both sums
    (min_max, (np.arange(10000.0),), "v0"),
    (sum_max, (np.arange(10000.0),), "v0"),
    (nanmin_max_loop, (np.arange(10000.0).reshape(200, 50),), "v0"),
])
def test_one_pass(f, args, shared):
    assert _passes(_source(f, *args, before=True), shared) >= 2
    assert _passes(_source(f, *args), shared) == 1


def test_dependent_fold_waits():
    """A fold reading another's result (the variance after the mean) is not its sibling."""
    def var(x):
        return ((x - x.mean()) ** 2).sum(), x.sum()

    _check(var, np.random.default_rng(8).standard_normal(5000))
