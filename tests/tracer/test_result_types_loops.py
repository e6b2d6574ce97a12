"""The compiled function gives what the plain one gives, type included
(Python number vs NumPy scalar vs 0-d ndarray, dtype), for values a loop
carries whose type depends on what ran, and it does not refuse valid
programs. Compared on fresh random data: values, types and the arguments'
contents afterwards."""
import warnings

import numpy as np
import pytest

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
