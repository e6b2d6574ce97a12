"""`list(enumerate(x))`, `list(zip(x, y))` and the like outside a `for` of
traced arrays: Python's, over the rows (they raised a raw TypeError,
"'TracedEnumerate' object is not iterable", session-35 probe H)."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad

from .test_result_types_loops import check


def reversed_pairs(x):
    s = 0.0
    for i, v in reversed(list(enumerate(x))):
        s = s * 0.5 + v * i
    return s


def zipped(x, y):
    pairs = list(zip(x, y))
    s = 0.0
    for a, b in pairs:
        s += a * b
    return s, len(pairs)


def enumerated_from(x):
    return [i * v for i, v in list(enumerate(x, 2))][-1]


@pytest.mark.parametrize("fn,make", [
    (reversed_pairs, lambda r: (r.standard_normal(4),)),
    (zipped, lambda r: (r.standard_normal(3), r.standard_normal(3))),
    (enumerated_from, lambda r: (r.standard_normal(5),)),
], ids=["reversed_pairs", "zipped", "enumerated_from"])
def test_listed_iterators(fn, make):
    for seed in range(3):
        check(fn, make(np.random.default_rng(seed)))


def test_gradient_through_a_listed_enumerate():
    x = np.random.default_rng(4).standard_normal(4)
    g = lt.grad(lt.jit(reversed_pairs, backend="interpret"))(x)
    assert_close(g, numerical_grad(reversed_pairs, [x], 0), 1e-6, "reversed_pairs")
