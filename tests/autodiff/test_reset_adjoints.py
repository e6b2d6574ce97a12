"""Gradients through loops whose carried value is overwritten every
iteration, so that its adjoint is reset to zeros each reverse step (a value a
`while` condition reads; a loop temporary whose name is used again after the
loop). The cpu kernel handed the zeros constant itself to the next reverse
iteration, which then wrote into it in place: wrong gradients that changed
from call to call (codegen/cpu/emitter.py `result_copy` now copies a
constant carried on). Also: a loop with `break` that divides by a Python
float carries a zero-divisor check, which is no obstacle to differentiating
it (autodiff/loop_adjoint.py `while_forward`). Each against central
differences, and called three times."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad


def settle(lam):
    x = np.ones(3)
    g = np.ones(3)
    while np.max(np.abs(g)) > 1e-10:
        g = lam * x - 1.0
        x = x - 0.3 * g
    return np.sum(x)


def reused_temporary(w0, X):
    w = w0
    for _ in range(4):
        r = X @ w
        w = w - 0.1 * (r @ X)
    r = X @ w
    return np.sum(r)


def hypergradient(X, y, lr):
    w = np.zeros(2)
    for _ in range(4):
        pred = X @ w
        err = pred - y
        w = w - lr * X.T @ err / len(y)
    pred = X @ w
    return np.mean((pred - y) ** 2)


def heron_with_break(a):
    x = 1.0
    for i in range(50):
        x = 0.5 * (x + a / x)
        if i > 30:
            break
    return x ** 3


def heron_until_close(a):
    x = 1.0
    while True:
        y = 0.5 * (x + a / x)
        if abs(y - x) < 1e-12:
            break
        x = y
    return x


def _same_three_times(fn, args, argnum, backend):
    g = lt.grad(fn, argnums=argnum, backend=backend)
    want = numerical_grad(fn, list(args), argnum)
    for _ in range(3):
        assert_close(g(*args), want, 1e-6, f"{fn.__name__} argument {argnum}")


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_reset_adjoints(backend):
    rng = np.random.default_rng(0)
    _same_three_times(settle, (2.0,), 0, backend)
    w0, X = rng.standard_normal(2), rng.standard_normal((2, 2)) * 0.5
    _same_three_times(reused_temporary, (w0, X), 1, backend)
    X, y = rng.standard_normal((6, 2)), rng.standard_normal(6)
    _same_three_times(hypergradient, (X, y, 0.1), 2, backend)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_break_dividing_by_a_python_float(backend):
    _same_three_times(heron_with_break, (1.7,), 0, backend)
    _same_three_times(heron_until_close, (1.7,), 0, backend)
