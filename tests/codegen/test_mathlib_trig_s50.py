"""looptrace.codegen.cpu.mathlib_trig (tan, arctan of float64 and float32) and the float32
functions of mathlib.py rewritten for speed in session 50 (atan2, log1p, expm1, arcsin, arccos):
float64 within 1 ulp of glibc's (math.tan, math.atan: correctly rounded or nearly) and of NumPy's,
over the exponent range, around the poles of tan (multiples of pi/2 up to the quick reduction's
bound 2**30 and past it, where libm's tan is called out of line) and the reductions' edges;
float32 within 1 ulp of the float64 result rounded; signed zeros, inf, NaN; the same values in a
vectorized loop as element by element; and one CPU kernel applying them all, against NumPy."""
from __future__ import annotations

import math

import numba
import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import mathlib, mathlib_trig


def _ordered(a: np.ndarray) -> np.ndarray:
    ints = a.view(np.int64 if a.dtype == np.float64 else np.int32).astype(np.int64)
    return np.where(ints < 0, -(ints & (2 ** (8 * a.itemsize - 1) - 1)), ints)


def _ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """ulp distance; NaN against NaN 0, NaN against a number inf, a zero of the wrong sign inf."""
    d = np.abs(_ordered(got) - _ordered(want)).astype(np.float64)
    d[np.isnan(got) & np.isnan(want)] = 0
    d[np.isnan(got) != np.isnan(want)] = np.inf
    d[(want == 0) & (got == 0) & (np.signbit(want) != np.signbit(got))] = np.inf
    return d


@numba.njit(error_model="numpy")
def _loop(fn, x, out):  # vectorized, 512-bit lanes where the CPU has them (as in a kernel)
    mathlib.wide_vectors()
    for i in range(x.size):
        out[i] = fn(x[i])


@numba.njit(error_model="numpy")
def _loop2(fn, y, x, out):
    mathlib.wide_vectors()
    for i in range(x.size):
        out[i] = fn(y[i], x[i])


def _run(fn, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    _loop(fn, x, out)
    return out


SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 5e-324, -5e-324, 2.2250738585072014e-308,
           1e-300, 1e300, -1e300, 1e22, 1.7976931348623157e308, math.pi / 2, -math.pi / 2, math.pi,
           3 * math.pi / 2, 7 / 16, 11 / 16, 19 / 16, 39 / 16, 0.6743354797363281, 2.0**30, -2.0**30,
           np.nextafter(2.0**30, 0), 2.0**-27, 2.0**-28, 1e15, 6381956970095103.0 * 2.0**797]


def _grid64() -> np.ndarray:
    """Every exponent (random mantissas, both signs), the doubles around 20000 multiples of pi/2 up
    to 2**32 (the poles of tan and its zeros), the reductions' edges, special values."""
    rng = np.random.default_rng(50)
    wide = rng.choice([-1.0, 1.0], 120_000) * np.exp2(rng.uniform(-60, 40, 120_000)) * rng.uniform(1, 2, 120_000)
    k = np.unique(np.round(np.exp(rng.uniform(0, math.log(2.0**32), 20_000))))
    at = k * (math.pi / 2)
    near = np.concatenate([at, np.nextafter(at, 0), np.nextafter(at, np.inf)])
    edges = np.array([7 / 16, 11 / 16, 19 / 16, 39 / 16, 0.6743354797363281, math.pi / 4, 2.0**30])
    edges = (edges[:, None] * (1 + np.linspace(-1e-12, 1e-12, 41))[None, :]).ravel()
    return np.concatenate([wide, near, -near, edges, -edges, np.array(SPECIAL)])


def _glibc(fn, x: np.ndarray) -> np.ndarray:
    return np.array([fn(v) if math.isfinite(v) else (math.nan if fn is math.tan else math.atan(v)) for v in x])


