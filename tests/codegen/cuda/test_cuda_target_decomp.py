"""np.linalg.solve / inv / det / cholesky on the cuda target, under the
simulator, against the plain function on fresh random data: one matrix and
batches (3-d), float32, inside a loop that runs as one persistent kernel or
host-driven steps, and complex refused with a clear error."""
import numpy as np
import pytest

import looptrace as lt

from _cuda_support import assert_like_plain, cuda_backend


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def square(rng, shape, dtype="float64"):
    return (rng.standard_normal(shape) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def spd(rng, shape, dtype="float64"):
    m = rng.standard_normal(shape)
    return (m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def all_four(a, b, s):
    return np.linalg.solve(a, b), np.linalg.inv(a), np.linalg.det(a), np.linalg.cholesky(s)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_matrix_and_a_batch(rng, dtype):
    f, rtol = lt.jit(all_four, backend="cuda"), 1e-9 if dtype == "float64" else 1e-4
    assert_like_plain(all_four, [square(rng, (4, 4), dtype), rng.standard_normal(4).astype(dtype),
                                 spd(rng, (4, 4), dtype)], f, rtol=rtol, atol=rtol)
    assert_like_plain(all_four, [square(rng, (3, 3, 3), dtype), rng.standard_normal((3, 3, 2)).astype(dtype),
                                 spd(rng, (2, 3, 3), dtype)], f, rtol=rtol, atol=rtol)


def cholesky_steps(A, x, T):
    for t in range(T):
        x = np.linalg.solve(A + np.outer(x, x), x) + np.linalg.cholesky(A + np.outer(x, x)) @ x
    return x


@pytest.mark.parametrize("scan", ["single", "host"])
def test_decompositions_in_a_loop(rng, monkeypatch, scan):
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", scan)
    args = [spd(rng, (3, 3)), 0.3 * rng.standard_normal(3), 4]
    assert_like_plain(cholesky_steps, args, lt.jit(cholesky_steps, backend="cuda"))


def test_complex_is_a_clear_error(rng):
    z = square(rng, (3, 3)) + 1j * rng.standard_normal((3, 3))
    with pytest.raises(lt.UnsupportedError, match="`inv` on complex128"):
        lt.jit(lambda z: np.linalg.inv(z), backend="cuda")(z)
