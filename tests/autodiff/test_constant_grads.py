"""grad of a function whose float result does not depend on its arguments
(a constant return, an update under `if False`) is zeros, as JAX's is; before
(session-35 probes G and H) it raised a TraceError saying the function
"returns nothing". A gradient of a gradient is refused with a clear error
(it was a TypeError about an argument of type Tracer)."""
import numpy as np
import pytest

import looptrace as lt


def constant(x):
    return 1.0


def never_updated(x, y):
    bv = -np.inf
    for i in range(x.shape[0]):
        if False:
            bv = x[i] * y
    return bv


def numpy_constant(x):
    return np.float64(2.5)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_constant_has_zero_gradient(backend):
    x = np.random.default_rng(0).standard_normal(3)
    value, g = lt.value_and_grad(lt.jit(constant, backend=backend))(x)
    assert value == 1.0 and type(value) is float
    np.testing.assert_array_equal(g, np.zeros(3))
    gx, gy = lt.grad(lt.jit(never_updated, backend=backend), argnums=(0, 1))(x, 2.0)
    np.testing.assert_array_equal(gx, np.zeros(3))
    assert gy == 0.0
    value, g = lt.value_and_grad(numpy_constant)(x)
    assert value == 2.5 and isinstance(value, np.float64)


def test_a_non_float_result_is_still_refused():
    with pytest.raises(lt.TraceError, match="floating-point scalar"):
        lt.grad(lt.jit(lambda x: 3, backend="interpret"))(np.ones(2))


def test_a_gradient_of_a_gradient_is_refused_clearly():
    import math

    @lt.jit(backend="interpret")
    def f(x, a):
        h = 0.0
        for t in range(x.shape[0]):
            h = math.tanh(h * a + x[t])
        return h

    x = np.array([0.3, -1.2, 0.8])
    with pytest.raises(lt.UnsupportedError, match="gradient of a gradient"):
        lt.grad(lambda a: lt.grad(f, argnums=1)(x, a))(0.6)
