"""`lst.sort()` of a list of traced numbers, as sorted() sorts them (key=,
reverse=), in place: it was refused as "a traced value used as a Python
bool" (each of Python's comparisons asked while tracing). Probe R found it
(a list of floats sorted, then read); values against the plain function."""
import numpy as np
import pytest

import looptrace


def floats_sorted(x):
    lst = [float(v) for v in x[:8]]
    lst.sort()
    return lst[0] + 2.0 * lst[-1], lst


def keyed_reversed(x):
    lst = [x[i] * 2.0 for i in range(6)]
    lst.sort(key=abs, reverse=True)
    return lst


def sorted_then_median(x):
    lst = [x[0], x[3], x[1], x[2], x[4]]
    lst.sort(reverse=False)
    return lst[2], len(lst)


def sorted_twice_with_constants(x):
    lst = [x[1], 0.5, x[0], -1.0]
    lst.sort()
    first = lst[0]
    lst.sort(reverse=True)
    return first, lst


@pytest.mark.parametrize("f", [floats_sorted, keyed_reversed, sorted_then_median, sorted_twice_with_constants])
def test_list_sort_as_python(f, rng):
    x = rng.standard_normal(10)
    np.testing.assert_equal(looptrace.jit(f, backend="interpret")(x), f(x))


def test_list_sort_on_cpu(rng):
    x = rng.standard_normal(10)
    np.testing.assert_equal(looptrace.jit(floats_sorted, backend="cpu")(x), floats_sorted(x))
