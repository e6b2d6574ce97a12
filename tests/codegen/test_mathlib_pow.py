"""mathlib's pow (float64, float32), arcsin and arccos: ulp error against NumPy and
libm, C99's special values, that a loop over each is vectorized without libm
calls, and that the CPU lowering uses them."""
from __future__ import annotations

import functools
import math
from fractions import Fraction

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.codegen.cpu import mathlib

from .test_mathlib import ulp_distance


@functools.cache
def _binary_loop(fn):
    @numba.njit(error_model="numpy", boundscheck=False)
    def apply(x, y, out):
        for i in range(x.shape[0]):
            out[i] = fn(x[i], y[i])

    return apply


@functools.cache
def _unary_loop(fn):
    @numba.njit(error_model="numpy", boundscheck=False)
    def apply(x, out):
        for i in range(x.shape[0]):
            out[i] = fn(x[i])

    return apply


@numba.njit(error_model="numpy")
def _libm_pow(x, y, out):
    for i in range(x.shape[0]):
        out[i] = math.pow(x[i], y[i])


def _pow(x, y, fn=mathlib.pow_f64):
    out = np.empty_like(x)
    _binary_loop(fn)(x, y, out)
    return out


def _unary(fn, x):
    out = np.empty_like(x)
    _unary_loop(fn)(x, out)
    return out


def _pow_grid(kind: str, n: int = 200_000):
    r = np.random.default_rng(len(kind))
    if kind == "unit":
        return r.random(n) * 4, r.standard_normal(n) * 10
    if kind == "wide_x":
        return np.exp(r.uniform(-700, 700, n)), r.uniform(-1, 1, n)
    if kind == "near_overflow_underflow":  # x**y from 1e-323 to 1e308
        x = np.exp(r.uniform(-700, 700, n))
        return x, r.uniform(-745, 709.7, n) / np.log(x)
    if kind == "near_one":
        return 1 + r.standard_normal(n) * 1e-8, r.standard_normal(n) * 1e9
    if kind == "negative_x_integer_y":
        return -r.random(n) * 10, np.round(r.standard_normal(n) * 20)
    if kind == "subnormal_x":
        return 10.0 ** r.uniform(-323, -300, n), r.uniform(0.5, 1.1, n)
    return np.exp(r.uniform(-5, 5, n)), r.uniform(-150, 150, n)  # "moderate"


@pytest.mark.parametrize("kind", ["unit", "wide_x", "near_overflow_underflow", "near_one",
                                  "negative_x_integer_y", "subnormal_x", "moderate"])
def test_pow_f64_within_one_ulp(kind):
    """<= 1 ulp from NumPy's and from libm's pow (glibc's is correctly rounded
    but for rare cases), over the exponent range, subnormal results included."""
    x, y = _pow_grid(kind)
    got = _pow(x, y)
    libm = np.empty_like(x)
    _libm_pow(x, y, libm)
    with np.errstate(all="ignore"):
        want = np.power(x, y)
    for ref in (want, libm):
        d = ulp_distance(got, ref)
        worst = int(np.argmax(d))
        assert d[worst] <= 1, (kind, x[worst], y[worst], got[worst], ref[worst])


_SPECIAL = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.45, -0.45, np.inf, -np.inf, np.nan, 5e-324,
            -5e-324, 1e308, -1e308, 2.0**53, 2.0**53 + 2, -(2.0**53 + 2), 1.5, -1.5, 1e-300, 1075.0, -1075.0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pow_special_values(dtype):
    """C99's cases as NumPy's: pow(x, 0) = 1 and pow(1, y) = 1 even for NaN,
    negative x with a non-integer y is NaN, an odd integer y keeps x's sign
    (-0 and -inf too), zeros and infinities, overflow to inf."""
    x, y = (a.ravel().astype(dtype) for a in np.meshgrid(_SPECIAL, _SPECIAL))
    fn = mathlib.pow_f64 if dtype == np.float64 else mathlib.pow_f32
    got = _pow(x, y, fn)
    with np.errstate(all="ignore"):
        want = np.power(x, y)
    exact = ~np.isfinite(want) | (want == 0) | (want == 1)
    np.testing.assert_array_equal(got[exact], want[exact])
    signed = exact & ~np.isnan(want)  # (a NaN's sign bit is not specified)
    assert (np.signbit(got[signed]) == np.signbit(want[signed])).all()
    assert ulp_distance(got, want).max() <= 1


