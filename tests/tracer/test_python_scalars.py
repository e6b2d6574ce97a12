"""Scalars as people write them: `math.*` and `cmath.*` on traced scalars,
and the builtins float/int/bool/complex/abs/round/min/max/divmod/pow/any/all
with Python's semantics (results of Python's types, NaNs in max/min as
Python treats them, round(x, n) correctly rounded). Plain function against
the jitted one on random data, interpret backend; a representative set on
the cpu backend."""

import cmath
import functools
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.errors import TraceError, UnsupportedError

from ._compare import assert_same, check

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (function, low, high): a domain where Python's function is defined
MATH_UNARY = [
    (math.exp, -20, 20), (math.expm1, -5, 5), (math.log, 0.01, 100), (math.log2, 0.01, 100),
    (math.log10, 0.01, 100), (math.log1p, -0.9, 100), (math.sqrt, 0, 100), (math.sin, -10, 10),
    (math.cos, -10, 10), (math.tan, -1.5, 1.5), (math.asin, -1, 1), (math.acos, -1, 1), (math.atan, -10, 10),
    (math.sinh, -5, 5), (math.cosh, -5, 5), (math.tanh, -5, 5), (math.asinh, -10, 10), (math.acosh, 1, 10),
    (math.atanh, -0.99, 0.99), (math.fabs, -10, 10), (math.degrees, -10, 10), (math.radians, -500, 500),
    (math.erf, -6, 6), (math.erfc, -6, 27), (math.gamma, 0.05, 30), (math.lgamma, 0.05, 100),
    (math.cbrt, -10, 10), (math.exp2, -20, 20),
]
MATH_BINARY = [(math.atan2, -5, 5), (math.hypot, -5, 5), (math.copysign, -5, 5), (math.fmod, 0.5, 5),
               (math.pow, 0.1, 3)]


def unary_program(fn):
    def f(x):
        return fn(x[0]), fn(x[1]) * x[2], fn(x[1] + 0.0)

    return f


@functools.cache
def _traced_once(program, fn):
    """program(fn) and its jit, one per function for all of a test's examples: they share a
    signature, so the examples run one trace (a new jit per example was 13 s of CI, session 54)."""
    f = program(fn)
    return f, looptrace.jit(f, backend="interpret")


@pytest.mark.parametrize("fn,low,high", MATH_UNARY, ids=[f.__name__ for f, _, _ in MATH_UNARY])
@SETTINGS
@given(data=st.data())
def test_math_unary_on_traced_scalars(fn, low, high, data):
    x = np.array(data.draw(st.lists(st.floats(low, high), min_size=3, max_size=3)))
    f, jitted = _traced_once(unary_program, fn)
    check(f, x, rtol=1e-13, jitted=jitted)
    check(f, x.astype(np.float32), rtol=1e-6, jitted=jitted)  # math converts to float64 first


def binary_program(fn):
    def f(x, s):
        return fn(x[0], x[1]), fn(s, x[1]), fn(x[0], 2)

    return f


@pytest.mark.parametrize("fn,low,high", MATH_BINARY, ids=[f.__name__ for f, _, _ in MATH_BINARY])
@SETTINGS
@given(data=st.data())
def test_math_binary_on_traced_scalars(fn, low, high, data):
    x = np.array(data.draw(st.lists(st.floats(low, high), min_size=2, max_size=2)))
    f, jitted = _traced_once(binary_program, fn)
    check(f, x, float(x[1]) + 0.5, rtol=1e-13, jitted=jitted)


