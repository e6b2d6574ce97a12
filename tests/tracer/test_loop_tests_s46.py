"""Loops whose test or body calls next(), big ints never read, product nests
whose names change dtype (session 46).

1. next() of an iterator made before a loop took one item for all the
   iterations of the traced loop: `while (v := next(it)) > 0` gave 1.0 where
   plain gave 3.0, `while next(g) < 3` over a range never ended at run time.
   Such a loop now runs as Python (unrolled) where its iterations are known
   while tracing (a short range, a test of Python values), and is refused
   otherwise, naming the line (tracer/iteration.py); so is next() under a
   traced condition, and after a `for` over the iterator with a traced break.
2. A Python int past 64 bits that is never read (Fibonacci's last `b`) raised
   BigIntError; the check now skips a carry's last iteration when the loop's
   result for it is not read (tracer/python_numbers.py `_Reads`).
3. An itertools.product / np.ndindex nest whose body widens a NumPy int
   accumulator raised WidensInLoop; each level now peels its first
   iteration as a plain `for` nest does (control._nested_for).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import looptrace
from looptrace.errors import BigIntError, LooptraceError

from ._compare import assert_same, check

rng = np.random.default_rng(46)


# --- 1. next() in a loop's test or body --------------------------------------------------------------
def walrus(x):
    it = iter(x)
    s = 0.0
    while (v := next(it)) > 0:
        s += v
    return s


def walrus_default(x):
    it = iter(x)
    s = 0.0
    while (v := next(it, -1.0)) > 0:
        s += v
    return s


def gen_test(x):
    g = (v * 2 for v in x)
    c = 0
    while next(g, 100.0) < 3:
        c += 1
    return c


@pytest.mark.parametrize("f", [walrus, walrus_default, gen_test])
def test_traced_test_taking_items_is_refused(f):
    x = np.array([1.0, 2.0, -1.0, 4.0]) + rng.random(4) * 0.1
    with pytest.raises(LooptraceError, match="advanced inside the loop") as e:
        looptrace.jit(f, backend="interpret")(x)
    assert "test_loop_tests_s46.py" in str(e.value) and "next(" in str(e.value)


def range_test(n):
    g = iter(range(n))
    c = 0
    while next(g) < 3:
        c += 1
    return c, next(g)


def range_default(n):
    g = iter(range(n))
    c = 0
    while next(g, 99) < 5:
        c += 1
    return c


def caught(x):
    it = iter(x)
    s = 0.0
    while True:
        try:
            v = next(it)
        except StopIteration:
            break
        s += v
    return s


def generator_for(x):
    g = (v * 2 for v in x)
    s = 0.0
    for v in g:
        s += v
    return s


def for_after_next(x):
    it = iter(x)
    a = next(it)
    b = next(it)
    s = 0.0
    for v in it:
        s += v
    return a, b, s


def short_range(x):
    it = iter(x)
    s = 0.0
    for i in range(3):
        s += next(it) * i
    return s, next(it)


def _take(it):
    return next(it)


def through_helper(x):
    it = iter(x)
    s = 0.0
    k = 0
    while k < 3:
        s += _take(it)
        k += 1
    return s


def made_in_body(X):
    s = 0.0
    for i in range(X.shape[0]):
        it = iter(X[i])
        a = next(it)
        b = next(it)
        s += a * b
    return s


def zipped(x):
    z = iter(zip(x, x[::-1]))
    s = 0.0
    for _ in range(2):
        a, b = next(z)
        s += a - b
    return s


def inner_for_takes_one(x):
    it = iter(x)
    s = 0.0
    for i in range(3):
        for v in it:  # (Python takes one item, then breaks: no second item is taken)
            s += v * (i + 1)
            break
    return s, next(it)


def held_in_list(x):
    its = [iter(x)]
    s = 0.0
    for _ in range(3):
        s += next(its[0])
    return s


def traced_break(x):
    it = iter(x)
    s = 0.0
    for v in it:
        if v > 0.5:
            break
        s += v
    return s


def test_python_tests_and_short_loops_match_plain():
    x = rng.standard_normal(6)
    for n in (5, 10):
        check(range_test, n)
    for n in (3, 8):
        check(range_default, n)
    for f in (caught, generator_for, for_after_next, short_range, through_helper, zipped, inner_for_takes_one,
              held_in_list, traced_break):
        check(f, x)
    check(taken_then_tested, np.array([0.1, 0.9, 0.9, 0.3]))  # (next() before the `if`: taken on every path)
    check(made_in_body, rng.standard_normal((70, 3)))
    # an iterator made in the body is the body's own: the loop is still traced once
    assert "unrolled" not in str(looptrace.explain(made_in_body, rng.standard_normal((70, 3))))


def uncaught(x):
    it = iter(x)
    s = 0.0
    while True:
        v = next(it)
        s += v
    return s


def test_uncaught_stop_iteration_raises_as_plain():
    x = rng.standard_normal(4)
    with pytest.raises(StopIteration):
        uncaught(x)
    with pytest.raises(StopIteration):
        looptrace.jit(uncaught, backend="interpret")(x)


def long_range(x):
    it = iter(x)
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += next(it) * i
    return s


def over_array(x):
    it = iter(x)
    s = 0.0
    for v in x[:3]:
        s += v * next(it)
    return s


def after_traced_break(x):
    it = iter(x)
    s = 0.0
    for v in it:
        if v > 0.5:
            break
        s += v
    return s, next(it, -1.0)


def under_condition(x):
    it = iter(x)
    s = 0.0
    for i in range(3):
        if x[i] > 0.5:  # (plain takes an item only where this holds)
            s += next(it)
    return s


def under_ternary(x):
    it = iter(x)
    s = 0.0
    for i in range(3):
        s += next(it) if x[i] > 0.5 else 0.0
    return s


def taken_then_tested(x):
    it = iter(x)
    s = 0.0
    for i in range(3):
        v = next(it)
        if x[i] > 0.5:
            s += v
    return s


def next_of_zip(x):
    z = zip(x, x)
    a, b = next(z)
    return a + b


@pytest.mark.parametrize("f, match", [(long_range, "advanced inside the loop"), (over_array, "advanced inside"),
                                      (next_of_zip, "next\\(\\) of zip\\(\\)"),
                                      (after_traced_break, "known at run time only"),
                                      (under_condition, "under a condition"), (under_ternary, "under a condition")])
def test_loops_that_cannot_take_items_are_refused(f, match):
    with pytest.raises(LooptraceError, match=match) as e:
        looptrace.jit(f, backend="interpret")(rng.standard_normal(80))
    assert "test_loop_tests_s46.py" in str(e.value)


# --- 2. big ints that are never read ---------------------------------------------------------------
def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def fib_down(n):
    a, b = 0, 1
    for _ in range(n, 0, -1):
        a, b = b, a + b
    return a


def fib_both(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a, b


def fib_compared(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a, b > 0


def factorial_before(n):
    t = 1
    u = 1
    for i in range(1, n + 1):
        u = t
        t *= i
    return u


def dead_product(n):
    big = n * n * n  # noqa: F841  (never read: plain Python makes a big int and drops it)
    return n + 1


def test_unread_big_ints_do_not_raise():
    for n in (0, 1, 10, 92):
        check(fib, n)
        check(fib_down, n)
    check(factorial_before, 21)
    check(dead_product, 2**30)


@pytest.mark.parametrize("f, n", [(fib, 93), (fib_down, 93), (fib_both, 92), (fib_compared, 92),
                                  (factorial_before, 22)])
def test_read_big_ints_still_raise(f, n):
    f(n)  # plain makes a big int
    with pytest.raises(BigIntError, match="past 64 bits"):
        looptrace.jit(f, backend="interpret")(n)


# --- 3. a product / ndindex nest that widens a name -------------------------------------------------
def product_widens(x, n):
    s = x[0]
    for i, j in itertools.product(range(n), range(2)):
        s = s * 0.5 + x[i] * j
    return s


def nest_widens(x, n):
    s = x[0]
    for i in range(n):
        for j in range(2):
            s = s * 0.5 + x[i] * j
    return s


def ndindex_widens(x):
    s = x[0]
    for i, j in np.ndindex(x.shape[0], 3):
        s = s / 2 + i * j
    return s


def product_int_to_float(n):
    s = 0
    for i, j in itertools.product(range(n), range(2)):
        s = s + i * j
        if i == 1:
            s = s / 2
    return s


def test_product_nest_widening_matches_plain():
    x = rng.integers(0, 9, 6)
    for n in (0, 1, 5):
        check(product_widens, x, n)
        assert_same(looptrace.jit(product_widens, backend="interpret")(x, n), nest_widens(x, n))
    check(ndindex_widens, x)
    check(product_int_to_float, 5)


# --- one cpu kernel: an unread big int, a widening product nest, a short loop taking items -----------
def test_cpu_kernel():
    def kernel(x, n, m):
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        s = x[0]
        for i, j in itertools.product(range(m), range(2)):
            s = s * 0.5 + x[i] * j
        it = iter(x)
        t = 0.0
        for k in range(3):
            t += next(it) * k
        return a, s, t

    x = rng.integers(0, 9, 6)
    f = looptrace.jit(kernel, backend="cpu")
    for n, m in ((92, 5), (10, 1), (0, 3)):
        assert_same(f(x.copy(), n, m), kernel(x.copy(), n, m))
    with pytest.raises(BigIntError, match="a, b = b, a \\+ b"):
        f(x.copy(), 93, 2)
