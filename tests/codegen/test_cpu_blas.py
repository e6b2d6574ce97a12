"""Kernels multiply through the BLAS library NumPy calls (codegen/cpu/blas.py):
`dot_into`, `dot_value` and `dot` agree with np.dot for every BLAS dtype,
operand layout (row-major, a `.T` view, a row-strided slice, a copy for
anything else), empty operands and outputs BLAS cannot write in place; the
threads limited around prange regions are that library's; with
LOOPTRACE_BLAS=numba kernels use Numba's np.dot and give the same values."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.codegen.cpu import blas, blas_threads

DTYPES = [np.float64, np.float32, np.complex128, np.complex64]
# every layout of the single-precision types compiles the same helpers again for CBLAS's s/c routines (about
# 10 s of CPU each): with -m slow (tests/marks.py); the double-precision twins always run
found = pytest.mark.skipif(blas.numpy_library() is None, reason="NumPy's CBLAS symbols not found here")


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def _array(rng, shape, dtype):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _tol(dtype):
    return dict(rtol=2e-4, atol=2e-4) if np.dtype(dtype) in (np.float32, np.complex64) else dict(rtol=1e-12, atol=1e-12)


def _layouts(rng, rows, cols, dtype):
    """The same kind of operand in each layout kernels pass to BLAS."""
    return {
        "row-major": _array(rng, (rows, cols), dtype),
        "transposed": _array(rng, (cols, rows), dtype).T,
        "row-strided": _array(rng, (rows * 2, cols), dtype)[::2],
        "column-strided": _array(rng, (rows, cols * 2), dtype)[:, ::2],
        "leading-dimension": _array(rng, (rows, cols + 3), dtype)[:, :cols],
        "reversed": _array(rng, (rows, cols), dtype)[::-1],
    }


@found
def test_the_library_is_numpys():
    assert blas.choice().startswith("numpy ")
    lib = blas_threads.numba_blas()
    assert lib is not None and os.path.realpath(lib.filepath) == blas.numpy_library().path


def _layout_pairs(rng, dtype, every_pair):
    """(name, a, name, b) of a 7x5 by 5x6 product: every pair of layouts, or each layout of a with the
    same layout of b. The pairs compile one helper per pair of Numba layouts (C, F, A: ~1 s of CPU each);
    the four A layouts share one compile, whose run-time tests pick a leading dimension, a transpose or
    a copy, so the pairs that match layouts run each of those branches for both operands."""
    left, right = _layouts(rng, 7, 5, dtype), _layouts(rng, 5, 6, dtype)
    if every_pair:
        return [(na, a, nb, b) for na, a in left.items() for nb, b in right.items()]
    return [(name, left[name], name, right[name]) for name in left]


# complex128 in every layout with -m slow: 10 s of CPU compiling its own zgemm wrappers per layout
# (session 48); test_matrix_vector_products and the float64 layouts here always run. float64's every
# pair (9 pairs of Numba layouts, 16.1 s in session 54's CI at e17f737) with -m slow too: [float64-
# matched] runs every layout of both operands (3 pairs of Numba layouts), test_generated_products the
# C and F pairs, test_a_matrix_times_its_own_transpose A by A
@found
@pytest.mark.parametrize("dtype, every_pair", [
    (np.float64, False), pytest.param(np.float64, True, marks=pytest.mark.slow),
    pytest.param(np.float32, True, marks=pytest.mark.slow), pytest.param(np.complex128, True, marks=pytest.mark.slow),
    pytest.param(np.complex64, True, marks=pytest.mark.slow)],
    ids=lambda v: v.__name__ if isinstance(v, type) else ("every_pair" if v else "matched"))
def test_matrix_products_in_every_layout(rng, dtype, every_pair):
    for na, a, nb, b in _layout_pairs(rng, dtype, every_pair):
        want = np.dot(a, b)
        out = np.empty(want.shape, dtype)
        blas.dot_into(a, b, out)
        np.testing.assert_allclose(out, want, **_tol(dtype), err_msg=f"{na} @ {nb}")
        np.testing.assert_allclose(blas.dot(a, b), want, **_tol(dtype), err_msg=f"{na} @ {nb}")


# "matched": the vector layout each matrix layout meets. The contiguous vector meets the row-major matrix, the
# strided and reversed ones the others: pairs of Numba layouts C by C, F by A and A by A (and, the vector by
# the transpose, C by F, A by C and A by A), each run-time branch of both operands (the A matrices' leading
# dimensions, transposes and copies, the A vectors' strides). The column-strided matrix by the contiguous
# vector (until session 55: A by C and C by A, ~2.5 s of CPU compiling three helpers) puts together the A
# matrix's branches and the C vector's static code, each run here; it runs with "every", -m slow.
MATCHED_VECTOR = {"row-major": "contiguous", "transposed": "strided", "row-strided": "reversed",
                  "column-strided": "strided", "leading-dimension": "reversed", "reversed": "strided"}


def _operand_pairs(rng, dtype, layouts):
    """(name, a, name, x) of a 7x5 matrix by a 5-vector: "every" pair of layouts, each matrix layout
    "matched" with a vector layout (MATCHED_VECTOR), or the "row_major" one."""
    vectors = {"contiguous": _array(rng, 5, dtype), "strided": _array(rng, 15, dtype)[::3],
               "reversed": _array(rng, 5, dtype)[::-1]}
    matrices = _layouts(rng, 7, 5, dtype)
    if layouts == "row_major":
        return [("row-major", matrices["row-major"], "contiguous", vectors["contiguous"])]
    if layouts == "matched":
        return [(na, a, MATCHED_VECTOR[na], vectors[MATCHED_VECTOR[na]]) for na, a in matrices.items()]
    return [(na, a, nx, x) for na, a in matrices.items() for nx, x in vectors.items()]


# complex128 in one layout by default: layouts are handled alike for every dtype (transposes, leading
# dimensions, copies; complex only passes alpha and beta by pointer) and float64 runs each layout; every
# layout of complex128 (12.1 s of CPU in session 54's CI, a compile per layout) with -m slow. float64's
# every pair (9.1 s at e17f737) with -m slow too: [float64-matched] runs each layout of both operands
@found
@pytest.mark.parametrize("dtype, layouts", [
    (np.float64, "matched"), pytest.param(np.float64, "every", marks=pytest.mark.slow),
    pytest.param(np.float32, "every", marks=pytest.mark.slow), (np.complex128, "row_major"),
    pytest.param(np.complex128, "every", marks=pytest.mark.slow), pytest.param(np.complex64, "every", marks=pytest.mark.slow)],
    ids=lambda v: v.__name__ if isinstance(v, type) else v)
def test_matrix_vector_products(rng, dtype, layouts):
    for na, a, nx, x in _operand_pairs(rng, dtype, layouts):
        want = np.dot(a, x)
        out = np.empty(7, dtype)
        blas.dot_into(a, x, out)
        np.testing.assert_allclose(out, want, **_tol(dtype), err_msg=f"{na} @ {nx}")
        want = np.dot(x, a.T)
        out = np.empty(7, dtype)
        blas.dot_into(x, a.T, out)
        np.testing.assert_allclose(out, want, **_tol(dtype), err_msg=f"{nx} @ {na}.T")
        np.testing.assert_allclose(blas.dot(x, a.T), want, **_tol(dtype))


# float32 with -m slow (1.5 s in session 54's CI at e17f737): [float64]'s code calling CBLAS's s routine,
# which test_kernels_multiply_as_numpy_does[float32] (x @ x) calls by default; complex64's only default test.
# complex128 with -m slow too (1.7 s at 0bc3f38): [complex64]'s code (the complex dot through a pointer to
# its result) calling zdotu_sub where it calls cdotu_sub
@found
@pytest.mark.parametrize("dtype", [np.float64, pytest.param(np.float32, marks=pytest.mark.slow),
                                   pytest.param(np.complex128, marks=pytest.mark.slow), np.complex64])
def test_dot_products(rng, dtype):
    x, y = _array(rng, 30, dtype), _array(rng, 30, dtype)
    for a, b in [(x, y), (x[::3], y[::-3]), (x[:1], y[:1])]:
        np.testing.assert_allclose(blas.dot_value(a, b), np.dot(a, b), **_tol(dtype))
        np.testing.assert_allclose(blas.dot(a, b), np.dot(a, b), **_tol(dtype))


@found
def test_outputs_blas_cannot_write_in_place(rng):
    a, b = _array(rng, (4, 3), np.float64), _array(rng, (3, 5), np.float64)
    out = np.zeros((5, 4)).T  # column-major
    blas.dot_into(a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)
    z = np.zeros(10)[::2]
    blas.dot_into(b.T, a[0], z)
    np.testing.assert_allclose(z, b.T @ a[0], rtol=1e-12)
    y = np.zeros(5)[::-1]  # a negative stride: written through a temporary
    blas.dot_into(b.T, a[0], y)
    np.testing.assert_allclose(y, b.T @ a[0], rtol=1e-12)


# complex128 with -m slow (0.7 s at 0bc3f38): an empty product never reaches BLAS (`_empty_product` and
# `_empty_vector_product` fill zeros), the same code for every dtype, run by [float64]; the empty dot is a
# BLAS call of n = 0 ([float64]'s real one by default, the complex one through a result pointer with -m slow)
@found
@pytest.mark.parametrize("dtype", [np.float64, pytest.param(np.complex128, marks=pytest.mark.slow)])
def test_empty_operands(rng, dtype):
    out = np.full((3, 4), 7, dtype)
    blas.dot_into(_array(rng, (3, 0), dtype), _array(rng, (0, 4), dtype), out)
    assert (out == 0).all()
    y = np.full(3, 7, dtype)
    blas.dot_into(_array(rng, (3, 0), dtype), _array(rng, 0, dtype), y)
    assert (y == 0).all()
    blas.dot_into(_array(rng, (0, 4), dtype), _array(rng, (4, 2), dtype), np.empty((0, 2), dtype))
    assert blas.dot_value(_array(rng, 0, dtype), _array(rng, 0, dtype)) == 0


@found
@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 9), k=st.integers(1, 9), n=st.integers(1, 9), ta=st.booleans(), tb=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_generated_products(m, k, n, ta, tb, seed):
    r = np.random.default_rng(seed)
    a = r.standard_normal((k, m)).T if ta else r.standard_normal((m, k))
    b = r.standard_normal((n, k)).T if tb else r.standard_normal((k, n))
    out = np.empty((m, n))
    blas.dot_into(a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)


@found
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_matrix_times_its_own_transpose(rng, dtype):
    """x @ x.T and x.T @ x go to syrk, as NumPy's do: the result is exactly
    symmetric, as NumPy's is, and equal to it."""
    x = _array(rng, (37, 53), dtype)
    for a, b in ((x, x.T), (x.T, x), (x[:, 3:40], x[:, 3:40].T), (x[::2].T, x[::2])):
        out = np.empty((a.shape[0], b.shape[1]), dtype)
        blas.dot_into(a, b, out)
        np.testing.assert_allclose(out, a @ b, **_tol(dtype))
        np.testing.assert_array_equal(out, out.T)
    # the same memory read at another offset or leading dimension is not a transpose
    a, b = x[:36, :36], x[1:, :36].T
    out = np.empty((36, 36), dtype)
    blas.dot_into(a, b, out)
    np.testing.assert_allclose(out, a @ b, **_tol(dtype))
    square = _array(rng, (20, 20), dtype)
    out = np.empty((20, 20), dtype)
    blas.dot_into(square, square, out)  # the same array, not transposed
    np.testing.assert_allclose(out, square @ square, **_tol(dtype))


