"""A loop of zero iterations whose body walks an array backwards
(`y[n - 1 - i]` for i in range(1, n), n = 1): the batched walk is an empty
cut whatever position it would start at (vectorize/batch_interpreter.py
`_slice_walk`), so the values batched from it (and the checks on them, here
math.sqrt's domain) have the loop's zero length. Found by a generated
program: the interpreter's check met a cut of length 1 and one of 0."""
import math

import numpy as np
import pytest

import looptrace


def reversed_reads(x, y):
    n = x.shape[0]
    acc = 0.0
    for i in range(1, n):
        acc = acc + math.floor(math.sqrt(abs(min(2.0, y[n - 1 - i])) + 1.0))
        acc += math.sin(x[i]) * y[n - 2 - i + 1]
    return acc


def reversed_writes(x, out):
    n = x.shape[0]
    for i in range(2, n):
        out[n - 1 - i] = math.sqrt(abs(x[n - i]) + x[i])  # may raise: a domain check over the walk
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_walks_of_zero_or_more_steps(backend, n, rng):
    x, y = rng.uniform(0.5, 2.0, n), rng.standard_normal(n)
    want = reversed_reads(x, y)
    assert looptrace.jit(reversed_reads, backend=backend)(x, y) == pytest.approx(want, rel=1e-12)
    out = rng.standard_normal(n)
    out2 = out.copy()
    got = looptrace.jit(reversed_writes, backend=backend)(x, out)
    np.testing.assert_allclose(got, reversed_writes(x, out2), rtol=1e-12)
    np.testing.assert_allclose(out, out2, rtol=1e-12)
