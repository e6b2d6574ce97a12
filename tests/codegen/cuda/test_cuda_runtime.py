"""numba-cuda access (codegen/cuda/runtime.py), PTX resources (ptxinfo.py), and what the simulator supports.

The feature kernel below uses each CUDA feature the kernel library relies on
(shared and local arrays, syncthreads, atomics, grid sync, device
functions, math functions, float32 and float64); it runs under the
simulator and compiles to sm_90 PTX, which records both facts in CI.
"""
import math

import numpy as np
import pytest

from looptrace.codegen.cuda import ptxinfo, runtime
from looptrace.errors import LooptraceError

from _cuda_support import HAVE_DEVICE, require_cuda


def test_missing_numba_cuda_is_a_clear_import_error(monkeypatch):
    monkeypatch.setattr(runtime, "numba_cuda_version", lambda: None)
    with pytest.raises(runtime.CudaUnavailableError) as info:
        runtime.numba_cuda()
    assert isinstance(info.value, ImportError) and isinstance(info.value, LooptraceError)
    assert "needs the numba-cuda package" in str(info.value) and "looptrace[cuda]" in str(info.value)
    assert not runtime.device_available()


def test_numpy_25_with_numba_cuda_0304_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setattr(runtime, "numba_cuda_version", lambda: (0, 30, 4))
    monkeypatch.setattr(runtime.np, "__version__", "2.5.2")
    with pytest.raises(runtime.CudaUnavailableError, match=r"np.row_stack[\s\S]*numpy<2.5"):
        runtime.check_installation()
    monkeypatch.setattr(runtime.np, "__version__", "2.4.6")
    runtime.check_installation()


@pytest.mark.skipif(HAVE_DEVICE, reason="a GPU is usable here")
def test_no_gpu_is_a_clear_error_not_a_driver_traceback():
    require_cuda()
    if runtime.env_simulator():
        pytest.skip("NUMBA_ENABLE_CUDASIM=1")
    assert not runtime.device_available()
    with pytest.raises(runtime.CudaUnavailableError, match="found no usable GPU") as info:
        runtime.require_device()
    assert "hint: run on a machine with an NVIDIA GPU" in str(info.value)


def test_bad_mode():
    with pytest.raises(ValueError, match="mode must be one of"):
        runtime.jit("cpu")


def test_ptxas_report_is_parsed():
    log = ("ptxas         .     0 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads\n"
           "info    : used 40 registers, used 1 barriers, 16 stack, 2048 bytes smem, 644 bytes cmem[0], 0 bytes lmem\n")
    match = ptxinfo._last(ptxinfo._USED, log)
    assert match.group("regs") == "40" and match.group("smem") == "2048" and match.group("stack") == "16"
    spills = ptxinfo._last(ptxinfo._SPILLS, log)
    assert spills.group("stores") == "8" and spills.group("loads") == "4"


cuda = None  # the kernels' CUDA namespace (bound below)


