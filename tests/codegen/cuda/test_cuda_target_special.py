"""The special functions, fmod and complex values on the cuda target, under
the simulator, against the plain function (fresh random data); the kernels
compile to sm_90 PTX (test_cuda_target_ptx.py compiles the samples).

- math.erf, erfc, gamma, lgamma in a scalar loop (Python's values; IEEE
  values where Python raises, as the reference);
- digamma and trigamma (the primitives, compiled alone): against scipy, and
  at poles, zeros and infinities bit for bit as the cpu target's functions;
- np.fmod on floats and integers: C's sign of the dividend, 0 for an integer
  divided by 0 (hypothesis over signs and zero divisors);
- complex arrays in and out: arithmetic, conjugate, parts, abs, a sum and a
  product, in place writes; what numba.cuda cannot do on complex is an
  UnsupportedError naming the dtype and the line.
"""
import math

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import looptrace as lt
from looptrace.codegen import get_target
from looptrace.codegen.target import CompileOptions
from looptrace.errors import UnsupportedError
from looptrace.ir.builder import IRBuilder
from looptrace.ir.core import Block, Program, SourceLoc, Value

from _cuda_support import assert_like_plain, cuda_backend


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def special_loop(x):
    out = np.empty((4, x.shape[0]))
    for i in range(x.shape[0]):
        out[0, i] = math.erf(x[i])
        out[1, i] = math.erfc(x[i])
        out[2, i] = math.gamma(x[i])
        out[3, i] = math.lgamma(x[i])
    return out


def test_erf_erfc_gamma_lgamma_match_python(rng):
    x = rng.uniform(-4.5, 6.0, 9)
    x = np.where(np.abs(x - np.round(x)) < 0.05, x + 0.3, x)  # off gamma's poles
    assert_like_plain(special_loop, [x], lt.jit(special_loop, backend="cuda"), rtol=1e-12)


def test_gamma_at_its_poles_raises_as_python():
    """math.gamma at a pole is a domain error, past 171.6 a range error, on
    the cuda target as in plain Python (tracer/pymath.py `math_errors`)."""
    f = lt.jit(special_loop, backend="cuda")
    for bad in (-2.0, -1.0, 0.0, 200.0):
        x = np.array([1.5, bad, 2.5])
        with pytest.raises((ValueError, OverflowError)) as plain:
            special_loop(x)
        with pytest.raises(type(plain.value), match=str(plain.value)):
            f(x)
    x = np.array([1.0, 171.5, -0.5])
    assert_like_plain(special_loop, [x], f, rtol=1e-12)


def _unary_program(name: str, dtype: str, shape=(7,)) -> Program:
    loc = SourceLoc("test_cuda_target_special.py", 1, "")
    b = IRBuilder(loc)
    x = Value(np.dtype(dtype), shape)
    return Program(Block([x], b.ops, [b.op(name, x)]), name=name)


@pytest.mark.parametrize("name", ["digamma", "trigamma"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_digamma_and_trigamma_match_scipy(rng, name, dtype):
    x = rng.uniform(-6.0, 30.0, 7)
    x = np.where(np.abs(x - np.round(x)) < 0.05, x + 0.3, x).astype(dtype)
    x[0] = 1.4616321449683623  # digamma's root: absolute accuracy there
    program = _unary_program(name, dtype)
    (got,) = get_target("cuda").compile(program, CompileOptions(cache=False))([x])
    want = sp.psi(x.astype(np.float64)) if name == "digamma" else sp.polygamma(1, x.astype(np.float64))
    assert got.dtype == np.dtype(dtype)
    tol = 1e-13 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(got, want.astype(dtype), rtol=tol, atol=tol)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # the simulator's NumPy scalars
def test_digamma_and_trigamma_edges_as_the_cpu_target():
    """Poles, zeros of either sign, infinities and nan give what the cpu target's functions give."""
    from looptrace.codegen.cpu import specialfn

    x = np.array([0.0, -0.0, -3.0, np.inf, -np.inf, np.nan, 1e-300, -2.5])
    for name in ("digamma", "trigamma"):
        (got,) = get_target("cuda").compile(_unary_program(name, "float64", (8,)), CompileOptions(cache=False))([x])
        want = np.array([getattr(specialfn, name)(v) for v in x])
        np.testing.assert_array_equal(got, want)


def fmod_of(x, y):
    return np.fmod(x, y), np.fmod(y, 3)


@settings(max_examples=6, deadline=None)
@given(x=hnp.arrays(np.int64, 8, elements=st.integers(-50, 50)),
       y=hnp.arrays(np.int64, 8, elements=st.integers(-6, 6)))
def test_integer_fmod_is_c_fmod(x, y):
    with np.errstate(all="ignore"):
        assert_like_plain(fmod_of, [x, y], lt.jit(fmod_of, backend="cuda"))


def test_float_fmod_keeps_the_dividends_sign(rng):
    x = rng.uniform(-10, 10, 9)
    y = rng.uniform(-3, 3, 9)
    y[0] = 0.0  # nan, as NumPy
    with np.errstate(all="ignore"):
        assert_like_plain(fmod_of, [x, y], lt.jit(fmod_of, backend="cuda"))


def complex_math(z, w, x):
    u = z * w + np.conj(z) / (w + 2.0) - 1j * x
    return u, np.abs(u), u.real, np.imag(u), np.conj(x), (z * w).sum(), z @ w


@pytest.mark.parametrize("dtype", ["complex128", "complex64"])
def test_complex_arrays_in_and_out(rng, dtype):
    def c(*shape):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)

    real = "float64" if dtype == "complex128" else "float32"
    args = [c(6), c(6), rng.standard_normal(6).astype(real)]
    rtol = 1e-12 if dtype == "complex128" else 2e-5
    assert_like_plain(complex_math, args, lt.jit(complex_math, backend="cuda"), rtol=rtol, atol=1e-5)


def rotate_in_place(z, theta):
    for i in range(z.shape[0]):
        z[i] = z[i] * complex(math.cos(theta[i]), math.sin(theta[i]))
    return z.real.sum()


def test_complex_writes_into_an_argument(rng):
    z = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    assert_like_plain(rotate_in_place, [z, rng.uniform(0, 6, 5)], lt.jit(rotate_in_place, backend="cuda"))


def complex_product(a, b):
    return np.einsum("ij,jk->ik", a, b)


def test_complex_products_take_the_generic_contraction(rng):
    a = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    b = rng.standard_normal((4, 2)) - 1j * rng.standard_normal((4, 2))
    assert_like_plain(complex_product, [a, b], lt.jit(complex_product, backend="cuda"))


def complex_exp(z):
    return np.exp(z)


def test_what_numba_cuda_cannot_do_on_complex_is_a_clear_error(rng):
    z = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    with pytest.raises(UnsupportedError, match=r"(?s)`exp` on complex128.*test_cuda_target_special.py.*np.exp"):
        lt.jit(complex_exp, backend="cuda")(z)
