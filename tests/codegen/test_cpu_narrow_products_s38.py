"""Products that sum a handful of elements per result (cpu/contract.py
`_narrow`): an (H, W, 3) image times (3,) weights went to one OpenBLAS gemv
on a (H*W, 3) matrix, 7-17x slower than NumPy. A matrix-vector product
summing up to NARROW_VECTOR elements, and a matrix-matrix one summing up to
NARROW_MATRIX, are now loops over the output, in chunks of rows on the
threads where the work pays (`_output_loops`, also for a first axis whose
length is not a multiple of the chunk); longer sums keep BLAS. The plain
function is the oracle, on both backends."""
import copy

import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def matmul(a, b):
    return a @ b


def gray(img):
    return img @ np.array([0.299, 0.587, 0.114])


def weighted_channels(img, w):
    return np.einsum("hwc,c->wh", img, w)


def strided_rows(x, w):
    return x[::2, 1:4] @ w + 1.0


def transposed(x, w):
    return x.T @ w


def projected_steps(x, w, n):
    """A narrow product inside a loop, its result carried."""
    y = x @ w
    for t in range(n):
        y = np.tanh(x @ w + 0.5 * y)
    return y


def _check(fn, *args, rtol=1e-12):
    want = fn(*copy.deepcopy(args))
    for backend in ("interpret", "cpu"):
        got = looptrace.jit(fn, backend=backend)(*copy.deepcopy(args))
        assert got.dtype == want.dtype and got.shape == want.shape, backend
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=backend)
    return looptrace.jit(fn, backend="cpu").explain(*args).kernel_source


def _f(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


NARROW = [((700, 500, 3), (3,)), ((300001, 3), (3,)), ((1000, 4), (4,)), ((100001, 8), (8,)),
          ((200003, 2), (2, 5)), ((4000, 2), (2, 64)), ((6, 40001, 3), (3,)), ((3,), (3, 300007)),
          ((5, 9, 3), (3,))]


def _float32_at_two_shapes():
    """Every shape in float64; float32 at two (the same loops in the other
    dtype, a kernel each: 3.7 s for all nine in e17f737's CI), the rest -m slow."""
    cases = [(sa, sb, np.float64) for sa, sb in NARROW]
    return cases + [(sa, sb, np.float32) if k in (1, 8) else pytest.param(sa, sb, np.float32, marks=pytest.mark.slow)
                    for k, (sa, sb) in enumerate(NARROW)]


@pytest.mark.parametrize("sa, sb, dtype", _float32_at_two_shapes())
def test_narrow_products_are_loops(sa, sb, dtype, rng):
    a, b = _f(rng, sa, dtype), _f(rng, sb, dtype)
    src = _check(matmul, a, b, rtol=1e-12 if dtype == np.float64 else 2e-5)
    assert "dot_into(" not in src, src


def test_large_narrow_product_runs_in_row_chunks(rng):
    src = _check(matmul, _f(rng, (400001, 3)), _f(rng, 3))
    assert "numba.prange" in src and "nonneg(" in src and "dot_into(" not in src, src


@pytest.mark.parametrize("fn, shapes", [(weighted_channels, [(400, 300, 3), (3,)]),
                                        (strided_rows, [(40001, 6), (3,)]),
                                        (transposed, [(3, 50001), (3,)])])
def test_narrow_product_forms(fn, shapes, rng):
    src = _check(fn, *[_f(rng, s) for s in shapes])
    assert "dot_into(" not in src, src


def test_gray_image(rng):
    src = _check(gray, rng.uniform(0.0, 1.0, (600, 400, 3)))
    assert "dot_into(" not in src, src


def test_narrow_product_in_a_loop(rng):
    src = _check(projected_steps, _f(rng, (20000, 3)), _f(rng, 3), 4)
    assert "dot_into(" not in src, src


@pytest.mark.parametrize("sa, sb", [((500, 500), (500, 500)), ((2000, 50), (50,)), ((100000, 16), (16,)),
                                    ((30000, 3), (3, 3)), ((20000, 8), (8, 8))])
def test_other_products_keep_blas(sa, sb, rng):
    src = _check(matmul, _f(rng, sa), _f(rng, sb), rtol=1e-10)
    assert "dot_into(" in src, src


def test_integer_product_in_chunks(rng):
    """Integer products were loops already; large ones now run on the threads too."""
    a, b = rng.integers(-50, 50, (300001, 3)), rng.integers(-50, 50, (3, 2))
    src = _check(matmul, a, b)
    assert "numba.prange" in src, src
