"""Lists grown in traced loops (tracer/carries.py, grown.py), probes O, P
and Q: appends in a loop nested in another whose trip count changes with
the outer index, or whose outer loop has a traced `break`; math.prod,
math.fsum, statistics.* and other library functions given such a list; a
generator that unpacks the tuples such a list holds. Each compared with the
plain function on the interpreter and cpu, or a clear error naming the line."""
import copy
import functools
import math
import operator
import statistics

import numpy as np
import pytest

import looptrace
from looptrace import UnsupportedError

BACKENDS = ["interpret", "cpu"]


def _same(got, want):
    want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert type(g) is type(w)
        np.testing.assert_allclose(g, w, rtol=1e-12)


# --- probe Q: a triangular nest appends (a trip count that changes with the outer index) -----------
def triangle(x):
    n = x.shape[0]
    lst = []
    for i in range(1, n):
        for j in range(i, n, 2):
            lst.append(x[j])
    return np.array(lst)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_triangular_nest_appends_when_its_outer_range_is_short(rng, backend):
    """The inner loop's length changes with `i`: a short static outer range
    runs as Python (i an int) instead of `int * Dim` inside carries.py."""
    for n in (2, 5, 9):
        x = rng.standard_normal(n) + 3.0
        _same(looptrace.jit(triangle, backend=backend)(x), triangle(x))


def test_a_triangular_nest_too_long_to_unroll_names_the_append(rng):
    x = rng.standard_normal(100) + 3.0
    with pytest.raises(UnsupportedError, match="changes from one iteration of an enclosing loop") as e:
        looptrace.jit(triangle, backend="interpret")(x)
    assert e.value.loc is not None and e.value.loc.file == __file__
    assert "lst.append(x[j])" in str(e.value)


# --- probe Q: a traced `break` in the outer loop, appends in the inner one ------------------------------
def break_outer(x):
    lst = []
    for i in range(x.shape[0]):
        if x[i] < -0.3:
            break
        for j in range(3):
            lst.append(x[j] * i)
    return len(lst), np.array(lst), np.sum(np.array(lst))


def break_outer_empty(x):
    lst = []
    for i in range(0):
        if x[i] > 0:
            break
        for j in range(0):
            lst.append(x[j])
    return len(lst)


def break_outer_both(x):
    lst = []
    for i in range(x.shape[0]):
        if x[i] < -0.3:
            break
        lst.append(x[i])
        for j in range(2):
            lst.append(x[j] + i)
    return len(lst), np.array(lst)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_break_in_the_outer_loop_of_nested_appends(rng, backend):
    """The outer list becomes a buffer (the break): the inner loop's stack is
    written into it at the count (before, the list had no element type and
    `_to_buffer` failed on unpacking None)."""
    for _ in range(4):
        x = rng.standard_normal(8)
        for fn in (break_outer, break_outer_both):
            _same(looptrace.jit(fn, backend=backend)(x), fn(x))
    x = rng.standard_normal(3)
    _same(looptrace.jit(break_outer_empty, backend=backend)(x), break_outer_empty(x))


# --- probe O: library functions given a grown list ------------------------------------------------------
def prod_of_grown(x):
    acc = []
    for v in x:
        acc.append(float(v))
    return math.prod(acc), math.prod(acc, start=2.0)


def reduce_of_grown(x):
    acc = []
    for i in range(x.shape[0]):
        acc.append(x[i] * 2.0)
    return functools.reduce(operator.add, acc)


@pytest.mark.parametrize("backend", BACKENDS)
def test_math_prod_and_reduce_of_a_grown_list_read_its_elements(rng, backend):
    x = rng.random(5) + 0.5
    _same(looptrace.jit(prod_of_grown, backend=backend)(x), prod_of_grown(x))
    _same(looptrace.jit(reduce_of_grown, backend=backend)(x), reduce_of_grown(x))


def fsum_of_grown(x):
    acc = []
    for v in x:
        acc.append(float(v))
    return math.fsum(acc)


def mean_of_grown(x):
    acc = []
    for v in x:
        acc.append(float(v))
    return statistics.mean(acc)


def median_of_items(x):
    return statistics.median(x[i] for i in range(3))


def test_fsum_of_a_grown_list_is_pythons(rng):
    """math.fsum reads the grown list's stack (ops/fsum.py, session 53; it was refused)."""
    x = rng.random(4) + 0.5
    assert looptrace.jit(fsum_of_grown, backend="interpret")(x) == fsum_of_grown(x)


