"""looptrace.codegen.cpu.mathlib_exp (exp2, log2, log10, cbrt, sinh, cosh, arcsinh, arccosh,
arctanh of float64 and float32): float64 within 1 ulp of the exact value (Python's decimal
module, 40 digits) and of NumPy's result over the exponent range; float32 within 1 ulp of the
float64 result rounded; the exact cases NumPy has (log2 of powers of two, log10 of powers of
ten, exp2 of integers, cbrt of perfect cubes), signed zeros, inf, nan, domain errors, overflow
and subnormals; and one CPU kernel applying all eighteen, against plain NumPy."""
from __future__ import annotations

import decimal
import functools
import math

import numba
import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import mathlib_exp

NAMES = ["exp2", "log2", "log10", "cbrt", "sinh", "cosh", "arcsinh", "arccosh", "arctanh"]
# from NumPy's float64 result: 1 where NumPy's loop is itself within 1/2 ulp; glibc's log10, sinh,
# cosh, arccosh, arctanh are up to ~1.5 ulp from the exact value and its cbrt up to 3 (NumPy uses
# them where it has no SIMD loop of its own)
NUMPY_ULPS = {"exp2": 1, "log2": 1, "arcsinh": 1, "cbrt": 4}


def _fn(name: str, dtype) -> callable:
    return getattr(mathlib_exp, f"{name}_f{np.dtype(dtype).itemsize * 8}")


def _apply(name: str, x: np.ndarray) -> np.ndarray:
    """The scalar function on each element (compiled once; the vectorized loop is the kernel's)."""
    fn = _fn(name, x.dtype)
    return np.array([fn(v) for v in x], dtype=x.dtype)


def _ordered(a: np.ndarray) -> np.ndarray:
    ints = a.view(np.int64 if a.dtype == np.float64 else np.int32).astype(np.int64)
    return np.where(ints < 0, -(ints & (2 ** (8 * a.itemsize - 1) - 1)), ints)


def _ulps(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """ulps between got and ref (+0 == -0; inf where exactly one of them is nan)."""
    d = np.abs(_ordered(got) - _ordered(ref)).astype(np.float64)
    d[np.isnan(got) & np.isnan(ref)] = 0
    d[np.isnan(got) != np.isnan(ref)] = np.inf
    return d


def _spread(rng, lo: float, hi: float, n: int, signed: bool = False) -> np.ndarray:
    """n floats with exponents uniform in [lo, hi)."""
    x = np.ldexp(rng.uniform(1, 2, n), rng.integers(int(lo), int(hi), n))
    return x * rng.choice([-1.0, 1.0], n) if signed else x


def _points(name: str, n: int, seed: int = 50) -> np.ndarray:
    """float64 arguments over each function's whole range, denser where it changes form."""
    rng = np.random.default_rng(seed)
    if name == "exp2":
        return np.concatenate([rng.uniform(-1080, 1030, n), rng.uniform(-2, 2, n)])
    if name in ("log2", "log10"):
        return np.concatenate([_spread(rng, -1074, 1024, n), rng.uniform(0.6, 1.5, n)])
    if name == "cbrt":
        return _spread(rng, -1074, 1024, n, signed=True)
    if name in ("sinh", "cosh"):
        return np.concatenate([rng.uniform(-711, 711, n), _spread(rng, -40, 2, n, signed=True)])
    if name == "arcsinh":
        return _spread(rng, -1074, 1024, n, signed=True)
    if name == "arccosh":
        return np.concatenate([1.0 + _spread(rng, -52, 3, n), _spread(rng, 0, 1024, n)])
    return np.concatenate([_spread(rng, -60, 0, n, signed=True), rng.uniform(-1, 1, n)])  # arctanh


# --- float64 against the exact value ----------------------------------------------------------------
_D = decimal.Decimal


def _exact(name: str, v: float) -> float:
    """name(v) rounded to float64 from 40-digit decimal arithmetic (the arguments here keep it
    clear of cancellation: |v| >= 2**-40 where it matters)."""
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        x = _D(v)
        if name == "exp2":
            y = (x * _D(2).ln()).exp()
        elif name == "log2":
            y = x.ln() / _D(2).ln()
        elif name == "log10":
            y = x.log10()
        elif name == "cbrt":
            y = (abs(x) ** (_D(1) / 3)).copy_sign(x)
        elif name in ("sinh", "cosh"):
            e = abs(x).exp()
            y = (e - 1 / e) / 2 if name == "sinh" else (e + 1 / e) / 2
            y = y.copy_sign(x) if name == "sinh" else y
        elif name == "arcsinh":
            y = (abs(x) + (x * x + 1).sqrt()).ln().copy_sign(x)
        elif name == "arccosh":
            y = (x + (x * x - 1).sqrt()).ln()
        else:
            y = (((1 + abs(x)) / (1 - abs(x))).ln() / 2).copy_sign(x)
        return float(y)


@pytest.mark.parametrize("name", NAMES)
def test_float64_within_one_ulp_of_exact(name):
    rng = np.random.default_rng(5)
    x = _points(name, 5000)
    x = x[np.abs(x) > 2.0**-40]
    x = x[(np.abs(x) < 700) if name in ("exp2", "sinh", "cosh") else np.abs(x) < 1e300]
    x = rng.choice(x, 400, replace=False)
    want = np.array([_exact(name, v) for v in x])
    assert _ulps(_apply(name, x), want).max() <= 1


# --- float64 against NumPy, special values ----------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_float64_against_numpy(name):
    x = _points(name, 10000, seed=51)
    with np.errstate(all="ignore"):
        want = getattr(np, name)(x)
    assert _ulps(_apply(name, x), want).max() <= NUMPY_ULPS.get(name, 2)


_SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 5e-324, -5e-324,
                     2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308, 1e-300, 1e300,
                     0.9999999999999999, 1.0000000000000002, 800.0, -800.0, 710.0, 710.5, 1023.5, 1024.0,
                     -1074.0, -1075.0, -1070.5, 3e-9, -3e-9])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_special_values(name, dtype):
    """Equal to NumPy's result within 1 ulp (NumPy's float32 loops: the float64 result rounded),
    nan where it is nan, the sign of zeros as NumPy's (cbrt, sinh, arcsinh, arctanh of -0.0)."""
    with np.errstate(all="ignore"):
        x = _SPECIAL.astype(dtype)
        want = getattr(np, name)(x.astype(np.float64)).astype(dtype)
    got = _apply(name, x)
    assert got.dtype == dtype
    assert _ulps(got, want).max() <= 1
    zeros = want == 0
    np.testing.assert_array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]))


