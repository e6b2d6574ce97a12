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
