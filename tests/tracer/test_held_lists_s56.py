"""Lists held as one traced array (a list argument of 65+ numbers, x.tolist(),
a list a loop grew: grown.py) under the methods and builtins users call on
them (session 56, helper I2). Before: `lst.index(v)` and `lst.count(v)` were
"a traced value used as a Python bool" (Python's method asked each `==`'s
truth), `sorted(lst, key=f)` of more than 16 items and `max(lst)` then
`sorted(lst)` were refused, and past 256 items reversed(), list(), .index,
.count and max(key=) were refused (the list could not be expanded). Each is
checked against the plain function on fresh random data, on the interpreter
over lengths 0..300 (hypothesis), a few on cpu."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.errors import UnsupportedError

LENGTHS = st.sampled_from([0, 1, 5, 17, 70, 257, 300])  # (65+: held; 16, 256: the old limits)
FEW = settings(max_examples=8, deadline=None, derandomize=True)


def _values(n, seed):
    """n floats with repeats (multiples of 0.5: sums exact in any order) and a -0.0 among them."""
    x = np.random.default_rng(seed).integers(-6, 7, n) * 0.5
    if n > 2:
        x[2] = -0.0
    return x


def _outcome(f, *args):
    try:
        return f(*args)
    except ValueError as e:  # (Python's error of a value not in the list, raised at run time too)
        return ("ValueError", "not in list" in str(e))


def _same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    return a == b and (not isinstance(a, float) or np.signbit(a) == np.signbit(b))


def _check(f, make, n, seed, backend="interpret"):
    """f on a fresh list (an argument) or array (for x.tolist() and appends), plain and compiled."""
    x = _values(n, seed)
    arg = (lambda: [float(v) for v in x]) if make == "list" else (lambda: x.copy())
    want = _outcome(f, arg(), float(x[n // 2]) if n else 0.5)
    got = _outcome(looptrace.jit(f, backend=backend), arg(), float(x[n // 2]) if n else 0.5)
    assert _same(want, got), (f.__name__, n, want, got)


def _held(x):  # (the three ways a list comes to be held as one array)
    if isinstance(x, list):
        return x
    return x.tolist()


def _grown(x):
    out = []
    for i in range(x.shape[0]):
        out.append(x[i] + 0.0)
    return out


# --- index / count ----------------------------------------------------------------------------------
def index_and_count(xs, v):
    return xs.index(v), xs.count(v), xs.count(v + 100.0)


def index_from(xs, v):
    return xs.index(v, 1), xs.index(v, -len(xs) - 5, len(xs) + 5)


def index_absent(xs, v):
    return xs.index(v + 100.0)


def tolist_index(x, v):
    a = x.tolist()
    return a.index(v), a.count(v), a.count(-0.0)


def grown_index(x, v):
    a = _grown(x)
    return a.index(v), a.count(v), [1.5] + a == a + [1.5]


@FEW
@given(n=LENGTHS, seed=st.integers(0, 2**16))
def test_index_and_count_as_python(n, seed):
    for f in (index_and_count, index_from, index_absent):
        _check(f, "list", n, seed)
    for f in (tolist_index, grown_index):
        _check(f, "array", n, seed)


def test_index_of_traced_bounds_and_of_a_list_of_traced_items():
    def f(x, v, s):
        a = [x[0], x[1], v, x[2], x[1]]
        t = x.tolist()  # (v is t[150]: found from each start, before each stop)
        return a.index(x[1], s), a.count(x[1]), a.index(v), t.index(v, 150 - s * s), t.index(v, -151 - s * s), \
            t.index(v, 100 - s, 200 + s)

    x = _values(300, 3)
    for s in (0, 2, -3):
        want = f(x.copy(), float(x[150]), s)
        got = looptrace.jit(f, backend="interpret")(x, float(x[150]), s)
        assert _same(want, got), (s, want, got)


def test_absent_value_raises_valueerror_at_the_users_line():
    def f(xs, v):
        return xs.index(v)

    with pytest.raises(ValueError, match="not in list") as e:
        looptrace.jit(f, backend="interpret")([float(i) for i in range(300)], 1000.0)
    assert "return xs.index(v)" in "".join(getattr(e.value, "__notes__", []))


# --- sorted -----------------------------------------------------------------------------------------
def sorted_by_key(xs, v):
    return sorted(xs, key=abs), sorted(xs, key=lambda t: -t, reverse=True), sorted(xs, key=lambda t: t > v)


def max_then_sorted(xs, v):
    m = max(xs)
    return m, sorted(xs), sorted(xs, reverse=True), sorted(xs, key=lambda t: (float(round(t)), -t))


def tolist_sorted_by_tuple(x, v):
    return sorted(x.tolist(), key=lambda t: (abs(t), t), reverse=True)


@FEW
@given(n=LENGTHS, seed=st.integers(0, 2**16))
def test_sorted_by_a_traced_key_as_python(n, seed):
    for f in (sorted_by_key, max_then_sorted):
        _check(f, "list", n, seed)
    _check(tolist_sorted_by_tuple, "array", n, seed)


def test_sorted_by_a_key_of_mixed_types_is_refused_clearly():
    def f(xs):
        return sorted(xs, key=lambda t: (int(t), t))

    with pytest.raises(UnsupportedError, match="tuple of real numbers of one type") as e:
        looptrace.jit(f, backend="interpret")([float(i) for i in range(70)])
    assert "sorted(xs, key=lambda t: (int(t), t))" in str(e.value)


# --- reversed, list, in, min/max/sum/len/any/all ----------------------------------------------------
def builtins_over_held(xs, v):
    return (list(reversed(xs)), list(xs), v in xs, (v + 100.0) in xs, min(xs, default=-1.0), max(xs, default=1.0),
            sum(xs), sum(xs, 0.5), len(xs), any(xs), all(xs), max(xs, key=abs, default=0.0),
            xs[::-1] == list(reversed(xs)))


def loop_over_reversed(xs, v):
    acc = 0.0
    for t in reversed(xs):
        acc = abs(acc - t)  # (exact: a loop over x[::-1] of acc * 0.5 + t is 1 ulp off, /tmp/I2/rev_loop_ulp.py)
    return acc, [t * 2.0 for t in reversed(xs)]


def tolist_builtins(x, v):
    a = x.tolist()
    return (list(reversed(a)), list(a), v in a, min(a, default=0.0), max(a, key=abs, default=0.0), sum(reversed(a)),
            any(a), all(a), min(_grown(x), default=0.0))


def given_to_a_helper(x, v):  # (a list past 256 was expanded for the helper: refused)
    return builtins_over_held(x.tolist(), v), loop_over_reversed(_grown(x), v)


@FEW
@given(n=LENGTHS, seed=st.integers(0, 2**16))
def test_builtins_over_held_lists_as_python(n, seed):
    for f in (builtins_over_held, loop_over_reversed):
        _check(f, "list", n, seed)
    _check(tolist_builtins, "array", n, seed)
    _check(given_to_a_helper, "array", n, seed)


def methods_in_place(x, v):  # (past 256: .sort/.reverse/.copy were refused)
    a = x.tolist()
    b = a.copy()
    a.sort(key=abs, reverse=True)
    c = _grown(x)
    c.reverse()
    b.sort()
    return a, b, c, b == sorted(x.tolist())


@pytest.mark.parametrize("n", [70, 300])
def test_sort_reverse_copy_in_place_as_python(n):
    _check(methods_in_place, "array", n, n)


def indexed_by_traced_ints(x, j):  # (x.tolist() and a loop's appends at a traced index were refused)
    a, b = x.tolist(), _grown(x)
    s = 0.0
    for i in range(x.shape[0]):
        s += a[i] * b[-1 - i]
    return s, a[j], b[-j], a[j - 1]


@pytest.mark.parametrize("n", [10, 300])
def test_indexed_by_traced_ints_as_python(n):
    x = _values(n, n)
    f = looptrace.jit(indexed_by_traced_ints, backend="interpret")
    for j in (1, n - 1, 2 - n):
        assert _same(f(x, j), indexed_by_traced_ints(x.copy(), j))
    with pytest.raises(IndexError, match="list index out of range"):
        f(x, n)


# --- cpu ----------------------------------------------------------------------------------------------
def on_cpu(xs, v):
    return xs.index(v), xs.count(v), sorted(xs, key=abs)[:3], list(reversed(xs))[:2], max(xs, key=abs)


def test_on_cpu():
    _check(on_cpu, "list", 300, 11, backend="cpu")
    with pytest.raises(ValueError, match="not in list"):
        looptrace.jit(index_absent, backend="cpu")([float(i) for i in range(300)], 500.0)


# --- under a traced if ------------------------------------------------------------------------------
def read_in_a_branch(xs, v):  # (max/sum expanded the list in the branch: its elements escaped the `if`)
    s = 0.0
    if v > 0:
        s = max(xs) + sum(xs) + xs.count(v)
    t = max(xs) if v < 1 else min(xs)
    return s + min(xs), t, xs[0], sorted(xs)[:2]


def grown_read_in_a_branch(x, v):
    out = _grown(x)
    t = 0.0
    if v > 0:
        t = sum(out) + out.index(out[2])
    return t, out[0], sorted(out)[:2]


@pytest.mark.parametrize("n", [10, 70, 300])
def test_read_under_a_traced_if_as_python(n):
    for v in (-1.0, 1.0):
        x = _values(n, n)
        want = read_in_a_branch([float(t) for t in x], v), grown_read_in_a_branch(x.copy(), v)
        got = (looptrace.jit(read_in_a_branch, backend="interpret")([float(t) for t in x], v),
               looptrace.jit(grown_read_in_a_branch, backend="interpret")(x, v))
        assert _same(want, got), (n, v, want, got)


def test_change_under_a_traced_if_is_refused_at_its_line():  # (an append there was made on both paths)
    def f(x, c):
        a = x.tolist()
        if c > 0:
            a.append(1.0)
        return len(a)

    with pytest.raises(UnsupportedError, match="held as one traced array") as e:
        looptrace.jit(f, backend="interpret")(_values(70, 1), -1.0)
    assert "a.append(1.0)" in str(e.value)