def test_domains_overflow_and_subnormals():
    f = {name: _fn(name, np.float64) for name in NAMES}
    assert np.isnan(f["log2"](-1.0)) and f["log2"](0.0) == -np.inf and f["log10"](-0.0) == -np.inf
    assert np.isnan(f["arccosh"](0.999)) and np.isnan(f["arctanh"](1.5))
    assert f["arctanh"](1.0) == np.inf and f["arctanh"](-1.0) == -np.inf
    assert f["sinh"](800.0) == np.inf and f["sinh"](-800.0) == -np.inf and f["cosh"](-711.0) == np.inf
    assert f["sinh"](710.4) == f["cosh"](-710.4) == 1.6663642832806496e308  # rounded correctly (glibc's: 1 ulp less)
    assert f["exp2"](-1070.0) == 2.0**-1070 and f["exp2"](-1074.0) == 5e-324 and f["exp2"](-1075.0) == 0.0
    assert f["exp2"](1024.0) == np.inf and f["exp2"](-1070.5) == math.pow(2.0, -1070.5)
    assert f["log2"](5e-324) == -1074.0 and f["log2"](2.0**-1050 * 1.5) == math.log2(2.0**-1050 * 1.5)
    assert f["cbrt"](5e-324) == 2.0**-358 and f["cbrt"](-27 * 2.0**-1071) == -3 * 2.0**-357  # (glibc's: 1 ulp off)
    g = {name: _fn(name, np.float32) for name in NAMES}
    assert g["exp2"](np.float32(-149.0)) == np.float32(2.0**-149) and g["exp2"](np.float32(128.0)) == np.inf
    assert g["log2"](np.float32(1e-45)) == np.float32(-149.0) and g["sinh"](np.float32(90.0)) == np.inf


# --- exact cases ------------------------------------------------------------------------------------
def test_exact_cases():
    k = np.arange(-1074, 1024)
    np.testing.assert_array_equal(_apply("log2", np.ldexp(1.0, k)), k)
    np.testing.assert_array_equal(_apply("exp2", k.astype(np.float64)), np.ldexp(1.0, k))
    tens = np.array([10.0**n for n in range(23)])
    np.testing.assert_array_equal(_apply("log10", tens), np.arange(23.0))
    np.testing.assert_array_equal(_apply("log10", tens), np.log10(tens))
    cubes = np.arange(1, 1 << 17, 37, dtype=np.float64)
    np.testing.assert_array_equal(_apply("cbrt", cubes**3), cubes)
    np.testing.assert_array_equal(_apply("cbrt", -(cubes**3) * 2.0**-999), -cubes * 2.0**-333)
    assert mathlib_exp.cbrt_f64(27.0) == 3.0 and mathlib_exp.cbrt_f64(-0.001) == -0.1 == np.cbrt(-0.001)
    k32 = np.arange(-149, 128)
    np.testing.assert_array_equal(_apply("log2", np.ldexp(np.float32(1.0), k32)), k32.astype(np.float32))
    np.testing.assert_array_equal(_apply("exp2", k32.astype(np.float32)), np.ldexp(np.float32(1.0), k32))
    np.testing.assert_array_equal(_apply("log10", np.float32(10.0) ** np.arange(11, dtype=np.float32)),
                                  np.arange(11, dtype=np.float32))
    c32 = np.arange(1, 257, dtype=np.float32)
    np.testing.assert_array_equal(_apply("cbrt", c32**3), c32)


