"""Fixtures for the CUDA kernel library tests.

Every test here needs numba-cuda (the `cuda` extra) and is skipped, with the
reason, where it is not installed. Values are checked under the CUDA
simulator ("sim" mode: small sizes, one block at a time, no type checking)
and, where a GPU is usable, on it as well ("gpu" mode, marked `gpu`). Types
and lowering are checked by compiling the same kernels to sm_90 PTX, which
needs numba-cuda[cu12] (NVVM, nvJitLink) but no GPU; that is skipped when
NUMBA_ENABLE_CUDASIM=1 made numba.cuda the simulator.
"""
import numpy as np
import pytest

from looptrace.codegen.cuda import runtime

from _cuda_support import CUDA_REASON, HAVE_DEVICE, Arrays


def pytest_collection_modifyitems(config, items):
    if CUDA_REASON is None:
        return
    skip = pytest.mark.skip(reason=f"numba-cuda unusable here: {CUDA_REASON}")
    for item in items:
        if "codegen/cuda" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)


# "sim" always; "gpu" only where a device is usable (and marked so `-m gpu` selects it).
MODES = [
    "sim",
    pytest.param("gpu", marks=[pytest.mark.gpu, pytest.mark.skipif(not HAVE_DEVICE, reason="no usable GPU")]),
]


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


@pytest.fixture
def ptx_ok():
    """Skip unless kernels can be compiled to PTX in this process."""
    if CUDA_REASON is not None:
        pytest.skip(CUDA_REASON)
    if runtime.env_simulator():
        pytest.skip("NUMBA_ENABLE_CUDASIM=1: numba.cuda is the simulator, no PTX compiler")


@pytest.fixture
def arrays(mode):
    return Arrays(mode)
