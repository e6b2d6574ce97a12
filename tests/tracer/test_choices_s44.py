"""Session 44 (helper A): a Python int a traced choice would round, and the
truth of `and`/`or` in tests.

1. A traced choice (`k if c else x[i]`, an `if` merging a name or a return, a
   loop's value that entered as an int, a list element at a traced index,
   `or`) between a Python int and a float keeps one dtype: where that dtype
   would round the int (2**53 + 1 beside a float64, 2**70 anywhere), the
   plain function returns the int exactly, so looptrace raises BigIntError
   (an OverflowError) where the int is chosen, and gives plain's value and
   type elsewhere (kinds.exact_choice). Ints it holds exactly (3, 2**53,
   2**60) are returned as before.
2. `if x[:1] > 0 and flag:`: the `and`'s value is only tested, so its
   operands' shapes need not agree (a regression of 6f3407f's `c and arr`).
"""
import sys

import numpy as np
import pytest

import looptrace as lt
from looptrace.errors import BigIntError

B = 2**53 + 1  # the first int a float64 rounds
RNG = np.random.default_rng(44)


def _pos_neg():
    """Random data with x[0] > 0, then with x[0] < 0 (each branch taken)."""
    x = RNG.uniform(0.5, 2.0, 3)
    y = x.copy()
    y[0] = -y[0]
    return x, y


def _run(f, *args):
    try:
        return "ok", f(*args)
    except Exception as e:  # noqa: BLE001
        return "raised", e


def _same(f, *args, backend="interpret"):
    """looptrace gives plain's value and type (or raises where plain does)."""
    want = _run(f, *args)
    got = _run(lt.jit(f, backend=backend), *args)
    assert got[0] == want[0], (want, got)
    if want[0] == "raised":
        assert isinstance(got[1], type(want[1])), (want, got)
        return got[1]
    w, g = want[1], got[1]
    if isinstance(w, tuple):
        assert isinstance(g, tuple) and len(g) == len(w)
        pairs = list(zip(w, g))
    else:
        pairs = [(w, g)]
    for a, b in pairs:
        assert type(a) is type(b), (a, b)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
        assert np.asarray(a).tolist() == np.asarray(b).tolist()  # (exact: an int compared as an int)
    return g


def _big(f, *args, backend="interpret"):
    """Plain returns a Python int looptrace's dtype would round: a BigIntError at its line."""
    assert type(f(*args)) is int
    with pytest.raises(BigIntError) as e:
        lt.jit(f, backend=backend)(*args)
    assert isinstance(e.value, OverflowError)
    assert "test_choices_s44.py" in str(e.value) and "hint:" in str(e.value)
    return e.value


# --- 1. an int a choice would round -----------------------------------------------------
def ifexp_inexact(x):
    return 2**53 + 1 if x[0] > 0 else x[1]


def ifexp_past_64_bits(x):
    r = 2**70 if x[0] > 0 else x[1]
    return r


def ifexp_negative_past_64_bits(x):
    return -2**63 - 1 if x[0] > 0 else x[1]


def ifexp_int64_max(x):  # fits int64, but a float64 rounds it
    return 2**63 - 1 if x[0] > 0 else x[1]


def if_statement(x):
    if x[0] > 0:
        r = B
    else:
        r = x[1]
    return r


def returns_apart(x):
    if x[0] > 0:
        return B
    return x[1]


def used_after(x):
    if x[0] > 0:
        r = B
    else:
        r = x[1]
    return r * 3


def while_carry(x):
    r = B
    k = 0
    while k < 3 and x[k] < 0:
        r = x[k]
        k += 1
    return r


def for_carry(x):
    r = B
    for i in range(3):
        if x[i] < 0:
            r = x[i]
    return r


def list_element(x):
    a = [B, x[1]]
    return a[int(x[0] < 0)]


def or_value(x):
    return (x[0] < 0) and x[1] or B


ROUNDED = [ifexp_inexact, ifexp_past_64_bits, ifexp_negative_past_64_bits, ifexp_int64_max, if_statement,
           returns_apart, used_after, list_element]


@pytest.mark.parametrize("f", ROUNDED)
def test_a_rounded_int_raises_where_chosen(f):
    pos, neg = _pos_neg()
    e = _big(f, pos)
    assert "round" in str(e) or "64 bits" in str(e)
    _same(f, neg)  # the float chosen: plain's value and type


@pytest.mark.parametrize("f", [while_carry, for_carry])
def test_a_loop_value_that_entered_as_a_rounded_int(f):
    pos, neg = _pos_neg()
    _big(f, pos)  # no iteration assigns it: plain returns the int
    _same(f, neg)
    _same(f, -RNG.uniform(0.5, 2.0, 3))


def test_or_value():
    pos, neg = _pos_neg()
    _big(or_value, pos)
    _same(or_value, neg)


def test_the_message_quotes_the_line():
    pos, _ = _pos_neg()
    e = _big(ifexp_inexact, pos)
    assert "9007199254740993" in str(e) and "return 2**53 + 1 if x[0] > 0 else x[1]" in str(e)
    assert "float(9007199254740993)" in e.hint
    e = _big(ifexp_past_64_bits, pos)  # (it crashed: AttributeError in trace._as_key)
    assert "64 bits" in str(e) and "r = 2**70 if x[0] > 0 else x[1]" in str(e)