def test_pow_f64_exact_where_the_result_is_a_double():
    """An integer to an integer power whose result is exactly a double comes out exact."""
    x, y = np.meshgrid(np.arange(-40.0, 41.0), np.arange(0.0, 40.0))
    x, y = x.ravel(), y.ravel()
    exact = np.array([abs(int(a) ** int(b)) < 2**53 for a, b in zip(x, y)])
    got = _pow(x[exact], y[exact])
    np.testing.assert_array_equal(got, [float(int(a) ** int(b)) for a, b in zip(x[exact], y[exact])])


def test_pow_f32_against_the_float64_result_rounded():
    r = np.random.default_rng(4)
    x = np.concatenate([r.random(300_000) * 4, 10.0 ** r.uniform(-45, 38, 100_000)]).astype(np.float32)
    y = np.concatenate([r.standard_normal(300_000) * 10, r.uniform(-3, 3, 100_000)]).astype(np.float32)
    with np.errstate(all="ignore"):
        ref = np.power(x.astype(np.float64), y.astype(np.float64)).astype(np.float32)
    assert ulp_distance(_pow(x, y, mathlib.pow_f32), ref).max() <= 1


def _asin_grids():
    r = np.random.default_rng(9)
    n = 200_000
    return [r.uniform(-1, 1, n), 1 - 10.0 ** r.uniform(-17, -1, n), -1 + 10.0 ** r.uniform(-17, -1, n),
            0.5 + r.standard_normal(n) * 1e-3, -0.5 + r.standard_normal(n) * 1e-3,
            10.0 ** r.uniform(-320, -1, n) * r.choice([-1, 1], n)]


@pytest.mark.parametrize("name", ["arcsin", "arccos"])
def test_asin_acos_f64_within_one_ulp_of_numpy(name):
    fn = mathlib.asin_f64 if name == "arcsin" else mathlib.acos_f64
    for x in _asin_grids():
        d = ulp_distance(_unary(fn, x), getattr(np, name)(x))
        assert d.max() <= 1, (name, x[np.argmax(d)])


@pytest.mark.parametrize("name", ["arcsin", "arccos"])
def test_asin_acos_special_values(name):
    fn64, fn32 = (mathlib.asin_f64, mathlib.asin_f32) if name == "arcsin" else (mathlib.acos_f64, mathlib.acos_f32)
    x = np.array([0.0, -0.0, 1.0, -1.0, np.nextafter(1, 2), -np.nextafter(1, 2), 2.0, np.inf, -np.inf, np.nan,
                  5e-324, -5e-324, 0.5, -0.5])
    for dtype, fn in ((np.float64, fn64), (np.float32, fn32)):
        xs = x.astype(dtype)
        got = _unary(fn, xs)
        with np.errstate(invalid="ignore"):
            want = getattr(np, name)(xs.astype(np.float64)).astype(dtype)
        np.testing.assert_array_equal(got[:10], want[:10])  # +-0 and NaNs exactly; +-1 exact; outside: NaN
        assert (np.signbit(got[:4]) == np.signbit(want[:4])).all()
        assert ulp_distance(got, want).max() <= 1


@pytest.mark.parametrize("name", ["arcsin", "arccos"])
def test_asin_acos_f32_is_the_float64_result_rounded(name):
    """Within 1 ulp of it, in float32 arithmetic since session 51 (every float32 in [-1, 1]
    checked by hand: 0.036% (asin), 0.013% (acos) one ulp off); here over 2**22 of them."""
    fn = mathlib.asin_f32 if name == "arcsin" else mathlib.acos_f32
    bits = np.random.default_rng(11).integers(0, 0x3F800001, 1 << 22).astype(np.uint32)
    x = np.concatenate([bits.view(np.float32), -bits.view(np.float32)])
    want = getattr(np, name)(x.astype(np.float64)).astype(np.float32)
    d = ulp_distance(_unary(fn, x), want)
    assert d.max() <= 1 and (d > 0).mean() < 1e-3


