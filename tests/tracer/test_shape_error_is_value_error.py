"""ShapeError is a ValueError, as NumPy's errors for shapes that do not fit
are: code written `except ValueError` catches looptrace's as it catches
NumPy's (probes G and H, session 40: a bad broadcast, max of an empty axis)."""
import numpy as np
import pytest

import looptrace
from looptrace.errors import ShapeError


def bad_broadcast(a, b):
    return a + b


def max_of_empty(a):
    return a[:, :0].max(axis=1)


@pytest.mark.parametrize("f, args", [(bad_broadcast, (np.ones(3), np.ones(4))), (max_of_empty, (np.ones((2, 3)),))])
def test_shape_errors_are_caught_as_value_errors(f, args):
    with pytest.raises(ValueError):
        f(*args)
    with pytest.raises(ValueError) as e:
        looptrace.jit(f, backend="interpret")(*args)
    assert isinstance(e.value, ShapeError) and isinstance(e.value, looptrace.LooptraceError)
