"""Floats cast to integers on the CPU backend give NumPy's results, also out
of range (NaN, infinities, values the integer cannot hold), where NumPy warns
"invalid value encountered in cast" but gives x86's results: int8 ... int32
through int32 (then wrapped), int64 as is, uint32 through int64 (then
wrapped), uint64 from the top bit (nprules.float_to_int32 and friends).
Before, LLVM's conversion was poison there and a vectorized loop saturated
(uint8 of 367.2: 255, NumPy 111). NumPy's own astype takes SIMD conversions
for some elements of a long array, which differ for uint32 out of range
(its result depends on the array's length): the rule kept, and compared
with here, is NumPy's scalar one, element by element (`out[i] = x` in a loop)."""
import platform
import warnings

import numpy as np
import pytest

import looptrace

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="NumPy's out-of-range casts are x86's")

SPECIAL = np.array([300.7, -469.9, -1.5, 0.5, -0.5, 70000.2, -70000.2, 3e9, -3e9, 5e9, 1.4e10, 1e19, -1e19,
                    1e300, -1e300, np.nan, np.inf, -np.inf, 2147483647.9, -2147483648.9, 9.3e18])
TYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


def astype_of(x, dt):
    return (x * 1.0).astype(dt)


def store_into(x, out):
    for i in range(x.shape[0]):
        out[i] = x[i] * 1.0
    return out


def _numpy(x, dt):
    """NumPy's scalar cast of each element (a one-element astype: no SIMD loop)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.array([x[i:i + 1].astype(dt)[0] for i in range(x.shape[0])], dtype=dt)


@pytest.mark.parametrize("dtype", TYPES)
def test_out_of_range_casts_are_numpys(dtype):
    x = np.tile(SPECIAL, 200)  # our vectorized loop
    want = _numpy(x, dtype)
    got = looptrace.jit(astype_of, static_argnames=("dt",), backend="cpu")(x, dtype)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_stores_of_numpy_floats_into_unsigned_ints_wrap_as_numpys(dtype):
    r = np.random.default_rng(21)
    x = r.uniform(-1e5, 1e5, 5000)
    out_p, out_c = np.zeros(5000, dtype), np.zeros(5000, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = store_into(x, out_p)
    got = looptrace.jit(store_into, backend="cpu")(x, out_c)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(out_c, out_p)


def store_python_float(x, out):
    for i in range(x.shape[0]):
        out[i] = float(x[i])
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("bad, error", [(340.5, OverflowError), (-1.5, OverflowError), (np.nan, ValueError)])
def test_a_python_float_stored_into_an_unsigned_int_goes_through_int(backend, bad, error):
    """NumPy converts a Python float with int() (and checks the bounds), a NumPy float in C."""
    x = np.random.default_rng(22).uniform(0, 200, 9)
    want = store_python_float(x, np.zeros(9, np.uint8))
    jf = looptrace.jit(store_python_float, backend=backend)
    np.testing.assert_array_equal(jf(x, np.zeros(9, np.uint8)), want)
    x[4] = bad
    plain_out, out = np.zeros(9, np.uint8), np.zeros(9, np.uint8)
    with pytest.raises(error):
        store_python_float(x, plain_out)
    with pytest.raises(error):
        jf(x, out)
    np.testing.assert_array_equal(out, plain_out)  # (the error's message is the plain function's: replayed)
