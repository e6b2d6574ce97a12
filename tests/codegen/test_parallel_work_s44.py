"""Threads for a loop nest by its elements times the work of each element
(codegen/cpu/costs.py `cost_factor`): a nest that gathers at indices it
computes (an image sampled at rounded coordinates) is not vectorized, so its
cheap ops count, and corpus affine_warp_bilinear at its bench size (500 x
500, about 70 ops a pixel) runs under prange, under the busy-machine policy
(threading_policy.fitted_threads) as every threaded kernel; at 1/4 of the
pixels, and small cheap maps (x * 2 + 1, a 64 x 64 stencil), stay serial.
Values are the plain function's either way."""

import numpy as np
import pytest

import looptrace
from bench.corpus.domains import affine_warp_bilinear as warp


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def prange_count(f, *args) -> int:
    return f.explain(*args).kernel_source.count("numba.prange(")


def test_the_warp_at_its_bench_size_runs_on_threads_fitted_to_free_cores(monkeypatch, rng):
    from looptrace.codegen.cpu import kernel, threading_policy

    fitted = []

    def spy(k):
        fitted.append(k)
        return threading_policy.fitted_threads(k)

    monkeypatch.setattr(kernel, "fitted_threads", spy)
    f = looptrace.jit(warp, backend="cpu", cache=False)
    assert prange_count(f, rng.random((500, 500)), 0.3, 1.2) == 1  # the bench size: planned, not compiled
    # the values on threads at 300 x 300 (threaded too, above 250 x 250's threshold): the plain function
    # takes ~0.7 s a call at 500 x 500 (the test's run time), ~0.25 s here
    img = rng.random((300, 300))
    assert prange_count(f, img, 0.3, 1.2) == 1
    for angle, scale in ((0.3, 1.2), (-1.1, 0.7)):  # most pixels inside; many outside (the `continue`)
        np.testing.assert_allclose(f(img, angle, scale), warp(img, angle, scale), rtol=1e-13, atol=1e-15)
    assert fitted  # the threaded kernel is called through the busy-machine policy


def test_the_warp_at_a_quarter_of_the_pixels_stays_serial(rng):
    f = looptrace.jit(warp, backend="cpu")
    assert prange_count(f, rng.random((250, 250)), 0.3, 1.2) == 0


def test_the_serial_flag_wins(rng):
    f = looptrace.jit(warp, backend="cpu", parallel=False)
    assert prange_count(f, rng.random((500, 500)), 0.3, 1.2) == 0


def axpy(x):
    return x * 2 + 1


def stencil(u):
    out = u.copy()
    out[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
    return out


def poly(x):
    """A long chain of cheap arithmetic, no gather: LLVM vectorizes it."""
    y = x
    for c in (0.5, -0.25, 0.125, 0.3, -0.7, 0.9, 1.1, -1.3, 0.2, 0.05, -0.6, 0.8):
        y = y * x + c
    return y


@pytest.mark.parametrize("fn, make", [(axpy, lambda r: (r.random(1000),)),
                                      (stencil, lambda r: (r.random((64, 64)),)),
                                      (poly, lambda r: (r.random(300_000),))])
def test_cheap_or_vectorized_nests_stay_serial(fn, make, rng):
    args = make(rng)
    f = looptrace.jit(fn, backend="cpu")
    assert prange_count(f, *args) == 0
    g = looptrace.jit(fn, backend="interpret")
    np.testing.assert_allclose(g(*args), fn(*args), rtol=1e-13)


def test_computed_gathers_weigh_their_cheap_ops(rng):
    """cost_factor of the warp's pixel nest: several units (about 8), where
    the same count of cheap ops without a computed gather stays at 1."""
    from looptrace.codegen.cpu import costs, nest

    seen = []

    def spy(op, plan):
        factor = costs.cost_factor(op, plan)
        seen.append((op.out.shape, factor))
        return factor

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nest, "cost_factor", spy)
        looptrace.jit(warp, backend="cpu").explain(rng.random((40, 40)), 0.3, 1.2)
        looptrace.jit(poly, backend="cpu").explain(rng.random(1000))
    assert any(shape == (40, 40) and 6 <= factor <= 12 for shape, factor in seen)
    assert all(factor == 1 for shape, factor in seen if shape == (1000,))
