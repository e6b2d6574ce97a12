"""A string argument (`mode="max"`) is a constant of the program, one
compiled version per value, without static_argnames: an equal string built
at run time reuses it, another value compiles its own. Before (session-35
probe I), any string but the default object itself raised TypeError."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad


def reduce_by(x, mode="max"):
    s = x[0]
    for i in range(x.shape[0]):
        if mode == "max":
            s = max(s, x[i])
        elif mode == "sum":
            s = s + x[i]
        else:
            raise ValueError(f"unknown mode {mode}")
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_string_modes(backend):
    x = np.random.default_rng(0).standard_normal(6)
    f = lt.jit(reduce_by, backend=backend)
    for mode in ("max", "".join(["m", "ax"]), "sum"):
        assert f(x, mode) == reduce_by(x, mode)
    assert f(x) == reduce_by(x)
    with pytest.raises(ValueError, match="unknown mode"):
        f(x, "min")


def test_gradient_with_a_string_argument():
    x = np.random.default_rng(1).standard_normal(5)
    g = lt.grad(lt.jit(reduce_by, backend="interpret"))(x, "sum")
    assert_close(g, numerical_grad(lambda x: reduce_by(x, "sum"), [x], 0), 1e-6, "sum")
