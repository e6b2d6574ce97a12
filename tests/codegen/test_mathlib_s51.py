"""Session 51: float32 arcsin/arccos in float32 arithmetic (within 1 ulp of the float64 result
rounded, special values as NumPy), and the rare path's vector variants (tan_f64's own 8-wide
one, the calling convention that keeps zmm16-31 across the call) with huge arguments in any
lane: the same results as a scalar loop and as NumPy; one CPU-backend kernel for all of it."""
from __future__ import annotations

import math

import numba
import numpy as np
import pytest

import looptrace as lt
from looptrace.codegen.cpu import mathlib, mathlib_trig

from .test_mathlib import ulp_distance


@numba.njit(error_model="numpy")
def _asin_acos(x, s, c):  # vectorized, 512-bit lanes where the CPU has them (as in a kernel)
    mathlib.wide_vectors()
    for i in range(x.size):
        s[i] = mathlib.asin_f32(x[i])
        c[i] = mathlib.acos_f32(x[i])


@numba.njit(error_model="numpy")
def _tan_wide(x, out):
    mathlib.wide_vectors()
    for i in range(x.size):
        out[i] = mathlib_trig.tan_f64(x[i])


def _asin_grid() -> np.ndarray:
    """~10^5 float32 over [-1, 1]: random bit patterns (every exponent), dense around 1/2 (the
    two ranges' seam) and below 1, subnormals, and the edges."""
    rng = np.random.default_rng(51)
    bits = rng.integers(0, 0x3F800001, 60_000).astype(np.uint32).view(np.float32)
    seam = (np.float32(0.5).view(np.int32) + np.arange(-5000, 5000, dtype=np.int32)).view(np.float32)
    top = (np.float32(1.0).view(np.int32) - np.arange(0, 10_000, dtype=np.int32)).view(np.float32)
    sub = rng.integers(1, 0x00800000, 2_000).astype(np.uint32).view(np.float32)
    pos = np.concatenate([bits, seam, top, sub])
    return np.concatenate([pos, -pos])


def test_asin_acos_f32_within_one_ulp_of_the_float64_result_rounded():
    x = _asin_grid()
    s, c = np.empty_like(x), np.empty_like(x)
    _asin_acos(x, s, c)
    for got, name in ((s, "arcsin"), (c, "arccos")):
        want = getattr(np, name)(x.astype(np.float64)).astype(np.float32)
        d = ulp_distance(got, want)
        assert d.max() <= 1, (name, x[np.argmax(d)])
        # near ties only: over every float32 0.036% (arcsin), 0.013% (arccos); right at the seam
        # (x near 1/2, where the result's ulp is twice x's) ~3%
        assert (d[:60_000] > 0).mean() < 1e-3 and (d > 0).mean() < 1e-2


