"""The compiled function gives what the plain one gives, type included
(Python number vs NumPy scalar vs 0-d ndarray, dtype), for values a loop
carries whose type depends on what ran, and it does not refuse valid
programs. Compared on fresh random data: values, types and the arguments'
contents afterwards."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt


def _desc(v):
    if isinstance(v, (tuple, list)):
        return type(v), tuple(_desc(e) for e in v)
    return type(v), str(getattr(v, "dtype", "")), np.ndim(v)


def _run(fn, args):
    args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args), args


def _same_values(g, w):
    if isinstance(w, (tuple, list)):
        return len(g) == len(w) and all(_same_values(a, b) for a, b in zip(g, w))
    return np.allclose(np.asarray(g, dtype=float), np.asarray(w, dtype=float), rtol=1e-6, atol=1e-9,
                       equal_nan=True)


def check(fn, args, backend="interpret"):
    want, want_args = _run(fn, args)
    got, got_args = _run(lt.jit(fn, backend=backend), args)
    assert _desc(got) == _desc(want), (got, want)
    assert _same_values(got, want), (got, want)
    for g, w in zip(got_args, want_args):
        if isinstance(w, np.ndarray):
            np.testing.assert_array_equal(g, w)


# --- item 4: names assigned on every path that reaches their use -------------------------
def assigned_in_a_nested_loop(x, q):
    s = 0.0
    cnt = 0
    for i in range(x.shape[0]):
        for j in range(2):
            s = np.float32(q[i]) / (x[i] * x[i] + 1.0)
            cnt = cnt + (s < 0.3)
    return cnt


def assigned_in_a_nested_loop_then_returned_from_it(x, a):
    n = x.shape[0]
    cnt = 0
    k = 0
    for i in range(n):
        for j in range(2):
            k = (7 + (i % (a[n - 1 - i] * a[n - 1 - i] + 1))) // -2
            if k > 3:
                return cnt
    return cnt + 1


def assigned_in_a_nested_while(x):
    total = 0.0
    for i in range(x.shape[0]):
        j = 0
        while j < 2:
            t = x[i] * j
            total = total + t
            j += 1
    return total


def read_after_a_nested_loop_that_may_not_run(x, m):
    s = 1.5
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        for j in range(m):
            s = x[i] + j
        out[i] = s
    return out


@pytest.mark.parametrize("fn,make", [
    (assigned_in_a_nested_loop, lambda r: (r.random(5), r.random(5).astype(np.float32))),
    (assigned_in_a_nested_loop_then_returned_from_it, lambda r: (r.random(5), r.integers(-6, 7, 5))),
    (assigned_in_a_nested_while, lambda r: (r.random(5),)),
    (read_after_a_nested_loop_that_may_not_run, lambda r: (r.random(5), int(r.integers(0, 2)))),
], ids=lambda f: getattr(f, "__name__", ""))
def test_a_name_assigned_before_every_use_is_not_refused(fn, make):
    rng = np.random.default_rng()
    for _ in range(4):
        check(fn, make(rng))


# --- items 1-3: a carried value's type as the plain function leaves it -------------------
def int_sum_over_a_traced_range(x, n):
    acc = 0
    for i in range(n):
        acc = acc + x[i]
    return acc


def float_sum_over_a_traced_range(x, n):
    acc = 0.0
    for i in range(n):
        acc += x[i]
    return acc


def conditional_sum_from_a_python_float(x):
    total = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.7:
            total = total + x[i]
    return total


def conditional_sum_from_an_int(x):
    acc = 0
    for i in range(x.shape[0]):
        if x[i] > 0.7:
            acc += x[i]
    return acc, acc * 2


def break_before_the_change(x):
    acc = 0
    m = 1
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            break
        acc = acc + x[i]
        m = m * 3 % 1000000007
    return acc, m


def while_loop_from_an_int(x):
    acc = 0
    i = 0
    while i < x.shape[0] and x[i] < 0.5:
        acc = acc + x[i]
        i += 1
    return acc


def python_float_or_numpy_scalar(x):
    if x[0] > 0.5:
        return 1.5
    return x[1]


def builtin_min_keeps_the_type_of_the_one_taken(x, q):
    acc = 0
    k = 0
    for i in range(x.shape[0]):
        acc += min(acc, q[i])
        k = k + max(int(x[i] * 10) - 20, 7)
    return acc, k


def builtin_max_of_a_numpy_int(a):
    k = 0
    for i in range(a.shape[0]):
        k = k + (i - max(a[i], 7))
    return k


def chosen_python_int(x, y):
    s = 0.0
    acc = 0
    for i in range(x.shape[0]):
        s = (acc if y[i] > 0 else -acc)
    return s


def zeros_0d_over_a_traced_range(x, n):
    s = np.zeros(())
    for i in range(n):
        s = s + x[i]
    return s


def zeros_0d_in_place(x):
    s = np.zeros(())
    for i in range(x.shape[0]):
        s += x[i]
    return s


def where_gives_an_array(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = np.where(x[i] > 0.5, x[i], 0.5)
    return s, np.where(x[0] > 0.5, x[0], 0.5)


CASES = [
    (int_sum_over_a_traced_range, lambda r: (r.random(4), int(r.integers(0, 3)))),
    (float_sum_over_a_traced_range, lambda r: (r.random(4), int(r.integers(0, 3)))),
    (conditional_sum_from_a_python_float, lambda r: (r.random(3) * r.choice([0.5, 1.5]),)),
    (conditional_sum_from_an_int, lambda r: (r.random(3) * r.choice([0.5, 1.5]),)),
    (break_before_the_change, lambda r: (r.random(4) + r.choice([0.0, 0.4]),)),
    (while_loop_from_an_int, lambda r: (r.random(3) + r.choice([0.0, 0.5]),)),
    (python_float_or_numpy_scalar, lambda r: (r.random(3),)),
    (builtin_min_keeps_the_type_of_the_one_taken, lambda r: (r.random(3) * 4, r.random(3).astype(np.float32) - 0.2)),
    (builtin_max_of_a_numpy_int, lambda r: (r.integers(-6, 12, 4),)),
    (chosen_python_int, lambda r: (r.random(3), r.random(3) - 0.5)),
    (zeros_0d_over_a_traced_range, lambda r: (r.random(3), int(r.integers(0, 3)))),
    (zeros_0d_in_place, lambda r: (r.random(3),)),
    (where_gives_an_array, lambda r: (r.random(3),)),
]


@pytest.mark.parametrize("fn,make", CASES, ids=lambda f: getattr(f, "__name__", ""))
def test_the_type_is_the_plain_functions(fn, make):
    rng = np.random.default_rng()
    for _ in range(8):
        check(fn, make(rng))


@pytest.mark.parametrize("fn,args", [
    (int_sum_over_a_traced_range, (np.array([0.3, 0.6]), 0)),
    (conditional_sum_from_an_int, (np.array([0.1, 0.2, 0.3]),)),
    (break_before_the_change, (np.array([0.9, 0.2]),)),
    (python_float_or_numpy_scalar, (np.array([0.9, 0.2]),)),
    (zeros_0d_over_a_traced_range, (np.array([0.3, 0.6]), 0)),
], ids=lambda f: getattr(f, "__name__", ""))
def test_the_type_is_the_plain_functions_on_cpu(fn, args):
    check(fn, args, backend="cpu")
    rng = np.random.default_rng()
    check(fn, tuple(a if not isinstance(a, np.ndarray) else rng.random(a.shape) + 0.05 for a in args), backend="cpu")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 1.0), min_size=0, max_size=5), st.sampled_from([0, 0.0, 1, True]),
       st.floats(0.1, 0.9))
def test_a_conditional_accumulator_from_any_python_start(xs, start, threshold):
    def fn(x, n):
        acc = start
        for i in range(n):
            if x[i] > threshold:
                acc = acc + x[i]
        return acc

    x = np.array(xs + [0.5])
    check(fn, (x, len(xs)))
