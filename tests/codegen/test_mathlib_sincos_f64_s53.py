"""float64 sin and cos of mathlib_trig.py (session 53): tan_f64's reduction, fdlibm's kernels,
libm's sin/cos out of line past 2**30 (and for inf, NaN). Within 1 ulp of glibc's (math.sin,
math.cos) and of NumPy's over the exponent range and around the multiples of pi/2 (the zeros of
one, the extrema of the other) up to the quick reduction's bound and past it; the steps taken
without FMA below their bound; signed zeros, subnormals, inf, NaN; the same values in a vectorized
loop with huge arguments in any lane as element by element; a CPU kernel lowering np.sin/np.cos of
float64 to them (np.sin again under LOOPTRACE_LIBM=1)."""
from __future__ import annotations

import math

import numba
import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import mathlib, mathlib_trig

from .test_mathlib_trig_s50 import _grid64, _run, _ulps

FNS = {"sin": (mathlib_trig.sin_f64, math.sin), "cos": (mathlib_trig.cos_f64, math.cos)}


def _glibc(fn, x: np.ndarray) -> np.ndarray:
    return np.array([fn(v) if math.isfinite(v) else math.nan for v in x])


@pytest.mark.parametrize("name", list(FNS))
def test_within_one_ulp_of_glibc_and_numpy(name):
    fn, ref = FNS[name]
    x = _grid64()
    got = _run(fn, x)
    with np.errstate(invalid="ignore"):
        numpy = getattr(np, name)(x)
    for want in (_glibc(ref, x), numpy):
        d = _ulps(got, want)
        worst = int(np.argmax(d))
        assert d[worst] <= 1, (name, x[worst], got[worst], want[worst])
    # fdlibm's kernels: ~1.4% of results one ulp from glibc's (nearly correctly rounded)
    assert (_ulps(got, _glibc(ref, x)) > 0).mean() < 0.03


@pytest.mark.parametrize("shift", [0, 1])
def test_reduction_without_fma_within_one_ulp_of_glibc(shift):
    """The steps a CPU without FMA takes (pi/2 in four parts), below their bound 2**20, around the
    multiples of pi/2 too; run here whatever the CPU."""
    x = _grid64()
    x = x[np.abs(x) < 2.0**20][::7]
    got = np.array([mathlib_trig._sin_f64_split(v, shift) for v in x])
    ref = math.cos if shift else math.sin
    assert _ulps(got, _glibc(ref, x)).max() <= 1


def test_special_values_signed_zeros_and_huge_arguments():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 2.2250738585072014e-308, 1e300, -1e300,
                  2.0**30, -2.0**30, 1.7976931348623157e308])
    s, c = _run(mathlib_trig.sin_f64, x), _run(mathlib_trig.cos_f64, x)
    assert np.signbit(s[:2]).tolist() == [False, True] and c[:2].tolist() == [1.0, 1.0]
    assert np.isnan(s[2:5]).all() and np.isnan(c[2:5]).all()
    assert s[5:8].tolist() == x[5:8].tolist() and (c[5:8] == 1.0).all()  # sin(x) = x for tiny x
    np.testing.assert_array_equal(s[8:], [math.sin(v) for v in x[8:]])  # libm's, out of line
    np.testing.assert_array_equal(c[8:], [math.cos(v) for v in x[8:]])


def test_huge_arguments_in_any_lane_give_the_elementwise_values():
    rng = np.random.default_rng(53)
    x = rng.uniform(-20, 20, 4099)
    x[rng.integers(0, x.size, 300)] = rng.uniform(2.0**30, 1e300, 300)
    x[rng.integers(0, x.size, 20)] = np.inf
    for fn in (mathlib_trig.sin_f64, mathlib_trig.cos_f64):
        want = np.array([fn(v) for v in x])
        assert _ulps(_run(fn, x), want).max() == 0


