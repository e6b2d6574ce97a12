"""A gather through a narrow integer index array (`lut[img]` of a uint8
image and a 256-entry table, int8 indices counting from the end): the
interpret backend wrapped negative indices with `idx + n` in the index's
own dtype, which overflowed (OverflowError for uint8 + 256)."""
import numpy as np
import pytest

import looptrace as lt


def lut_apply(lut, img, j):
    return lut[img], lut[j]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_lookup_tables_through_narrow_indices(backend):
    rng = np.random.default_rng(0)
    lut = rng.random(256)
    img = rng.integers(0, 256, (5, 7)).astype(np.uint8)
    j = np.array([-3, 100, -128, 127], np.int8)
    for got, want in zip(lt.jit(lut_apply, backend=backend)(lut, img, j), lut_apply(lut, img, j)):
        np.testing.assert_array_equal(got, want)