@pytest.mark.parametrize("name", ["tan", "arctan"])
def test_float64_within_one_ulp_of_glibc_and_numpy(name):
    fn = mathlib_trig.tan_f64 if name == "tan" else mathlib_trig.atan_f64
    x = _grid64()
    got = _run(fn, x)
    with np.errstate(invalid="ignore"):
        numpy = getattr(np, name)(x)
    # NumPy's SIMD tan past 2**30 is not glibc's (6381956970095103 * 2**797, the hardest case for
    # the reduction: 14 ulp off); there ours is glibc's, called out of line
    quick = (np.abs(x) < 2.0**30) | (name == "arctan")
    for want, where in ((_glibc(math.tan if name == "tan" else math.atan, x), slice(None)), (numpy, quick)):
        d = _ulps(got[where], want[where])
        worst = int(np.argmax(d))
        assert d[worst] <= 1, (name, x[where][worst], got[where][worst], want[where][worst])


def test_tan_f64_reduction_without_fma_within_one_ulp_of_glibc():
    """The steps a CPU without FMA takes (pi/2 in four parts, exact products and sums), below
    their bound 2**20, around the poles too; run here whatever the CPU."""
    x = _grid64()
    x = x[np.abs(x) < 2.0**20]
    got = np.array([mathlib_trig._tan_f64_split(v) for v in x[::7]])
    assert _ulps(got, _glibc(math.tan, x[::7])).max() <= 1


def test_float64_special_values_and_signed_zeros():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300, 5e-324, -5e-324])
    tan, atan = _run(mathlib_trig.tan_f64, x), _run(mathlib_trig.atan_f64, x)
    assert np.signbit(tan[:2]).tolist() == [False, True] and np.signbit(atan[:2]).tolist() == [False, True]
    assert np.isnan(tan[2:5]).all() and np.isnan(atan[4])
    assert atan[2] == math.pi / 2 and atan[3] == -math.pi / 2
    assert tan[5] == math.tan(1e300) and tan[6] == math.tan(-1e300)  # libm's, out of line
    assert tan[7] == 5e-324 and tan[8] == -5e-324 and atan[7] == 5e-324