@pytest.mark.parametrize("fn", ["pow_f64", "pow_f32"])
def test_pow_loop_is_vectorized_without_libm_calls(fn):
    dtype = np.float64 if fn == "pow_f64" else np.float32
    _pow(np.ones(4, dtype), np.ones(4, dtype), getattr(mathlib, fn))
    loop = _binary_loop(getattr(mathlib, fn))
    llvm = loop.inspect_llvm(loop.signatures[0])
    assert " x double>" in llvm and "@pow" not in llvm and "@llvm.pow" not in llvm


@pytest.mark.parametrize("fn", ["asin_f64", "acos_f64", "asin_f32", "acos_f32"])
def test_asin_acos_loop_is_vectorized_without_libm_calls(fn):
    dtype = np.float64 if fn.endswith("64") else np.float32
    _unary(getattr(mathlib, fn), np.zeros(4, dtype))
    loop = _unary_loop(getattr(mathlib, fn))
    llvm = loop.inspect_llvm(loop.signatures[0])
    assert (" x float>" if fn.endswith("32") else " x double>") in llvm and "@asin" not in llvm and "@acos" not in llvm


@numba.njit(error_model="numpy")
def _dekker(a, b):
    return mathlib._mul_err_dekker(a, b, a * b)


@settings(max_examples=80, deadline=None)
@given(st.floats(-1e300, 1e300, allow_nan=False), st.floats(-1e6, 1e6, allow_nan=False))
def test_mul_err_without_fma_is_exact(a, b):
    """The product error that hosts without FMA use (Dekker's): a*b - fl(a*b) exactly."""
    p = a * b
    if math.isfinite(p) and (p == 0 or abs(p) > 1e-290):
        assert _dekker(a, b) == float(Fraction(a) * Fraction(b) - Fraction(p))


# --- the CPU lowering ---------------------------------------------------------------------------------
def _kernel_source(f, *args):
    return looptrace.jit(f, backend="cpu").explain(*args).kernel_source


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cpu_lowers_power_to_mathlib(monkeypatch, rng, dtype):
    """x ** y (array or scalar exponent, integer exponents too) runs mathlib's
    pow; the values are NumPy's within an ulp, also for negative bases; x ** 3
    stays products and a literal 0.5 NumPy's sqrt semantics (np.power)."""
    monkeypatch.delenv("LOOPTRACE_LIBM", raising=False)
    x = (rng.random(300) * 3).astype(dtype)
    y = (rng.standard_normal(300) * 4).astype(dtype)
    n = rng.integers(-6, 9, 300)
    bits = 64 if dtype == np.float64 else 32
    for f, args in ((lambda a, b: a ** b, (x, y)), (lambda a, b: (-a) ** b, (x, n)), (lambda a: a ** 1.7 + 1, (x,))):
        got, want = looptrace.jit(f, backend="cpu")(*args), f(*args)
        assert got.dtype == want.dtype
        assert ulp_distance(got, want).max() <= 1
    assert f"pow_f{bits}(" in _kernel_source(lambda a, b: a ** b, x, y)
    assert "np.power(" not in _kernel_source(lambda a, b: a ** b, x, y)
    assert "pow_f" not in _kernel_source(lambda a: a ** 3, x)


def test_libm_switch_keeps_numpy_power(monkeypatch, rng):
    monkeypatch.setenv("LOOPTRACE_LIBM", "1")
    x, y = rng.random(5), rng.random(5)
    assert "np.power(" in _kernel_source(lambda a, b: a ** b, x, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cpu_lowers_arcsin_arccos_to_mathlib(monkeypatch, rng, dtype):
    monkeypatch.delenv("LOOPTRACE_LIBM", raising=False)
    x = rng.uniform(-1.2, 1.2, 301).astype(dtype)

    def f(a):
        return np.arcsin(a), np.arccos(a) + 0

    with np.errstate(invalid="ignore"):
        got = looptrace.jit(f, backend="cpu")(x)
        want = f(x.astype(np.float64))
    for g, w in zip(got, want):
        assert g.dtype == dtype
        assert ulp_distance(g, w.astype(dtype)).max() <= 1  # f32: of the float64 result rounded
    bits = np.dtype(dtype).itemsize * 8
    src = _kernel_source(f, x)
    assert f"asin_f{bits}(" in src and f"acos_f{bits}(" in src and "np.arc" not in src