@pytest.mark.parametrize("fn", [mathlib_trig.sin_f64, mathlib_trig.cos_f64])
def test_loop_vectorizes_around_the_rare_call(fn):
    @numba.njit(error_model="numpy")
    def apply(x, out):
        mathlib.wide_vectors()
        for i in range(x.shape[0]):
            out[i] = fn(x[i])

    x = np.linspace(-10, 10, 64)
    apply(x, np.empty_like(x))
    llvm = apply.inspect_llvm(apply.signatures[0])
    assert any(f"_f64_huge_v{w}(" in llvm for w in mathlib._RARE_WIDTHS_64), "no vector variant called"


def _sin_cos(a):
    return np.sin(a), np.cos(a), np.sin(a * 0.5) - 2.0 * np.cos(a)


def test_cpu_kernel_lowers_float64_sin_and_cos(monkeypatch):
    monkeypatch.delenv("LOOPTRACE_LIBM", raising=False)
    rng = np.random.default_rng(5)
    a = rng.uniform(-50, 50, 1001)
    a[:5] = [-0.0, 1e300, np.inf, np.nan, 5e-324]
    jitted = looptrace.jit(_sin_cos, backend="cpu")
    with np.errstate(invalid="ignore"):
        got, want = jitted(a), _sin_cos(a)
        exact = (_glibc(math.sin, a), _glibc(math.cos, a))
    for g, w in zip(got, want):
        assert g.dtype == w.dtype == np.float64 and g.shape == w.shape
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
    for g, e in zip(got, exact):
        assert _ulps(g, e).max() <= 1
    ok = ~np.isnan(want[2])
    np.testing.assert_allclose(got[2][ok], want[2][ok], rtol=1e-15, atol=1e-15)
    src = jitted.explain(a).kernel_source
    assert "sin_f64(" in src and "cos_f64(" in src and "np.sin(" not in src
    monkeypatch.setenv("LOOPTRACE_LIBM", "1")
    libm = looptrace.jit(_sin_cos, backend="cpu")
    assert "np.sin(" in libm.explain(a).kernel_source




def _loop(fn, binary: bool):
    """A loop applying fn (a free variable: inlined and vectorized as in a kernel) to x, y or y."""
    if binary:
        def apply(x, y, out):
            mathlib.wide_vectors()
            for i in range(x.size):
                out[i] = fn(x[i], y[i])
    else:
        def apply(x, y, out):
            mathlib.wide_vectors()
            for i in range(x.size):
                out[i] = fn(y[i])
    return numba.njit(error_model="numpy", boundscheck=False)(apply)


RARE = {"pow_f32": (mathlib.pow_f32, np.float32), "log_f32": (mathlib.log_f32, np.float32),
        "tan_f32": (mathlib_trig.tan_f32, np.float32), "sin_f64": (mathlib_trig.sin_f64, np.float64)}


@pytest.mark.parametrize("name", list(RARE))
def test_lanes_after_one_took_the_rare_path_keep_their_values(name):
    """One element takes the out-of-line path (x = 0 of pow, y = 0 of log, a huge y of tan and
    sin): every later vector's lanes as element by element. With Intel's OpenCL convention on an
    AVX2 CPU the loop around pow_f32 lost lanes 2 and 3 of every later vector (x**0 = 0;
    mathlib.py _RARE_CC)."""
    fn, dtype = RARE[name]
    rng = np.random.default_rng(9)
    x = rng.uniform(0.5, 2.0, 67).astype(np.float32)
    y = rng.uniform(0.5, 3.0, 67).astype(dtype)
    if name == "pow_f32":
        x[5], y[:] = 0.0, 0.0
    else:
        y[5] = 0.0 if name == "log_f32" else 3e9
    out = np.empty(x.size, dtype)
    _loop(fn, name == "pow_f32")(x, y, out)
    want = np.array([fn(a, b) if name == "pow_f32" else fn(b) for a, b in zip(x, y)], dtype)
    np.testing.assert_array_equal(out, want)
    if name == "pow_f32":
        assert (out == 1.0).all()  # x**0
