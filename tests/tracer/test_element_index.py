"""An integer index beside a traced one is one more start of the same
dynamic_slice (tracer/indexing.py `_joins_dynamic`): `pos[j, 0]` is one
element read, not a column view and then a read of it. Values, effects on
arguments and gradients are compared with the plain function."""

import numpy as np
import pytest

import looptrace
from looptrace.ir.core import walk

from ._loopcheck import check


def pairs(pos):
    s = 0.0
    for j in range(pos.shape[0]):
        s += pos[j, 0] * pos[j, -1] + pos[0, j % pos.shape[1]]
    return s


def mixed_slices(X):
    out = np.zeros((X.shape[0], 2))
    for j in range(X.shape[0]):
        out[j] = X[j, 1:3] * X[j, 0]
    return out


def writes(X, v):
    for j in range(X.shape[0]):
        X[j, 1] = X[j, 0] + v[j]
    return X


def test_an_element_read_is_one_dynamic_slice(rng, monkeypatch):
    pos = rng.standard_normal((6, 3))
    check(pairs, pos)
    monkeypatch.setenv("LOOPTRACE_NO_VECTORIZE", "1")  # the loop as traced
    program = looptrace.jit(pairs, backend="interpret").explain(pos).program
    assert "slice" not in {op.prim.name for op in walk(program.body)}


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_mixed_indices_values_and_writes(backend, rng):
    X, v = rng.standard_normal((5, 4)), rng.standard_normal(5)
    np.testing.assert_allclose(looptrace.jit(mixed_slices, backend=backend)(X), mixed_slices(X), rtol=1e-12)
    got_X, want_X = X.copy(), X.copy()
    np.testing.assert_allclose(looptrace.jit(writes, backend=backend)(got_X, v), writes(want_X, v), rtol=1e-12)
    np.testing.assert_allclose(got_X, want_X, rtol=1e-12)


def test_gradient_through_element_reads(rng):
    pos = rng.standard_normal((5, 3))
    (g,) = looptrace.grad(pairs, argnums=(0,), backend="interpret")(pos)
    eps, fd = 1e-6, np.zeros_like(pos)
    for idx in np.ndindex(pos.shape):
        p, m = pos.copy(), pos.copy()
        p[idx] += eps
        m[idx] -= eps
        fd[idx] = (pairs(p) - pairs(m)) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
