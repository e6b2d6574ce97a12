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
from bench.pointwise_scan import mandelbrot, paths, quadratic
from tests.codegen.cuda.test_cuda_target_ptx import compile_all
from tests.codegen.test_cpu_pointwise_scan import (
    GENERATED_OPS,
    euler_returning_time,
    generated_program,
    running_stats,
    shifted_reads,
)

from _cuda_support import HAVE_DEVICE, assert_like_plain, cuda_backend

POINTS = "a points kernel"


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def leapfrog(x0, v0, dt):
    x, v = x0.copy(), v0.copy()
    for _ in range(9):
        v = v - dt * np.sin(x)
        x = x + dt * v
    return x, v


CASES = {
    "running_stats": (running_stats, lambda rng: (rng.normal(size=(4, 5)), rng.normal(size=(4, 5)))),
    "quadratic": (quadratic, lambda rng: (rng.uniform(-0.4, 0.4, 37),)),
    "mandelbrot": (mandelbrot, lambda rng: (rng.uniform(-2, 0.6, (3, 5)) + 1j * rng.uniform(-1.2, 1.2, (3, 5)),)),
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
    got, want = lt.jit(mandelbrot, backend="cuda")(c), mandelbrot(c)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-9)
    args = CASES["paths"][1](rng)
    x0, noise = rng.normal(size=(300, 1000)), rng.normal(size=(40, 300, 1000))
    for g, w in zip(lt.jit(paths, backend="cuda")(x0, noise, 0.01, args[3][:1]), paths(x0, noise, 0.01, args[3][:1])):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), steps=st.integers(0, 4), ops=GENERATED_OPS,
       seed=st.integers(0, 2 ** 16))
def test_generated_points_loops(shape, steps, ops, seed):
    """tests/codegen/test_cpu_pointwise_scan.py's generated loops, as points kernels."""
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    args = (rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape[-1:]))
    prog = generated_program(steps, ops)
    assert_like_plain(prog, args, lt.jit(prog, backend="cuda"))
