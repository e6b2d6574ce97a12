"""Matrix products in a loop body write into two rows allocated before the
loop (codegen/regions.py, `reusable_products`) only when no value sharing a
product's memory outlives the next iteration. The plain function is the
oracle; each case says whether the rows are used (the kernel source shows
`pp..._[pc..._]`)."""

import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def rnn(W, U, y):
    Y = np.empty_like(U)
    for t in range(U.shape[0]):
        y = np.tanh(W @ y + U[t])
        Y[t] = y
    return Y, y


def keeps_old_carry(W, U, y):
    # the carry is replaced only on some steps: an old product stays the carry
    for t in range(U.shape[0]):
        z = np.tanh(W @ y + U[t])
        y = np.where(z.sum() > 0.0, z, y)
    return y


def reads_previous(W, U, y):
    # the new carry is computed from the old one elementwise: may write over it
    prev = y
    for t in range(U.shape[0]):
        new = 0.5 * (W @ y) + 0.5 * y + U[t]
        prev, y = y, new
    return y, prev


def in_while(W, y, k):
    i = 0
    while i < k:
        y = np.tanh(W @ y)
        i += 1
    return y


def nested(W, U, Y0):
    out = np.empty_like(Y0)
    for b in range(Y0.shape[0]):
        y = Y0[b]
        for t in range(U.shape[0]):
            y = np.tanh(W @ y + U[t])
        out[b] = y
    return out


CASES = [(rnn, True), (keeps_old_carry, False), (reads_previous, False), (nested, None)]


@pytest.mark.parametrize("fn,reused", CASES, ids=[c[0].__name__ for c in CASES])
def test_products_in_loops_follow_the_plain_function(fn, reused):
    rng = np.random.default_rng(12)
    n = 70  # large enough for BLAS (> 4096 multiply-adds)
    W, U = rng.standard_normal((n, n)) / n, rng.standard_normal((9, n))
    last = rng.standard_normal((3, n)) if fn is nested else rng.standard_normal(n)
    f = looptrace.jit(fn, backend="cpu")
    got, want = f(W, U, last), fn(W, U, last)
    for g, w in zip(got if isinstance(want, tuple) else [got], want if isinstance(want, tuple) else [want]):
        np.testing.assert_allclose(g, w, rtol=1e-9)
    src = f.explain(W, U, last).kernel_source
    if reused is not None:
        assert ("pp" in src and "dot_into(" in src and "alloc((2, 70, )" in src) == reused, src


def test_while_loop_products_alternate():
    rng = np.random.default_rng(13)
    W, y = rng.standard_normal((70, 70)) / 70, rng.standard_normal(70)
    f = looptrace.jit(in_while, backend="cpu")
    for k in (0, 1, 2, 5):
        np.testing.assert_allclose(f(W, y, k), in_while(W, y, k), rtol=1e-9)
    assert "alloc((2, 70, )" in f.explain(W, y, 3).kernel_source
