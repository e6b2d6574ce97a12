"""Gradients through Python's scalar functions (math.*, cmath.*, builtins)
and through complex intermediates, against central finite differences in
float64. Complex cotangents follow JAX's convention, so the gradient of a
real function of real inputs through complex values is the ordinary one."""

import cmath
import math

import numpy as np
import pytest

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad


def check(fn, args, argnums, rtol=1e-5, backend="interpret"):
    jitted = looptrace.jit(fn, backend=backend)
    grads = looptrace.grad(jitted, argnums=argnums)(*args)
    for g, i in zip(grads, argnums):
        assert_close(g, numerical_grad(fn, list(args), i), rtol, f"{fn.__name__} argument {i}")


def math_loop(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        a = x[i] * w
        s += math.erf(a) * math.exp(-a) + math.erfc(a / 2) + math.lgamma(abs(a) + 0.5)
        s += math.gamma(a * a + 0.7) + math.sqrt(a * a + 1.0) + math.atan2(a, 2.0) + math.hypot(a, w)
        s += math.sin(a) * math.cosh(a / 3) + math.log1p(a * a) + math.pow(abs(a) + 1, 1.5) + math.fabs(a)
        s += max(a, 0.0) + min(a * 2, w) + abs(a - 0.1) + float(a) ** 2 + math.copysign(a, -1.0)
    return s


def test_math_functions_in_a_loop(rng):
    check(math_loop, [rng.uniform(-1.5, 1.5, 6), 0.8], (0, 1))


def test_math_functions_in_a_loop_cpu(rng):
    check(math_loop, [rng.uniform(-1.5, 1.5, 6), 0.8], (0, 1), backend="cpu")


def complex_mix(a, b):
    z = a + 1j * b
    w = np.exp(z) * np.conj(z) + np.sqrt(z + 3.0) - z * z / (1.0 + np.abs(z))
    total = np.sum(w.real) + 2.0 * np.sum(np.imag(w)) + np.sum(np.angle(z + 2.0))
    acc = 0.0
    for i in range(a.shape[0]):
        c = complex(a[i], b[i])
        acc += abs(cmath.exp(c) * c) + cmath.phase(c + 2) + (c * c.conjugate()).real
    return total + acc


def test_complex_intermediates(rng):
    check(complex_mix, [rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5)], (0, 1))


@pytest.mark.parametrize("fn", [math.erf, math.erfc, math.gamma, math.lgamma])
def test_special_function_gradients_match_their_derivatives(fn, rng):
    def f(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += fn(x[i])
        return s

    check(f, [rng.uniform(0.3, 3.0, 7)], (0,))
