"""Warm calls with static arguments that are not numbers (api.py
`_key_plan`'s values): a flag, a mode string, None, a tuple of ints, a
function default. They are keyed by value (functions by identity), so a
call with another value never runs a program made for the first, and a
repeated call takes the warm path instead of the general one (~28 us a call
before, ~1-2 us after: bench/array_speed.py's harness passed its function as
a default)."""
import numpy as np
import pytest

import looptrace


def _square(v):
    return v * v


def _cube(v):
    return v * v * v


def program(x, flag=True, mode="a", fn=_square, shape=(2, 3), none=None):
    y = fn(x)
    if flag:
        y = y + 1
    if mode == "b":
        y = y * 10
    if none is not None:
        y = y - 100
    return y.sum() + np.zeros(shape).size


CALLS = [dict(), dict(flag=False), dict(mode="b"), dict(fn=_cube), dict(shape=(4,)), dict(none=1),
         dict(flag=np.True_), dict(flag=np.False_), dict(mode="b", flag=False), dict(fn=_square, shape=(1, 1))]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_each_static_value_gets_its_own_program(backend, rng):
    x = rng.standard_normal(5)
    f = looptrace.jit(program, backend=backend)
    calls = CALLS if backend == "interpret" else [dict(), dict(mode="b"), dict(fn=_cube)]
    for kw in calls * 2 + calls[::-1]:
        assert f(x, **kw) == program(x, **kw), kw
    positional = (x, False, "b", _cube, (3,), None)
    assert f(*positional) == program(*positional)


def test_a_function_default_takes_the_warm_path_and_sees_new_defaults(rng):
    def g(x, fn=_square):
        return fn(x) + 1.0

    x = rng.standard_normal(6)
    f = looptrace.jit(g, backend="cpu")
    np.testing.assert_array_equal(f(x), g(x))
    np.testing.assert_array_equal(f(x), g(x))
    assert f._mono is not None and len(f._fast) == 1  # (the general path keeps no warm entry)
    g.__defaults__ = (_cube,)
    np.testing.assert_array_equal(f(x), g(x))
    np.testing.assert_array_equal(f(x, _square), x * x + 1.0)
