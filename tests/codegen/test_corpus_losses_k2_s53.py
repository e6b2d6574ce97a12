"""Corpus kernels that hand-written numba.njit ran faster (helper K2, s53).

A negative-step loop's stacked output written into the array it ends up in
(codegen/cpu/destinations.py, planning/fusion.py covered_box): the rows go
straight to their positions from the end back, no stacked temporary, no
reversed copy after the loop, and a fill the writes cover is never made
(corpus negative_step_suffix). Values match the plain function on fresh
random data; the kernel source shows the decision."""
import re

import numpy as np
import pytest

from .kernel_text import checked_kernel as _check


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def suffix_max(x):
    n = x.shape[0]
    out = np.empty_like(x)
    m = -np.inf
    for i in range(n - 1, -1, -1):
        if x[i] > m:
            m = x[i]
        out[i] = m
    return out


def inner_backwards_into_border(x):
    n = x.shape[0]
    out = np.full(n, -1.0)
    s = 0.0
    for i in range(n - 3, 1, -1):
        s = 0.5 * s + x[i]
        out[i] = s
    return out


def every_other_backwards(x):
    n = x.shape[0]
    out = np.zeros(n)
    s = 0.0
    for i in range(n - 1, -1, -2):
        s = s * 0.9 + x[i]
        out[i] = s
    return out


def _stacked_allocs(body: str) -> list[str]:
    return re.findall(r"= alloc\(\(n\d+_, .*", body)


def test_suffix_max_writes_from_the_end():
    x = np.random.default_rng(31).normal(size=3000)
    body = _check(suffix_max, (x,))
    assert not _stacked_allocs(body), _stacked_allocs(body)
    assert re.search(r"p\d+_ = 2999 - k\d+_", body)
    assert "zeros(" not in body  # the fill the loop overwrites entirely is never made


def test_backwards_inside_a_border():
    x = np.random.default_rng(32).normal(size=2000)
    body = _check(inner_backwards_into_border, (x,))
    assert "range(2000)" not in body and "full(" not in body  # -1.0 goes only to the two borders
    assert len(re.findall(r"\] = -1\.0", body)) == 2, body


def test_a_step_of_minus_two_keeps_its_copy():
    x = np.random.default_rng(34).normal(size=1001)
    _check(every_other_backwards, (x,))