def test_huge_arguments_in_any_lane_give_the_elementwise_values():
    """tan's quick path below 2**30 and libm's call above, mixed within one vector, as element
    by element (the masked vector variant calls the scalar function for its lanes only)."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-10, 10, 4096)
    x[rng.integers(0, x.size, 300)] = rng.uniform(2.0**30, 1e300, 300)
    x[rng.integers(0, x.size, 20)] = np.inf
    want = np.array([mathlib_trig.tan_f64(v) for v in x])
    assert _ulps(_run(mathlib_trig.tan_f64, x), want).max() == 0
    x32 = np.where(np.isinf(x), x, np.clip(x, -3e38, 3e38)).astype(np.float32)  # huge finite float32 too
    want32 = np.array([mathlib_trig.tan_f32(v) for v in x32], np.float32)
    assert _ulps(_run(mathlib_trig.tan_f32, x32), want32).max() == 0


def _grid32() -> np.ndarray:
    """2**20 random float32 bit patterns (every exponent, subnormals, both signs), the float32
    within 64 ulps of 3000 multiples of pi/2 up to 2**34 (tan's poles; the quick reduction's bound
    2**30 inside), special values."""
    rng = np.random.default_rng(32)
    bits = rng.integers(0, 2**32, 1 << 20, dtype=np.uint64).astype(np.uint32).view(np.float32)
    k = np.unique(np.round(np.exp(rng.uniform(0, math.log(2.0**34), 3000))))
    at = (k * (math.pi / 2)).astype(np.float32).view(np.int32)
    near = (at[:, None] + np.arange(-64, 64, dtype=np.int32)[None, :]).ravel().view(np.float32)
    special = np.array(SPECIAL, np.float64)
    special = special[np.abs(special) < 3e38].astype(np.float32)
    return np.concatenate([bits, near, -near, special, np.array([np.inf, -np.inf, 3.4028235e38], np.float32)])


F32 = {"tan": mathlib_trig.tan_f32, "arctan": mathlib_trig.atan_f32, "log1p": mathlib.log1p_f32,
       "expm1": mathlib.expm1_f32, "arcsin": mathlib.asin_f32, "arccos": mathlib.acos_f32}


@pytest.mark.parametrize("name", list(F32))
def test_float32_within_one_ulp_of_the_float64_result_rounded(name):
    x = _grid32()
    with np.errstate(all="ignore"):
        want = getattr(np, name)(x.astype(np.float64)).astype(np.float32)
    got = _run(F32[name], x)
    d = _ulps(got, want)
    worst = int(np.argmax(d))
    assert d[worst] <= 1, (name, x[worst], got[worst], want[worst])
    assert (d > 0).mean() < 1e-3  # rounded correctly but near ties (arctan, in float32 arithmetic: 3e-4)


def test_float32_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float32)
    tan, atan = _run(mathlib_trig.tan_f32, x), _run(mathlib_trig.atan_f32, x)
    assert np.signbit(tan[:2]).tolist() == [False, True] and np.signbit(atan[:2]).tolist() == [False, True]
    assert np.isnan(tan[2:]).all() and np.isnan(atan[4])
    assert atan[2] == np.float32(math.pi / 2) and atan[3] == -np.float32(math.pi / 2)
    ex, lp = _run(mathlib.expm1_f32, x), _run(mathlib.log1p_f32, x)
    assert np.signbit(ex[1]) and np.signbit(lp[1]) and ex[2] == np.inf and ex[3] == -1 and lp[2] == np.inf
    assert _run(mathlib.log1p_f32, np.array([-1.0, -1.5], np.float32)).tolist()[0] == -np.inf


def test_atan2_f32_one_divide_within_one_ulp_and_c99_special_values():
    rng = np.random.default_rng(7)
    n = 1 << 19
    y = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    a = (rng.standard_normal(n) * 10.0 ** rng.uniform(-30, 30, n)).astype(np.float32)
    ratio = (1 + rng.uniform(-1e-6, 1e-6, n)).astype(np.float32)
    y = np.concatenate([y, a, a, a])  # near the diagonal and near t = 1/2, the branch point
    x = np.concatenate([x, a * ratio, -a * ratio, np.float32(2) * a * ratio])
    sp = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 1e-45, 3.4e38], np.float32)
    ys, xs = (v.ravel() for v in np.meshgrid(sp, sp))
    y, x = np.concatenate([y, ys]), np.concatenate([x, xs])
    out = np.empty_like(x)
    _loop2(mathlib.atan2_f32, y, x, out)
    with np.errstate(all="ignore"):
        want = np.arctan2(y.astype(np.float64), x.astype(np.float64)).astype(np.float32)
    d = _ulps(out, want)
    assert d.max() <= 1, (y[np.argmax(d)], x[np.argmax(d)])
    assert d[-ys.size:].max() == 0  # the special values exactly, signed zeros included


def test_cpu_kernel_applies_them_all(monkeypatch):
    """One kernel: tan and arctan of float64 and float32 lowered to mathlib_trig's functions
    (and the float32 ones of mathlib.py), values and dtypes as NumPy's."""
    monkeypatch.delenv("LOOPTRACE_LIBM", raising=False)
    rng = np.random.default_rng(11)
    a = rng.uniform(-4, 4, 257)
    a[:3] = [-0.0, 1e300, np.inf]
    b = rng.uniform(-0.99, 0.99, 257).astype(np.float32)

    def f(a, b):
        return (np.tan(a), np.arctan(a), np.tan(b), np.arctan(b), np.arctan2(b, b - np.float32(0.5)),
                np.log1p(b), np.expm1(b), np.arcsin(b), np.arccos(b))

    jitted = looptrace.jit(f, backend="cpu")
    with np.errstate(all="ignore"):
        got = jitted(a, b)
        want = f(a, b)
        exact = [w.astype(np.float64) for w in f(a, b.astype(np.float64))]
    exact[0], exact[1] = _glibc(math.tan, a), _glibc(math.atan, a)  # (NumPy's SIMD tan of 1e300 is not)
    for g, w, e in zip(got, want, exact):
        assert g.dtype == w.dtype and g.shape == w.shape
        assert _ulps(g, e.astype(w.dtype)).max() <= 1  # float64: glibc's; float32: the float64 result rounded
    assert np.signbit(got[0][0]) and np.signbit(got[1][0])
    src = jitted.explain(a, b).kernel_source
    for call in ("tan_f64(", "atan_f64(", "tan_f32(", "atan_f32(", "atan2_f32(", "log1p_f32(", "expm1_f32(",
                 "asin_f32(", "acos_f32("):
        assert call in src, call
    assert "np.tan(" not in src and "np.arctan(" not in src
