"""The device memory pool (codegen/cuda/pool.py) and the grid-stride map kernel (elementwise.py)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from looptrace.codegen.cuda import elementwise as ew
from looptrace.codegen.cuda import pool as pl
from looptrace.codegen.cuda import recurrence as rec

from _cuda_support import Arrays, require_cuda


def test_pool_reuses_one_allocation_across_steps_and_calls(mode):
    pool = pl.DevicePool(mode)
    for _call in range(3):
        with pool.frame():
            for _step in range(5):
                with pool.frame():
                    a = pool.empty((4, 3), np.float32, "step temporary")
                    assert a.shape == (4, 3) and a.dtype == np.float32
            pool.empty(7, np.float64)
    assert pool.stats.allocations == 2  # one per (shape, dtype), ever
    assert pool.stats.reuses == 3 * 5 + 3 - 2
    assert pool.stats.bytes_free == 4 * 3 * 4 + 7 * 8
    assert pool.trim() == 4 * 3 * 4 + 7 * 8 and pool.stats.bytes_allocated == 0


def test_pool_hands_a_buffer_to_one_owner_at_a_time(mode):
    pool = pl.DevicePool(mode)
    a, b = pool.empty(5, np.float64), pool.empty(5, np.float64)
    assert a is not b and pool.stats.allocations == 2
    pool.release(a)
    assert pool.empty(5, np.float64) is a
    assert pool.empty((5,), np.float32) is not a  # another dtype, another buffer


def test_pool_limits_what_it_keeps():
    require_cuda()
    pool = pl.DevicePool("sim", max_free_bytes=100)
    bufs = [pool.empty(10, np.float64) for _ in range(3)]
    for buf in bufs:
        pool.release(buf)
    assert pool.stats.bytes_free == 80 and pool.stats.bytes_allocated == 80


def test_out_of_memory_names_the_buffer(monkeypatch):
    require_cuda()
    pool = pl.DevicePool("sim")
    ns = pl.runtime.namespace("sim")

    def refuse(shape, dtype):
        raise RuntimeError("CUDA_ERROR_OUT_OF_MEMORY: out of memory")

    monkeypatch.setattr(ns, "device_array", refuse)
    with pytest.raises(pl.DeviceMemoryError, match=r"out of memory for saved states \(1000, 200\) float64 \(1,600,000 bytes\)"):
        pool.empty((1000, 200), np.float64, "saved states")


def test_scan_through_the_pool_allocates_once(rng):
    """Two calls of the persistent forward scan with pooled buffers: the second allocates nothing."""
    require_cuda()
    pool, arrays = pl.DevicePool("sim"), Arrays("sim")
    U, W, h0 = rng.uniform(-1, 1, (4, 6)), rng.uniform(-0.3, 0.3, (6, 6)), rng.uniform(-1, 1, 6)
    plan = rec.plan_single_block(6, np.float64)
    for _ in range(2):
        with pool.frame():
            Y = pool.empty(U.shape, U.dtype, "Y")
            rec.launch_forward(arrays.to(U), arrays.to(np.ascontiguousarray(W.T)), arrays.to(h0), Y, "sim", plan)
            np.testing.assert_allclose(arrays.back(Y), rec.forward_reference(U, W, h0), rtol=1e-12)
    assert pool.stats.allocations == 1


def _diff_sq(x, w):
    d = x - w
    return d * d


def _axpb(a, x, b):
    return a * x + math.sin(b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_map_with_broadcast_row(arrays, rng, dtype):
    """gaussian_layer's last stage on a (5, 7) matrix with S broadcast along rows."""
    sq, S = rng.random((5, 7)).astype(dtype), rng.standard_normal(7).astype(dtype)
    out = arrays.empty(35, dtype)
    ew.launch_map(ew.map_kernel(ew.gaussian_rows, 2, 2, arrays.mode), (5, 7), out,
                  [(arrays.to(sq.ravel()), (5, 7)), (arrays.to(S), (7,))], arrays.to, block=8)
    expect = np.exp(-(np.sqrt(sq) ** 2)) / 2 * S**2
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(arrays.back(out).reshape(5, 7), expect, rtol=rtol, atol=rtol)


@settings(max_examples=6, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 2**16),
       data=st.data())
def test_map_matches_numpy_broadcasting(shape, seed, data):
    """Three inputs, each broadcast along generated axes (or a scalar), against NumPy's broadcasting."""
    rng = np.random.default_rng(seed)
    shapes = [tuple(s if data.draw(st.booleans()) else 1 for s in shape)[data.draw(st.integers(0, len(shape))):]
              for _ in range(3)]
    xs = [rng.standard_normal(s) for s in shapes]
    arrays = Arrays("sim")
    out = arrays.empty(int(np.prod(shape)), np.float64)
    ew.launch_map(ew.map_kernel(_axpb, 3, len(shape), "sim"), tuple(shape), out,
                  [(arrays.to(x.ravel()), x.shape) for x in xs], arrays.to, block=4)
    expect = np.broadcast_to(xs[0] * xs[1] + np.sin(xs[2]), shape)  # the output has the loop nest's shape
    np.testing.assert_allclose(arrays.back(out).reshape(shape), expect, rtol=1e-13)


def test_broadcast_strides():
    np.testing.assert_array_equal(ew.broadcast_strides((7,), (5, 7)), [0, 1])
    np.testing.assert_array_equal(ew.broadcast_strides((5, 1), (5, 7)), [1, 0])
    np.testing.assert_array_equal(ew.broadcast_strides((), (2, 3)), [0, 0])
    with pytest.raises(ValueError, match="cannot broadcast"):
        ew.broadcast_strides((3,), (5, 7))
    with pytest.raises(ValueError, match="takes 1..4 inputs"):
        ew.map_kernel(_diff_sq, 5, 1, "sim")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_map_compiles_to_sm90_ptx(ptx_ok, dtype):
    from numba import from_dtype, int64

    from looptrace.codegen.cuda import ptxinfo

    nb = from_dtype(np.dtype(dtype))
    v, i = nb[:], int64[:]
    res = ptxinfo.kernel_resources(ew.map_kernel(ew.gaussian_rows, 2, 2, "gpu"), (v, i, v, i, v, i))
    assert 0 < res.registers <= 255 and not res.spills and res.shared_bytes <= 1024
    ptx = ptxinfo.compile_ptx(ew.map_kernel(ew.gaussian_rows, 2, 2, "gpu"), (v, i, v, i, v, i))
    assert ".extern .func" not in ptx  # exp and sqrt are libdevice code inlined in the kernel: no calls out
