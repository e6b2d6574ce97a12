"""A loop's stacked output whose only use is a write into a buffer made
before the loop is stored there row by row (codegen/cpu/destinations.py):
no stacked array, no copy after the loop; and a constant fill that the
writes overwrite entirely, through a reshape, is never made
(planning/fusion.py `_covered`). Values match the plain function on fresh
random data; the kernel source shows the stacked array and the fill gone."""
import re

import numpy as np
import pytest

from .kernel_text import checked_kernel as _check
from bench.corpus.odes import seir


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def three_columns_of_four(a, b, x0):
    n = a.shape[0]
    out = np.zeros((n, 4))
    x, y, z = x0, 0.5 * x0, 0.0
    for k in range(n):
        x = a[k] * x + b[k]
        y = 0.9 * y + x * b[k]
        z = z + y
        out[k, 0] = x
        out[k, 1] = y
        out[k, 3] = z
    return out


def shifted_rows(a, x0):
    n = a.shape[0]
    out = np.full((n + 3, 2), -1.0)
    x = x0
    for k in range(n):
        x = np.tanh(a[k] * x) + 1.0
        out[k + 3, 1] = x
    return out


def vector_rows(A, v0):
    n = A.shape[0]
    out = np.zeros((n, v0.shape[0]))
    v = v0.copy()
    for k in range(n):
        v = np.tanh(A[k] * v + 0.1)
        out[k] = v
    return out, v


def matvec_rows_into_columns(W, b, v0):
    n = b.shape[0]
    out = np.zeros((n, v0.shape[0] + 3))
    v = v0.copy()
    for k in range(n):
        v = np.tanh(W @ v + b[k])
        out[k, 2:2 + v.shape[0]] = v
    return out


def read_before_write(a, x0):
    n = a.shape[0]
    out = np.ones((n, 2))
    out[0, 0] = 7.0
    x = x0
    for k in range(n):
        x = np.sin(a[k] * x) + out[0, 0]
        out[k, 1] = x
    return out, out.sum()


def _stacked_allocs(body: str) -> list[str]:
    return re.findall(r"= alloc\(\(n\d+_, .*", body)


def test_seir_writes_rows_into_out():
    body = _check(seir, (0.31, 0.2, 0.1, 1000.0, 7.0, 0.01, 30.0))
    assert not _stacked_allocs(body), _stacked_allocs(body)
    assert "= 0.0\n" not in body  # the zero fill is overwritten entirely: never made


def test_some_columns_keep_the_fill():
    rng = np.random.default_rng(21)
    a, b = rng.uniform(-0.9, 0.9, 400), rng.normal(size=400)
    body = _check(three_columns_of_four, (a, b, 0.7))
    assert not _stacked_allocs(body), _stacked_allocs(body)


def test_rows_at_an_offset():
    rng = np.random.default_rng(22)
    body = _check(shifted_rows, (rng.uniform(-0.9, 0.9, 300), 0.3))
    assert not _stacked_allocs(body), _stacked_allocs(body)
    assert re.search(r"p\d+_ = k\d+_ \+ 3", body)


def test_vector_rows():
    rng = np.random.default_rng(23)
    _check(vector_rows, (rng.normal(size=(50, 6)), rng.normal(size=6)))


def test_vector_rows_into_a_column_range():
    rng = np.random.default_rng(25)
    W, b, v0 = rng.normal(size=(5, 5)) * 0.5, rng.normal(size=(40, 5)), rng.normal(size=5)
    body = _check(matvec_rows_into_columns, (W, b, v0))
    assert not _stacked_allocs(body), _stacked_allocs(body)


def test_buffer_read_before_the_write():
    rng = np.random.default_rng(24)
    _check(read_before_write, (rng.uniform(-0.9, 0.9, 100), 0.4))
