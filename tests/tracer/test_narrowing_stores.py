"""A NumPy int scalar stored into an element of a narrower signed int array
(`out8[i] = a64[i] * 2`): NumPy 2 converts it as a Python int and raises
OverflowError where it does not fit; an unsigned target wraps, as NumPy's
does. Before (session-35 probe I) the compiled code wrapped silently."""
import numpy as np
import pytest

import looptrace as lt

BACKENDS = ["interpret", "cpu"]


def doubled_into_int8(a):
    out = np.zeros(a.shape[0], dtype=np.int8)
    for i in range(a.shape[0]):
        out[i] = a[i] * 2
    return out


def mixed_targets(a):
    out = np.zeros(a.shape[0], dtype=np.int8)
    u = np.zeros(a.shape[0], dtype=np.uint8)
    w = np.zeros(a.shape[0], dtype=np.int16)
    for i in range(a.shape[0]):
        out[i] = a[i] // 4
        u[i] = a[i] * 2  # wraps, as NumPy's
        w[i] = np.int8(a[i] % 100)  # int8 into int16 always fits
    return out, u, w


@pytest.mark.parametrize("backend", BACKENDS)
def test_out_of_range_raises(backend):
    a = np.array([200, 3])
    with pytest.raises(OverflowError):
        doubled_into_int8(a.copy())
    with pytest.raises(OverflowError, match="out of bounds for int8"):
        lt.jit(doubled_into_int8, backend=backend)(a.copy())


@pytest.mark.parametrize("backend", BACKENDS)
def test_in_range_and_unsigned_targets(backend):
    a = np.array([200, 3, -100, 500])
    for got, want in zip(lt.jit(mixed_targets, backend=backend)(a), mixed_targets(a)):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype
    np.testing.assert_array_equal(lt.jit(doubled_into_int8, backend=backend)(np.array([60, -64])),
                                  doubled_into_int8(np.array([60, -64])))
