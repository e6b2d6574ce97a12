"""np.linalg.solve, inv, det and cholesky on traced arrays (tracer/np_linalg.py
over ops/decomp.py) against the plain function: values, dtypes, shapes and
effects on arguments, batched (3-d) operands, NumPy 2's vector rule for
solve, LinAlgError on singular input, vectorized loops, gradients against
central finite differences, and the errors for what is refused.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

from ._compare import assert_same

BACKENDS = ["interpret", "cpu"]
RTOL = {np.dtype(np.float32): 2e-4, np.dtype(np.float64): 1e-9, np.dtype(np.complex64): 2e-4,
        np.dtype(np.complex128): 1e-9}


def square(rng, shape, dtype="float64"):
    """Well conditioned: random + n I."""
    n = shape[-1]
    a = rng.standard_normal(shape) + n * np.eye(n)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def spd(rng, shape, dtype="float64"):
    """Symmetric (Hermitian) positive definite: M M^H + n I."""
    n = shape[-1]
    m = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        m = m + 1j * rng.standard_normal(shape)
    return (m @ np.conj(np.swapaxes(m, -1, -2)) + n * np.eye(n)).astype(dtype)


def check(fn, *args, backend="interpret"):
    """jit(fn)(*args) equals fn(*args), arguments' final contents included."""
    plain = [np.array(a, copy=True) for a in args]
    jitted = [np.array(a, copy=True) for a in args]
    want = fn(*plain)
    got = looptrace.jit(fn, backend=backend)(*jitted)
    outs = [w for w in (want if isinstance(want, tuple) else (want,)) if w is not None]
    rtol = max(RTOL[np.asarray(x).dtype] for x in outs + [a for a in args if a.dtype in RTOL])
    if want is None:
        assert got is None
    else:
        assert_same(got, want, rtol=rtol)
    for g, w in zip(jitted, plain):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)
    return got


def all_four(a, b, s):
    return np.linalg.solve(a, b), np.linalg.inv(a), np.linalg.det(a), np.linalg.cholesky(s)


# --- values ------------------------------------------------------------------------------------------------
# cpu with -m slow (3.3 s of CPU in session 55's CI at 0278d5f): tests/codegen/test_lowering_completeness.py
# compiles the same float64 solve, inv, det and cholesky rules on cpu for one matrix and a 3-d batch
# (samples.py decompositions, [decomp_float64-cpu]); the interpreter runs the traced calls here
@pytest.mark.parametrize("backend", ["interpret", pytest.param("cpu", marks=pytest.mark.slow)])
def test_one_matrix_and_a_batch(backend, rng):
    check(all_four, square(rng, (4, 4)), rng.standard_normal((4, 3)), spd(rng, (4, 4)), backend=backend)
    check(all_four, square(rng, (5, 3, 3)), rng.standard_normal((5, 3, 2)), spd(rng, (2, 5, 3, 3)),
          backend=backend)


def inv_det_cholesky(a, s):
    return np.linalg.inv(a), np.linalg.det(a), np.linalg.cholesky(s)


# on cpu complex64 only (LAPACK's single-precision complex path): float32 and complex128 are
# 14 s of CPU compiling their own LAPACK helpers, and run with -m slow (tests/marks.py).
# complex64's solve too (-m slow, [complex64-cpu-solve]): Numba's np.linalg.solve alone was 8 of the
# 10.9 s of [complex64-cpu] in session 55's CI (its first compile in a process); inv, det and
# cholesky keep the complex64 helpers of lapack.py compiled by default, solve's values run on the
# interpreter here ([complex64-interpret])
@pytest.mark.parametrize("dtype, backend, fn", [(d, "interpret", all_four) for d in ("float32", "complex128", "complex64")] + [
    pytest.param("float32", "cpu", all_four, marks=pytest.mark.slow),
    pytest.param("complex128", "cpu", all_four, marks=pytest.mark.slow),
    pytest.param("complex64", "cpu", all_four, marks=pytest.mark.slow, id="complex64-cpu-solve"),
    pytest.param("complex64", "cpu", inv_det_cholesky, id="complex64-cpu")])
