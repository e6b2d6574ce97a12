"""A loop kept as a scan that writes one scalar per iteration (`out[i] = s`)
stores the scalar into its stacked row directly (codegen/cpu/regions.py
`_scalar_rows`): no one-element array is made per iteration. Values are
compared with the plain function, including a row that is also read."""

import numpy as np

import looptrace
from bench.corpus.algorithms import bisection_roots


def running_max_and_row(x):
    out = np.empty(x.shape[0])
    rows = np.empty((x.shape[0], 2))
    m = -np.inf
    for i in range(x.shape[0]):
        m = max(m, x[i])
        out[i] = m  # a scalar row
        rows[i] = np.array([m, out[i] * 2.0])  # a row of two, reading the scalar row back
    return out, rows


def test_scalar_rows_are_stored_as_scalars(rng):
    c = rng.standard_normal(50) * 5.0
    f = looptrace.jit(bisection_roots, backend="cpu")
    np.testing.assert_array_equal(f(c, 1e-10), bisection_roots(c, 1e-10))
    assert "filled((1, )" not in f.explain(c, 1e-10).kernel_source
    x = rng.standard_normal(40)
    g = looptrace.jit(running_max_and_row, backend="cpu")
    for got, want in zip(g(x), running_max_and_row(x)):
        np.testing.assert_array_equal(got, want)
