"""One integer array with integers in a key: where NumPy puts the array's
axes. Apart (x[0, :, idx]), the advanced axes go first; together, where they
stand. A slice as long as the array gives the same shape either way, so
the shape cannot tell them apart: x[0, :, idx] of a (1, 3, 1) array with a
3-long idx gave the transpose of NumPy's (a wrong answer, found by
test_indexing_writes' generated keys)."""
import numpy as np
import pytest

import looptrace

KEYS = [
    lambda i: (0, slice(None), np.array([0, 0, 0])),
    lambda i: (i, slice(None), np.array([2, 0, 1])),
    lambda i: (np.array([1, 0, 2]), slice(None), i),
    lambda i: (slice(None), i, np.array([2, 1, 0])),  # together: where they stand
    lambda i: (i, np.array([0, 2, 1]), slice(None)),
]


@pytest.mark.parametrize("k", range(len(KEYS)))
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_reads_and_writes_place_the_array_axes_as_numpy(k, backend, rng):
    x = rng.standard_normal((3, 3, 3))
    v = rng.standard_normal((3, 3))

    def read(x, i):
        return x[KEYS[k](i)] * 2.0

    def write(x, v, i):
        x[KEYS[k](i)] = v
        return x

    def update(x, v, i):
        for t in range(2):
            x[KEYS[k](i)] += v * t
        return x.sum(axis=0)

    np.testing.assert_array_equal(looptrace.jit(read, backend=backend)(x, 1), read(x, 1))
    for fn in (write, update):
        a, b = x.copy(), x.copy()
        np.testing.assert_allclose(looptrace.jit(fn, backend=backend)(a, v, 2), fn(b, v, 2), rtol=1e-12)
        np.testing.assert_array_equal(a, b)