def covariance(data):
    return np.cov(np.transpose(data))


def gram(x):
    centered = x - x.mean(axis=0)
    return centered.T @ centered, centered @ centered.T


# float32 with -m slow (3.1 s in session 54's CI at e17f737): [float64]'s kernels, calling ssyrk where it
# calls dsyrk through the same helper code; test_kernels_multiply_as_numpy_does[float32] runs float32 kernels
@pytest.mark.parametrize("dtype", [np.float64, pytest.param(np.float32, marks=pytest.mark.slow)])
def test_kernels_multiply_a_matrix_by_its_transpose_as_numpy_does(rng, dtype):
    x = _array(rng, (60, 45), dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(looptrace.jit(covariance, backend="cpu")(x), covariance(x), **tol)
    for g, w in zip(looptrace.jit(gram, backend="cpu")(x), gram(x)):
        np.testing.assert_allclose(g, w, **tol)
        np.testing.assert_array_equal(g, g.T)


def products(a, b, x):
    return a @ b, a.T @ x, (a @ b).T @ x, x @ a, x @ x


# float64 with -m slow (1.0 s in session 54's CI): the same kernels as [float32] calling CBLAS's d routines,
# which test_kernels_multiply_a_matrix_by_its_transpose_as_numpy_does[float64] calls from kernels and the
# helper tests above call directly
@pytest.mark.parametrize("dtype", [pytest.param(np.float64, marks=pytest.mark.slow), np.float32])
def test_kernels_multiply_as_numpy_does(rng, dtype):
    a, b, x = _array(rng, (70, 80), dtype), _array(rng, (80, 90), dtype), _array(rng, 70, dtype)
    got = looptrace.jit(products, backend="cpu")(a, b, x)
    for g, w in zip(got, products(a, b, x)):
        np.testing.assert_allclose(g, w, rtol=1e-3 if dtype == np.float32 else 1e-10)


def test_numbas_dot_on_request(tmp_path):
    """LOOPTRACE_BLAS=numba: kernels call Numba's np.dot (SciPy's BLAS)."""
    script = textwrap.dedent("""
        import numpy as np, looptrace
        from looptrace.codegen.cpu import blas, blas_threads
        def f(a, b): return a @ b, a[0] @ b
        r = np.random.default_rng(3)
        a, b = r.standard_normal((70, 80)), r.standard_normal((80, 90))
        got = looptrace.jit(f, backend="cpu")(a, b)
        assert np.allclose(got[0], a @ b) and np.allclose(got[1], a[0] @ b)
        lib = blas_threads.numba_blas()
        print(blas.choice(), lib is None or "scipy" in lib.filepath)
    """)
    env = dict(os.environ, LOOPTRACE_BLAS="numba", LOOPTRACE_CACHE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["numba", "True"]
