"""A wrong gradient on cpu found by the s23 fuzz round (a generated gradient
program, right on interpret).

The gradient of `out[idx[i]] += x[i] + tanh(y[i])` then `out[i] = ...` has
`ct * (1 - tanh(y)**2)` read from the stacked cotangents through a
unit-axes reshape, computed (inlined) in a later nest, while the same
stacked array is also updated in place for the scatter of x's gradient.
planning/fusion.py `_read_where_computed` moved the inlined product to
where its reader was computed but left the reshape it reads through (never
made) at the product's own place, so the stacked array's last use looked
earlier than the nest that read it, and the in-place update was written
over it first: y's gradient came out wrong."""
import numpy as np

import looptrace
from looptrace.autodiff.check import numerical_grad


def scatter_then_recurrence(x, y, idx, w):
    n = x.shape[0]
    out = np.zeros(n)
    for i in range(1, n):
        out[idx[i]] += x[i] + np.tanh(y[i])
        out[i] = out[i - 1] * 0.5 + x[idx[i]]
    return np.sum(out * w)


def test_gradient_through_a_read_through_reshape():
    r = np.random.default_rng(68364)
    for n in (3, 4, 6):
        args = [r.standard_normal(n), r.standard_normal(n), r.integers(0, n, n), r.standard_normal(n)]
        args[2][:] = 1 if n == 3 else args[2]
        gx, gy = looptrace.grad(looptrace.jit(scatter_then_recurrence, backend="cpu"), argnums=(0, 1))(
            *[a.copy() for a in args])
        for k, g in ((0, gx), (1, gy)):
            want = numerical_grad(scatter_then_recurrence, [a.copy() for a in args], k)
            np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8, err_msg=f"n={n} argument {k}")
