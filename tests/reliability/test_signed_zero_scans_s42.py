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


def _complex_cases(rng):
    parts = np.array([complex(-0.0, -0.0), complex(0.0, -0.0), complex(-0.0, 0.0), 1 + 0j, -1j, complex(-2.0, -0.0),
                      complex(1.5, -0.5)])
    return [np.array([complex(-0.0, -0.0), 1j, complex(-0.0, 2.0)]), np.array([complex(-0.0, -0.0)] * 2),
            rng.choice(parts, 40), rng.choice(parts, (12, 3)), np.array([complex(np.inf, 0.0), 1 + 1j, 2j])]


COMPLEX_FUNCTIONS = [lambda x: np.cumsum(x), lambda x: np.cumprod(x), lambda x: np.cumsum(x, axis=0),
                     lambda x: np.cumprod(x, axis=0), lambda x: np.cumprod(x, axis=-1),
                     lambda x: np.cumprod(x * 0.5 - 0.0), lambda x: np.cumsum(x * 2.0)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("k", range(len(COMPLEX_FUNCTIONS)))
def test_complex_signed_zeros(rng, backend, k):
    """The cpu kernel adds where the scan's A is the literal 1 (a complex `1 * h`
    loses a -0.0) and starts a product from x[0] itself (a complex `x[0] * (1+0j)`
    loses a -0.0 and makes inf+0j inf+nanj), as NumPy's accumulate does."""
    fn = COMPLEX_FUNCTIONS[k]
    jf = looptrace.jit(fn, backend=backend)
    for x in _complex_cases(rng):
        assert _signs_equal(jf(x), fn(x)), (x, fn(x), jf(x))



def _decay(x, a):
    y = 0.0
    for t in range(x.shape[0]):
        y = a * y + x[t]
    return y


def test_linear_recurrence_keeping_the_last_state_cpu(rng):
    """A loop's `y = a * y + x[t]` (a linear_scan keeping only its last state):
    each step as written, a literal 1 for `a` too."""
    jf = looptrace.jit(_decay, backend="cpu")
    x = rng.standard_normal(12)
    for a in (0.5, 1, 1.0, -0.0, np.float64(0.25)):
        assert _signs_equal(jf(x, a), _decay(x, a)), a
