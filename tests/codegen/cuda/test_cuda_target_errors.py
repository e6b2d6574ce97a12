"""Errors of the cuda target: each names the user's line, never a numba traceback.

- an index out of range found on the device (a gather, a dynamic slice
  inside a persistent kernel) is an IndexError naming the line, raised after
  the call from the call's error flag; nothing outside an array was read;
- a start known to the host is checked there, at once;
- float16 is refused with UnsupportedError, as on the CPU;
- a kernel numba.cuda cannot compile is an InternalError naming the op's line;
- no GPU and no simulator allowed: CudaUnavailableError saying why.
"""
import numpy as np
import pytest

import looptrace as lt
from looptrace.codegen.cuda import runtime
from looptrace.errors import InternalError, UnsupportedError

from _cuda_support import HAVE_DEVICE, cuda_backend


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def gather_rows(x, idx):
    return x[idx] * 2.0  # the gather


def test_bad_gather_index_is_an_index_error_naming_the_line(rng):
    x = rng.standard_normal((4, 3))
    f = lt.jit(gather_rows, backend="cuda")
    np.testing.assert_allclose(f(x, np.array([0, -1, 2])), gather_rows(x, np.array([0, -1, 2])))
    with pytest.raises(IndexError, match=r"index 7 is out of bounds for axis 0 with size 4") as info:
        f(x, np.array([0, 7, 1]))
    assert "x[idx] * 2.0" in str(info.value) and "test_cuda_target_errors.py" in str(info.value)


def walk_pointer(x, start):
    h = 0.0
    i = start
    for t in range(x.shape[0]):
        h = np.tanh(h + x[i])  # i leaves the array when the walk goes too far
        i = i + 1 + int(h > 2.0)
    return h


def test_bad_index_inside_a_persistent_kernel(rng):
    x = rng.uniform(0.1, 0.5, 6)
    f = lt.jit(walk_pointer, backend="cuda")
    assert f(x[:3].copy(), 0) == pytest.approx(walk_pointer(x[:3].copy(), 0))
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 6") as info:
        f(x, 2)
    assert "h = np.tanh(h + x[i])" in str(info.value)


def test_a_start_known_to_the_host_is_checked_there(rng):
    def tail(x, k):
        return x[k:k + 2] * 1.0 if False else np.tanh(x[k])

    f = lt.jit(tail, backend="cuda")
    with pytest.raises(IndexError, match="out of bounds") as info:
        f(rng.standard_normal(3), 5)
    assert "np.tanh(x[k])" in str(info.value)


def test_float16_is_refused_clearly(rng):
    with pytest.raises(UnsupportedError, match="float16 arrays are not supported by the cuda backend"):
        lt.jit(lambda x: x * 2, backend="cuda")(rng.standard_normal(3).astype(np.float16))

    def widen(x):
        return x.astype(np.float16)

    with pytest.raises(UnsupportedError, match="computes in float16") as info:
        lt.jit(widen, backend="cuda")(rng.standard_normal(3))
    assert "x.astype(np.float16)" in str(info.value)


def test_a_kernel_that_does_not_compile_names_the_users_line(rng, monkeypatch):
    from looptrace.codegen.cuda.rules import scalar

    broken = scalar.TARGET.rules["sin"]
    monkeypatch.setitem(scalar.TARGET.rules, "sin", type(broken)(lambda args, i, o: f"no_such_function({args[0]})"))

    def f(x):
        return np.sin(x) + 1.0

    with pytest.raises(InternalError, match=r"could not compile `sin`") as info:
        lt.jit(f, backend="cuda")(rng.standard_normal(4))
    assert "return np.sin(x) + 1.0" in str(info.value) and "no_such_function" in str(info.value)


@pytest.mark.skipif(HAVE_DEVICE, reason="a GPU is usable here")
def test_no_gpu_and_no_simulator_is_a_clear_error(monkeypatch, rng):
    if runtime.env_simulator():
        pytest.skip("NUMBA_ENABLE_CUDASIM=1")
    monkeypatch.delenv("LOOPTRACE_CUDA_SIM")
    with pytest.raises(runtime.CudaUnavailableError, match="found no usable GPU"):
        lt.jit(lambda x: x + 1, backend="cuda")(rng.standard_normal(2))


def halvings(x, tol):
    mids = []
    while x > tol:
        mids.append(x)  # the list the cuda backend refuses to grow
        x = 0.5 * x
    return np.array(mids)


def test_a_list_grown_in_a_while_loop_is_refused_at_the_append():
    with pytest.raises(UnsupportedError, match="appended to in a while loop") as info:
        lt.jit(halvings, backend="cuda")(1.0, 0.1)
    assert "mids.append(x)" in str(info.value) and info.value.hint
