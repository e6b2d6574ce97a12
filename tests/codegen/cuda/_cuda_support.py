"""Helpers shared by the CUDA kernel tests."""
import numpy as np
import pytest

from looptrace.codegen.cuda import runtime

try:
    runtime.check_installation()
    CUDA_REASON = None
except runtime.CudaUnavailableError as e:
    CUDA_REASON = str(e).splitlines()[0]

HAVE_DEVICE = CUDA_REASON is None and runtime.device_available()


def require_cuda():
    """Skip the calling test where numba-cuda is not usable (tests that need none of it run anyway)."""
    if CUDA_REASON is not None:
        pytest.skip(f"numba-cuda unusable here: {CUDA_REASON}")


class Arrays:
    """Moves arrays to and from the mode's memory (device arrays on the GPU, fakes under the simulator)."""

    def __init__(self, mode):
        require_cuda()
        self.mode = mode
        self.ns = runtime.namespace(mode)

    def to(self, a):
        return self.ns.to_device(np.ascontiguousarray(a))

    def empty(self, shape, dtype):
        return self.ns.device_array(shape, dtype=dtype)

    @staticmethod
    def back(a):
        return a.copy_to_host() if hasattr(a, "copy_to_host") else np.asarray(a)
