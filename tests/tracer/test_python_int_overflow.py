"""Python ints past 64 bits (tracer/semantics.py `_check_python_int`): the
plain function makes a big integer where looptrace's int64 would wrap, so a
product, power or shift of Python ints that can leave 64 bits is checked at
run time (OverflowError naming the line); one whose operands' ranges show it
always fits (index arithmetic over static bounds) gets no check."""
import numpy as np
import pytest

import looptrace
from looptrace.ir.core import walk
from tests.marks import INTERPRET_AND_SLOW_CPU


def factorial_scaled(x, n):
    s = 1
    for i in range(1, n + 1):
        s *= i
    return x * s


def power_sum(x):
    s = 0
    for i in range(x.shape[0]):
        s += 3 ** (i * 5)
    return s


def fnv_mod(x):
    h = 1469598103934665603
    for i in range(x.shape[0]):
        h = (h ^ int(x[i])) * 1099511628211
    return h % 1000


def middle_binomial(x, n):
    c = 1
    for k in range(n // 2):
        c = c * (n - k) // (k + 1)  # C(n, k + 1)
    return x * c


def index_arithmetic(x):
    n, m = x.shape
    out = np.zeros(n * m)
    flat = x.ravel()
    for i in range(n):
        for j in range(m):
            out[i * m + j] = flat[(n - 1 - i) * m + j] * (i * i + (1 << j) + j ** 3)
    return out


def overflow_checks(f, *args) -> int:
    f(*args)
    return sum(1 for entry in f._fast.values() for op in walk(entry[0].traced.body)
               if op.prim.name == "check" and any("64 bits" in str(fl.exc) for fl in op.attrs["failures"]))


@pytest.mark.parametrize("backend", INTERPRET_AND_SLOW_CPU)
def test_python_ints_past_64_bits_raise(backend, rng):
    x = rng.standard_normal(3)
    for fn, args in [(factorial_scaled, (x, 25)), (power_sum, (rng.standard_normal(14),)),
                     (fnv_mod, (rng.integers(0, 9, 6).astype(float),)), (middle_binomial, (x, 70))]:
        with pytest.raises(OverflowError, match="past 64 bits") as info:
            looptrace.jit(fn, backend=backend)(*args)
        # a looptrace error too (BigIntError: looptrace's limit), naming the user's line
        assert isinstance(info.value, looptrace.UnsupportedError) and __file__ in str(info.value)
    np.testing.assert_array_equal(looptrace.jit(factorial_scaled, backend=backend)(x, 20), factorial_scaled(x, 20))
    np.testing.assert_array_equal(looptrace.jit(middle_binomial, backend=backend)(x, 40), middle_binomial(x, 40))
    small = rng.standard_normal(8)
    assert looptrace.jit(power_sum, backend=backend)(small) == power_sum(small)


def test_index_arithmetic_over_static_bounds_is_not_checked(rng):
    x = rng.standard_normal((5, 7))
    f = looptrace.jit(index_arithmetic, backend="interpret")
    assert overflow_checks(f, x) == 0
    np.testing.assert_array_equal(f(x), index_arithmetic(x))
    # the product's, and n + 1 of the int argument n (range(1, n + 1): once per call)
    assert overflow_checks(looptrace.jit(factorial_scaled, backend="interpret"), x, 5) == 2


def item_products(a, b):
    total = 0
    for i in range(a.shape[0]):
        total += a[i].item() * b[i].item()
    return total


def test_products_of_narrow_ints_are_not_checked(rng):
    """a[i].item() of an int32 array holds int32's range (a convert from it):
    a product of two fits int64 whatever the data (nditer2 of numba-benchmark
    lost a pass over both arrays to its check); of int64 items it may not."""
    a, b = (rng.integers(-2**28, 2**28, 50).astype(np.int32) for _ in range(2))  # the sum fits too
    f = looptrace.jit(item_products, backend="interpret")
    # none of the products; fifty of them may pass 2**63 (2**62 each): the sum's check, once, after the loop
    assert overflow_checks(f, a, b) == 1
    assert f(a, b) == item_products(a, b)
    assert overflow_checks(looptrace.jit(item_products, backend="interpret"), a.astype(np.int64), b) == 2


# --- division of Python numbers by zero: ZeroDivisionError, as in Python -----------------------------------------
def harmonic_shifted(x, k):
    s = 0.0
    for i in range(x.shape[0]):
        s += 1.0 / (i - k) + 7 % (i + 1) + x[i] / (x[i] - x[i] + 1.0)
    return s


def int_quotients(x, k):
    s = 0
    for i in range(x.shape[0]):
        s += 7 // (i - k) + 7 % (i - k)
    return s + x[0]


def zero_checks(f, *args) -> int:
    f(*args)
    return sum(1 for entry in f._fast.values() for op in walk(entry[0].traced.body)
               if op.prim.name == "check" and any(isinstance(fl.exc, ZeroDivisionError) for fl in op.attrs["failures"]))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_python_number_division_by_zero_raises(backend, rng):
    x = rng.standard_normal(6)
    for fn in (harmonic_shifted, int_quotients):
        f = looptrace.jit(fn, backend=backend)
        assert f(x, -1) == pytest.approx(fn(x, -1), rel=1e-12)
        with pytest.raises(ZeroDivisionError) as plain:
            fn(x, 3)
        with pytest.raises(ZeroDivisionError, match=str(plain.value)) as info:
            f(x, 3)
        assert "(i - k)" in "".join(info.value.__notes__)


def test_numpy_scalars_and_nonzero_divisors_get_no_check(rng):
    def numpy_semantics(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += (abs(x[i]) + 1.0) / (x[i] - x[i]) + 1.0 / (i + 1) + 5 // (2 * i + 1)
        return s

    x = rng.standard_normal(4)
    f = looptrace.jit(numpy_semantics, backend="interpret")
    with np.errstate(all="ignore"):
        assert zero_checks(f, x) == 0
        assert np.isinf(f(x)) and np.isinf(numpy_semantics(x))  # x[i] / 0.0 of NumPy scalars: inf, no error
