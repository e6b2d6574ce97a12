"""Gradients through while loops, `break`, conditionals, nested loops, and
the vjp / value_and_grad entry points; the errors grad raises. All checked
against central finite differences in float64 on the interpret backend."""

import numpy as np
import pytest

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

BACKEND = "interpret"


def check(fn, args, argnums, rtol=1e-5):
    jitted = looptrace.jit(fn, backend=BACKEND)
    grads = looptrace.grad(jitted, argnums=argnums)(*args)
    for g, i in zip(grads, argnums):
        assert_close(g, numerical_grad(fn, list(args), i), rtol, f"{fn.__name__} argument {i}")


def damped_until_small(x, a):
    # while loop with a data-dependent trip count
    s = 0.0
    v = x
    while np.sum(v * v) > 0.01:
        v = a * v
        s += np.sum(np.sin(v))
    return s


def first_crossing(x, w):
    # for with break
    total = 0.0
    for i in range(x.shape[0]):
        if total > 3.0:
            break
        total = total + w * x[i] ** 2
    return total


def break_at_end(x, w):
    total = 0.0
    for i in range(x.shape[0]):
        total = total + w * x[i] ** 2
        if total > 3.0:
            break
    return total


def branchy(x, w):
    out = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            out = out + w * np.exp(x[i])
        else:
            out = out - w * x[i] ** 3
    return out


def nested(A, v):
    acc = 0.0
    for i in range(A.shape[0]):
        row = 0.0
        for j in range(A.shape[1]):
            row = row + A[i, j] * v[j] ** 2
        acc = acc + np.tanh(row)
    return acc


def test_while_loop(rng):
    check(damped_until_small, (rng.standard_normal(3) + 2.0, 0.7), (0, 1))


def test_for_with_break(rng):
    check(first_crossing, (rng.uniform(0.8, 1.0, 8), 0.9), (0, 1))


def test_break_as_last_statement(rng):
    check(break_at_end, (rng.uniform(0.8, 1.0, 8), 0.9), (0, 1))


def test_cond_in_a_loop(rng):
    check(branchy, (rng.standard_normal(6), 1.3), (0, 1))


def test_nested_loops(rng):
    check(nested, (rng.standard_normal((3, 4)), rng.standard_normal(4)), (0, 1))


def test_vjp_of_a_vector_output(rng):
    def f(x, W):
        y = np.zeros(W.shape[0])
        for t in range(3):
            y = np.tanh(W @ x + y)
        return y

    x, W = rng.standard_normal(3), rng.standard_normal((2, 3))
    out, vjp_fn = looptrace.vjp(looptrace.jit(f, backend=BACKEND), x, W)
    np.testing.assert_allclose(out, f(x, W), rtol=1e-9)
    ct = rng.standard_normal(2)
    gx, gW = vjp_fn(ct)
    assert_close(gx, numerical_grad(lambda *a: float(ct @ f(*a)), [x, W], 0), 1e-5, "vjp x")
    assert_close(gW, numerical_grad(lambda *a: float(ct @ f(*a)), [x, W], 1), 1e-5, "vjp W")


def test_value_and_grad_returns_value_and_shaped_gradient(rng):
    def f(x):
        return np.sum(x**3)

    x = rng.standard_normal((2, 3)).astype(np.float32)
    value, g = looptrace.value_and_grad(looptrace.jit(f, backend=BACKEND))(x)
    assert g.shape == x.shape and g.dtype == np.float32
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-5)
    np.testing.assert_allclose(value, f(x), rtol=1e-5)


def test_python_float_argument_gives_a_scalar_gradient():
    g = looptrace.grad(looptrace.jit(lambda x: x * x * 3.0, backend=BACKEND))(2.0)
    assert np.ndim(g) == 0 and float(g) == pytest.approx(12.0)


def test_integer_argument_is_a_clear_error(rng):
    def power(A, k):
        P = np.eye(A.shape[0])
        for _ in range(k):
            P = P @ A
        return P.sum()

    f = looptrace.jit(power, backend=BACKEND)
    with pytest.raises(TypeError, match=r"grad\(power\).*argument `k`.*int64"):
        looptrace.grad(f, argnums=1)(rng.standard_normal((2, 2)), 3)


def test_non_scalar_output_is_a_clear_error(rng):
    def double(x):
        return 2 * x

    with pytest.raises(looptrace.TraceError, match=r"grad\(double\).*scalar"):
        looptrace.grad(looptrace.jit(double, backend=BACKEND))(rng.standard_normal(3))


def test_matrix_power_with_a_traced_trip_count(rng):
    def power(A, k):
        P = np.eye(A.shape[0])
        for _ in range(k):
            P = P @ A
        return P.sum()

    A = 0.5 * rng.standard_normal((3, 3))
    g = looptrace.grad(looptrace.jit(power, backend=BACKEND))(A, 4)
    assert_close(g, numerical_grad(lambda a: power(a, 4), [A], 0), 1e-5, "matrix_power")


def test_vjp_of_a_python_function_calling_a_jitted_one(rng):
    def g(x):
        out = np.empty_like(x)
        acc = 0.0
        for i in range(x.shape[0]):
            acc = acc + np.sin(x[i])
            out[i] = acc
        return out

    jitted = looptrace.jit(g, backend=BACKEND)
    x = rng.standard_normal(4)
    out, vjp_fn = looptrace.vjp(lambda *a: jitted(*a) * 2.0, x, backend=BACKEND)
    np.testing.assert_allclose(out, 2 * g(x), rtol=1e-9)
    ct = rng.standard_normal(4)
    (gx,) = vjp_fn(ct)
    assert_close(gx, numerical_grad(lambda a: float(ct @ (2 * g(a))), [x], 0), 1e-5, "vjp")


def test_vjp_with_a_generator_replays_the_same_draws(rng):
    def noisy(x, gen):
        return x * gen.standard_normal(x.shape[0])

    x = rng.standard_normal(3)
    gen = np.random.default_rng(5)
    out, vjp_fn = looptrace.vjp(looptrace.jit(noisy, backend=BACKEND), x, gen)
    np.testing.assert_allclose(out, noisy(x, np.random.default_rng(5)), rtol=1e-12)
    gx, ggen = vjp_fn(np.ones(3))
    np.testing.assert_allclose(gx, np.random.default_rng(5).standard_normal(3), rtol=1e-12)
    assert ggen is None
    assert gen.bit_generator.state == _advanced(5, 3)


def _advanced(seed, n):
    g = np.random.default_rng(seed)
    g.standard_normal(n)
    return g.bit_generator.state