def test_math_types_ints_and_predicates(rng):
    def f(x, k):
        return (math.floor(x[0]), math.ceil(x[1]), math.trunc(x[2]), math.floor(k), math.isnan(x[3]),
                math.isinf(x[4]), math.isfinite(x[3]), math.pi * x[0], math.e + math.tau + math.inf * 0 + k,
                math.log(abs(x[1]), 2.0), math.log(k + 10, abs(x[1]) + 5),  # noqa: FURB163 math.hypot(x[0], x[1], x[2]), math.hypot(),
                math.modf(x[0]), math.modf(x[4]), math.isclose(x[0], x[0] * (1 + 1e-12)),
                math.isclose(x[0], x[1], abs_tol=10.0), math.prod(x[:3]), math.prod([x[0], k, 2.0]),
                math.dist(x[:2], x[2:4]), math.dist((x[0], 1.0), (2.0, x[1])))

    x = rng.uniform(-9, 9, 5)
    x[3], x[4] = np.nan, -np.inf
    check(f, x, 7)
    x[3], x[4] = 2.5, 3.0
    check(f, x, -3)


@pytest.mark.parametrize("name", ["factorial", "comb", "isqrt"])  # (fsum: tests/tracer/test_corpus_errors_s53.py)
def test_math_without_numpy_equivalent_is_refused(name, rng):
    fn = getattr(math, name)

    def f(k, x):
        return fn(k) if name in ("factorial", "isqrt") else fn([x[0], x[1]]) if name == "fsum" else \
            fn(k, 4) if name == "comb" else fn(x[0])

    with pytest.raises(UnsupportedError, match=f"math.{name}"):
        looptrace.jit(f, backend="interpret")(np.int64(5), rng.standard_normal(2))


def test_math_over_a_generator(rng):
    """`math.prod(f(i) for i ...)` and math.fsum read the generator's traced
    items (fsum blamed "a library other than NumPy, math and cmath": session-35
    probe K; then it was refused; since session 53 it is Python's sum)."""
    def prod3(x):
        return math.prod(x[i] + 1.0 for i in range(3))

    def fsum_gen(x):
        return math.fsum(x[i] * 2 for i in range(x.shape[0]))

    check(prod3, rng.standard_normal(4))
    check(fsum_gen, rng.standard_normal(4))


def test_math_of_an_array_is_a_type_error_as_in_python(rng):
    def f(x):
        return math.exp(x)

    with pytest.raises(TraceError, match="only 0-dimensional arrays"):
        looptrace.jit(f, backend="interpret")(rng.standard_normal(3))


def test_math_of_a_python_complex_is_a_type_error(rng):
    def f(z):
        return math.sqrt(z)

    with pytest.raises(TraceError, match="not complex"):
        looptrace.jit(f, backend="interpret")(1 + 2j)


def test_from_math_import_and_module_alias(rng):
    from math import erf as my_erf

    m = math

    def f(x):
        return my_erf(x[0]) + m.exp(x[1])

    check(f, rng.standard_normal(2))


# --- cmath ------------------------------------------------------------------------------------------
CMATH = [cmath.exp, cmath.log, cmath.log10, cmath.sqrt, cmath.sin, cmath.cos, cmath.tan, cmath.asin,
         cmath.acos, cmath.atan, cmath.sinh, cmath.cosh, cmath.tanh, cmath.asinh, cmath.acosh, cmath.atanh,
         cmath.phase, cmath.polar, cmath.isnan, cmath.isinf, cmath.isfinite]


@pytest.mark.parametrize("fn", CMATH, ids=[f.__name__ for f in CMATH])
def test_cmath_on_traced_values(fn, rng):
    def f(z, x):
        return fn(z[0]), fn(x[0]), fn(z[1] * x[1])

    z = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    check(f, z, rng.standard_normal(2) * 3, rtol=1e-12)


def test_cmath_rect_log_base_isclose(rng):
    def f(x, z):
        return cmath.rect(x[0], x[1]), cmath.log(z[0], 3.0), cmath.isclose(z[0], z[0] + 1e-12), \
            cmath.isclose(z[0], z[1]), cmath.pi * z[1]

    check(f, rng.standard_normal(2), rng.standard_normal(2) + 1j * rng.standard_normal(2))


