"""Errors of grad and value_and_grad name the function the user called, and
a container's leaf by its path; a function that writes into its arguments
is differentiated at the arguments as passed, and writes them once (README)."""
import numpy as np
import pytest

import looptrace


def per_bin(p, x):
    return np.sum(p["w"] * x) * p["n"]


def vector_valued(x):
    return x * 2.0


@pytest.mark.parametrize("transform", [looptrace.grad, looptrace.value_and_grad])
def test_errors_name_the_transform_called(transform):
    name = transform.__name__
    x = np.random.default_rng(0).standard_normal(4)
    with pytest.raises(TypeError) as e:
        transform(per_bin)({"w": x.copy(), "n": np.array(3)}, x)  # (a Python int leaf stays concrete)
    assert str(e.value).startswith(f"{name}(per_bin): cannot differentiate with respect to argument `p['n']`,")
    with pytest.raises(Exception, match=rf"^{name}\(vector_valued\)"):
        transform(vector_valued)(x)


def doubled_into(x, y):
    for i in range(x.shape[0]):
        y[i] = y[i] * 2 + x[i]
    return np.sum(y * x)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_grad_writes_the_arguments_once(backend):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    want_y = y.copy()
    doubled_into(x, want_y)
    g = looptrace.grad(looptrace.jit(doubled_into, backend=backend))(x, y0 := y.copy())
    np.testing.assert_allclose(g, 2 * y + 2 * x, rtol=1e-12)  # d/dx sum((2y + x) * x) at the y passed
    np.testing.assert_array_equal(y0, want_y)