def exact_2_53(x):
    return 2**53 if x[0] > 0 else x[1]


def exact_2_60(x):
    return 2**60 if x[0] > 0 else x[1]


def exact_3(x):
    if x[0] > 0:
        return 3
    return x[1]


def int_beside_int64(x):  # int64 holds it exactly: the int itself
    return B if x[0] > 0 else np.int64(x[1])


def and_int(x):
    return x[0] > 0 and B


@pytest.mark.parametrize("f", [exact_2_53, exact_2_60, exact_3, int_beside_int64, and_int])
def test_ints_held_exactly_as_before(f):
    for x in _pos_neg():
        _same(f, x)


def traced_int(x, one):
    n = int(x[0] * 1e6) * 2**40 + one if x[0] > 0 else 5
    return n if x[1] > 0 else x[2]


def test_a_traced_python_int_the_float_rounds():
    x = RNG.uniform(0.5, 2.0, 3)
    with pytest.raises(BigIntError):  # about 2**60 + 1: 61 significant bits
        lt.jit(traced_int, backend="interpret")(x, 1)
    _same(traced_int, x, 0)  # a multiple of 2**40 with 21 significant bits: exact
    x[1] = -x[1]  # the float chosen
    _same(traced_int, x, 1)
    x[0], x[1] = -x[0], -x[1]
    _same(traced_int, x, 1)


def float32_side(x):
    y = x.astype(np.float32)
    return 2**30 + 1 if x[0] > 0 else y[1]


def float32_exact(x):
    y = x.astype(np.float32)
    return 2**30 if x[0] > 0 else y[1]


def test_beside_a_float32():
    pos, neg = _pos_neg()
    _big(float32_side, pos)
    _same(float32_side, neg)
    for x in (pos, neg):
        _same(float32_exact, x)


def maxsize_sentinel(x):
    best = sys.maxsize
    for v in x:
        if v < best:
            best = v
    return best


def max_big(x):  # (decided last session, pybuiltins._unless_big_taken: the same kind of error)
    return max(x[0], 2**70)


def test_sentinels_that_a_loop_replaces():
    for x in _pos_neg():
        _same(maxsize_sentinel, x)
    with pytest.raises(OverflowError):
        lt.jit(max_big, backend="interpret")(_pos_neg()[0])


# --- 2. `and`/`or` whose value is only tested -------------------------------------------
def if_and(x, flag):
    if x[:1] > 0 and flag:
        return x * 2
    return x


def if_flag_and(x, flag):
    if flag and x[:1] > 0:
        return x * 2
    return x


def if_or(x, flag):
    if x[:1] > 0 or flag:
        return x * 2
    return x


def while_and(x, flag):
    k = 0
    while x[:1] > 0 and k < 3:
        x = x - 1.0
        k += 1
    return x, k


def nested(x, flag):
    if (x[:1] > 0 and flag) or (x[1:2] < 0 and not flag):
        return x * 2
    return x


def not_and(x, flag):
    if not (x[:1] > 0 and flag):
        return x * 3
    return x


def ifexp_test(x, flag):
    return 1.0 if x[:1] > 0 and flag else 2.0


def assert_and(x, flag):
    assert x[:1] > -10 and flag, "no"
    return x


def value_used(x, flag):  # its value itself: Python's (both bools here)
    y = x[0] > 0 and x[1] > 0
    return y


def value_or(x, flag):
    return x[0] > 1 or 5.0


TESTED = [if_and, if_flag_and, if_or, while_and, nested, not_and, ifexp_test, assert_and, value_used, value_or]


@pytest.mark.parametrize("f", TESTED)
def test_and_or_tested_for_truth(f):
    pos, neg = _pos_neg()
    neg[1] = -neg[1]
    for x in (pos, neg, RNG.uniform(-1.0, 1.0, 3)):
        for flag in (True, False):
            _same(f, x.copy(), flag)


def two_elements_and(x, flag):
    if flag and x[:2] > 0:
        return x
    return x * 2


def two_elements_or(x, flag):
    if x[:2] > 0 or flag:
        return x
    return x * 2


def two_elements_while(x, flag):
    while x[:2] > 0 and flag:
        x = x - 1
    return x


@pytest.mark.parametrize("f", [two_elements_and, two_elements_or, two_elements_while])
def test_a_two_element_array_still_raises_numpys_value_error(f):
    for x in _pos_neg():
        for flag in (True, False):
            e = _same(f, x.copy(), flag)
            if isinstance(e, Exception):
                assert isinstance(e, ValueError) and "ambiguous" in str(e)


def test_cpu_choice_and_truth():
    pos, neg = _pos_neg()
    _big(ifexp_inexact, pos, backend="cpu")
    _same(ifexp_inexact, neg, backend="cpu")
    for flag in (True, False):
        for x in (pos, neg):
            _same(if_and, x, flag, backend="cpu")
