"""Loops at their edges (session 45): a counted loop with a `break` (traced
as a while loop) over bounds near the int64 ends ran on after its index
wrapped around (1001 trips, or forever, where plain Python ran 4); Python
ints that leave 64 bits in a loop raise BigIntError naming the line (never a
wrapped value), np.int64 values wrap as NumPy's do; a while loop whose test is
a Python False on entry runs no iteration (it was refused where an iteration
grows a name's shape or changes an array's dtype); a np.ndindex /
itertools.product nest with a level of size 0 runs no iteration (it was
refused where an iteration grows a name's shape)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import looptrace
from looptrace.errors import BigIntError

from ._compare import assert_same, check

BIG = 2**63


# --- 1. a `break` in a range near the int64 ends ---------------------------------------------------
def _counted_break(x, a, b, s):
    c = 0
    last = 0
    for i in range(a, b, s):
        if x[c % x.shape[0]] > 5.0:
            break
        c += 1
        last = i
    return c, last


@pytest.mark.parametrize("a, b, s", [
    (-BIG, BIG - 1, 2**62), (BIG - 1, -BIG, -2**62), (BIG - 1, -BIG, -3 * 2**61), (-BIG, BIG - 1, 3 * 2**61 + 5),
    (BIG - 10, BIG - 1, 4), (-BIG + 9, -BIG, -4), (0, 10, 3), (10, 0, -3), (-BIG, BIG - 1, BIG - 1), (5, 5, 2)])
def test_break_form_counts_trips_near_the_int64_ends(a, b, s):
    x = np.random.default_rng(1).standard_normal(7)
    check(_counted_break, x, a, b, s)  # the break never fires: it hung where the index wrapped
    x[2] = 9.0
    check(_counted_break, x, a, b, s)  # it fires in the third iteration (where the range has one)


# --- 2. Python ints past 64 bits -----------------------------------------------------------------
def _power_of_ten(x, m):
    t = 1
    for i in range(m):
        t *= 10
    return t


def _tripled(x, big):
    n = 1
    while n < big:
        n *= 3
    return n


def _fibonacci(x, m):
    a, b = 0, 1
    for i in range(m):
        a, b = b, a + b
    return a


def _counter_from(x, n0, m):
    n = n0
    for i in range(m):
        if x[i % x.shape[0]] > -10.0:
            n += 1
    return n


def _big_steps(x, m, big):
    a = 0
    for i in range(m):
        a = a - big
    return a


@pytest.mark.parametrize("fn, fits, past", [
    (_power_of_ten, (18,), (25,)), (_tripled, (10**6,), (BIG - 1,)), (_fibonacci, (91,), (93,)),
    (_counter_from, (BIG - 9, 8), (BIG - 3, 5)), (_big_steps, (1, 2**62), (3, 2**62))])
def test_python_int_past_64_bits_raises_at_its_line(fn, fits, past):
    x = np.random.default_rng(2).standard_normal(6)
    check(fn, x, *fits)
    assert abs(fn(x, *past)) >= BIG or fn(x, *past) < -BIG  # plain makes a big int
    with pytest.raises(BigIntError) as info:
        looptrace.jit(fn, backend="interpret")(x, *past)
    assert isinstance(info.value, OverflowError) and "test_loop_edges_s45.py" in str(info.value)


def test_numpy_int64_carry_wraps_as_numpy_does():
    def f(x, m):
        t = np.int64(1)
        for i in range(m):
            t *= 10
        return t

    with np.errstate(over="ignore"):
        check(f, np.ones(3), 25)


# --- 3. a while test that is False on entry --------------------------------------------------------
def _grows(x, n):
    acc = 0.0
    k = 0
    while k < n:
        acc = acc + x
        k += 1
    return acc


def _widens(x, n):
    y = x.astype(np.int8)
    i = 0
    while i < n:
        y = y * 1.5
        i += 1
    return y


def test_while_false_on_entry_keeps_the_entry_values():
    x = np.random.default_rng(3).standard_normal(5) * 4
    for n in (0, 3):
        got = looptrace.jit(_grows, backend="interpret", static_argnames=("n",))(x.copy(), n)
        assert_same(got, _grows(x.copy(), n))  # n = 0: the float 0.0 (was refused: the loop may make none)
        check(_widens, x, n)  # n = 0: int8; the test reads an int argument: specialized on it (was refused)
    e = looptrace.explain(looptrace.jit(_grows, static_argnames=("n",)), x, 0)
    assert [r.kind for r in e.loops] == ["vectorized"] and "no iteration" in e.loops[0].reason

    def shapes(x):
        i, acc = 10, 0
        while i < x.shape[0] and x[i] > 0:
            acc = acc + x[i:]
            i += 1
        return acc, i

    check(shapes, x)


# --- 4. np.ndindex / itertools.product with a size-0 level ---------------------------------------
def test_nest_with_an_empty_level_runs_no_iteration():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((3, 0, 2))

    def grows(A):
        acc = 0.0
        for idx in np.ndindex(A.shape):
            acc = acc + A[idx] * np.ones(3)
        return acc

    def shrinks(A):
        out = A
        for i, j in np.ndindex(A.shape[:2]):
            out = out[..., ::2]
        return out.shape

    def product(A, n):
        s = 0
        rows = 0.0
        for k, (i, j) in enumerate(itertools.product(range(n), range(A.shape[1]))):
            s = s + A[i, j, 0]
            rows = rows + A[i, j]
        return s, rows, n

    for f, args in ((grows, (A,)), (shrinks, (A,)), (product, (A, 3)), (grows, (A[:, :1],)),
                    (product, (rng.standard_normal((3, 4, 2)), 2))):
        check(f, *args)


# --- one cpu kernel: the wide break form and the checked Python-int product ----------------------
def test_cpu_break_form_and_big_ints():
    def kernel(x, a, b, s, m):
        c = 0
        last = 0
        for i in range(a, b, s):
            if x[c % x.shape[0]] > 5.0:
                break
            c += 1
            last = i
        t = 1
        for i in range(m):
            t *= 10
        k = 0
        for i in range(x.shape[0]):
            k += int(x[i] * 100.0)
        return c, last, t, k

    x = np.random.default_rng(5).standard_normal(8)
    f = looptrace.jit(kernel, backend="cpu")
    for args in ((-BIG, BIG - 1, 2**62, 18), (BIG - 1, -BIG, -3 * 2**61, 3), (0, 10, 3, 0), (7, 7, -2, 1)):
        assert_same(f(x.copy(), *args), kernel(x.copy(), *args))
    with pytest.raises(BigIntError, match="t \\*= 10"):
        f(x.copy(), 0, 10, 3, 19)


# --- reversed() of a range with a bound at an end of int64 (its reversed bounds would wrap) ---------
def _reversed_count(x, a, b):
    c = 0
    s = 0.0
    for i in reversed(range(a, b)):
        c += 1
        s = s * 0.5 + x[i % x.shape[0]]
        if c > 5:
            break
    return c, s


@pytest.mark.parametrize("a, b", [(0, 7), (3, 2), (-5, 5), (BIG - 3, BIG - 1), (-BIG + 1, -BIG + 4)])
def test_reversed_range_counts_as_python(a, b):
    check(_reversed_count, np.random.default_rng(6).standard_normal(7), a, b)


@pytest.mark.parametrize("a, b", [(-BIG, -BIG + 2), (-BIG, -BIG), (3, -BIG)])
def test_reversed_range_at_the_int64_end_raises(a, b):
    from looptrace.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match="reversed"):  # (plain: a count that the wrapped bounds lose)
        looptrace.jit(_reversed_count, backend="interpret")(np.ones(7), a, b)
