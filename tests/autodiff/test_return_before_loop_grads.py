"""Gradients of a function that returns early on a traced condition and then
runs a loop whose trip count only the run knows (a while loop, a loop with
`break` or `return`): the path not taken yields its residuals (a while
loop's tape) empty (autodiff/loop_adjoint.py `_augmented_cond`). Before
(session-35 probe H, 125 generated programs): IndexError from the
interpreter where the early return ran, an InternalError on cpu always.
Checked against central finite differences in float64 on both paths."""

import numpy as np
import pytest

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad


def return_then_while(x):
    s = x[0] * 2.0
    if s > 0.8:
        return s
    k = 0
    while k < 2:
        s = s + x[k]
        k += 1
    return s


def return_then_break(x, w):
    s = x[0] * 2.0
    if s > 0.8:
        return s * w[0]
    for i in range(w.shape[0]):
        s = s + w[i] * x[1]
        if s > 2.0:
            break
    return s


def _helper(v, x):
    if v > 0.8:
        return v
    k = 0
    while v < 1.5 and k < 3:
        v = v * 1.3 + x[1] * 0.1
        k += 1
    return v


def helper_in_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += _helper(x[i] * 2.0, x)
    return s


CASES = [
    (return_then_while, lambda x: (x[:2],), (0,)),
    (return_then_break, lambda x: (x[:2], x[2:] + 1.5), (0, 1)),
    (helper_in_loop, lambda x: (x[:3],), (0,)),
]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,make,argnums", CASES, ids=[c[0].__name__ for c in CASES])
def test_grad_after_an_early_return(fn, make, argnums, backend):
    f = looptrace.jit(fn, backend=backend)
    g = looptrace.grad(f, argnums=argnums)
    for x in (np.array([0.5, 0.6, 0.1, 0.3, -0.2]), np.array([-0.5, 0.3, 0.2, 0.4, 0.1]),
              np.array([0.1, -0.3, 0.7, 0.2, 0.6])):
        args = make(x)
        assert f(*args) == pytest.approx(fn(*args), rel=1e-12)
        for got, i in zip(g(*args), argnums):
            assert_close(got, numerical_grad(fn, list(args), i), 1e-5, f"{fn.__name__} argument {i}")


def break_in_nested_loops(y, z):
    """An inner loop with `break` (a while loop of a traced trip count) two
    loops deep, with a Python int counter (its overflow check makes the
    loop's ops impure): its tape is ragged, so it is computed again in the
    backward pass, checks included (session-35 probe G: "Variable 'v7' is
    not defined" on cpu)."""
    n = y.shape[0]
    h = np.zeros(n)
    buf = np.zeros(n)
    for i in range(n):
        for j in range(n):
            c = 0
            for k in range(n):
                c += k + j
                h[k] = h[k] + y[k] * z[1]
                if h[k] > 1.0:
                    break
            buf[j] = y[i] * h[j] + c
        buf[0] = z[0] * buf[1] + c
    return buf.sum()


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_ragged_tape_is_recomputed(backend):
    r = np.random.default_rng(3)
    y, z = r.uniform(0.1, 0.6, 4), r.uniform(0.5, 1.5, 2)
    g = looptrace.grad(looptrace.jit(break_in_nested_loops, backend=backend), argnums=(0, 1))(y, z)
    for got, i in zip(g, (0, 1)):
        assert_close(got, numerical_grad(break_in_nested_loops, [y, z], i), 1e-5, f"argument {i}")
