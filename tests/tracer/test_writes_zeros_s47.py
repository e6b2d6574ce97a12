"""Stores that NumPy 2.4 refuses or converts its own way, and the signed zeros
of np.clip (helper Z, s47).

- A NumPy scalar known while tracing (`a[0] = np.int64(300)`) stored through a
  basic key into an int array is converted by NumPy itself: a signed target
  raises OverflowError where it does not fit, NaN ValueError, an unsigned one
  wraps; through an index array or a mask NumPy casts it unsafely
  (indexing._stored_scalar). Was: 300 wrapped to 44.
- A traced Python complex stored into an int or float array raises int()'s /
  float()'s TypeError (a bool array takes its truth). Was: 1 or the real part.
- np.place / np.putmask take an array of values (0-d too) only where its dtype
  casts safely (np_writes._check_safe_values). Was: cast unsafely.
- np.clip of a float array between two scalar bounds keeps an element equal to
  a bound (np.clip(-0.0, 0.0, 0.0) is -0.0); with an array bound, or one bound
  only, it is np.maximum / np.minimum's (numpy_api._clip_side).
"""
import warnings

import numpy as np
import pytest

import looptrace
from tests.tracer._compare import check


def _raises_as_plain(fn, *args):
    """jit(fn) raises what fn raises: class and message."""
    with pytest.raises(Exception) as plain:
        fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    with pytest.raises(type(plain.value)) as got:
        looptrace.jit(fn, backend="interpret")(*args)
    assert str(got.value) == str(plain.value)
    return got


# --- 1. NumPy scalars known while tracing --------------------------------------------------------
def store_int64_300(a):
    a[0] = np.int64(300)
    return a


def fill_int64_300(a):
    a[:] = np.int64(300)
    return a


def store_float64_300(a):
    a[1] = np.float64(300.0)
    return a


def store_int16_300(a):
    a[...] = np.int16(300)
    return a


def store_nan(a):
    a[2] = np.float64(np.nan)
    return a


def store_fitting(a):
    a[0] = np.int64(100)
    a[1:] = np.float64(-7.9)
    return a


def store_negative(a):
    a[0] = np.int64(-1)
    a[1] = np.float64(300.0)
    a[2::2] = np.int16(-300)
    return a


def store_through_index_array(a):
    a[np.array([0, 2])] = np.int64(300)
    a[np.array([False, True, False, False])] = np.int64(-200)
    return a


def store_in_loop(a, n):
    for i in range(n):
        a[i] = np.int64(300)
    return a


def test_numpy_scalar_constants_into_signed_ints_raise_as_numpy(rng):
    a = rng.integers(-100, 100, 4).astype(np.int8)
    for fn in (store_int64_300, fill_int64_300, store_float64_300, store_int16_300):
        _raises_as_plain(fn, a)
    _raises_as_plain(store_nan, a)  # ValueError: cannot convert float NaN to integer
    check(store_fitting, a)
    check(store_fitting, a.astype(np.int16))


def test_numpy_scalar_constants_wrap_where_numpy_does(rng):
    u = rng.integers(0, 200, 5).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(store_negative, u)  # an unsigned target wraps: 255, 44, 212
        check(store_int64_300, u)
        check(store_through_index_array, rng.integers(-100, 100, 4).astype(np.int8))  # a cast: 44, 56


def test_numpy_scalar_store_raises_where_the_store_runs(rng):
    a = rng.integers(-100, 100, 3).astype(np.int8)
    check(store_in_loop, a, 0)  # a loop of no trips stores nothing
    info = _raises_as_plain(store_in_loop, a, 2)
    assert __file__ in "".join(info.value.__notes__)


# --- 2. a traced Python complex ------------------------------------------------------------------
def store_complex(a, x):
    a[0] = complex(x, 2.0)
    return a


def store_imaginary(a, x):
    a[:] = x * 1j
    return a


def store_complex_masked(a, x):
    a[a > 0] = x + 1j
    return a


def store_complex_argument(a, v):
    a[1] = v
    return a


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.float32, np.float64])
def test_python_complex_into_real_arrays_raises_type_error(dtype, rng):
    a = (rng.standard_normal(3) * 10).astype(dtype)
    x = float(rng.standard_normal())
    for fn, args in [(store_complex, (a, x)), (store_imaginary, (a, x)), (store_complex_masked, (a, x)),
                     (store_complex_argument, (a, complex(x, 1.0)))]:
        _raises_as_plain(fn, *args)


