"""Sums whose last kept axis is short and whose terms read an array down a
column in the natural order (codegen/cpu/nest.py `_tileable`): numba-
benchmark's nbody_numpy sums `(r.T * s).T` over the bodies, with s (n, n)
and 2 coordinates. The nest runs over tiles of the second last axis, the
sum outside them, so s is read along its rows; every element is still
summed in the same order. The plain function is the oracle, and the kernel
source shows that the tiled order was chosen."""

import re

import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def accelerations(positions, weights):
    acc = np.zeros_like(positions)
    n = weights.size
    for j in range(n):
        r = positions[j] - positions
        d2 = r[:, 0] * r[:, 0] + r[:, 1] * r[:, 1] + 1e-3
        s = weights[j] / np.sqrt(d2 * d2 * d2)
        acc += (r.T * s).T
    return acc


def weighted_columns(S, Y, B):
    """(k, n, 3): a lead axis, and the fold's max beside its sum."""
    t = S[:, :, None] * Y[:, None, :]  # (r, n, 3)
    return np.stack([t.sum(axis=0) + B, np.tanh(t).max(axis=0)])


# [64-*] with -m slow (0.5 + 0.4 s in 3d8fb51's CI): one partial tile of 256 rows; [300-*] runs two, the second
# partial (explain's sources of 64 and 300 equal but for the sizes; in one process 64's is the shape-generic
# kernel of the two, whose sharing test_cpu_generic checks)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [300, pytest.param(64, marks=pytest.mark.slow)])
def test_nbody_sums_are_tiled_and_equal(dtype, n):
    rng = np.random.default_rng(n)
    pos = rng.uniform(-1, 1, (n, 2)).astype(dtype)
    w = rng.uniform(1, 2, n).astype(dtype)
    f = looptrace.jit(accelerations, backend="cpu")
    got, want = f(pos, w), accelerations(pos, w)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-9 if dtype == np.float64 else 2e-4, atol=1e-6)
    src = f.explain(pos, w).kernel_source
    assert "tile" in src
    # the differences r (n, n, 1 each coordinate) are computed where s is, not stored
    # (planning/fusion.py `_fits_through_unit_reshape`): s is the one (n, n) array
    assert re.search(r"alloc\(\((\w+), \1, 1, \)", src) is None, src


def test_a_short_range_keeps_the_natural_order():
    rng = np.random.default_rng(5)
    pos, w = rng.uniform(-1, 1, (20, 2)), rng.uniform(1, 2, 20)
    f = looptrace.jit(accelerations, backend="cpu")
    np.testing.assert_allclose(f(pos, w), accelerations(pos, w), rtol=1e-9)
    assert "tile" not in f.explain(pos, w).kernel_source


def test_other_folds_and_epilogues():
    rng = np.random.default_rng(7)
    S, Y, B = rng.standard_normal((50, 257)), rng.standard_normal((50, 3)), rng.standard_normal((257, 3))
    f = looptrace.jit(weighted_columns, backend="cpu")
    np.testing.assert_allclose(f(S, Y, B), weighted_columns(S, Y, B), rtol=1e-9)


def batched(S, Y):
    return np.abs(S[:, :, :, None] - Y[:, None, None, :]).sum(axis=0)  # (k, n, 2) over r


def test_a_lead_axis():
    rng = np.random.default_rng(9)
    S, Y = rng.standard_normal((40, 3, 130)), rng.standard_normal((40, 2))
    f = looptrace.jit(batched, backend="cpu")
    np.testing.assert_allclose(f(S, Y), batched(S, Y), rtol=1e-9)
    assert "tile" in f.explain(S, Y).kernel_source
