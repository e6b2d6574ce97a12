"""Fixtures for the CUDA kernel library tests.

A test that needs numba-cuda (the `cuda` extra) is skipped, with the
reason, where it is not usable (`require_cuda`); the rest (error messages,
plans, budgets, parsing) runs everywhere. Values are checked under the CUDA
simulator ("sim" mode: small sizes, one block at a time, no type checking)
and, where a GPU is usable, on it as well ("gpu" mode, marked `gpu`). Types
and lowering are checked by compiling the same kernels to sm_90 PTX, which
needs numba-cuda[cu12] (NVVM, nvJitLink) but no GPU; that is skipped when
NUMBA_ENABLE_CUDASIM=1 made numba.cuda the simulator.
"""
import pytest

from looptrace.codegen.cuda import runtime

from _cuda_support import HAVE_DEVICE, Arrays, require_cuda


# "sim" always; "gpu" only where a device is usable (and marked so `-m gpu` selects it).
MODES = [
    "sim",
    pytest.param("gpu", marks=[pytest.mark.gpu, pytest.mark.skipif(not HAVE_DEVICE, reason="no usable GPU")]),
]


@pytest.fixture(params=MODES)
def mode(request):
    require_cuda()
    return request.param


@pytest.fixture
def ptx_ok():
    """Skip unless kernels can be compiled to PTX in this process."""
    require_cuda()
    if runtime.env_simulator():
        pytest.skip("NUMBA_ENABLE_CUDASIM=1: numba.cuda is the simulator, no PTX compiler")


@pytest.fixture
def arrays(mode):
    return Arrays(mode)
