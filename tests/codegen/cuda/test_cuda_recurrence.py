"""Persistent scan kernels (codegen/cuda/recurrence.py, cooperative.py) against the plain loops.

rnn_taps after hoisting: h_t = tanh(W h_{t-1} + U_t). The forward kernels
against the NumPy loop; the reverse kernel against the NumPy adjoint and,
in float64, the resulting gradients against central finite differences of
the plain forward loop. Small sizes under the simulator, with the matrix
in shared memory and in global memory, and with fewer threads than rows
(each thread then owns several rows). The cooperative kernel runs as ONE
block under the simulator (its grid sync is then a block barrier): the
simulator cannot check synchronization between blocks; the `gpu` test
does, on a device.
"""
import numpy as np
import pytest

from looptrace.codegen.cuda import cooperative as coop
from looptrace.codegen.cuda import limits
from looptrace.codegen.cuda import recurrence as rec

from _cuda_support import Arrays, HAVE_DEVICE


def rnn_data(rng, T, n, dtype):
    U = rng.uniform(-1, 1, (T, n)).astype(dtype)
    W = (rng.uniform(-1, 1, (n, n)) / np.sqrt(n)).astype(dtype)
    h0 = rng.uniform(-1, 1, n).astype(dtype)
    return U, W, h0


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


def plan(n, dtype, in_shared, threads=None):
    p = rec.plan_single_block(n, dtype)
    item = np.dtype(dtype).itemsize
    return rec.PersistentPlan(threads or p.threads, (2 * n + (n * n if in_shared else 0)) * item, in_shared, "test")


def forward(arrays, U, W, h0, p):
    Y = arrays.empty(U.shape, U.dtype)
    rec.launch_forward(arrays.to(U), arrays.to(np.ascontiguousarray(W.T)), arrays.to(h0), Y, arrays.mode, p)
    return arrays.back(Y)


