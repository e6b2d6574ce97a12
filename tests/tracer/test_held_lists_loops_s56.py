"""Lists held as one traced array (a list argument of 65+ numbers, x.tolist(),
a loop's appends: grown.py) searched for an item read from them, changed in a
traced loop, and iterated reversed (session 56, helper W3, after helper I2's
test_held_lists_s56.py). Before: `xs.count(xs[3])` with a NaN at 3 was 0
where Python finds the item by identity (1), and a NaN searched among NaN
items that may be its own object ([nan] * n, math.nan appended) was answered
0 where Python counts them all. Each is checked against the plain function
on fresh random data on the interpreter (hypothesis, bounded), one on cpu."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.errors import UnsupportedError

FEW = settings(max_examples=10, deadline=None, derandomize=True)


def _searches(xs, i):
    """The item read at i (a traced int) and at 3 (a constant), searched for."""
    return xs.count(xs[i]), xs[i] in xs, xs.index(xs[i]), xs.count(xs[3]), xs[3] in xs, xs.index(xs[3])


def _tolist_searches(x, i):
    a = x.tolist()
    return a.count(a[i]), a[i] in a, a.index(a[3])


_SEARCHES = looptrace.jit(_searches, backend="interpret")
_TOLIST_SEARCHES = looptrace.jit(_tolist_searches, backend="interpret")


def _with_nans(n, nans, seed):
    """n fresh floats (repeats among them) with NaNs, each its own object, at `nans`."""
    x = np.random.default_rng(seed).integers(-4, 5, n) * 0.5
    xs = [float(v) for v in x]
    for k in nans:
        xs[k % n] = float("nan")
    return xs


@FEW
@given(n=st.sampled_from([65, 70, 300]), nans=st.lists(st.integers(0, 299), max_size=2),
       seed=st.integers(0, 2**16), i=st.integers(0, 299))
def test_an_item_read_from_the_list_is_found_by_identity(n, nans, seed, i):
    """Python finds xs[i] in xs by identity, a NaN too; where another item is
    a NaN the identities are unknown to looptrace: refused, never wrong."""
    xs, i = _with_nans(n, nans, seed), i % n
    nan_at = {k for k, v in enumerate(xs) if v != v}
    if any(p in nan_at and nan_at - {p} for p in (i, 3)):
        with pytest.raises(UnsupportedError, match="only by identity"):
            _SEARCHES(xs, i)
        return
    assert _SEARCHES(xs, i) == _searches(list(xs), i)
    x = np.array(xs)
    assert _TOLIST_SEARCHES(x, i) == _tolist_searches(x.copy(), i)


def test_a_nan_read_from_the_list_before_the_fix():
    """The reproducer: xs.count(xs[3]) of 70 floats with a NaN at 3 (was 0)."""
    xs = [float(v) for v in np.random.default_rng(5).standard_normal(70)]
    xs[3] = float("nan")
    assert _SEARCHES(xs, 3) == _searches(list(xs), 3) == (1, True, 3, 1, True, 3)


def _nan_objects(xs, s):
    return xs.count(math.nan), s in xs


def _appended_nan(x, s):
    a = []
    for v in x:
        a.append(s if v > 0 else v)
    return a.count(s)


def test_a_nan_among_nans_of_unknown_identity_is_refused_at_run_time():
    """[nan] * 70 holds one object 70 times (Python: 70), a loop's a.append(s)
    the same s: looptrace's array of them cannot tell, so it refuses; without
    NaNs the same programs answer as Python."""
    xs = [math.nan] * 70
    with pytest.raises(UnsupportedError, match="only by identity"):
        looptrace.jit(_nan_objects, backend="interpret")(xs, 0.5)
    ys = [float(v) for v in np.random.default_rng(2).standard_normal(70)]
    assert looptrace.jit(_nan_objects, backend="interpret")(ys, ys[4]) == _nan_objects(ys, ys[4]) == (0, True)
    x = np.random.default_rng(3).standard_normal(70)
    with pytest.raises(UnsupportedError, match="only by identity"):
        looptrace.jit(_appended_nan, backend="interpret")(x, math.nan)
    assert looptrace.jit(_appended_nan, backend="interpret")(x, 0.25) == _appended_nan(x, 0.25)


def test_found_by_identity_on_cpu():
    xs = [float(v) for v in np.random.default_rng(7).standard_normal(80)]
    xs[11] = float("nan")
    assert looptrace.jit(_searches, backend="cpu")(xs, 11) == _searches(list(xs), 11) == (1, True, 11, 1, True, 3)
    xs[40] = float("nan")
    with pytest.raises(UnsupportedError, match="only by identity"):
        looptrace.jit(_searches, backend="cpu")(xs, 11)


def _next_then_rest(xs):
    it = reversed(xs)
    a, b = next(it), next(it)
    s = 0.0
    for v in it:
        s += v  # (halves: exact in any order; a linear recurrence is an interpreter scan, to a few ulps)
    return a, b, s


def _next_then_taken(xs):
    it = reversed(xs)
    a = next(it)
    return a, sum(it), list(it), next(it, -1.0)


def _taken_twice(xs):
    it = reversed(xs)
    return sum(it), sum(it), list(it), [v * 2.0 for v in reversed(xs)][:3], max(reversed(xs))


@settings(max_examples=3, deadline=None, derandomize=True)
@given(n=st.sampled_from([257, 300]), seed=st.integers(0, 2**16))
def test_reversed_of_a_held_list_is_an_iterator_as_python(n, seed):
    """reversed(lst) past 256 items (below: Python's own, over the items) was
    the list reversed: next() a TypeError, and iterated twice (sum(it),
    sum(it)) it gave its items twice (WRONG)."""
    xs = [float(v) for v in np.random.default_rng(seed).integers(-6, 7, n) * 0.5]
    for f in (_next_then_rest, _next_then_taken, _taken_twice):
        assert looptrace.jit(f, backend="interpret")(xs) == f(list(xs)), f.__name__


def _loop_then_again(xs):
    it = reversed(xs)
    for v in it:
        if v > 2.0:
            break
    return list(it)


def _no_len(xs):
    return len(reversed(xs))


def _no_index(xs):
    return reversed(xs)[0]


def test_reversed_of_a_held_list_refuses_what_python_refuses_or_the_run_decides():
    """After a `for` over it (a `break` may leave it anywhere) a later use is
    refused at its line; len() and indexing are Python's TypeError."""
    xs = [float(v) for v in np.random.default_rng(4).standard_normal(300)]
    with pytest.raises(UnsupportedError, match="left by a `for` over it"):
        looptrace.jit(_loop_then_again, backend="interpret")(xs)
    for f, words in ((_no_len, "has no len"), (_no_index, "not subscriptable")):
        with pytest.raises(TypeError, match=words):
            f(list(xs))
        with pytest.raises(TypeError, match=words):
            looptrace.jit(f, backend="interpret")(xs)


def _reversed_each_step(x, n):
    a = x.tolist()
    s = 0.0
    for i in range(n):
        a.reverse()
        s += a[0] * (i + 1)
    return s, a[0]


def _sorted_each_step(x, n):
    a = x.tolist()
    for i in range(n):
        a.sort(reverse=(i % 2 == 0))
    return a[0], a[-1]


@pytest.mark.parametrize("m", [10, 300])
def test_a_held_list_reordered_in_a_counted_loop_as_python(m):
    """.reverse() / .sort() in a loop's body of a list held as one array made
    before it: the loop runs as Python (its count is known while tracing).
    Before: a read in the body saw one order for all iterations (WRONG), a
    read after the loop an error at that later line."""
    x = np.random.default_rng(m).standard_normal(m)
    for f in (_reversed_each_step, _sorted_each_step):
        for n in (3, 4):
            assert looptrace.jit(f, backend="interpret")(x, n) == f(x.copy(), n), (f.__name__, n)


def _reversed_while(x, t):
    a = x.tolist()
    s = 0.0
    while s < t:
        a.reverse()
        s += 1.0
    return a[0]


@pytest.mark.parametrize("m", [10, 300])
def test_a_held_list_reordered_in_a_traced_loop_is_refused_at_its_line(m):
    x = np.random.default_rng(m).standard_normal(m)
    with pytest.raises(UnsupportedError, match="reordered or written inside the loop") as e:
        looptrace.jit(_reversed_while, backend="interpret")(x, 3.0)
    assert "a.reverse()" in str(e.value)


def _swapped_each_step(x, n):
    a = x.tolist()
    s = 0.0
    for i in range(n):
        a[0], a[1] = a[1], a[0]
        s += a[0] * (i + 1)
    return s


def _slice_reversed_each_step(x, n):
    a = x.tolist()
    s = 0.0
    for i in range(n):
        a[:] = a[::-1]
        s += a[0] * (i + 1)
    return s


@pytest.mark.parametrize("m", [10, 300])
def test_a_held_list_written_in_a_counted_loop_as_python(m):
    """Before: a[0], a[1] = a[1], a[0] in the body an IndexError (the store
    reached the list's one segment), a[:] = a[::-1] a WRONG sum (the body's
    one order); 300 items written item by item: refused (past 256)."""
    x = np.random.default_rng(m + 1).standard_normal(m)
    assert looptrace.jit(_slice_reversed_each_step, backend="interpret")(x, 3) == _slice_reversed_each_step(x, 3)
    if m > 256:
        with pytest.raises(UnsupportedError, match="more than 256"):
            looptrace.jit(_swapped_each_step, backend="interpret")(x, 3)
    else:
        assert looptrace.jit(_swapped_each_step, backend="interpret")(x, 3) == _swapped_each_step(x.copy(), 3)
