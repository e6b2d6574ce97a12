"""A gather read only by a scan stays in the scan when stacking it for every
iteration would leave the cache (vectorize/gather_reads.py); a gather that a
batched product reads stays batched. "Large" is HOISTED_GATHER_BYTES,
lowered here so that small inputs cross it."""

import numpy as np
import pytest

import looptrace
from bench.corpus.domains import logreg_sgd_minibatch
from looptrace.ir.core import walk
from looptrace.vectorize import gather_reads


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch):
    monkeypatch.setattr(gather_reads, "HOISTED_GATHER_BYTES", 2048)


def sgd_in_place(w, X, y, perm, lr):
    """Minibatch steps written into the caller's w, with the loss of each step."""
    losses = np.empty(perm.shape[0])
    for s in range(perm.shape[0]):
        idx = perm[s]
        xb = X[idx]
        g = 1.0 / (1.0 + np.exp(-(xb @ w))) - y[idx]
        w -= lr * (xb.T @ g)
        losses[s] = np.sum(g * g)
    return losses


def rnn_gathered(X, order, y0, W1, W2):
    """The seed rnn reading its inputs through an index: `W2 @ X[order[t]]` is one product."""
    Y = np.empty((order.shape[0], y0.shape[0]))
    y = y0
    for t in range(order.shape[0]):
        y = np.tanh(W1 @ y + W2 @ X[order[t]])
        Y[t] = y
    return Y


def _lr_args(rng, n=96, d=5, epochs=3):
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0).astype(np.float64)
    return X, y, np.stack([rng.permutation(n) for _ in range(epochs)]), 0.1, 8, epochs


def _outside(f, *args) -> list[str]:
    """Names of the ops before and after the loops (not in any loop's body)."""
    return [op.prim.name for op in f.explain(*args).program.body.ops]


def _in_loops(f, *args) -> list[str]:
    ops = f.explain(*args).program.body.ops
    return [o.prim.name for op in ops for b in op.blocks for o in walk(b)]


def _same(got, want):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_minibatch_gathers_are_read_per_step(backend, rng):
    """The program's values on the interpreter; [cpu] reads the kernel's plan and
    source through explain (no Numba compile: 3.5 s of session 55's CI), its
    values in test_minibatch_sgd_values_on_cpu (-m slow); a checked gather in a
    cpu scan runs in test_an_index_out_of_range_raises_as_the_plain_loop_does[cpu--41]."""
    args = _lr_args(rng)
    f = looptrace.jit(logreg_sgd_minibatch, backend=backend)
    if backend == "interpret":
        _same(f(*args), logreg_sgd_minibatch(*args))
    assert "gather" not in _outside(f, *args)  # neither X[idx] nor y[idx] stacked for all steps
    assert "transpose" not in _outside(f, *args)
    assert _in_loops(f, *args).count("gather") == 2
    assert [l.kind for l in f.explain(*args).loops] == ["scan", "scan"]
    if backend == "cpu":  # each row's index checked once, not at each of its d = 5 columns
        assert "check_elem" in f.explain(*args).kernel_source
        assert not _checks_inside(f.explain(*args).kernel_source, "range(5):")


@pytest.mark.slow
def test_minibatch_sgd_values_on_cpu(rng):
    args = _lr_args(rng)
    _same(looptrace.jit(logreg_sgd_minibatch, backend="cpu")(*args), logreg_sgd_minibatch(*args))


def _checks_inside(src: str, loop: str) -> list[str]:
    """check_elem lines in the bodies of the loops `for ... in <loop>`."""
    lines, found = src.splitlines(), []
    for k, line in enumerate(lines):
        if line.lstrip().startswith("for ") and line.rstrip().endswith(" in " + loop):
            depth = len(line) - len(line.lstrip())
            for inner in lines[k + 1:]:
                if len(inner) - len(inner.lstrip()) <= depth:
                    break
                if "check_elem(" in inner:
                    found.append(inner)
    return found


def test_in_place_writes_and_values_match(rng):
    X, y = rng.standard_normal((40, 4)), (rng.random(40) > 0.5).astype(np.float64)
    perm = rng.integers(0, 40, (30, 6))
    w0 = rng.standard_normal(4)
    w_plain, w_jit = w0.copy(), w0.copy()
    want = sgd_in_place(w_plain, X, y, perm, 0.05)
    f = looptrace.jit(sgd_in_place, backend="interpret")
    got = f(w_jit, X, y, perm, 0.05)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(w_jit, w_plain, rtol=1e-10)  # the caller sees the writes into w
    assert "gather" not in _outside(f, w0.copy(), X, y, perm, 0.05)


def test_above_the_bound_only(rng, monkeypatch):
    monkeypatch.setattr(gather_reads, "HOISTED_GATHER_BYTES", 1 << 30)
    args = _lr_args(rng)
    f = looptrace.jit(logreg_sgd_minibatch, backend="interpret")
    _same(f(*args), logreg_sgd_minibatch(*args))
    assert "gather" in _outside(f, *args)  # small: batched as before


def test_a_gather_feeding_a_batched_product_stays_batched(rng):
    T, n, m = 12, 6, 4
    X, order = rng.standard_normal((20, m)), rng.integers(0, 20, T)
    y0, W1, W2 = rng.standard_normal(n), 0.3 * rng.standard_normal((n, n)), rng.standard_normal((n, m))
    f = looptrace.jit(rnn_gathered, backend="interpret")
    np.testing.assert_allclose(f(X, order, y0, W1, W2), rnn_gathered(X, order, y0, W1, W2), rtol=1e-10)
    outside = _outside(f, X, order, y0, W1, W2)
    assert "gather" in outside and "einsum" in outside  # W2 @ X[order[t]] for all t: one product
    assert [l.kind for l in f.explain(X, order, y0, W1, W2).loops] == ["scan"]


@pytest.mark.parametrize("backend, bad", [("interpret", 40), ("interpret", -41), ("cpu", -41)])
def test_an_index_out_of_range_raises_as_the_plain_loop_does(backend, bad, rng):
    X, y = rng.standard_normal((40, 4)), rng.random(40)
    perm = rng.integers(-40, 40, (30, 6))  # negative indices count from the end, as in NumPy
    perm[17, 3] = bad
    w = rng.standard_normal(4)
    f = looptrace.jit(sgd_in_place, backend=backend)
    with pytest.raises(IndexError):
        sgd_in_place(w.copy(), X, y, perm, 0.05)
    with pytest.raises(IndexError):
        f(w.copy(), X, y, perm, 0.05)
    perm[17, 3] = 39
    w_plain, w_jit = w.copy(), w.copy()
    np.testing.assert_allclose(f(w_jit, X, y, perm, 0.05), sgd_in_place(w_plain, X, y, perm, 0.05), rtol=1e-10)
    np.testing.assert_allclose(w_jit, w_plain, rtol=1e-10)
