"""Wrong answers of the cuda backend a probe found (session 33), under the
simulator: a write into the result of a broadcast wrote every row (the
update was made in place in the broadcast's small buffer, codegen/cuda/
emitter.py `writable`), and int8/int16/int32 sums wrapped in the input type
(the accumulator started as a bare `0`, a Python int to the simulator, where
NumPy 2 keeps `0 + int8` in int8: codegen/cuda/fuse.py `fold_init`)."""
import numpy as np
import pytest

import looptrace as lt

from _cuda_support import assert_like_plain, cuda_backend


def ones_times(v):
    out = v * np.ones((2, 3))
    out[0, 0] = 5.0
    return out


def zeros_plus_column(v):
    out = np.zeros((3, 4)) + v[:, None]
    out[1] = 7.0
    return out, out.sum()


def into_argument(A, v):
    A[:] = v + np.zeros_like(A)
    A[0, 0] = 9.0
    return A.sum()


def scatter_into(v, idx, B):
    out = np.expand_dims(v, 0) * np.ones((3, 1))
    out[:, idx] += B
    return out


@pytest.mark.parametrize("fn, make", [
    (ones_times, lambda r: (r.standard_normal(3),)),
    (zeros_plus_column, lambda r: (r.standard_normal(3),)),
    (into_argument, lambda r: (np.zeros((2, 3)), r.standard_normal(3))),
    (scatter_into, lambda r: (r.standard_normal(4), np.array([0, 2]), r.standard_normal((3, 2)))),
], ids=lambda x: getattr(x, "__name__", ""))
def test_writes_into_a_broadcast_result(fn, make):
    cuda_backend()
    args = make(np.random.default_rng(3))
    assert_like_plain(fn, args, lt.jit(fn, backend="cuda"))


def sums(x):
    return x.sum(), x.sum(axis=1), x.prod()


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.uint8])
def test_narrow_integer_sums_accumulate_in_int64(dtype):
    cuda_backend()
    x = np.array([[100, 100, 100], [100, 100, 34]], dtype=dtype)
    assert_like_plain(sums, (x,), lt.jit(sums, backend="cuda"))


def running_max(x):
    m = -np.inf
    for i in range(x.shape[0]):
        m = max(m, x[i])
    return m


def test_gradient_of_a_running_max_from_minus_inf():
    cuda_backend()
    x = np.random.default_rng(4).standard_normal(6)
    want = np.zeros(6)
    want[np.argmax(x)] = 1.0
    np.testing.assert_array_equal(lt.grad(lt.jit(running_max, backend="cuda"))(x), want)


def chain(A, k):
    P = np.eye(A.shape[0])
    for _ in range(k):
        P = P @ A
    return P


def recurrence(a, x):
    s = 0.0
    y = np.empty_like(x)
    for t in range(x.shape[0]):
        s = a[t] * s + x[t]
        y[t] = s
    return y


def test_explain_names_the_gpu_strategy_of_scans_the_vectorizer_rewrote():
    """A product chain (repeated squaring) and a linear recurrence (a prefix
    scan) named no GPU strategy: the scan op had its update's line, not the
    loop's, and the product chain noted nothing."""
    cuda_backend()
    r = np.random.default_rng(0)
    for fn, args in ((chain, (r.standard_normal((3, 3)), 5)),
                     (recurrence, (r.uniform(-0.9, 0.9, 8), r.standard_normal(8)))):
        (loop,) = lt.explain(lt.jit(fn, backend="cuda"), *args).loops
        assert "GPU:" in loop.reason, loop.reason
