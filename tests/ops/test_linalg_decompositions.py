"""np.linalg.slogdet, eigh, eigvalsh, svd, svdvals, qr, pinv, lstsq, matrix_rank,
matrix_power and the 2/-2/'nuc' matrix norms under looptrace equal the plain
functions on fresh random data: at top level and per iteration of a loop (the
vectorizer batches the call), on stacks of matrices, in float32 and float64,
on the interpret backend (semantics) and a representative few on cpu. Where
eigen/singular vectors may legitimately differ in sign (or complete Q's extra
columns in basis), the invariants are checked as well as the values that are
unique. Errors: NumPy's messages, LinAlgError where LAPACK does not converge,
UnsupportedError for complex arrays and for eig/eigvals.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.errors import ShapeError, UnsupportedError


def interp(fn):
    return looptrace.jit(fn, backend="interpret")


def close(got, want, dtype=np.float64):
    tol = 1e-9 if np.dtype(dtype) == np.float64 else 2e-4
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, float(np.max(np.abs(want), initial=0))))


def aligned(v, ref):
    """v's columns with the signs that match ref's (eigen/singular vectors are unique up to sign)."""
    signs = np.sign(np.sum(v * ref, axis=-2, keepdims=True))
    return v * np.where(signs == 0, 1, signs)


def symmetric(rng, shape, dtype="float64"):
    m = rng.standard_normal(shape)
    return ((m + np.swapaxes(m, -1, -2)) / 2).astype(dtype)


shapes = st.tuples(st.sampled_from([(), (3,), (2, 2)]), st.integers(1, 5), st.integers(1, 5))
dtypes = st.sampled_from(["float64", "float32"])


# --- values against the plain functions (interpret) ---
@settings(max_examples=15, deadline=None)
@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 2**32 - 1))
def test_square_factorizations_equal_numpy(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    lead, n, _ = shape
    a = rng.standard_normal(lead + (n, n)).astype(dtype)
    s = symmetric(rng, lead + (n, n), dtype) + np.triu(rng.standard_normal((n, n)), 1).astype(dtype)

    def f(a, s):
        sign, logabs = np.linalg.slogdet(a)
        w, v = np.linalg.eigh(s)
        wu, vu = np.linalg.eigh(s, UPLO="U")
        return sign, logabs, w, v, np.linalg.eigvalsh(s), np.linalg.eigvalsh(s, "U"), wu, vu

    want, got = f(a, s), interp(f)(a, s)
    for k in range(6):
        close(got[k], want[k], dtype)
    close(got[6], want[6], dtype)  # UPLO='U' is eigh of the transpose: the values are the same,
    close(aligned(got[7], want[7]), want[7], dtype)  # the vectors up to sign
    sym_u = np.triu(s) + np.swapaxes(np.triu(s, 1), -1, -2)
    wu, vu = got[6].astype(np.float64), got[7].astype(np.float64)
    close((vu * wu[..., None, :]) @ np.swapaxes(vu, -1, -2), sym_u.astype(np.float64), dtype)


@settings(max_examples=15, deadline=None)
@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 2**32 - 1))
def test_rectangular_factorizations_equal_numpy(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    lead, m, n = shape
    a = rng.standard_normal(lead + (m, n)).astype(dtype)

    def f(a):
        u, s, vh = np.linalg.svd(a)
        ut, st_, vht = np.linalg.svd(a, full_matrices=False)
        q, r = np.linalg.qr(a)
        return (u, s, vh, ut, st_, vht, np.linalg.svd(a, compute_uv=False), q, r, np.linalg.qr(a, mode="r"),
                np.linalg.pinv(a), np.linalg.matrix_rank(a), np.linalg.svdvals(a))

    want, got = f(a), interp(f)(a)
    for w, g in zip(want, got):
        close(g, w, dtype)


def test_complete_qr_is_a_factorization_with_numpys_leading_columns(rng):
    a = rng.standard_normal((2, 6, 3))
    q, r = interp(lambda a: np.linalg.qr(a, mode="complete"))(a)
    q0, r0 = np.linalg.qr(a, mode="complete")
    assert q.shape == q0.shape == (2, 6, 6) and r.shape == r0.shape == (2, 6, 3)
    close(q[..., :3], q0[..., :3])  # the extra columns are a basis of the complement, not NumPy's
    close(r, r0)
    close(q @ r, a)
    close(np.swapaxes(q, -1, -2) @ q, np.broadcast_to(np.eye(6), (2, 6, 6)))
    assert np.all(np.tril(r, -1) == 0)
    wide = rng.standard_normal((3, 5))  # m <= n: complete is reduced
    for g, w in zip(interp(lambda a: np.linalg.qr(a, mode="complete"))(wide), np.linalg.qr(wide, "complete")):
        close(g, w)


@pytest.mark.parametrize("m, n, k", [(6, 3, None), (6, 3, 2), (3, 5, None), (4, 4, 1)])
def test_lstsq_equals_numpy(m, n, k, rng):
    a, b = rng.standard_normal((m, n)), rng.standard_normal((m,) if k is None else (m, k))

    def f(a, b):
        return np.linalg.lstsq(a, b)

    want, got = f(a, b), interp(f)(a, b)
    for g, w in zip(got, want):
        close(g, w)
    assert got[2] == want[2] and np.asarray(got[2]).dtype == np.asarray(want[2]).dtype


def test_lstsq_rank_deficient(rng):
    wide = rng.standard_normal((3, 2)) @ rng.standard_normal((2, 5))  # rank 2, m <= n: no residuals
    b = rng.standard_normal(3)
    got, want = interp(lambda a, b: np.linalg.lstsq(a, b))(wide, b), np.linalg.lstsq(wide, b)
    for g, w in zip(got, want):
        close(g, w)
    assert got[2] == 2
    tall = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 3))  # m > n, rank 2 < n
    with pytest.raises(UnsupportedError, match="rank-deficient"):
        interp(lambda a, b: np.linalg.lstsq(a, b))(tall, rng.standard_normal(6))


def test_matrix_rank_tolerances_and_hermitian(rng):
    low = rng.standard_normal((3, 5, 2)) @ rng.standard_normal((3, 2, 4))
    sym = symmetric(rng, (4, 4))

    def f(low, sym, v):
        return (np.linalg.matrix_rank(low), np.linalg.matrix_rank(low, tol=1e-3), np.linalg.matrix_rank(low, rtol=0.5),
                np.linalg.matrix_rank(sym, hermitian=True), np.linalg.matrix_rank(v))

    v = rng.standard_normal(3)
    for g, w in zip(interp(f)(low, sym, v), f(low, sym, v)):
        assert np.array_equal(g, w)


@pytest.mark.parametrize("ord_", [2, -2, "nuc"])
def test_matrix_norms_from_singular_values(ord_, rng):
    a = rng.standard_normal((3, 4, 5))

    def f(a):
        return np.linalg.norm(a[0], ord_), np.linalg.norm(a, ord_, axis=(2, 1)), np.linalg.norm(a, ord_, (0, 2), True)

    for g, w in zip(interp(f)(a), f(a)):
        close(g, w)


@pytest.mark.parametrize("p", [0, 1, 2, 5, -3])
def test_matrix_power(p, rng):
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    close(interp(lambda a: np.linalg.matrix_power(a, p))(a), np.linalg.matrix_power(a, p))


def test_integer_input_computes_in_float64(rng):
    a = rng.integers(-5, 6, (4, 4))
    a = a + a.T
    f = lambda a: (np.linalg.eigvalsh(a), np.linalg.slogdet(a)[1], np.linalg.svd(a, compute_uv=False))  # noqa: E731
    for g, w in zip(interp(f)(a), f(a)):
        close(g, w)


# --- inside loops: the vectorizer batches a per-iteration call ---
def per_matrix(a, s):
    n = a.shape[0]
    logdets = np.empty(n)
    values = np.empty((n, a.shape[2]))
    recon = np.empty(a.shape)
    sv = np.empty((n, min(a.shape[1:])))
    pin = np.empty((n, a.shape[2], a.shape[1]))
    for i in range(n):
        logdets[i] = np.linalg.slogdet(s[i] @ s[i].T + np.eye(s.shape[1]))[1]
        w, v = np.linalg.eigh(s[i] + s[i].T)
        values[i] = w * (v[0] ** 2)
        q, r = np.linalg.qr(a[i])
        recon[i] = q @ r
        u, sv[i], vh = np.linalg.svd(a[i], full_matrices=False)
        pin[i] = np.linalg.pinv(a[i])
    return logdets, values, recon, sv, pin


def test_calls_in_a_loop_are_vectorized_and_equal_numpy(rng):
    a, s = rng.standard_normal((5, 4, 3)), rng.standard_normal((5, 3, 3))
    jitted = interp(per_matrix)
    for g, w in zip(jitted(a, s), per_matrix(a, s)):
        close(g, w)
    assert [r.kind for r in looptrace.jit(per_matrix).explain(a, s).loops] == ["vectorized"]


def test_a_loop_carrying_a_factorization(rng):
    def power_iteration(s, x):
        for _ in range(5):
            q, r = np.linalg.qr(s @ x)
            x = q
        return np.linalg.eigvalsh(x.T @ s @ x)

    s = symmetric(rng, (5, 5)) + np.diag(np.arange(5.0) * 3)
    x = rng.standard_normal((5, 2))
    close(interp(power_iteration)(s, x), power_iteration(s, x))


# --- the cpu backend: a representative few ---
# slow: factorizations_float64[cpu] of tests/codegen/test_lowering_completeness.py compiles slogdet, eigh, svd,
# qr (reduced, complete) and pinv of one matrix and of a small batch (the per-matrix helpers this test's loop
# takes), test_cpu_numpy_linalg.py the batched and float32 ones; lstsq and norm 2 are svd's (tracer/np_linalg.py).
# The interpreter tests above check the values; test_cpu_raises_linalgerror_like_numpy stays this file's cpu test.
@pytest.mark.slow
def test_cpu_backend_equals_numpy(rng):
    a, s = rng.standard_normal((5, 4, 3)), rng.standard_normal((5, 3, 3))
    for g, w in zip(looptrace.jit(per_matrix, backend="cpu")(a, s), per_matrix(a, s)):
        close(g, w)

    def top(a, s, b):
        w, v = np.linalg.eigh(s)
        u, sv, vh = np.linalg.svd(a)
        qc, rc = np.linalg.qr(a, mode="complete")
        x, res, rank, sl = np.linalg.lstsq(a[0], b)
        return w, aligned(v, v), sv, u @ np.swapaxes(u, -1, -2), qc @ rc, x, res, rank, sl, np.linalg.norm(a[0], 2)

    s32 = symmetric(rng, (2, 4, 4), "float32")
    b = rng.standard_normal(4)
    got = looptrace.jit(top, backend="cpu")(a, s32, b)
    want = top(a, s32, b)
    for k, (g, w) in enumerate(zip(got, want)):
        close(g, w, "float32" if k < 2 else "float64")
    close(aligned(got[1], np.linalg.eigh(s32)[1]), np.linalg.eigh(s32)[1], "float32")


def test_cpu_raises_linalgerror_like_numpy(rng):
    a = rng.standard_normal((2, 3, 3))
    a[1, 0, 0] = np.nan
    f = lambda a: np.linalg.svd(a, compute_uv=False)  # noqa: E731
    with pytest.raises(np.linalg.LinAlgError):
        f(a)
    for backend in ("interpret", "cpu"):
        with pytest.raises(np.linalg.LinAlgError):
            looptrace.jit(f, backend=backend)(a)


# --- errors ---
def test_non_square_and_one_dimensional_inputs_say_so(rng):
    with pytest.raises(ShapeError, match="np.linalg.eigh: Last 2 dimensions of the array must be square"):
        interp(lambda a: np.linalg.eigh(a))(rng.standard_normal((3, 4)))
    with pytest.raises(ShapeError, match="np.linalg.slogdet: Last 2 dimensions of the array must be square"):
        interp(lambda a: np.linalg.slogdet(a))(rng.standard_normal((2, 3, 4)))
    with pytest.raises(ShapeError, match="1-dimensional array given. Array must be at least two-dimensional"):
        interp(lambda a: np.linalg.svd(a))(rng.standard_normal(4))
    with pytest.raises(ValueError, match="UPLO argument must be 'L' or 'U'"):
        interp(lambda a: np.linalg.eigh(a, "X"))(rng.standard_normal((3, 3)))
    with pytest.raises(ShapeError, match="Incompatible dimensions"):
        interp(lambda a, b: np.linalg.lstsq(a, b))(rng.standard_normal((4, 3)), rng.standard_normal(5))


def test_complex_and_complex_valued_functions_are_refused(rng):
    c = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    with pytest.raises(UnsupportedError, match="np.linalg.eigh of complex arrays"):
        interp(lambda a: np.linalg.eigh(a))(c)
    for name in ("eig", "eigvals"):
        with pytest.raises(UnsupportedError, match=f"np.linalg.{name} is not supported: its results are complex"):
            interp(lambda a: getattr(np.linalg, name)(a))(rng.standard_normal((3, 3)))


def test_cuda_refuses_with_the_numpy_name(rng):
    from looptrace.codegen import available_backends, get_target
    from looptrace.codegen.target import CompileOptions
    from looptrace.ir.builder import IRBuilder
    from looptrace.ir.core import Block, Program, SourceLoc, Value

    if "cuda" not in available_backends():
        pytest.skip("no cuda backend here (tests/conftest.py sets LOOPTRACE_CUDA_SIM=1 for the simulator)")
    b = IRBuilder(SourceLoc("t.py", 1, ""))
    a = Value(np.dtype("float64"), (3, 3))
    out = b.op("eigh", a)
    with pytest.raises(UnsupportedError, match=r"np\.linalg\.eigh is not supported by the cuda backend"):
        get_target("cuda").compile(Program(Block([a], b.ops, [out]), name="t"), CompileOptions(cache=False))


@pytest.mark.parametrize("kw", [{}, {"rtol": None}, {"rtol": 1e-2}, {"rcond": 1e-2}])
def test_pinv_cutoffs_as_numpy_spells_them(kw):
    """rtol=None means max(M, N) * eps in NumPy 2, not the 1e-15 of no rtol at all: a singular value
    of 1.2e-15 is kept by one and cut by the other (a 1e15 entry apart)."""
    rng = np.random.default_rng(7)
    u, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    v, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    a = u[:, :4] * np.array([1.0, 1e-3, 1.2e-15, 1e-17]) @ v
    f = lambda a: np.linalg.pinv(a, **kw)  # noqa: E731
    np.testing.assert_allclose(interp(f)(a), f(a), rtol=1e-12, atol=1e-12 * np.abs(f(a)).max())
    with pytest.raises(ValueError, match="can't be both set"):
        interp(lambda a: np.linalg.pinv(a, rcond=0.1, rtol=0.1))(a)
