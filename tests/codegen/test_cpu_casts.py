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