# --- builtins ---------------------------------------------------------------------------------------
def test_conversions_give_python_types(rng):
    def f(x, z, k):
        return (float(x[0]), int(x[1]), bool(x[2]), bool(k), int(k), float(k), complex(x[0]),
                complex(x[0], x[1]), complex(z[0]), complex(z[0], z[1]), complex(k, 2), abs(z[0]),
                abs(x[3]), divmod(x[0], 0.7), divmod(k, 3), pow(x[1], 2), pow(k, 2), any([x[0] > 0, x[1] > 0]),
                all([x[0] > -5, k > 0]), any(x > 1), all(x > -10), float(z[0].real))

    x = rng.uniform(-4, 4, 4)
    x[2] = 0.0
    z = rng.standard_normal(2) + 1j * rng.standard_normal(2)
    check(f, x, z, 3)
    check(f, -x, z, -4)


def test_complex_of_inf_and_nan_parts_keeps_them(rng):
    def f(x):
        return complex(x[0], x[1]), cmath.isinf(complex(x[0], x[1]))

    got = looptrace.jit(f, backend="interpret")(np.array([np.inf, np.nan]))
    want = f(np.array([np.inf, np.nan]))
    assert repr(got) == repr(want)


@st.composite
def floats_with_nans(draw, n):
    xs = draw(st.lists(st.one_of(st.floats(-100, 100), st.just(float("nan"))), min_size=n, max_size=n))
    return np.array(xs)


@SETTINGS
@given(x=floats_with_nans(6))
def test_max_min_fold_like_python_with_nans(x):
    def f(x):
        m, n = x[0], x[0]
        for i in range(1, x.shape[0]):
            m = max(m, x[i])
            n = min(x[i], n)
        return m, n, max(x), min(x), max(x[0], x[1], x[2]), min([x[3], x[4], x[5]]), \
            max(x[0], x[1], key=abs), min(x[2], x[3], key=lambda v: -v)

    def mixed(x):  # Python returns whichever object wins: a float or a NumPy scalar (same value)
        return max(x[1], 0.5), min(-0.5, x[2])

    check(f, x)
    got, want = looptrace.jit(mixed, backend="interpret")(x), mixed(x)
    np.testing.assert_array_equal(np.array(got, dtype=float), np.array(want, dtype=float))


def test_max_min_ints_keep_a_reduction(rng):
    def f(k):
        m = k[0]
        for i in range(k.shape[0]):
            m = max(m, k[i])
        return m, min(k[1], 3), max(k)

    check(f, rng.integers(-50, 50, 9))
    loops = looptrace.explain(looptrace.jit(f, backend="interpret"), rng.integers(-50, 50, 9)).loops
    assert [l.kind for l in loops] == ["reduction"]


def test_max_argmax_by_key_over_range(rng):
    def f(x):
        best = max(range(x.shape[0]), key=lambda i: x[i])
        return best, x[best], max([], default=-1.0), min(range(4), key=lambda i: abs(x[i]))

    check(f, rng.standard_normal(7))


def test_max_of_arrays_is_refused_as_in_python(rng):
    def f(a, b):
        return max(a, b)

    with pytest.raises(TraceError, match="truth value"):
        looptrace.jit(f, backend="interpret")(rng.standard_normal(3), rng.standard_normal(3))
    with pytest.raises(ValueError):
        f(rng.standard_normal(3), rng.standard_normal(3))


@SETTINGS
@given(v=st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.5, 1.5, 2.5, -0.5, 2.675, 0.125, 0.375, -2.5e-5,
                                                           1e15 + 0.5, 4.35, 1.005, float("nan"), float("inf")])),
       n=st.integers(-6, 12))
def test_round_of_python_floats_is_correctly_rounded(v, n):
    def f(x, n):
        y = float(x[0])
        return round(y, n), round(y * 3, n), round(x[0], n)

    def g(x):
        return round(float(x[0]))

    x = np.array([v])
    got = looptrace.jit(f, backend="interpret", static_argnames="n")(x, n)
    want = f(x, n)
    assert repr(got[:2]) == repr(want[:2])  # bit for bit, signed zeros included
    assert_same(got[2], want[2])  # a NumPy scalar rounds as np.round does
    if np.isfinite(v):
        assert_same(looptrace.jit(g, backend="interpret")(x), g(x))


