"""Positions (values computed from iotas by cheap integer arithmetic) are
recomputed in every CPU nest that reads them, also through the unit-axes
reshapes batching lines them up with (planning/fusion.py): a stencil written
as index loops reads its input at `(i + di) * w + (j + dj)` in the nest,
with no index arrays stored. Values are compared with the plain function."""

import re

import numpy as np

import looptrace


def blur_3x3(img):
    h, w = img.shape
    out = np.zeros_like(img)
    for i in range(1, h - 1):
        for j in range(1, w - 1):
            s = 0.0
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    s += img[i + di, j + dj]
            out[i, j] = s / 9.0
    return out


def test_stencil_reads_at_computed_positions(rng):
    img = rng.standard_normal((14, 11))
    f = looptrace.jit(blur_3x3, backend="cpu")
    np.testing.assert_allclose(f(img), blur_3x3(img), rtol=1e-12)
    src = f.explain(img).kernel_source
    made = re.findall(r"np\.empty\(\(([^)]*)\)", src)
    assert all(m == "14, 11, " for m in made), made  # the output at most: no index arrays
    assert "check_elem" not in src
