"""Big ints nothing reads, in every loop form; iterators consumed inside traced
loops and branches (session 47).

1. A Python int past 64 bits that nothing reads (Fibonacci's last `b`) raised
   BigIntError in a `while` loop, with a data-dependent `break`, under an
   `if`, in a nest: its check now moves to where the value is read, a flag
   carried beside it through branches and loops (tracer/python_numbers.py
   `_Deferred`); a value read (returned, compared, stored, used by arithmetic
   whose result is read) still raises.
2. sum(it), list(it), it.__next__(), zip(it, ...), any(... for v in it) of
   an iterator made before a traced loop or branch took its items once for all
   iterations (wrong values): refused as next() is, or run as Python where the
   loop is short (tracer/iteration.py `check_passed`, runtime.comp_iter); any()
   of traced items leaves the iterator where only the run knows.
"""

from __future__ import annotations

import numpy as np
import pytest

import looptrace
from looptrace.errors import BigIntError, LooptraceError

from ._compare import assert_same, check

rng = np.random.default_rng(47)


def _positive(n=100):
    return rng.random(n) + 0.5


# --- 1. big ints nothing reads ------------------------------------------------------------------
def fib_while(n):
    a, b = 0, 1
    i = 0
    while i < n:
        a, b = b, a + b
        i += 1
    return a


def fib_break(x, n):
    a, b = 0, 1
    for i in range(n):
        if x[i] < 0:
            break
        a, b = b, a + b
    return a


def fib_while_break(x, n):
    a, b = 0, 1
    i = 0
    while i < n:
        if x[i] < 0:
            break
        a, b = b, a + b
        i += 1
    return a


def fib_nested(m, n):
    t = 0
    for _ in range(m):
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        t += a % 7
    return t


def fib_under_if(x, n):
    a, b = 0, 1
    for i in range(n):
        if x[i] > 0:
            a, b = b, a + b
    return a


