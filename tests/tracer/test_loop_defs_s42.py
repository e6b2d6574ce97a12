"""A `def` in a loop body binds its name afresh each iteration, as `f = lambda`
does (brief D2, session 42): it is no carry, so the loop is traced once (an
RK4 step with a local right-hand side), and a closure over a loop-varying
value sees each iteration's value."""
import numpy as np
import pytest

import looptrace
from looptrace.errors import UnsupportedError


def rk4_lotka(p):
    x, y = 1.0, 0.5
    dt = 0.05
    for t in range(40):
        def f(x, y):
            return p[0] * x - p[1] * x * y, p[1] * x * y - p[2] * y
        k1 = f(x, y)
        k2 = f(x + 0.5 * dt * k1[0], y + 0.5 * dt * k1[1])
        k3 = f(x + 0.5 * dt * k2[0], y + 0.5 * dt * k2[1])
        k4 = f(x + dt * k3[0], y + dt * k3[1])
        x = x + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        y = y + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    return x + y * y


def closure_over_index(x):
    s = 0.0
    for t in range(x.shape[0]):
        def g(z):
            return z * t
        s += g(x[t])
    return s


def default_of_index(x):
    s = 0.0
    for t in range(x.shape[0]):
        def g(z, k=t):
            return z * k
        s += g(x[t])
    return s


def closure_over_carry(x):
    acc = 1.0
    for t in range(x.shape[0]):
        def scaled(z):
            return z * acc
        acc = scaled(x[t]) + 1.0
    return acc


def nested_loop_in_def(x):
    s = 0.0
    for i in range(x.shape[0]):
        def h(a):
            acc = 0.0
            for j in range(a.shape[0]):
                acc += a[j] * i
            return acc
        s += h(x)
    return s


def recursive_def(x):
    s = 0.0
    for i in range(3):
        def fact(n):
            return 1 if n <= 1 else n * fact(n - 1)
        s += fact(4) * x[i]
    return s


CASES = [closure_over_index, default_of_index, closure_over_carry, nested_loop_in_def, recursive_def]


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__)
def test_def_in_loop_body_interpret(rng, fn):
    x = rng.standard_normal(6)
    assert looptrace.jit(fn, backend="interpret")(x) == pytest.approx(fn(x), rel=1e-13)


def test_rk4_with_local_rhs_traces_one_loop(rng):
    p = np.array([1.0, 0.5, 0.3]) + 0.1 * rng.random(3)
    jf = looptrace.jit(rk4_lotka, backend="interpret")
    assert jf(p) == pytest.approx(rk4_lotka(p), rel=1e-13)
    from looptrace.ir import printer

    text = printer.print_program(jf.trace([p]))
    assert text.count("for_loop") == 1  # the loop is traced once, not unrolled 40 times


@pytest.mark.parametrize("fn", [rk4_lotka, closure_over_index], ids=lambda f: f.__name__)
def test_def_in_loop_body_cpu(rng, fn):
    x = np.array([1.0, 0.5, 0.3]) + 0.1 * rng.random(3) if fn is rk4_lotka else rng.standard_normal(6)
    assert looptrace.jit(fn, backend="cpu")(x) == pytest.approx(fn(x), rel=1e-12)


def test_def_read_before_its_statement_is_still_a_carry():
    """`g` called before the `def` that rebinds it: the first iteration reads the
    function from before the loop, so the name is carried (and refused), as before."""
    def fn(x):
        def g(z):
            return z
        s = 0.0
        for t in range(x.shape[0]):
            s += g(x[t])
            def g(z):
                return z * t
        return s

    with pytest.raises(UnsupportedError, match="`g` is set to a new function"):
        looptrace.jit(fn, backend="interpret")(np.arange(3.0))
