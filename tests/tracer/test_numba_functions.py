"""Code written for Numba calls the user's own @numba.njit helpers and
@numba.vectorize ufuncs. A trace runs their Python code (Numba would try to
type the traced values: "a traced array cannot be hashed" before), with
Numba's boxing of scalar results and NumPy's choice of a ufunc's signature
(tracer/numba_functions.py). `looptrace.jit(njit_function)` compiles its
Python code."""
import numba
import numpy as np
import pytest

import looptrace
from looptrace.errors import TraceTypeError

BACKENDS = ["interpret", "cpu"]


@numba.njit
def sq_plus_one(x):
    return x * x + 1.0


@numba.njit(cache=False, fastmath=False)
def fill_scaled(out, a, c):
    for i in range(a.shape[0]):
        out[i] = a[i] * c
    return out.sum()


@numba.njit
def plus_minus(x):
    return x + 1.0, x - 1.0


@numba.vectorize(["float64(float64)", "int64(int64)"])
def relu(x):
    return x if x > 0 else 0


@numba.vectorize
def lazy_axpy(x, y):
    return 2.0 * x + y


def scalar_helper_in_loop(a):
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = sq_plus_one(a[i])
    return out


def array_helper_with_effects(a, out):
    s = fill_scaled(out, a, 3.0)
    return s + out[0]


def tuple_results(a):
    s = 0.0
    for i in range(a.shape[0]):
        p, q = plus_minus(a[i])
        s += p * q
    return s


def ufuncs(a, b, k):
    t = 0.0
    for i in range(a.shape[0]):
        t += relu(a[i])
    return relu(a), relu(k), lazy_axpy(a, b), t


def _same(want, got):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for w, g in zip(want, got):
            _same(w, g)
        return
    assert type(got) is type(want)
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_njit_helpers_are_traced_through_their_python_code(backend):
    r = np.random.default_rng(11)
    a = r.standard_normal(9)
    _same(scalar_helper_in_loop(a), looptrace.jit(scalar_helper_in_loop, backend=backend)(a))
    out_p, out_c = r.standard_normal(9), r.standard_normal(9)
    want = array_helper_with_effects(a, out_p)
    _same(want, looptrace.jit(array_helper_with_effects, backend=backend)(a, out_c))
    np.testing.assert_allclose(out_c, out_p, rtol=1e-12)  # the helper's write reaches the caller


@pytest.mark.parametrize("backend", BACKENDS)
def test_scalar_results_are_python_numbers_as_numba_boxes_them(backend):
    a = np.random.default_rng(12).standard_normal(6)
    want = tuple_results(a)
    assert type(want) is float
    _same(want, looptrace.jit(tuple_results, backend=backend)(a))


@pytest.mark.parametrize("backend", BACKENDS)
def test_vectorize_ufuncs_pick_their_signature_as_numpy_does(backend):
    r = np.random.default_rng(13)
    a, b = r.standard_normal(7), r.standard_normal(7)
    ints = r.integers(-5, 5, 7)
    jf = looptrace.jit(ufuncs, backend=backend)
    _same(ufuncs(a, b, ints), jf(a, b, ints))
    _same(ufuncs(a, b, 3), jf(a, b, 3))


def test_no_signature_for_the_inputs_is_a_clear_type_error():
    def f(a):
        return relu(a)

    with pytest.raises(TraceTypeError, match="relu has no signature for inputs of types complex128"):
        looptrace.jit(f, backend="interpret")(np.ones(3, complex) * (1 + 2j))


@pytest.mark.parametrize("backend", BACKENDS)
def test_jit_of_an_njit_function_compiles_its_python_code(backend):
    a = np.random.default_rng(14).standard_normal(5)
    jf = looptrace.jit(sq_plus_one, backend=backend)
    assert jf.py_func is sq_plus_one.py_func
    np.testing.assert_allclose(jf(a), sq_plus_one(a), rtol=1e-12)
