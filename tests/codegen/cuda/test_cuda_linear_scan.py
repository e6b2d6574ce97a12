"""Linear recurrence kernels (codegen/cuda/linear_scan.py) against the plain loop.

Under the simulator with a small block and chunk (several chunks, a
partial last chunk, channels that do not fill a block); the chunked scan
differs from the loop by rounding only. Default-size kernels compile to
sm_90 PTX.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from looptrace.codegen.cuda import linear_scan as ls

from _cuda_support import Arrays

SMALL = dict(cx=4, ty=4, items=3)  # chunk of 12 steps


def data(rng, T, C, dtype):
    a = rng.uniform(-0.99, 0.99, (T, C)).astype(dtype)
    b = rng.standard_normal((T, C)).astype(dtype)
    h0 = rng.standard_normal(C).astype(dtype)
    return a, b, h0


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)


def chunked(arrays, a, b, h0, **kw):
    H = arrays.empty(a.shape, a.dtype)
    launches = ls.chunked_scan(arrays.to(a), arrays.to(b), arrays.to(h0), H, arrays.mode, arrays.empty, **{**SMALL, **kw})
    assert launches == 3
    return arrays.back(H)


def sequential(arrays, a, b, h0):
    H = arrays.empty(a.shape, a.dtype)
    ls.sequential_kernel(a.dtype, arrays.mode)[2, 4](arrays.to(a), arrays.to(b), arrays.to(h0), H)
    return arrays.back(H)


# float32 with -m slow (1.2 s in 0bc3f38's CI): the simulator runs the same Python kernels for either dtype
# (the chunked scan in float64 here, float32's sequential kernel in test_sequential_matches_the_loop_bit_for_bit)
@pytest.mark.parametrize("dtype", [pytest.param(np.float32, marks=pytest.mark.slow), np.float64])
def test_chunked_matches_the_loop(arrays, rng, dtype):
    a, b, h0 = data(rng, 41, 6, dtype)  # 4 chunks, the last partial; 2 channel blocks, one partial
    np.testing.assert_allclose(chunked(arrays, a, b, h0), ls.reference(a, b, h0), **tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sequential_matches_the_loop_bit_for_bit(arrays, rng, dtype):
    a, b, h0 = data(rng, 23, 11, dtype)  # more channels than threads: grid-stride; 2 unrolled rounds + 7 steps
    got = sequential(arrays, a, b, h0)
    if arrays.mode == "sim":  # same operations in the same order (a device may fuse a*h+b into an fma)
        np.testing.assert_array_equal(got, ls.reference(a, b, h0))
    np.testing.assert_allclose(got, ls.reference(a, b, h0), **tol(dtype))


# every example runs its threads in the simulator (4.5 s at 6 in e17f737's CI); test_chunked_matches_the_loop
# runs the fixed sizes
@settings(max_examples=3, deadline=None)
@given(T=st.integers(0, 30), C=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_generated_sizes(T, C, seed):
    a, b, h0 = data(np.random.default_rng(seed), T, C, np.float64)
    arrays = Arrays("sim")
    np.testing.assert_allclose(chunked(arrays, a, b, h0, cx=2, ty=2, items=2), ls.reference(a, b, h0), **tol(np.float64))


# float32 with -m slow (the same four kernels in the narrower dtype, 1.5 s in e17f737's CI): float64's
# registers are the limit this checks
@pytest.mark.parametrize("dtype", [pytest.param("float32", marks=pytest.mark.slow), "float64"])
def test_compile_to_sm90_ptx(ptx_ok, dtype):
    from numba import from_dtype

    from looptrace.codegen.cuda import ptxinfo

    nb = from_dtype(np.dtype(dtype))
    m, v = nb[:, :], nb[:]
    kernels = [
        (ls.sequential_kernel(dtype, "gpu"), (m, m, v, m)),
        (ls.chunk_totals_kernel(np.dtype(dtype), "gpu"), (m, m, m, m)),
        (ls.carry_kernel(dtype, "gpu"), (m, m, v, m)),
        (ls.fixup_kernel(np.dtype(dtype), "gpu"), (m, m, m, m)),
    ]
    for kernel, sig in kernels:
        res = ptxinfo.kernel_resources(kernel, sig)
        assert 0 < res.registers <= 255 and not res.spills
        assert res.local_bytes == 0 and res.stack_bytes == 0  # the unrolled prefetch stays in registers
