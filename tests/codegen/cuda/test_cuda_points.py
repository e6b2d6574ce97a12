"""Pointwise scans on the cuda target: one thread per point runs every step in
one launch (codegen/cuda/points.py), under the simulator against the plain
function, and their kernels compiled to sm_90 PTX (types and lowering; the
simulator checks neither)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace as lt
from looptrace import pipeline
from tests.codegen.cuda.test_cuda_target_ptx import compile_all

from _cuda_support import HAVE_DEVICE, assert_like_plain, cuda_backend

POINTS = "a points kernel"


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def quadratic(c):
    z = np.zeros_like(c)
    for _ in range(12):
        z = z * z * 0.5 + c
    return z


def mandelbrot_counts(c):
    z = np.zeros_like(c)
    n = np.zeros(c.shape, np.int64)
    for _ in range(10):
        live = np.abs(z) <= 2.0
        z = np.where(live, z * z + c, z)
        n += live
    return n, z


def paths(x0, noise, dt, drift):
    x = x0.copy()
    hist = np.empty(noise.shape)
    for t in range(noise.shape[0]):
        x = x + dt * (-x ** 3 + np.sin(0.1 * t) * drift) + 0.3 * noise[t]
        hist[t] = x
    return x, hist


def leapfrog(x0, v0, dt):
    x, v = x0.copy(), v0.copy()
    for _ in range(9):
        v = v - dt * np.sin(x)
        x = x + dt * v
    return x, v


def euler_returning_time(x0, dt, n):
    x = x0.copy()
    t = 0.0
    for _ in range(n):
        x = x + dt * np.sin(t) * x * (1 - x)
        t += dt
    return x, t


def shifted_reads(x0, noise, k):
    x = x0.copy()
    for t in range(noise.shape[0]):
        x = np.sin(x) + noise[t + k]
    return x


def running_stats(x0, c):
    """Folds over the steps, accumulated per point in the kernel: a sum, a running max, a count."""
    x = x0.copy()
    total = np.zeros_like(x0)
    peak = np.full(x0.shape, -np.inf)
    count = np.zeros(x0.shape, np.int64)
    for _ in range(7):
        x = np.sin(x * c) + 0.5
        total += x
        peak = np.maximum(peak, x)
        count += x > 0.7
    return x, total, peak, count


CASES = {
    "running_stats": (running_stats, lambda rng: (rng.normal(size=(4, 5)), rng.normal(size=(4, 5)))),
    "quadratic": (quadratic, lambda rng: (rng.uniform(-0.4, 0.4, 37),)),
    "mandelbrot": (mandelbrot_counts, lambda rng: (rng.uniform(-2, 0.6, (3, 5)) + 1j * rng.uniform(-1.2, 1.2, (3, 5)),)),
    "paths": (paths, lambda rng: (rng.normal(size=(2, 6)), rng.normal(size=(7, 2, 6)), 0.01, rng.normal(size=6))),
    "leapfrog": (leapfrog, lambda rng: (rng.normal(size=11), rng.normal(size=11), 0.05)),
    "euler_time": (euler_returning_time, lambda rng: (rng.uniform(0, 1, 9), 0.01, 6)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_points_kernel_matches_plain(case, rng):
    fn, make = CASES[case]
    args = make(rng)
    jitted = lt.jit(fn, backend="cuda")
    assert_like_plain(fn, args, jitted)
    reasons = " ".join(l.reason for l in jitted.explain(*args).loops)
    assert POINTS in reasons, reasons


def test_a_start_out_of_bounds_raises_index_error(rng):
    x0, noise = rng.normal(size=8), rng.normal(size=(5, 8))
    f = lt.jit(shifted_reads, backend="cuda")
    assert_like_plain(shifted_reads, (x0, noise, 0), f)
    keep = x0.copy()
    with pytest.raises(IndexError):
        f(x0, noise, 2)
    np.testing.assert_array_equal(x0, keep)


def test_other_strategies_when_forced(rng, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", "host")
    fn, make = CASES["paths"]
    args = make(rng)
    jitted = lt.jit(fn, backend="cuda")
    assert_like_plain(fn, args, jitted)
    assert "host-driven" in " ".join(l.reason for l in jitted.explain(*args).loops)


@pytest.mark.parametrize("case", sorted(CASES))
def test_points_kernels_compile_to_ptx(case, ptx_ok, rng):
    fn, make = CASES[case]
    program = pipeline.run_passes(lt.jit(fn, backend="interpret").trace(list(make(rng))))
    assert compile_all(program, case, only="pts")


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_DEVICE, reason="no usable GPU")
def test_points_kernel_over_many_blocks_on_a_gpu():
    """Enough points for many blocks of the grid (the simulator runs one), and a grid-stride loop."""
    rng = np.random.default_rng(0)
    c = rng.uniform(-2, 0.6, (700, 900)) + 1j * rng.uniform(-1.2, 1.2, (700, 900))
    got, want = lt.jit(mandelbrot_counts, backend="cuda")(c), mandelbrot_counts(c)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-9)
    args = CASES["paths"][1](rng)
    x0, noise = rng.normal(size=(300, 1000)), rng.normal(size=(40, 300, 1000))
    for g, w in zip(lt.jit(paths, backend="cuda")(x0, noise, 0.01, args[3][:1]), paths(x0, noise, 0.01, args[3][:1])):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), steps=st.integers(0, 4),
       ops=st.lists(st.sampled_from(["mul", "add", "sin", "where", "bcast"]), min_size=1, max_size=4),
       seed=st.integers(0, 2 ** 16))
def test_generated_points_loops(shape, steps, ops, seed):
    """Small generated bodies of element work on generated state shapes, as points kernels."""
    rng = np.random.default_rng(seed)
    shape = tuple(shape)

    def prog(x0, y0, c, row):
        x, y = x0.copy(), y0.copy()
        hist = np.empty((steps,) + x0.shape)
        for t in range(steps):
            for op in ops:
                if op == "mul":
                    x = x * c + 0.1
                elif op == "add":
                    y = y + x * 0.5
                elif op == "sin":
                    x = np.sin(x + y)
                elif op == "where":
                    y = np.where(x > 0, y * 0.9, y - x)
                else:
                    x = x + row
            hist[t] = x - y
        return x, y, hist

    args = (rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape[-1:]))
    assert_like_plain(prog, args, lt.jit(prog, backend="cuda"))
