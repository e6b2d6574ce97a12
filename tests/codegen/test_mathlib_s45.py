"""float32 sin and cos of mathlib.py with Cody-Waite's reduction in float64 below
_TRIG_QUICK and the exact (Payne-Hanek) reduction out of line above it (a masked
vector variant of an external function, `_rare_call`): within 1 ulp of float32 from
the float64 result (the bound; measured over every float32: 0.5001, i.e. rounded
correctly but for near-ties) on dense grids around multiples of pi/2 up to the bound and past it,
every exponent, subnormals, +-0, inf, NaN; the same in a vectorized loop with the
huge arguments in any lane as in a scalar one; and through the CPU backend."""
from __future__ import annotations

import numba
import numpy as np
import pytest

import looptrace as lt
from looptrace.codegen.cpu import mathlib
from .test_cpu_float32_math_s38 import _ulps


def _grid() -> np.ndarray:
    """Every float32 within 2**12 ulps of 2000 multiples of pi/2 spread over [1, 2**34) (the
    reduction's bound 2**30 inside), random ones over all exponents, subnormals, edges."""
    rng = np.random.default_rng(45)
    k = np.unique(np.round(np.exp(rng.uniform(0, np.log(2.0**34 / np.pi * 2), 2000))))
    near = (k * (np.pi / 2)).astype(np.float32).view(np.int32)
    near = (near[:, None] + np.arange(-2048, 2048, 16, dtype=np.int32)[None, :]).ravel()
    wide = rng.integers(0, 0x7F800000, 300_000).astype(np.uint32)
    sub = rng.integers(0, 0x00800000, 5_000).astype(np.uint32)
    bound = np.float32(mathlib._TRIG_QUICK).view(np.uint32) + np.arange(-200, 200, dtype=np.int64)
    edges = np.array([0.0, np.inf, np.nan, 1e-45, 1.1754944e-38, 3.4028235e38, np.pi / 2, np.pi, 16777216.0],
                     np.float32)
    pos = np.concatenate([near.view(np.float32), wide.view(np.float32), sub.view(np.float32),
                          bound.astype(np.uint32).view(np.float32), edges])
    return np.concatenate([pos, -pos])


@numba.njit(error_model="numpy")
def _both(x, s, c):  # vectorized (as in a kernel, 512-bit lanes where the CPU has them)
    mathlib.wide_vectors()
    for i in range(x.size):
        s[i] = mathlib.sin_f32(x[i])
        c[i] = mathlib.cos_f32(x[i])


@numba.njit(error_model="numpy")
def _both_scalar(x, s, c):  # a loop LLVM keeps scalar (a running value carried through it)
    carry = np.float32(0.0)
    for i in range(x.size):
        v = x[i] + carry * np.float32(0.0)
        s[i] = mathlib.sin_f32(v)
        c[i] = mathlib.cos_f32(v)
        carry = s[i]


def _run(fn, x):
    s, c = np.empty_like(x), np.empty_like(x)
    fn(x, s, c)
    return s, c


def test_sin_cos_f32_within_half_ulp_and_special_values():
    x = _grid()
    s, c = _run(_both, x)
    with np.errstate(invalid="ignore"):
        xd = x.astype(np.float64)
        assert _ulps(s, np.sin(xd)).max() <= 0.501
        assert _ulps(c, np.cos(xd)).max() <= 0.501
        special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan], np.float32)
        ss, cc = _run(_both, special)
        np.testing.assert_array_equal(np.signbit(ss[:2]), [False, True])  # sin(-0.0) = -0.0
        np.testing.assert_array_equal(cc[:2], [1.0, 1.0])
        assert np.isnan(ss[2:]).all() and np.isnan(cc[2:]).all()


def test_huge_arguments_in_every_lane_and_in_scalar_loops():
    """One huge argument (the out-of-line path) at each position of a 64-element block, two in a
    row, all of them: the vectorized loop, the scalar loop and the float64 reference agree."""
    rng = np.random.default_rng(7)
    small = rng.uniform(-100, 100, 64).astype(np.float32)
    huge = (rng.uniform(1, 2, 64) * 2.0 ** rng.integers(31, 127, 64) * rng.choice([-1, 1], 64)).astype(np.float32)
    rows = [small.copy() for _ in range(66)]
    for i in range(64):
        rows[i][i] = huge[i]
    rows[64][10:12] = huge[10:12]
    rows[65][:] = huge
    x = np.concatenate(rows + [small[:13]])  # and a remainder past the vector loop
    vs, vc = _run(_both, x)
    ss, sc = _run(_both_scalar, x)
    np.testing.assert_array_equal(vs, ss)
    np.testing.assert_array_equal(vc, sc)
    xd = x.astype(np.float64)
    assert _ulps(vs, np.sin(xd)).max() <= 0.501 and _ulps(vc, np.cos(xd)).max() <= 0.501


def _trig(x):
    return np.sin(x) * np.float32(3.0) - np.cos(x)


def test_cpu_kernel_against_plain_with_huge_arguments():
    """One kernel, sin and cos of float32 with huge arguments among ordinary ones: NumPy's dtype,
    its NaNs, and values within float32 rounding of NumPy's (whose own sinf is up to ~1.5 ulp off)."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(5_000) * 10).astype(np.float32)
    x[::9] = (rng.uniform(1, 2, x[::9].size) * 1e25).astype(np.float32)
    x[:4] = [np.inf, -np.inf, np.nan, -0.0]
    with np.errstate(invalid="ignore"):
        want = _trig(x.copy())
        got = lt.jit(_trig, backend="cpu")(x.copy())
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-6, atol=2e-6)


@pytest.mark.parametrize("fn", [mathlib.sin_f32, mathlib.cos_f32])
def test_loop_calls_the_vector_variant(fn):
    """The loop vectorizes around the rare call: the masked vector variant is what it calls."""
    @numba.njit(error_model="numpy")
    def apply(x, out):
        mathlib.wide_vectors()
        for i in range(x.shape[0]):
            out[i] = fn(x[i])

    x = np.linspace(-10, 10, 64, dtype=np.float32)
    apply(x, np.empty_like(x))
    llvm = apply.inspect_llvm(apply.signatures[0])
    assert any(f"_huge_v{w}(" in llvm for w in mathlib._RARE_WIDTHS), "no vector variant called"


@numba.njit(error_model="numpy")
def _sin_split(x, out):
    """sin_f32's quick path with the reduction used where the CPU has no FMA."""
    for i in range(x.size):
        xd = np.float64(x[i])
        t = mathlib._muladd(xd, mathlib._INV_PI_2, mathlib._ROUND_MAGIC)
        s, c = mathlib._sin_cos_poly(mathlib._quick_remainder_split(xd, t - mathlib._ROUND_MAGIC))
        out[i] = np.float32(mathlib._quadrant_value(mathlib._bits(t), s, c))


def test_reduction_without_fma_within_half_ulp_below_its_bound():
    x = _grid()
    x = x[np.abs(x) < 2.0**20]
    got = np.empty_like(x)
    _sin_split(x, got)
    assert _ulps(got, np.sin(x.astype(np.float64))).max() <= 0.501
