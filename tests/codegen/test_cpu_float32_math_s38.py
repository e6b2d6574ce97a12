"""float32 sin, cos, arctan2 and x**c of mathlib.py (sin_f32, cos_f32,
atan2_f32, powc_f32): within 1 ulp of float32 from the float64 result
(measured: 0.5001, i.e. rounded correctly but for ties of the reference's own
rounding) on random arguments over the exponent range and on edge values;
NumPy's own special values; and the CPU rules that call them."""
from fractions import Fraction

import numpy as np
import numba
import pytest

import looptrace as lt
from looptrace.codegen.cpu import mathlib, scalar

EDGE = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1.2e-38, 3e38, -3.4028235e38, 1.0, -1.0,
                 0.5, 2.0, 1e-10, 1e10, 1.5707964, 3.1415927, 4.712389, 16777215.0, 16777216.0], np.float32)


def _args(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    wide = rng.standard_normal(n) * 2.0 ** rng.integers(-150, 128, n)
    with np.errstate(over="ignore"):
        parts = [wide.astype(np.float32), rng.uniform(-10, 10, n).astype(np.float32), EDGE, -EDGE,
                 np.arange(0x4B000000, 0x4B000000 + n, dtype=np.uint32).view(np.float32)]  # around 2**23
    return np.concatenate(parts)


def _ulps(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|got - ref| in ulps of float32 at ref (a float64 reference); 0 where both are NaN or equal."""
    with np.errstate(all="ignore"):
        r32 = ref.astype(np.float32)
        d = np.abs(got.astype(np.float64) - ref) / np.spacing(np.abs(r32)).astype(np.float64)
    same = (got == r32) & (np.signbit(got) == np.signbit(r32))
    d[(np.isnan(got) & np.isnan(ref)) | same] = 0.0
    return d


def _same(a, b) -> bool:
    return bool(np.all(((a == b) & (np.signbit(a) == np.signbit(b))) | (np.isnan(a) & np.isnan(b))))


@numba.njit(error_model="numpy")
def _map1(f, x, out):
    for i in range(x.size):
        out[i] = f(x[i])


@numba.njit(error_model="numpy")
def _map2(f, y, x, out):
    for i in range(x.size):
        out[i] = f(y[i], x[i])


@pytest.mark.parametrize("name, ref", [("sin_f32", np.sin), ("cos_f32", np.cos)])
def test_sin_cos_accuracy(name, ref):
    x = _args(200_000, 1)
    got = np.empty_like(x)
    _map1(getattr(mathlib, name), x, got)
    with np.errstate(invalid="ignore"):
        want = ref(x.astype(np.float64))
        assert _ulps(got, want).max() <= 1.0
        special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float32)
        out = np.empty_like(special)
        _map1(getattr(mathlib, name), special, out)
        assert _same(out, ref(special))  # sin(-0.0) = -0.0, cos(+-0) = 1, inf and nan give nan


def test_trig_window_is_the_reduced_angle():
    """For every float32 exponent e, _trig_window's (t0, t1, t2) sum to (2/pi * 2**(e - 23))
    mod 4 within 2**-100 of its scale (checked in exact fractions against 400 digits of
    2/pi); t0 and t1 have 28 and 27 bits, so that a float32's mantissa times each is exact."""
    g_bits = 400
    g = mathlib._two_over_pi_bits(g_bits)
    for e in range(-149, 128):
        t = Fraction(g * 2 ** max(e - 23, 0), 2 ** (g_bits + max(23 - e, 0))) % 4
        t0, t1, t2 = mathlib._trig_window(e)
        assert abs(Fraction(t0) + Fraction(t1) + Fraction(t2) - t) <= Fraction(4, 2**100) * 2.0 ** min(e - 25, 0), e
        scale = 2.0 ** min(e - 25, 0)
        for part, step, bits in ((t0, 2.0**-26, 28), (t1, 2.0**-53, 27)):
            k = part / (step * scale)
            assert k == int(k) and 0 <= k < 2**bits, (e, part)


def test_atan2_accuracy_and_special_values():
    x = _args(100_000, 2)
    y = np.random.default_rng(3).permutation(x)
    sy, sx = np.meshgrid(np.concatenate([EDGE, -EDGE]), np.concatenate([EDGE, -EDGE]))
    y, x = np.concatenate([y, sy.ravel()]), np.concatenate([x, sx.ravel()])
    got = np.empty_like(x)
    _map2(mathlib.atan2_f32, y, x, got)
    assert _ulps(got, np.arctan2(y.astype(np.float64), x.astype(np.float64))).max() <= 1.0
    zeros_infs = np.isin(np.abs(x), [0, np.inf]) & np.isin(np.abs(y), [0, np.inf]) | np.isnan(x) | np.isnan(y)
    assert _same(got[zeros_infs], np.arctan2(y[zeros_infs], x[zeros_infs]))  # C99's signed zeros, pi/4s, NaN


@numba.njit(error_model="numpy")
def _powc(x, c, out):
    for i in range(x.size):
        out[i] = mathlib.powc_f32(x[i], c)


@pytest.mark.parametrize("c", [1.7, -1.7, 2.5, -0.3, 0.001, 3.3])
def test_powc_accuracy_and_special_values(c):
    x = _args(100_000, 4)
    c32 = np.float32(c)
    got = np.empty_like(x)
    _powc(x, c32, got)
    with np.errstate(all="ignore"):
        assert _ulps(got, np.power(x.astype(np.float64), np.float64(c32))).max() <= 1.0
        special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -1e-45, 1.0], np.float32)
        out = np.empty_like(special)
        _powc(special, c32, out)
        assert _same(out, np.power(special, c32))


