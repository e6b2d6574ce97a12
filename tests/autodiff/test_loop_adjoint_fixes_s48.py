"""Two wrong gradients of loops found by session 48's gradient probe (helper G),
both in autodiff/loop_adjoint.py, the same on every backend:

A. A value that is both a carry's start and read inside the loop (`y = a`, then
   `y = 0.5 * y + a`), and that already had a cotangent from what the backward
   pass handled before the loop (`+ 3.0 * a` after it): that cotangent was
   counted twice (the start's cotangent was added before the test of whether
   the reverse loop's accumulator replaced the running one).
B. A carry set straight to a captured value (`y = a` inside the loop): the
   cotangent of the new carry was overwritten by the accumulator's seed.

Each case against central finite differences in float64."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.check import numerical_grad


def start_and_read(a):
    y = a
    for i in range(3):
        y = 0.5 * y + a
    return y + 3.0 * a


def newton_sqrt_twice(a):
    x = a
    for i in range(6):
        x = 0.5 * (x + a / x)
    z = x
    for i in range(6):
        z = 0.5 * (z + a / z)
    return z + x


def copied_start(X):
    Y = X.copy()
    for j in range(1, X.shape[1]):
        Y[:, j] = Y[:, j - 1] * 0.5 + X[:, j]
    return np.sum(Y * Y) + np.sum(np.sin(X))


def inner_start_in_outer(a):
    s = 0.0
    for k in range(3):
        y = a
        for i in range(3):
            y = 0.5 * y + a
        s += y
    return s


def while_start(a):
    y = a
    t = 0
    while t < 4:
        y = 0.5 * y + a
        t += 1
    return y + 2.0 * a


def carry_set_to_captured(a):
    y = 0.1
    s = 0.0
    for i in range(3):
        s += y * y
        y = a
    return s + y


def carry_set_to_captured_array(a):
    y = np.full(a.shape, 0.1)
    s = 0.0
    for i in range(4):
        s += np.sum(y * y * np.arange(1, a.shape[0] + 1))
        y = a
    return s + np.sum(y)


def squares_after(a):
    y = a
    for i in range(3):
        y = 0.5 * y + a
    return y ** 2


CASES = [start_and_read, newton_sqrt_twice, inner_start_in_outer, while_start, carry_set_to_captured]


def _close(got, f, x):
    want = numerical_grad(f, [x], 0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_scalar_losses(f, rng):
    x = float(rng.uniform(0.3, 2.0))
    _close(lt.grad(f, backend="interpret")(x), f, np.float64(x))


def test_arrays(rng):
    X = rng.standard_normal((3, 5))
    _close(lt.grad(copied_start, backend="interpret")(X), copied_start, X)
    a = rng.standard_normal(4)
    _close(lt.grad(carry_set_to_captured_array, backend="interpret")(a), carry_set_to_captured_array, a)


@pytest.mark.parametrize("k", [2, 3])
def test_checkpoints_with_a_leftover(k, rng):
    x = float(rng.uniform(0.3, 2.0))
    _close(lt.grad(squares_after, backend="interpret", checkpoint=k)(x), squares_after, np.float64(x))


# slow: the fixes are in the loops' adjoints (IR before codegen), each checked on the interpreter above;
# cpu gradients of loops keep running in test_seed_gradients.py
@pytest.mark.slow
def test_cpu(rng):
    """Both on the cpu backend, in one kernel."""
    def both(a):
        return start_and_read(a[0]) + carry_set_to_captured_array(a) + while_start(a[1])

    a = rng.uniform(0.3, 2.0, 4)
    _close(lt.grad(both, backend="cpu")(a), both, a)
