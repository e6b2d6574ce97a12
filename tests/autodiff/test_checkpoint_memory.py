"""Checkpointing lowers the peak memory of a gradient through a long loop,
with the vectorizer on (the default pipeline): its recompute segments stay
sequential instead of being batched all at once. Memory is measured with
tracemalloc on the interpret backend (deterministic, not a speed claim)."""

import tracemalloc

import numpy as np

import looptrace
from looptrace.examples import _rnn_args


def rnn_loss(X, y0, W1, W2, W3):
    y = y0
    total = 0.0
    for t in range(1, X.shape[0]):
        y = np.tanh(W1 @ y + W2 @ X[t] + W3 @ X[t - 1])
        total += np.sum(y)
    return total


def _peak_mib(checkpoint):
    # 700 steps (4000 until session 54, 9.3 s of CI; 1500 until session 55, 2.8 s): checkpointed peak 0.31 of
    # the full one here (segments of 26), 0.22 at 1500 (of 39), 0.15 at 4000
    args = _rnn_args(np.random.default_rng(0), T=700, nx=10, ny=20)
    fwd = looptrace.jit(rnn_loss, backend="interpret")
    vg = looptrace.value_and_grad(lambda *a: fwd(*a), argnums=(2, 3), backend="interpret",
                                  checkpoint=checkpoint)
    first = vg(*args)
    tracemalloc.start()
    again = vg(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20, first, again


def test_checkpointing_lowers_peak_memory_and_keeps_the_gradients():
    full, (v_full, g_full), _ = _peak_mib(None)
    ckpt, (v_ckpt, g_ckpt), _ = _peak_mib(26)  # segments of about sqrt(steps)
    assert ckpt < 0.7 * full, (full, ckpt)
    np.testing.assert_allclose(v_ckpt, v_full, rtol=1e-12)
    for a, b in zip(g_ckpt, g_full):
        np.testing.assert_allclose(a, b, rtol=1e-9)
