"""A short list of numbers updated at a traced index (`sums[k] += x[i]`,
`counts = [0] * 3; counts[labels[i]] += 1`): each element is the value
where the index names it, else what it was, its Python type kept; the list
is carried through loops element by element (carries.NumberList), and an
index out of range raises Python's IndexError. Before (session-35 probe
I), a ConcreteIndexError whose hint pointed at static_argnames."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt

from .test_result_types_loops import check


def group_means(x, labels):
    sums = [0.0, 0.0, 0.0]
    counts = [0] * 3
    for i in range(x.shape[0]):
        k = labels[i]
        sums[k] += x[i]
        counts[k] += 1
    means = np.zeros(3)
    for k in range(3):
        if counts[k] > 0:
            means[k] = sums[k] / counts[k]
    return means, counts[0], counts[1], counts[2], sums


def last_from_the_end(x, labels):
    best = [-1.0, -1.0]
    for i in range(x.shape[0]):
        best[labels[i] - 2] *= 0.5
        best[-1] -= x[i]
    return best[0], best[1], best


def out_of_range(x, labels):
    acc = [0, 0]
    for i in range(x.shape[0]):
        acc[labels[i]] += 1
    return acc[0]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 9))
def test_group_sums_in_a_list(seed, n):
    r = np.random.default_rng(seed)
    check(group_means, (r.standard_normal(n), r.integers(0, 3, n)))
    check(last_from_the_end, (r.standard_normal(n), r.integers(0, 2, n)))


def test_on_cpu():
    r = np.random.default_rng(1)
    check(group_means, (r.standard_normal(20), r.integers(0, 3, 20)), backend="cpu")


def test_an_index_out_of_range_raises():
    x = np.ones(3)
    with pytest.raises(IndexError):
        out_of_range(x, np.array([0, 2, 1]))
    with pytest.raises(IndexError, match="list index out of range"):
        lt.jit(out_of_range, backend="interpret")(x, np.array([0, 2, 1]))
    assert lt.jit(out_of_range, backend="interpret")(x, np.array([0, 1, 0])) == 2


def tuple_work_stack(x):
    stack = [(0.0, x)]
    n = 0
    while stack:
        lo, hi = stack.pop()
        n += 1
        if hi - lo > 1.0:
            mid = 0.5 * (lo + hi)
            stack.append((lo, mid))
            stack.append((mid, hi))
    return n


def test_a_list_of_tuples_changed_in_a_traced_loop_is_a_work_stack():
    """It changed once, while tracing, and `while stack:` never ended (probe K); refused
    then, a work stack of tuples now (tests/tracer/test_work_stacks.py)."""
    assert tuple_work_stack(5.0) == 15
    assert lt.jit(tuple_work_stack, backend="interpret")(5.0) == 15
