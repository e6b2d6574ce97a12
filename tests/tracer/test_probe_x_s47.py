"""Probe X (s47): numeric edge semantics against NumPy 2.4 that already hold, kept as
regressions. Special values (-0.0, +-inf, NaN, subnormals) through ufuncs and reductions,
floor division / remainder / fmod by negative and zero divisors, round half to even, NEP 50
promotion with Python, NumPy and 0-d scalars (and its OverflowError for out-of-range Python
ints), accumulators that change dtype or wrap, and the math module's errors. Each against the
plain function: values bit for bit (signed zeros and NaN positions included), dtypes, Python
types, the arguments afterwards, and the exception class where plain Python raises."""
import math
import warnings

import numpy as np
import pytest

import looptrace as lt


def _same(got, want, rtol=0.0):
    """Bit for bit (rtol 0: signed zeros too), or within rtol where the loop's sum is reassociated."""
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            _same(g, w, rtol)
        return
    assert type(got) is type(want), (type(got), type(want))
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
    if rtol:
        np.testing.assert_allclose(g, w, rtol=rtol, equal_nan=True)
    elif w.dtype.kind == "c":
        _same(g.real, w.real), _same(g.imag, w.imag)
    elif w.dtype.kind == "f":
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        np.testing.assert_array_equal(g[~np.isnan(g)], w[~np.isnan(w)])
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))
    else:
        np.testing.assert_array_equal(g, w)


