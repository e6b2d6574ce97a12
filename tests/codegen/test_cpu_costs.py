"""The decision to run a loop nest on threads weighs its elements by what
each costs (codegen/cpu/costs.py): a costly map goes parallel at sizes where
a cheap one stays serial. Values are the plain function's either way."""

import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu.costs import cost_factor, element_cost


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def smooth(x, y):
    return np.sqrt(x * x + y * y) * np.exp(-0.5 * x) + np.sin(y)


def cheap(x, y):
    return (x * 2.0 + y) * (x - y) + x * y * 3.0 - 1.0


def test_costly_map_goes_parallel_where_a_cheap_one_does_not():
    r = np.random.default_rng(0)
    x, y = r.standard_normal(360_000), r.standard_normal(360_000)
    costly = looptrace.jit(smooth, backend="cpu", parallel=True)
    plain = looptrace.jit(cheap, backend="cpu", parallel=True)
    assert "numba.prange(" in costly.explain(x, y).kernel_source
    assert "numba.prange(" not in plain.explain(x, y).kernel_source
    np.testing.assert_allclose(costly(x, y), smooth(x, y), rtol=1e-12, atol=1e-14)  # exp_f64: 2 ulp
    np.testing.assert_allclose(plain(x, y), cheap(x, y), rtol=1e-13)


def test_serial_flag_wins_over_cost():
    x = np.random.default_rng(1).standard_normal(400_000)
    f = looptrace.jit(smooth, backend="cpu", parallel=False)
    assert "numba.prange(" not in f.explain(x, x).kernel_source


def test_weights():
    class P:  # a stand-in primitive record
        def __init__(self, name, elementwise=True):
            self.name, self.elementwise = name, elementwise

    class O:
        def __init__(self, name, elementwise=True):
            self.prim = P(name, elementwise)

    assert element_cost(O("add")) == 1 and element_cost(O("sqrt")) == 1
    assert 1 < element_cost(O("exp")) < element_cost(O("sin"))
    assert element_cost(O("sin", elementwise=False)) == 1
    assert cost_factor.__doc__