def fib_dead_use(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
        c = b * 3  # noqa: F841  (never read: plain makes a big int and drops it)
    return a


def fib_list(n):
    a, b = 0, 1
    out = []
    for _ in range(n):
        a, b = b, a + b
        out.append(a)
    return out


def fib_array(n):
    out = np.zeros(n, np.int64)
    a, b = 0, 1
    for i in range(n):
        a, b = b, a + b
        out[i] = a
    return out


def fib_array_b(n):
    out = np.zeros(n, np.int64)
    a, b = 0, 1
    for i in range(n):
        a, b = b, a + b
        out[i] = b
    return out


def fib_compared(n):
    a, b = 0, 1
    i = 0
    while i < n:
        a, b = b, a + b
        i += 1
    return a, b > 0


def fib_tested(limit):
    a, b = 0, 1
    while b < limit:
        a, b = b, a + b
    return a


def test_unread_big_ints_do_not_raise():
    x = _positive()
    broken = x.copy()
    broken[50] = -1.0
    mixed = rng.standard_normal(100)
    for n in (0, 1, 10, 92):
        check(fib_while, n)
        check(fib_break, x, n)
        check(fib_while_break, x, n)
        check(fib_under_if, x, n)
        check(fib_dead_use, n)
        check(fib_list, n)
        check(fib_array, n)
    check(fib_break, broken, 93)
    check(fib_while_break, broken, 93)
    check(fib_under_if, mixed, 100)
    check(fib_nested, 3, 92)
    check(fib_array_b, 91)
    check(fib_compared, 91)
    check(fib_tested, 2**62)
    # the 93rd b is made in no iteration: the break comes first (its check is where the next sum reads it)
    stop = x.copy()
    stop[92] = -1.0
    check(fib_break, stop, 100)
    check(fib_while_break, stop, 100)


@pytest.mark.parametrize("f, args", [(fib_while, (93,)), (fib_break, (None, 93)), (fib_while_break, (None, 93)),
                                     (fib_under_if, (None, 93)), (fib_nested, (2, 93)), (fib_dead_use, (93,)),
                                     (fib_list, (93,)), (fib_compared, (92,)), (fib_tested, (2**63 - 1,))])
def test_read_big_ints_still_raise(f, args):
    args = tuple(_positive() if a is None else a for a in args)
    f(*args)  # plain makes a big int, and reads it
    with pytest.raises(BigIntError, match="past 64 bits") as e:
        looptrace.jit(f, backend="interpret")(*args)
    assert "a, b = b, a + b" in str(e.value)


@pytest.mark.parametrize("f, n", [(fib_array, 93), (fib_array_b, 92)])
def test_stored_big_ints_raise_overflow_as_numpy(f, n):
    with pytest.raises(OverflowError):
        f(n)  # NumPy cannot store the big int in an int64 array
    with pytest.raises(OverflowError, match="past 64 bits"):
        looptrace.jit(f, backend="interpret")(n)


# --- 2. iterators consumed inside traced loops and branches -------------------------------------
def sum_in_loop(x):
    it = iter(x)
    s = 0.0
    for i in range(x.shape[0] - 2):
        if i == 1:
            s += sum(it)
        s += x[i]
    return s


def list_in_loop(x):
    it = iter(x)
    s = 0.0
    for _ in range(x.shape[0] - 2):
        s += len(list(it))
    return s


def dunder_next(x):
    it = iter(x)
    s = 0.0
    for _ in range(x.shape[0] - 2):
        s += it.__next__()
    return s


def zip_in_loop(x):
    it = iter(x)
    s = 0.0
    for _ in range(x.shape[0] - 2):
        for a, b in zip(it, x):
            s += a * b
            break
    return s


def _take(it):
    return it.__next__()


def helper_takes(x):
    it = iter(x)
    s = 0.0
    for _ in range(x.shape[0] - 2):
        s += _take(it)
    return s


def generator_summed(x):
    g = (v * 2 for v in x)
    s = 0.0
    for _ in range(x.shape[0] - 2):
        s += max(g, default=0.0)
    return s


def any_in_loop(x):
    it = iter(x)
    s = 0
    for _ in range(x.shape[0] - 2):
        s += any(v > 0 for v in it)
    return s


def sum_in_while(x):
    it = iter(x)
    s = 0.0
    i = 0
    while s < 100 and i < x.shape[0]:
        s += sum(it) + 1
        i += 1
    return s


LOOPS = [sum_in_loop, list_in_loop, dunder_next, zip_in_loop, helper_takes, generator_summed, sum_in_while]


@pytest.mark.parametrize("f", LOOPS + [any_in_loop])
def test_long_loops_consuming_an_outer_iterator_are_refused(f):
    with pytest.raises(LooptraceError, match="advanced inside the loop") as e:
        looptrace.jit(f, backend="interpret")(rng.standard_normal(80))
    assert "test_numbers_iters_s47.py" in str(e.value)


@pytest.mark.parametrize("f", [g for g in LOOPS if g is not sum_in_while])
def test_short_loops_consuming_an_outer_iterator_run_as_python(f):
    for n in (3, 6):
        check(f, rng.standard_normal(n) + 0.3)


def sum_in_branch(x):
    it = iter(x)
    s = 0.0
    if x[0] > 0:
        s = sum(it)
    return s, next(it, -1.0)


def listed_in_branch(x):
    it = iter(x)
    n = 0
    if x[0] > 0:
        n = len(list(it))
    return n, next(it, -1.0)


def dunder_in_branch(x):
    it = iter(x)
    s = 0.0
    if x[0] > 0:
        s = it.__next__()
    return s, next(it)


def and_next(x):
    it = iter(x)
    s = 0.0
    if x[0] > 0 and next(it, 0.0) > 0:
        s = 1.0
    return s, next(it)


def any_then_next(x):
    it = iter(x)
    a = any(v > 1 for v in it)
    return a, next(it, -1.0)


def any_of_iterator_then_next(x):
    it = iter(x)
    a = any(it)
    return a, next(it, -1.0)


@pytest.mark.parametrize("f, match", [(sum_in_branch, "passed to sum\\(\\)"), (listed_in_branch, "list\\(\\)"),
                                      (dunder_in_branch, "__next__"), (and_next, "under a condition"),
                                      (any_then_next, "any\\(\\) of traced items"),
                                      (any_of_iterator_then_next, "any\\(\\) of traced items")])
def test_branches_consuming_an_outer_iterator_are_refused(f, match):
    for first in (-1.0, 1.0):  # (plain takes items on one side only)
        x = rng.standard_normal(6)
        x[0] = first
        f(x.copy())
        with pytest.raises(LooptraceError, match=match) as e:
            looptrace.jit(f, backend="interpret")(x)
        assert "test_numbers_iters_s47.py" in str(e.value)


def zipped_after_next(x):
    it = iter(x)
    next(it)
    s = 0.0
    for a, b in zip(it, x):
        s += a * b
    return s


def any_exhausts(x):
    it = iter(x)
    return any(v > 1 for v in it)


def summed_before_loop(x):
    it = iter(x)
    t = sum(it)
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * t
    return s, next(it, -1.0)


def test_iterators_outside_traced_loops_match_plain():
    for n in (5, 80):
        x = rng.standard_normal(n)
        for f in (zipped_after_next, any_exhausts, summed_before_loop):
            check(f, x)


# --- one cpu kernel: a while loop with a break whose last b is unread; a short loop taking items ---
def test_cpu_kernel():
    def kernel(x, n):
        a, b = 0, 1
        i = 0
        while i < n:
            if x[i] < 0:
                break
            a, b = b, a + b
            i += 1
        it = iter(x)
        t = 0.0
        for k in range(3):
            t += it.__next__() * k
        return a, t, sum(it)

    x = _positive()
    broken = x.copy()
    broken[40] = -1.0
    f = looptrace.jit(kernel, backend="cpu")
    for args in ((x, 92), (broken, 93), (x, 0)):
        assert_same(f(args[0].copy(), args[1]), kernel(args[0].copy(), args[1]), rtol=1e-12)
    with pytest.raises(BigIntError, match="a, b = b, a \\+ b"):
        f(x.copy(), 93)
