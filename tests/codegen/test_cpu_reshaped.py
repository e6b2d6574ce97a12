"""Kernels reshape through helper.py's `reshaped` (an intrinsic: nothing for
Numba to compile in each process, where `.reshape` compiled its size check
anew), and templates.alloc advises huge pages through one compiled version
of malloc.hugepages (two integers) for every array type. Values and effects
follow the plain functions."""

import numba
import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import malloc
from looptrace.codegen.cpu.helper import reshaped


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


@numba.njit
def _views(a, n):
    return reshaped(a, (n, -1)), reshaped(a, (2, 3, 4)), reshaped(a, (24,))


def test_reshaped_is_numpys_view():
    a = np.random.default_rng(0).standard_normal(24)
    for got, want in zip(_views(a, 4), (a.reshape(4, -1), a.reshape(2, 3, 4), a.reshape(24))):
        assert got.shape == want.shape and got.strides == want.strides
        np.testing.assert_array_equal(got, want)
    _views(a, 4)[1][1, 2, 3] = 7.5  # a view: writes reach a
    assert a[23] == 7.5


@numba.njit
def _reshape_to(a, shape):
    return reshaped(a, shape)


@pytest.mark.parametrize("shape", [(4, 5), (5, -1), (-1, -1)])
def test_reshaped_rejects_a_size_that_does_not_fit(shape):
    with pytest.raises(ValueError, match="total size"):
        _reshape_to(np.ones(24), shape)


def batched_products(x, w, m):
    y = (x.reshape(x.shape[0], 4, 8) @ w).reshape(x.shape[0], -1)  # contract.py, shape.py
    return y.sum(axis=1), np.linalg.solve(m, y[:, :3, None] + 1.0)  # decomp.py


def test_kernels_reshape_without_numbas_reshape():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((50, 32)), rng.standard_normal((8, 3))
    m = rng.standard_normal((50, 3, 3)) + 4.0 * np.eye(3)
    f = looptrace.jit(batched_products, backend="cpu")
    for got, want in zip(f(x, w, m), batched_products(x, w, m)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    src = f.explain(x, w, m).kernel_source
    assert "reshaped(" in src and ".reshape(" not in src


def large(n):
    return np.arange(n) * 2.0, np.arange(n, dtype=np.int32).reshape(2, -1) + 1  # 8 MB and 4 MB


def test_large_arrays_on_huge_pages_keep_their_values():
    n = malloc.HUGEPAGE_MIN // 4
    f = looptrace.jit(large, backend="cpu")
    for got, want in zip(f(n), large(n)):
        np.testing.assert_array_equal(got, want)


@numba.njit
def _advise(a, b):
    malloc.hugepages(malloc.data_address(a), a.nbytes)
    malloc.hugepages(malloc.data_address(b), b.nbytes)


def test_one_hugepages_version_for_every_array_type():
    _advise(np.ones((1024, 1024)), np.ones(3, dtype=np.int32))
    assert [tuple(map(str, s)) for s in malloc.hugepages.signatures] == [("int64", "int64")]