def test_round_of_ints_and_numpy_scalars(rng):
    def f(k, x):
        return round(k, -1), round(k, -2), round(k, 1), round(k), round(x[0]), round(x[1], 2), \
            round(True), round(np.float32(1.25) + x[2].astype(np.float32) * 0, 1)

    for k in (15, 25, -35, 1234, 7):
        check(f, k, rng.uniform(-9, 9, 3))


# --- the cpu backend --------------------------------------------------------------------------------
def scalar_kernel(x, y, z, u):
    out = np.empty((x.shape[0], 12))
    zs = np.empty(x.shape[0], np.complex128)
    m = u[0]
    for i in range(x.shape[0]):
        a, b = x[i], y[i]
        out[i, 0] = math.exp(-a * a) * math.erf(b) + math.erfc(a)
        out[i, 1] = math.gamma(abs(b) + 0.5) + math.lgamma(abs(a) + 0.1)
        out[i, 2] = math.atan2(a, b) + math.hypot(a, b) + math.copysign(1.0, a) + math.fmod(a, 0.7)
        out[i, 3] = math.floor(a) + math.ceil(b) + math.trunc(a * 3) + round(float(b), 2)
        out[i, 4] = max(a, b, 0.1) + min(a, b) + abs(a - b) + float(int(b * 10))
        out[i, 5] = math.log(abs(a) + 1) + math.sqrt(abs(b)) + math.pow(abs(a), 1.5) + math.tanh(b)
        out[i, 6] = 1.0 if math.isnan(u[i]) or math.isinf(b) else 0.0
        out[i, 7], out[i, 8] = math.modf(a)
        w = complex(a, b) * cmath.exp(1j * z[i].real) + z[i]
        zs[i] = w * w.conjugate() + cmath.sqrt(w)
        out[i, 9] = abs(w) + cmath.phase(w) + w.imag
        out[i, 10] = round(a) + divmod(b, 0.3)[1]
        m = max(m, u[i])
        out[i, 11] = m
    return out, zs, m


# slow: the math functions lower to mathlib's (tests/codegen/test_mathlib.py, test_lowering_completeness.py's
# unary samples compile them on cpu); their traced semantics run on the interpreter above.
@pytest.mark.slow
def test_scalar_functions_on_the_cpu_backend(rng):
    x, y = rng.standard_normal(40) * 3, rng.standard_normal(40) * 3
    u = rng.standard_normal(40)
    u[[5, 17]] = np.nan
    z = rng.standard_normal(40) + 1j * rng.standard_normal(40)
    want = scalar_kernel(x, y, z, u)
    got = looptrace.jit(scalar_kernel, backend="cpu")(x, y, z, u)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, equal_nan=True)
        assert np.asarray(g).dtype == np.asarray(w).dtype


