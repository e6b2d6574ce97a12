"""A conditional expression nested in a side of another, whose Python-int
result the outer choice converts to float (found by test_generated_mixed's
cuda example in session 48's CI run): the outer choice's exactness check
(tracer/kinds.exact_choice) read the inner choice's result after its branch
had closed, an IR verification error on every backend. The inner `cond`'s
results now belong to the side that made them (control.choose)."""
import math

import numpy as np
import pytest

import looptrace as lt

from .test_generated_mixed import check_program


def floor_either_way(x, out):
    for i in range(x.shape[0]):
        out[i] = out[i - 1] * 0.5 + (math.floor(x[i]) if x[i] > 0 else -math.floor(x[i])) if i > 0 else (
            math.floor(x[i]) if x[i] > 0 else -math.floor(x[i]))
    return out


def nested_int_choice(x):
    v = (math.floor(x[0]) if x[1] > 0 else -math.floor(x[0])) if x[2] > 0 else 0.5
    return v * 2


@pytest.mark.parametrize("n", [1, 2, 7])
def test_nested_choice_of_python_ints_matches_plain(n, rng):
    x, out = rng.standard_normal(n) * 10, rng.standard_normal(n)
    want, got = out.copy(), out.copy()
    floor_either_way(x, want)
    lt.jit(floor_either_way, backend="interpret")(x, got)
    np.testing.assert_array_equal(got, want)


def test_nested_int_choice_as_a_value(rng):
    f = lt.jit(nested_int_choice, backend="interpret")
    for signs in [(1, 1, 1), (1, -1, 1), (1, 1, -1), (-1, -1, 1)]:
        x = np.abs(rng.standard_normal(3)) * 10 * np.array(signs)
        assert f(x) == nested_int_choice(x)


def test_the_generated_example():
    src = ("def f(x, y, idx, out):\n    n = x.shape[0]\n    acc = 0.0\n    m = -1e300\n    cnt = 0\n"
           "    for i in range(n):\n        out[i] = out[i - 1] * 0.5 + (math.floor(x[i]) if x[i] > 0 else "
           "-math.floor(x[i])) if i > 0 else (math.floor(x[i]) if x[i] > 0 else -math.floor(x[i]))\n"
           "    return out, acc, m, cnt\n")
    for n in (1, 5):
        check_program(src, n, 0, "interpret")