def test_power_rule_leaves_integers_and_one_half():
    assert scalar._float_literal("np.float32(1.7000000476837158)") == np.float32(1.7)
    assert scalar._float_literal("x") is None
    assert scalar._float32_call("power", ["a", "np.float32(1.7000000476837158)"]).startswith("powc_f32(")
    for c in ("np.float32(0.5)", "np.float32(2.0)", "np.float32(-3.0)", "y", "np.float32(inf)"):
        assert scalar._float32_call("power", ["a", c]) is None


def _sin(x):
    return np.sin(x) + np.cos(2 * x)


def _atan2(x):
    return np.arctan2(x, np.float32(1.5)) - np.arctan2(np.float32(-0.5), x)


def _pow(x):
    return np.abs(x) ** 1.7 + x ** 2.5


# _sin and _atan2 with -m slow (2.0 and 0.8 s of CPU in session 54's CI at e17f737): a kernel calls
# mathlib's float32 helpers as [_pow] calls powc_f32, test_rules_call_mathlib checks that the rules name
# sin_f32 and atan2_f32, and test_sin_cos_accuracy / test_atan2_accuracy_and_special_values their values
@pytest.mark.parametrize("f, atol", [pytest.param(_sin, 1e-6, marks=pytest.mark.slow),
                                     pytest.param(_atan2, 2e-6, marks=pytest.mark.slow), (_pow, 2e-37)])
def test_compiled_against_plain(f, atol):
    """The plain function, the interpreter and the CPU backend on fresh float32 data with edge values
    (atol: a few float32 ulps of the terms, which NumPy's own float32 sin/arctan2 miss by up to 1.5-3.3)."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(70_000) * 10).astype(np.float32)
    x[:len(EDGE)] = EDGE
    x[len(EDGE):2 * len(EDGE)] = -EDGE
    with np.errstate(all="ignore"):
        want = f(x.copy())
        for backend in ("interpret", "cpu"):
            got = lt.jit(f, backend=backend)(x.copy())
            assert got.dtype == want.dtype == np.float32
            assert np.array_equal(np.isnan(got), np.isnan(want))
            ok = ~np.isnan(want)
            np.testing.assert_allclose(got[ok], want[ok], rtol=1e-6, atol=atol)


@pytest.mark.parametrize("name, helper", [("sin", "sin_f32"), ("arctan2", "atan2_f32")])
def test_rules_call_mathlib(name, helper):
    text = scalar.ufunc_expr(name)(["a", "b"][: 2 if name == "arctan2" else 1], [np.float32] * (2 if name == "arctan2" else 1), np.float32)
    assert text.startswith(helper + "(")
