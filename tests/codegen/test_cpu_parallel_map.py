"""A loop the vectorizer keeps as a loop although nothing carries from one
iteration to the next (its batched values would be over the memory budget):
its cheap per-iteration masks stay in the loop too (vectorize/loop_rewrite.py
`_large_cheap_feeders`, not stacked for every iteration), and on the CPU its
iterations run on the threads (codegen/cpu/regions.py `_parallel_map`), each
writing its own rows. Values are compared with the plain function."""

import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import emitter
from looptrace.vectorize.batch_interpreter import set_memory_budget


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


@pytest.fixture
def small_budget(monkeypatch):
    from looptrace.vectorize import loop_rewrite

    set_memory_budget(60_000)
    monkeypatch.setattr(loop_rewrite, "STACKED_FEEDER_BYTES", 10_000)
    monkeypatch.setattr(emitter, "PARALLEL_MIN_WORK", 1000)
    yield
    set_memory_budget(None)


def ring_means(data, radius, npt):
    """npbench's azimint_naive: the mean of the data in each ring."""
    rmax = radius.max()
    res = np.zeros(npt, dtype=np.float64)
    for i in range(npt):
        r1 = rmax * i / npt
        r2 = rmax * (i + 1) / npt
        mask = np.logical_and(r1 <= radius, radius < r2)
        res[i] = data[mask].mean()
    return res


def running(data, radius, npt):
    """The same with a carry: the iterations depend on each other."""
    acc = 0.0
    out = np.zeros(npt)
    for i in range(npt):
        acc = acc * 0.5 + data[radius < (i + 1) / npt].sum()
        out[i] = acc
    return out


def test_a_kept_map_runs_its_iterations_on_threads(small_budget, rng):
    data, radius = rng.random(3000), rng.random(3000)
    f = looptrace.jit(ring_means, backend="cpu")
    np.testing.assert_allclose(f(data, radius, 20), ring_means(data, radius, 20), rtol=1e-12)
    e = f.explain(data, radius, 20)
    assert e.loops[0].kind == "scan" and "memory budget" in e.loops[0].reason
    src = e.kernel_source
    assert src.count("numba.prange(") == 1 and "numba.prange(n" in src  # the rings; their nests serial
    assert "alloc((20, 3000" not in src  # the masks are not stacked for all rings
    assert "check_start" not in src  # the ring index is in range by the loop's bounds


def test_a_loop_with_a_carry_stays_serial(small_budget, rng):
    data, radius = rng.random(3000), rng.random(3000)
    f = looptrace.jit(running, backend="cpu")
    np.testing.assert_allclose(f(data, radius, 20), running(data, radius, 20), rtol=1e-12)
    src = f.explain(data, radius, 20).kernel_source
    assert "numba.prange(n" not in src


def test_rounding_feeders_of_a_scan_are_computed_in_its_loop(monkeypatch, rng):
    """floor, ceil, trunc and rint are cheap (one instruction): feeding a scan,
    they are computed where the loop reads them rather than stacked for every
    iteration (corpus histogram2d_loop: int(x[i] * n) per point)."""
    from bench.corpus.algorithms import histogram2d_loop
    from looptrace.vectorize import loop_rewrite

    monkeypatch.setattr(loop_rewrite, "STACKED_FEEDER_BYTES", 1000)
    x, y = rng.random(2000) * 1.1, rng.random(2000) - 0.05
    f = looptrace.jit(histogram2d_loop, backend="cpu")
    np.testing.assert_array_equal(f(x, y, 8), histogram2d_loop(x, y, 8))
    src = f.explain(x, y, 8).kernel_source
    assert "alloc((2000, ), np.float64)" not in src and "np.trunc" in src


def trisolv(L, x, b):
    """npbench's trisolv: forward substitution, a dot product of a growing prefix."""
    for i in range(x.shape[0]):
        x[i] = (b[i] - L[i, :i] @ x[:i]) / L[i, i]


def test_a_positional_mask_of_a_scan_is_computed_in_its_loop(rng):
    """The mask of `L[i, :i]` (positions compared with the loop index) reads
    no memory: whatever its size it is computed where the scan reads it, not
    stacked as an (n, n) array the scan reads back a row of per iteration."""
    n = 300
    L = rng.random((n, n)) + np.eye(n) * n
    b = rng.random(n)
    x_plain = rng.random(n)
    x_jit = x_plain.copy()
    f = looptrace.jit(trisolv, backend="cpu")
    trisolv(L, x_plain, b)
    f(L, x_jit, b)
    np.testing.assert_allclose(x_jit, x_plain, rtol=1e-12)
    src = f.explain(L, x_jit, b).kernel_source
    assert f"alloc(({n}, {n}, ), np.bool" not in src