def _copies(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def _call(fn, args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args)


def _matches(fn, args, backend="interpret", jitted=None, rtol=0.0):
    plain, mine = _copies(args), _copies(args)
    want = _call(fn, plain)
    got = _call(jitted or lt.jit(fn, backend=backend), mine)
    _same(got, want, rtol)
    for g, w in zip(mine, plain):
        if isinstance(w, np.ndarray):
            _same(g, w)


def _special(rng, n=10):
    x = rng.standard_normal(n)
    x[[1, 4, 6, 8]] = [np.nan, np.inf, -0.0, -np.inf]
    return x


# --- special values through ufuncs and reductions -------------------------------------------------
def reductions_with_nan(x):
    return np.min(x), x.max(), np.argmin(x), np.argmax(x), np.nanmax(x), np.nanargmin(x), np.nansum(x)


def fmin_fmax_minimum(x, y):
    return np.fmin(x, y), np.fmax(x, y), np.minimum(x, y), np.maximum(x, y), np.maximum.reduce(x), np.fmax.reduce(x)


def sign_copysign_clip(x):
    return np.sign(x), np.copysign(1.0, x), np.copysign(x, -0.0), np.signbit(x), np.clip(x, -1.0, 1.0)


def scans_with_inf(x):
    return np.cumsum(x), np.cumprod(x), np.nancumsum(x), np.maximum.accumulate(x)


def float_divisions(x, y):
    return x // y, x % y, np.fmod(x, y), np.divmod(x, y), x / y


def int_divisions(a, b):  # NumPy: int // 0 and int % 0 are 0 (with a warning)
    return a // b, a % b, np.fmod(a, b), np.divmod(a, b)


def rounding(x):
    return np.round(x), np.round(x, 2), np.round(x, -1), np.rint(x), np.round(x.astype(np.float32), 1)


def int_minimum_abs(a8, a64):
    return np.abs(a8), -a8, np.abs(a64), abs(a64[0]), a8 // -1


def subnormals(x):
    return x * 0.5, x / 3.0, np.sqrt(np.abs(x)), x * 1e300, np.nextafter(x, 1.0)


def unary_edges(x):
    return np.exp(x), np.log(x), np.sqrt(x), np.log1p(x), np.power(x, 1 / 3), np.floor(x), np.trunc(x)


# --- NEP 50 ---------------------------------------------------------------------------------------
def weak_python_scalars(a8, u8, b32, x32):
    return a8 + 1, u8 * 2, u8 - 1, b32 - 7, x32 + 3, a8 * 2.5, x32 * 0.1, x32 * (1 + 2j), a8 < 300, a8 == -1000


def strong_numpy_scalars(a8, u8, x32):
    return (a8 + np.int64(1), u8 + np.int8(1), x32 + np.float64(1.5), x32 + np.array(1.5), a8 + np.array(3),
            a8 + u8, x32[0] * 2.0, x32[0] + np.float64(1))


def int_true_and_floor_division(a, b):
    return a / b, a // b, a % b, a // -2, a % -2, a ** 2, a ** 0.5


def where_wraps_python_int(a8):  # np.where casts its weak 300 to int8 without a check, as NumPy 2.4 does
    return np.where(a8 > 1, a8, 300), np.clip(a8, 0, 300), np.zeros(3, np.uint8) - 1


def bool_arithmetic(b):
    return b + b, b * 2, b + 1, np.sum(b), b // b, b ** 2, b.mean(), True + True


# --- accumulators ---------------------------------------------------------------------------------
def int_then_float(x):
    s = 0
    for i in range(x.shape[0]):
        s += x[i]
    return s


def float32_stays_float32(x32):
    s = np.float32(0)
    t = 0.0  # Python float + np.float32: float32 (NEP 50)
    for i in range(x32.shape[0]):
        s += x32[i] * 0.1
        t += x32[i]
    return s, t


def complex_accumulators(x):
    s = 0j
    p = 1 + 0j
    for i in range(x.shape[0]):
        s += x[i] * 1j
        p *= (1 + x[i] * 1j)
    return s, p


def int8_cells_wrap(a):
    for k in range(5):
        for i in range(a.shape[0]):
            a[i] += 100
    return a


def python_int_plus_int8(a):  # 0 + np.int8 is np.int8: the sum wraps
    s = 0
    c = 0
    for i in range(a.shape[0]):
        s += a[i]
        c += a[i] > 0
    return s, c


def int8_scalar_carry(x):
    s = np.int8(0)
    u = np.uint8(0)
    for i in range(200):
        s += 1
        u -= 1
    return s, u


def max_with_nan_order(x):  # Python's max/min keep the first argument on a NaN comparison
    m = -np.inf
    n = np.inf
    k = 0
    for i in range(x.shape[0]):
        m = max(x[i], m)
        n = min(n, x[i])
        if x[i] > x[k]:
            k = i
    return m, n, k


# --- math module ----------------------------------------------------------------------------------
def math_scalars(x, y):
    out = np.zeros((x.shape[0], 8))
    for i in range(x.shape[0]):
        out[i, 0] = math.fmod(x[i], y[i])
        out[i, 1] = math.remainder(x[i], y[i])
        out[i, 2] = math.copysign(x[i], y[i])
        out[i, 3] = math.floor(x[i])
        out[i, 4] = math.trunc(x[i])
        out[i, 5] = round(x[i])
        out[i, 6] = round(x[i], 1)
        out[i, 7] = int(x[i])
    q, r = divmod(x[0], y[0])
    return out, q, r, math.isclose(x[0], x[0] + 1e-12), math.log(abs(x[1]) + 1, 2)


def python_number_signs(a):
    x, y = int(a[0]), int(a[1])
    return x % 3, y % -3, x // 2, y // -2, divmod(x, -3), -7.5 % 2, math.fmod(-7.5, 2), round(2.5), round(-0.5)


CASES = [
    (reductions_with_nan, lambda r: (_special(r),)),
    (fmin_fmax_minimum, lambda r: (_special(r), _special(r)[::-1].copy())),
    (sign_copysign_clip, lambda r: (_special(r),)),
    (scans_with_inf, lambda r: (_special(r),)),
    (float_divisions, lambda r: (np.array([-7.0, 7.0, -0.0, 4.0, 5.0, -5.0, 1.0]),
                                 np.array([2.0, -2.0, 1.0, -2.0, np.inf, np.inf, 0.0]))),
    (int_divisions, lambda r: (r.integers(-9, 9, 8).astype(np.int8), np.array([0, -3, 3, 0, -1, 2, -7, 5], np.int8))),
    (rounding, lambda r: (np.array([0.5, 1.5, 2.5, -0.5, -2.5, 2.675, -0.0, np.nan, np.inf]),)),
    (int_minimum_abs, lambda r: (np.array([-128, 127, -1], np.int8), np.array([-2**63, 3]))),
    (subnormals, lambda r: (np.array([5e-324, 1e-310, -1e-315, 2.2250738585072014e-308, 0.0]),)),
    (unary_edges, lambda r: (np.array([800.0, -800.0, 0.0, -0.0, -1.0, -8.0, np.nan]),)),
    (weak_python_scalars, lambda r: (r.integers(-50, 50, 5).astype(np.int8), r.integers(0, 250, 5).astype(np.uint8),
                                     r.integers(-999, 999, 5).astype(np.int32),
                                     r.standard_normal(5).astype(np.float32))),
    (strong_numpy_scalars, lambda r: (r.integers(-50, 50, 5).astype(np.int8), r.integers(0, 250, 5).astype(np.uint8),
                                      r.standard_normal(5).astype(np.float32))),
    (int_true_and_floor_division, lambda r: (np.array([-7, 7, -7, 7, 0]), np.array([2, -2, -2, 2, 3]))),
    (where_wraps_python_int, lambda r: (np.array([1, 2, 3], np.int8),)),
    (bool_arithmetic, lambda r: (np.array([True, False, True]),)),
    (int8_cells_wrap, lambda r: (r.integers(-100, 100, 6).astype(np.int8),)),
    (python_int_plus_int8, lambda r: (r.integers(-20, 100, 6).astype(np.int8),)),
    (int8_scalar_carry, lambda r: (np.zeros(1),)),
    (max_with_nan_order, lambda r: (np.array([1.0, 3.0, np.nan, 2.0, 0.5]),)),
    (math_scalars, lambda r: (np.array([-7.5, 7.5, -2.5, 0.5, -0.2]), np.array([2.0, -2.0, 3.0, -1.0, 0.7]))),
    (python_number_signs, lambda r: (np.array([-7, 7]),)),
]


@pytest.mark.parametrize("fn, make", CASES, ids=[c[0].__name__ for c in CASES])
def test_matches_plain_bit_for_bit(fn, make, rng):
    _matches(fn, make(rng))


REASSOCIATED = [  # a loop's sum became a reduction: types and dtypes exact, values to a tolerance
    (int_then_float, lambda r: (r.standard_normal(6),), 1e-12),
    (complex_accumulators, lambda r: (r.standard_normal(6),), 1e-12),
    (float32_stays_float32, lambda r: (r.standard_normal(8).astype(np.float32),), 1e-5),
]


@pytest.mark.parametrize("fn, make, rtol", REASSOCIATED, ids=[c[0].__name__ for c in REASSOCIATED])
def test_reassociated_accumulators(fn, make, rtol, rng):
    _matches(fn, make(rng), rtol=rtol)


# --- errors where plain Python / NumPy raises -----------------------------------------------------
def plus_300(a):
    return a + 300


def uint8_plus_minus_one(a):
    return a + (-1)


def traced_index_past_int8(a):
    out = np.zeros((3, a.shape[0]), np.int8)
    for i in range(126, 129):
        out[i - 126] = a + i
    return out


def int_negative_power(a):
    return a ** -1


def bool_negative(b):
    return -b


def int_inplace_by_float(a):
    a += 1.5
    return a


def fancy_store_past_int8(a):
    a[[0, 1]] = 300
    return a


def masked_store_past_int8(a):
    a[a > 0] = 300.0
    return a


def copyto_past_int8(a):
    np.copyto(a, 300)
    return a


def loop_math_log(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += math.log(x[i])
    return s


def loop_math_sqrt(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += math.sqrt(x[i])
    return s


def floor_of_nan(x):
    return math.floor(x[0])


def python_float_by_zero(x):
    return float(x[0]) / float(x[1])


def python_int_by_zero(a):
    return int(a[0]) // int(a[1])


ERRORS = [
    (plus_300, (np.array([1, 2], np.int8),), OverflowError, "300 out of bounds for int8"),
    (uint8_plus_minus_one, (np.array([1, 2], np.uint8),), OverflowError, "out of bounds for uint8"),
    (traced_index_past_int8, (np.array([1, 2], np.int8),), OverflowError, "out of bounds for int8"),
    (int_negative_power, (np.array([2, 3]),), ValueError, "negative integer powers"),
    (bool_negative, (np.array([True, False]),), TypeError, "boolean negative"),
    (int_inplace_by_float, (np.array([1, 2], np.int32),), TypeError, "Cannot cast ufunc 'add' output"),
    (fancy_store_past_int8, (np.array([1, 2], np.int8),), OverflowError, "300 out of bounds for int8"),
    (masked_store_past_int8, (np.array([1, 2], np.int8),), OverflowError, "300 out of bounds for int8"),
    (copyto_past_int8, (np.array([1, 2], np.int8),), OverflowError, "300 out of bounds for int8"),
    (loop_math_log, (np.array([1.0, 0.0, 2.0]),), ValueError, "math domain error"),
    (loop_math_sqrt, (np.array([4.0, -1.0]),), ValueError, "math domain error"),
    (floor_of_nan, (np.array([np.nan]),), ValueError, "NaN to integer"),
    (python_float_by_zero, (np.array([1.0, 0.0]),), ZeroDivisionError, "float division by zero"),
    (python_int_by_zero, (np.array([7, 0]),), ZeroDivisionError, "by zero"),
]


@pytest.mark.parametrize("fn, args, exc, match", ERRORS, ids=[e[0].__name__ for e in ERRORS])
def test_raises_as_plain(fn, args, exc, match):
    with pytest.raises(exc, match=match):
        _call(fn, _copies(args))
    with pytest.raises(exc, match=match):
        _call(lt.jit(fn, backend="interpret"), _copies(args))


# --- cpu: one kernel of the codegen-sensitive edges, one of run-time math errors -------------------
def cpu_edges(x, y, a, b, a8):
    s = 0
    m = -np.inf
    for i in range(a8.shape[0]):
        s += a8[i]
        m = max(x[i], m)
    return (x // y, x % y, np.fmod(x, y), a // b, a % b, np.fmod(a, b), np.round(x, 1), np.rint(x),
            np.clip(x, -1.0, 1.0), np.sign(x), np.copysign(2.0, x), np.abs(a8), a8 + 1, a8 * 2.5, s, m)


def test_cpu_edges_match_plain(rng):
    x = np.array([-7.5, 7.5, 2.5, -0.5, -0.0, np.nan, np.inf, 0.5])
    y = np.array([2.0, -2.0, 0.0, np.inf, 1.0, 3.0, 2.0, -0.0])
    a = rng.integers(-9, 9, 8)
    b = np.array([0, -3, 3, 0, -1, 2, -7, 5])
    a8 = np.array([-128, 127, 100, 90, 5, -3, 60, 70], np.int8)
    _matches(cpu_edges, (x, y, a, b, a8), backend="cpu")


def cpu_math_checked(x, k):
    s = 0.0
    for i in range(x.shape[0]):
        s += math.sqrt(x[i]) + math.log(x[i], 2) + math.fmod(x[i], 0.75)
    return s + k // 3 + k % -3


def test_cpu_math_errors_at_run_time(rng):
    f = lt.jit(cpu_math_checked, backend="cpu")
    x = rng.uniform(0.5, 4.0, 6)
    _matches(cpu_math_checked, (x, -7), jitted=f)
    for bad in (-1.0, 0.0):
        x[3] = bad
        with pytest.raises(ValueError, match="math domain error"):
            cpu_math_checked(x.copy(), -7)
        with pytest.raises(ValueError, match="math domain error"):
            f(x.copy(), -7)
