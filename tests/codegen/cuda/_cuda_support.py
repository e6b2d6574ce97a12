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


# --- the cuda target (backend="cuda"), under the simulator here ----------------------------------------
def cuda_backend():
    """Skip unless backend="cuda" can run here (a GPU, or the simulator allowed by tests/conftest.py)."""
    require_cuda()
    from looptrace.codegen import cuda_available

    if not cuda_available():
        pytest.skip("backend='cuda' is not available here")


def fresh(args):
    """Copies of the arguments (a generator copied with its state)."""
    out = []
    for a in args:
        if isinstance(a, np.random.Generator):
            g = np.random.default_rng()
            g.bit_generator.state = a.bit_generator.state
            out.append(g)
        else:
            out.append(np.array(a, copy=True) if isinstance(a, np.ndarray) else a)
    return out


def assert_like_plain(fn, args, got_fn, rtol=1e-9, atol=1e-12):
    """got_fn(*args) returns what fn(*args) returns and leaves the arguments as fn does."""
    want_args, got_args = fresh(args), fresh(args)
    want = fn(*want_args)
    got = got_fn(*got_args)
    flat_want = want if isinstance(want, tuple) else (want,)
    flat_got = got if isinstance(got, tuple) else (got,)
    assert len(flat_want) == len(flat_got)
    for w, g in zip(flat_want, flat_got):
        assert isinstance(g, (np.ndarray, np.generic, float, int, bool)), type(g)
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol)
        assert np.asarray(g).shape == np.asarray(w).shape
        assert np.asarray(g).dtype == np.asarray(w).dtype
    for a, b in zip(want_args, got_args):
        if isinstance(a, np.random.Generator):
            assert a.bit_generator.state == b.bit_generator.state
        elif isinstance(a, np.ndarray):
            np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)
    return got
