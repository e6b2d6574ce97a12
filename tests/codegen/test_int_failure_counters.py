"""A parallel nest counts its int() failures branch-free (codegen/cpu/nest.py
`counting_int_failures`); with several int() in one prange body each has its
own counter (Numba refuses a reduction variable updated twice in one body:
probe W2's particle push crashed with an InternalError at 50k particles).
Against the plain function, values, argument effects and the error a NaN
gives."""
import math

import numpy as np
import pytest

import looptrace as lt


def gather_push(x, v, E, dx, dt):
    n_cells = E.shape[0]
    for p in range(x.shape[0]):
        s = x[p] / dx
        j = int(math.floor(s))
        w = s - j
        k = int(v[p] * 4.0)
        v[p] -= dt * ((1.0 - w) * E[j % n_cells] + w * E[(j + 1) % n_cells]) + 1e-3 * k
        x[p] = (x[p] + dt * v[p]) % 10.0
    return x


def test_several_int_conversions_in_a_parallel_body():
    rng = np.random.default_rng(11)
    n = 50_000
    x, v, E = rng.uniform(0, 10.0, n), rng.standard_normal(n), rng.standard_normal(32)
    jf = lt.jit(gather_push, backend="cpu")
    x1, v1 = x.copy(), v.copy()
    want = gather_push(x1, v1, E, 10.0 / 32, 0.05)
    x2, v2 = x.copy(), v.copy()
    got = jf(x2, v2, E, 10.0 / 32, 0.05)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(v2, v1, rtol=1e-12)
    np.testing.assert_array_equal(x2, got)
    v[n // 2] = np.nan  # int(nan): plain's ValueError, at the same element
    with pytest.raises(ValueError):
        gather_push(x.copy(), v.copy(), E, 10.0 / 32, 0.05)
    with pytest.raises(ValueError):
        jf(x.copy(), v.copy(), E, 10.0 / 32, 0.05)