def test_complex_stores_numpy_takes(rng):
    x = float(rng.standard_normal())
    check(store_complex, rng.standard_normal(3) > 0, x)  # a bool array: complex's truth
    check(store_complex, rng.standard_normal(3) + 1j, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (ComplexWarning: a NumPy complex scalar drops its imaginary part)
        check(store_complex_argument, rng.standard_normal(3), np.complex128(complex(x, 3.0)))


# --- 3. np.place / np.putmask values -------------------------------------------------------------
def place(a, m, v):
    np.place(a, m, v)
    return a


def putmask(a, m, v):
    np.putmask(a, m, v)
    return a


def test_place_and_putmask_refuse_unsafe_value_arrays(rng):
    m = rng.standard_normal(5) > 0
    m[0] = True
    i8, f32 = rng.integers(-100, 100, 5).astype(np.int8), rng.standard_normal(5).astype(np.float32)
    unsafe = [(i8, rng.integers(-100, 100, 2)), (i8, rng.standard_normal(2)), (i8, np.array([3, 4], np.uint8)),
              (f32, rng.integers(-100, 100, 3)), (f32, rng.standard_normal(2)), (f32, np.array([1 + 1j])),
              (i8, np.array(5)), (f32, np.array(2.5))]
    for fn in (place, putmask):
        for a, v in unsafe:
            _raises_as_plain(fn, a, m, v)
        for a, v in [(i8, np.array([3, -4], np.int8)), (f32, np.array([3, 4], np.int16)),
                     (f32, rng.standard_normal(2).astype(np.float16)), (i8, np.int64(5)), (i8, np.float64(7.5)),
                     (i8, [5, -6]), (f32, 2.5), (i8, np.array([True]))]:
            check(fn, a, m, v)


# --- 4. np.clip's signed zeros -------------------------------------------------------------------
def clip_zero(x):
    return np.clip(x, 0.0, 0.0), np.clip(x, -0.0, -0.0), np.clip(x, np.float32(-0.0), 1.0), np.clip(x, -1.0, 0.0)


def clip_one_sided_or_array(x, lo):
    return np.clip(x, 0.0, None), np.clip(x, None, -0.0), np.clip(x, lo, 0.0), np.clip(x, np.nan, 1.0)


def _signs(r):
    return [np.signbit(v) for v in r]


def test_clip_between_scalar_bounds_keeps_equal_elements(rng):
    zeros = np.where(rng.random(11) < 0.5, 0.0, -0.0)
    mixed = np.concatenate([zeros, rng.standard_normal(5), [np.nan]])
    for x in (-0.0, 0.0, np.float32(-0.0), np.array(-0.0), mixed, mixed.astype(np.float32), mixed[1:].reshape(2, 2, 4)):
        got = check(clip_zero, x)
        plain = clip_zero(x)
        for g, p in zip(_signs(got), _signs(plain)):
            np.testing.assert_array_equal(g, p)
    lo = np.where(rng.random(17) < 0.5, 0.0, -0.0)
    got = check(clip_one_sided_or_array, mixed, lo)
    for g, p in zip(_signs(got), _signs(clip_one_sided_or_array(mixed, lo))):
        np.testing.assert_array_equal(g, p)
    check(clip_zero, rng.integers(-3, 3, 6))  # an int array: no zeros to sign


# --- one cpu kernel: the stores and clip's zeros
def cpu_stores(a8, u8, x, X, n):
    a8[0] = np.int64(100)
    a8[1] = np.float64(-7.9)
    u8[0] = np.int64(-1)
    u8[1] = np.float64(300.0)
    for i in range(n):
        a8[i] = np.int64(300)
    # (which of +0.0 and -0.0 a max/min keeps depends on NumPy's SIMD code and the CPU: not compared)
    return np.clip(x, 0.0, 0.0), np.clip(x, -0.0, 1.0), np.clip(x, 0.0, None), X.sum(axis=0)


def test_cpu_stores_and_clip_zeros(rng):
    a8, u8 = rng.integers(-100, 100, 4).astype(np.int8), rng.integers(0, 200, 4).astype(np.uint8)
    x = np.concatenate([np.where(rng.random(40) < 0.5, 0.0, -0.0), rng.standard_normal(9), [np.nan]])
    X = np.where(rng.random((6, 4)) < 0.5, 0.0, -0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = check(cpu_stores, a8, u8, x, X, 0, backend="cpu")
        for g, p in zip(_signs(got), _signs(cpu_stores(a8.copy(), u8.copy(), x, X, 0))):
            np.testing.assert_array_equal(g, p)
        f = looptrace.jit(cpu_stores, backend="cpu")
        with pytest.raises(OverflowError, match="out of bounds for int8") as info:
            f(a8.copy(), u8.copy(), x, X, 2)
    assert __file__ in "".join(info.value.__notes__)
