"""Session 52: pow_f64's common path (|x| normal, |y * log|x|| <= 708) in the vector loop, the
other arguments out of line through a rare symbol of two arguments (mathlib.py `_rare_call`);
arctanh_f32 with one divide (mathlib_exp.py `_log2_ratio`). Bars: float64 within 1 ulp of NumPy's
result, float32 within 1 ulp of the float64 result rounded; NaNs and signed zeros as NumPy's."""
from __future__ import annotations

import numba
import numpy as np

from looptrace.codegen.cpu import mathlib, mathlib_exp


@numba.njit(error_model="numpy")
def _pow_vector(x, y, out):  # vectorized, 512-bit lanes where the CPU has them (as in a kernel)
    mathlib.wide_vectors()
    for i in range(x.size):
        out[i] = mathlib.pow_f64(x[i], y[i])


@numba.njit(error_model="numpy")
def _pow_scalar(x, y, out):  # a loop LLVM keeps scalar (a running value carried through it)
    carry = 0.0
    for i in range(x.size):
        out[i] = mathlib.pow_f64(x[i] - carry * 0.0, y[i])  # (x - +0.0 is x, -0.0 and NaN too)
        carry = 1.0 if out[i] > 2.0 else 0.0


def _ulps(a, b):
    ia, ib = a.view(np.int64), b.view(np.int64)
    ia = np.where(ia < 0, np.int64(-2**63) - ia, ia)
    ib = np.where(ib < 0, np.int64(-2**63) - ib, ib)
    d = np.abs(ia - ib)
    d[np.isnan(a) & np.isnan(b)] = 0
    return d


_SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 2.5, -2.5, np.inf, -np.inf, np.nan,
                     5e-324, -5e-324, 1e-310, -1e-310, 2.2250738585072014e-308, 1.7976931348623157e308,
                     -1.7976931348623157e308, 1e300, 1e-300, 0.1, 1.0000000000000002, 0.9999999999999999,
                     708.0, -708.0, 710.0, 1075.0, -1075.0, 1e20, -1e20])


def _pow_args(n=12_000):
    """Both arguments: the whole exponent range and both signs, near 1 with large exponents, negative
    bases with integer exponents, results around overflow and gradual underflow, subnormal bases,
    huge exponents; the grid of special values."""
    rng = np.random.default_rng(52)

    def logu(lo, hi):
        return np.exp(rng.uniform(np.log(lo), np.log(hi), n))

    sign = rng.choice([-1.0, 1.0], n)
    xs = [logu(1e-300, 1e300) * sign, 1 + rng.uniform(-0.1, 0.1, n), -logu(1e-5, 1e5), logu(0.5, 2.0),
          logu(5e-324, 2.2e-308), rng.random(n) * 10, logu(1e-10, 1e10) * sign]
    ys = [rng.uniform(-3, 3, n), rng.uniform(-2000, 2000, n), rng.integers(-60, 60, n).astype(np.float64),
          rng.uniform(-1100, 1100, n) / np.log(2), rng.uniform(-1.2, 1.2, n), rng.uniform(-10, 10, n),
          logu(1, 1e300) * sign]
    gx, gy = np.meshgrid(_SPECIAL, _SPECIAL)
    return np.concatenate(xs + [gx.ravel()]), np.concatenate(ys + [gy.ravel()])


def test_pow_f64_within_one_ulp_of_numpy_in_vector_and_scalar_loops():
    x, y = _pow_args()
    got, scalar = np.empty_like(x), np.empty_like(x)
    _pow_vector(x, y, got)
    _pow_scalar(x, y, scalar)
    with np.errstate(all="ignore"):
        want = np.power(x, y)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    d = _ulps(got, want)
    assert d.max() <= 1, (x[np.argmax(d)], y[np.argmax(d)], got[np.argmax(d)], want[np.argmax(d)])
    zero = want == 0.0
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]))  # (-0.0) ** 3 = -0.0
    same = (got.view(np.int64) == scalar.view(np.int64)) | (np.isnan(got) & np.isnan(scalar))
    assert same.all()  # the out-of-line path and the common one agree, whichever lanes take them


def test_rare_arguments_in_every_lane():
    """One argument of the out-of-line path (a zero, a NaN, an infinity, a subnormal, an overflow) at
    each position of a block of 16, among ordinary ones: the same results as NumPy's."""
    rng = np.random.default_rng(5)
    rare_x = np.array([0.0, np.nan, np.inf, -np.inf, 1e-310, 1e200, -0.0, 2.0])
    rare_y = np.array([-1.5, 2.0, 0.5, 3.0, 0.5, 4.0, -3.0, np.inf])
    rows_x, rows_y = [], []
    for i in range(16):
        for rx, ry in zip(rare_x, rare_y):
            bx, by = rng.uniform(0.1, 10, 16), rng.uniform(-4, 4, 16)
            bx[i], by[i] = rx, ry
            rows_x.append(bx)
            rows_y.append(by)
    x, y = np.concatenate(rows_x + [rare_x]), np.concatenate(rows_y + [rare_y])
    got = np.empty_like(x)
    _pow_vector(x, y, got)
    with np.errstate(all="ignore"):
        want = np.power(x, y)
    assert _ulps(got, want).max() <= 1
    np.testing.assert_array_equal(np.signbit(got[want == 0]), np.signbit(want[want == 0]))


def test_pow_loop_calls_the_two_argument_vector_variant():
    llvm = _pow_vector.inspect_llvm(_pow_vector.signatures[0])
    assert any(f"looptrace_pow_f64_other_v{w}(" in llvm for w in mathlib._RARE_WIDTHS_64)
    assert "<8 x double>" in llvm or "<4 x double>" in llvm or "<2 x double>" in llvm


