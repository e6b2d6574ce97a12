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
