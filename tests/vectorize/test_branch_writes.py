"""Branches with run-time checks and several writes, and arrays written at
several loop-invariant blocks (vectorize/select.py `_masked_checks`,
`_mask_chain`; vectorize/simplify.py `promote_blocks`, `disjoint_blocks`;
vectorize/analysis.py `_within`). nbody's

    for j in range(n):
        if i != j:
            ... math.sqrt(r2) ...          # a domain check in the branch
            acc[i, 0] += dx * inv          # three writes in the branch
            acc[i, 1] += dy * inv
            acc[i, 2] += dz * inv

stayed a branch, its loops two scalar scans; it is now a masked reduction
over j inside a map over i."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.nbody import nbody_accel_loops

BACKENDS = ["interpret", "cpu"]


def sqrt_where_positive(x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            acc += math.sqrt(y[i])  # y[i] < 0 raises only where the branch runs
    return acc


def pair_sums(p, w):
    n = p.shape[0]
    out = np.zeros((n, 2))
    for i in range(n):
        for j in range(n):
            if i != j:
                d = p[j] - p[i]
                out[i, 0] += w[j] * d
                out[i, 1] += w[j] * d * d
    return out


def two_counters(x, t):
    c = np.zeros(3)
    for i in range(x.shape[0]):
        if x[i] > t:
            c[0] += 1.0
            c[2] += x[i]  # c[1] is never written: it keeps its value
        else:
            c[1] -= x[i]
    return c


def rewrite_twice(x):
    out = np.zeros((x.shape[0], 2))
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if x[i, j] > 0:
                out[i, 0] += x[i, j]
                out[i, 0] *= 0.5  # the same block written twice in the branch
                out[i, 1] += out[i, 0]
    return out


def _kinds(f, *args):
    return [lp.kind for lp in f.explain(*args).loops]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_check_in_a_branch_runs_where_the_branch_is_taken(backend, rng):
    x = rng.standard_normal(200)
    y = np.where(x > 0, rng.random(200) + 0.1, -rng.random(200) - 0.1)  # negative only off the branch
    f = looptrace.jit(sqrt_where_positive, backend=backend)
    assert f(x, y) == pytest.approx(sqrt_where_positive(x, y), rel=1e-12)
    assert _kinds(f, x, y) == ["reduction"]
    y[np.flatnonzero(x > 0)[3]] = -1.0
    with pytest.raises(ValueError) as plain:
        sqrt_where_positive(x, y)
    with pytest.raises(ValueError) as compiled:
        f(x, y)
    assert str(compiled.value) == str(plain.value)
    assert any("acc += math.sqrt(y[i])" in n for n in getattr(compiled.value, "__notes__", []))


@pytest.mark.parametrize("backend", BACKENDS)
def test_nbody_pairs_are_a_masked_reduction_in_a_map(backend, rng):
    pos, mass = rng.standard_normal((40, 3)), rng.random(40) + 0.5
    f = looptrace.jit(nbody_accel_loops, backend=backend)
    np.testing.assert_allclose(f(pos, mass), nbody_accel_loops(pos, mass), rtol=1e-11, atol=1e-12)
    assert _kinds(f, pos, mass) == ["vectorized", "reduction"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_several_blocks_of_a_row_written_in_a_branch(backend, rng):
    p, w = rng.standard_normal(30), rng.random(30)
    f = looptrace.jit(pair_sums, backend=backend)
    np.testing.assert_allclose(f(p, w), pair_sums(p, w), rtol=1e-11, atol=1e-12)
    assert _kinds(f, p, w) == ["vectorized", "reduction"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_counters_in_both_branches(backend, rng):
    x = rng.standard_normal(300)
    f = looptrace.jit(two_counters, backend=backend)
    np.testing.assert_allclose(f(x, 0.3), two_counters(x, 0.3), rtol=1e-12)
    assert _kinds(f, x, 0.3) == ["reduction"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_block_written_twice_in_a_branch(backend, rng):
    x = rng.standard_normal((20, 15))
    f = looptrace.jit(rewrite_twice, backend=backend)
    np.testing.assert_allclose(f(x), rewrite_twice(x), rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 12), m=st.integers(1, 4), seed=st.integers(0, 2 ** 31))
def test_row_writes_under_a_condition_match_the_plain_loop(n, m, seed):
    """`if v[i, j] > t: out[i, k] += ...` for each k < m, any sizes (a loop
    that runs zero times included), on the interpreter."""
    r = np.random.default_rng(seed)
    v = r.standard_normal((n, 7))

    def rows(v, t):
        out = np.ones((v.shape[0], m))
        for i in range(v.shape[0]):
            for j in range(v.shape[1]):
                if v[i, j] > t:
                    for k in range(m):
                        out[i, k] += v[i, j] * (k + 1)
        return out

    f = looptrace.jit(rows, backend="interpret")
    np.testing.assert_allclose(f(v, 0.2), rows(v, 0.2), rtol=1e-12)
