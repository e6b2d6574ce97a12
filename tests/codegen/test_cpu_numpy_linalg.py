"""A batch of matrices factored at a kernel's top level calls NumPy's batched
np.linalg in object mode (codegen/cpu/numpy_linalg.py): the same values,
dtypes and errors as the plain function, for every decomposition; inside a
loop and for a few matrices the per-matrix helpers stay."""
import re

import numpy as np
import pytest

import looptrace

BATCH = 80  # >= numpy_linalg.MIN_BATCH


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def everything(a, s, b, r):
    sign, logabs = np.linalg.slogdet(a)
    w, v = np.linalg.eigh(s)
    u, sv, vh = np.linalg.svd(r, full_matrices=False)
    q, rr = np.linalg.qr(r)
    return (np.linalg.solve(a, b), np.linalg.inv(a), np.linalg.det(a), np.linalg.cholesky(s), sign, logabs,
            w, np.abs(v), np.linalg.eigvalsh(s), np.abs(u), sv, np.linalg.svd(r, compute_uv=False),
            np.abs(q), np.abs(rr), np.linalg.pinv(r), np.linalg.norm(a, 2, axis=(1, 2)))


def inputs(rng, dtype):
    a = rng.standard_normal((BATCH, 3, 3)) + 3 * np.eye(3)
    m = rng.standard_normal((BATCH, 4, 4))
    s = m @ np.swapaxes(m, -1, -2) + 4 * np.eye(4)
    return tuple(x.astype(dtype) for x in (a, s, rng.standard_normal((BATCH, 3, 2)),
                                           rng.standard_normal((BATCH, 5, 3))))


# float32 with -m slow (4.7 s in e17f737's CI): every float32 decomposition is a NumPy call from the kernel, the
# lowering float64's larger ones (and test_one_large_matrix_is_factored_by_numpy) compile by default
@pytest.mark.parametrize("dtype", ["float64", pytest.param("float32", marks=pytest.mark.slow)])
def test_batched_decompositions_equal_numpy(dtype, rng):
    args = inputs(rng, dtype)
    f = looptrace.jit(everything, backend="cpu")
    got, want = f(*args), everything(*args)
    tol = 1e-9 if dtype == "float64" else 2e-4
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, k
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=str(k))
    src = f.explain(*args).kernel_source
    # float64 solve/inv/det of order <= 4 run lapack.py's loops (test_cpu_small_linalg.py); the rest NumPy's
    assert src.count("nplinalg.") + src.count("_small_batch(") >= 10
    assert not re.search(r"(?<!_small)_batch\(", src)


def test_a_singular_matrix_in_the_batch_raises_numpys_error(rng):
    a = rng.standard_normal((BATCH, 3, 3))
    a[17, 2] = a[17, 0]  # two equal rows
    b = rng.standard_normal((BATCH, 3, 1))
    for fn in (lambda a, b: np.linalg.solve(a, b), lambda a, b: np.linalg.inv(a) @ b):
        with pytest.raises(np.linalg.LinAlgError) as plain:
            fn(a, b)
        with pytest.raises(np.linalg.LinAlgError, match=str(plain.value)):
            looptrace.jit(fn, backend="cpu")(a, b)
    s = -np.eye(3)[None].repeat(BATCH, 0)
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        looptrace.jit(lambda s: np.linalg.cholesky(s), backend="cpu")(s)


def test_few_matrices_and_loops_keep_the_per_matrix_helpers(rng):
    def loop(a, b):
        out = np.zeros_like(b)
        for t in range(3):
            out = np.linalg.solve(a + t, out * 0.5 + b)
        return out

    a, b = rng.standard_normal((4, 3, 3)) + 3 * np.eye(3), rng.standard_normal((4, 3, 1))
    f = looptrace.jit(loop, backend="cpu")
    np.testing.assert_allclose(f(a, b), loop(a, b), rtol=1e-10)
    assert "nplinalg." not in f.explain(a, b).kernel_source
    m = rng.standard_normal((50, 40))  # one matrix, its singular values: NumPy's, without vectors
    g = looptrace.jit(lambda m: np.linalg.norm(m, 2), backend="cpu")
    assert g(m) == pytest.approx(np.linalg.norm(m, 2), rel=1e-12)
    assert "nplinalg.svdvals" in g.explain(m).kernel_source


def cholesky_plus_upper(A):
    """npbench's cholesky2."""
    A[:] = np.linalg.cholesky(A) + np.triu(A, k=1)


def few_solves(T, Y):
    return np.linalg.solve(T, np.broadcast_to(Y, (T.shape[0],) + Y.shape))


def test_one_large_matrix_is_factored_by_numpy(rng):
    """A factorization worth MIN_WORK goes to NumPy whatever the batch: one
    200 x 200 cholesky, 16 solves of 48 x 48 with 30 right-hand sides (its
    LAPACK then runs on NumPy's own threads, not on SciPy's beside them)."""
    m = rng.standard_normal((200, 200))
    A = m @ m.T + 200 * np.eye(200)
    # the cholesky's source only (explain: no Numba compile, ~1 s of CPU): NumPy's cholesky called from a
    # kernel runs against the plain function in test_batched_decompositions_equal_numpy[float64], and
    # cholesky_plus_upper's write into its argument in tests/tracer/test_np_linalg.py test_cholesky2_in_place[cpu]
    assert "nplinalg.cholesky" in looptrace.explain(looptrace.jit(cholesky_plus_upper, backend="cpu"), A).kernel_source
    T, Y = rng.standard_normal((16, 48, 48)) + 8 * np.eye(48), rng.standard_normal((48, 30))
    g = looptrace.jit(few_solves, backend="cpu")
    np.testing.assert_allclose(g(T, Y), few_solves(T, Y), rtol=1e-10)
    assert "nplinalg.solve" in g.explain(T, Y).kernel_source
    small = rng.standard_normal((8, 6, 6)) + 6 * np.eye(6)  # little work: the per-matrix helpers
    h = looptrace.jit(lambda a: np.linalg.inv(a), backend="cpu")
    np.testing.assert_allclose(h(small), np.linalg.inv(small), rtol=1e-10)
    assert "nplinalg." not in h.explain(small).kernel_source
