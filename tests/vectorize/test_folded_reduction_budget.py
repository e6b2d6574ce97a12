"""A reduction whose term is an einsum (`S += np.outer(a[t], b[t])`, or a
weight gradient in a reverse scan) folds into one einsum over the stacked
operands, so the batched term is never materialized and the memory budget
does not keep it in the loop."""

import numpy as np
import pytest

import looptrace
from looptrace.examples import _rnn_args, rnn_taps
from looptrace.ir.core import walk
from looptrace.vectorize.batch_interpreter import set_memory_budget


@pytest.fixture
def tiny_budget():
    set_memory_budget(4096)  # far below T * ny * ny * 8 bytes
    yield
    set_memory_budget(None)


def outer_after_recurrence(x, w):
    h = np.zeros(x.shape[1])
    S = np.zeros((x.shape[1], x.shape[1]))
    for t in range(x.shape[0]):
        h = np.tanh(w * h + x[t])
        S += np.outer(h, x[t])
    return S


def _loops(program):
    return [op for op in walk(program.body) if op.prim.name in ("for_loop", "while_loop")]


def test_outer_product_accumulation_leaves_the_scan(tiny_budget, rng):
    x, w = rng.standard_normal((40, 6)), 0.5
    f = looptrace.jit(outer_after_recurrence, backend="interpret")
    np.testing.assert_allclose(f(x, w), outer_after_recurrence(x, w), rtol=1e-9)
    (loop,) = _loops(f.explain(x, w).program)
    assert not any(op.prim.name == "einsum" for op in walk(loop.blocks[0]))


def test_weight_gradient_leaves_the_reverse_scan(tiny_budget, rng):
    args = _rnn_args(rng, T=30, nx=3, ny=5)
    jitted = looptrace.jit(rnn_taps, backend="interpret")
    grad = looptrace.grad(lambda *a: jitted(*a).sum(), argnums=(2,), backend="interpret")
    (g,) = grad(*args)
    set_memory_budget(None)
    (want,) = looptrace.grad(lambda *a: jitted(*a).sum(), argnums=(2,), backend="interpret")(*args)
    np.testing.assert_allclose(g, want, rtol=1e-9)


def trapezoid(y, dx):
    s = 0.0
    for i in range(1, y.shape[0]):
        s += 0.5 * (y[i] + y[i - 1]) * dx
    return s


def weighted(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * w[i]
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_sum_scaled_by_a_scalar_stays_a_sum(backend, rng):
    """sum(t * dx) with a scalar dx contracts nothing: it stays a reduce_sum
    (whose term the CPU target fuses into its 8-chain sum) instead of an
    einsum 'a,->' that materializes t; a product of two arrays still folds."""
    y, x, w = rng.standard_normal(300), rng.standard_normal(50), rng.standard_normal(50)
    f = looptrace.jit(trapezoid, backend=backend)
    np.testing.assert_allclose(f(y, 0.1), trapezoid(y, 0.1), rtol=1e-12)
    prims = {op.prim.name for op in walk(looptrace.explain(f, y, 0.1).program.body)}
    assert "reduce_sum" in prims and "einsum" not in prims
    g = looptrace.jit(weighted, backend=backend)
    np.testing.assert_allclose(g(x, w), weighted(x, w), rtol=1e-12)
    assert "einsum" in {op.prim.name for op in walk(looptrace.explain(g, x, w).program.body)}
