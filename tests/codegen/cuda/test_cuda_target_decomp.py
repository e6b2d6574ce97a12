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


def solve_into(a, b, out):
    out[:] = 1.0 + b  # written before the solve raises, in Python
    return np.linalg.solve(a, b), np.linalg.inv(a)


@pytest.mark.parametrize("bad", [0, 2])
def test_singular_and_indefinite_raise_linalgerror_as_numpy_does(rng, bad):
    """A zero pivot or a non-positive diagonal reports into the call's error
    flag: LinAlgError with NumPy's message, at the user's line, and the
    argument as the plain function leaves it (written before the error:
    api.py `_after_failure`)."""
    a = square(rng, (3, 4, 4))
    a[bad, :, 1] = 0.0  # a zero column: a zero pivot for LAPACK and for the elimination here
    b, out = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 4, 2))
    plain = out.copy()
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        solve_into(a, b, plain)
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix") as e:
        lt.jit(solve_into, backend="cuda")(a, b, out)
    assert "solve_into" not in str(e.value) or "line" in str(e.value)
    np.testing.assert_array_equal(out, plain)
    s = spd(rng, (2, 3, 3))
    s[bad % 2, 1, 1] = -1.0
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        np.linalg.cholesky(s)
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        lt.jit(lambda s: np.linalg.cholesky(s), backend="cuda")(s)
    np.testing.assert_allclose(lt.jit(lambda a: np.linalg.det(a), backend="cuda")(a), np.linalg.det(a),
                               atol=1e-9)  # det of a singular matrix is no error


def test_det_gradient_past_the_minors_keeps_a_rule_cuda_lowers(rng):
    """Above 4x4 the cofactors are the SVD's on cpu/interpret (ops/decomp.py);
    the cuda backend has no SVD, so its gradient program keeps det(a) a^-T
    (right away from rank n - 2) instead of refusing np.linalg.svd."""
    a = square(rng, (2, 5, 5))
    f = lambda a: np.sum(np.linalg.det(a) * np.array([1.0, -2.0]))  # noqa: E731
    np.testing.assert_allclose(lt.grad(f, backend="cuda")(a), lt.grad(f, backend="interpret")(a), rtol=1e-9)