# --- float32 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_float32_within_one_ulp_of_float64_rounded(name):
    """Random bit patterns (every exponent, subnormals, both signs) and each function's own range."""
    rng = np.random.default_rng(52)
    bits = rng.integers(0, 2**32, 15000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    with np.errstate(all="ignore"):
        x = np.concatenate([bits, _points(name, 7500).astype(np.float32)])
        want = getattr(np, name)(x.astype(np.float64)).astype(np.float32)
    assert _ulps(_apply(name, x), want).max() <= 1


# --- through the CPU backend ------------------------------------------------------------------------
def _all_of_them(a, b):
    """The nine functions of a float64 `a` and a float32 `b` (arguments inside their domains)."""
    return (np.exp2(a * 50.0), np.log2(np.abs(a)), np.log10(np.abs(a)), np.cbrt(a * 1000.0), np.sinh(a * 9.0),
            np.cosh(a * 9.0), np.arcsinh(a * 1e3), np.arccosh(1.0 + a * a), np.arctanh(a * 0.5),
            np.exp2(b * np.float32(50.0)), np.log2(np.abs(b)), np.log10(np.abs(b)), np.cbrt(b * np.float32(1000.0)),
            np.sinh(b * np.float32(9.0)), np.cosh(b * np.float32(9.0)), np.arcsinh(b * np.float32(1e3)),
            np.arccosh(np.float32(1.0) + b * b), np.arctanh(b * np.float32(0.5)))


@functools.cache
def _kernel():
    return looptrace.jit(_all_of_them, backend="cpu")


def test_cpu_kernel_uses_them(monkeypatch):
    """One kernel (one compile) for the wiring: each ufunc lowered to its function for each
    dtype, dtypes as NumPy's, values within NumPy's float64 bounds and, for float32, within 1 ulp
    of the float64 result rounded (NumPy's own float32 loops are less exact: compared loosely)."""
    monkeypatch.delenv("LOOPTRACE_LIBM", raising=False)
    rng = np.random.default_rng(53)
    a = rng.uniform(-1.9, 1.9, 3001)
    b = rng.uniform(-1.9, 1.9, 3001).astype(np.float32)
    f = _kernel()
    src = f.explain(a, b).kernel_source
    for name in NAMES:
        assert f"{name}_f64(" in src and f"{name}_f32(" in src and f"np.{name}(" not in src
    got, want = f(a, b), _all_of_them(a, b)
    for name, g, w in zip(NAMES + NAMES, got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, name
        if g.dtype == np.float64:
            assert _ulps(g, w).max() <= NUMPY_ULPS.get(name, 2), name
        else:
            np.testing.assert_allclose(g, w, rtol=3e-7, atol=0, err_msg=name)


# --- session 50: sinh, cosh without a double-double exp (float64) and in float32 arithmetic ---------
def _frac_ulps(got: float, exact: decimal.Decimal) -> float:
    """|got - exact| in ulps of exact rounded to float64."""
    return float(abs(_D(got) - exact) / _D(np.spacing(abs(float(exact)))))


@pytest.mark.parametrize("name", ["sinh", "cosh"])
def test_float64_hyperbolic_within_0_95_ulp_of_exact(name):
    """Two roundings (mathlib_exp.py sinh_f64, cosh_f64): 0.87 ulp measured, asserted 0.95, where
    the two exponentials' sum cancels most (k = 0, 1, 2: below 1/2 sinh's series) and across the
    range."""
    rng = np.random.default_rng(50)
    x = np.concatenate([rng.uniform(0.0, 3.0, 200), rng.uniform(-700.0, 700.0, 100)])
    fn = _fn(name, np.float64)
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        errs = []
        for v in x:
            e = abs(_D(v)).exp()
            exact = (e - 1 / e) / 2 if name == "sinh" else (e + 1 / e) / 2
            errs.append(_frac_ulps(fn(v), exact.copy_sign(_D(v)) if name == "sinh" else exact))
    assert max(errs) <= 0.95


def test_float32_hyperbolic_sweep():
    """Every 1009th float32 up to the overflow (and past it), both signs, in one compiled loop:
    <= 1 ulp of the float64 result rounded, under 1% one ulp from it (0.56% measured)."""
    @numba.njit
    def both(x, s, c):
        for i in range(x.size):
            s[i] = mathlib_exp.sinh_f32(x[i])
            c[i] = mathlib_exp.cosh_f32(x[i])

    pos = np.arange(0, 0x42B80000, 1009, dtype=np.uint32).view(np.float32)  # up to 92.0
    x = np.concatenate([pos, -pos])
    s, c = np.empty_like(x), np.empty_like(x)
    both(x, s, c)
    with np.errstate(over="ignore"):
        ws = np.sinh(x.astype(np.float64)).astype(np.float32)
        wc = np.cosh(x.astype(np.float64)).astype(np.float32)
    for got, want in ((s, ws), (c, wc)):
        u = _ulps(got, want)
        assert u.max() <= 1 and np.mean(u > 0) < 0.01
    np.testing.assert_array_equal(np.signbit(s), np.signbit(x))