def test_asin_acos_f32_special_values():
    x = np.array([0.0, -0.0, 1.0, -1.0, np.nextafter(np.float32(1), np.float32(2)), -2.0, np.inf, -np.inf, np.nan,
                  1e-45, -1e-45], np.float32)
    s, c = np.empty_like(x), np.empty_like(x)
    _asin_acos(x, s, c)
    with np.errstate(invalid="ignore"):
        ws = np.arcsin(x.astype(np.float64)).astype(np.float32)
        wc = np.arccos(x.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(s, ws)
    np.testing.assert_array_equal(c, wc)
    ok = ~np.isnan(ws)
    assert np.signbit(s[ok]).tolist() == np.signbit(ws[ok]).tolist()  # asin(-0.0) = -0.0, asin(-1e-45) < 0
    assert c[2] == 0.0 and not np.signbit(c[2])  # acos(1) = +0


def test_tan_f64_loop_calls_its_own_variant_and_keeps_the_upper_registers():
    x = np.linspace(-3, 3, 64)
    _tan_wide(x, np.empty_like(x))
    llvm = _tan_wide.inspect_llvm(_tan_wide.signatures[0])
    if mathlib.WIDE_VECTORS:  # an 8-wide float64 loop calls the 8-wide variant (not lane by lane)
        assert f"looptrace_tan_f64_huge_v{mathlib._RARE_WIDTHS_64[0]}(" in llvm
    calls = [line for line in llvm.splitlines() if "call" in line and "_huge_v" in line]
    assert calls and all((mathlib._RARE_CC or "call ") in line for line in calls)
    assert mathlib._RARE_WIDTHS_64 == tuple(w // 2 for w in mathlib._RARE_WIDTHS)


@pytest.mark.parametrize("where", ["each", "pairs", "all"])
def test_tan_f64_huge_arguments_in_any_lane(where):
    """Huge arguments (libm's tan out of line) at every position of a 32-element block, two in
    a row, or all: the vectorized loop gives what a scalar loop and math.tan give."""
    rng = np.random.default_rng(5)
    small = rng.uniform(-100, 100, 32)
    huge = rng.uniform(1, 2, 32) * 2.0 ** rng.integers(31, 1000, 32) * rng.choice([-1, 1], 32)
    rows = []
    for i in range(32):
        row = small.copy()
        if where == "each":
            row[i] = huge[i]
        elif where == "pairs":
            row[i:i + 2] = huge[i:i + 2]
        else:
            row = huge.copy()
        rows.append(row)
    x = np.concatenate(rows + [np.array([np.inf, -np.inf, np.nan, 2.0**30, -(2.0**30), 0.0, -0.0])])
    got = np.empty_like(x)
    _tan_wide(x, got)
    ref = np.array([mathlib_trig.tan_f64(v) for v in x])  # one call each: scalar code
    np.testing.assert_array_equal(got, ref)
    big = np.abs(x) >= 2.0**30
    with np.errstate(invalid="ignore"):
        libm = np.array([math.tan(v) if np.isfinite(v) else np.nan for v in x[big]])
    np.testing.assert_array_equal(got[big], libm)
    assert np.signbit(got[-1]) and not np.signbit(got[-2])
    assert ulp_distance(got[~big], np.tan(x[~big])).max() <= 1


@numba.njit(error_model="numpy")
def _pow_wide(x, y, out):
    mathlib.wide_vectors()
    for i in range(x.size):
        out[i] = mathlib.pow_f64(x[i], y[i])


def test_pow_f64_special_lanes_among_regular_ones():
    """pow_f64's core runs on |x| and y as they are (no selects before it): 0, inf, NaN, subnormals
    and huge exponents in any lane of a vector beside regular ones give NumPy's values (C99's special
    values exactly, the others within 1 ulp), ~10^5 points."""
    rng = np.random.default_rng(51)
    n = 100_000
    sp = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 5e-324, -5e-324, 2.0, -2.0, 0.5, 1e308, -1e308])
    x = rng.uniform(0.5, 1, n) * 2.0 ** rng.integers(-1074, 1024, n) * rng.choice([-1.0, 1.0], n)
    y = np.where(rng.random(n) < 0.5, rng.uniform(-4, 4, n), np.round(rng.uniform(-40, 40, n)))
    pick_x, pick_y = rng.random(n) < 0.2, rng.random(n) < 0.2
    x[pick_x] = rng.choice(sp, pick_x.sum())
    y[pick_y] = rng.choice(np.concatenate([sp, [1e300, -1e300, 3.0, -3.0]]), pick_y.sum())
    got = np.empty_like(x)
    _pow_wide(x, y, got)
    with np.errstate(all="ignore"):
        want = np.power(x, y)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert (np.signbit(got[ok]) == np.signbit(want[ok])).all()
    special = ok & (~np.isfinite(x) | ~np.isfinite(y) | (x == 0) | (np.abs(x) == 1) | (y == 0) | ~np.isfinite(want)
                    | (want == 0))
    assert special.sum() > 10_000
    np.testing.assert_array_equal(got[special], want[special])
    assert ulp_distance(got[ok], want[ok]).max() <= 1


def _kernel(a, b):
    return np.tan(a), np.arcsin(b), np.arccos(b), np.tan(b)


def test_cpu_kernel_tan_arcsin_arccos():
    """One CPU-backend compile: tan of float64 with huge arguments spread among the lanes, arcsin,
    arccos and tan of float32, against the plain function (NumPy's values) and the float64 result
    rounded; NaN where NumPy gives NaN; the arguments untouched."""
    rng = np.random.default_rng(17)
    a = rng.uniform(-50, 50, 4099)
    a[::37] = rng.uniform(1, 2, a[::37].size) * 2.0**40
    a[:3] = [np.inf, np.nan, -0.0]
    b = rng.uniform(-1.1, 1.1, 4099).astype(np.float32)
    b[::41] = (rng.uniform(1, 2, b[::41].size) * 2.0**35).astype(np.float32)
    b[:4] = [np.nan, -0.0, 1.0, -1.0]
    a0, b0 = a.copy(), b.copy()
    with np.errstate(invalid="ignore"):
        want = _kernel(a, b)
        got = lt.jit(_kernel, backend="cpu")(a, b)
        wide = [f(b.astype(np.float64)) for f in (np.arcsin, np.arccos, np.tan)]
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
    assert ulp_distance(got[0], want[0]).max() <= 1
    for g, w in zip(got[1:], wide):
        assert ulp_distance(g, w.astype(np.float32)).max() <= 1
    assert np.signbit(got[0][2]) and np.signbit(got[1][1]) and np.signbit(got[3][1])
