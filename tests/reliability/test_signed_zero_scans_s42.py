"""np.cumsum and np.cumprod keep NumPy's signed zeros (probe Z, session 42):
NumPy's first partial sum is x[0] itself (np.cumsum([-0.0, -0.0, 1.0]) is
[-0.0, -0.0, 1.0]) and a product that is -0.0 stays -0.0. The scans start
from -0.0 and add -0.0 (np_arrays._prefix); the interpreter runs a scan whose
A is all ones or whose B adds exactly as NumPy's running sum or product
(ops/recurrence.py `_running`), since the odd-even grouping loses the sign
of a zero. The cpu kernel's sequential loop is exact without fastmath (nsz
would allow either sign)."""
import numpy as np
import pytest

import looptrace


def _signs_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return (a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
            and np.array_equal(np.signbit(a.real), np.signbit(b.real))
            and np.array_equal(np.signbit(a.imag), np.signbit(b.imag)))


def _cases(rng):
    zeros = np.where(rng.random(40) < 0.5, -0.0, 0.0)
    return [np.array([-0.0, -0.0, 1.0]), np.array([-0.0, -0.0]), np.array([-1.0, 0.0, 2.0, -3.0]),
            zeros, rng.choice([-2.0, -0.0, 0.0, 1.5, -1.0], 50), np.array([-0.0, -0.0], np.float32),
            rng.choice([-2.0, -0.0, 1.5, -1.0], (20, 3)), np.full((3, 2), -0.0)]


FUNCTIONS = [lambda x: np.cumsum(x), lambda x: np.cumprod(x), lambda x: np.cumsum(x, axis=0),
             lambda x: np.multiply.accumulate(x), lambda x: np.sum(x), lambda x: np.add.reduce(x),
             lambda x: np.prod(x)]


@pytest.mark.parametrize("k", range(len(FUNCTIONS)))
def test_signed_zeros_interpret(rng, k):
    fn = FUNCTIONS[k]
    jf = looptrace.jit(fn, backend="interpret")
    for x in _cases(rng):
        assert _signs_equal(jf(x), fn(x)), (x, fn(x), jf(x))


def test_complex_signed_zeros_interpret():
    x = np.array([complex(-0.0, -0.0), 1j, complex(-0.0, 2.0)])
    for fn in (lambda x: np.cumsum(x), lambda x: np.cumprod(x)):
        assert _signs_equal(looptrace.jit(fn, backend="interpret")(x), fn(x))


@pytest.mark.parametrize("k", [0, 1])
def test_signed_zeros_cpu(rng, k):
    fn = FUNCTIONS[k]
    jf = looptrace.jit(fn, backend="cpu")
    for x in _cases(rng):
        assert _signs_equal(jf(x), fn(x)), (x, fn(x), jf(x))


def test_long_running_sums_and_products_match_numpy_exactly(rng):
    x = rng.standard_normal((3000, 4))
    for fn in (lambda x: np.cumsum(x, axis=0), lambda x: np.cumprod(1 + x / 100, axis=0)):
        np.testing.assert_array_equal(looptrace.jit(fn, backend="interpret")(x), fn(x))