def test_complex_arrays_on_the_cpu_backend(rng):
    def f(z, w, c):
        acc = np.zeros(z.shape[1], np.complex128)
        for i in range(z.shape[0]):
            acc = acc * 0.5 + np.exp(1j * np.angle(z[i])) * w[i]
        v = c.copy()
        for t in range(4):  # a complex recurrence (a Mandelbrot step)
            v = v * v * 0.3 + c
        c2 = (z * z.conj()).real + np.abs(z) ** 2 - np.imag(z * 1j)
        parts = np.stack([z.real.astype(np.float32), z.astype(np.float64).astype(np.float32)])
        return (acc, c2, z.sum(axis=0), (z @ w.T), np.sqrt(z).astype(np.complex64), v, np.prod(c[:3]),
                (z ** (0.5 + 0.5j)).mean(), parts, (z * 0).astype(bool) | (z != 0), z.astype(np.int64))

    z = rng.standard_normal((6, 4)) + 1j * rng.standard_normal((6, 4))
    w = (rng.standard_normal((6, 4)) + 1j * rng.standard_normal((6, 4))).astype(np.complex128)
    c = (rng.standard_normal(4) * 0.3 + 1j * rng.standard_normal(4) * 0.3).astype(np.complex64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        want = f(z, w, c)
        for backend in ("interpret", "cpu"):
            got = looptrace.jit(f, backend=backend)(z, w, c)
            for g, e in zip(got, want):
                assert g.dtype == e.dtype and g.shape == e.shape
                np.testing.assert_allclose(g, e, rtol=1e-5 if e.dtype in (np.complex64, np.float32) else 1e-12)


def test_round_where_the_scaled_value_passes_two_to_the_52():
    """round(x, n) with x * 10**n in [2**52, 2**53): the scaled value is an
    integer in float, and the exact product decides (found by hypothesis:
    450360.44113581826 to 10 digits is 450360.4411358183)."""
    def f(x, n):
        y = float(x[0])
        return round(y, n)

    for v, n in [(450360.44113581826, 10), (150120.14704527275 * 3, 10), (692394.8368566255 * 3, 10),
                 (-955355.7779573522 * 3, 11), (2.0 ** 52 / 1e3 + 0.0005, 3)]:
        got = looptrace.jit(f, backend="interpret", static_argnames="n")(np.array([v]), n)
        assert repr(got) == repr(f(np.array([v]), n)), (v, n)


# --- Python's domain and range errors of the math module, at run time (pymath.math_errors) ---------------------
ERROR_CASES = [  # (function, an argument where Python raises, an argument where it does not)
    (math.sqrt, -1.0, -0.0), (math.log, 0.0, 1e-300), (math.log2, -2.0, 8.0), (math.log10, -0.5, 1e300),
    (math.log1p, -1.0, -0.9999), (math.acos, 1.0000001, -1.0), (math.asin, -1.5, 1.0), (math.acosh, 0.5, 1.0),
    (math.atanh, 1.0, -0.999), (math.cos, math.inf, 1e300), (math.sin, -math.inf, 3.0), (math.tan, math.inf, 1.5),
    (math.exp, 709.79, 709.78), (math.expm1, 800.0, -800.0), (math.cosh, -711.0, 710.0), (math.sinh, 711.0, -710.0),
    (math.gamma, 0.0, 171.5), (math.gamma, 172.0, -0.5), (math.lgamma, -2.0, 1e300),
]


@pytest.mark.parametrize("fn, bad, good", ERROR_CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_math_domain_and_range_errors_raise_as_python(fn, bad, good):
    def f(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += fn(x[i])
        return s

    jf = looptrace.jit(f, backend="interpret")
    ok = np.array([good, 0.5 if fn not in (math.acosh,) else 2.0, good])
    assert jf(ok) == pytest.approx(f(ok), rel=1e-12)
    x = np.array([good, bad, good])
    with pytest.raises((ValueError, OverflowError)) as plain:
        f(x)
    with pytest.raises(type(plain.value), match=str(plain.value)):
        jf(x)
    assert np.isnan(jf(np.array([np.nan, good])))  # NaN in, NaN out: no error, as in Python


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_math_errors_compiled_and_two_argument_functions(backend, rng):
    def f(x, y):
        s = 0.0
        for i in range(x.shape[0]):
            s += math.sqrt(x[i]) + math.fmod(x[i], y[i]) + math.pow(x[i], y[i]) + math.log(x[i], 2.0)
        return s

    x, y = rng.uniform(0.5, 3.0, 20), rng.uniform(0.5, 3.0, 20)
    jf = looptrace.jit(f, backend=backend)
    assert jf(x, y) == pytest.approx(f(x, y), rel=1e-12)
    for k, (a, b) in enumerate([(-1.0, 1.0), (1.0, 0.0), (0.0, -1.0), (1e300, 3.0), (math.inf, 2.0)]):
        xs, ys = x.copy(), y.copy()
        xs[7], ys[7] = a, b
        with pytest.raises((ValueError, OverflowError)) as plain:
            f(xs, ys)
        with pytest.raises(type(plain.value), match=str(plain.value)):
            jf(xs, ys)
