"""mathlib's float32 pow (2**(y*log2|x|) in float64 without double-double), log
and tanh (integer steps in 32-bit lanes, tanh's exp scaled once): within 1 ulp
of the float64 result rounded to float32 over every exponent and near overflow
and underflow, exact where that result is a float32, NumPy's cast of an integer
exponent, and loops that stay short."""
from __future__ import annotations

import re

import numba
import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import mathlib

from .test_mathlib import ulp_distance
from .test_mathlib_pow import _pow


def _rounded_reference(x, y):
    with np.errstate(all="ignore"):
        return np.power(x.astype(np.float64), y.astype(np.float64)).astype(np.float32)


def _pow_f32_grids():
    r = np.random.default_rng(42)
    n = 200_000
    x = r.integers(0, 0x7F800000, n).astype(np.uint32).view(np.float32)  # any positive finite float32
    l2 = np.log2(x.astype(np.float64))
    l2 = np.where(l2 == 0, 1.0, l2)
    edges = np.concatenate([r.uniform(127, 128.5, n // 2), r.uniform(-151, -125, n // 2)])
    return {
        "any_x_unit_y": (x * r.choice([-1, 1], n).astype(np.float32), r.uniform(-3, 3, n).astype(np.float32)),
        "results_over_the_range": (x, (r.uniform(-152, 129, n) / l2).astype(np.float32)),
        "overflow_underflow_edges": (x, (edges / l2).astype(np.float32)),
        "near_one_large_y": ((1 + r.integers(-2000, 2000, n) * 2.0**-24).astype(np.float32),
                             (r.standard_normal(n) * 1e6).astype(np.float32)),
        "negative_x_integer_y": ((-r.random(n) * 10).astype(np.float32),
                                 np.round(r.standard_normal(n) * 20).astype(np.float32)),
    }


@pytest.mark.parametrize("kind", list(_pow_f32_grids()))
def test_pow_f32_within_one_ulp_over_the_range(kind):
    x, y = _pow_f32_grids()[kind]
    got = _pow(x, y, mathlib.pow_f32)
    d = ulp_distance(got, _rounded_reference(x, y))
    worst = int(np.argmax(d))
    assert d[worst] <= 1, (kind, x[worst], y[worst])
    assert (d > 0).mean() < 0.005  # the error before the last rounding is ~2**-30


def test_pow_f32_exact_where_the_result_is_a_float32():
    x, y = (a.ravel().astype(np.float32) for a in np.meshgrid(np.arange(-30.0, 31.0), np.arange(-6.0, 7.0)))
    want = _rounded_reference(x, y)
    exact = want.astype(np.float64) == np.power(x.astype(np.float64), y.astype(np.float64))
    np.testing.assert_array_equal(_pow(x[exact], y[exact], mathlib.pow_f32), want[exact])


def test_powc_f32_on_the_same_core():
    r = np.random.default_rng(7)
    x = r.integers(0, 0x7F800000, 200_000).astype(np.uint32).view(np.float32)
    x = np.concatenate([x, np.float32([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, -2.5])])
    for c in (0.45, -1.7, 2.5):
        out = np.empty_like(x)
        _powc_loop(x, np.float32(c), out)
        ref = _rounded_reference(x, np.full_like(x, c))
        assert ulp_distance(out, ref).max() <= 1, c


@numba.njit(error_model="numpy", boundscheck=False)
def _powc_loop(x, c, out):
    """powc_f32 of each x with the float32 c (an argument: one compile for the three
    exponents, where a constant of each cost a compile, 1 s each)."""
    for i in range(x.shape[0]):
        out[i] = mathlib.powc_f32(x[i], c)


def test_float32_power_casts_an_integer_exponent_as_numpy():
    """NumPy casts the int 2**24 + 1 to float32 (2**24, even): (-1.5) ** it is
    +inf, not -inf, and (-0.999) ** it is +0.0."""
    x = np.array([-1.5, 2.0, -0.999, -1.0], np.float32)

    def f(x):
        return x ** 16777217

    want = f(x)
    got = looptrace.jit(f, backend="cpu")(x)
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    assert (np.signbit(got) == np.signbit(want)).all()


def _vector_body(fn, binary):
    if binary:
        @numba.njit(error_model="numpy", boundscheck=False)
        def loop(x, y, out):
            for i in range(x.shape[0]):
                out[i] = fn(x[i], y[i])
    else:
        @numba.njit(error_model="numpy", boundscheck=False)
        def loop(x, y, out):
            for i in range(x.shape[0]):
                out[i] = fn(x[i])
    a = np.ones(16, np.float32)
    loop(a, a, a)
    blocks = re.split(r"\n(?=[\w.]+:)", loop.inspect_llvm(loop.signatures[0]))
    return max(blocks, key=lambda b: len(re.findall(r"<\d+ x ", b)))


@pytest.mark.parametrize("name", ["log_f32", "tanh_f32"])
def test_float32_log_and_tanh_loops_keep_integers_in_32_bit_lanes(name):
    """Numba's int64 arithmetic on the bits, left to LLVM, took 64-bit vectors
    and int64 -> float32 conversions (log over 250k float32: 0.083 -> 0.056 ms
    without them)."""
    body = _vector_body(getattr(mathlib, name), binary=False)
    assert " x float>" in body
    assert " x i64>" not in body


def test_pow_f32_loop_is_short():
    """The float64 core without double-double or subnormal scaling, the special
    cases as selects after it: 81 LLVM instructions a vector step (130 before)."""
    body = _vector_body(mathlib.pow_f32, binary=True)
    steps = body.count("fdiv <")  # one divide a vector step, however LLVM interleaves
    assert steps >= 1
    instructions = [ln for ln in body.split("\n")[1:] if " = " in ln or ln.strip().startswith("store")]
    assert len(instructions) / steps <= 100


_SPECIAL_32 = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 0.45, -2.5, np.inf, -np.inf, np.nan,
               1e-45, -1e-45, 1.2e-38, 3.4e38, -3.4e38, 1 + 2.0**-23, 1 - 2.0**-24, -(1 + 2.0**-23),
               2.0**24, -(2.0**24), 2.0**24 - 1, -(2.0**24 - 1), 149.0, -149.0, 150.0, 128.0, -127.0]


def test_pow_f32_special_values_as_numpy():
    """NumPy's float32 power (C99's powf) where the result is 0, +-1, inf or
    NaN, sign bits included; <= 1 ulp of the float64 result rounded elsewhere."""
    x, y = (a.ravel().astype(np.float32) for a in np.meshgrid(_SPECIAL_32, _SPECIAL_32))
    got = _pow(x, y, mathlib.pow_f32)
    with np.errstate(all="ignore"):
        want = np.power(x, y)
    exact = ~np.isfinite(want) | (want == 0) | (np.abs(want) == 1)
    np.testing.assert_array_equal(got[exact], want[exact])
    signed = exact & ~np.isnan(want)
    assert (np.signbit(got[signed]) == np.signbit(want[signed])).all()
    assert ulp_distance(got, _rounded_reference(x, y)).max() <= 1
