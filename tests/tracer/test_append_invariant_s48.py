"""Session 48 (helper H): an array from before a loop, not written in it,
appended every iteration (`hs.append(w)`, w an argument) was refused as
"written in place afterwards": LoopList.check_aliases compared the array's
value after the body's trace (the loop frame popped, its captured box given
its entry value back) with the body's block argument seen at the append.
Now an array from before the loop is judged by the body's exit value of its
box (and its value at the iteration's start), a body's own array by its box.
The list holds such an array itself, so a write into it after the loop would
show in plain Python's list: reading the list after one is refused
(carries.HeldSegment), reading it before is fine. The same for the array a
name holds after the loop that was the last iteration's append (`h = ...;
hs.append(h)`, then `h += 1`): before, a wrong answer (the stale last row).
"""
import numpy as np
import pytest

import looptrace as lt
from looptrace.errors import UnsupportedError

RNG = np.random.default_rng(48)


def invariant(w, x):
    hs = []
    for t in range(x.shape[0]):
        hs.append(w)
    return np.sum(np.stack(hs) * x[:, None] ** 2)


def view_of_arg(w, x):
    hs = []
    for t in range(x.shape[0]):
        hs.append(w[t % 2])
    return np.sum(np.stack(hs) * x[:, None] ** 2)


def temporary(w, x):
    hs = []
    for t in range(x.shape[0]):
        hs.append(w * t)
    return np.sum(np.sin(np.stack(hs)) * x[:, None])


def rebound(w, x):
    hs = []
    for t in range(x.shape[0]):
        hs.append(w)
        w = w * x[t] + 1  # a new array: the list keeps the old ones
    return np.sum(np.stack(hs) ** 2) + np.sum(w)


def local_before_loop(w, x):
    a = w * 2
    hs = []
    for t in range(x.shape[0]):
        hs.append(a)
    return np.stack(hs) + x[:, None]


def nested(w, x):
    out = []
    for s in range(2):
        hs = []
        for t in range(x.shape[0]):
            hs.append(w)
        out.append(np.stack(hs) * s)
    return np.stack(out)


def in_while(w, x):
    hs = []
    t = 0
    while t < x.shape[0]:
        hs.append(w)
        t += 1
    return np.stack(hs)


def read_then_written(w, x):
    hs = []
    for t in range(x.shape[0]):
        hs.append(w)
    out = np.stack(hs)
    w[0] = 1.0  # after the list was read: plain's `out` is unchanged
    return out


def loop_var_written(w, x):
    hs = []
    a = w.copy()
    for t in range(x.shape[0]):
        hs.append(a)
        a[0] += x[t]
    return np.stack(hs)


def arg_written_after_append(w, x):
    hs = []
    for t in range(x.shape[0]):
        hs.append(w)
        w[0] += x[t]
    return np.stack(hs)


def arg_written_before_append(w, x):
    hs = []
    for t in range(x.shape[0]):
        w[0] += x[t]
        hs.append(w)
    return np.stack(hs)


def written_after_loop(w, x):
    hs = []
    for t in range(x.shape[0]):
        hs.append(w)
    w[0] = 5.0
    return np.stack(hs)


def view_root_written_after_loop(w, x):
    hs = []
    for t in range(x.shape[0]):
        hs.append(w[t % 2])
    if x[0] > -10:
        w[1, 0] = 3.0
    return np.stack(hs)


def last_array_written_after_loop(w, x):
    h = w.copy()
    hs = []
    for t in range(x.shape[0]):
        h = np.tanh(h * x[t] + 1.0)
        hs.append(h)
    h += 1.0  # the list's last entry is this array
    return np.stack(hs), h


def rnn_like(w, x):
    h = w.copy()
    hs = []
    for t in range(x.shape[0]):
        h = np.tanh(h * x[t] + 1.0)
        hs.append(h)
    out = np.stack(hs)
    h[0] = 2.0  # after the list was read
    return out, h


def outer_loop_writes(w, x):
    hs = []
    for s in range(2):
        for t in range(x.shape[0]):
            hs.append(w)
        w[0] += 1.0
    return np.stack(hs)


def _args(f):
    w = RNG.standard_normal((2, 3) if "view" in f.__name__ else 3)
    return w, RNG.standard_normal(4)


def _check_same(f, backend="interpret"):
    w, x = _args(f)
    wp, wj = w.copy(), w.copy()
    want = f(wp, x.copy())
    got = lt.jit(f, backend=backend)(wj, x.copy())
    for g, r in zip(got if isinstance(want, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(g, r, rtol=1e-13, atol=0)
        assert np.asarray(g).dtype == np.asarray(r).dtype
    np.testing.assert_array_equal(wj, wp)


@pytest.mark.parametrize("f", [invariant, view_of_arg, temporary, rebound, local_before_loop, nested, in_while,
                               read_then_written, rnn_like])
def test_values_as_plain(f):
    _check_same(f)


@pytest.mark.parametrize("f", [invariant, view_of_arg, temporary, rebound])
def test_gradient_against_finite_differences(f):
    w, x = _args(f)
    g = lt.grad(f, argnums=0, backend="interpret")(w, x)
    fd, eps = np.zeros_like(w), 1e-6
    for i in np.ndindex(w.shape):
        wp, wm = w.copy(), w.copy()
        wp[i] += eps
        wm[i] -= eps
        fd[i] = (f(wp, x) - f(wm, x)) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("f, line", [
    (loop_var_written, "hs.append(a)"), (arg_written_after_append, "hs.append(w)"),
    (arg_written_before_append, "hs.append(w)"), (outer_loop_writes, "hs.append(w)"),
    (written_after_loop, "return np.stack(hs)"), (view_root_written_after_loop, "return np.stack(hs)"),
    (last_array_written_after_loop, "return np.stack(hs), h")])
def test_written_in_place_refused(f, line):
    w, x = _args(f)
    with pytest.raises(UnsupportedError) as e:
        lt.jit(f, backend="interpret")(w, x)
    assert "test_append_invariant_s48.py" in str(e.value) and line in str(e.value)
    assert "written in place" in str(e.value)


def test_cpu_kernel():
    def both(w, v, x):  # an argument and a view of one, appended every iteration
        hs, rows = [], []
        for t in range(x.shape[0]):
            hs.append(w)
            rows.append(v[t % 2])
        return np.stack(hs) * x[:, None], np.stack(rows) + x[:, None]

    w, v, x = RNG.standard_normal(3), RNG.standard_normal((2, 3)), RNG.standard_normal(5)
    got = lt.jit(both, backend="cpu")(w, v, x)
    for a, b in zip(got, both(w, v, x)):
        np.testing.assert_array_equal(a, b)
