"""Kernels that ran slower than the plain function they replace (issue 11,
corpus sieve and resample_interp): a sieve's strided fill in a while loop
stores each element in place (not through a view per element), searchsorted
searches unsorted keys without branches and galloped sorted runs as before,
np.interp reads its slopes from a table made once where there are at least
as many points as samples. Values (bit for bit) against the plain function;
speed is measured in bench/replaced_s47.py, never asserted here."""
from __future__ import annotations

import numpy as np
import pytest

import looptrace as lt
from looptrace.codegen.cpu.emitter import _slice_part, _through_parts
from bench.corpus.discrete import sieve


def _same(want, got):
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        w, g = np.asarray(w), np.asarray(g)
        assert w.dtype == g.dtype and w.shape == g.shape
        if w.dtype.kind == "f":
            assert np.array_equal(w.view(np.uint64 if w.itemsize == 8 else np.uint32),
                                  g.view(np.uint64 if g.itemsize == 8 else np.uint32)), (w, g)
        else:
            assert np.array_equal(w, g), (w, g)


def _interp(x, xp, fp):
    return (np.interp(x, xp, fp, left=0.0, right=0.0), np.interp(x, xp, fp),
            np.interp(x, xp, fp, left=-1.5, right=np.nan))


def _table(rng, k):
    """Increasing sample points with a repeated one, an infinite and a NaN value."""
    xp = np.sort(rng.random(k))
    xp[3] = xp[4]
    fp = rng.standard_normal(k)
    fp[k // 2] = np.inf
    fp[k // 2 + 2] = np.nan
    return xp, fp


def _points(rng, xp, m):
    """Random points around the table, the table's own points, NaN and the infinities."""
    return np.concatenate([rng.random(m) * 1.4 - 0.2, xp[::2], [np.nan, -np.inf, np.inf, xp[-1], xp[0]]])


@pytest.mark.parametrize("m", [3, 90])  # fewer and more points than samples (the slope table's two rules)
def test_interp_bits_as_numpy(rng, m):
    xp, fp = _table(rng, 30)
    x = _points(rng, xp, m)
    _same(_interp(x, xp, fp), lt.jit(_interp, backend="interpret")(x, xp, fp))
    x2 = x[: (x.shape[0] // 2) * 2].reshape(2, -1)  # any shape of points
    _same(_interp(x2, xp, fp), lt.jit(_interp, backend="interpret")(x2, xp, fp))


def test_interp_equal_neighbours_and_flat_infinities(rng):
    """NumPy's second try (slope from the right end) and its flat rule (equal
    values give that value where the slope is NaN)."""
    xp = np.array([0.0, 1.0, 1.0, 2.0, 3.0, 4.0])
    fp = np.array([1.0, np.inf, np.inf, -np.inf, 2.0, 2.0])
    x = np.concatenate([np.linspace(-0.5, 4.5, 41), rng.random(20) * 4])
    _same(_interp(x, xp, fp), lt.jit(_interp, backend="interpret")(x, xp, fp))


def _searches(keys, table, rows):
    return (np.searchsorted(table, keys, side="right"), np.searchsorted(table, keys, side="left"),
            np.searchsorted(table, rows))


def test_searchsorted_sorted_unsorted_and_nan(rng):
    table = np.sort(rng.random(40))
    table[5] = table[6]
    table[-3:] = np.nan  # NaNs sort last
    keys = np.concatenate([rng.random(30), np.sort(rng.random(30)), table[::3], [np.nan, np.inf, -np.inf]])
    rows = np.stack([np.sort(rng.random(20)), rng.random(20)])
    _same(_searches(keys, table, rows), lt.jit(_searches, backend="interpret")(keys, table, rows))


def test_slice_part_reads_marked_starts():
    """A start marked non-negative (emitter.start_in_bounds) is an element's index,
    so that a one-element store writes the element (no view per store)."""
    assert _slice_part("nonneg(v38):nonneg(v38) + 1") == ("slice", "nonneg(v38)", 1)
    assert _slice_part("nonneg(v3)") == ("index", "nonneg(v3)", 0)
    assert _slice_part("a:a + 1:2") == ("slice", "a", 2)
    assert _slice_part("f(x):3") is None and _slice_part("a:f(x)") is None
    assert _through_parts([("slice", "nonneg(v3)", 2)], ["i"]) == ["(nonneg(v3) + i * 2)"]


def _replaced(n, keys, sorted_keys, table, rows, ikeys, itable, xp, fp):
    """One cpu kernel for the codegen paths: a sieve (a strided fill in a
    while loop, a count of a bool array), searches of unsorted and sorted
    keys, rows of keys, integer keys, and interp (the slope table)."""
    count, is_prime = sieve(n)  # (bench/corpus/discrete.py, traced into this kernel)
    return (count, is_prime, np.searchsorted(table, keys, side="right"),
            np.searchsorted(table, keys, side="left"), np.searchsorted(table, sorted_keys, side="right"),
            np.searchsorted(table, rows), np.searchsorted(itable, ikeys, side="right"),
            np.interp(keys, xp, fp, left=0.0, right=0.0), np.interp(sorted_keys, xp, fp))


# with -m slow (18.7 s of CPU in session 54's CI, one kernel): test_interp_sorted_s48.py's cpu kernel
# searches and interpolates 5000 keys in every order (runs of 2048, NaNs, ties, the slope table) bit for
# bit, and checks its branch-free search beside the bracketed runs; test_cpu_stepped_writes.py's
# test_sieve_matches checks the sieve's fill stores elements
@pytest.mark.slow
def test_cpu_kernel_matches_plain(rng):
    """Runs of 2048 keys: unsorted, sorted, and sorted with one key out of
    order past the probe; NaN keys and NaNs in the table."""
    m = 5000
    table = np.sort(rng.random(300))
    table[7] = table[8]
    table[-2:] = np.nan
    keys = rng.random(m) * 1.2 - 0.1
    keys[::97] = np.nan
    keys[::89] = table[: keys[::89].shape[0]]
    sorted_keys = np.sort(rng.random(m) * 1.2 - 0.1)
    sorted_keys[3000] = 0.01  # out of order after the run's first keys
    sorted_keys[-5:] = np.nan
    rows = np.stack([np.sort(rng.random(2100)), rng.random(2100)])
    itable = np.sort(rng.integers(0, 50, 64))
    ikeys = rng.integers(-5, 55, 3000)
    xp, fp = _table(rng, 50)
    args = (1000, keys, sorted_keys, table, rows, ikeys, itable, xp, fp)
    f = lt.jit(_replaced, backend="cpu")
    _same(_replaced(*args), f(*args))
    src = f.explain(*args).kernel_source
    assert "][0] = False" not in src  # the sieve's fill stores elements, not through views
    assert "while len" in src and "blo" in src  # branch-free search beside the bracketed runs (s48)


def _interp_loss(fp, x, xp):
    return np.sum(np.interp(x, xp, fp) ** 2)


@pytest.mark.parametrize("m", [4, 40])  # per-point slopes, and the slope table
def test_interp_gradient_against_differences(rng, m):
    xp, fp = np.sort(rng.random(10)), rng.standard_normal(10)
    x = rng.random(m) * 0.9 + 0.05
    g = lt.grad(lt.jit(_interp_loss, backend="interpret"), (0, 1))(fp, x, xp)
    for k, a in enumerate((fp, x)):
        def at(d, k=k):
            args = [fp, x]
            args[k] = a + d
            return _interp_loss(*args, xp)
        fd = np.array([(at(e) - at(-e)) / 2e-6 for e in np.eye(a.size) * 1e-6])
        np.testing.assert_allclose(g[k], fd, rtol=1e-6, atol=1e-7)
