"""Positions (values computed from iotas by cheap integer arithmetic) are
recomputed in every CPU nest that reads them, also through the unit-axes
reshapes batching lines them up with (planning/fusion.py): a stencil written
as index loops reads its input at `(i + di) * w + (j + dj)` in the nest,
with no index arrays stored. Values are compared with the plain function."""

import re

import numpy as np

import looptrace
from bench.corpus.stencils import blur_3x3


def test_stencil_reads_at_computed_positions(rng):
    img = rng.standard_normal((14, 11))
    f = looptrace.jit(blur_3x3, backend="cpu")
    np.testing.assert_allclose(f(img), blur_3x3(img), rtol=1e-12)
    src = f.explain(img).kernel_source
    made = re.findall(r"\balloc\(\(([^)]*)\)", src)
    assert all(m == "14, 11, " for m in made), made  # the output at most: no index arrays
    assert "check_elem" not in src


def repeated_rows(x, m):
    y = np.empty(x.shape[0] * 4)
    y[:] = np.repeat(x, 4)
    return y + np.tile(x, 4) * m


def spreads(a, b):
    return (np.repeat(a, 3, axis=0) * 2.0, np.repeat(a, 2, axis=1) + np.tile(b, (1, 2)),
            np.tile(a, (2, 3)), np.repeat(a, 2).sum(), np.tile(b, 2) - np.repeat(b, 2, axis=-1))


def test_repeats_and_tiles_read_their_source_at_positions(rng):
    """np.repeat and np.tile spread an array and merge the spread axis into
    another (vectorize/iotas.py `_spread_read`): the nest reading them reads
    the source at `k // r` or `k % n` and stores no spread array."""
    x = rng.standard_normal(37)
    f = looptrace.jit(repeated_rows, backend="cpu")
    np.testing.assert_array_equal(f(x, 0.5), repeated_rows(x, 0.5))
    src = f.explain(x, 0.5).kernel_source
    made = re.findall(r"\balloc\(\(([^)]*)\)", src)
    assert made == ["148, "], made  # the output only
    assert "check_elem" not in src  # the positions are in bounds by their range
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    g = looptrace.jit(spreads, backend="cpu")
    for got, want in zip(g(a, b), spreads(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    for got, want in zip(g(a[::-1], b[:, ::-1]), spreads(a[::-1], b[:, ::-1])):  # strided sources
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert "check_elem" not in g.explain(a, b).kernel_source
