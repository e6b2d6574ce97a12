"""A float cast to an integer type out of its range gives NumPy's scalar
result on x86-64 on both backends (probe Z, session 42): int8 ... int32
through int32's conversion, uint32 and int64 through int64's, then wrapped
(ops/elementwise.py `float_to_int`, codegen/cpu/nprules.py). Storing a
running float sum past 2**32 into a uint32 array wraps, as in NumPy (it
gave 0). NumPy's SIMD astype differs for uint32 on some elements of long
arrays; its scalar rule (one element at a time) is the reference."""
import platform
import warnings

import numpy as np
import pytest

import looptrace
from bench.corpus.misc import prefix_sum_loop  # out[i] = the running float sum

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="NumPy's out-of-range casts are x86's")

SPECIAL = np.array([2147483653.0, 12884901893.0, -3e9, -2147483653.0, np.nan, 1e30, -1e30, np.inf, 300.7,
                    -300.7, 70000.2, -1.5, 2.0 ** 63, 1.8e19, 255.9, -0.9, 4294967296.0, -4294967301.0])
TYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


def _scalar_numpy(x, dt):
    """NumPy's cast of each element alone (a one-element astype: its scalar loop)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.array([x[i:i + 1].astype(dt)[0] for i in range(x.shape[0])], dtype=dt)


def store_into(x, out):
    for i in range(x.shape[0]):
        out[i] = x[i] * 1.0
    return out


def cast(x, dt):
    return x.astype(dt)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_running_float_sum_into_uint32_wraps(backend):
    x = np.array([4294967282, 4294967283, 4294967283, 4294967282], dtype=np.uint32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = prefix_sum_loop(x)
    np.testing.assert_array_equal(looptrace.jit(prefix_sum_loop, backend=backend)(x), want)


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("src", [np.float64, np.float32])
def test_astype_out_of_range_interpret(dtype, src):
    x = np.tile(SPECIAL, 3).astype(src)
    got = looptrace.jit(cast, static_argnames=("dt",), backend="interpret")(x, dtype)
    np.testing.assert_array_equal(got, _scalar_numpy(x, dtype))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_stores_into_unsigned_out_of_range(backend, dtype):
    x = np.tile(SPECIAL, 3)
    out_p, out_j = np.zeros(x.shape, dtype), np.zeros(x.shape, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        store_into(x, out_p)
    looptrace.jit(store_into, backend=backend)(x, out_j)
    np.testing.assert_array_equal(out_j, out_p)
    np.testing.assert_array_equal(out_p, _scalar_numpy(x, dtype))
