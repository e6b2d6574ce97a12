"""Batches of small float64 matrices (order <= 4) are solved, inverted and
their determinants taken by lapack.py's loops (LU with partial pivoting, as
LAPACK's dgetf2/dgetrs), not through NumPy in object mode: a Kalman filter's
kernel compiled 0.3 s faster and ran 4.4 -> 2.3 ms. Values against NumPy on
random matrices; a singular matrix raises NumPy's LinAlgError (solve, inv)
or has determinant 0."""

import numpy as np
import pytest

import looptrace
from bench.corpus.learning import _kalman, kalman_filter

from .kernel_text import kernel_body


def batched(a, b):
    return np.linalg.solve(a, b), np.linalg.inv(a), np.linalg.det(a)


def looped(a, b):
    out = np.empty(b.shape)
    dets = np.empty(a.shape[0])
    for m in range(a.shape[0]):
        out[m] = np.linalg.solve(a[m], b[m])
        dets[m] = np.linalg.det(a[m])
    return out, dets


def _matrices(rng, batch, n, k=2):
    a = rng.standard_normal((batch, n, n)) + n * np.eye(n) * rng.choice([-1.0, 1.0], (batch, 1, 1))
    return a, rng.standard_normal((batch, n, k))


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_small_batches_match_numpy(n, rng):
    a, b = _matrices(rng, 150, n)
    a[3] = a[3][[1, 0] + list(range(2, n))] if n > 1 else a[3]  # a row swap needs a pivot
    f = looptrace.jit(batched)
    for got, want in zip(f(a, b), batched(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    src = kernel_body(f.explain(a, b).kernel_source)
    assert "small_batch" in src and "objmode" not in src


def test_looped_small_systems(rng):
    a, b = _matrices(rng, 300, 3, k=1)
    f = looptrace.jit(looped)
    for got, want in zip(f(a, b), looped(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_singular_matrices(rng):
    a, b = _matrices(rng, 80, 3)
    a[17, 2] = a[17, 0] * 2.0 - a[17, 1]  # rank 2, but not exactly: check the exact case below
    a[40] = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])
    with pytest.raises(np.linalg.LinAlgError) as want:
        np.linalg.solve(a, b)
    with pytest.raises(np.linalg.LinAlgError) as got:
        looptrace.jit(batched)(a, b)
    assert str(got.value).splitlines()[0] == str(want.value)
    det = looptrace.jit(lambda x: np.linalg.det(x))(a)
    assert det[40] == 0.0
    np.testing.assert_allclose(np.delete(det, 40), np.delete(np.linalg.det(a), 40), rtol=1e-8, atol=1e-9)


def test_nan_propagates_as_numpy(rng):
    a, b = _matrices(rng, 70, 2)
    a[5, 0, 1] = np.nan
    got = looptrace.jit(batched)(a, b)
    for g, w in zip(got, batched(a, b)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_larger_orders_keep_numpy(rng):
    a, b = _matrices(rng, 100, 5)
    f = looptrace.jit(batched)
    for got, want in zip(f(a, b), batched(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert "small_batch" not in kernel_body(f.explain(a, b).kernel_source)


def test_kalman_filter_leaves_no_object_mode():
    args = _kalman(np.random.default_rng(3), "test")
    f = looptrace.jit(kalman_filter)
    for got, want in zip(f(*args), kalman_filter(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-9)
    args = _kalman(np.random.default_rng(3), "bench")
    assert "objmode" not in kernel_body(f.explain(*args).kernel_source)


def inverted_each(a):
    out = np.empty(a.shape)
    for m in range(a.shape[0]):
        out[m] = np.linalg.inv(a[m])
    return out


def test_singular_matrix_inverted_in_a_loop(rng):
    a, _ = _matrices(rng, 40, 2)
    a[31] = [[1.0, 2.0], [2.0, 4.0]]
    with pytest.raises(np.linalg.LinAlgError) as want:
        inverted_each(a.copy())
    for backend in ("interpret", "cpu"):
        with pytest.raises(np.linalg.LinAlgError) as got:
            looptrace.jit(inverted_each, backend=backend)(a.copy())
        assert str(got.value).splitlines()[0] == str(want.value)
    a[31] = [[1.0, 2.0], [3.0, 4.0]]
    np.testing.assert_allclose(looptrace.jit(inverted_each)(a), inverted_each(a), rtol=1e-10, atol=1e-12)


def test_solve_inv_det_share_one_helper(rng):
    """lapack.lu_small_batch serves the three with one signature per kernel
    (a determinant's output seen as (batch, 1, 1)): the LU compiles once."""
    from looptrace.codegen.cpu.lapack import lu_small_batch

    a, b = _matrices(rng, 60, 3)
    before = set(lu_small_batch.signatures)
    f = looptrace.jit(batched)
    for got, want in zip(f(a, b), batched(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert len(set(lu_small_batch.signatures) - before) <= 1
    src = kernel_body(f.explain(a, b).kernel_source)
    assert src.count("lu_small_batch(") == 3


def _dets(A):
    out = np.empty(A.shape[0])
    for t in range(A.shape[0]):
        out[t] = np.linalg.det(A[t])
    return out


def test_det_of_a_singular_small_matrix_is_plus_zero():
    """NumPy's det is sign * exp(logdet): +0.0 for a singular matrix, where the
    product of U's diagonal may be -0.0 (probe X: det([[-1, 2], [-1, 2]]))."""
    S = np.array([[[-1.0, 2.0], [-1.0, 2.0]], [[1.0, -2.0], [2.0, -4.0]], [[0.0, 0.0], [-3.0, 1.0]]])
    got = looptrace.jit(_dets, backend="cpu")(S)
    np.testing.assert_array_equal(got, np.linalg.det(S))
    assert not np.signbit(got).any()


def written_dets(a, out):
    for m in range(a.shape[0]):
        out[m] = np.linalg.det(a[m]) + out[m]
    return np.linalg.inv(a)


@pytest.mark.parametrize("n", [3, 6])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_entries_give_numpys_result(n, bad, rng):
    """A matrix with an inf or a NaN: Numba's wrappers (order > 4) raise
    LinAlgError and the small LU's NaN pattern is not OpenBLAS's; the call
    gives the plain function's result, effects on arguments included."""
    a, b = _matrices(rng, 70, n)
    a[5, 0, 0] = bad
    out = rng.standard_normal(70)
    want_out = out.copy()
    with np.errstate(all="ignore"):
        want = batched(a, b), written_dets(a, want_out)
    got = looptrace.jit(batched)(a, b), looptrace.jit(written_dets)(a, out)
    for g, w in zip([*got[0], got[1]], [*want[0], want[1]]):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(out, want_out)
