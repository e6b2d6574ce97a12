"""The Python type of a value another carry takes from a loop's previous
iteration (s55).

    a, b = 0.0, 1.0
    for i in range(n):
        a, b = b, a * 0.5 + b * x[i]    # b: a Python float, then np.float64

After one trip Python's `a` is b's entry value, a Python float; after two it
is np.float64. The traced body argument of `b` had the join's type, so a
jitted `a` was np.float64 after one trip (probe_s54 tuple_carries,
/tmp/R2/repro_tuple_carry_scalar_type.py). Now `b` carries its type tag where
another carry's exit reads it (control.py _tag_carries_others_read). Checked:
value and `type()` of every result against the plain function, for zero, one
and many trips, static and run-time trip counts, tuple and scalar carries,
int, float and bool; on the interpreter, one representative on cpu.
"""

import numpy as np
import pytest

import looptrace


def swap_floats(x, n):
    a, b = 0.0, 1.0
    for i in range(n):
        a, b = b, a * 0.5 + b * x[i]
    return a, b


def tuple_floats(x, n):
    c = (0.0, 1.0)
    for i in range(n):
        c = (c[1], c[0] * 0.5 + c[1] * x[i])
    return c


def derived_float(x, n):  # a's exit computed from b's previous value
    a, b = 0.0, 2.0
    for i in range(n):
        a, b = b * 0.5 + 1.0, a + x[i]
    return a, b


def swap_ints(x, n):
    k = (x * 10).astype(np.int64)
    a, b = 0, 1
    for i in range(n):
        a, b = b, a + b * k[i]
    return (a, b)


def swap_bools(x, n):
    c = (False, True)
    for i in range(n):
        c = (c[1], x[i] > 0)
    return c


def three_in_a_row(x, n):  # the Python float reaches `a` after two trips
    a, b, c = 0.0, 0.5, 1.0
    for i in range(n):
        a, b, c = b, c, c * x[i]
    return a, b, c


def accumulate(x, n):  # a scalar carry alone: unchanged
    s = 0.0
    for i in range(n):
        s = s + x[i]
    return s


def while_swap(x, n):  # a trip count known only at run time
    a, b = 0.0, 1.0
    i = 0
    while i < x.shape[0] and x[i] < 1.5:
        a, b = b, a + b * x[i]
        i += 1
    return a, b, i


FORMS = [swap_floats, tuple_floats, derived_float, swap_ints, swap_bools, three_in_a_row, accumulate, while_swap]


def _types(r):
    return tuple(type(v) for v in r) if isinstance(r, tuple) else type(r)


def _check(f, x, n, backend="interpret"):
    want = f(x.copy(), n)
    got = looptrace.jit(f, backend=backend)(x.copy(), n)
    assert _types(got) == _types(want), (f.__name__, n)
    np.testing.assert_equal(got, want)


@pytest.mark.parametrize("f", FORMS, ids=lambda f: f.__name__)
def test_types_after_zero_one_and_many_trips(f):
    rng = np.random.default_rng(0)
    for n in (0, 1, 2, 3, 5):
        _check(f, rng.standard_normal(6), n)


def test_while_loop_of_run_time_trips():
    for x in ([2.0, 0.1], [0.3, 2.0, 0.1], [0.2, 0.4, 2.0], [0.1, 0.2, 0.3, 0.4]):
        _check(while_swap, np.array(x), 0)


def test_static_trip_count():  # range(x.shape[0]): each length its own trace
    def f(x):
        return swap_floats(x, x.shape[0])
    for n in (0, 1, 2, 4):
        _check(lambda x, _: f(x), np.random.default_rng(n).standard_normal(n), 0)


def test_cpu():
    rng = np.random.default_rng(1)
    for n in (0, 1, 4):
        _check(tuple_floats, rng.standard_normal(5), n, backend="cpu")
