"""Iterating a number is Python's TypeError (brief D2, session 42): `for v in x`,
sum(x), max(x), any(x), math.prod(x), list(x) of a Python float or int raise
"'float' object is not iterable", of a NumPy scalar "'numpy.float64' object is
not iterable", of a 0-d array NumPy's "iteration over a 0-d array"; the
user's line is in a note."""
import math

import numpy as np
import pytest

import looptrace


def loop(x):
    s = 0.0
    for v in x:
        s += v
    return s


def loop_enumerate(x):
    s = 0.0
    for i, v in enumerate(x):
        s += v * i
    return s


FUNCTIONS = [loop, loop_enumerate, lambda x: sum(x), lambda x: max(x), lambda x: any(x),
             lambda x: math.prod(x), lambda x: list(x)]
ARGS = [1.5, 3, np.float64(2.5), np.float32(1.0), np.int64(4), np.array(1.5)]


def _plain_error(fn, x):
    with pytest.raises(TypeError) as e:
        fn(x)
    return str(e.value)


@pytest.mark.parametrize("k", range(len(FUNCTIONS)))
@pytest.mark.parametrize("x", ARGS, ids=repr)
def test_iterating_a_number_is_pythons_type_error(k, x):
    fn = FUNCTIONS[k]
    message = _plain_error(fn, x)
    with pytest.raises(TypeError) as e:
        looptrace.jit(fn, backend="interpret")(x)
    assert type(e.value) is TypeError and str(e.value) == message
    assert any("test_iterating_numbers_s42.py" in n for n in getattr(e.value, "__notes__", []))


@pytest.mark.parametrize("x", [1.5, np.float64(2.5)], ids=repr)
def test_iterating_a_number_cpu(x):
    message = _plain_error(loop, x)
    with pytest.raises(TypeError, match="object is not iterable") as e:
        looptrace.jit(loop, backend="cpu")(x)
    assert str(e.value) == message