def test_float32_and_complex(dtype, backend, fn, rng):
    a, b, s = square(rng, (2, 3, 3), dtype), rng.standard_normal((2, 3, 1)).astype(dtype), spd(rng, (3, 3), dtype)
    check(fn, *((a, b, s) if fn is all_four else (a, s)), backend=backend)


def test_integer_matrices_compute_in_float64(rng):
    a = rng.integers(-3, 4, (3, 3)) + 8 * np.eye(3, dtype=np.int64)
    check(lambda a, b: all_four(a, b, a @ a.T), a, rng.integers(-3, 4, 3))
    check(lambda a, b: np.linalg.solve(a, b), square(rng, (3, 3), "float32"), rng.standard_normal(3))


def test_solve_follows_numpy2_vector_rule_and_broadcasts(rng):
    def solve(a, b):
        return np.linalg.solve(a, b)

    a3, a = square(rng, (4, 3, 3)), square(rng, (3, 3))
    check(solve, a3, rng.standard_normal(3))  # b 1-d: a vector for every matrix
    check(solve, a, rng.standard_normal((5, 3, 2)))  # a broadcast over b's batch
    check(solve, a3, rng.standard_normal((3, 2)))  # b broadcast over a's batch
    check(solve, square(rng, (2, 1, 3, 3)), rng.standard_normal((4, 3, 1)))


def test_cholesky_reads_one_triangle(rng):
    s = spd(rng, (4, 4))
    lower, upper = s.copy(), s.copy()
    lower[np.triu_indices(4, 1)] = 7.0  # junk the factorization must not read
    upper[np.tril_indices(4, -1)] = 7.0  # upper=True reads the upper triangle instead
    check(lambda x, y: (np.linalg.cholesky(x), np.linalg.cholesky(y, upper=True)), lower, upper)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cholesky2_in_place(backend, rng):
    """npbench's cholesky2."""
    def cholesky2(A):
        A[:] = np.linalg.cholesky(A) + np.triu(A, k=1)

    check(cholesky2, spd(rng, (6, 6)), backend=backend)


def contour_points(A, z):
    """npbench contour_integral's shape: complex inverses and solves per point."""
    out = np.empty((z.shape[0], A.shape[0]), dtype=np.complex128)
    for k in range(z.shape[0]):
        M = z[k] * np.eye(A.shape[0]) - A
        out[k] = np.linalg.solve(M, np.linalg.inv(M) @ np.ones(A.shape[0]))
    return out


def test_complex_solves_in_a_loop(rng):
    A = rng.standard_normal((4, 4))
    z = 5 * np.exp(2j * np.pi * rng.random(6))
    check(contour_points, A, z)


# --- vectorizing -----------------------------------------------------------------------------------------
def per_step_solves(A, b, X):
    for t in range(A.shape[0]):
        X[t] = np.linalg.solve(A[t], b[t])
    return X


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loop_of_solves_becomes_one_batched_solve(backend, rng):
    A, b, X = square(rng, (7, 3, 3)), rng.standard_normal((7, 3)), rng.standard_normal((7, 3))
    check(per_step_solves, A, b, X, backend=backend)
    f = looptrace.jit(per_step_solves, backend=backend)
    assert [r.kind for r in f.explain(A, b, X).loops] == ["vectorized"]


def test_a_loop_of_dets_and_inverses_vectorizes(rng):
    def dets(A, shared):
        d = np.zeros(A.shape[0])
        for t in range(A.shape[0]):
            d[t] = np.linalg.det(A[t] @ np.linalg.inv(shared))
        return d

    A, shared = square(rng, (5, 3, 3)), square(rng, (3, 3))
    check(dets, A, shared)
    assert [r.kind for r in looptrace.jit(dets).explain(A, shared).loops] == ["vectorized"]


# --- errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_singular_and_indefinite_raise_linalgerror(backend, rng):
    singular = rng.standard_normal((3, 3))
    singular[1] = 0.0  # exactly singular whatever the pivoting order
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        looptrace.jit(lambda a, b: np.linalg.solve(a, b), backend=backend)(singular, rng.standard_normal(3))
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        looptrace.jit(lambda a: np.linalg.inv(a) * 2, backend=backend)(singular)
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        looptrace.jit(lambda a: np.linalg.cholesky(a), backend=backend)(-spd(rng, (3, 3)))


