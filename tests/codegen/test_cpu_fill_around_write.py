"""A constant fill written by one static box write is never filled: the
write stores its box straight into the buffer (its update computed in the
write's loop, reading the fill as its constant: planning/fusion.py
`constant_fill`), and only the boxes around it get the constant
(`_fills_around_write`). Values match the plain function on fresh random
data; the kernel source shows no fill pass, no temporary and no copy."""
import re

import numpy as np
import pytest

from .kernel_text import checked_kernel as _check
from bench.corpus.imaging import peak_mask


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def interior_laplacian(u):
    h, w = u.shape
    out = np.zeros((h, w))
    for i in range(1, h - 1):
        for j in range(2, w - 1):
            out[i, j] = u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] - 4.0 * u[i, j]
    return out


def fill_also_returned(x):
    n = x.shape[0]
    base = np.full(n, 2.0)
    out = base.copy()
    for i in range(1, n - 1):
        out[i] = x[i] * base[i] + x[i + 1]
    return out, base


def written_then_read(x):
    m = np.zeros(x.shape[0])
    m[2:5] = 1.0
    for i in range(x.shape[0]):
        m[i] = m[i] + x[i]
    return m


def test_peak_mask_one_pass_into_the_mask():
    rng = np.random.default_rng(31)
    x = rng.normal(size=5000)
    body = _check(peak_mask, (x, 0.3))
    assert "alloc((4998" not in body  # no temporary for the window
    stores = re.findall(r"\n\s+(v\d+)\[[^\]]*\] = ", body)
    assert len([ln for ln in body.splitlines() if re.match(r"\s+for ", ln)]) == 2, body  # the window, the sum
    assert re.search(r"\[0\] = False", body) and re.search(r"\[4999\] = False", body), body
    assert stores


def test_interior_of_a_2d_fill():
    rng = np.random.default_rng(32)
    u = rng.normal(size=(40, 30))
    body = _check(interior_laplacian, (u,))
    assert "alloc((38, 27" not in body and "copied(" not in body, body  # no temporary, no copy of the zeros
    assert body.count("] = 0.0") == 4, body  # the four boxes around the interior


def test_fill_read_elsewhere_is_still_made():
    rng = np.random.default_rng(33)
    _check(fill_also_returned, (rng.normal(size=200),))


def test_fill_written_then_read():
    rng = np.random.default_rng(34)
    _check(written_then_read, (rng.normal(size=50),))