def _features(nbtype, cast):
    def twice(v):
        return v + v

    def features(x, out, counts):
        sm = cuda.shared.array(32, nbtype)
        loc = cuda.local.array(2, nbtype)
        i = cuda.threadIdx.x
        sm[i] = x[i]
        cuda.syncthreads()
        cuda.cg.this_grid().sync()
        loc[0] = sm[31 - i]
        loc[1] = math.sqrt(math.exp(loc[0]) + math.sin(loc[0]) ** 2)
        out[i] = twice_dev(loc[1]) + math.tanh(loc[0]) + cast(cuda.blockDim.x)
        cuda.atomic.add(counts, 0, 1)

    return twice, features


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_simulator_features(rng, dtype):
    global cuda, twice_dev
    require_cuda()
    runtime.bind_cuda(globals())
    from numba import from_dtype

    twice, features = _features(from_dtype(np.dtype(dtype)), np.dtype(dtype).type)
    sim = runtime.simulator()
    twice_dev = sim.jit(device=True)(twice)
    x, out, counts = rng.standard_normal(32).astype(dtype), np.zeros(32, dtype), np.zeros(2, np.int64)
    sim.jit(features)[1, 32](x, out, counts)
    r = x[::-1].astype(np.float64)
    expect = 2 * np.sqrt(np.exp(r) + np.sin(r) ** 2) + np.tanh(r) + 32
    np.testing.assert_allclose(out, expect, rtol=1e-5 if dtype == np.float32 else 1e-13)
    assert counts[0] == 32
    if not runtime.env_simulator():
        twice_dev = runtime.numba_cuda().jit(device=True)(twice)
        from numba import int64

        nb = from_dtype(np.dtype(dtype))
        res = ptxinfo.kernel_resources(features, (nb[:], nb[:], int64[:]))
        assert res.registers > 0 and res.shared_bytes >= 32 * np.dtype(dtype).itemsize


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_DEVICE, reason="no usable GPU")
def test_cupy_and_numba_share_device_memory_without_copies():
    """The cuBLAS route: numba device arrays <-> CuPy arrays through __cuda_array_interface__, same pointer."""
    cp = pytest.importorskip("cupy")
    cuda = runtime.require_device()
    dev = cuda.to_device(np.arange(12.0).reshape(3, 4))
    view = cp.asarray(dev)
    assert view.data.ptr == dev.__cuda_array_interface__["data"][0]
    product = view @ view.T  # cuBLAS
    back = cuda.as_cuda_array(product)  # seen by numba without a copy
    assert back.__cuda_array_interface__["data"][0] == product.data.ptr
    np.testing.assert_allclose(back.copy_to_host(), dev.copy_to_host() @ dev.copy_to_host().T)


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_DEVICE, reason="no usable GPU")
def test_device_limits_and_big_dynamic_shared_memory(rng):
    """float32 W 200x200 (160 KB) in shared memory needs the raised dynamic limit: the rnn_taps seed size."""
    from looptrace.codegen.cuda import limits
    from looptrace.codegen.cuda import recurrence as rec
    lim = limits.device_limits()
    assert lim.cc >= (7, 0) and lim.max_shared_per_block_optin > limits.STATIC_SHARED_LIMIT
    T, n = 50, 200
    U, W, h0 = (rng.uniform(-1, 1, (T, n)).astype(np.float32), (rng.uniform(-1, 1, (n, n)) / 15).astype(np.float32),
                rng.uniform(-1, 1, n).astype(np.float32))
    plan = rec.plan_single_block(n, np.float32, lim)
    assert plan.matrix_in_shared and plan.shared_bytes > limits.STATIC_SHARED_LIMIT
    cuda = runtime.require_device()
    Y = cuda.device_array((T, n), np.float32)
    # launch_forward raises the kernel's dynamic shared-memory limit (limits.prepare_launch)
    rec.launch_forward(cuda.to_device(U), cuda.to_device(np.ascontiguousarray(W.T)), cuda.to_device(h0), Y, "gpu", plan)
    np.testing.assert_allclose(Y.copy_to_host(), rec.forward_reference(U, W, h0), rtol=2e-5, atol=2e-6)


def test_a_call_does_not_read_package_metadata(monkeypatch):
    """numba-cuda's version is read once per process: importlib.metadata parses
    the METADATA file on every call (0.75 ms here), and a cuda call asked four
    times, which was most of a warm call's host time (1.07 ms -> 0.10 ms for
    gaussian_layer with the kernels left out, under the simulator)."""
    import importlib.metadata

    import looptrace as lt
    from looptrace.examples import _gauss_args, gaussian_layer

    require_cuda()
    args = _gauss_args(np.random.default_rng(1), B=3, D=2, H=2)
    jitted = lt.jit(gaussian_layer, backend="cuda")
    jitted(*args)
    reads = []
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: reads.append(name) or real(name))
    out = jitted(*args)
    np.testing.assert_allclose(out, gaussian_layer(*args), rtol=1e-12)
    assert reads == []