def test_shape_errors_read_like_numpy(rng):
    with pytest.raises(looptrace.ShapeError, match="Last 2 dimensions of the array must be square"):
        looptrace.jit(lambda a: np.linalg.inv(a))(rng.standard_normal((3, 4)))
    with pytest.raises(looptrace.ShapeError, match="at least two-dimensional"):
        looptrace.jit(lambda a: np.linalg.det(a))(rng.standard_normal(3))
    with pytest.raises(looptrace.ShapeError, match="does not fit"):
        looptrace.jit(lambda a, b: np.linalg.solve(a, b))(square(rng, (3, 3)), rng.standard_normal(4))
    with pytest.raises(looptrace.UnsupportedError, match="float16"):
        looptrace.jit(lambda a: np.linalg.inv(a))(square(rng, (3, 3), "float16"))


def test_complex_gradients_are_refused(rng):
    a = square(rng, (3, 3), "complex128")
    with pytest.raises(looptrace.UnsupportedError, match="cannot differentiate np.linalg.inv of complex"):
        looptrace.grad(lambda x: np.abs(np.linalg.inv(x * (1 + 1j))).sum())(a.real.copy())


# --- gradients -------------------------------------------------------------------------------------------
def _grad_check(fn, args, argnum, rng, backend="interpret"):
    g = rng.standard_normal(np.shape(fn(*args)))
    jitted = looptrace.jit(fn, backend=backend)
    got = looptrace.grad(lambda *xs: (g * jitted(*xs)).sum(), argnums=argnum, backend=backend)(*args)
    want = numerical_grad(lambda *xs: float(np.sum(g * fn(*xs))), list(args), argnum)
    assert_close(got, want, 1e-5, fn.__name__)


def g_solve(a, b):
    return np.linalg.solve(a, b) ** 2


def g_inv(a):
    return np.linalg.inv(a) @ a.T


def g_det(a):
    return np.linalg.det(a)[:, None, None] * a


def g_cholesky(a):
    return np.sin(np.linalg.cholesky(a))


@pytest.mark.parametrize("fn, make, argnum", [
    (g_solve, lambda r: (square(r, (3, 3)), r.standard_normal((3, 2))), 0),
    (g_solve, lambda r: (square(r, (2, 3, 3)), r.standard_normal(3)), 1),
    (g_inv, lambda r: (square(r, (4, 4)),), 0),
    (g_det, lambda r: (square(r, (2, 3, 3)),), 0),
    (g_cholesky, lambda r: (spd(r, (4, 4)),), 0),
], ids=lambda v: getattr(v, "__name__", ""))
def test_gradients_match_finite_differences(fn, make, argnum, rng):
    _grad_check(fn, make(rng), argnum, rng)


# cpu with -m slow (4.5 s of session 55's CI): the loop's solves and their gradient's are float64
# 3 x 3 solves, lapack.py's lu_small_batch, which tests/codegen/test_cpu_small_linalg.py
# compiles by default; the interpreter runs the same gradient program here
@pytest.mark.parametrize("backend", ["interpret", pytest.param("cpu", marks=pytest.mark.slow)])
def test_gradient_through_a_loop_of_solves(backend, rng):
    def loss(A, b):
        total = 0.0
        for t in range(A.shape[0]):
            total += np.sum(np.linalg.solve(A[t], b[t]) ** 2)
        return total

    A, b = square(rng, (4, 3, 3)), rng.standard_normal((4, 3))
    got = looptrace.grad(loss, argnums=0, backend=backend)(A, b)
    assert_close(got, numerical_grad(loss, [A, b], 0), 1e-5, "loop of solves")


# --- generated sizes -------------------------------------------------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 5), lead=st.lists(st.integers(0, 3), max_size=2).map(tuple), k=st.integers(1, 3),
       vector=st.booleans(), dtype=st.sampled_from(["float64", "float32", "complex128"]),
       seed=st.integers(0, 2**32 - 1))
def test_generated_sizes(n, lead, k, vector, dtype, seed):
    r = np.random.default_rng(seed)
    b = r.standard_normal(n if vector else lead + (n, k)).astype(dtype)
    check(all_four, square(r, lead + (n, n), dtype), b, spd(r, lead + (n, n), dtype))