@pytest.mark.parametrize("fn, what", [(mean_of_grown, "statistics.mean"),
                                      (median_of_items, "statistics.median")])
def test_fsum_and_statistics_of_traced_values_fail_clearly(rng, fn, what):
    """The statistics module computes with exact fractions: refused, naming
    the line (before: raw TypeErrors about Segment and GrownElement)."""
    x = rng.random(4) + 0.5
    fn(x)
    with pytest.raises(UnsupportedError, match=what) as e:
        looptrace.jit(fn, backend="interpret")(x)
    assert e.value.loc is not None and e.value.loc.file == __file__


def mean_of_numbers(x):
    return statistics.mean([1.0, 2.5]) + x[0]


def test_statistics_of_python_numbers_still_runs(rng):
    x = rng.random(3)
    _same(looptrace.jit(mean_of_numbers, backend="interpret")(x), mean_of_numbers(x))


# --- probe P: a generator unpacking a grown list of tuples --------------------------------------------
def sum_of_products(x):
    parts = []
    for i in range(x.shape[0]):
        parts.append((x[i], x[i] ** 2))
    return sum(a * b for a, b in parts)


def comprehension_of_grown(x):
    parts = []
    for i in range(x.shape[0]):
        parts.append(x[i] * 3.0)
    return [v + 1.0 for v in parts], sum(v * v for v in parts), max(v for v in parts)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_comprehension_over_a_grown_list_reads_its_elements(rng, backend):
    """Python's iteration of the list gave the segment object, which `a, b`
    unpacked as if it were written in place ("changed in place (`lst[k] +=
    v`)"); the comprehension now iterates the list's elements."""
    x = rng.standard_normal(5)
    _same(looptrace.jit(sum_of_products, backend=backend)(x), sum_of_products(x))
    got, want = looptrace.jit(comprehension_of_grown, backend=backend)(x), comprehension_of_grown(x)
    assert len(got[0]) == len(want[0])
    _same(tuple(got[0]), tuple(want[0]))
    _same(got[1:], want[1:])
    assert np.allclose(looptrace.grad(looptrace.jit(sum_of_products, backend=backend))(x), 3 * x ** 2)


def comprehensions_of_a_long_list(x):
    acc = []
    ints = []
    for i in range(x.shape[0]):
        acc.append(x[i] * 2.0)
        ints.append(i)
    return (np.array([v + 1.0 for v in acc]), sum(v * v for v in acc), any(v > 1.9 for v in acc),
            sum(k for k in ints), [k * 2 for k in ints][-1])


def truths_of_a_short_list(x):
    acc = []
    for i in range(x.shape[0]):
        acc.append(i)
    return sum(k for k in acc), all(k >= 0 for k in acc), any(k > 2 for k in acc), [k * 2 for k in acc]


@pytest.mark.parametrize("backend", BACKENDS)
def test_comprehensions_over_a_grown_list_are_traced_loops_over_its_stack(rng, backend):
    """A list of more than grown.EXPAND_MAX elements is iterated as its stack
    (as `for v in parts` is), not expanded; the Python ints appended read
    back as Python ints."""
    x = rng.random(300) + 0.5
    got, want = looptrace.jit(comprehensions_of_a_long_list, backend=backend)(x), comprehensions_of_a_long_list(x)
    _same(got, want)
    x = rng.random(5) + 0.5
    got, want = looptrace.jit(truths_of_a_short_list, backend=backend)(x), truths_of_a_short_list(x)
    _same(got[:3], want[:3])
    assert got[3] == want[3] and [type(v) for v in got[3]] == [type(v) for v in want[3]]


def extended_and_copied(x):
    acc = []
    for i in range(x.shape[0]):
        acc.append(x[i] * 2.0)
    out = [x[0]]
    out.extend(acc)
    return np.array(out), np.array(copy.copy(acc))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_list_method_or_copy_stores_a_long_grown_list_as_it_is(rng, backend):
    """Library functions get a grown list's elements, but a list's methods
    and `copy` store them unread: not expanded (past grown.EXPAND_MAX that
    would be refused)."""
    x = rng.random(300) + 0.5
    _same(looptrace.jit(extended_and_copied, backend=backend)(x), extended_and_copied(x))