def reverse(arrays, Y, W, GY, g_last, h0, p):
    DA, gh0 = arrays.empty(Y.shape, Y.dtype), arrays.empty(h0.shape, h0.dtype)
    rec.launch_reverse(arrays.to(Y), arrays.to(W), arrays.to(GY), arrays.to(g_last), arrays.to(h0), DA, gh0,
                       arrays.mode, p)
    return arrays.back(DA), arrays.back(gh0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("in_shared", [True, False])
def test_forward_matches_the_loop(arrays, rng, dtype, in_shared):
    U, W, h0 = rnn_data(rng, 9, 12, dtype)
    Y = forward(arrays, U, W, h0, plan(12, dtype, in_shared))
    assert Y.dtype == dtype
    np.testing.assert_allclose(Y, rec.forward_reference(U, W, h0), **tol(dtype))


def test_forward_with_fewer_threads_than_rows(arrays, rng):
    U, W, h0 = rnn_data(rng, 5, 21, np.float64)
    for in_shared in (True, False):
        Y = forward(arrays, U, W, h0, plan(21, np.float64, in_shared, threads=8))
        np.testing.assert_allclose(Y, rec.forward_reference(U, W, h0), **tol(np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("in_shared", [True, False])
def test_reverse_matches_the_adjoint_loop(arrays, rng, dtype, in_shared):
    U, W, h0 = rnn_data(rng, 8, 11, dtype)
    Y = rec.forward_reference(U, W, h0)
    GY, g_last = rng.standard_normal(Y.shape).astype(dtype), rng.standard_normal(11).astype(dtype)
    DA, gh0 = reverse(arrays, Y, W, GY, g_last, h0, plan(11, dtype, in_shared, threads=8))
    DA_ref, gh0_ref, _ = rec.reverse_reference(Y, W, GY, g_last, h0)
    np.testing.assert_allclose(DA, DA_ref, **tol(dtype))
    np.testing.assert_allclose(gh0, gh0_ref, **tol(dtype))


def test_zero_steps(arrays, rng):
    U, W, h0 = rnn_data(rng, 0, 5, np.float64)
    p = plan(5, np.float64, True)
    assert forward(arrays, U, W, h0, p).shape == (0, 5)
    g_last = rng.standard_normal(5)
    DA, gh0 = reverse(arrays, np.empty((0, 5)), W, np.empty((0, 5)), g_last, h0, p)
    np.testing.assert_array_equal(gh0, g_last)


def test_gradients_match_finite_differences(rng):
    """L = sum(G * Y) + g_last . h_T: the kernels' DA, gh0 and DA^T H_prev against central differences."""
    arrays = Arrays("sim")
    T, n = 6, 7
    U, W, h0 = rnn_data(rng, T, n, np.float64)
    G, g_last = rng.standard_normal((T, n)), rng.standard_normal(n)

    def loss(U, W, h0):
        Y = rec.forward_reference(U, W, h0)
        return np.sum(G * Y) + g_last @ Y[-1]

    Y = forward(arrays, U, W, h0, plan(n, np.float64, True))
    DA, gh0 = reverse(arrays, Y, W, G, g_last, h0, plan(n, np.float64, False))
    dW = DA.T @ np.concatenate([h0[None], Y[:-1]])
    for _ in range(3):
        dU, dWd, dh = rng.standard_normal(U.shape), rng.standard_normal(W.shape), rng.standard_normal(n)
        eps = 1e-6
        fd = (loss(U + eps * dU, W + eps * dWd, h0 + eps * dh) - loss(U - eps * dU, W - eps * dWd, h0 - eps * dh)) / (2 * eps)
        analytic = np.sum(DA * dU) + np.sum(dW * dWd) + gh0 @ dh
        np.testing.assert_allclose(analytic, fd, rtol=1e-7, atol=1e-9)


def test_plan_budget_rules():
    f64, f32 = rec.plan_single_block(200, np.float64), rec.plan_single_block(200, np.float32)
    assert not f64.matrix_in_shared and f64.shared_bytes == 2 * 200 * 8  # 320 KB W: from L2
    assert f32.matrix_in_shared and f32.shared_bytes == (400 + 40000) * 4  # 160 KB W: in shared
    assert f32.threads == 224 and f64.threads == 224
    big = rec.plan_single_block(512, np.float32)
    assert not big.matrix_in_shared and big.threads == 512
    assert rec.plan_single_block(4096, np.float32).threads == 1024


def coop_plan(arrays, n, dtype, in_shared, threads=8):
    max_blocks = 1 if arrays.mode == "sim" else 4
    p = coop.plan_cooperative(n, dtype, max_blocks)
    item = np.dtype(dtype).itemsize
    return coop.CooperativePlan(p.blocks, threads, p.rows_per_block,
                                (n + (n * p.rows_per_block if in_shared else 0)) * item, in_shared, "test")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("in_shared", [True, False])
def test_cooperative_forward_as_one_block(arrays, rng, dtype, in_shared):
    U, W, h0 = rnn_data(rng, 7, 13, dtype)
    p = coop_plan(arrays, 13, dtype, in_shared)
    Y, H = arrays.empty(U.shape, dtype), arrays.empty((2, 13), dtype)
    coop.launch_coop_forward(arrays.to(U), arrays.to(np.ascontiguousarray(W.T)), arrays.to(h0), Y, H,
                             arrays.mode, p)
    np.testing.assert_allclose(arrays.back(Y), rec.forward_reference(U, W, h0), **tol(dtype))


def four_blocks(n, dtype):
    """Four blocks of 64 threads, W^T slices in shared memory (above 48 KiB in float64): syncs between blocks."""
    rows = -(-n // 4)
    return coop.CooperativePlan(4, 64, rows, (n + n * rows) * np.dtype(dtype).itemsize, True, "test")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("in_shared", [True, False])
def test_cooperative_reverse_as_one_block(arrays, rng, dtype, in_shared):
    U, W, h0 = rnn_data(rng, 6, 9, dtype)
    Y = rec.forward_reference(U, W, h0)
    GY, g_last = rng.standard_normal(Y.shape).astype(dtype), rng.standard_normal(9).astype(dtype)
    DA, gh0, D = arrays.empty(Y.shape, dtype), arrays.empty(9, dtype), arrays.empty((2, 9), dtype)
    coop.launch_coop_reverse(arrays.to(Y), arrays.to(W), arrays.to(GY), arrays.to(g_last), DA, gh0, D,
                             arrays.mode, coop_plan(arrays, 9, dtype, in_shared))
    DA_ref, gh0_ref, _ = rec.reverse_reference(Y, W, GY, g_last, h0)
    np.testing.assert_allclose(arrays.back(DA), DA_ref, **tol(dtype))
    np.testing.assert_allclose(arrays.back(gh0), gh0_ref, **tol(dtype))


def test_cooperative_reverse_zero_steps(rng):
    arrays = Arrays("sim")
    W, g_last = rng.standard_normal((4, 4)), rng.standard_normal(4)
    DA, gh0, D = arrays.empty((0, 4), np.float64), arrays.empty(4, np.float64), arrays.empty((2, 4), np.float64)
    coop.launch_coop_reverse(arrays.to(np.empty((0, 4))), arrays.to(W), arrays.to(np.empty((0, 4))),
                             arrays.to(g_last), DA, gh0, D, "sim", coop_plan(arrays, 4, np.float64, True))
    np.testing.assert_array_equal(arrays.back(gh0), g_last)


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_DEVICE, reason="no usable GPU")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cooperative_reverse_many_blocks_on_the_device(rng, dtype):
    arrays = Arrays("gpu")
    T, n = 500, 200
    U, W, h0 = rnn_data(rng, T, n, dtype)
    Y = rec.forward_reference(U, W, h0)
    GY, g_last = np.ones((T, n), dtype), np.zeros(n, dtype)
    p = four_blocks(n, dtype)  # the launch checks max_cooperative_grid_blocks and raises the shared limit
    DA, gh0, D = arrays.empty((T, n), dtype), arrays.empty(n, dtype), arrays.empty((2, n), dtype)
    coop.launch_coop_reverse(arrays.to(Y), arrays.to(W), arrays.to(GY), arrays.to(g_last), DA, gh0, D, "gpu", p)
    DA_ref, gh0_ref, _ = rec.reverse_reference(Y, W, GY, g_last, h0)
    np.testing.assert_allclose(arrays.back(DA), DA_ref, **tol(dtype))
    np.testing.assert_allclose(arrays.back(gh0), gh0_ref, **tol(dtype))


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_DEVICE, reason="no usable GPU")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cooperative_forward_many_blocks_on_the_device(rng, dtype):
    """Grid sync between blocks: what the simulator cannot check. rnn_taps seed size, float64 W in shared slices."""
    arrays = Arrays("gpu")
    T, n = 1000, 200
    U, W, h0 = rnn_data(rng, T, n, dtype)
    p = four_blocks(n, dtype)  # the launch checks max_cooperative_grid_blocks and raises the shared limit
    Y, H = arrays.empty(U.shape, dtype), arrays.empty((2, n), dtype)
    coop.launch_coop_forward(arrays.to(U), arrays.to(np.ascontiguousarray(W.T)), arrays.to(h0), Y, H, "gpu", p)
    np.testing.assert_allclose(arrays.back(Y), rec.forward_reference(U, W, h0), **tol(dtype))


def test_cooperative_plan():
    p = coop.plan_cooperative(200, np.float64, 132)
    assert p.matrix_in_shared and p.blocks == 2 and p.rows_per_block == 100
    assert p.shared_bytes == (200 + 200 * 100) * 8 <= limits.HOPPER.max_shared_per_block_optin
    assert not coop.plan_cooperative(4096, np.float64, 4).matrix_in_shared


def _sig(dtype, ndims):
    from numba import from_dtype

    nb = from_dtype(np.dtype(dtype))
    return tuple(nb[(slice(None),) * d] for d in ndims)


# float32 with -m slow (1.8 s outside shared memory in session 54's CI, 3.3 s in it in 0bc3f38's): the same
# four kernels in the narrower dtype; float64 holds twice the registers (the limit this checks), in shared
# memory and out of it, and the float32 kernels run under the simulator (test_forward_matches_the_loop)
@pytest.mark.parametrize("dtype, in_shared", [pytest.param("float32", True, marks=pytest.mark.slow), ("float64", True),
                                              pytest.param("float32", False, marks=pytest.mark.slow), ("float64", False)])
def test_compile_to_sm90_ptx(ptx_ok, dtype, in_shared):
    from looptrace.codegen.cuda import ptxinfo

    fwd = ptxinfo.kernel_resources(rec.rnn_forward_kernel(dtype, in_shared, "gpu"), _sig(dtype, (2, 2, 1, 2)))
    rev = ptxinfo.kernel_resources(rec.rnn_reverse_kernel(dtype, in_shared, "gpu"),
                                   _sig(dtype, (2, 2, 2, 1, 1, 2, 1)))
    cop = ptxinfo.kernel_resources(coop.coop_forward_kernel(dtype, in_shared, "gpu"), _sig(dtype, (2, 2, 1, 2, 2)))
    crev = ptxinfo.kernel_resources(coop.coop_reverse_kernel(dtype, in_shared, "gpu"),
                                    _sig(dtype, (2, 2, 2, 1, 2, 1, 2)))
    for res in (fwd, rev, cop, crev):
        assert 0 < res.registers <= 255 and not res.spills and res.local_bytes == 0
        assert res.barriers >= 1  # syncthreads
