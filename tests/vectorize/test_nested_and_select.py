"""Nested loops inside out, conditionals as selects, accumulator contractions."""
import numpy as np
import pytest

import looptrace
from looptrace.ir.core import walk


def batch_of_rnns(X, h0, W, U):
    B, T, _ = X.shape
    H = np.zeros((B, T, h0.shape[0]))
    for b in range(B):
        h = h0
        for t in range(T):
            h = np.tanh(W @ h + U @ X[b, t])
            H[b, t] = h
    return H


def matmul(A, B):
    n, k = A.shape
    m = B.shape[1]
    C = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            for l in range(k):
                C[i, j] += A[i, l] * B[l, j]
    return C


def leaky(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        if x[i] > 0:
            out[i] = x[i]
        else:
            out[i] = 0.1 * x[i]
    return out


def outer_acc(a, b):
    S = np.zeros((a.shape[1], b.shape[1]))
    for t in range(a.shape[0]):
        S += np.outer(a[t], b[t])
    return S


def half_write(x):
    out = np.ones_like(x)
    for i in range(1, x.shape[0]):
        if x[i] > x[i - 1]:
            out[i] = x[i] - x[i - 1]
    return out


def histogram(idx, w):
    h = np.zeros((4, w.shape[1]))
    for i in range(idx.shape[0]):
        h[idx[i]] += 2.0 * w[i]
    return h


def _args(rng):
    return {
        batch_of_rnns: (rng.standard_normal((3, 5, 2)), rng.standard_normal(4),
                        0.3 * rng.standard_normal((4, 4)), rng.standard_normal((4, 2))),
        matmul: (rng.standard_normal((3, 4)), rng.standard_normal((4, 5))),
        leaky: (rng.standard_normal(6),),
        outer_acc: (rng.standard_normal((6, 3)), rng.standard_normal((6, 2))),
        half_write: (rng.standard_normal(7),),
        histogram: (rng.integers(-4, 4, 9), rng.standard_normal((9, 3))),
    }


def _ops(fn, args):
    e = looptrace.explain(fn, *args)
    return e, [op.prim.name for op in walk(e.program.body)]


@pytest.mark.parametrize("fn", [batch_of_rnns, matmul, leaky, outer_acc, half_write, histogram],
                         ids=lambda f: f.__name__)
def test_values_match_plain(fn, rng):
    args = _args(rng)[fn]
    got = looptrace.jit(fn, backend="interpret")(*args)
    np.testing.assert_allclose(got, fn(*args), rtol=1e-9, atol=1e-12)


def test_triple_loop_is_one_contraction(rng):
    e, names = _ops(matmul, _args(rng)[matmul])
    assert [l.kind for l in e.loops] == ["vectorized", "vectorized", "reduction"]
    assert names.count("einsum") == 1 and "for_loop" not in names


def test_outer_product_accumulation_is_one_product(rng):
    e, names = _ops(outer_acc, _args(rng)[outer_acc])
    assert [l.kind for l in e.loops] == ["reduction"]
    assert names.count("einsum") == 1 and "reduce_sum" not in names


@pytest.mark.parametrize("fn", [leaky, half_write], ids=lambda f: f.__name__)
def test_pure_conditional_becomes_select(fn, rng):
    e, names = _ops(fn, _args(rng)[fn])
    assert [l.kind for l in e.loops] == ["vectorized"]
    assert "select" in names and "cond" not in names and "for_loop" not in names


def test_batch_of_rnns_is_one_scan_with_batched_state(rng):
    e, _ = _ops(batch_of_rnns, _args(rng)[batch_of_rnns])
    assert [l.kind for l in e.loops] == ["vectorized", "scan"]
    (scan,) = [op for op in walk(e.program.body) if op.prim.name == "for_loop"]
    state = scan.blocks[0].args[1]
    assert tuple(state.shape) == (3, 4)  # (batch, hidden)


def test_data_dependent_accumulation_is_a_scatter_add(rng):
    e, names = _ops(histogram, _args(rng)[histogram])
    assert [l.kind for l in e.loops] == ["reduction"] and "scatter-add" in e.loops[0].reason
    assert "scatter" in names and "for_loop" not in names


SPELLINGS = {
    "matmul_op": "np.tanh(W1 @ y + W2 @ X[t])",
    "np_dot": "np.tanh(np.dot(W1, y) + np.dot(W2, X[t]))",
    "np_matmul": "np.tanh(np.matmul(W1, y) + np.matmul(W2, X[t]))",
    "method_dot": "np.tanh(W1.dot(y) + W2.dot(X[t]))",
    "transposed": "np.tanh(y @ W1.T + X[t] @ W2.T)",
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_spelling_does_not_matter(spelling, rng):
    import linecache

    src = ("def rnn(X, y, W1, W2):\n    for t in range(X.shape[0]):\n"
           f"        y = {SPELLINGS[spelling]}\n    return y\n")
    filename = f"<spelling-{spelling}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(keepends=True), filename)
    namespace = {"np": np}
    exec(compile(src, filename, "exec"), namespace)
    fn = namespace["rnn"]
    args = (rng.standard_normal((6, 3)), rng.standard_normal(4), 0.3 * rng.standard_normal((4, 4)),
            rng.standard_normal((4, 3)))
    e, _ = _ops(fn, args)
    (scan,) = [op for op in walk(e.program.body) if op.prim.name == "for_loop"]
    names = [op.prim.name for op in scan.blocks[0].ops]
    assert names.count("einsum") == 1 and names.count("add") == 1, names
    np.testing.assert_allclose(looptrace.jit(fn, backend="interpret")(*args), fn(*args), rtol=1e-9, atol=1e-12)


def while_with_invariant(x, W, tol):
    v = x
    k = 0
    while np.sum(v * v) > tol and k < 50:
        v = 0.5 * v + np.tanh(W.T @ x) * 0.01
        k += 1
    return v


def test_while_loop_hoists_invariant_work(rng):
    x, W = rng.standard_normal(4), rng.standard_normal((4, 4))
    e, _ = _ops(while_with_invariant, (x, W, 0.1))
    assert [l.kind for l in e.loops] == ["while"] and "moved before it" in e.loops[0].reason
    (loop,) = [op for op in walk(e.program.body) if op.prim.name == "while_loop"]
    assert "tanh" not in [op.prim.name for b in loop.blocks for op in b.ops]
    got = looptrace.jit(while_with_invariant, backend="interpret")(x, W, 0.1)
    np.testing.assert_allclose(got, while_with_invariant(x, W, 0.1), rtol=1e-9)


def signed_sums(z, M):
    """npbench's contour_integral, its branch: a large value made afresh in
    each iteration, negated on one side of an `if`."""
    P0 = np.zeros(M.shape[1:])
    P1 = np.zeros(M.shape[1:])
    for k in range(z.shape[0]):
        X = M[k] * z[k]
        if abs(z[k]) < 0.5:
            X = -X
        P0 += X
        P1 += z[k] * np.exp(X)
    return P0, P1


def carried_flip(z, x0):
    """The same branch on a carried array: selecting the whole array in every
    iteration would cost its size each time, so it stays a branch."""
    x = x0.copy()
    for k in range(z.shape[0]):
        if z[k] < 0.5:
            x = -x * 0.9
        x = x + z[k]
    return x


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_large_fresh_value_of_a_branch_becomes_a_select(backend, rng):
    z, M = rng.random(12), rng.standard_normal((12, 20, 15))
    got = looptrace.jit(signed_sums, backend=backend)(z, M)
    for g, w in zip(got, signed_sums(z, M)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    e, names = _ops(signed_sums, (z, M))
    assert [l.kind for l in e.loops] == ["reduction"] and "cond" not in names and "select" in names


def test_a_large_carried_value_of_a_branch_stays_a_branch(rng):
    z, x0 = rng.random(12), rng.standard_normal(300)
    got = looptrace.jit(carried_flip, backend="interpret")(z, x0)
    np.testing.assert_allclose(got, carried_flip(z, x0), rtol=1e-12)
    e, names = _ops(carried_flip, (z, x0))
    assert "cond" in names and [l.kind for l in e.loops] == ["scan"]
