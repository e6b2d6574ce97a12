"""Names that leave a traced loop holding an array the loop only reads
(tracer/control.py, LoopTrace._finish and _same_array_each_time).

`v = s.copy()`, `v = np.array(s)` and `v = s` of an argument `s` make no op in
the body: the name's exit value is the block argument of `s`, which becomes
`s`'s outer value only once every result of the block is chosen. A copy is
carried out as a value; `v = s` and a view with a static index (`v = s[...]`)
still refer to `s` after a loop that surely runs, as in Python, so a write
after the loop through either name reaches the other. Each function runs
plain and compiled on copies of the same random data; results and the
arguments' final contents must agree."""
from __future__ import annotations

import numpy as np
import pytest

import looptrace
from tests.tracer._compare import assert_same


def compare(fn, *args, backend="interpret"):
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    jitted = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    want = fn(*plain)
    got = looptrace.jit(fn, backend=backend)(*jitted)
    assert_same(got, want)
    for g, e in zip(jitted, plain):
        if isinstance(e, np.ndarray):
            np.testing.assert_array_equal(g, e)
    return got


def data(seed: int, shape: tuple):
    """(s, a): s of `shape` (0-d included), a a vector whose length is the trip count."""
    rng = np.random.default_rng(seed)
    return np.asarray(rng.standard_normal(shape) + 2.0), rng.standard_normal(5) + 2.0


# --- the spellings: each leaves the loop in `v` ---------------------------------------------------------
def by_copy(s, a):
    for i in range(a.shape[0]):
        v = s.copy()
        a[i] += 1.0
    return v


def by_ellipsis(s, a):
    for i in range(a.shape[0]):
        v = s[...]
    return v


def by_np_array(s, a):
    for i in range(a.shape[0]):
        v = np.array(s)
    return v


def by_name(s, a):
    for i in range(a.shape[0]):
        v = s
    return v


def computed(s, a):
    for i in range(a.shape[0]):
        v = s * a[i]
    return v


def with_a_carry(s, a):
    total = 0.0
    for i in range(a.shape[0]):
        total += a[i]
        v = s.copy()
    return v + total


SPELLINGS = [by_copy, by_ellipsis, by_np_array, by_name, computed, with_a_carry]


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)], ids=["0d", "1d", "2d"])
@pytest.mark.parametrize("fn", SPELLINGS, ids=lambda f: f.__name__)
def test_exit_value(fn, shape):
    compare(fn, *data(1, shape))


def test_exit_value_cpu():
    compare(by_copy, *data(2, (4,)), backend="cpu")
    compare(by_ellipsis, *data(3, ()), backend="cpu")


# --- writes after the loop: a copy is apart from `s`, a name or a view is `s` ------------------------------
def copy_then_write_s(s, a):
    for i in range(a.shape[0]):
        v = s.copy()
    s[0] = a[0]
    return v


def copy_then_write_v(s, a):
    for i in range(a.shape[0]):
        v = np.array(s)
    v[0] = a[1]
    return v


def name_then_write_v(s, a):
    for i in range(a.shape[0]):
        v = s
    v[0] = a[2]
    return v


def view_then_write_s(s, a):
    for i in range(a.shape[0]):
        v = s[1:]
    s[1] = a[3]
    return v


def view_then_write_v(s, a):
    for i in range(a.shape[0]):
        v = s[...]
    v[-1] = a[4]
    return v


def transposed_view_of_written(s, a):
    for i in range(a.shape[0]):
        s += a[i]
        v = s.T
    return v.copy()


WRITES = [copy_then_write_s, copy_then_write_v, name_then_write_v, view_then_write_s, view_then_write_v,
          transposed_view_of_written]


@pytest.mark.parametrize("fn", WRITES, ids=lambda f: f.__name__)
def test_write_after_loop(fn):
    compare(fn, *data(4, (3,)))


@pytest.mark.parametrize("fn", [copy_then_write_s, name_then_write_v, view_then_write_s])
def test_write_after_loop_cpu(fn):
    compare(fn, *data(5, (3,)), backend="cpu")


def no_loop_copy_then_write(s, a):
    v = s.copy()
    s[0] = a[0]
    return v


def test_result_is_argument_from_before_its_write():
    """The program returns argument `s` unchanged as `v` and writes `s` back:
    the write-back must not reach the returned array (api._unshared)."""
    for backend in ("interpret", "cpu"):
        compare(no_loop_copy_then_write, *data(6, (3,)), backend=backend)


# --- loops that may not run, other loop kinds ----------------------------------------------------------------
def may_not_run(s, a, n):
    v = a[:3].copy()
    for i in range(n):
        v = s
    v[0] = a[0]
    return v


@pytest.mark.parametrize("n", [0, 2])
def test_loop_that_may_not_run(n):
    """With a traced trip count the name keeps value semantics (it may hold
    its entry value); the results agree whether or not the loop runs, but a
    write through `v` after it does not reach `s`, so `s` is not compared."""
    s, a = data(7, (3,))
    want = may_not_run(s.copy(), a.copy(), n)
    got = looptrace.jit(may_not_run, backend="interpret")(s.copy(), a.copy(), n)
    assert_same(got, want)


def in_while(s, a):
    k = 0
    v = a[:3]  # a while loop may run zero times: `v` needs a value before it
    while k < a.shape[0]:
        v = s.copy()
        k += 1
    return v * k


def while_on_argument(flag, s):
    k = 0
    while flag:
        k += 1
        flag = k < 3
    return k + s


def nested(s, a):
    for i in range(a.shape[0]):
        for j in range(2):
            v = s[...]
            w = s.copy()
    return v + w


@pytest.mark.parametrize("fn", [in_while, nested], ids=lambda f: f.__name__)
def test_other_loops(fn):
    compare(fn, *data(8, (3,)))


def test_while_condition_is_an_argument():
    compare(while_on_argument, np.array(True), np.random.default_rng(9).standard_normal(3))
