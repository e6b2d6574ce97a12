"""Element expressions that Numba already types float64 (elementwise primitives
on float64 operands, float64 folds) are written without `np.float64(...)`
around them (cpu/scalar.py `float64_closed`, cpu/nest.py `float64_fold`): each
such call costs Numba compile time. Other dtypes keep their casts, so a
float32 chain with Python-float constants stays float32, as in NumPy."""
import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def chain(x, y):
    z = np.sqrt(np.abs(x)) * 0.5 + np.maximum(x, y) - np.where(x > y, x, 2.0)
    return z, (z * y).sum(axis=1), np.floor(z) / 3.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_dtypes_follow_numpy(dtype):
    rng = np.random.default_rng(31)
    x, y = (rng.standard_normal((20, 70)).astype(dtype) for _ in range(2))
    f = looptrace.jit(chain, backend="cpu")
    got, want = f(x, y), chain(x, y)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=rtol)
    src = f.explain(x, y).kernel_source
    if dtype == np.float64:
        assert "np.float64(" not in src, src
    else:
        assert "np.float32(" in src


def torus_counts(b, c):
    """int64 index arithmetic, comparisons and logic, a length-1 axis."""
    n, m = b.shape
    out = np.zeros((n, 1, m), dtype=np.int64)
    for i in range(n):
        for j in range(m):
            s = b[(i + 1) % n, j] + b[(i - 1) % n, j] * 3 - c[j]
            if (s > 2 and b[i, j] != 0) or s == -1:
                out[i, 0, j] = s // 2
    return out


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_int_and_bool_expressions_without_casts_follow_python(dtype):
    rng = np.random.default_rng(32)
    b, c = rng.integers(-3, 4, (30, 40)).astype(dtype), rng.integers(-2, 3, 40).astype(dtype)
    f = looptrace.jit(torus_counts, backend="cpu")
    got, want = f(b, c), torus_counts(b, c)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    src = f.explain(b, c).kernel_source
    body = src[src.index("def kernel"):]
    assert "range(1)" not in body  # a length-1 axis is index 0, not a loop
    if dtype == np.int64:
        assert "np.bool(" not in body and "np.int64((" not in body, body