@numba.njit(error_model="numpy")
def _arctanh32(x, out):
    mathlib.wide_vectors()
    for i in range(x.size):
        out[i] = mathlib_exp.arctanh_f32(x[i])


def test_arctanh_f32_one_divide_within_one_ulp():
    rng = np.random.default_rng(8)
    bits = rng.integers(0x3D000000, 0x3F800001, 100_000).astype(np.uint32)  # [1/32, 1]: the log's range
    x = bits.view(np.float32)
    x = np.concatenate([x, -x, np.array([0.0, -0.0, 1.0, -1.0, 1.5, -1.5, np.inf, -np.inf, np.nan, 0.0625,
                                         0.06249999, 0.99999994, -0.99999994, 1e-30], np.float32)])
    got = np.empty_like(x)
    _arctanh32(x, got)
    with np.errstate(all="ignore"):
        want = np.arctanh(x.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    gi, wi = got[ok].view(np.int32).astype(np.int64), want[ok].view(np.int32).astype(np.int64)
    gi, wi = np.where(gi < 0, -2**31 - gi, gi), np.where(wi < 0, -2**31 - wi, wi)
    d = np.abs(gi - wi)
    assert d.max() <= 1 and (d > 0).mean() < 1e-3
    np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]))  # arctanh(-0.0) = -0.0


def _powers(x, x32):
    return (x ** 2, x ** 0.5, x ** -1, x ** 3, x ** 4, x ** 3.0, x32 ** 2, x32 ** 0.5, x32 ** -1, x32 ** 3,
            x32 ** 4)


def test_constant_exponents_within_one_ulp_of_numpy():
    """One cpu kernel, both dtypes: x ** 2, x ** 0.5, x ** -1 as NumPy's fast paths (the same bits);
    x ** 3 and x ** 4 (scalar.py exact_small_power) within 1 ulp of NumPy's pow (float64; the plain
    products were up to 2 ulp off) and of the float64 result rounded (float32); inf, NaN, signed
    zeros, overflow and underflow as NumPy's."""
    import looptrace

    rng = np.random.default_rng(9)
    x = np.concatenate([rng.standard_normal(3000) * 10, np.exp(rng.uniform(-300, 300, 3000)) *
                        rng.choice([-1.0, 1.0], 3000),
                        [np.inf, -np.inf, np.nan, -0.0, 0.0, 1e120, -1e120, 1e-120, -1e-120, 1e-310, 1e300]])
    x32 = (rng.standard_normal(x.size) * 10).astype(np.float32)
    x32[:9] = [np.inf, -np.inf, np.nan, -0.0, 0.0, 1e30, -1e30, 1e-30, -1e-30]
    got = looptrace.jit(_powers, backend="cpu")(x, x32)
    with np.errstate(all="ignore"):
        want = _powers(x, x32)
        want32 = [(x32.astype(np.float64) ** p).astype(np.float32) for p in (3, 4)]
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        ok = ~np.isnan(w)
        np.testing.assert_array_equal(np.signbit(g[ok]), np.signbit(w[ok]))
        if i in (0, 1, 2, 6, 7, 8):
            np.testing.assert_array_equal(g, w)
        elif g.dtype == np.float64:
            assert _ulps(g, w).max() <= 1
    for g, w in zip(got[-2:], want32):
        gi, wi = g.view(np.int32).astype(np.int64), w.view(np.int32).astype(np.int64)
        gi, wi = np.where(gi < 0, -2**31 - gi, gi), np.where(wi < 0, -2**31 - wi, wi)
        assert np.abs(gi - wi)[~np.isnan(w)].max() <= 1


@numba.njit(error_model="numpy")
def _pow32_both(x, y, vec, sca):
    mathlib.wide_vectors()
    for i in range(x.size):  # vectorized
        vec[i] = mathlib.pow_f32(x[i], y[i])
    carry = np.float32(0.0)
    for i in range(x.size):  # kept scalar by the carried value
        sca[i] = mathlib.pow_f32(x[i] - carry * np.float32(0.0), y[i])
        carry = np.float32(1.0) if sca[i] > 2.0 else np.float32(0.0)


def test_pow_f32_common_path_and_out_of_line_one():
    """pow_f32 with its special cases out of line (`_pow_f32_full`): within 1 ulp of the float64
    result rounded, NaNs and signed zeros as it, the vector and the scalar loop the same."""
    x, y = _pow_args(4000)
    with np.errstate(all="ignore"):
        x, y = x.astype(np.float32), y.astype(np.float32)
        want = np.power(x.astype(np.float64), y.astype(np.float64)).astype(np.float32)
    vec, sca = np.empty_like(x), np.empty_like(x)
    _pow32_both(x, y, vec, sca)
    np.testing.assert_array_equal(np.isnan(vec), np.isnan(want))
    ok = ~np.isnan(want)
    gi, wi = vec[ok].view(np.int32).astype(np.int64), want[ok].view(np.int32).astype(np.int64)
    gi, wi = np.where(gi < 0, -2**31 - gi, gi), np.where(wi < 0, -2**31 - wi, wi)
    assert np.abs(gi - wi).max() <= 1
    np.testing.assert_array_equal(np.signbit(vec[ok]), np.signbit(want[ok]))
    assert ((vec.view(np.int32) == sca.view(np.int32)) | (np.isnan(vec) & np.isnan(sca))).all()
