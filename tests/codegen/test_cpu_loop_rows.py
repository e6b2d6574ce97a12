"""Arrays a scan's body makes every step (a Kalman filter's per-step
temporaries, F @ P @ F.T + Q, I - K @ H, ...) alternate between two rows
allocated once before the loop, as its products do (codegen/cpu/regions.py
`reserve_rows`, Emitter.fresh_array): no allocation per step. Checked
against the plain function, the carried values included, and on the
kernel's text."""
import numpy as np
import pytest

import looptrace as lt
from bench.corpus.learning import _kalman, kalman_filter

from .kernel_text import loop_body


def damped(x0, A, steps):
    x = x0.copy()
    out = np.empty((steps, x.shape[0]))
    for t in range(steps):
        y = A @ x
        z = np.tanh(y) * 0.5 + x * 0.25   # temporaries of the step
        w = z - 0.1 * np.abs(y)
        x = w / (1.0 + np.sum(w * w))
        out[t] = x
    return out, x


def two_steps_back(x0, steps):
    prev, cur = x0.copy(), x0 * 0.5
    for _ in range(steps):
        nxt = 0.5 * cur + 0.25 * prev + np.sin(cur)
        prev, cur = cur, nxt
    return prev, cur


@pytest.mark.parametrize("steps", [1, 2, 7])
def test_rows_of_a_scan(steps):
    rng = np.random.default_rng(steps)
    x0, A = rng.standard_normal(4), rng.standard_normal((4, 4)) * 0.3
    f = lt.jit(damped, backend="cpu")
    for got, want in zip(f(x0, A, steps), damped(x0, A, steps)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    g = lt.jit(two_steps_back, backend="cpu")
    for got, want in zip(g(x0, steps), two_steps_back(x0, steps)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_kalman_allocates_nothing_per_step():
    args = _kalman(np.random.default_rng(0), "test")
    f = lt.jit(kalman_filter, backend="cpu")
    got, want = f(*args), kalman_filter(*args)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10)
    src = f.explain(*args).kernel_source
    body = "\n".join(loop_body(src, r"range\("))
    assert "alloc(" not in body, body
