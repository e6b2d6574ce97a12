"""Roots over the same leading axis, each reading the others' results only in
its own row, in one loop over the rows (codegen/cpu/nest.py `_row_group`):
values against the plain function and the interpreter, and the kernel has
fewer passes over the rows than without the grouping."""

from __future__ import annotations

import numpy as np
import pytest

import looptrace
from bench.corpus.algorithms import assign_nearest as nearest
from bench.corpus.learning import layer_norm
from bench.corpus.learning import softmax_logsumexp as softmax_rows


def shifted_rows(X):
    m = X.max(axis=1)
    out = X - m[::-1, None]  # another row of a result: not a row group member
    return out, m


CASES = [
    (softmax_rows, lambda r: (r.standard_normal((40, 7)) * 3,)),
    (nearest, lambda r: (r.standard_normal((50, 3)), r.standard_normal((5, 3)))),
    (layer_norm, lambda r: (r.standard_normal((30, 9)) * 2 + 1, r.random(9) + 0.5, r.standard_normal(9), 1e-5)),
    (shifted_rows, lambda r: (r.standard_normal((20, 6)),)),
]


def _loops(src: str) -> int:
    return sum(1 for line in src.splitlines() if line.startswith("    for "))


# assign_nearest's row groups run on cpu, values checked, in test_small_windows.py
# test_nearest_rows_held_in_buffers: here its values on the interpreter (its compile was 1.1 s of CPU in
# 0bc3f38's CI) and its kernel's source, grouped and apart, without compiling it (explain)
CPU_VALUES_ELSEWHERE = (nearest,)


@pytest.mark.parametrize("fn, make", CASES, ids=[c[0].__name__ for c in CASES])
def test_row_groups_match_the_plain_function(fn, make, monkeypatch):
    args = make(np.random.default_rng(3))
    expected = fn(*args)
    got = looptrace.jit(fn, backend="interpret" if fn in CPU_VALUES_ELSEWHERE else "cpu")(*args)
    for g, e in zip(got, expected):
        assert np.asarray(g).dtype == np.asarray(e).dtype
        np.testing.assert_allclose(g, e, rtol=1e-12)
    grouped = looptrace.jit(fn, backend="cpu").explain(*args).kernel_source
    monkeypatch.setenv("LOOPTRACE_NO_ROW_GROUPS", "1")
    apart = looptrace.jit(fn, backend="cpu").explain(*args).kernel_source
    if fn is shifted_rows:
        assert _loops(grouped) <= _loops(apart)
    else:
        assert _loops(grouped) < _loops(apart)
